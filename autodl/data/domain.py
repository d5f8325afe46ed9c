"""The five AutoDL domains, and the one rule that tells a task's from its tensors.

The rule (protocol section 3), in order: text (token ids) -> text; other sparse data ->
tabular; compressed images -> image for one frame, video for several; dense
``(T, 1, 1, 1)`` -> tabular for ``T == 1``, speech otherwise; one frame of rows x
columns -> image when both are above 1, else tabular; several frames -> video.

Who asks: the writer (``<name>_public.info`` when no domain is given; it knows whether
its sparse examples are token ids) and ``autodl inspect`` (a task without a domain line,
from its metadata alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["DOMAINS", "domain_of", "guess_domain"]

DOMAINS = ("image", "video", "speech", "text", "tabular")


def domain_of(storage: str, shape: Sequence[int], text: bool) -> str:
    """The domain of ``storage`` (``"dense"``, ``"compressed"`` or ``"sparse"``) examples of
    ``shape`` ``(T, R, C, Ch)`` (-1 where it varies); ``text``: they are token ids."""
    t, r, c = (int(v) for v in shape[:3])
    if text:
        return "text"
    if storage == "sparse":
        return "tabular"
    if storage == "compressed":
        return "image" if t == 1 else "video"
    if r == 1 and c == 1:
        return "tabular" if t == 1 else "speech"
    if t == 1:
        return "image" if r > 1 and c > 1 else "tabular"
    return "video"


def guess_domain(metadata: Any) -> str:
    """The domain of a split from its ``AutoDLMetadata`` (shape, format, vocabulary).

    Token ids are recognised by a vocabulary (``channel_to_index_map``), or for sparse
    data by columns that are not features (``col_count <= num_channels``).
    """
    t, r, c, ch = (int(v) for v in metadata.get_tensor_shape())
    vocabulary = bool(metadata.get_channel_to_index_map())
    if metadata.is_sparse():
        storage = "sparse"
        text = vocabulary or (c != -1 and c <= ch)
    else:
        storage = "compressed" if metadata.is_compressed() else "dense"
        text = vocabulary and r == 1 and c == 1
    return domain_of(storage, (t, r, c, ch), text)
