"""The AutoDL feature conventions: one serialized ``SequenceExample`` -> ``(example, labels)``.

What the 2019 reference's ``tf.io.parse_single_sequence_example`` + reshape/decode gave,
without TensorFlow:

- DENSE ``"{i}_dense_input"``: one float list per time step, each of
  ``row*col*channels`` values, reshaped to ``(sequence_size, row, col, channels)``;
- COMPRESSED ``"{i}_compressed"``: one encoded image per time step (JPEG, PNG, GIF, BMP),
  decoded to ``num_channels`` channels, ``uint8 / 255`` as float32, stacked ``(T, H, W, C)``;
- SPARSE ``"{i}_sparse_{row,col,channel}_index"`` / ``"{i}_sparse_value"``: tabular
  (``col_count > num_channels``) gives ``(1, nnz, 2, 1)`` (col, value) pairs, text gives
  ``(nnz, 1, 1, 1)`` channel indices (token ids);
- labels: zeros of size ``output_dim`` with ``labels[label_index[j]] = label_score[j]``.

JPEG pixels equal TensorFlow's only with the same IDCT: TensorFlow decodes with
libjpeg-turbo's fast integer IDCT and fancy upsampling, which ``simplejpeg`` offers
(``fastdct=True``); Pillow only has the accurate IDCT (off by a few levels), so it is the
fallback when ``simplejpeg`` is not installed.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from .errors import FeatureError
from .metadata import AutoDLMetadata
from .proto import SequenceExample

__all__ = ["FeatureSpec", "parse_example", "decode_image", "image_format", "pixels_to_float"]

_INV255 = np.float32(1.0 / 255.0)  # what tf.image.convert_image_dtype multiplies by


def pixels_to_float(pixels: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels as float32 ``pixels * float32(1/255)``, as convert_image_dtype gives.

    Both operands are float32 (the cast is exact), so the result is the same bits
    whether it is computed per image or for a whole batch; ``out``: where to write it.
    """
    if out is not None:
        return np.multiply(pixels, _INV255, out=out, dtype=np.float32)
    # a cast and an in-place multiply: quicker than the mixed-type ufunc on small images
    result = pixels.astype(np.float32)
    result *= _INV255
    return result


try:  # exact TensorFlow JPEG pixels (fast IDCT); optional
    import simplejpeg as _simplejpeg
except ImportError:  # pragma: no cover - depends on the environment
    _simplejpeg = None


@dataclass(frozen=True)
class FeatureSpec:
    """What one split's records hold, taken from its metadata (bundle 0 by default)."""

    kind: str  # "dense", "compressed", "sparse_tabular" or "sparse_text"
    shape: tuple[int, int, int, int]  # (T, R, C, Ch), -1 where unknown
    output_dim: int
    bundle: int = 0

    @classmethod
    def from_metadata(cls, metadata: AutoDLMetadata, bundle: int = 0) -> FeatureSpec:
        shape = tuple(int(x) for x in metadata.get_tensor_shape(bundle))
        _, row, col, channels = shape
        if metadata.is_sparse(bundle):
            # the reference's test; an unknown col_count was None there, hence text
            kind = "sparse_tabular" if col > 0 and col > channels else "sparse_text"
        elif metadata.is_compressed(bundle):
            kind = "compressed"
        else:
            kind = "dense"
            if row <= 0 or col <= 0 or channels <= 0:
                raise FeatureError(
                    metadata.path,
                    f"DENSE data needs a known row/col/channel count, got {shape[1:]}",
                )
        return cls(kind, shape, metadata.get_output_size(), bundle)  # type: ignore[arg-type]

    def key(self, name: str) -> str:
        return f"{self.bundle}_{name}"

    @property
    def is_fixed_shape(self) -> bool:
        """True when every example has the metadata's shape (known T, R, C)."""
        return self.kind in ("dense", "compressed") and min(self.shape) > 0


# --------------------------------------------------------------------------- images


