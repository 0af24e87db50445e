"""Telling file formats apart by their structure, never by one byte.

A safetensors file starts with its header's length (8 bytes, little-endian) followed by that
many bytes of JSON, so its first byte can be anything, ``0x80`` (a pickle's first byte)
included. So the safetensors structure is checked first, as a whole: a length that fits in the
file, then a JSON object. Only what is not a safetensors file is then matched against the
other formats' signatures."""

import struct

SAFETENSORS = "safetensors"
TORCH_ZIP = "zip"  # torch.save's default format since PyTorch 1.6 (a zip archive of pickles)
PICKLE = "pickle"  # a bare pickle, e.g. torch.save(..., _use_new_zipfile_serialization=False)
UNKNOWN = "unknown"

MAX_HEADER_BYTES = 100_000_000  # the limit safetensors itself enforces
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
_PICKLE_PROTOCOLS = range(2, 6)  # the PROTO opcode (0x80) is followed by the protocol number


def header_length(payload):
    """The header length a safetensors file declares, or None if ``payload`` is too short."""
    if len(payload) < 8:
        return None
    return struct.unpack("<Q", payload[:8])[0]


def is_safetensors(payload):
    """Whether ``payload`` has the structure of a safetensors file: a declared header length
    that fits in the file and a header that opens a JSON object."""
    length = header_length(payload)
    if length is None or length < 2 or length > min(len(payload) - 8, MAX_HEADER_BYTES):
        return False
    return payload[8:9] == b"{"


def detect_format(payload):
    """``SAFETENSORS``, ``TORCH_ZIP``, ``PICKLE`` or ``UNKNOWN`` for the bytes of a file."""
    if is_safetensors(payload):
        return SAFETENSORS
    if payload[:4] in _ZIP_SIGNATURES:
        return TORCH_ZIP
    if len(payload) >= 2 and payload[0] == 0x80 and payload[1] in _PICKLE_PROTOCOLS:
        return PICKLE
    return UNKNOWN
