"""The files that ingestion and scoring exchange, read and written in one place.

An ingestion program writes into its output (prediction) folder:

- ``start.txt`` (YAML): ``ingestion_pid``, ``task_name``, ``time_budget``,
  ``start_time``, then one ``k: <epoch seconds>`` line per prediction;
- ``<task>.predict_<k>``: one text line per test example, ``output_dim`` numbers in
  ``'{:g}'`` format, each followed by a space (the 2019 writer's exact bytes);
- ``end.txt`` (YAML): ``ingestion_duration``, ``ingestion_success``, ``end_time``.

A scoring program reads those and writes ``scores.txt`` / ``scores.json``. Nothing
here imports ingestion or scoring code: any producer of these files is welcome.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    import numpy as np

START_FILE = "start.txt"
END_FILE = "end.txt"
_PREDICTION_RE = re.compile(r"^(?P<task>.+)\.predict_(?P<k>\d+)$")


class ProtocolError(ValueError):
    """A protocol file is missing or malformed; the message names the file."""


# --------------------------------------------------------------------------- atomic writes


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through: a temporary name in the same folder, renamed
    to ``path`` when the block ends without an exception and removed when it raises.

    Readers never see a half-written file: they see the old one or the new one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp makes the file 0600; protocol files are read by other users (a scorer).
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_file`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path) as f:
        f.write(data)


def is_temporary(name: str) -> bool:
    """True for the names :func:`atomic_write` uses while a file is being written."""
    return name.startswith(".") and name.endswith(".tmp")


# --------------------------------------------------------------------------- start.txt


@dataclass
class StartInfo:
    """The content of ``start.txt``: the run's identity and the prediction timestamps."""

    ingestion_pid: int
    task_name: str
    time_budget: float
    start_time: float
    timestamps: dict[int, float] = field(default_factory=dict)


def _fmt_number(x: float | int) -> str:
    # str() of a float is its shortest round-trip repr, as the reference writes it.
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
        f"time_budget: {_fmt_number(time_budget)}\n"
        f"start_time: {float(start_time)!r}\n"
    )
    atomic_write(path, text)
    return path


def append_prediction_time(output_dir: str | os.PathLike[str], k: int, timestamp: float) -> None:
    """Append ``k: <timestamp>`` to ``start.txt``, as the reference does after prediction k."""
    with open(Path(output_dir) / START_FILE, "a", encoding="utf-8") as f:
        f.write(f"{int(k)}: {float(timestamp)!r}\n")