def image_format(data: bytes) -> str | None:
    """``"jpeg"``, ``"png"``, ``"gif"``, ``"bmp"`` from the magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"GIF8",):
        return "gif"
    if data[:2] == b"BM":
        return "bmp"
    return None


def _rgb_to_gray(rgb: np.ndarray) -> np.ndarray:
    # What TensorFlow's PNG decoder gives for channels=1 from colour: libpng's
    # rgb_to_gray with Rec. 601 weights (0.299, 0.587) in 1/32768 units, truncated.
    r, g, b = (rgb[..., k].astype(np.uint32) for k in range(3))
    return ((9797 * r + 19234 * g + 3737 * b) >> 15).astype(np.uint8)[..., None]


def _to_channels(arr: np.ndarray, channels: int) -> np.ndarray:
    """Convert an (H, W, K) uint8 image with K in 1..4 (L, LA, RGB, RGBA) to ``channels``."""
    k = arr.shape[2]
    if k == channels:
        return arr
    gray = k <= 2
    if channels == 1:
        return arr[..., :1] if gray else _rgb_to_gray(arr)
    if channels == 3:
        return np.repeat(arr[..., :1], 3, axis=2) if gray else arr[..., :3]
    if channels == 4:
        color = np.repeat(arr[..., :1], 3, axis=2) if gray else arr[..., :3]
        alpha = arr[..., -1:] if k in (2, 4) else np.full(arr.shape[:2] + (1,), 255, np.uint8)
        return np.concatenate([color, alpha], axis=2)
    raise ValueError(f"cannot decode an image to {channels} channels (1, 3 or 4)")


def _pil_array(data: bytes, fmt: str) -> np.ndarray:
    from PIL import Image

    # naming the format skips Pillow's probing of every plugin
    with Image.open(io.BytesIO(data), formats=(fmt.upper(),)) as im:
        im.seek(0)  # GIF: the first frame, as tf.io.decode_image(expand_animations=False)
        mode = im.mode
        if mode in ("I;16", "I;16B", "I;16L", "I"):
            # 16-bit greyscale: TensorFlow keeps the high byte
            arr16 = np.asarray(im, dtype=np.uint32)
            return (arr16 >> 8).astype(np.uint8)[..., None]
        if mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif mode == "1":
            im = im.convert("L")
        elif mode not in ("L", "LA", "RGB", "RGBA"):
            im = im.convert("RGB")
        arr = np.asarray(im)
    return arr[..., None] if arr.ndim == 2 else arr


_PNG_MODES = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}  # 8-bit colour types, no palette
_PNG_CHUNK = struct.Struct(">I4s")
_PNG_IHDR = struct.Struct(">IIBBBBB")


@functools.cache
def _pil_image():
    # imported on first use (keeps `import autodl.data` light), then looked up once
    from PIL import Image

    return Image


def _png_fast(data: bytes) -> np.ndarray | None:
    """Decode a plain 8-bit PNG with Pillow's C inflater and unfilter only, skipping its
    Python-level plugin machinery (most of the time for small images). None when the
    file is anything else (palette, 16-bit, transparency chunk, bad CRC, cut short...):
    the caller then goes the full Pillow way, which also gives the proper error."""
    Image = _pil_image()  # noqa: N806 - the module's usual name

    pos = 8
    end = len(data)
    header = None
    idat = []
    while pos + 12 <= end:
        length, kind = _PNG_CHUNK.unpack_from(data, pos)
        body = data[pos + 8 : pos + 8 + length]
        if len(body) != length or pos + 12 + length > end:
            return None
        (crc,) = struct.unpack_from(">I", data, pos + 8 + length)
        if zlib.crc32(body, zlib.crc32(kind)) != crc:
            return None
        if kind == b"IHDR":
            header = _PNG_IHDR.unpack(body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind in (b"tRNS", b"PLTE"):
            return None
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None or not idat:
        return None
    width, height, depth, color, _, _, interlace = header
    mode = _PNG_MODES.get(color)
    if depth != 8 or mode is None or width == 0 or height == 0:
        return None
    try:
        img = Image.new(mode, (width, height))
        decoder = Image.core.zip_decoder(mode, mode, interlace)
        decoder.setimage(img.im, (0, 0, width, height))
        consumed, err = decoder.decode(b"".join(idat))
        decoder.cleanup()
    except Exception:  # an older or newer Pillow without these internals
        return None
    if consumed != -1 or err < 0:
        return None
    # tobytes + frombuffer is a few times quicker than np.asarray(img) on small images
    return np.frombuffer(img.tobytes(), np.uint8).reshape(height, width, -1)


def decode_image(data: bytes, channels: int) -> np.ndarray:
    """Decode an encoded image to ``(H, W, channels)`` uint8, TensorFlow's way.

    Raises ``ValueError`` for an unknown format or undecodable bytes.
    """
    fmt = image_format(data)
    if fmt is None:
        raise ValueError(f"unknown image format (first bytes {bytes(data[:8])!r})")
    if fmt == "jpeg" and _simplejpeg is not None and channels in (1, 3):
        try:
            out = _simplejpeg.decode_jpeg(
                data,
                colorspace="GRAY" if channels == 1 else "RGB",
                fastdct=True,
                fastupsample=False,
            )
        except ValueError as e:
            raise ValueError(f"undecodable JPEG: {e}") from None
        return out if out.ndim == 3 else out[..., None]
    arr = _png_fast(data) if fmt == "png" else None
    if arr is not None:
        return _to_channels(arr, channels)
    try:
        arr = _pil_array(data, fmt)
    except Exception as e:  # PIL raises OSError, SyntaxError, ValueError...
        raise ValueError(f"undecodable {fmt.upper()}: {e}") from None
    if fmt == "jpeg" and channels == 1 and arr.shape[2] == 3:
        # libjpeg's own YCbCr -> grey is the luma plane; Pillow's "L" from JPEG does that
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.draft("L", None)
            arr = np.asarray(im.convert("L"))[..., None]
    return _to_channels(arr, channels)


# --------------------------------------------------------------------------- records


def _float_values(feature) -> np.ndarray:
    # The re-serialized FloatList is tag + varint length + packed little-endian floats:
    # one C call and a buffer view instead of a Python float per value.
    raw = feature.float_list.SerializeToString()
    if not raw:
        return np.zeros(0, np.float32)
    pos = 1
    while raw[pos] & 0x80:
        pos += 1
    return np.frombuffer(raw, dtype="<f4", offset=pos + 1)


def _kind(feature) -> str | None:
    return feature.WhichOneof("kind")


def parse_example(
    record: bytes,
    spec: FeatureSpec,
    path: str | None = None,
    index: int | None = None,
    raw: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode one serialized ``SequenceExample`` to ``(example, labels)`` float32 arrays.

    ``raw``: images stay uint8 pixels (:func:`pixels_to_float` makes them the float32
    example); the decoded cache keeps them so, a quarter of the bytes. Raises
    :class:`FeatureError` (naming ``path`` and ``index``) for a record that does not
    match ``spec``.
    """

    def bad(reason: str) -> FeatureError:
        return FeatureError(path, reason, index)

    try:
        ex = SequenceExample.FromString(record)
    except Exception as e:  # google.protobuf.message.DecodeError
        raise bad(f"not a SequenceExample ({e})") from None
    lists = ex.feature_lists.feature_list
    if spec.kind == "dense":
        example = _dense(lists, spec, bad)
    elif spec.kind == "compressed":
        example = _compressed(lists, spec, bad, raw)
    else:
        example = _sparse(lists, spec, bad)
    return example, _labels(ex.context.feature, spec.output_dim, bad)


