"""Hostile files: each one is refused with a library error, runs no code (an audit hook watches
for process, exec, compile and import events), and finishes without growing memory or hanging
(every size a pickle claims is checked against the bytes it has, and its work is capped)."""

import copyreg
import io
import pickle
import random
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.serialization import CheckpointError

from .torch_bytes import global_op, legacy_stream, tensor_pickle, unicode, zip_archive

FIXTURES = Path(__file__).parent / "fixtures"
WATCHED = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "subprocess.Popen",
           "exec", "compile", "import", "ctypes.dlopen", "os.remove", "shutil.rmtree")
_events = []
_recording = [False]


def _audit(event, args):
    if _recording[0] and event.startswith(WATCHED):
        _events.append((event, str(args[0])[:80]))


sys.addaudithook(_audit)
canary_calls = []


def canary(*args):  # the function hostile pickles try to reach
    canary_calls.append(args)


def warm_up():
    """Import, before watching, everything that loading legitimately imports on first use."""
    for name in ("linear.pt", "mixed.pt", "mixed_legacy.pt"):
        cr.load(FIXTURES / name)
    buffer = io.BytesIO()
    cr.save({"x": cr.ones(1)}, buffer)
    cr.load(io.BytesIO(buffer.getvalue()))
    for encoding in ("latin1", "ascii", "raw-unicode-escape", "utf-8", "cp437"):
        b"x".decode(encoding)


def load_refused(payload, match=None):
    """Load ``payload``; it must raise a CheckpointError and run nothing."""
    warm_up()
    _events.clear()
    _recording[0] = True
    try:
        with pytest.raises(CheckpointError, match=match) as error:
            cr.load(io.BytesIO(payload))
    finally:
        _recording[0] = False
    assert _events == [] and canary_calls == []
    return error.value


def in_zip(pickle_bytes, **kwargs):
    return zip_archive(pickle_bytes, **kwargs)


def call(module, name, *args):
    """A protocol-2 pickle of ``module.name(*args)`` (GLOBAL + REDUCE)."""
    return (b"\x80\x02" + global_op(module, name) + b"(" + b"".join(unicode(a) for a in args)
            + b"tR.")


# -- globals that would run code ---------------------------------------------------------------
@pytest.mark.parametrize("module, name", [
    ("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"),
    ("builtins", "eval"), ("builtins", "exec"), ("builtins", "__import__"),
    ("builtins", "getattr"), ("builtins", "compile"), ("builtins", "open"),
    ("__builtin__", "eval"), ("tests.io.test_malicious", "canary"), ("torch", "load"),
    ("torch.serialization", "load"), ("numpy.core.multiarray", "_reconstruct"),
    ("builtins", "object.__subclasses__"), ("collections", "OrderedDict.__init__"),
])
def test_code_globals_are_refused_naming_them(module, name, tmp_path):
    error = load_refused(in_zip(call(module, name, f"touch {tmp_path}/pwned")),
                         match=f"GLOBAL {module.replace('__builtin__', 'builtins')}.{name}")
    assert "add_safe_globals" in str(error) and "safe_globals" in str(error)
    assert isinstance(error, pickle.UnpicklingError)
    assert not (tmp_path / "pwned").exists()


def test_stack_global_and_getattr_chains_are_refused():
    stack_global = (b"\x80\x04" + unicode("os") + unicode("system") + b"\x93" + b"("
                    + unicode("true") + b"tR.")
    load_refused(in_zip(stack_global), match="GLOBAL os.system")
    chain = (b"\x80\x02" + global_op("builtins", "getattr") + b"(" + global_op("builtins", "dict")
             + unicode("__class__") + b"tR.")
    load_refused(in_zip(chain), match="builtins.getattr")


@pytest.mark.parametrize("opcode_bytes, match", [
    (b"(" + unicode("x") + b"ios\nsystem\n.", "GLOBAL os.system"),  # INST
    (b"(" + global_op("os", "system") + unicode("x") + b"o.", "GLOBAL os.system"),  # OBJ
    (global_op("os", "system") + b")\x81.", "GLOBAL os.system"),  # NEWOBJ
    (global_op("torch", "float32") + b")\x81.", r"calls \(NEWOBJ\) torch.float32|calls"),
    (global_op("torch", "FloatStorage") + b"(" + unicode("x") + b"tR.", "calls"),
    (unicode("os.system") + b"(" + unicode("x") + b"tR.", "calls"),  # REDUCE on a string
    (b"}}" + unicode("k") + b"Nsb.", "BUILD"),  # BUILD on a plain dict
    (global_op("collections", "OrderedDict") + b")R}" + unicode("__class__") + b"N" + b"sb.",
     "BUILD"),
    (global_op("collections", "OrderedDict") + b")R}" + unicode("items") + b"N" + b"sb.",
     "BUILD"),  # an attribute that would shadow a method
    (b"N\x85" + unicode("k") + b"Ns.", "sets items"),  # SETITEM on a tuple
    (unicode("text") + b"Na.", "appends"),  # APPEND to a string
])
def test_state_and_call_opcodes_on_anything_outside_the_allowlist(opcode_bytes, match):
    load_refused(in_zip(b"\x80\x02" + opcode_bytes), match=match)


