"""The fix for a state dict that does not match a module, when its keys show a usual cause:
a prefix that a wrapper added (``module.`` from DataParallel, ``_orig_mod.`` from
torch.compile) or a whole checkpoint whose model state sits under one key."""


def mismatch_hint(state_dict, expected):
    """A sentence saying how to load ``state_dict`` into a module whose keys are ``expected``
    (a set), or None when no usual cause explains the mismatch."""
    keys = [key for key in state_dict.keys() if isinstance(key, str)]
    for key in keys:
        value = state_dict[key]
        if hasattr(value, "keys") and expected and expected <= set(value.keys()):
            return (f'Hint: the model\'s state sits under the key "{key}" (a whole checkpoint); '
                    f'load state_dict["{key}"] instead.')
    unexpected = [key for key in keys if key not in expected]
    if not unexpected:
        return None
    prefix = unexpected[0].split(".", 1)[0] + "."
    stripped = {key.removeprefix(prefix) for key in unexpected if key.startswith(prefix)}
    if len(stripped) == len(unexpected) and stripped & expected:
        return (f'Hint: the keys start with "{prefix}" (as a wrapper such as DataParallel or '
                f"torch.compile saves them); load {{k.removeprefix(\"{prefix}\"): v for k, v in "
                "state_dict.items()} instead.")
    return None