def _missing(lists, key: str, spec: FeatureSpec, bad) -> FeatureError:
    found = sorted(lists.keys())
    return bad(
        f"feature list {key!r} not found (found {found}); the metadata says "
        f"{spec.kind.split('_')[0].upper()} data"
    )


def _dense(lists, spec: FeatureSpec, bad) -> np.ndarray:
    key = spec.key("dense_input")
    if key not in lists:
        raise _missing(lists, key, spec, bad)
    steps = lists[key].feature
    seq, row, col, ch = spec.shape
    size = row * col * ch
    out = np.empty((len(steps), size), np.float32)
    for t, f in enumerate(steps):
        if _kind(f) != "float_list":
            raise bad(f"{key!r} step {t} is {_kind(f)}, expected float_list")
        values = _float_values(f)
        if values.size != size:
            raise bad(
                f"{key!r} step {t} has {values.size} values, the metadata shape "
                f"{(row, col, ch)} needs {size}"
            )
        out[t] = values
    if seq > 0 and len(steps) != seq:
        raise bad(f"{key!r} has {len(steps)} time steps, the metadata says sequence_size {seq}")
    return out.reshape(len(steps), row, col, ch)


def _compressed(lists, spec: FeatureSpec, bad, raw: bool = False) -> np.ndarray:
    key = spec.key("compressed")
    if key not in lists:
        raise _missing(lists, key, spec, bad)
    frames = []
    for t, f in enumerate(lists[key].feature):
        kind = _kind(f)
        if kind is None:
            continue
        if kind != "bytes_list":
            raise bad(f"{key!r} step {t} is {kind}, expected bytes_list")
        frames.extend(f.bytes_list.value)  # VarLenFeature flattens every value of every step
    seq, row, col, ch = spec.shape
    if seq > 0 and len(frames) != seq:
        raise bad(f"{key!r} has {len(frames)} images, the metadata says sequence_size {seq}")
    if not frames:
        return np.zeros((0, max(row, 0), max(col, 0), ch), np.uint8 if raw else np.float32)
    images = []
    for t, data in enumerate(frames):
        try:
            img = decode_image(data, ch)
        except ValueError as e:
            raise bad(f"{key!r} image {t}: {e}") from None
        if images and img.shape != images[0].shape:
            raise bad(
                f"{key!r} image {t} is {img.shape[:2]}, image 0 is {images[0].shape[:2]}: "
                "frames of one example must have one size"
            )
        images.append(img)
    h, w = images[0].shape[:2]
    if (row > 0 and h != row) or (col > 0 and w != col):
        raise bad(f"{key!r} images are {h}x{w}, the metadata says {row}x{col} (row x col)")
    stacked = images[0][None] if len(images) == 1 else np.stack(images)
    if raw:
        return stacked
    return pixels_to_float(stacked)


