"""Build PyTorch-style files by hand for the tests: a pickle in a torch.save zip archive, or in
the legacy stream, without PyTorch."""

import io
import pickle
import struct
import zipfile

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


def zip_archive(pickle_bytes, storages=None, record="archive", extra=None,
                compression=zipfile.ZIP_STORED):
    """A torch.save zip: ``record/data.pkl`` plus ``record/data/<key>`` per storage."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr(f"{record}/data.pkl", pickle_bytes)
        archive.writestr(f"{record}/byteorder", "little")
        for key, data in (storages or {}).items():
            archive.writestr(f"{record}/data/{key}", data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def legacy_stream(object_pickle, storages=()):
    """PyTorch's pre-1.6 stream: magic, protocol, sys info, the object, the keys, the data.
    ``storages`` is a list of (key, numel, raw bytes)."""
    parts = [pickle.dumps(LEGACY_MAGIC, protocol=2), pickle.dumps(1001, protocol=2),
             pickle.dumps({"protocol_version": 1001, "little_endian": True,
                           "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2),
             object_pickle, pickle.dumps([key for key, _, _ in storages], protocol=2)]
    for _, numel, data in storages:
        parts.append(struct.pack("<q", numel) + data)
    return b"".join(parts)


def global_op(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def unicode(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def tensor_pickle(key="0", numel=4, size=(4,), stride=(1,), offset=0, storage="FloatStorage",
                  location="cpu"):
    """protocol-2 bytes of one float tensor as torch.save writes it (_rebuild_tensor_v2)."""
    def int_op(value):  # BININT, or LONG1 for what 32 bits cannot hold
        if -2**31 <= value < 2**31:
            return b"J" + struct.pack("<i", value)
        return b"\x8a\x08" + struct.pack("<q", value)

    def ints(values):
        return b"(" + b"".join(int_op(v) for v in values) + b"t"

    pid = (b"(" + unicode("storage") + global_op("torch", storage) + unicode(key)
           + unicode(location) + b"\x8a\x08" + struct.pack("<q", numel) + b"tQ")
    return (b"\x80\x02" + global_op("torch._utils", "_rebuild_tensor_v2") + b"(" + pid
            + b"J" + struct.pack("<i", offset) + ints(size) + ints(stride) + b"\x89"
            + global_op("collections", "OrderedDict") + b")Rt" + b"R.")