def test_extension_registry_opcodes_are_refused():
    copyreg.add_extension("tests.io.test_malicious", "canary", 0xF00)
    try:
        for ext in (b"\x82\x00", b"\x83\x00\x0f", b"\x84\x00\x0f\x00\x00"):
            load_refused(in_zip(b"\x80\x02" + ext + b")R."), match="extension registry")
    finally:
        copyreg.remove_extension("tests.io.test_malicious", "canary", 0xF00)


def test_out_of_band_buffers_are_refused():
    load_refused(in_zip(b"\x80\x05\x97."), match="out-of-band")


def test_legacy_stream_with_a_code_global_is_refused():
    load_refused(legacy_stream(call("os", "system", "true")), match="GLOBAL os.system")


def test_a_bare_pickle_is_refused():
    load_refused(pickle.dumps({"a": 1}, protocol=2), match="not a file written by torch.save")


# -- storages: persistent ids and zip entries ------------------------------------------------
@pytest.mark.parametrize("key", ["../../etc/passwd", "/etc/passwd", "..", "9", "a" * 200])
def test_persistent_ids_outside_the_archive_are_refused(key):
    load_refused(in_zip(tensor_pickle(key=key), storages={"0": bytes(16)}),
                 match="storage|entry")


def test_persistent_ids_that_are_not_storages_are_refused():
    load_refused(in_zip(b"\x80\x02" + unicode("x") + b"Q."), match="persistent id")
    module_pid = b"\x80\x02(" + unicode("module") + b"NNNtQ."
    load_refused(in_zip(module_pid), match="whole pickled module")
    load_refused(in_zip(tensor_pickle(storage="Tensor")), match="GLOBAL torch.Tensor|storage")


@pytest.mark.parametrize("name", ["archive/../../evil", "/abs/path", "archive\\..\\x",
                                  "../data.pkl"])
def test_zip_entries_with_unsafe_paths_are_refused(name):
    load_refused(in_zip(tensor_pickle(), storages={"0": bytes(16)}, extra={name: b"x"}),
                 match="unsafe path")


