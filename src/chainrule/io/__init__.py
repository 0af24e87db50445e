"""Reading and writing files other than chainrule's own checkpoints.

- ``unpickler``: a pickle interpreter that builds data and never runs code from the file;
- ``torch_names``: what the PyTorch names a checkpoint may mention become here (the allowlist);
- ``torch_file``: PyTorch's zip and legacy checkpoint files, through that interpreter;
- ``safe_globals``: the user's own additions to the allowlist (``add_safe_globals``);
- ``module_tree``: whole ``nn.Module`` objects as a JSON tree beside safetensors tensors.

``chainrule.serialization`` is the public front: ``load`` dispatches here by the file's
structure, ``save`` writes modules through ``module_tree``.
"""
