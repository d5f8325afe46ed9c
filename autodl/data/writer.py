"""Write a complete AutoDL task folder from numpy arrays or encoded images.

Signature::

    write_task(out_dir, name, train=(examples, labels), test=(examples, labels) or None, *,
               format=None, label_names=None, output_dim=None, domain=None,
               image_format="png", jpeg_quality=95, num_channels=None,
               channel_to_index_map=None, feature_to_index_map=None,
               num_shards=1, overwrite=False, public_info=None) -> Path

It writes ``<out_dir>/<name>/``::

    <name>.data/train/metadata.textproto  + sample-<name>-train.tfrecord
    <name>.data/test/metadata.textproto   + sample-<name>-test.tfrecord (labels erased)
    <name>.solution                       test labels, one line per example
    <name>_public.info                    domain, sample_num, label_num (+ public_info)
    <name>_label.name                     one class name per line

into a hidden folder beside the target first, then renames it into place: a reader
never sees half a task. With ``num_shards=k > 1`` each split is cut into ``k`` files
``sample-<name>-<split>-0000i-of-0000k.tfrecord``.

Examples (``examples``, one entry per example), by ``format``:

- ``"dense"``: a float array ``(N, T, R, C, Ch)`` or a sequence of arrays, each of shape
  ``(T, R, C, Ch)``, ``(R, C, Ch)``, ``(R, C)`` or ``(F,)`` (missing leading axes become 1,
  a 2-D ``(R, C)`` gets ``Ch = 1``, a 1-D ``(F,)`` is ``(1, 1, F, 1)``); ``T`` may vary,
  ``R, C, Ch`` may not.
- ``"compressed"``: per example an encoded image (``bytes``: JPEG, PNG, GIF, BMP), a list of
  encoded frames (video), or pixels: uint8 or float in [0, 1] arrays of shape ``(H, W)``,
  ``(H, W, Ch)`` or ``(T, H, W, Ch)``, encoded with ``image_format`` (``"png"``, lossless:
  reads back exactly; or ``"jpeg"`` at ``jpeg_quality``). Sizes may vary between examples
  (the metadata then says -1). ``num_channels`` defaults to the images' own (1 or 3).
- ``"sparse"``: tabular data as a 2-D ``(N, F)`` numpy array or scipy.sparse matrix (its
  non-zeros are stored; reading gives ``(1, nnz, 2, 1)`` (column, value) pairs); or text
  as a sequence of 1-D integer token-id arrays (reading gives ``(len, 1, 1, 1)``); the
  vocabulary (token -> id) goes in ``channel_to_index_map``, and ``num_channels`` is its
  size (or the largest id + 1).

``format=None`` guesses: bytes -> compressed, scipy.sparse -> sparse, else dense.

Labels: a float array ``(N, output_dim)`` (one-hot, multi-label or scores) or a 1-D
integer array of class indices (``output_dim`` from the argument, ``label_names`` or the
largest index + 1). ``label_names[i]`` names class ``i`` (default ``"0"``, ``"1"``, ...).
``domain`` (image, video, speech, text, tabular) is guessed when not given.

>>> import numpy as np, tempfile
>>> x = np.random.default_rng(0).random((6, 1, 4, 4, 1), dtype=np.float32)
>>> y = np.array([0, 1, 2, 0, 1, 2])
>>> root = write_task(tempfile.mkdtemp(), "toy", train=(x[:4], y[:4]), test=(x[4:], y[4:]))
>>> sorted(p.name for p in root.iterdir())
['toy.data', 'toy.solution', 'toy_label.name', 'toy_public.info']
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autodl.protocol.predictions import format_prediction

from .domain import domain_of
from .metadata import COMPRESSED, DENSE, METADATA_FILE, SPARSE, AutoDLMetadata
from .proto import DataSpecification, SequenceExample
from .tfrecord import write_records

__all__ = ["write_task", "encode_image"]

_FORMATS = {"dense": DENSE, "compressed": COMPRESSED, "sparse": SPARSE}


def encode_image(pixels: np.ndarray, image_format: str = "png", quality: int = 95) -> bytes:
    """Encode one ``(H, W)`` / ``(H, W, 1|3|4)`` image (uint8, or float in [0, 1])."""
    from PIL import Image

    arr = _to_uint8(pixels)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    bio = io.BytesIO()
    fmt = image_format.lower()
    if fmt in ("jpeg", "jpg"):
        Image.fromarray(arr).save(bio, "JPEG", quality=quality)
    elif fmt == "png":
        Image.fromarray(arr).save(bio, "PNG", compress_level=1)
    else:
        raise ValueError(f"image_format must be 'png' or 'jpeg', got {image_format!r}")
    return bio.getvalue()


def _to_uint8(pixels: np.ndarray) -> np.ndarray:
    arr = np.asarray(pixels)
    if arr.dtype == np.uint8:
        return arr
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and (np.nanmin(arr) < 0 or np.nanmax(arr) > 1):
            raise ValueError("float pixels must lie in [0, 1] (or pass uint8)")
        return np.rint(arr * 255.0).astype(np.uint8)
    if arr.size and (arr.min() < 0 or arr.max() > 255):
        raise ValueError("integer pixels must lie in [0, 255]")
    return arr.astype(np.uint8)


# --------------------------------------------------------------------------- labels


def _label_matrix(labels: Any, n: int, output_dim: int | None, split: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim == 1 and (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
        if output_dim is None:
            raise ValueError("output_dim is unknown")  # resolved by the caller first
        if arr.size and (arr.min() < 0 or arr.max() >= output_dim):
            raise ValueError(f"{split}: class index {arr.max()} not in [0, {output_dim})")
        out = np.zeros((arr.size, output_dim), np.float32)
        out[np.arange(arr.size), arr.astype(np.int64)] = 1
        arr = out
    elif arr.ndim != 2:
        raise ValueError(f"{split}: labels must be (N, output_dim) or 1-D class indices")
    if len(arr) != n:
        raise ValueError(f"{split}: {n} examples but {len(arr)} label rows")
    if output_dim is not None and arr.shape[1] != output_dim:
        raise ValueError(f"{split}: labels have {arr.shape[1]} columns, output_dim is {output_dim}")
    arr = arr.astype(np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{split}: labels must be finite")
    return arr


def _guess_output_dim(splits, output_dim, label_names) -> int:
    if output_dim is not None:
        return int(output_dim)
    if label_names is not None:
        return len(label_names)
    dims = []
    for _, labels in splits:
        arr = np.asarray(labels)
        dims.append(arr.shape[1] if arr.ndim == 2 else int(arr.max()) + 1 if arr.size else 0)
    return max(dims)


# --------------------------------------------------------------------------- examples


def _is_bytes(x: Any) -> bool:
    return isinstance(x, (bytes, bytearray, memoryview))


def _guess_format(examples: Any) -> str:
    if type(examples).__module__.startswith("scipy.sparse"):
        return "sparse"
    first = examples[0] if len(examples) else None
    if _is_bytes(first) or (isinstance(first, (list, tuple)) and first and _is_bytes(first[0])):
        return "compressed"
    return "dense"


def _dense_4d(x: Any) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        return arr.reshape(1, 1, -1, 1)
    if arr.ndim == 2:
        return arr[None, :, :, None]
    if arr.ndim == 3:
        return arr[None]
    if arr.ndim == 4:
        return arr
    raise ValueError(f"a dense example must have 1 to 4 axes, got shape {arr.shape}")


def _frames(x: Any, image_format: str, quality: int) -> list[bytes]:
    """Encoded frames of one compressed example."""
    if _is_bytes(x):
        return [bytes(x)]
    if isinstance(x, (list, tuple)) and x and _is_bytes(x[0]):
        return [bytes(f) for f in x]
    arr = np.asarray(x)
    if arr.ndim in (2, 3) and not (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        return [encode_image(arr, image_format, quality)]
    if arr.ndim == 4 or arr.ndim == 3:
        return [encode_image(f, image_format, quality) for f in arr]
    raise ValueError(f"cannot make images of an example of shape {arr.shape}")


def _image_size(data: bytes) -> tuple[int, int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        return h, w, 1 if im.mode in ("L", "1", "I;16", "I", "LA") else 3


def _common(values: list[int]) -> int:
    return values[0] if values and all(v == values[0] for v in values) else -1


class _Split:
    """One split's examples turned into serialized SequenceExamples, plus its shape facts."""

    def __init__(self, fmt: str, examples: Any, options: dict[str, Any]):
        self.fmt = fmt
        self.bodies: list[SequenceExample] = []
        self.shapes: list[tuple[int, int, int, int]] = []
        self.text = False
        self.max_token = -1
        self.width = 0
        getattr(self, f"_{fmt}")(examples, options)

    def _dense(self, examples: Any, options: dict[str, Any]) -> None:
        for x in examples:
            arr = _dense_4d(x)
            ex = SequenceExample()
            steps = ex.feature_lists.feature_list["0_dense_input"].feature
            for frame in arr.reshape(arr.shape[0], -1):
                steps.add().float_list.value.extend(frame.tolist())
            self.bodies.append(ex)
            self.shapes.append(arr.shape)

    def _compressed(self, examples: Any, options: dict[str, Any]) -> None:
        for x in examples:
            frames = _frames(x, options["image_format"], options["jpeg_quality"])
            if not frames:
                raise ValueError("a compressed example needs at least one image")
            sizes = [_image_size(f) for f in frames]
            if len({s[:2] for s in sizes}) != 1:
                raise ValueError(f"frames of one example must share one size, got {sizes}")
            h, w = sizes[0][:2]
            channels = max(s[2] for s in sizes)
            ex = SequenceExample()
            steps = ex.feature_lists.feature_list["0_compressed"].feature
            for f in frames:
                steps.add().bytes_list.value.append(f)
            self.bodies.append(ex)
            self.shapes.append((len(frames), h, w, channels))

    def _sparse(self, examples: Any, options: dict[str, Any]) -> None:
        if type(examples).__module__.startswith("scipy.sparse") or (
            isinstance(examples, np.ndarray) and examples.ndim == 2
        ):
            self._tabular(examples)
        else:
            self._tokens(examples)

    def _tabular(self, examples: Any) -> None:
        if type(examples).__module__.startswith("scipy.sparse"):
            csr = examples.tocsr()
            rows = [
                (csr.indices[a:b], csr.data[a:b])
                for a, b in zip(csr.indptr[:-1], csr.indptr[1:], strict=False)
            ]
            self.width = csr.shape[1]
        else:
            arr = np.asarray(examples, dtype=np.float32)
            rows = [(np.flatnonzero(r), r[np.flatnonzero(r)]) for r in arr]
            self.width = arr.shape[1]
        for cols, vals in rows:
            order = np.argsort(cols, kind="stable")
            cols, vals = np.asarray(cols)[order], np.asarray(vals, np.float32)[order]
            self.bodies.append(
                _sparse_example(np.zeros_like(cols), cols, np.zeros_like(cols), vals)
            )
            self.shapes.append((1, 1, self.width, 1))

    def _tokens(self, examples: Any) -> None:
        self.text = True
        for x in examples:
            ids = np.asarray(x)
            if ids.ndim != 1 or not (np.issubdtype(ids.dtype, np.integer) or ids.size == 0):
                raise ValueError("a sparse text example must be a 1-D array of integer token ids")
            ids = ids.astype(np.int64)
            if ids.size:
                self.max_token = max(self.max_token, int(ids.max()))
            zeros = np.zeros_like(ids)
            self.bodies.append(
                _sparse_example(np.arange(ids.size), zeros, ids, np.ones(ids.size, np.float32))
            )
            self.shapes.append((ids.size, 1, 1, 1))


