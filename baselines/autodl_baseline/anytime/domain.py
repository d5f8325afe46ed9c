"""Which of the five AutoDL domains a task belongs to, from its metadata and a sample."""

from __future__ import annotations

DOMAINS = ("image", "video", "speech", "text", "tabular")


def infer_domain(metadata, example_shape: tuple[int, ...] | None = None) -> str:
    """Guess the domain as the AutoDL challenge laid its tensors out.

    One time step with R and C > 1 is an image, several a video; one row or column with
    one step is tabular; ``(T, 1, 1, 1)`` is speech (a waveform) or text (token ids, when
    the metadata has a vocabulary). ``example_shape`` settles what the metadata leaves
    open (unknown sizes are -1).
    """
    seq = _safe(metadata.get_sequence_size, -1)
    rows, cols = _safe(lambda: metadata.get_matrix_size(0), (-1, -1))
    vocab = _safe(metadata.get_channel_to_index_map, {}) or {}
    if rows <= 0 and cols <= 0 and example_shape is not None:
        rows, cols = example_shape[1], example_shape[2]
    if seq == 1:
        return "tabular" if rows == 1 or cols == 1 else "image"
    if rows == 1 and cols == 1:
        return "text" if len(vocab) > 0 else "speech"
    if seq <= 0 and example_shape is not None and example_shape[0] == 1:
        return "tabular" if rows == 1 or cols == 1 else "image"
    return "video"


def _safe(fn, default):
    try:
        value = fn()
    except Exception:
        return default
    return default if value is None else value
