"""Hand-made files for the malicious-input and fuzz tests: any header and data, with a valid
checksum when the header starts as ours does, so that what is tested is the validation behind
the checksum and not the checksum alone."""

import io
import json
import struct

import chainrule as cr
from chainrule.io import container


def saved(obj):
    buffer = io.BytesIO()
    cr.save(obj, buffer)
    return buffer.getvalue()


def split(payload):
    """(header dict, data bytes) of a file."""
    length = struct.unpack("<Q", payload[:8])[0]
    return json.loads(payload[8:8 + length]), payload[8 + length:]


def forge(header, data, header_text=None):
    """A file with ``header`` (or the raw ``header_text``) and ``data``, sealed when it can be."""
    text = header_text if header_text is not None else json.dumps(header).encode()
    text = text.replace(b'{"__metadata__": {"checksum": ', b'{"__metadata__":{"checksum":', 1)
    payload = struct.pack("<Q", len(text)) + text + data
    if payload[8:8 + len(container._PREFIX)] == container._PREFIX:
        return container.seal(payload)
    return payload


def with_structure(payload, structure):
    """``payload`` with its object tree replaced by ``structure`` (any JSON value)."""
    header, data = split(payload)
    header["__metadata__"]["structure"] = json.dumps(structure)
    return forge(header, data)
