"""The files of the 2019 exchange between ingestion and scoring, byte for byte.

An ingestion program writes into its output (prediction) folder:

- ``start.txt`` (YAML): ``ingestion_pid``, ``task_name``, ``time_budget``,
  ``start_time``, then one ``k: <epoch seconds>`` line per prediction;
- ``<task>.predict_<k>``: one text line per test example, ``output_dim`` numbers in
  ``'{:g}'`` format, each followed by a space (the 2019 writer's exact bytes);
- ``end.txt`` (YAML): ``ingestion_duration``, ``ingestion_success``, ``end_time``.

A scoring program reads those and the task's ``<task>.solution``.
"""

from __future__ import annotations

import io
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from autodl.protocol.atomic import ProtocolError, atomic_write, is_temporary, read_yaml_mapping
from autodl.protocol.names import END_FILE, START_FILE, parse_prediction_name, prediction_name

if TYPE_CHECKING:
    import numpy as np


# --------------------------------------------------------------------------- start.txt


@dataclass
class StartInfo:
    """The content of ``start.txt``: the run's identity and the prediction timestamps."""

    ingestion_pid: int
    task_name: str
    time_budget: float
    start_time: float
    timestamps: dict[int, float] = field(default_factory=dict)
    #: k -> why its timestamp line was dropped (not a finite number); the rest is usable.
    bad_timestamps: dict[int, str] = field(default_factory=dict)


class FileTooLarge(ProtocolError):
    """A protocol file is larger than it may be (:func:`read_regular`'s ``limit``)."""


#: The most bytes read of start.txt or end.txt: a real one holds a few lines per prediction.
MAX_START_BYTES = 4 * 1024 * 1024

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words (for messages)."""
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def read_regular(
    path: str | os.PathLike[str], *, limit: int | None = None, follow_symlinks: bool = False
) -> bytes:
    """The bytes of a regular file, never blocking and never more than ``limit``.

    A FIFO, socket, device or directory (and, unless ``follow_symlinks``, a symbolic link,
    which could point at the solution) is refused without being opened: opening a FIFO
    blocks until someone writes to it. The open itself is non-blocking and checked again
    with fstat, in case the name was swapped in between. Raises :class:`ProtocolError`
    naming the file; ``FileNotFoundError`` when there is none.
    """
    path = Path(path)
    st = os.stat(path, follow_symlinks=follow_symlinks)
    if not stat.S_ISREG(st.st_mode):
        raise ProtocolError(f"{path}: is {file_kind(st.st_mode)}, not a regular file; not read")
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as e:  # ELOOP: it became a symbolic link since the stat
        raise ProtocolError(f"{path}: cannot be opened: {e.strerror}; not read") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ProtocolError(f"{path}: is {file_kind(st.st_mode)}, not a regular file; not read")
        if limit is not None and st.st_size > limit:
            raise FileTooLarge(
                f"{path}: {st.st_size} bytes, more than the {limit} this file may hold; not read"
            )
        data = f.read() if limit is None else f.read(limit + 1)
    if limit is not None and len(data) > limit:  # it grew while being read
        raise FileTooLarge(f"{path}: more than the {limit} bytes this file may hold; not read")
    return data


def parse_mapping(path: Path, data: bytes) -> dict:
    """The ``key: value`` lines of a protocol file's bytes (start.txt, end.txt)."""
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(f"{path}: not UTF-8 text: {e}") from None
    try:
        mapping = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as e:
        raise ProtocolError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(mapping, dict):
        raise ProtocolError(f"{path}: expected 'key: value' lines, got {type(mapping).__name__}")
    return mapping


def format_number(x: float | int) -> str:
    """A number of seconds as given, without the float's noise: an integral value
    without ``.0`` (as ``start.txt`` examples show it), any other its shortest
    round-trip repr, never rounded to six digits as ``'%g'`` would.

    >>> format_number(1200.0), format_number(7.25), format_number(1234567.0)
    ('1200', '7.25', '1234567')
    """
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def write_start(
    output_dir: str | os.PathLike[str],
    *,
    ingestion_pid: int,
    task_name: str,
    time_budget: float,
    start_time: float,
) -> Path:
    """Write a fresh ``start.txt`` (atomically) and return its path."""
    path = Path(output_dir) / START_FILE
    text = (
        f"ingestion_pid: {int(ingestion_pid)}\n"
        f"task_name: {task_name}\n"
        f"time_budget: {format_number(time_budget)}\n"
        f"start_time: {float(start_time)!r}\n"
    )
    atomic_write(path, text)
    return path


