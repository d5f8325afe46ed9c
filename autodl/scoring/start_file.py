"""``start.txt`` as the scorer reads it: the start time and budget, and the checks of each
prediction's timestamp against them.

Live, ``start.txt`` may be read while ingestion appends a timestamp line, so it is taken
only once its last line is whole, and a problem is said only on the final pass (a later
poll may find the file whole). Like ``end.txt`` it is read bounded and never followed
(:func:`~autodl.protocol.predictions.read_regular`). What the checks find comes back as
:class:`~autodl.scoring.result.Note` s for the scorer to record.

>>> start, notes = read_start(Path("no/such/folder"), final=True)
>>> start, notes[0].text
(None, 'no/such/folder/start.txt: file not found: no timestamps, so no learning curve (ALC 0)')
"""

from __future__ import annotations

from pathlib import Path

from autodl import protocol
from autodl.protocol import ProtocolError, Status
from autodl.protocol.predictions import MAX_START_BYTES, read_regular
from autodl.scoring.result import Note, PredictionScore

__all__ = ["read_start", "timestamp_notes"]


def read_start(prediction_dir: Path, final: bool) -> tuple[protocol.StartInfo | None, list[Note]]:
    """``start.txt``'s record (None when it cannot be read yet) and the problems found.

    ``final=False`` (live): None while its last line is not whole, and no notes.
    """
    path = prediction_dir / protocol.START_FILE
    unusable = "(no learning curve can be drawn from it)"
    try:
        text = read_regular(path, limit=MAX_START_BYTES)
    except FileNotFoundError:
        if not final:
            return None, []
        what = f"{path}: file not found: no timestamps, so no learning curve (ALC 0)"
        return None, [Note(what, Status.BAD_INPUT)]
    except NotADirectoryError:
        return None, []
    except ProtocolError as e:  # a FIFO, a link, a huge file: never read
        return None, [Note(f"{e} {unusable}", Status.BAD_INPUT)] if final else []
    if not final and not text.endswith(b"\n"):
        return None, []  # a timestamp line is being appended; read it on the next poll
    try:
        start = protocol.read_start(prediction_dir)
    except ValueError as e:  # ProtocolError, or bytes that are not UTF-8
        if not final:  # live, a later poll may find it whole
            return None, []
        what = str(e) if isinstance(e, ProtocolError) else f"{path}: {e}"
        return None, [Note(f"{what} {unusable}", Status.BAD_INPUT)]
    if not final:
        return start, []
    return start, [
        Note(
            f"{start.bad_timestamps[k]}; prediction {k} is left off the learning curve",
            Status.BAD_INPUT,
        )
        for k in sorted(start.bad_timestamps)
    ]


def timestamp_notes(
    predictions: list[PredictionScore],
    prediction_dir: Path,
    start: protocol.StartInfo | None,
    budget: float | None,
    finished: bool,
) -> list[Note]:
    """What the timestamps of ``predictions`` (by k) say, in order: a valid prediction
    without one (said once scoring has ``finished``), one before ``start_time``, one past
    the budget (a warning only) and timestamps out of order."""
    notes = []
    if finished and start is not None:
        for p in predictions:
            if p.error is None and p.timestamp is None:
                notes.append(
                    Note(
                        f"{prediction_dir / protocol.START_FILE}: no timestamp for "
                        f"prediction {p.k}; it is left off the learning curve",
                        Status.BAD_INPUT,
                    )
                )
    if start is None or budget is None:
        return notes
    prev = None
    for p in predictions:
        if p.error is not None or p.timestamp is None:
            continue
        t = p.timestamp - start.start_time
        if t < 0:
            notes.append(
                Note(
                    f"{protocol.START_FILE}: prediction {p.k} is timestamped {-t:.3f} s before "
                    "start_time; it is left off the learning curve",
                    Status.BAD_INPUT,
                )
            )
        elif t > budget:
            notes.append(
                Note(
                    f"prediction {p.k} was made at t = {t:.2f} s, after the time budget "
                    f"of {budget:g} s: it does not count in the ALC"
                )
            )
        if prev is not None and p.timestamp < prev.timestamp:  # type: ignore[operator]
            notes.append(
                Note(
                    f"{protocol.START_FILE}: timestamps out of order: prediction {p.k} "
                    f"({p.timestamp!r}) is earlier than prediction {prev.k} "
                    f"({prev.timestamp!r}); the learning curve takes predictions in "
                    "time order",
                    Status.BAD_INPUT,
                )
            )
        prev = p
    return notes
