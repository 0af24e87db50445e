"""Backprop diagnostics: which layer's gradients vanish, explode, die or turn NaN, since which
step, and what to do about it. Attaches to one model through module, parameter and graph-node
hooks and the engine's forward observer; the core knows nothing of it. See
docs/diagnostics.md."""

from .monitor import GradientMonitor
from .nonfinite import NonFiniteTracer, Origin
from .findings import Finding, Thresholds
from .training import TrainingDiagnostics

__all__ = ["GradientMonitor", "Thresholds", "Finding", "NonFiniteTracer", "Origin",
           "TrainingDiagnostics"]
