"""A pickle interpreter that builds plain data and never runs code named by the file.

Python's own unpickler calls whatever a pickle names. This one reads the same opcodes itself
and asks a *policy* (``torch_names.Policy``) about everything that could run code: which
global a name stands for (GLOBAL, STACK_GLOBAL, INST), what calling it means (REDUCE, NEWOBJ,
OBJ), and how state is set on an object (BUILD); the policy knows only a fixed allowlist and
the user's ``add_safe_globals``. Containers are filled only when they are real lists, dicts
and sets. The extension registry (EXT1/2/4) and out-of-band buffers are refused outright.

Bounded, whatever the bytes say: every length is checked against the bytes that remain (so
memory follows the file's size), tuples and frozensets deeper than ``MAX_DEPTH`` are refused
where they are made (hashing one recurses), the finished object is checked for depth and
cycles without recursion, and the work spent hashing and copying is capped in proportion to
the file's size, so no pickle of a few bytes can keep it busy for long.
"""

import codecs
import pickle
import struct

from .errors import CheckpointError

MAX_DEPTH = 1000


class UnpicklingError(CheckpointError, pickle.UnpicklingError):
    """A pickle that cannot be read safely: refused, malformed or truncated."""


class Refused(Exception):
    """Raised by the policy and the rebuild functions, which do not know the file's name; the
    unpickler turns it into an ``UnpicklingError`` naming the file and the position."""


class _Mark:
    __repr__ = lambda self: "<MARK>"  # noqa: E731


_MARK = _Mark()
_CONTAINERS = (list, tuple, dict, set, frozenset)


