"""``Members``: the dicts a module registers its parameters, buffers and children in.

Each is an ordered dict (PyTorch's ``_parameters``, ``_buffers``, ``_modules``, which code may
read and write directly) that also keeps every entry as a plain attribute of the module that
holds it, so that ``self.weight`` in a ``forward`` is an ordinary attribute read.
NOTE: without the copy, every such read first failed the ordinary lookup (an AttributeError
raised and caught inside Python) before ``Module.__getattr__`` found it: measured inside the
``tiny`` training step (three ``Linear`` layers), 5-7 us of a 115 us step.

The dict is the truth; the attributes follow every write to it. A shallow copy of a module
shares the dict with the original, as in PyTorch, so the dict keeps every module that holds
it (weakly) and writes to all of them.
"""

import weakref
from collections import OrderedDict


class Members(OrderedDict):
    """An ordered dict whose entries are also attributes of the modules attached to it."""

    _holders = ()  # weak references to the modules whose __dict__ follows this dict

    def attach(self, module):
        """Make ``module``'s attributes follow this dict (and copy its entries there now)."""
        if not any(ref() is module for ref in self._holders):
            self._holders = [ref for ref in self._holders if ref() is not None]
            self._holders.append(weakref.ref(module))
        module.__dict__.update(self)

    def _attributes(self):
        """The ``__dict__`` of every module still holding this dict."""
        for ref in self._holders:
            module = ref()
            if module is not None:
                yield module.__dict__

    def __setitem__(self, name, value):
        super().__setitem__(name, value)
        for attributes in self._attributes():
            attributes[name] = value

    def __delitem__(self, name):
        super().__delitem__(name)
        for attributes in self._attributes():
            attributes.pop(name, None)

    def pop(self, name, *default):
        if name not in self:
            return super().pop(name, *default)  # (the default, or the KeyError)
        value = self[name]
        del self[name]
        return value

    def popitem(self, last=True):
        name, value = super().popitem(last)
        for attributes in self._attributes():
            attributes.pop(name, None)
        return name, value

    def clear(self):
        for attributes in self._attributes():
            for name in self:
                attributes.pop(name, None)
        super().clear()

    def setdefault(self, name, default=None):
        if name not in self:
            self[name] = default
        return self[name]

    def update(self, *args, **kwargs):
        for name, value in OrderedDict(*args, **kwargs).items():
            self[name] = value

    def __ior__(self, other):
        self.update(other)
        return self

    def __reduce__(self):
        # a copy or an unpickled dict starts with no modules: Module.__setstate__ attaches it
        return type(self), (list(self.items()),)