def append_prediction_time(output_dir: str | os.PathLike[str], k: int, timestamp: float) -> None:
    """Append ``k: <timestamp>`` to ``start.txt``, as the reference does after prediction k."""
    with open(Path(output_dir) / START_FILE, "a", encoding="utf-8") as f:
        f.write(f"{int(k)}: {float(timestamp)!r}\n")


def read_start(output_dir: str | os.PathLike[str]) -> StartInfo:
    """Read ``start.txt`` from a prediction folder.

    Raises :class:`ProtocolError` naming the file and field when it is missing, not a
    regular file, larger than :data:`MAX_START_BYTES` or malformed, or when ``time_budget``
    is not a finite number > 0 or ``start_time`` not finite epoch seconds >= 0. A
    timestamp line that is not a finite number only drops that prediction's timestamp
    (:attr:`StartInfo.bad_timestamps` says why).
    """
    path = Path(output_dir) / START_FILE
    try:
        data = parse_mapping(path, read_regular(path, limit=MAX_START_BYTES))
    except (FileNotFoundError, NotADirectoryError):
        raise ProtocolError(f"{path}: file not found") from None
    try:
        info = StartInfo(
            ingestion_pid=int(data.get("ingestion_pid", -1)),
            task_name=str(data["task_name"]),
            time_budget=float(data["time_budget"]),
            start_time=float(data["start_time"]),
        )
    except KeyError as e:
        raise ProtocolError(f"{path}: missing field {e.args[0]!r}") from None
    except (TypeError, ValueError, OverflowError) as e:
        raise ProtocolError(f"{path}: bad value: {e}") from None
    # The learning curve divides by log(1 + T/t0): T must be a positive finite number.
    if not (math.isfinite(info.time_budget) and info.time_budget > 0):
        raise ProtocolError(
            f"{path}: time_budget is {data['time_budget']!r}: it must be a finite number of "
            "seconds > 0"
        )
    if not (math.isfinite(info.start_time) and info.start_time >= 0):
        raise ProtocolError(
            f"{path}: start_time is {data['start_time']!r}: it must be finite epoch seconds >= 0"
        )
    for key, value in data.items():
        if isinstance(key, int) and not isinstance(key, bool):
            try:
                t = float(value)
            except (TypeError, ValueError, OverflowError):
                t = math.nan
            if math.isfinite(t):
                info.timestamps[key] = t
            else:
                info.bad_timestamps[key] = (
                    f"{path}: timestamp of prediction {key} is {value!r}, not a finite number"
                )
    return info


# --------------------------------------------------------------------------- end.txt


@dataclass
class EndInfo:
    ingestion_duration: float
    ingestion_success: int
    end_time: float


def write_end(
    output_dir: str | os.PathLike[str],
    *,
    ingestion_duration: float,
    ingestion_success: bool | int,
    end_time: float,
) -> Path:
    """Write ``end.txt`` (atomically): its appearance tells scoring that ingestion ended."""
    path = Path(output_dir) / END_FILE
    text = (
        f"ingestion_duration: {float(ingestion_duration)!r}\n"
        f"ingestion_success: {int(bool(ingestion_success))}\n"
        f"end_time: {float(end_time)!r}\n"
    )
    atomic_write(path, text)
    return path


def read_end(output_dir: str | os.PathLike[str]) -> EndInfo | None:
    """Read ``end.txt``; ``None`` when ingestion has not ended (no file yet)."""
    path = Path(output_dir) / END_FILE
    if not path.exists():
        return None
    data = read_yaml_mapping(path)
    try:
        return EndInfo(
            ingestion_duration=float(data.get("ingestion_duration", 0.0)),
            ingestion_success=int(data.get("ingestion_success", 0)),
            end_time=float(data.get("end_time", 0.0)),
        )
    except (TypeError, ValueError) as e:
        raise ProtocolError(f"{path}: bad value: {e}") from None


# --------------------------------------------------------------------------- predictions


def format_prediction(prediction: np.ndarray) -> bytes:
    """The reference writer's bytes for a prediction: ``'{:g}'`` values joined by single
    spaces, one line per row, no trailing space (a 1-D array is one value per line).

    ``'%g'`` and ``'{:g}'`` print floats identically (``nan``, ``inf`` included);
    :func:`autodl.gformat.format_g` produces that text for the whole array at once.
    """
    import numpy as np

    from autodl.gformat import format_g

    arr = np.asarray(prediction, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"a prediction must be 2-D (num_test, output_dim), got shape {arr.shape}")
    if arr.shape[0] == 0:
        return b""
    return format_g(arr)


def write_prediction(
    output_dir: str | os.PathLike[str], task_name: str, k: int, prediction: np.ndarray
) -> Path:
    """Write ``<task>.predict_<k>`` atomically (temporary name, then rename)."""
    path = Path(output_dir) / prediction_name(task_name, k)
    atomic_write(path, format_prediction(prediction))
    return path