def _parse_yaml_mapping(path: Path) -> dict[Any, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProtocolError(f"{path}: file not found") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProtocolError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected 'key: value' lines, got {type(data).__name__}")
    return data


def read_start(output_dir: str | os.PathLike[str]) -> StartInfo:
    """Read ``start.txt`` from a prediction folder.

    Raises :class:`ProtocolError` naming the file and field when it is missing or malformed.
    """
    path = Path(output_dir) / START_FILE
    data = _parse_yaml_mapping(path)
    try:
        info = StartInfo(
            ingestion_pid=int(data.get("ingestion_pid", -1)),
            task_name=str(data["task_name"]),
            time_budget=float(data["time_budget"]),
            start_time=float(data["start_time"]),
        )
    except KeyError as e:
        raise ProtocolError(f"{path}: missing field {e.args[0]!r}") from None
    except (TypeError, ValueError) as e:
        raise ProtocolError(f"{path}: bad value: {e}") from None
    for key, value in data.items():
        if isinstance(key, int) and not isinstance(key, bool):
            try:
                info.timestamps[key] = float(value)
            except (TypeError, ValueError):
                raise ProtocolError(f"{path}: timestamp of prediction {key} is {value!r}") from None
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
    data = _parse_yaml_mapping(path)
    try:
        return EndInfo(
            ingestion_duration=float(data.get("ingestion_duration", 0.0)),
            ingestion_success=int(data.get("ingestion_success", 0)),
            end_time=float(data.get("end_time", 0.0)),
        )
    except (TypeError, ValueError) as e:
        raise ProtocolError(f"{path}: bad value: {e}") from None


# --------------------------------------------------------------------------- predictions


def prediction_name(task_name: str, k: int) -> str:
    return f"{task_name}.predict_{int(k)}"


def format_prediction(prediction: np.ndarray) -> bytes:
    """The reference writer's bytes for a 2-D prediction: ``'{:g} '`` per value, a line per row.

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


def list_predictions(prediction_dir: str | os.PathLike[str]) -> list[tuple[str, int, Path]]:
    """Every complete ``<task>.predict_<k>`` file of a folder as ``(task, k, path)``, by k.

    Temporary files of an atomic write are never listed, so a reader never sees a file
    that is still being written by a protocol-following producer.
    """
    found = []
    for entry in os.scandir(prediction_dir):
        if not entry.is_file() or is_temporary(entry.name):
            continue
        m = _PREDICTION_RE.match(entry.name)
        if m:
            found.append((m["task"], int(m["k"]), Path(entry.path)))
    found.sort(key=lambda t: (t[1], t[0]))
    return found


def read_matrix(path: str | os.PathLike[str], *, name: str = "file") -> np.ndarray:
    """Read a whitespace-separated text matrix (a prediction or a solution) as float64 2-D.

    Raises :class:`ProtocolError` naming the file and line for ragged rows or non-numbers.
    """
    import numpy as np

    path = Path(path)
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ProtocolError(f"{path}: {name} not found") from None
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


# --------------------------------------------------------------------------- score files

SCORES_TXT = "scores.txt"
SCORES_JSON = "scores.json"
LEARNING_CURVE_JSON = "learning_curve.json"


def _fmt_score_value(x: float | int) -> str:
    # The 2019 program printed Python numbers with str(): floats as their shortest
    # round-trip repr, and the integer 0 for the score and duration of an empty curve.
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    return repr(float(x))


def _fmt_score_list(values: list[float] | tuple[float, ...]) -> str:
    return "[" + ", ".join(_fmt_score_value(v) for v in values) + "]"


def write_scores_txt(
    score_dir: str | os.PathLike[str],
    *,
    score: float | int,
    duration: float | int,
    timestamps: list[float] | tuple[float, ...],
    nauc_scores: list[float] | tuple[float, ...],
    accuracy: list[float] | tuple[float, ...] | None = None,
) -> Path:
    """Write ``scores.txt`` in the 2019 layout (atomically) and return its path.

    ``score: <ALC>``, ``Duration: <s>``, ``timestamps: [...]``, ``nauc_scores: [...]`` and,
    for multi-class tasks only (``accuracy`` not None), ``accuracy: [...]``. The lines are
    YAML, so CodaLab and Codabench both read them.
    """
    lines = [
        f"score: {_fmt_score_value(score)}",
        f"Duration: {_fmt_score_value(duration)}",
        f"timestamps: {_fmt_score_list(timestamps)}",
        f"nauc_scores: {_fmt_score_list(nauc_scores)}",
    ]
    if accuracy is not None:
        lines.append(f"accuracy: {_fmt_score_list(accuracy)}")
    path = Path(score_dir) / SCORES_TXT
    atomic_write(path, "\n".join(lines) + "\n")
    return path


def _json_ready(value: Any) -> Any:
    # JSON has no NaN/Infinity: a platform's parser would choke, so they become null.
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


def _write_json(path: Path, data: dict[str, Any]) -> Path:
    import json

    atomic_write(path, json.dumps(_json_ready(data), indent=2, allow_nan=False) + "\n")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProtocolError(f"{path}: file not found") from None
    except ValueError as e:
        raise ProtocolError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def write_scores_json(score_dir: str | os.PathLike[str], scores: dict[str, Any]) -> Path:
    """Write ``scores.json`` (flat JSON object, atomically; NaN written as null).

    Keys written by ``autodl score``: ``score`` (= ``alc``), ``alc``, ``duration``, ``nauc``
    and ``accuracy`` (of the last prediction; accuracy null unless multi-class),
    ``num_predictions``, ``status``, ``error`` and the others listed in docs/scoring.md.
    """
    return _write_json(Path(score_dir) / SCORES_JSON, dict(scores))


def read_scores(score_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The scores of a score folder: ``scores.json``, else ``scores.txt`` (e.g. from the 2019
    program) read as YAML with ``Duration`` also given as ``duration``.

    Raises :class:`ProtocolError` when neither file exists or the one found is malformed.
    """
    score_dir = Path(score_dir)
    json_path = score_dir / SCORES_JSON
    if json_path.exists():
        return _read_json(json_path)
    txt_path = score_dir / SCORES_TXT
    if not txt_path.exists():
        raise ProtocolError(f"{score_dir}: neither {SCORES_JSON} nor {SCORES_TXT} found")
    data = {str(k): v for k, v in _parse_yaml_mapping(txt_path).items()}
    if "Duration" in data and "duration" not in data:
        data["duration"] = data["Duration"]
    if "score" not in data:
        raise ProtocolError(f"{txt_path}: missing field 'score'")
    return data


def write_learning_curve(score_dir: str | os.PathLike[str], record: dict[str, Any]) -> Path:
    """Write ``learning_curve.json``: ``task``, ``time_budget``, ``t0``, ``timestamps``
    (seconds since start, the points on the curve in time order), ``nauc``, ``accuracy``
    (list or null) and ``alc``."""
    return _write_json(Path(score_dir) / LEARNING_CURVE_JSON, dict(record))


def read_learning_curve(score_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read ``learning_curve.json`` and check its fields; raises :class:`ProtocolError`."""
    path = Path(score_dir) / LEARNING_CURVE_JSON
    data = _read_json(path)
    for key in ("time_budget", "timestamps", "nauc"):
        if key not in data:
            raise ProtocolError(f"{path}: missing field {key!r}")
    if len(data["timestamps"]) != len(data["nauc"]):
        raise ProtocolError(
            f"{path}: {len(data['timestamps'])} timestamps but {len(data['nauc'])} nauc scores"
        )
    return data
