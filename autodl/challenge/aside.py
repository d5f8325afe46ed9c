"""A run folder written aside and swapped in when the run starts.

A new run is prepared in a hidden sibling of its folder (``.<name>.new-XXXX``); only when
it is ready to start does it take the folder's place, and only then is the earlier run
removed. Whatever fails before that (an unusable dataset or submission, no Docker
engine, no sandbox) leaves the earlier run as it was.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> (root / "run").mkdir(); _ = (root / "run" / "old.txt").write_text("earlier run")
>>> new = make_aside(root / "run")
>>> _ = (new / "new.txt").write_text("this run")
>>> sorted(p.name for p in (root / "run").iterdir())  # untouched until the swap
['old.txt']
>>> swap_in(new, root / "run")
>>> sorted(p.name for p in root.iterdir()), sorted(p.name for p in (root / "run").iterdir())
(['run'], ['new.txt'])
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from autodl.protocol import RESULT_FILE


def _prefix(run_dir: Path) -> str:
    return f".{run_dir.name}."


def make_aside(run_dir: str | os.PathLike[str]) -> Path:
    """A fresh, empty sibling of ``run_dir`` to prepare the next run in.

    Raises :class:`OSError` when the parent cannot be written (the caller names it).
    """
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(run_dir)
    while True:  # mkdir, not mkdtemp: the folder gets the umask's mode, as any run folder
        aside = run_dir.parent / f"{_prefix(run_dir)}new-{secrets.token_hex(4)}"
        try:
            aside.mkdir()
            return aside
        except FileExistsError:
            continue


def swap_in(aside: str | os.PathLike[str], run_dir: str | os.PathLike[str]) -> None:
    """Put ``aside`` in the place of ``run_dir``, then remove the run that was there.

    The earlier run's ``result.json`` goes first, so that a crash before its folder is
    gone never leaves a hidden copy that looks finished.
    """
    aside, run_dir = Path(aside), Path(run_dir)
    old = None
    if run_dir.exists() or run_dir.is_symlink():
        old = run_dir.parent / f"{_prefix(run_dir)}old-{secrets.token_hex(4)}"
        os.rename(run_dir, old)
    try:
        os.rename(aside, run_dir)
    except OSError:
        if old is not None:
            os.rename(old, run_dir)  # put the earlier run back
        raise
    if old is not None:
        _discard(old)


def discard(aside: str | os.PathLike[str]) -> None:
    """Remove a prepared run that will not start."""
    _discard(Path(aside))


def _discard(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        (path / RESULT_FILE).unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _remove_leftovers(run_dir: Path) -> None:
    """Folders an earlier process left aside when it was killed mid-way."""
    try:
        entries = list(run_dir.parent.iterdir())
    except OSError:
        return
    # Exactly our names: another run's folder may begin with this one's name.
    ours = re.compile(re.escape(_prefix(run_dir)) + r"(new|old)-[0-9a-f]{8}")
    for p in entries:
        if ours.fullmatch(p.name):
            _discard(p)
