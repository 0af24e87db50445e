"""``torch.jit.annotations``: the typing names scriptable code imports from here (eager code
needs them only as annotations)."""

from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401, UP035 - the names PyTorch re-exports

BroadcastingList1 = BroadcastingList2 = BroadcastingList3 = list

__all__ = ["Any", "BroadcastingList1", "BroadcastingList2", "BroadcastingList3", "Dict", "List",
           "Optional", "Tuple", "Union"]
