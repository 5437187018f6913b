"""AWS event-stream frames (``application/vnd.amazon.eventstream``), as Bedrock streams.

A frame is a 12-byte prelude (total length and headers length, both uint32 big-endian,
then the CRC32 of those 8 bytes), the headers, the payload and a CRC32 of everything
before it. A header is a 1-byte name length, the name, a 1-byte value type (7: string),
a uint16 big-endian value length and the value. botocore checks both CRCs, so a frame
made here is always whole and correct; faults break streams between frames.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

__all__ = ["chunk_frame", "exception_frame", "frame"]

_STRING = 7  # the header value type of a UTF-8 string


def frame(headers: Sequence[tuple[str, str]], payload: bytes) -> bytes:
    """One event-stream message with string ``headers``, in order."""
    head = b"".join(_header(name, value) for name, value in headers)
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk_frame(payload: bytes) -> bytes:
    """A ``chunk`` event, the frame that carries one streamed answer event."""
    headers = [
        (":event-type", "chunk"),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ]
    return frame(headers, payload)


def exception_frame(exception_type: str, payload: bytes) -> bytes:
    """A modelled exception inside the stream (``:exception-type``, e.g.
    ``internalServerException``), after which the server ends the stream."""
    headers = [
        (":exception-type", exception_type),
        (":content-type", "application/json"),
        (":message-type", "exception"),
    ]
    return frame(headers, payload)


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    if len(raw_name) > 255 or len(raw_value) > 65535:
        raise ValueError(f"event-stream header {name!r} is too long")
    return (
        struct.pack(">B", len(raw_name))
        + raw_name
        + struct.pack(">BH", _STRING, len(raw_value))
        + raw_value
    )
