"""PyTorch adapter: a ``torch.utils.data.Dataset`` over an AutoDL split and a DataLoader.

Fixed-shape splits are loaded a batch at a time: a ``BatchSampler`` (sequential,
shuffled or the caller's sampler) hands a list of indices to :class:`BatchDataset`,
which gathers them from the decoded cache with one numpy fancy-indexing copy (decoding
and caching the ones not there yet); no per-example Python collation. Worker processes
(``num_workers > 0``) share the parent's cache. Other splits go example by example
through :func:`collate`, which makes one tensor of examples of different shapes, by
policy:

- ``"pad"`` (default): zero-pad every axis (time, rows, cols, and for sparse data the
  non-zero axis) to the largest in the batch, or to ``size`` (examples larger than
  ``size`` are cropped);
- ``"crop"``: centre-crop every axis to the smallest in the batch (or to ``size``);
- ``"resize"``: bilinear-resize rows x cols to ``size`` (default: the first example's),
  time is padded as for ``"pad"``;
- ``"error"``: a ``ValueError`` when shapes differ.

``size`` is ``(T, R, C)`` or ``(R, C)``; ``None`` means "decided by the batch".

With a GPU, loaders pin their batches by default, and :func:`to_device` copies them
asynchronously (``non_blocking=True``).

>>> from autodl.data import load                                 # doctest: +SKIP
>>> loader = load(path).to_torch().loader(batch_size=32, shuffle=True)  # doctest: +SKIP
>>> for x, y in loader:         # x: (B, T, R, C, Ch) float32, y: (B, output_dim)  # doctest: +SKIP
...     x, y = to_device((x, y), "cuda")                          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import BatchSampler, DataLoader, Dataset, RandomSampler, SequentialSampler

if TYPE_CHECKING:
    from .dataset import AutoDLDataset

__all__ = [
    "POLICIES",
    "BatchDataset",
    "GatherLoader",
    "Pending",
    "TorchDataset",
    "collate",
    "make_loader",
    "to_device",
]

POLICIES = ("pad", "crop", "resize", "error")


class _CachedSplit(Dataset):
    """A torch ``Dataset`` over an :class:`AutoDLDataset` whose decoded cache exists
    before any DataLoader worker forks, so that the workers share it."""

    def __init__(self, dataset: AutoDLDataset):
        self.dataset = dataset
        self.metadata = dataset.metadata
        dataset.cache  # noqa: B018 - made now, so that forked workers share it

    def __len__(self) -> int:
        return len(self.dataset)


class TorchDataset(_CachedSplit):
    """``(example, labels)`` float32 tensors of an :class:`AutoDLDataset`, by index."""

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x, y = self.dataset[i]
        return torch.from_numpy(x), torch.from_numpy(y)

    def loader(self, batch_size: int = 32, **kwargs: Any) -> DataLoader:
        """A DataLoader over this dataset; see :func:`make_loader`."""
        return make_loader(self, batch_size=batch_size, **kwargs)


class BatchDataset(_CachedSplit):
    """Whole batches of a fixed-shape split: ``ds[[i, j, ...]]`` is ``(X, Y)`` tensors.

    Meant for a DataLoader with ``batch_size=None`` and a ``BatchSampler`` as its
    sampler (:class:`GatherLoader`, what :func:`make_loader` builds): one gather from
    the decoded cache a batch. In a worker process it decodes the batch's examples into
    the shared cache and returns a :class:`Pending` batch for the main process to gather,
    so a batch crosses no pipe and is copied once; when the cache has no room for some,
    it returns the tensors themselves.
    """

    def __getitem__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor] | Pending:
        ds = self.dataset
        if ds.cache is not None and torch.utils.data.get_worker_info() is not None:
            kept = ds.fill(indices)
            if not kept:
                return Pending(list(indices))
            return self.batch(indices, kept=kept)  # the cache is full: the tensors themselves
        return self.batch(indices)

    def batch(
        self, indices: Sequence[int], pin: bool = False, kept: dict | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch as tensors, gathered straight into pinned memory with ``pin``;
        ``kept``: the examples ``fill`` decoded but could not cache."""
        if not pin:  # numpy's own allocation: quicker than torch.empty's fresh pages
            x, y = self.dataset.gather(indices, kept=kept)
            return torch.from_numpy(x), torch.from_numpy(y)
        spec = self.dataset.spec
        x = torch.empty((len(indices), *spec.shape), pin_memory=True)
        y = torch.empty((len(indices), spec.output_dim), pin_memory=True)
        self.dataset.gather(indices, out=(x.numpy(), y.numpy()), kept=kept)
        return x, y