def test_zip_bomb_entries_are_refused():
    bomb = in_zip(tensor_pickle(numel=2_500_000, size=(2_500_000,)),
                  storages={"0": bytes(10_000_000)}, compression=zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000
    load_refused(bomb, match="zip bomb")


def test_overlapping_zip_entries_are_refused():
    payload = bytearray(in_zip(tensor_pickle(), storages={"0": bytes(16), "1": bytes(16)}))
    # point the last central-directory record at the first local header
    record = payload.rfind(b"PK\x01\x02")
    payload[record + 42:record + 46] = struct.pack("<I", 0)
    load_refused(bytes(payload), match="overlapping|offset")


# -- sizes, depth and work ------------------------------------------------------------------
@pytest.mark.parametrize("body, match", [
    (b"X\xff\xff\xff\xff", "truncated"),  # BINUNICODE of 4 GB
    (b"\x8e" + struct.pack("<Q", 2**63), "truncated"),  # BINBYTES8
    (b"\x8b" + struct.pack("<i", 2**31 - 1), "integer of"),  # LONG4
    (b"\x96" + struct.pack("<Q", 2**40), "truncated"),  # BYTEARRAY8
    (b"T" + struct.pack("<i", -5), "truncated"),  # negative BINSTRING
    (b"I" + b"9" * 5000 + b"\n.", "invalid integer"),
    (global_op("builtins", "bytearray") + b"J\xff\xff\xff\x7f\x85R.", "bytearray"),
])
def test_huge_claimed_sizes_are_refused_without_allocating(body, match):
    load_refused(in_zip(b"\x80\x02" + body), match=match)


@pytest.mark.parametrize("kwargs, match", [
    ({"numel": 10**15}, "should hold"),
    ({"size": (10**9, 10**9), "stride": (10**9, 1)}, "reaches element"),
    ({"size": (4,), "stride": (-1,)}, "negative"),
    ({"size": (2, 2), "stride": (1,)}, "do not match"),
    ({"size": (1,) * 100, "stride": (1,) * 100}, "at most 64"),
    # element counts and byte steps past what NumPy can index: said by us, not by NumPy
    ({"size": (2**33, 2**33), "stride": (0, 0)}, r"spans more than 2\*\*63 bytes"),
    ({"size": (2**40, 2**40, 0), "stride": (0, 0, 1)}, r"spans more than 2\*\*63 bytes"),
    ({"size": (1,), "stride": (2**62,)}, r"spans more than 2\*\*63 bytes"),
    ({"offset": 4}, "reaches element"),
    ({"storage": "ComplexFloatStorage"}, "complex64"),
])
def test_tensors_reaching_outside_their_storage_are_refused(kwargs, match):
    load_refused(in_zip(tensor_pickle(**kwargs), storages={"0": bytes(16)}), match=match)


def test_deep_nesting_and_cycles_are_refused_without_recursion():
    load_refused(in_zip(b"\x80\x02N" + b"\x85" * 100_000 + b"."), match="nests tuples")
    load_refused(in_zip(b"\x80\x02" + b"(" * 100_000 + b"l" * 100_000 + b"."),
                 match="nested more than")
    load_refused(in_zip(b"\x80\x02]q\x00h\x00a."), match="cycle")


def test_pickles_that_ask_for_quadratic_work_are_stopped():
    big_tuple = b"(" + b"K\x01" * 50_000 + b"tq\x00"
    hashing = b"}" + b"h\x00Ns" * 100_000
    load_refused(in_zip(b"\x80\x02" + big_tuple + hashing + b"."), match="work")


@pytest.mark.parametrize("name", ["linear.pt", "linear_legacy.pt"])
def test_truncation_at_every_byte_is_refused(name):
    payload = (FIXTURES / name).read_bytes()
    for cut in range(len(payload)):
        with pytest.raises(CheckpointError) as refused:
            cr.load(io.BytesIO(payload[:cut]))
        if name == "linear.pt" and cut >= 4:  # a zip that lost its end: said as such
            assert "is a zip archive (the layout torch.save writes) cut short or damaged" in \
                str(refused.value), (cut, str(refused.value))


def test_truncating_the_pickle_inside_an_archive_at_every_byte_is_refused():
    pickle_bytes = tensor_pickle()
    for cut in range(len(pickle_bytes)):
        with pytest.raises(CheckpointError):
            cr.load(io.BytesIO(in_zip(pickle_bytes[:cut], storages={"0": bytes(16)})))


# -- fuzz ------------------------------------------------------------------------------------
def mutate(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        at = rng.randrange(len(data) + 1)
        if kind == 0 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif kind == 1:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif kind == 2:
            del data[at:at + rng.randint(1, 16)]
        else:
            chunk = data[rng.randrange(len(data) or 1):][:rng.randint(1, 32)]
            data[at:at] = chunk
    return bytes(data)


def pickle_inside(name):
    with zipfile.ZipFile(FIXTURES / name) as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    record = next(e for e in entries if e.endswith("/data.pkl"))
    return entries, record


def fuzz_once(rng, sources, archives, load=lambda payload: cr.load(io.BytesIO(payload))):
    """Load one mutated file (with ``load``); return the exception type if it is not a library
    error."""
    if rng.random() < 0.5:
        payload = mutate(rng.choice(sources), rng)
    else:
        entries, record = rng.choice(archives)
        entries = dict(entries)
        entries[record] = mutate(entries[record], rng)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for entry, content in entries.items():
                archive.writestr(entry, content)
        payload = buffer.getvalue()
    try:
        load(payload)
    except CheckpointError:
        pass
    except Exception as error:  # noqa: BLE001 - what the fuzzer looks for
        return f"{type(error).__name__}: {error}"[:300]
    return None


def fuzz_inputs():
    names = ["linear.pt", "mixed.pt", "mixed_legacy.pt", "optimizer.pt"]
    sources = [(FIXTURES / n).read_bytes() for n in names]
    archives = [pickle_inside(n) for n in names if n != "mixed_legacy.pt"]
    return sources, archives


def test_fuzzed_files_raise_only_library_errors_and_run_nothing():
    sources, archives = fuzz_inputs()
    rng = random.Random(20261123)
    warm_up()
    _events.clear()
    _recording[0] = True
    try:
        failures = [f for f in (fuzz_once(rng, sources, archives) for _ in range(400)) if f]
    finally:
        _recording[0] = False
    assert failures == []
    assert _events == [] and canary_calls == []


def test_a_valid_file_still_loads_after_the_corpus():
    value = cr.load(io.BytesIO(in_zip(tensor_pickle(), storages={
        "0": np.arange(4, dtype=np.float32).tobytes()})))
    np.testing.assert_array_equal(value.numpy(), [0, 1, 2, 3])


def test_numpy_arrays_load_once_their_globals_and_dtype_class_are_allowed():
    # torch.save({"np": numpy.arange(3)}) writes _reconstruct, ndarray, dtype and BUILDs the
    # dtype's state: refused naming the dtype class to allow, then loaded once it is
    from numpy._core import multiarray

    payload = in_zip(pickle.dumps({"np": np.arange(3, dtype=np.int64)}, protocol=2))
    allowed = [multiarray._reconstruct, np.ndarray, np.dtype]
    fix = r"add_safe_globals\(\[numpy.dtypes.Int64DType\]\)"
    with cr.serialization.safe_globals(allowed), pytest.raises(CheckpointError, match=fix):
        cr.load(io.BytesIO(payload))
    with cr.serialization.safe_globals([*allowed, np.dtypes.Int64DType]):
        loaded = cr.load(io.BytesIO(payload))
    assert loaded["np"].tolist() == [0, 1, 2]
