"""The preprocessing of a time series, saved with the model: window, horizon and scales.

The networks see each window of the target relative to its last value and predict the
change from it, divided by the typical one-step change of the training part: a series that
trends out of the range it was trained on (CO2, prices) then looks like the training data,
and a network that outputs zeros is exactly the last-value baseline. Other columns read
beside the target (covariates, ``features``) are standardised with their training mean and
standard deviation, window by window.

A model input is one row of ``channels * window`` numbers, channel after channel: the
target's window (oldest first), then each feature's. The lstm preset reads it as ``window``
steps of ``channels`` values."""

import numpy as np

from ._state import StateReader

__all__ = ["SeriesPreprocessor"]


class SeriesPreprocessor:
    """``windows(values, ends, covariates)`` gives the model inputs (N, channels * window) and
    targets (N, horizon) for forecasts made at positions ``ends`` (the last known step);
    ``forecast`` maps model outputs back to the series' units.

    >>> pre = SeriesPreprocessor(window=2, horizon=1, scale=2.0)
    >>> x, y = pre.windows(np.array([1.0, 3.0, 7.0]), np.array([1]))
    >>> x.tolist(), y.tolist()
    ([[-1.0, 0.0]], [[2.0]])
    """

    def __init__(self, window, horizon, scale, season=None, step=1.0, unit="steps",
                 target=None, features=(), feature_mean=(), feature_std=()):
        self.window, self.horizon = int(window), int(horizon)
        self.scale = float(scale)
        self.season = int(season) if season else None
        self.step, self.unit = float(step), unit
        self.target = target
        self.features = list(features)
        self.feature_mean = np.asarray(feature_mean, np.float64).reshape(len(self.features))
        self.feature_std = np.asarray(feature_std, np.float64).reshape(len(self.features))

    @classmethod
    def fit(cls, values, train_end, window, horizon, season=None, step=1.0, unit="steps",
            target=None, features=(), covariates=None):
        """The scale is the standard deviation of one-step changes in ``values[:train_end]``;
        each feature's mean and standard deviation come from ``covariates[:train_end]``."""
        changes = np.diff(values[:train_end])
        scale = float(changes.std()) if changes.size else 1.0
        mean = std = ()
        if len(features):
            train = np.asarray(covariates, np.float64)[:train_end]
            mean, std = train.mean(axis=0), train.std(axis=0)
            std = np.where((std > 0) & np.isfinite(std), std, 1.0)
        return cls(window, horizon, scale if scale > 0 and np.isfinite(scale) else 1.0, season,
                   step, unit, target, features, mean, std)

    @property
    def channels(self):
        """How many values the model reads per time step: the target's, then each feature's."""
        return 1 + len(self.features)

    def inputs(self, values, ends, covariates=None):
        """float32 (N, channels * window): the target's windows ending at ``ends``, minus their
        last value, scaled; then each feature's window, standardised (``covariates``: the
        features' values, (steps, len(features)))."""
        offsets = np.asarray(ends)[:, None] + np.arange(1 - self.window, 1)
        windows = values[offsets]
        parts = [(windows - windows[:, -1:]) / self.scale]
        if self.features:
            covariates = self._checked(covariates, len(values))
            standardised = (covariates[offsets] - self.feature_mean) / self.feature_std
            parts += [standardised[:, :, k] for k in range(len(self.features))]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def _checked(self, covariates, steps):
        shape = (steps, len(self.features))
        if covariates is None or np.shape(covariates) != shape:
            raise ValueError(f"this model also reads the columns "
                             f"{', '.join(map(repr, self.features))} beside the target; give "
                             f"their values (steps, {len(self.features)})")
        return np.asarray(covariates, np.float64)

    def windows(self, values, ends, covariates=None):
        """Inputs (N, channels * window) and targets (N, horizon), both float32 and scaled."""
        ends = np.asarray(ends)
        ahead = values[ends[:, None] + np.arange(1, self.horizon + 1)]
        targets = (ahead - values[ends][:, None]) / self.scale
        return self.inputs(values, ends, covariates), targets.astype(np.float32)

    def forecast(self, values, ends, outputs):
        """Model outputs (N, horizon) as values of the series."""
        return values[np.asarray(ends)][:, None] + np.asarray(outputs, np.float64) * self.scale

    @property
    def input_names(self):
        """The name of each model input: 't-(window-1)' ... 't' (relative to the last value);
        with features, each prefixed by its column: 'co2 t-1', 'temperature t'."""
        lags = [f"t-{lag}" if lag else "t" for lag in range(self.window - 1, -1, -1)]
        if not self.features:
            return lags
        return [f"{column} {lag}" for column in [self.target or "target", *self.features]
                for lag in lags]

    @property
    def input_columns(self):
        """For each model input, the column it came from (the target's name, or 'target')."""
        return [column for column in [self.target or "target", *self.features]
                for _ in range(self.window)]

    def state_dict(self):
        state = {"window": self.window, "horizon": self.horizon, "scale": self.scale,
                 "season": self.season, "step": self.step, "unit": self.unit}
        if self.target is not None:
            state["target"] = self.target
        if self.features:
            state.update(features=self.features, feature_mean=self.feature_mean.tolist(),
                         feature_std=self.feature_std.tolist())
        return state

    @classmethod
    def from_state(cls, state):
        """Rebuild from ``state_dict()``; a state that cannot work raises
        PreprocessingStateError naming the entry."""
        saved = StateReader(state, "the saved series preprocessing",
                            ("window", "horizon", "scale"),
                            ("season", "step", "unit", "target", "features", "feature_mean",
                             "feature_std"))
        season = saved.state.get("season")
        features = saved.texts("features") if "features" in saved.state else []
        mean = std = ()
        if features or "feature_mean" in saved.state or "feature_std" in saved.state:
            shape = [(len(features),)]
            mean = saved.array("feature_mean", shape)
            std = saved.array("feature_std", shape)
            if not (std > 0).all():
                saved.fail("has a 'feature_std' that is not positive everywhere")
        target = saved.text("target") if "target" in saved.state else None
        return cls(saved.integer("window", 1), saved.integer("horizon", 1),
                   saved.number("scale", positive=True),
                   None if season is None else saved.integer("season", 2),
                   saved.number("step", positive=True, default=1.0),
                   saved.text("unit", default="steps"), target, features, mean, std)
