"""``AutoDLDataset``: one split of a task as ``(example, labels)`` numpy pairs, by index.

This module owns the indexing: the shards (each TFRecord file memory-mapped, every CRC
checked once), the record index (example ``i`` -> file, record in the file), and the
ways in: ``len``, ``ds[i]``, ``ds.gather(indices)`` and iteration. Every one of them
reads the decoded cache first (:mod:`autodl.data.cache`) and stores what it decoded, so
whatever order examples are read in, each is parsed and decoded once. Long runs of
undecoded records go through the decode pool (:mod:`autodl.data.decode`). The
framework adapters are :mod:`autodl.data.torch` and :mod:`autodl.data.tf`.

>>> from autodl.data import load
>>> ds = load("../shared/data/autodl-format/miniciao")  # doctest: +SKIP
>>> example, labels = ds[0]                              # doctest: +SKIP
>>> example.shape, labels.shape                          # doctest: +SKIP
((1, 32, 32, 3), (10,))
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .cache import DEFAULT_CACHE_LIMIT, DecodedCache
from .cache import cache_limit as _cache_limit
from .decode import decode_one, decoded, default_workers
from .errors import DataError
from .features import FeatureSpec, pixels_to_float
from .metadata import AutoDLMetadata
from .task import split_files
from .tfrecord import record_spans

if TYPE_CHECKING:
    import tensorflow as tf
    import torch.utils.data

__all__ = ["AutoDLDataset", "DEFAULT_CACHE_LIMIT"]

_BLOCK = 256  # examples copied at once when a pass reads a cached stretch


class _Shard:
    """One TFRecord file, memory-mapped, with the (offset, length) of each record."""

    def __init__(self, path: Path, check_crc: bool):
        self.path = path
        self.name = str(path)
        size = path.stat().st_size
        if size == 0:
            self.buf: Any = b""
        else:
            with open(path, "rb") as f:
                self.buf = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.spans = record_spans(self.buf, path, check_crc=check_crc)

    def record(self, k: int) -> bytes:
        start, length = self.spans[k]
        return self.buf[start : start + length]


class AutoDLDataset:
    """One split folder (``metadata.textproto`` + TFRecord shards) as numpy pairs.

    Parameters
    ----------
    split_dir : the split folder (``<name>.data/train``) or a bare split folder.
    cache : keep decoded examples (in shared memory, see :mod:`autodl.data.cache`).
    cache_limit : the cache's bound in bytes (default ``$AUTODL_CACHE_LIMIT``, else 4 GiB
        or a quarter of the machine's memory, whichever is less). Past it, what is cached
        stays cached and the rest is decoded on every access (a warning says so once).
    num_workers : decoding processes for long runs of records (default: one per CPU but
        one, at most 4, none below 4 CPUs; 0 decodes in this process).
    check_crc : check every record's CRC-32C (the default; TensorFlow does too).
    """

    def __init__(
        self,
        split_dir: str | os.PathLike[str],
        *,
        cache: bool = True,
        cache_limit: int | None = None,
        num_workers: int | None = None,
        check_crc: bool = True,
    ):
        self.split_dir = Path(split_dir)
        self.metadata = AutoDLMetadata.from_file(self.split_dir)
        self.spec = FeatureSpec.from_metadata(self.metadata)
        self.files = split_files(self.split_dir)
        if not self.files:
            raise DataError(self.split_dir, "no TFRecord files (*.tfrecord or sample*)")
        self._use_cache = cache
        self._cache_limit = _cache_limit(cache_limit)
        self._check_crc = check_crc
        self.num_workers = default_workers(num_workers)
        self._shards: list[_Shard] | None = None
        self._where: list[list[int]] | None = None  # per example: shard, record in shard
        self._cache: DecodedCache | None = None

    # ------------------------------------------------------------------ indexing
    def _index(self) -> None:
        if self._shards is not None:
            return
        shards = [_Shard(p, self._check_crc) for p in self.files]
        where = [
            np.stack([np.full(len(s.spans), k), np.arange(len(s.spans))], axis=1)
            for k, s in enumerate(shards)
            if s.spans
        ]
        # plain lists: indexing them per example is cheaper than numpy scalars
        self._where = np.concatenate(where).astype(np.int64).tolist() if where else []
        self._shards = shards
        if self._use_cache and self._cache is None and self._where:
            # made with the index, so that processes forked later (DataLoader workers)
            # map this one instead of each making its own
            shape = self.spec.shape if self.spec.is_fixed_shape else None
            self._cache = DecodedCache(
                len(self._where),
                shape,
                self.spec.output_dim,
                self._cache_limit,
                pixels=self.spec.kind == "compressed",  # kept as uint8, a quarter the bytes
            )

    def __len__(self) -> int:
        self._index()
        return len(self._where)  # type: ignore[arg-type]

    def _record(self, i: int) -> tuple[bytes, str, int]:
        k, j = self._where[i]  # type: ignore[index]
        shard = self._shards[k]  # type: ignore[index]
        # records are numbered within their file: that is what a person can look up
        return shard.record(j), shard.name, j

    @property
    def _raw(self) -> bool:
        """Decode images to the uint8 pixels the cache stores (see ``_served``)."""
        return self._cache is not None and self._cache.pixels

    def _served(self, example: np.ndarray) -> np.ndarray:
        """The float32 example of what ``_decode``/``_decoded`` gave."""
        return pixels_to_float(example) if example.dtype == np.uint8 else example

    def _one_bundle(self) -> None:
        """Refuse examples of several bundles: ``(example, labels)`` holds one."""
        n = self.metadata.get_bundle_size()
        if n > 1:
            raise DataError(
                self.metadata.path or self.split_dir,
                f"matrix_spec: {n} bundles per example; the native dataset reads examples "
                "of one bundle (it never drops the others): read this split through the "
                "AutoDL API's TF dataset, whose elements are (bundle_0, ..., labels)",
            )

    def _decode(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        self._one_bundle()
        record, path, j = self._record(i)
        return decode_one(record, self.spec, path, j, self._raw)

    def _decoded(self, indices: Sequence[int]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        self._one_bundle()
        return decoded(self._record, indices, self.spec, self.num_workers, self._raw)

    @property
    def cache(self) -> DecodedCache | None:
        """The decoded cache (None with ``cache=False`` or no examples)."""
        self._index()
        return self._cache

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(example, labels)`` of example ``i`` (negative indices count from the end)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} examples")
        i = int(i) % n
        cache = self._cache
        if cache is not None:
            hit = cache.get(i)
            if hit is not None:
                return hit
        example, labels = self._decode(i)
        if cache is not None:
            cache.put(i, example, labels)
        return self._served(example), labels

    def _check(self, indices: Sequence[int] | np.ndarray) -> np.ndarray:
        n = len(self)
        index = np.asarray(indices, dtype=np.int64).reshape(-1)
        if index.size and (index.min() < -n or index.max() >= n):
            bad = index[(index < -n) | (index >= n)][0]
            raise IndexError(f"index {bad} out of range for {n} examples")
        return index % max(n, 1)

    def fill(self, indices: Sequence[int] | np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """Decode and cache the examples at ``indices`` not cached yet.

        Returns ``{index: (example, labels)}`` of those the cache had no room for (empty
        while it is under its limit, and always with ``cache=False``: nothing is kept).
        """
        cache = self._cache
        if cache is None:
            return {}
        todo = np.unique(cache.missing(self._check(indices)))
        kept = {}
        for i, (x, y) in zip(todo.tolist(), self._decoded(todo), strict=True):
            if not cache.put(i, x, y):
                kept[i] = (self._served(x), y)
        return kept

    def gather(
        self,
        indices: Sequence[int] | np.ndarray,
        out: tuple[np.ndarray, np.ndarray] | None = None,
        kept: dict[int, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Examples at ``indices`` stacked: ``X`` ``(k, T, R, C, Ch)``, ``Y`` ``(k, output_dim)``.

        For fixed shapes only (a ``ValueError`` otherwise). Cached examples come in one
        fancy-indexing copy; the others are decoded (and cached) first. ``out``: arrays
        of those shapes (float32) to write into, e.g. views of pinned tensors. ``kept``:
        what :meth:`fill` just returned for these indices (not decoded a second time).
        """
        if not self.spec.is_fixed_shape:
            raise ValueError(
                f"{self.split_dir}: gather needs one shape for all examples, the metadata "
                f"says {self.spec.shape} (index examples one by one)"
            )
        index = self._check(indices)
        cache = self._cache
        if cache is None:
            xs, ys = _stack(list(self._decoded(index)), self.spec)
            if out is None:
                return xs, ys
            out[0][...], out[1][...] = xs, ys
            return out
        if kept is None:
            kept = self.fill(index)  # decoded but refused by a full cache
        if not kept:
            return cache.gather(index, out)
        if out is None:
            out = (
                np.empty((len(index), *self.spec.shape), np.float32),
                np.empty((len(index), self.spec.output_dim), np.float32),
            )
        xs, ys = out
        hit = ~np.isin(index, np.fromiter(kept, np.int64, len(kept)))
        xs[hit], ys[hit] = cache.gather(index[hit])
        for pos in np.flatnonzero(~hit).tolist():
            xs[pos], ys[pos] = kept[int(index[pos])]
        return xs, ys

    # ------------------------------------------------------------------ passes
    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self)
        cache = self._cache
        if cache is None:
            yield from self._decoded(range(n))
            return
        missing = np.flatnonzero(cache.filled == 0)
        todo = missing.tolist()
        fresh = self._decoded(missing)  # one decode pool for the whole pass
        k = 0
        try:
            for a in range(0, n, _BLOCK):
                b = min(a + _BLOCK, n)
                if k == len(todo) or todo[k] >= b:
                    block = cache.block(a, b)
                    if block is not None:
                        xs, ys = block
                        for r in range(b - a):
                            yield xs[r], ys[r]
                        continue
                for i in range(a, b):
                    if k < len(todo) and todo[k] == i:
                        example, labels = next(fresh)
                        k += 1
                        cache.put(i, example, labels)
                        yield self._served(example), labels
                    else:
                        yield self[i]
        finally:
            fresh.close()

    def cache_all(self) -> AutoDLDataset:
        """Decode everything now (fills the cache); returns self."""
        for _ in self:
            pass
        return self

    @property
    def is_cached(self) -> bool:
        """True once every example is in the cache (later passes read decoded tensors)."""
        cache = self.cache
        return cache is not None and cache.complete

    # ------------------------------------------------------------------ adapters
    def to_numpy(self, max_bytes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All examples stacked: ``X`` of shape ``(n, T, R, C, Ch)`` and ``Y`` ``(n, output_dim)``.

        Raises ``ValueError`` when shapes differ between examples (use the torch adapter's
        collate policies, or iterate) or when ``X`` would exceed ``max_bytes`` (default:
        the cache limit).
        """
        limit = self._cache_limit if max_bytes is None else max_bytes
        n = len(self)
        if self.spec.is_fixed_shape:
            need = n * int(np.prod(self.spec.shape)) * 4
            if need > limit:
                raise ValueError(
                    f"{self.split_dir}: stacking {n} examples of shape {self.spec.shape} needs "
                    f"{need / 2**20:.0f} MiB, over the limit of {limit / 2**20:.0f} MiB "
                    "(pass max_bytes=, or iterate)"
                )
            return self.gather(np.arange(n))
        examples, labels = [], []
        total = 0
        for i, (x, y) in enumerate(self):
            if examples and x.shape != examples[0].shape:
                raise ValueError(
                    f"{self.split_dir}: example {i} has shape {x.shape}, example 0 has "
                    f"{examples[0].shape}: cannot stack variable shapes (iterate, or use "
                    "to_torch() with a collate policy)"
                )
            total += x.nbytes
            if total > limit:
                raise ValueError(
                    f"{self.split_dir}: stacked examples exceed the limit of "
                    f"{limit / 2**20:.0f} MiB (pass max_bytes=, or iterate)"
                )
            examples.append(x)
            labels.append(y)
        return _stack(list(zip(examples, labels, strict=True)), self.spec)

    def to_torch(self) -> torch.utils.data.Dataset:
        """A ``torch.utils.data.Dataset`` of ``(example, labels)`` float32 tensors."""
        from .torch import TorchDataset

        return TorchDataset(self)

    def to_tf(self) -> tf.data.Dataset:
        """A TF2 ``tf.data.Dataset`` of the same ``(example, labels)`` pairs."""
        from .tf import to_tf_dataset

        return to_tf_dataset(self)

    def __repr__(self) -> str:
        return f"AutoDLDataset({str(self.split_dir)!r}, {self.metadata!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Memory maps of the shards do not pickle: another process reopens them itself.
        # The cache pickles as a way to map the same shared memory (made first, so that
        # a spawned DataLoader worker shares it with this process).
        self._index()
        state = self.__dict__.copy()
        state["_shards"] = None
        state["_where"] = None
        return state


def _stack(
    pairs: list[tuple[np.ndarray, np.ndarray]], spec: FeatureSpec
) -> tuple[np.ndarray, np.ndarray]:
    if pairs:
        return np.stack([x for x, _ in pairs]), np.stack([y for _, y in pairs])
    shape = tuple(max(s, 0) for s in spec.shape)
    return np.zeros((0, *shape), np.float32), np.zeros((0, spec.output_dim), np.float32)
