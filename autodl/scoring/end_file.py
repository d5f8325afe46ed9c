"""``end.txt`` as the scorer reads it: whether ingestion has ended, and how.

``end.txt`` is written by a program scoring does not trust, so it is never opened unless it
is a regular file, and it is read bounded (:func:`~autodl.protocol.predictions.read_regular`):
a FIFO by that name would block the reader, a huge file exhaust it. What these checks find
comes back as :class:`~autodl.scoring.result.Note` s for the scorer to record.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from autodl import protocol
from autodl.protocol import ProtocolError, Status
from autodl.protocol.predictions import MAX_START_BYTES, file_kind, parse_mapping, read_regular
from autodl.scoring.result import Note

__all__ = ["check_end", "end_present", "read_end"]


def end_present(prediction_dir: Path) -> tuple[bool, Note | None]:
    """Whether ``end.txt`` exists as a regular file, and a note when something else does.

    Anything else by that name (a FIFO, a link, a directory) is not opened and not taken as
    the end of ingestion.

    >>> end_present(Path("no/such/folder"))
    (False, None)
    """
    path = prediction_dir / protocol.END_FILE
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False, None
    if stat.S_ISREG(mode):
        return True, None
    return False, Note(
        f"{path}: is {file_kind(mode)}, not a regular file; not read, and not taken as "
        "the end of ingestion",
        Status.BAD_INPUT,
    )


def read_end(prediction_dir: Path) -> protocol.EndInfo | None:
    """``end.txt``'s record, or None when there is none; raises ProtocolError naming it.

    As :func:`autodl.protocol.read_end`, but read with ``read_regular``: bounded and never
    blocking.
    """
    path = prediction_dir / protocol.END_FILE
    try:
        data = parse_mapping(path, read_regular(path, limit=MAX_START_BYTES))
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        return protocol.EndInfo(
            ingestion_duration=float(data.get("ingestion_duration", 0.0)),
            ingestion_success=int(data.get("ingestion_success", 0)),
            end_time=float(data.get("end_time", 0.0)),
        )
    except (TypeError, ValueError, OverflowError) as e:
        raise ProtocolError(f"{path}: bad value: {e}") from None


def check_end(prediction_dir: Path) -> Note | None:
    """What the final scoring notes about ``end.txt``: bad, missing or a failed ingestion.

    >>> check_end(Path("no/such/folder")).status is None  # only said: not a problem
    True
    """
    try:
        end = read_end(prediction_dir)
    except ProtocolError as e:
        return Note(str(e), Status.BAD_INPUT)
    if end is None:
        return Note(
            f"{prediction_dir / protocol.END_FILE}: not found: ingestion had not "
            "finished; scoring the predictions that exist",
            None,
            logging.INFO,
        )
    if end.ingestion_success:
        return None
    detail = ""
    try:
        # Checked first: a FIFO by that name would block the reader.
        read_regular(prediction_dir / protocol.INGESTION_FILE, limit=MAX_START_BYTES)
        info = protocol.read_ingestion_record(prediction_dir)
        detail = f" (status {info.status.value!r}: {info.error})"
    except (ProtocolError, OSError):  # ingestion.json is ingestion's extra, not 2019's
        pass
    return Note(
        f"{prediction_dir / protocol.END_FILE}: ingestion_success is 0: "
        f"ingestion reported a failure{detail}; scoring the predictions it made",
        Status.INGESTION_FAILED,
        logging.ERROR,
    )