def _sparse_example(rows, cols, channels, values) -> SequenceExample:
    ex = SequenceExample()
    lists = ex.feature_lists.feature_list
    lists["0_sparse_row_index"].feature.add().int64_list.value.extend(np.asarray(rows).tolist())
    lists["0_sparse_col_index"].feature.add().int64_list.value.extend(np.asarray(cols).tolist())
    lists["0_sparse_channel_index"].feature.add().int64_list.value.extend(
        np.asarray(channels).tolist()
    )
    lists["0_sparse_value"].feature.add().float_list.value.extend(np.asarray(values).tolist())
    return ex


def _serialize(split: _Split, labels: np.ndarray | None) -> list[bytes]:
    out = []
    for i, ex in enumerate(split.bodies):
        ctx = ex.context.feature
        ctx["id"].int64_list.value.append(i)
        index = ctx["label_index"].int64_list
        score = ctx["label_score"].float_list
        if labels is not None:  # a test split keeps both lists, empty: labels erased
            nz = np.flatnonzero(labels[i])
            index.value.extend(nz.tolist())
            score.value.extend(labels[i][nz].tolist())
        out.append(ex.SerializeToString())
    return out


# --------------------------------------------------------------------------- the task


def _metadata(
    fmt: str,
    splits: list[_Split],
    output_dim: int,
    label_names: Sequence[str],
    options: dict[str, Any],
) -> DataSpecification:
    shapes = [s for sp in splits for s in sp.shapes]
    spec = DataSpecification(is_sequence=False, output_dim=output_dim)
    m = spec.matrix_spec.add(format=_FORMATS[fmt])
    m.is_sequence_col = m.is_sequence_row = False
    if fmt == "sparse" and any(sp.text for sp in splits):
        vocab = options["channel_to_index_map"] or {}
        max_token = max(sp.max_token for sp in splits)
        channels = options["num_channels"] or max(len(vocab), max_token + 1, 1)
        seq, row, col = -1, 1, 1
        m.has_locality_col = m.has_locality_row = False
    elif fmt == "sparse":
        width = max(sp.width for sp in splits)
        if width < 2:
            raise ValueError("sparse tabular data needs at least 2 features (use dense)")
        seq, row, col, channels = 1, 1, width, 1
        m.has_locality_col = m.has_locality_row = False
    else:
        seq = _common([s[0] for s in shapes])
        row = _common([s[1] for s in shapes])
        col = _common([s[2] for s in shapes])
        chans = {s[3] for s in shapes}
        if fmt == "dense":
            if row < 0 or col < 0 or len(chans) != 1:
                raise ValueError(
                    "dense examples must share (row, col, channel) sizes; got "
                    f"{sorted({s[1:] for s in shapes})[:4]}... (use format='compressed' for "
                    "images of varying size)"
                )
            channels = chans.pop()
        else:
            channels = options["num_channels"] or max(chans)
        locality = fmt == "compressed" or row > 1
        m.has_locality_col = m.has_locality_row = locality
    m.row_count, m.col_count, m.num_channels = row, col, channels
    spec.sequence_size = seq
    for i, label in enumerate(label_names):
        spec.label_to_index_map[str(label)] = i
    for key, value in (options["channel_to_index_map"] or {}).items():
        spec.channel_to_index_map[str(key)] = int(value)
    for key, value in (options["feature_to_index_map"] or {}).items():
        spec.feature_to_index_map[str(key)] = int(value)
    return spec