class Pending:
    """A batch a worker process has decoded into the shared cache: its indices only."""

    __slots__ = ("indices",)

    def __init__(self, indices: list[int]):
        self.indices = indices


class GatherLoader(DataLoader):
    """A DataLoader of :class:`BatchDataset` batches (see :func:`make_loader`).

    Worker processes decode; this process gathers each batch from the shared cache.
    Once every example is cached an epoch starts no workers at all: gathering here is
    quicker than any hand-over between processes.
    """

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batches: BatchDataset = self.dataset  # type: ignore[assignment]
        pin = self.pin_memory and torch.cuda.is_available()
        if self.num_workers == 0 or batches.dataset.is_cached:
            for indices in self.sampler:
                yield batches.batch(indices, pin)
            return
        cache = batches.dataset.cache
        for item in super().__iter__():
            if isinstance(item, Pending):
                yield batches.batch(item.indices, pin)
            else:  # a worker found the cache full: the warning belongs here
                if cache is not None:
                    cache.warn_if_full(stacklevel=3)
                yield item


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


def _gathers(dataset: AutoDLDataset, size: Sequence[int] | None, kwargs: dict) -> bool:
    """True when batches can be gathered whole: one shape, nothing to pad, crop or resize."""
    spec = dataset.spec
    if not spec.is_fixed_shape or "collate_fn" in kwargs or "batch_sampler" in kwargs:
        return False
    return size is None or tuple(size) == tuple(spec.shape[3 - len(size) : 3])


def make_loader(
    dataset: TorchDataset | AutoDLDataset,
    batch_size: int = 32,
    *,
    policy: str = "pad",
    size: Sequence[int] | None = None,
    shuffle: bool = False,
    sampler: Any = None,
    drop_last: bool = False,
    pin_memory: bool | None = None,
    generator: torch.Generator | None = None,
    **kwargs: Any,
) -> DataLoader:
    """A ``torch.utils.data.DataLoader`` of ``(x, y)`` batches.

    Fixed shapes: a ``BatchSampler`` over ``sampler`` (default: shuffled or in order)
    and :class:`BatchDataset`, one gather a batch. Otherwise per example, stacked by
    :func:`collate` under ``policy`` and ``size``. ``pin_memory`` defaults to whether
    CUDA is available. Extra ``kwargs`` go to ``DataLoader`` (``num_workers``,
    ``persistent_workers``...); worker processes share this process's decoded cache.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")
    if not isinstance(dataset, TorchDataset):
        dataset = TorchDataset(dataset)
    if pin_memory is None:
        pin_memory = torch.cuda.is_available()
    common = {"pin_memory": pin_memory, "generator": generator, **kwargs}
    if _gathers(dataset.dataset, size, kwargs):
        if sampler is None:
            sampler = (
                RandomSampler(dataset, generator=generator)
                if shuffle
                else SequentialSampler(dataset)
            )
        elif shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        batches = BatchSampler(sampler, batch_size, drop_last)
        return GatherLoader(
            BatchDataset(dataset.dataset), batch_size=None, sampler=batches, **common
        )
    fn = kwargs.pop("collate_fn", None) or partial(collate, policy=policy, size=size)
    common.pop("collate_fn", None)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        sampler=sampler,
        drop_last=drop_last,
        collate_fn=fn,
        **common,
    )


def to_device(batch: Any, device: str | torch.device, non_blocking: bool = True) -> Any:
    """``batch`` (a tensor, or tuples, lists and dicts of them) on ``device``.

    To CUDA, CPU tensors are pinned first (DataLoader batches with ``pin_memory`` already
    are) and copied with ``non_blocking``: the copy overlaps with the work queued
    before it. On the CPU, tensors come back as they are.
    """
    device = torch.device(device)
    if torch.is_tensor(batch):
        if device.type == "cuda" and non_blocking and batch.device.type == "cpu":
            if not batch.is_pinned():
                batch = batch.pin_memory()
            return batch.to(device, non_blocking=True)
        return batch.to(device)
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_device(b, device, non_blocking) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device, non_blocking) for k, v in batch.items()}
    return batch
