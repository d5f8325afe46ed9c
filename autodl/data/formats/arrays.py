"""NumPy (.npz, or a folder of .npy) and CSV tables.

NumPy: arrays named ``x_train``, ``y_train`` and optionally ``x_test``, ``y_test`` (or
``x``/``X`` and ``y`` with no split). The shape of x says the domain: (N, F) tabular,
(N, H, W) or (N, H, W, C) image, (N, T, H, W, C) video; ``domain="speech"`` reads (N, T)
as waveforms. uint8 pixels are scaled to [0, 1]. y holds class indices (N,), class names
(N,) or a label matrix (N, output_dim).

CSV: a header row, one example a row, numeric feature columns and one label column
(``label_column``, else the first named label/labels/target/class/y, else the only
non-numeric column, else the last).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from autodl.data.formats._base import FormatError, RawTask, Split, one_hot, where

LABEL_COLUMN_NAMES = ("label", "labels", "target", "class", "y")


def detect_numpy(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() == ".npz"
    return path.is_dir() and bool(_npy_files(path)) and not any(path.glob("*.csv"))


def detect_csv(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".csv"


def _npy_files(folder: Path) -> dict[str, Path]:
    return {p.stem.lower(): p for p in sorted(folder.glob("*.npy"))}


def read_numpy(
    source: Path,
    name: str | None = None,
    label_names: list[str] | None = None,
    domain: str | None = None,
) -> RawTask:
    source = Path(source)
    arrays: dict[str, np.ndarray] = {}
    try:
        if source.is_file():
            with np.load(source, allow_pickle=False) as npz:
                arrays = {k.lower(): npz[k] for k in npz.files}
        else:
            arrays = {k: np.load(p, allow_pickle=False) for k, p in _npy_files(source).items()}
    except (OSError, ValueError) as exc:
        raise FormatError(f"{source}: not readable NumPy data ({exc})") from None
    if "x_train" in arrays:
        x_key, y_key = "x_train", "y_train"
    elif "x" in arrays:
        x_key, y_key = "x", "y"
    else:
        raise FormatError(f"{source}: no x_train (or x) array; found {', '.join(arrays) or 'none'}")
    if y_key not in arrays:
        raise FormatError(f"{source}: no {y_key} array beside {x_key}")
    has_test = x_key == "x_train" and "x_test" in arrays
    if x_key == "x_train" and ("x_test" in arrays) != ("y_test" in arrays):
        raise FormatError(f"{source}: x_test and y_test go together")

    ys = [arrays[y_key]] + ([arrays["y_test"]] if has_test else [])
    labels, label_names = _labels(ys, label_names, source)
    xs = [arrays[x_key]] + ([arrays["x_test"]] if has_test else [])
    for x, y, key in zip(xs, labels, (x_key, "x_test"), strict=False):
        if len(x) != len(y):
            raise FormatError(f"{source}: {key} has {len(x)} examples but its labels {len(y)}")
    shape, dom = _layout(xs[0].shape, domain, source)
    if has_test and xs[1].shape[1:] != xs[0].shape[1:]:
        raise FormatError(f"{source}: x_test's shape {xs[1].shape} does not match x_train's")
    splits = [Split(list(_to_dense(x, shape)), y) for x, y in zip(xs, labels, strict=False)]
    return RawTask(
        name=name or source.stem,
        kind="dense",
        domain=dom,
        train=splits[0],
        test=splits[1] if has_test else None,
        shape=shape,
        label_names=label_names,
    )


def _layout(shape: tuple[int, ...], domain: str | None, source: Path):
    dims = shape[1:]
    if len(dims) == 1:
        if domain == "speech":
            return (dims[0], 1, 1, 1), "speech"
        return (1, 1, dims[0], 1), domain or "tabular"
    if len(dims) == 2:
        return (1, dims[0], dims[1], 1), domain or "image"
    if len(dims) == 3:
        return (1, *dims), domain or "image"
    if len(dims) == 4:
        return tuple(dims), domain or "video"
    raise FormatError(f"{source}: x of shape {shape} (expected 2 to 5 dimensions)")


def _to_dense(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / np.float32(255.0)
    return np.asarray(x, dtype=np.float32).reshape((len(x), *shape))


def _labels(
    ys: list[np.ndarray], label_names: list[str] | None, source: Path
) -> tuple[list[np.ndarray], list[str] | None]:
    if all(y.ndim == 2 for y in ys):
        widths = {y.shape[1] for y in ys}
        if len(widths) > 1:
            raise FormatError(f"{source}: y_train and y_test have different widths")
        return [y.astype(np.float32) for y in ys], label_names
    if any(y.ndim != 1 for y in ys):
        raise FormatError(f"{source}: y must be 1-D (classes) or 2-D (label matrix)")
    if all(np.issubdtype(y.dtype, np.integer) for y in ys):
        top = max(int(y.max()) for y in ys)
        if min(int(y.min()) for y in ys) < 0:
            raise FormatError(f"{source}: negative class index in y")
        num_classes = len(label_names) if label_names else top + 1
        if top >= num_classes:
            raise FormatError(f"{source}: class {top} is outside the {num_classes} label names")
        return [one_hot(y, num_classes) for y in ys], label_names
    names = sorted({str(v) for y in ys for v in y})
    index = {n: i for i, n in enumerate(names)}
    return [one_hot([index[str(v)] for v in y], len(names)) for y in ys], names


def _label_column(header: list[str], rows: list[list[str]]) -> int:
    """A column named like a label, else the only non-numeric column, else the last."""
    lowered = [h.lower() for h in header]
    for name in LABEL_COLUMN_NAMES:
        if name in lowered:
            return lowered.index(name)
    text = set()
    for row in rows[:1000]:
        for j, cell in enumerate(row[: len(header)]):
            try:
                float(cell)
            except ValueError:
                text.add(j)
    return text.pop() if len(text) == 1 else len(header) - 1


def read_csv(source: Path, name: str | None = None, label_column: str | None = None) -> RawTask:
    source = Path(source)
    with open(source, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        if len(header) < 2:
            raise FormatError(f"{where(source, 1)}: expected a header with features and a label")
        rows = []
        for row in reader:
            if row and "".join(row).strip():
                rows.append((reader.line_num, row))
    if label_column is not None:
        if label_column not in header:
            raise FormatError(f"{where(source, 1)}: no column {label_column!r}")
        k = header.index(label_column)
    else:
        k = _label_column(header, [row for _, row in rows])
    features, raw_labels = [], []
    for line, row in rows:
        if len(row) != len(header):
            raise FormatError(f"{where(source, line)}: {len(row)} fields, expected {len(header)}")
        values = []
        for j, cell in enumerate(row):
            if j == k:
                continue
            try:
                values.append(float(cell))
            except ValueError:
                raise FormatError(
                    f"{where(source, line)}: column {header[j]!r}: {cell!r} is not a number"
                ) from None
        features.append(values)
        raw_labels.append(row[k].strip())
    if not features:
        raise FormatError(f"{source}: no rows")
    feature_names = [h for j, h in enumerate(header) if j != k]
    if all(v.lstrip("-").isdigit() for v in raw_labels):
        y = np.asarray([int(v) for v in raw_labels])
        if y.min() < 0:
            raise FormatError(f"{source}: negative class index in column {header[k]!r}")
        labels, label_names = one_hot(y, int(y.max()) + 1), None
    else:
        label_names = sorted(set(raw_labels))
        index = {n: i for i, n in enumerate(label_names)}
        labels = one_hot([index[v] for v in raw_labels], len(label_names))
    x = np.asarray(features, dtype=np.float32)
    width = x.shape[1]
    return RawTask(
        name=name or source.stem,
        kind="dense",
        domain="tabular",
        train=Split(list(x.reshape(len(x), 1, 1, width, 1)), labels),
        test=None,
        shape=(1, 1, width, 1),
        label_names=label_names,
        feature_names=feature_names,
    )
