"""Where a task's parts are: ``find_task`` on a task folder, a ``<name>.data`` folder or a split.

A task folder (what ingestion gets as ``dataset_dir``) holds exactly one ``<name>.data``
folder with ``train/`` and ``test/`` splits, and beside it, when present,
``<name>.solution``, ``<name>_public.info`` and ``<name>_label.name``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import TaskError
from .metadata import METADATA_FILE

__all__ = ["Task", "find_task", "split_files", "is_split_dir"]

_TFRECORD_SUFFIXES = (".tfrecord", ".tfrecords")


@dataclass(frozen=True)
class Task:
    """One task on disk. ``data_dir`` is None for a bare split folder (no ``.data`` parent)."""

    name: str
    root: Path
    data_dir: Path | None
    train_dir: Path | None
    test_dir: Path | None
    solution_path: Path | None

    @property
    def public_info_path(self) -> Path | None:
        p = self.root / f"{self.name}_public.info"
        return p if p.is_file() else None

    @property
    def label_name_path(self) -> Path | None:
        p = self.root / f"{self.name}_label.name"
        return p if p.is_file() else None

    def split_dir(self, split: str) -> Path:
        d = {"train": self.train_dir, "test": self.test_dir}.get(split, ...)
        if d is ...:
            raise TaskError(self.root, f"unknown split {split!r} (train or test)")
        if d is None:
            raise TaskError(self.root, f"task {self.name!r} has no {split!r} split")
        return d


def is_split_dir(path: Path) -> bool:
    return (path / METADATA_FILE).is_file()


def split_files(split_dir: str | os.PathLike[str]) -> list[Path]:
    """The TFRecord shards of a split folder, sorted by name.

    Every ``*.tfrecord``/``*.tfrecords`` file counts, and so does every ``sample*`` file
    (the reference's glob), so both naming schemes of real datasets are read.
    """
    split_dir = Path(split_dir)
    files = [
        p
        for p in split_dir.iterdir()
        if p.is_file()
        and not p.name.startswith(".")
        and (p.name.endswith(_TFRECORD_SUFFIXES) or p.name.startswith("sample"))
    ]
    return sorted(files, key=lambda p: p.name)


def _task_from_data_dir(data_dir: Path) -> Task:
    name = data_dir.name[: -len(".data")]
    root = data_dir.parent
    train = data_dir / "train"
    test = data_dir / "test"
    solution = root / f"{name}.solution"
    return Task(
        name=name,
        root=root,
        data_dir=data_dir,
        train_dir=train if is_split_dir(train) else None,
        test_dir=test if is_split_dir(test) else None,
        solution_path=solution if solution.is_file() else None,
    )


def find_task(path: str | os.PathLike[str]) -> Task:
    """The task that ``path`` is, or is part of.

    ``path`` may be a task folder (one ``*.data`` folder inside), a ``<name>.data``
    folder, one of its split folders, or a bare split folder (``metadata.textproto`` and
    TFRecords, no ``.data`` parent: a task named after the folder with only a train split).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise TaskError(path, "no such file or folder")
    if not path.is_dir():
        raise TaskError(path, "not a folder")
    path = path.resolve()
    if path.name.endswith(".data"):
        return _task_from_data_dir(path)
    if is_split_dir(path):
        if path.parent.name.endswith(".data"):
            return _task_from_data_dir(path.parent)
        return Task(path.name, path, None, path, None, None)
    data_dirs = sorted(p for p in path.glob("*.data") if p.is_dir())
    if len(data_dirs) == 1:
        return _task_from_data_dir(data_dirs[0])
    if len(data_dirs) > 1:
        names = ", ".join(p.name for p in data_dirs)
        raise TaskError(path, f"more than one *.data folder ({names}); pass one of them")
    raise TaskError(
        path,
        f"not an AutoDL task: no *.data folder and no {METADATA_FILE} found (a folder of "
        "images, CSV or other files becomes one with `autodl format`: autodl format --help)",
    )
