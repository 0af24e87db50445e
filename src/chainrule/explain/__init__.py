"""Explanations of a model's predictions: which parts of the input an output depends on, from
backpropagation (the gradient of the output with respect to the input). See docs/explain.md.

    from chainrule import explain
    attributions = explain.integrated_gradients(model, x, target=3)   # shaped like x

| module | what it owns |
| --- | --- |
| gradients.py | saliency, gradient x input, SmoothGrad |
| integrated.py | integrated gradients and their convergence delta |
| baselines.py | the baselines of integrated gradients: zeros, mean, blur, random |
| gradcam.py | Grad-CAM of any convolutional (or other spatial) layer |
| attention.py | the attention weights of every transformer layer |
| sites.py | discrete inputs (tokens, category codes) explained at their embeddings |
| checks.py | completeness and model-randomisation checks, rank correlation |
| summaries.py | attributions per table column, groups of near-duplicate columns, rankings |
| render.py | heatmaps, rankings, series plots (PNG) and coloured tokens (HTML) |
"""

from .attention import attention_weights
from .baselines import blur
from .checks import (completeness, completeness_error, mean_rank_correlation,
                     model_randomisation, randomised_copy, rank_correlation)
from .gradcam import grad_cam
from .gradients import gradient_x_input, saliency, smoothgrad
from .integrated import integrated_gradients
from .summaries import correlated_groups, global_ranking, group_columns, top_overlap

__all__ = ["saliency", "gradient_x_input", "integrated_gradients", "smoothgrad", "grad_cam",
           "attention_weights", "blur", "completeness", "completeness_error",
           "model_randomisation", "randomised_copy", "rank_correlation", "mean_rank_correlation",
           "group_columns", "correlated_groups", "global_ranking", "top_overlap"]