def _shape(spec: DataSpecification) -> tuple[int, int, int, int]:
    m = spec.matrix_spec[0]
    return spec.sequence_size, m.row_count, m.col_count, m.num_channels


def write_task(
    out_dir: str | os.PathLike[str],
    name: str,
    train: tuple[Any, Any],
    test: tuple[Any, Any] | None = None,
    *,
    format: str | None = None,  # noqa: A002 - the metadata's own word
    label_names: Sequence[str] | None = None,
    output_dim: int | None = None,
    domain: str | None = None,
    image_format: str = "png",
    jpeg_quality: int = 95,
    num_channels: int | None = None,
    channel_to_index_map: Mapping[str, int] | None = None,
    feature_to_index_map: Mapping[str, int] | None = None,
    num_shards: int = 1,
    overwrite: bool = False,
    public_info: Mapping[str, Any] | None = None,
) -> Path:
    """Write the task ``<out_dir>/<name>/`` and return its path (see the module docstring)."""
    if not name or "/" in name or name.startswith("."):
        raise ValueError(f"bad task name {name!r}")
    if num_shards < 1:
        raise ValueError("num_shards must be >= 1")
    out_dir = Path(out_dir)
    final = out_dir / name
    if final.exists() and not overwrite:
        raise FileExistsError(f"{final} exists (pass overwrite=True to replace it)")
    pairs = [("train", train)] + ([("test", test)] if test is not None else [])
    fmt = format or _guess_format(pairs[0][1][0])
    if fmt not in _FORMATS:
        raise ValueError(f"format must be one of {sorted(_FORMATS)}, got {format!r}")
    dim = _guess_output_dim([p for _, p in pairs], output_dim, label_names)
    if dim <= 0:
        raise ValueError("output_dim must be positive")
    names = (
        [str(x) for x in label_names] if label_names is not None else [str(i) for i in range(dim)]
    )
    if len(names) != dim:
        raise ValueError(f"{len(names)} label names for output_dim {dim}")
    options = {
        "image_format": image_format,
        "jpeg_quality": jpeg_quality,
        "num_channels": num_channels,
        "channel_to_index_map": channel_to_index_map,
        "feature_to_index_map": feature_to_index_map,
    }
    splits = [_Split(fmt, examples, options) for _, (examples, _) in pairs]
    labels = [
        _label_matrix(lab, len(sp.bodies), dim, split)
        for (split, (_, lab)), sp in zip(pairs, splits, strict=False)
    ]
    spec = _metadata(fmt, splits, dim, names, options)
    text = any(sp.text for sp in splits)

    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir))
    try:
        data_dir = tmp / f"{name}.data"
        for (split, _), sp, lab in zip(pairs, splits, labels, strict=False):
            split_dir = data_dir / split
            split_dir.mkdir(parents=True)
            split_spec = DataSpecification()
            split_spec.CopyFrom(spec)
            split_spec.sample_count = len(sp.bodies)
            AutoDLMetadata(split_spec).write(split_dir / METADATA_FILE)
            records = _serialize(sp, lab if split == "train" else None)
            shards = min(num_shards, max(len(records), 1))
            bounds = np.linspace(0, len(records), shards + 1).astype(int)
            for k in range(shards):
                suffix = "" if shards == 1 else f"-{k:05d}-of-{shards:05d}"
                path = split_dir / f"sample-{name}-{split}{suffix}.tfrecord"
                write_records(path, records[bounds[k] : bounds[k + 1]])
        if test is not None:
            solution = tmp / f"{name}.solution"
            # The 2019 solution files' bytes: the same writer as predictions.
            solution.write_bytes(format_prediction(labels[1]))
            # Test labels are for the scorer alone: a submission run under another uid
            # (ingestion drops root) cannot read them even if it guesses the path.
            solution.chmod(0o600)
        info = {
            "domain": domain or domain_of(fmt, _shape(spec), text),
            "sample_num": sum(len(sp.bodies) for sp in splits),
            "label_num": dim,
            **(public_info or {}),
        }
        lines = "".join(f"{k} : {v}\n" for k, v in info.items())
        (tmp / f"{name}_public.info").write_text(lines, encoding="utf-8")
        (tmp / f"{name}_label.name").write_text("".join(f"{n}\n" for n in names), "utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if final.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".old", dir=out_dir))
            os.replace(final, old / name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final