def scan_predictions(
    prediction_dir: str | os.PathLike[str],
) -> tuple[list[tuple[str, int, Path]], list[tuple[Path, str]]]:
    """The prediction files of a folder: ``(found, odd)``.

    ``found`` is every regular file named exactly ``<task>.predict_<k>`` as
    :func:`~autodl.protocol.names.prediction_name` writes it, as ``(task, k, path)`` by k.
    ``odd`` is ``(path, why)`` for every other entry whose name parses as a prediction:
    a name with leading zeros (``predict_01`` would otherwise stand for prediction 1 beside
    ``predict_1``), a symbolic link (it could point at the solution), a FIFO, a directory
    or any other non-regular file. Neither list holds temporary files of atomic writes.
    """
    found, odd = [], []
    for entry in os.scandir(prediction_dir):
        if is_temporary(entry.name):
            continue
        parsed = parse_prediction_name(entry.name)
        if not parsed:
            continue
        path = Path(entry.path)
        canonical = prediction_name(*parsed)
        if entry.name != canonical:
            odd.append((path, f"not the name of a prediction file (that is {canonical})"))
            continue
        try:
            mode = entry.stat(follow_symlinks=False).st_mode
        except FileNotFoundError:
            continue  # removed since it was listed
        if not stat.S_ISREG(mode):
            odd.append((path, f"{file_kind(mode)}, not a regular file"))
            continue
        found.append((parsed[0], parsed[1], path))
    found.sort(key=lambda t: (t[1], t[0]))
    odd.sort()
    return found, odd


def list_predictions(prediction_dir: str | os.PathLike[str]) -> list[tuple[str, int, Path]]:
    """Every complete ``<task>.predict_<k>`` file of a folder as ``(task, k, path)``, by k.

    Only regular files with the canonical name count (see :func:`scan_predictions`).
    Temporary files of an atomic write are never listed, so a reader never sees a file
    that is still being written by a protocol-following producer.
    """
    return scan_predictions(prediction_dir)[0]


def read_matrix(
    path: str | os.PathLike[str],
    *,
    name: str = "file",
    limit: int | None = None,
    follow_symlinks: bool = True,
) -> np.ndarray:
    """Read a whitespace-separated text matrix (a prediction or a solution) as float64 2-D.

    The file is read with :func:`read_regular` (never blocking on a FIFO; at most
    ``limit`` bytes; a symbolic link refused unless ``follow_symlinks``). Raises
    :class:`ProtocolError` naming the file and line for ragged rows or non-numbers.
    """
    path = Path(path)
    try:
        text = read_regular(path, limit=limit, follow_symlinks=follow_symlinks)
    except (FileNotFoundError, NotADirectoryError):
        raise ProtocolError(f"{path}: {name} not found") from None
    return parse_matrix(text, path)


def parse_matrix(text: bytes, path: str | os.PathLike[str]) -> np.ndarray:
    """The matrix of a text file's bytes (see :func:`read_matrix`); ``path`` names it."""
    import numpy as np

    path = Path(path)
    if not text.strip():
        return np.zeros((0, 0), dtype=np.float64)
    try:
        # numpy's C text parser: the fast path for every well-formed file.
        return np.loadtxt(io.BytesIO(text), dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        pass
    # Slow path, only to name the first bad line (1-based, blank lines counted).
    width = None
    for i, line in enumerate(text.split(b"\n"), 1):
        tokens = line.split()
        if not tokens:
            continue
        for tok in tokens:
            try:
                float(tok)
            except ValueError:
                raise ProtocolError(
                    f"{path}: line {i}: {tok.decode(errors='replace')!r} is not a number"
                ) from None
        if width is None:
            width, first = len(tokens), i
        elif len(tokens) != width:
            raise ProtocolError(
                f"{path}: line {i} has {len(tokens)} values, line {first} has {width}"
            )
    raise ProtocolError(f"{path}: not a matrix of numbers")


# --------------------------------------------------------------------------- solutions


def find_solution(solution_dir: str | os.PathLike[str]) -> tuple[str, Path]:
    """The single ``*.solution`` file of a folder and its task name (name before the first dot)."""
    solution_dir = Path(solution_dir)
    if solution_dir.is_file() and solution_dir.name.endswith(".solution"):
        return solution_dir.name.split(".")[0], solution_dir
    if not solution_dir.is_dir():
        raise ProtocolError(f"{solution_dir}: solution folder not found")
    found = sorted(solution_dir.glob("*.solution"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise ProtocolError(
            f"{solution_dir}: expected exactly one *.solution file, found {len(found)} ({names})"
        )
    return found[0].name.split(".")[0], found[0]