def _int_values(lists, key: str, bad) -> np.ndarray:
    if key not in lists:
        return np.zeros(0, np.int64)
    parts = []
    for t, f in enumerate(lists[key].feature):
        kind = _kind(f)
        if kind is None:
            continue
        if kind != "int64_list":
            raise bad(f"{key!r} step {t} is {kind}, expected int64_list")
        parts.append(np.array(f.int64_list.value, dtype=np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _sparse(lists, spec: FeatureSpec, bad) -> np.ndarray:
    names = ("sparse_row_index", "sparse_col_index", "sparse_channel_index", "sparse_value")
    keys = [spec.key(n) for n in names]
    if len(lists) and not any(k in lists for k in keys):
        raise _missing(lists, keys[-1], spec, bad)
    values = []
    vkey = keys[3]
    if vkey in lists:
        for t, f in enumerate(lists[vkey].feature):
            kind = _kind(f)
            if kind is None:
                continue
            if kind != "float_list":
                raise bad(f"{vkey!r} step {t} is {kind}, expected float_list")
            values.append(_float_values(f))
    value = np.concatenate(values) if values else np.zeros(0, np.float32)
    if spec.kind == "sparse_tabular":
        cols = _int_values(lists, keys[1], bad)
        if cols.size != value.size:
            raise bad(f"{keys[1]!r} has {cols.size} indices but {vkey!r} has {value.size} values")
        pairs = np.empty((value.size, 2), np.float32)
        pairs[:, 0] = cols
        pairs[:, 1] = value
        return pairs.reshape(1, -1, 2, 1)
    channels = _int_values(lists, keys[2], bad)
    return channels.astype(np.float32).reshape(-1, 1, 1, 1)


def _labels(context, output_dim: int, bad) -> np.ndarray:
    labels = np.zeros(output_dim, np.float32)
    # Python lists, not numpy: a handful of values, where numpy's call overhead dominates
    f = context.get("label_index")
    if f is None:
        score = context.get("label_score")
        if score is not None and len(score.float_list.value):
            raise bad("'label_score' without 'label_index'")
        return labels
    kind = _kind(f)
    if kind not in (None, "int64_list"):
        raise bad(f"'label_index' is {kind}, expected int64_list")
    index = list(f.int64_list.value)
    if not index:
        return labels
    score = context.get("label_score")
    if score is not None and _kind(score) not in (None, "float_list"):
        raise bad(f"'label_score' is {_kind(score)}, expected float_list")
    values = list(score.float_list.value) if score is not None else []
    if len(values) != len(index):
        raise bad(f"{len(index)} label indices but {len(values)} label scores")
    for k in index:
        if not 0 <= k < output_dim:
            raise bad(f"label index {k} is outside [0, output_dim={output_dim})")
    for k, v in zip(index, values, strict=True):  # few values: quicker than fancy indexing
        labels[k] = v
    return labels