class Unpickler:
    """Reads one pickle from ``data`` starting at a byte offset; ``load`` returns the object
    and the offset after its STOP opcode (PyTorch's legacy files hold several in a row)."""

    def __init__(self, data, policy, name="file", encoding="utf-8"):
        self.data = memoryview(data).cast("B")
        self.policy = policy
        self.name = name
        self.encoding = encoding
        self.work_left = 64 * len(self.data) + 1_000_000

    # -- driver ----------------------------------------------------------------------------
    def load(self, start=0):
        self.pos = start
        self.stack, self.marks, self.memo = [], [], {}
        self.sizes = {}  # id -> (depth, weight) of the tuples and frozensets made here
        self.keep = []  # those objects, alive so that their ids stay theirs
        dispatch = _DISPATCH
        while True:
            opcode = self._read(1)[0]
            handler = dispatch.get(opcode)
            if handler is None:
                self._fail(f"unknown or unsupported pickle opcode {bytes([opcode])!r}")
            self._spend(1)
            if handler is _stop:
                result = self._pop()
                check_depth(result, self.name)
                return result, self.pos
            try:
                handler(self)
            except Refused as refusal:
                self._fail(str(refusal))

    def _fail(self, message):
        raise UnpicklingError(self.name, f"{message} (at byte {self.pos - 1} of the pickle)")

    def _spend(self, amount):
        self.work_left -= amount
        if self.work_left < 0:
            self._fail("the pickle asks for far more work than its size justifies (repeated "
                       "hashing or copying of large objects); refused as a denial of service")

    # -- reading bytes -----------------------------------------------------------------------
    def _read(self, n):
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise UnpicklingError(
                self.name, f"the pickle is truncated or claims a size of {n} bytes that the "
                f"file does not hold (at byte {self.pos}, {len(self.data) - self.pos} left)")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def _unpack(self, fmt):
        (value,) = struct.unpack(fmt, self._read(struct.calcsize(fmt)))
        return value

    def _readline(self):
        data = self.data
        end = self.pos
        limit = len(data)
        while end < limit and data[end] != 0x0A:
            end += 1
        if end >= limit:
            raise UnpicklingError(self.name, "the pickle is truncated (a text opcode has no end "
                                  "of line)")
        line = bytes(data[self.pos:end])
        self.pos = end + 1
        return line

    # -- the stack ---------------------------------------------------------------------------
    def _pop(self):
        if not self.stack:
            self._fail("the pickle pops from an empty stack")
        value = self.stack.pop()
        if value is _MARK:
            self._fail("the pickle uses a MARK as a value")
        return value

    def _top(self):
        if not self.stack or self.stack[-1] is _MARK:
            self._fail("the pickle reads an empty stack")
        return self.stack[-1]

    def _pop_mark(self):
        if not self.marks:
            self._fail("the pickle closes a MARK it never opened")
        start = self.marks.pop()
        items = self.stack[start + 1:]
        del self.stack[start:]
        self._spend(len(items))
        return items

    def _push_mark(self):
        self.marks.append(len(self.stack))
        self.stack.append(_MARK)

    # -- tuples and frozensets: bounded depth and hashing work --------------------------------
    def _made(self, obj, items):
        depth, weight = 1, 1
        for item in items:
            d, w = self.sizes.get(id(item), (0, 1))
            depth, weight = max(depth, d + 1), weight + w
        if depth > MAX_DEPTH:
            self._fail(f"the pickle nests tuples more than {MAX_DEPTH} deep")
        self.sizes[id(obj)] = (depth, weight)
        self.keep.append(obj)
        return obj

    def _tuple(self, items):
        return self._made(tuple(items), items)

    def _hashed(self, key):
        """Charge the work of hashing ``key`` (tuples do not cache their hash)."""
        self._spend(self.sizes.get(id(key), (0, 1))[1])
        try:
            hash(key)
        except TypeError:
            self._fail(f"the pickle uses an unhashable {type(key).__name__} as a dict key or "
                       "set element")
        return key

    # -- filling containers -----------------------------------------------------------------
    def _setitems(self, target, pairs):
        if type(target) not in (dict,) and not self.policy.may_fill(target, "setitem"):
            self._fail(f"the pickle sets items on a {type(target).__name__}; only dicts are "
                       "filled this way")
        for key, value in pairs:
            target[self._hashed(key)] = value

    def _append(self, target, items):
        if type(target) is list:
            target.extend(items)
        elif self.policy.may_fill(target, "append"):
            for item in items:
                target.append(item)
        else:
            self._fail(f"the pickle appends to a {type(target).__name__}; only lists are "
                       "filled this way")

    def _global(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            self._fail("STACK_GLOBAL needs two strings")
        return self.policy.find_global(module, name)

    def _call(self, func, args, opcode):
        if not isinstance(args, tuple):
            self._fail(f"{opcode}'s arguments are a {type(args).__name__}, not a tuple")
        self._spend(sum(len(a) for a in args if isinstance(a, (str, bytes, list, tuple, dict))))
        return self.policy.call(func, args, opcode)


def _decode_str(self, raw):
    try:
        return codecs.decode(raw, "utf-8", "surrogatepass")
    except UnicodeDecodeError:
        self._fail("a string in the pickle is not valid UTF-8")


def _py2_string(self, raw):
    if self.encoding == "bytes":
        return raw
    try:
        return raw.decode(self.encoding)
    except (UnicodeDecodeError, LookupError):
        self._fail(f"a Python 2 string in the pickle cannot be decoded as {self.encoding}; "
                   "pass encoding='latin1' to load")


# -- opcode handlers (one per opcode, named after pickletools) ---------------------------------
def _stop(self):
    pass  # handled by the driver


def _proto(self):
    version = self._read(1)[0]
    if version > pickle.HIGHEST_PROTOCOL:
        self._fail(f"unsupported pickle protocol {version}")


def _frame(self):
    self._read(8)  # frame length: framing is an I/O hint, the opcodes follow as usual


def _mark(self):
    self._push_mark()


def _pop_op(self):
    if self.stack and self.stack[-1] is _MARK:
        self._pop_mark()
    else:
        self._pop()


def _pop_mark_op(self):
    self._pop_mark()


def _dup(self):
    self.stack.append(self._top())


def _none(self):
    self.stack.append(None)


def _newtrue(self):
    self.stack.append(True)


def _newfalse(self):
    self.stack.append(False)


def _int(self):
    line = self._readline()
    if line in (b"00", b"01"):
        self.stack.append(line == b"01")
        return
    self.stack.append(_parse_int(self, line))


def _long(self):
    line = self._readline()
    self.stack.append(_parse_int(self, line[:-1] if line.endswith(b"L") else line))


def _parse_int(self, text):
    try:
        return int(text)
    except ValueError:
        self._fail(f"invalid integer literal {text[:40]!r}")


def _binint(self):
    self.stack.append(self._unpack("<i"))


def _binint1(self):
    self.stack.append(self._read(1)[0])


def _binint2(self):
    self.stack.append(self._unpack("<H"))


def _long1(self):
    n = self._read(1)[0]
    self.stack.append(int.from_bytes(self._read(n), "little", signed=True))


def _long4(self):
    n = self._unpack("<i")
    if n > 1 << 16:
        self._fail(f"an integer of {n} bytes; nothing in a checkpoint is that large")
    self.stack.append(int.from_bytes(self._read(n), "little", signed=True))


def _float(self):
    line = self._readline()
    try:
        self.stack.append(float(line))
    except ValueError:
        self._fail(f"invalid float literal {line[:40]!r}")


def _binfloat(self):
    self.stack.append(self._unpack(">d"))


def _binunicode(self):
    self.stack.append(_decode_str(self, bytes(self._read(self._unpack("<I")))))


def _short_binunicode(self):
    self.stack.append(_decode_str(self, bytes(self._read(self._read(1)[0]))))


def _binunicode8(self):
    self.stack.append(_decode_str(self, bytes(self._read(self._unpack("<Q")))))


def _unicode(self):
    try:
        self.stack.append(self._readline().decode("raw-unicode-escape"))
    except UnicodeDecodeError:
        self._fail("invalid UNICODE literal")


def _string(self):
    raw = self._readline().rstrip()
    if len(raw) < 2 or raw[0] != raw[-1] or raw[:1] not in (b'"', b"'"):
        self._fail("the STRING opcode's argument must be quoted")
    try:
        value = codecs.escape_decode(raw[1:-1])[0]
    except ValueError:
        self._fail("invalid STRING literal")
    self.stack.append(_py2_string(self, value))


def _binstring(self):
    n = self._unpack("<i")
    self.stack.append(_py2_string(self, bytes(self._read(n))))


def _short_binstring(self):
    self.stack.append(_py2_string(self, bytes(self._read(self._read(1)[0]))))


def _binbytes(self):
    self.stack.append(bytes(self._read(self._unpack("<I"))))


def _short_binbytes(self):
    self.stack.append(bytes(self._read(self._read(1)[0])))


def _binbytes8(self):
    self.stack.append(bytes(self._read(self._unpack("<Q"))))


def _bytearray8(self):
    self.stack.append(bytearray(self._read(self._unpack("<Q"))))


def _empty_list(self):
    self.stack.append([])


def _empty_dict(self):
    self.stack.append({})


def _empty_set(self):
    self.stack.append(set())


def _empty_tuple(self):
    self.stack.append(self._tuple(()))


def _tuple_op(self):
    self.stack.append(self._tuple(self._pop_mark()))


def _tuple_n(n):
    def handler(self):
        if len(self.stack) < n:
            self._fail(f"TUPLE{n} needs {n} values on the stack")
        items = self.stack[-n:]
        if any(item is _MARK for item in items):
            self._fail(f"TUPLE{n} reaches across a MARK")
        del self.stack[-n:]
        self.stack.append(self._tuple(items))
    return handler


def _list(self):
    self.stack.append(self._pop_mark())


def _dict(self):
    items = self._pop_mark()
    if len(items) % 2:
        self._fail("DICT needs key/value pairs")
    target = {}
    self._setitems(target, zip(items[::2], items[1::2]))
    self.stack.append(target)


def _frozenset(self):
    items = [self._hashed(item) for item in self._pop_mark()]
    self.stack.append(self._made(frozenset(items), items))


def _append_op(self):
    value = self._pop()
    self._append(self._top(), [value])


def _appends(self):
    items = self._pop_mark()
    self._append(self._top(), items)


def _setitem(self):
    value, key = self._pop(), self._pop()
    self._setitems(self._top(), [(key, value)])


def _setitems_op(self):
    items = self._pop_mark()
    if len(items) % 2:
        self._fail("SETITEMS needs key/value pairs")
    self._setitems(self._top(), zip(items[::2], items[1::2]))


def _additems(self):
    items = self._pop_mark()
    target = self._top()
    if type(target) is not set:
        self._fail(f"ADDITEMS on a {type(target).__name__}; only sets are filled this way")
    for item in items:
        target.add(self._hashed(item))


# memo
def _put_value(self, index):
    if index < 0:
        self._fail("negative memo index")
    self.memo[index] = self._top()


def _get_value(self, index):
    try:
        self.stack.append(self.memo[index])
    except KeyError:
        self._fail(f"memo entry {index} is read before it is written")


def _put(self):
    _put_value(self, _parse_int(self, self._readline()))


def _binput(self):
    _put_value(self, self._read(1)[0])


def _long_binput(self):
    _put_value(self, self._unpack("<I"))


def _memoize(self):
    _put_value(self, len(self.memo))


def _get(self):
    _get_value(self, _parse_int(self, self._readline()))


def _binget(self):
    _get_value(self, self._read(1)[0])


def _long_binget(self):
    _get_value(self, self._unpack("<I"))


# globals, calls and state: every one of them goes through the policy
def _read_global_name(self):
    try:
        module = self._readline().decode("utf-8")
        name = self._readline().decode("utf-8")
    except UnicodeDecodeError:
        self._fail("a global's name is not valid UTF-8")
    return module, name


def _global_op(self):
    self.stack.append(self._global(*_read_global_name(self)))


def _stack_global(self):
    name, module = self._pop(), self._pop()
    self.stack.append(self._global(module, name))


def _reduce(self):
    args, func = self._pop(), self._pop()
    self.stack.append(self._call(func, args, "REDUCE"))


def _newobj(self):
    args, cls = self._pop(), self._pop()
    self.stack.append(self._call(cls, args, "NEWOBJ"))


def _newobj_ex(self):
    kwargs, args, cls = self._pop(), self._pop(), self._pop()
    if kwargs:
        self._fail("NEWOBJ_EX with keyword arguments is not supported")
    self.stack.append(self._call(cls, args, "NEWOBJ_EX"))


def _inst(self):
    cls = self._global(*_read_global_name(self))
    self.stack.append(self._call(cls, self._tuple(self._pop_mark()), "INST"))


def _obj(self):
    items = self._pop_mark()
    if not items:
        self._fail("OBJ needs a class")
    self.stack.append(self._call(items[0], self._tuple(items[1:]), "OBJ"))


def _build(self):
    state = self._pop()
    target = self._top()
    if isinstance(state, (dict, list, tuple)):
        self._spend(len(state))
    self.policy.build(target, state)


def _binpersid(self):
    self.stack.append(self.policy.persistent_load(self._pop()))


def _persid(self):
    try:
        pid = self._readline().decode("ascii")
    except UnicodeDecodeError:
        self._fail("PERSID's argument is not ASCII")
    self.stack.append(self.policy.persistent_load(pid))


def _refused(reason):
    def handler(self):
        self._fail(reason)
    return handler


_EXT = _refused("the pickle uses the copyreg extension registry (EXT1/EXT2/EXT4), which could "
                "name any global; it is never consulted")
_BUFFER = _refused("the pickle uses out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER), which a "
                   "checkpoint file never holds")

_DISPATCH = {
    ord(code): handler for code, handler in [
        (b".", _stop), (b"\x80", _proto), (b"\x95", _frame), (b"(", _mark), (b"0", _pop_op),
        (b"1", _pop_mark_op), (b"2", _dup), (b"N", _none), (b"\x88", _newtrue),
        (b"\x89", _newfalse), (b"I", _int), (b"L", _long), (b"J", _binint), (b"K", _binint1),
        (b"M", _binint2), (b"\x8a", _long1), (b"\x8b", _long4), (b"F", _float),
        (b"G", _binfloat), (b"X", _binunicode), (b"\x8c", _short_binunicode),
        (b"\x8d", _binunicode8), (b"V", _unicode), (b"S", _string), (b"T", _binstring),
        (b"U", _short_binstring), (b"B", _binbytes), (b"C", _short_binbytes),
        (b"\x8e", _binbytes8), (b"\x96", _bytearray8), (b"]", _empty_list),
        (b"}", _empty_dict), (b"\x8f", _empty_set), (b")", _empty_tuple), (b"t", _tuple_op),
        (b"\x85", _tuple_n(1)), (b"\x86", _tuple_n(2)), (b"\x87", _tuple_n(3)), (b"l", _list),
        (b"d", _dict), (b"\x91", _frozenset), (b"a", _append_op), (b"e", _appends),
        (b"s", _setitem), (b"u", _setitems_op), (b"\x90", _additems), (b"p", _put),
        (b"q", _binput), (b"r", _long_binput), (b"\x94", _memoize), (b"g", _get),
        (b"h", _binget), (b"j", _long_binget), (b"c", _global_op), (b"\x93", _stack_global),
        (b"R", _reduce), (b"\x81", _newobj), (b"\x92", _newobj_ex), (b"i", _inst),
        (b"o", _obj), (b"b", _build), (b"Q", _binpersid), (b"P", _persid), (b"\x82", _EXT),
        (b"\x83", _EXT), (b"\x84", _EXT), (b"\x97", _BUFFER), (b"\x98", _BUFFER),
    ]
}


def _children(obj):
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    return list(obj)


def check_depth(root, name="file", limit=MAX_DEPTH):
    """Refuse an object nested deeper than ``limit`` or holding itself (without recursing:
    code that later walks the result recursively must not overflow the stack)."""
    if not isinstance(root, _CONTAINERS):
        return
    height = {}  # id -> height of a finished container
    path = {id(root)}
    stack = [(root, iter(_children(root)), [0])]
    while stack:
        obj, children, best = stack[-1]
        child = next(children, _MARK)
        if child is _MARK:
            stack.pop()
            path.discard(id(obj))
            height[id(obj)] = best[0]
            if stack:
                stack[-1][2][0] = max(stack[-1][2][0], best[0] + 1)
            continue
        if not isinstance(child, _CONTAINERS):
            continue
        key = id(child)
        if key in path:
            raise UnpicklingError(name, "the pickled object contains itself (a cycle); a "
                                  "checkpoint holds trees of data")
        if key in height:
            best[0] = max(best[0], height[key] + 1)
        else:
            path.add(key)
            stack.append((child, iter(_children(child)), [0]))
        if len(stack) + best[0] > limit:
            raise UnpicklingError(name, f"the pickled object is nested more than {limit} "
                                  "levels deep")
