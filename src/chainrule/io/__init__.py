"""Files: reading and writing them safely, and the formats chainrule understands.

``chainrule.save``/``chainrule.load`` (in ``serialization.py``) are the public entry points;
this package holds what they are made of: bounded reads and atomic writes (``files``), telling
formats apart by their structure (``detect``), our safetensors container with its whole-file
checksum (``container``) and the object tree stored in it (``tree``).

PyTorch's files are read by ``torch_file`` (zip and legacy layouts) through ``unpickler``, a
pickle interpreter that builds data and never runs code from the file, following the allowlist
of ``torch_names`` plus the user's own ``safe_globals``."""
