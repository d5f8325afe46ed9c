"""Matrix (AutoML challenge) format: one text matrix per split.

    iris-AutoML/
      iris_train.data  iris_train.solution     required
      iris_valid.data  iris_valid.solution     optional (merged into train when labelled)
      iris_test.data   iris_test.solution      optional (the test split when labelled)
      iris_feat.name   iris_label.name         optional column and class names
      iris_private.info                        optional "key = 'value';  % comment" lines

A ``.data`` line is either dense (space-separated numbers) or sparse (``index:value``
pairs, 1-based indices, as in the AutoML challenge). A ``.solution`` line is one-hot /
multi-label scores (one column per class), or a single column: class indices, or 0/1 for a
binary task (written as two columns, "not 1" then "1").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autodl.data.formats._base import (
    FormatError,
    RawTask,
    Split,
    parse_info,
    read_names,
    read_solution,
    where,
)


def detect(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*_train.data"))


def find_name(folder: Path) -> str:
    found = sorted(p.name[: -len("_train.data")] for p in folder.glob("*_train.data"))
    if not found:
        raise FormatError(f"{folder}: no <name>_train.data file (matrix format)")
    if len(found) > 1:
        raise FormatError(f"{folder}: several datasets ({', '.join(found)}); pass one folder each")
    return found[0]


def read(source: Path, name: str | None = None) -> RawTask:
    source = Path(source)
    base = find_name(source)
    feature_names = read_names(source / f"{base}_feat.name")
    label_names = read_names(source / f"{base}_label.name")
    splits: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
    num_features = len(feature_names) if feature_names else None
    for split in ("train", "valid", "test"):
        data_path = source / f"{base}_{split}.data"
        sol_path = source / f"{base}_{split}.solution"
        if not data_path.is_file() or data_path.stat().st_size == 0:
            splits[split] = None
            continue
        x, sparse = read_data(data_path, num_features)
        num_features = num_features or x.shape[1]
        if not sol_path.is_file() or sol_path.stat().st_size == 0:
            if split == "train":
                raise FormatError(f"{sol_path}: missing (the training labels)")
            splits[split] = None  # unlabelled split: of no use for a scored task
            continue
        num_classes = len(label_names) if label_names else None
        y = read_solution(sol_path, num_classes, len(x), f"examples in {data_path.name}")
        splits[split] = (x, y)
    train = splits["train"]
    assert train is not None
    widths = {v[1].shape[1] for v in splits.values() if v is not None}
    if len(widths) > 1:
        raise FormatError(f"{source}: the .solution files disagree on the number of classes")
    if splits["valid"] is not None:
        train = (
            np.vstack([train[0], splits["valid"][0]]),
            np.vstack([train[1], splits["valid"][1]]),
        )
    n_features = train[0].shape[1]
    if feature_names is not None and len(feature_names) != n_features:
        raise FormatError(
            f"{source / f'{base}_feat.name'}: {len(feature_names)} names for {n_features} columns"
        )

    def to_split(xy: tuple[np.ndarray, np.ndarray]) -> Split:
        x, y = xy
        return Split([row.reshape(1, 1, n_features, 1) for row in x], y)

    test = splits["test"]
    return RawTask(
        name=name or base,
        kind="dense",
        domain="tabular",
        train=to_split(train),
        test=to_split(test) if test is not None else None,
        shape=(1, 1, n_features, 1),
        label_names=label_names,
        feature_names=feature_names,
        private_info=parse_info(source / f"{base}_private.info"),
    )


def read_data(path: Path, num_features: int | None = None) -> tuple[np.ndarray, bool]:
    """A dense or sparse (``i:v``, 1-based) matrix file -> (float32 array, was_sparse)."""
    rows: list[list[float] | dict[int, float]] = []
    sparse = None
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        is_sparse = ":" in tokens[0]
        if sparse is None:
            sparse = is_sparse
        try:
            if sparse:
                entries = {}
                for tok in tokens:
                    i, v = tok.split(":")
                    if int(i) < 1:
                        raise ValueError(f"index {i} (indices start at 1)")
                    entries[int(i) - 1] = float(v)
                rows.append(entries)
            else:
                rows.append([float(t) for t in tokens])
        except ValueError as exc:
            raise FormatError(f"{where(path, line_no)}: not a number ({exc})") from None
    if not rows:
        raise FormatError(f"{path}: no examples")
    if sparse:
        width = num_features or 1 + max((max(r) for r in rows if r), default=0)
        x = np.zeros((len(rows), width), dtype=np.float32)
        for i, r in enumerate(rows):
            for j, v in r.items():
                if j >= width:
                    raise FormatError(f"{where(path, i + 1)}: column {j + 1} beyond {width}")
                x[i, j] = v
        return x, True
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise FormatError(f"{where(path, i + 1)}: {len(r)} values, expected {width}")
    return np.asarray(rows, dtype=np.float32), False
