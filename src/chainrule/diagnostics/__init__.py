"""Backprop diagnostics: which layer's gradients vanish, explode, die or turn NaN, since which
step, and what to do about it. Attaches to a model only through the engine's observers and
module/tensor hooks; the core knows nothing of it. See docs/diagnostics.md."""

from .monitor import GradientMonitor
from .nonfinite import NonFiniteTracer, Origin
from .rules import Finding, Thresholds
from .training import TrainingDiagnostics

__all__ = ["GradientMonitor", "Thresholds", "Finding", "NonFiniteTracer", "Origin",
           "TrainingDiagnostics"]
