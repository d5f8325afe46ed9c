"""What every contributor format turns into: a `RawTask` of arrays, bytes and labels.

A format module reads its source into a `RawTask` (examples in one of three storage kinds,
labels as a float32 matrix, names and vocabularies) and `autodl.data.formats.convert`
hands it to the one writer (`autodl.data.write_task`). Nothing here writes files.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np

from autodl.data.domain import DOMAINS  # noqa: F401 - the formats import it from here
from autodl.data.errors import DataError

# How examples are held in a RawTask (and so how they are written):
#   "dense":      float32 arrays of shape (T, R, C, Ch)
#   "compressed": lists of encoded frames (PNG/JPEG bytes), one per time step
#   "sparse":     int64 token ids (text; channel_to_index_map holds the vocabulary)
Kind = Literal["dense", "compressed", "sparse"]

T = TypeVar("T")


class FormatError(DataError):
    """A source that cannot be converted; the message names the file (and line)."""

    def __init__(self, message: str, path: os.PathLike[str] | str | None = None):
        # the message already starts with "file:line"; ``path`` is the file at fault
        ValueError.__init__(self, message)
        self.path = None if path is None else os.fspath(path)
        self.record, self.reason = None, message


def where(path: os.PathLike[str] | str, line: int | None = None) -> str:
    """``file`` or ``file:line``, the prefix of every FormatError message."""
    return f"{path}:{line}" if line is not None else str(path)


@dataclass
class Split:
    """Examples and their label matrix (float32, shape (n, output_dim))."""

    examples: list[Any]
    labels: np.ndarray
    names: list[str] | None = None  # where each example came from (file name, line)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.float32)
        if self.labels.ndim != 2 or len(self.labels) != len(self.examples):
            raise ValueError(
                f"labels of shape {self.labels.shape} do not match {len(self.examples)} examples"
            )

    def __len__(self) -> int:
        return len(self.examples)

    def take(self, index: Sequence[int]) -> Split:
        names = [self.names[i] for i in index] if self.names is not None else None
        return Split([self.examples[i] for i in index], self.labels[np.asarray(index, int)], names)


@dataclass
class RawTask:
    """A source read into memory, ready for `write_task`.

    ``test`` is None when the source has no held-out split; `split_task` then makes one.
    ``shape`` is the (T, R, C, Ch) of the matrix spec, -1 where it varies between examples.
    """

    name: str
    kind: Kind
    domain: str
    train: Split
    test: Split | None
    shape: tuple[int, int, int, int]
    label_names: list[str] | None = None
    feature_names: list[str] | None = None
    vocabulary: dict[str, int] | None = None
    info: dict[str, str] = field(default_factory=dict)  # goes into <name>_public.info
    private_info: dict[str, str] = field(default_factory=dict)  # the source's, not written
    notes: list[str] = field(default_factory=list)  # what the converter decided, for the user

    @property
    def output_dim(self) -> int:
        return int(self.train.labels.shape[1])


def one_hot(indices: Sequence[int], num_classes: int) -> np.ndarray:
    out = np.zeros((len(indices), num_classes), dtype=np.float32)
    out[np.arange(len(indices)), np.asarray(indices, dtype=np.int64)] = 1.0
    return out


def read_solution(
    path: Path,
    num_classes: int | None = None,
    expected: int | None = None,
    what: str = "examples",
) -> np.ndarray:
    """A ``.solution`` file (AutoML, AutoNLP) -> ``(n, num_classes)`` float32 label rows.

    Each non-blank line is one score per class (one-hot, multi-label or soft), or a
    single class index (when ``num_classes`` is not 1). ``num_classes=None`` takes it from
    the file: the width of its rows, or for single indices the largest + 1, at least 2 (a
    0/1 column is a binary task, written as two columns "not 1" and "1"). ``expected``:
    the number of rows there must be (``what`` names them in the error). Every error
    names the file and line.
    """
    if not path.is_file():
        raise FormatError(f"{path}: missing", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path}: not UTF-8 text ({exc})", path) from None
    lines = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            lines.append((line_no, [float(v) for v in line.split()]))
        except ValueError:
            raise FormatError(f"{where(path, line_no)}: not numbers: {line[:40]!r}") from None
    if num_classes is None and lines:
        widths = {len(values) for _, values in lines}
        if widths == {1}:
            top = max(values[0] for _, values in lines)
            num_classes = max(int(top) + 1 if top == int(top) else 0, 2)
        else:
            num_classes = len(lines[0][1])
    rows = np.zeros((len(lines), num_classes or 0), dtype=np.float32)
    for row, (line_no, values) in enumerate(lines):
        if len(values) == 1 and num_classes != 1:
            k = int(values[0])
            if k != values[0] or not 0 <= k < num_classes:  # type: ignore[operator]
                raise FormatError(
                    f"{where(path, line_no)}: label {values[0]:g} is not a class index "
                    f"0..{num_classes - 1}"  # type: ignore[operator]
                )
            rows[row, k] = 1.0
        elif len(values) == num_classes:
            rows[row] = values
        else:
            raise FormatError(
                f"{where(path, line_no)}: {len(values)} values, expected {num_classes} "
                "(one score per class) or 1 (a class index)"
            )
    if expected is not None and len(rows) != expected:
        raise FormatError(f"{path}: {len(rows)} label lines for {expected} {what}")
    return rows


def split_task(task: RawTask, test_size: float = 0.2, seed: int = 0) -> tuple[Split, Split, bool]:
    """Seeded, shuffled train/test split of ``task.train``, stratified on the label if it can be.

    ``test_size`` below 1 is a fraction of the examples, from 1 up a count.
    Returns (train, test, stratified). Stratification needs every class to have two
    examples and the test part to hold one of each; otherwise the split is only shuffled.
    """
    from sklearn.model_selection import train_test_split

    n = len(task.train)
    if n < 2:
        raise FormatError(f"{task.name}: {n} example(s) cannot be split into train and test")
    index = np.arange(n)
    # multi-label: stratify on the label with the largest score, the usual proxy.
    strata = task.train.labels.argmax(axis=1)
    counts = np.bincount(strata)
    if test_size <= 0:
        raise FormatError(f"{task.name}: test_size must be positive, not {test_size}")
    # below 1: a fraction of the examples; from 1 up: a count
    n_test = int(np.ceil(test_size * n)) if test_size < 1 else int(test_size)
    n_test = min(max(n_test, 1), n - 1)
    present = counts[counts > 0]
    stratify = strata if present.min() >= 2 and n_test >= len(present) else None
    train_i, test_i = train_test_split(
        index, test_size=n_test, random_state=seed, shuffle=True, stratify=stratify
    )
    # keep the shuffled order: sources often list examples class by class, and a model
    # reading the first examples of a split should see every class
    return task.train.take(train_i), task.train.take(test_i), stratify is not None


def parse_info(path: Path) -> dict[str, str]:
    """``key : 'value'`` (file format) or ``key = 'value';  % comment`` (AutoML) lines."""
    info: dict[str, str] = {}
    if not path.is_file():
        return info
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = _strip_comment(line).strip()
        m = re.match(r"^([A-Za-z_][\w.]*)\s*[:=]\s*(.*?);?\s*$", line)
        if not m:
            continue
        value = m.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1].replace(value[0] * 2, value[0])
        info[m.group(1)] = value
    return info


def _strip_comment(line: str) -> str:
    # a '%' outside quotes starts a comment (MATLAB-style info files)
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "%":
            return line[:i]
    return line


def read_names(path: Path) -> list[str] | None:
    """One name per line (label.name, feat.name); None when the file is absent."""
    if not path.is_file():
        return None
    names = path.read_text(encoding="utf-8").splitlines()
    while names and not names[-1].strip():
        names.pop()
    return [n.strip() for n in names]


def progress(items: Iterable[T], total: int, desc: str, stream=None) -> Iterator[T]:
    """Yield ``items``, drawing a one-line counter on a TTY; silent otherwise."""
    stream = stream if stream is not None else sys.stderr
    show = total > 1 and hasattr(stream, "isatty") and stream.isatty()
    step = max(1, total // 100)
    for i, item in enumerate(items):
        if show and i % step == 0:
            stream.write(f"\r{desc}: {i}/{total} ({100 * i // total}%)")
            stream.flush()
        yield item
    if show:
        stream.write(f"\r{desc}: {total}/{total} (100%)\n")
        stream.flush()
