"""Forecasting a time series: windows of ``window`` past values predict the next ``horizon``.

The split is chronological (80% / 10% / 10% of the time steps, never shuffled across): a
window belongs to the split that holds all of its targets, and windows whose targets straddle
a boundary or include a filled-in gap are not used. Every evaluation prints the naive
baselines beside the model's error: the last value repeated, and the seasonal naive forecast
(the value one season earlier), so that a user sees whether the network is worth it."""

import numpy as np

from ..data.preprocessing import SeriesPreprocessor
from ..data.readers.series import read_series
from ..nn import functional as F
from .metrics import regression_metrics
from .plots import forecast_plot
from .tasks import ShuffledBatches, model_outputs

TRAIN_FRACTION, VALIDATION_FRACTION = 0.8, 0.1


class SeriesTask(ShuffledBatches):
    kind = "series"

    def __init__(self, config, series, preprocessor=None):
        window, horizon = config.window, config.horizon
        if preprocessor is not None:
            window, horizon = preprocessor.window, preprocessor.horizon
        length = len(series)
        train_end = int(length * TRAIN_FRACTION)
        val_end = int(length * (TRAIN_FRACTION + VALIDATION_FRACTION))
        if train_end - horizon - window + 1 < 1 or length - val_end < horizon:
            longest = train_end - horizon
            steps = f"{length} step{'s' if length != 1 else ''}"
            merged = [note for note in series.notes if "averaged" in note]
            why = f" ({'; '.join(merged)}; {_step(series)})" if merged else ""
            raise ValueError(
                f"{series.name}: --window {window} with --horizon {horizon} is longer than the "
                f"series allows: it has {steps}{why}, {train_end} of them for training; use "
                f"--window {longest} or less" if longest >= 1 else
                f"{series.name}: the series has {steps}{why}, too few for --horizon {horizon}"
            )
        season = config.season or series.season()
        self.values = series.values
        self.series = series
        if preprocessor is None:
            preprocessor = SeriesPreprocessor.fit(
                series.values, train_end, window, horizon, season, series.step, series.unit,
                config.target, series.covariate_names, series.covariates)
        self.preprocessor = preprocessor
        self.ends = self._split_ends(series.observed, train_end, val_end)
        for name, ends in self.ends.items():
            if len(ends) == 0:
                raise ValueError(f"{series.name}: the {name} part of the series has no window "
                                 "with observed targets; use a longer series or a shorter "
                                 "--window/--horizon")
        self.splits = {name: preprocessor.windows(self.values, ends, series.covariates)
                       for name, ends in self.ends.items()}
        self.name = series.name
        self.bounds = (train_end, val_end)
        self.notes = series.notes + [
            f"chronological split: training steps {series.time_label(0)} to "
            f"{series.time_label(train_end - 1)}, validation to "
            f"{series.time_label(val_end - 1)}, test to {series.time_label(length - 1)} "
            f"({_step(series)}); window {window}, horizon {horizon}"
            + (f", season {preprocessor.season}" if preprocessor.season else "")
            + (f"; inputs: the past of {config.target!r} and of "
               f"{', '.join(map(repr, preprocessor.features))}" if preprocessor.features
               else "")]

    def _split_ends(self, observed, train_end, val_end):
        """Forecast positions of each split: windows fully inside the series whose targets lie
        in one split and were observed."""
        window, horizon = self.preprocessor.window, self.preprocessor.horizon
        ends = np.arange(window - 1, len(self.values) - horizon)
        targets = ends[:, None] + np.arange(1, horizon + 1)
        seen = observed[targets].all(axis=1)
        first, last = targets[:, 0], targets[:, -1]
        splits = {"train": last < train_end,
                  "val": (first >= train_end) & (last < val_end),
                  "test": first >= val_end}
        return {name: ends[inside & seen] for name, inside in splits.items()}

    def metadata(self):
        return {"kind": self.kind, "name": self.name,
                "preprocessing": self.preprocessor.state_dict()}

    def loss(self, outputs, targets):
        return F.mse_loss(outputs, targets)

    def truth(self, ends):
        return self.values[ends[:, None] + np.arange(1, self.preprocessor.horizon + 1)]

    def baselines(self, ends):
        """Forecasts of the naive baselines: {'last_value': ..., 'seasonal_naive': ...} (the
        second only when the series has a season and enough history)."""
        horizon, season = self.preprocessor.horizon, self.preprocessor.season
        steps = np.arange(1, horizon + 1)
        found = {"last_value": np.repeat(self.values[ends][:, None], horizon, axis=1)}
        if season:
            back = steps - season * np.ceil(steps / season).astype(np.int64)
            positions = ends[:, None] + back
            if len(ends) and positions.min() >= 0:
                found["seasonal_naive"] = self.values[positions]
        return found

    def evaluate(self, model, split, batch_size):
        inputs, targets = self.splits[split]
        ends = self.ends[split]
        outputs = model_outputs(model, inputs)
        forecasts = self.preprocessor.forecast(self.values, ends, outputs)
        truth = self.truth(ends)
        scores = regression_metrics(truth, forecasts)
        metrics = {"loss": float(((outputs - targets) ** 2).mean()), "mae": scores["mae"],
                   "rmse": scores["rmse"]}
        for name, baseline in self.baselines(ends).items():
            errors = regression_metrics(truth, baseline)
            metrics[f"{name}_mae"], metrics[f"{name}_rmse"] = errors["mae"], errors["rmse"]
        return metrics

    def report_sections(self, model, run_path):
        ends = self.ends["test"]
        outputs = model_outputs(model, self.splits["test"][0])
        forecasts = self.preprocessor.forecast(self.values, ends, outputs)
        truth = self.truth(ends)
        lines = ["## Data", "", f"`{self.name}`: {len(self.values)} steps; "
                 f"{len(self.ends['train'])} training, {len(self.ends['val'])} validation, "
                 f"{len(self.ends['test'])} test windows", ""]
        lines += [f"- {note}" for note in self.notes]
        lines += ["", "## Test forecasts against the naive baselines", "",
                  "| forecast | MAE | RMSE |", "| --- | ---: | ---: |"]
        rows = {"model": forecasts, **self.baselines(ends)}
        for name, predicted in rows.items():
            errors = regression_metrics(truth, predicted)
            lines.append(f"| {name.replace('_', ' ')} | {errors['mae']:.4f} | "
                         f"{errors['rmse']:.4f} |")
        start = max(self.bounds[0] - 4 * len(ends), 0)
        history = (np.arange(start, ends[0] + 1), self.values[start:ends[0] + 1])
        plot = forecast_plot(run_path, ends + self.preprocessor.horizon, truth[:, -1],
                             forecasts[:, -1], rows["last_value"][:, -1], history)
        if plot:
            lines += ["", f"![forecasts on the test part]({plot.name})"]
        return lines


def load_series_task(config, metadata=None):
    preprocessor = features = None
    if metadata is not None:
        preprocessor = SeriesPreprocessor.from_state(metadata["preprocessing"])
        features = preprocessor.features  # the columns the model was trained to read
    elif config.features is not None:
        features = config.features
    series = read_series(config.data_path, config.target, config.time, features,
                         config.drop or (), config.numeric or (),
                         skip_bad_rows=config.skip_bad_rows, header=not config.no_header)
    return SeriesTask(config, series, preprocessor)


def _step(series):
    """'step 7 days', or 'step 1' for a series without times (its unit is steps)."""
    unit = "" if series.unit == "steps" else f" {series.unit}"
    return f"step {series.step:g}{unit}"
