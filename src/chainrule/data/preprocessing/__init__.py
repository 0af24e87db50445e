"""Preprocessing fitted on a training split and saved with the model, so that a run directory
turns new raw data (table rows, image files, a series) into model inputs by itself.

Each preprocessor has ``fit`` (on training data), ``state_dict()``/``from_state(state)`` (what
the checkpoint keeps), a transform to the model's float32 input, and ``input_names`` (what
each model input column is), which explanations use to speak in the data's own terms.
``from_state`` checks every entry of a saved state (it may come from a damaged or forged file)
and raises ``PreprocessingStateError`` naming the first that cannot work.
"""

from ._state import PreprocessingStateError
from .images import ImagePreprocessor
from .series import SeriesPreprocessor
from .table import TablePreprocessor, infer_task

__all__ = ["ImagePreprocessor", "PreprocessingStateError", "SeriesPreprocessor",
           "TablePreprocessor", "infer_task"]
