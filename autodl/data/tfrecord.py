"""TFRecord framing: read and write records, CRC-32C checked with google-crc32c.

Each record is ``uint64 length | uint32 masked_crc(length) | data | uint32 masked_crc(data)``
(little endian), ``masked_crc(c) = ((c >> 15) | (c << 17)) + 0xa282ead8`` over CRC-32C.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
>>> write_records(path, [b"a", b"bc"])
>>> list(read_records(path))
[b'a', b'bc']
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from pathlib import Path

import google_crc32c

from .errors import RecordError

__all__ = ["masked_crc", "read_records", "record_spans", "write_records", "frame_record"]

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc(data: bytes | memoryview) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    crc = google_crc32c.value(bytes(data) if isinstance(data, memoryview) else data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One record's bytes on disk: header, data, footer."""
    length = _HEADER.pack(len(data), 0)[:8]
    return length + _FOOTER.pack(masked_crc(length)) + data + _FOOTER.pack(masked_crc(data))


def record_spans(
    buf: bytes, path: str | os.PathLike[str] = "<buffer>", *, check_crc: bool = True
) -> list[tuple[int, int]]:
    """``(offset, length)`` of every record's data in ``buf`` (a whole TFRecord file).

    Raises :class:`RecordError` naming ``path`` and the record index on a bad CRC or a
    truncated record.
    """
    spans = []
    pos = 0
    end = len(buf)
    header = _HEADER.unpack_from
    footer = _FOOTER.unpack_from
    crc = google_crc32c.value
    while pos < end:
        index = len(spans)
        if end - pos < 12:
            raise RecordError(path, f"truncated header ({end - pos} of 12 bytes)", index)
        length, length_crc = header(buf, pos)
        if check_crc and masked_crc(buf[pos : pos + 8]) != length_crc:
            raise RecordError(path, f"corrupt length (CRC mismatch at byte {pos})", index)
        start = pos + 12
        stop = start + length
        if stop + 4 > end:
            raise RecordError(
                path, f"truncated record (needs {length + 4} bytes, {end - start} left)", index
            )
        if check_crc:
            c = crc(buf[start:stop])
            if ((((c >> 15) | (c << 17)) + _MASK_DELTA) & 0xFFFFFFFF) != footer(buf, stop)[0]:
                raise RecordError(path, f"corrupt data (CRC mismatch at byte {start})", index)
        spans.append((start, length))
        pos = stop + 4
    return spans


def read_records(path: str | os.PathLike[str], *, check_crc: bool = True) -> Iterator[bytes]:
    """Every record's data of one TFRecord file, in order (the file is read whole, checked
    first, then yielded)."""
    buf = Path(path).read_bytes()
    for start, length in record_spans(buf, path, check_crc=check_crc):
        yield buf[start : start + length]


def write_records(path: str | os.PathLike[str], records: Iterable[bytes]) -> None:
    """Write ``records`` as one TFRecord file (plain write: callers write aside, then rename)."""
    with open(path, "wb") as f:
        for data in records:
            f.write(frame_record(data))
