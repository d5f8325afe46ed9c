"""Decoding contributor files: images (Pillow), videos and audio (PyAV).

PyAV is the optional ``media`` extra (``pip install 'autodl[media]'``): without it,
images and texts convert as usual and a video or audio file stops the conversion with
one line saying what to install.

Images keep their original PNG/JPEG bytes when a reader decodes them to the same pixels
(8-bit greyscale or RGB); anything else (GIF, BMP, palette, alpha, 16-bit) is re-encoded
as PNG, which is lossless. Video frames are encoded one image per time step.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autodl.data.formats._base import FormatError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".m4a")
TEXT_EXTENSIONS = (".txt",)

_GREY_MODES = {"1", "L", "I", "I;16", "F"}
_KEEP = {("PNG", "L"), ("PNG", "RGB"), ("JPEG", "L"), ("JPEG", "RGB")}


def _av(kind: str):
    try:
        import av
    except ImportError:
        raise FormatError(f"{kind} files need PyAV: pip install 'autodl[media]'") from None
    return av


@dataclass
class Image:
    """One image file: the bytes to store and what they decode to."""

    data: bytes
    height: int
    width: int
    grey: bool


def read_image(path: Path) -> Image:
    """Read and fully decode an image file (an unreadable one raises FormatError)."""
    from PIL import Image as PILImage

    try:
        raw = path.read_bytes()
        with PILImage.open(io.BytesIO(raw)) as img:
            img.load()
            fmt, mode, (w, h) = img.format, img.mode, img.size
            if (fmt, mode) in _KEEP:
                return Image(raw, h, w, mode == "L")
            grey = mode in _GREY_MODES or (mode == "LA")
            if mode in ("I", "I;16", "F"):
                # 16-bit / float greyscale: scale to 8 bits as decoders do
                arr = np.asarray(img, dtype=np.float64)
                top = 65535.0 if arr.max() > 255 else 255.0
                img8 = PILImage.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype("u1"))
            else:
                img8 = img.convert("L" if grey else "RGB")
            return Image(encode_png(np.asarray(img8)), h, w, grey)
    except FormatError:
        raise
    except Exception as exc:  # Pillow raises many types for a bad file
        raise FormatError(f"{path}: not a readable image ({exc})", path) from exc


def encode_png(pixels: np.ndarray) -> bytes:
    """uint8 (H, W) or (H, W, C) -> PNG bytes."""
    return _encode(pixels, "PNG")


def encode_jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    return _encode(pixels, "JPEG", quality=quality)


def _encode(pixels: np.ndarray, fmt: str, **options) -> bytes:
    from PIL import Image as PILImage

    pixels = np.asarray(pixels)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    buf = io.BytesIO()
    PILImage.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buf, fmt, **options)
    return buf.getvalue()


def decode_image(data: bytes, channels: int) -> np.ndarray:
    """Encoded bytes -> uint8 (H, W, channels), the way the AutoDL reference decodes them."""
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as img:
        arr = np.asarray(img.convert("L" if channels == 1 else "RGB"))
    return arr[:, :, None] if channels == 1 else arr


@dataclass
class Video:
    frames: list[np.ndarray]  # uint8 (H, W, 3)
    rate: float

    @property
    def grey(self) -> bool:
        # Many greyscale videos (KTH) are stored as YUV; they are grey when R == G == B.
        return all(
            int(np.abs(f.astype(np.int16) - f[:, :, :1]).max()) <= 2 for f in self.frames[:5]
        )


def read_video(path: Path, frame_step: int = 1, max_frames: int | None = None) -> Video:
    """Decode every ``frame_step``-th frame of a video (at most ``max_frames``) to RGB."""
    av = _av("video")

    frames: list[np.ndarray] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise FormatError(f"{path}: no video stream", path)
            stream = container.streams.video[0]
            rate = float(stream.average_rate or 0) / frame_step
            for i, frame in enumerate(container.decode(stream)):
                if i % frame_step:
                    continue
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except FormatError:
        raise
    except Exception as exc:  # av raises its own error types for bad files
        raise FormatError(f"{path}: not a readable video ({exc})", path) from exc
    if not frames:
        raise FormatError(f"{path}: the video has no frames", path)
    return Video(frames, rate)


def read_audio(path: Path, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Decode an audio file to mono float32 samples in [-1, 1], resampled to ``sample_rate``.

    Returns (samples, rate); ``rate`` is the file's own when ``sample_rate`` is None.
    """
    av = _av("audio")

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise FormatError(f"{path}: no audio stream", path)
            stream = container.streams.audio[0]
            rate = int(sample_rate or stream.rate or stream.codec_context.sample_rate)
            resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"{path}: not a readable audio file ({exc})", path) from exc
    if not chunks:
        raise FormatError(f"{path}: the audio file has no samples", path)
    return np.concatenate(chunks).astype(np.float32), rate
