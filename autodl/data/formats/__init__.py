"""Contributor formats -> AutoDL task folders.

>>> from autodl.data.formats import convert
>>> convert("../shared/data/raw/mini-cifar", "out/")          # doctest: +SKIP
PosixPath('out/mini-cifar')

One module per format reads a source into a `RawTask` (`files`, `matrix`, `nlp`,
`arrays`); `detect` picks the format, `read` reads, `convert` reads, makes a seeded
stratified test split when the source has none, and writes through
`autodl.data.write_task` (written aside, then renamed).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from autodl.data.formats._base import FormatError, RawTask, Split, split_task

__all__ = ["FORMATS", "FormatError", "RawTask", "Split", "convert", "detect", "read"]


def _files(path: Path, **kw: Any) -> RawTask:
    from autodl.data.formats import files

    return files.read(path, **kw)


def _matrix(path: Path, **kw: Any) -> RawTask:
    from autodl.data.formats import matrix

    return matrix.read(path, **kw)


def _nlp(path: Path, **kw: Any) -> RawTask:
    from autodl.data.formats import nlp

    return nlp.read(path, **kw)


def _numpy(path: Path, **kw: Any) -> RawTask:
    from autodl.data.formats import arrays

    return arrays.read_numpy(path, **kw)


def _csv(path: Path, **kw: Any) -> RawTask:
    from autodl.data.formats import arrays

    return arrays.read_csv(path, **kw)


def _detector(module: str, func: str = "detect") -> Callable[[Path], bool]:
    def detect(path: Path) -> bool:
        import importlib

        return getattr(importlib.import_module(f"autodl.data.formats.{module}"), func)(path)

    return detect


# name -> (detector, reader, the reader's options); detection tries them in this order.
FORMATS: dict[str, tuple[Callable[[Path], bool], Callable[..., RawTask], tuple[str, ...]]] = {
    "nlp": (_detector("nlp"), _nlp, ("language",)),
    "matrix": (_detector("matrix"), _matrix, ()),
    "files": (
        _detector("files"),
        _files,
        ("frame_step", "max_frames", "video_quality", "sample_rate", "language"),
    ),
    "numpy": (_detector("arrays", "detect_numpy"), _numpy, ("domain",)),
    "csv": (_detector("arrays", "detect_csv"), _csv, ("label_column",)),
}


def detect(source: str | Path) -> str:
    """The name of the contributor format of ``source`` (a key of FORMATS)."""
    source = Path(source)
    if not source.exists():
        raise FormatError(f"{source}: no such file or folder")
    for name, (is_format, _, _) in FORMATS.items():
        if is_format(source):
            return name
    if any(source.glob("*.data/*/metadata.textproto")) or (source / "metadata.textproto").exists():
        raise FormatError(f"{source}: already an AutoDL task (nothing to convert)")
    if source.is_dir():
        raise FormatError(
            f"{source}: not a known format: expected labels.csv (file format), "
            "<name>_train.data (matrix), <name>.data/meta.json (AutoNLP), .npy files, "
            "or pass a .npz or .csv file"
        )
    raise FormatError(f"{source}: not a known format (expected a folder, a .npz or a .csv)")


def read(source: str | Path, format: str | None = None, **options: Any) -> RawTask:
    """Read ``source`` into a RawTask; options a format does not take are ignored if None."""
    source = Path(source)
    fmt = format or detect(source)
    if fmt not in FORMATS:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    _, reader, accepted = FORMATS[fmt]
    extra = sorted(k for k, v in options.items() if v is not None and k not in accepted + ("name",))
    if extra:
        raise FormatError(f"{source}: option(s) {', '.join(extra)} do not apply to format {fmt!r}")
    return reader(source, **{k: v for k, v in options.items() if v is not None})


def convert(
    source: str | Path,
    out_dir: str | Path,
    *,
    name: str | None = None,
    format: str | None = None,
    test_size: float = 0.2,
    seed: int = 0,
    overwrite: bool = False,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> Path:
    """Convert a contributor-format source into the task folder ``out_dir/<name>``.

    When the source has no labelled test split, ``test_size`` of the examples (a fraction,
    or a count when an int) are held out, stratified on the label, with ``seed``.
    Returns the task folder. Raises FormatError for bad input; nothing is left behind.
    """
    from autodl.data.formats._write import write

    task = read(source, format, name=name, **options)
    target = Path(out_dir) / task.name
    if target.exists() and not overwrite:  # before the split and the (slow) write
        raise FileExistsError(f"{target} exists")
    if task.test is None:
        train, test, stratified = split_task(task, test_size, seed)
        task.train, task.test = train, test
        task.notes.append(
            f"no test split in the source: held out {len(test)} of {len(train) + len(test)} "
            f"examples ({'stratified' if stratified else 'shuffled, too few per class to stratify'}"
            f", seed {seed})"
        )
    for note in task.notes:
        if log:
            log(note)
    return write(task, Path(out_dir), overwrite=overwrite)
