"""PyTorch adapter: a ``torch.utils.data.Dataset`` over an AutoDL split and a DataLoader
whose collate function makes one tensor of examples of different shapes, by policy:

- ``"pad"`` (default): zero-pad every axis (time, rows, cols, and for sparse data the
  non-zero axis) to the largest in the batch, or to ``size`` (examples larger than
  ``size`` are cropped);
- ``"crop"``: centre-crop every axis to the smallest in the batch (or to ``size``);
- ``"resize"``: bilinear-resize rows x cols to ``size`` (default: the first example's),
  time is padded as for ``"pad"``;
- ``"error"``: a ``ValueError`` when shapes differ.

``size`` is ``(T, R, C)`` or ``(R, C)``; ``None`` means "decided by the batch".

>>> from autodl.data import load                                 # doctest: +SKIP
>>> loader = load(path).to_torch().loader(batch_size=32, policy="pad")  # doctest: +SKIP
>>> for x, y in loader: ...     # x: (B, T, R, C, Ch) float32, y: (B, output_dim)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset

if TYPE_CHECKING:
    from .dataset import AutoDLDataset

__all__ = ["TorchDataset", "collate", "make_loader", "POLICIES"]

POLICIES = ("pad", "crop", "resize", "error")


class TorchDataset(Dataset):
    """``(example, labels)`` float32 tensors of an :class:`AutoDLDataset`, by index."""

    def __init__(self, dataset: AutoDLDataset):
        self.dataset = dataset
        self.metadata = dataset.metadata

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.dataset[i]
        return torch.from_numpy(x), torch.from_numpy(y)

    def loader(self, batch_size: int = 32, **kwargs: Any) -> DataLoader:
        """A DataLoader over this dataset; see :func:`make_loader`."""
        return make_loader(self, batch_size=batch_size, **kwargs)


def _target(shapes: list[tuple[int, ...]], policy: str, size: Sequence[int] | None) -> list[int]:
    lead = [
        max(s[a] for s in shapes) if policy != "crop" else min(s[a] for s in shapes)
        for a in range(3)
    ]
    if size is not None:
        size = list(size)
        lead[3 - len(size) :] = size
    return lead


def _fit(x: torch.Tensor, target: Sequence[int]) -> torch.Tensor:
    """Crop (centred) then zero-pad (at the end) the first three axes of ``x`` to ``target``."""
    slices = []
    for a, t in enumerate(target):
        n = x.shape[a]
        start = (n - t) // 2 if n > t else 0
        slices.append(slice(start, start + min(n, t)))
    x = x[tuple(slices)]
    pad = [0, 0]  # channels untouched; F.pad lists axes from the last
    for a in (2, 1, 0):
        pad += [0, target[a] - x.shape[a]]
    return F.pad(x, pad) if any(pad) else x


def _resize(x: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    if x.shape[1:3] == (rows, cols):
        return x
    y = F.interpolate(
        x.permute(0, 3, 1, 2), size=(rows, cols), mode="bilinear", align_corners=False
    )
    return y.permute(0, 2, 3, 1).contiguous()


def collate(
    batch: list[tuple[Any, Any]], policy: str = "pad", size: Sequence[int] | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack ``(example, labels)`` pairs into ``(B, T, R, C, Ch)`` and ``(B, output_dim)``."""
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    xs = [torch.as_tensor(np.asarray(x)) if not torch.is_tensor(x) else x for x, _ in batch]
    ys = torch.stack(
        [torch.as_tensor(np.asarray(y)) if not torch.is_tensor(y) else y for _, y in batch]
    )
    shapes = [tuple(x.shape) for x in xs]
    if len({s[3] for s in shapes}) != 1:
        raise ValueError(f"examples differ in channel count: {sorted({s[3] for s in shapes})}")
    if len(set(shapes)) == 1 and size is None:
        return torch.stack(xs), ys
    if policy == "error":
        raise ValueError(f"examples of different shapes in one batch: {sorted(set(shapes))[:4]}")
    if policy == "resize":
        rows, cols = (size[-2], size[-1]) if size is not None else shapes[0][1:3]
        t = size[0] if size is not None and len(size) == 3 else max(s[0] for s in shapes)
        xs = [_fit(_resize(x, rows, cols), (t, rows, cols)) for x in xs]
    else:
        target = _target(shapes, policy, size)
        xs = [_fit(x, target) for x in xs]
    return torch.stack(xs), ys


def make_loader(
    dataset: TorchDataset | AutoDLDataset,
    batch_size: int = 32,
    *,
    policy: str = "pad",
    size: Sequence[int] | None = None,
    shuffle: bool = False,
    **kwargs: Any,
) -> DataLoader:
    """A ``torch.utils.data.DataLoader`` with :func:`collate` under ``policy``.

    Extra ``kwargs`` go to ``DataLoader`` (``num_workers``, ``drop_last``...). Worker
    processes read the parent's decoded cache when the first pass is done before.
    """
    if not isinstance(dataset, TorchDataset):
        dataset = TorchDataset(dataset)
    fn = partial(collate, policy=policy, size=size)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=fn, **kwargs)
