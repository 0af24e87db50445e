"""``torch.autograd.detect_anomaly`` / ``set_detect_anomaly``: the switch is kept and answered
(``torch.is_anomaly_enabled()``), so scripts that turn it on run unchanged. chainrule's own
tool for the same question, which operation first produced a NaN and where in the user's code,
is ``chainrule.diagnostics`` (``chainrule train`` reports it by itself)."""

import functools

__all__ = ["detect_anomaly", "is_anomaly_check_nan_enabled", "is_anomaly_enabled",
           "set_detect_anomaly"]

_state = {"enabled": False, "check_nan": True}


def is_anomaly_enabled():
    return _state["enabled"]


def is_anomaly_check_nan_enabled():
    return _state["check_nan"]


class set_detect_anomaly:  # noqa: N801 - PyTorch's spelling
    """Turn anomaly detection on or off; also a context manager that restores it."""

    def __init__(self, mode, check_nan=True):
        self.previous = dict(_state)
        _state.update(enabled=bool(mode), check_nan=bool(check_nan))

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        _state.update(self.previous)
        return False


class detect_anomaly:  # noqa: N801 - PyTorch's spelling
    """``with detect_anomaly():`` (or as a decorator): anomaly detection on inside."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self.switch = set_detect_anomaly(True, self.check_nan)
        return self

    def __exit__(self, *exc_info):
        return self.switch.__exit__(*exc_info)

    def __call__(self, function):
        @functools.wraps(function)
        def inside(*args, **kwargs):
            with self:
                return function(*args, **kwargs)

        return inside
