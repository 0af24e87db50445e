"""The preprocessing of a time series, saved with the model: window, horizon and scale.

The networks see each window relative to its last value and predict the change from it,
divided by the typical one-step change of the training part: a series that trends out of the
range it was trained on (CO2, prices) then looks like the training data, and a network that
outputs zeros is exactly the last-value baseline."""

import numpy as np

from ._state import StateReader

__all__ = ["SeriesPreprocessor"]


class SeriesPreprocessor:
    """``windows(values, ends)`` gives the model inputs (N, window) and targets (N, horizon)
    for forecasts made at positions ``ends`` (the last known step); ``forecast`` maps model
    outputs back to the series' units.

    >>> pre = SeriesPreprocessor(window=2, horizon=1, scale=2.0)
    >>> x, y = pre.windows(np.array([1.0, 3.0, 7.0]), np.array([1]))
    >>> x.tolist(), y.tolist()
    ([[-1.0, 0.0]], [[2.0]])
    """

    def __init__(self, window, horizon, scale, season=None, step=1.0, unit="steps"):
        self.window, self.horizon = int(window), int(horizon)
        self.scale = float(scale)
        self.season = int(season) if season else None
        self.step, self.unit = float(step), unit

    @classmethod
    def fit(cls, values, train_end, window, horizon, season=None, step=1.0, unit="steps"):
        """The scale is the standard deviation of one-step changes in ``values[:train_end]``."""
        changes = np.diff(values[:train_end])
        scale = float(changes.std()) if changes.size else 1.0
        return cls(window, horizon, scale if scale > 0 else 1.0, season, step, unit)

    def inputs(self, values, ends):
        """float32 (N, window): the windows ending at ``ends``, minus their last value, scaled."""
        offsets = np.asarray(ends)[:, None] + np.arange(1 - self.window, 1)
        windows = values[offsets]
        return ((windows - windows[:, -1:]) / self.scale).astype(np.float32)

    def windows(self, values, ends):
        """Inputs (N, window) and targets (N, horizon), both float32 and scaled."""
        ends = np.asarray(ends)
        ahead = values[ends[:, None] + np.arange(1, self.horizon + 1)]
        targets = (ahead - values[ends][:, None]) / self.scale
        return self.inputs(values, ends), targets.astype(np.float32)

    def forecast(self, values, ends, outputs):
        """Model outputs (N, horizon) as values of the series."""
        return values[np.asarray(ends)][:, None] + np.asarray(outputs, np.float64) * self.scale

    @property
    def input_names(self):
        """The name of each model input: 't-(window-1)' ... 't' (relative to the last value)."""
        return [f"t-{lag}" if lag else "t" for lag in range(self.window - 1, -1, -1)]

    def state_dict(self):
        return {"window": self.window, "horizon": self.horizon, "scale": self.scale,
                "season": self.season, "step": self.step, "unit": self.unit}

    @classmethod
    def from_state(cls, state):
        """Rebuild from ``state_dict()``; a state that cannot work raises
        PreprocessingStateError naming the entry."""
        saved = StateReader(state, "the saved series preprocessing",
                            ("window", "horizon", "scale"), ("season", "step", "unit"))
        season = saved.state.get("season")
        return cls(saved.integer("window", 1), saved.integer("horizon", 1),
                   saved.number("scale", positive=True),
                   None if season is None else saved.integer("season", 2),
                   saved.number("step", positive=True, default=1.0),
                   saved.text("unit", default="steps"))
