"""Writing files so that readers never see half of one, and the JSON and YAML readers
every protocol file goes through (one error type, naming the file)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO


class ProtocolError(ValueError):
    """A protocol file is missing or malformed; the message names the file."""


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through: a temporary name in the same folder, renamed
    to ``path`` when the block ends without an exception and removed when it raises.

    Readers never see a half-written file: they see the old one or the new one.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "a.txt") as f:
    ...     _ = f.write(b"whole")
    >>> (folder / "a.txt").read_bytes(), [p.name for p in folder.iterdir()]
    (b'whole', ['a.txt'])
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


def atomic_write(path: str | os.PathLike[str], data: bytes | str, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through :func:`atomic_file`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_file(path, mode) as f:
        f.write(data)


def is_temporary(name: str) -> bool:
    """True for the names :func:`atomic_write` uses while a file is being written.

    >>> is_temporary(".scores.json.x1y2.tmp"), is_temporary("scores.json")
    (True, False)
    """
    return name.startswith(".") and name.endswith(".tmp")


def json_ready(value: Any) -> Any:
    """``value`` with NaN and infinities as None: JSON has neither, and a platform's
    parser would choke on Python's ``NaN``.

    >>> json_ready({"a": float("nan"), "b": [1.0, float("inf")]})
    {'a': None, 'b': [1.0, None]}
    """
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


def write_json(path: str | os.PathLike[str], data: dict[str, Any], mode: int = 0o644) -> Path:
    """Write a JSON object atomically, indented, NaN written as null."""
    path = Path(path)
    atomic_write(path, json.dumps(json_ready(data), indent=2, allow_nan=False) + "\n", mode)
    return path


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A JSON object from a file; :class:`ProtocolError` naming the file otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        raise ProtocolError(f"{path}: file not found") from None
    except (OSError, ValueError, RecursionError) as e:
        raise ProtocolError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def read_yaml_mapping(path: str | os.PathLike[str]) -> dict[Any, Any]:
    """The ``key: value`` lines of a protocol file (start.txt, end.txt, scores.txt)."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        raise ProtocolError(f"{path}: file not found") from None
    except UnicodeDecodeError as e:
        raise ProtocolError(f"{path}: not UTF-8 text: {e}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ProtocolError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"{path}: expected 'key: value' lines, got {type(data).__name__}")
    return data
