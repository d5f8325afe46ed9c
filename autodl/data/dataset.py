"""``AutoDLDataset``: one split of a task as ``(example, labels)`` numpy pairs.

The first pass maps each shard into memory, checks every CRC, parses each
``SequenceExample`` and decodes its images (in worker processes on machines with 4 or
more CPUs). It keeps the decoded float32 arrays as it goes, so later passes neither
parse protobufs nor decode images: they copy the kept arrays. The cache is bounded
(``cache_limit``, default 4 GiB or a quarter of the machine's memory); past the bound it
is dropped and every pass decodes again. Variable shapes are fine: each example keeps
its own shape. An interrupted pass keeps what it decoded; the next pass goes on from
there.

>>> from autodl.data import load
>>> ds = load("../shared/data/autodl-format/miniciao")  # doctest: +SKIP
>>> example, labels = ds[0]                              # doctest: +SKIP
>>> example.shape, labels.shape                          # doctest: +SKIP
((1, 32, 32, 3), (10,))
"""

from __future__ import annotations

import mmap
import multiprocessing as mp
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DataError
from .features import FeatureSpec, parse_example
from .metadata import AutoDLMetadata
from .task import split_files
from .tfrecord import record_spans

if TYPE_CHECKING:
    import tensorflow as tf
    import torch.utils.data

__all__ = ["AutoDLDataset", "DEFAULT_CACHE_LIMIT"]

DEFAULT_CACHE_LIMIT = 4 << 30
_CHUNK = 256  # records per task of the decoding processes
_PROCESS_MIN = 4096  # fewer records than this are decoded in this process


def _parse_chunk(
    items: list[tuple[bytes, str, int]], spec: FeatureSpec
) -> list[tuple[np.ndarray, np.ndarray]]:
    return [parse_example(record, spec, path, j) for record, path, j in items]


def _cache_limit(value: int | None) -> int:
    if value is not None:
        return int(value)
    env = os.environ.get("AUTODL_CACHE_LIMIT")
    if env:
        return int(float(env))
    try:  # at most a quarter of the machine's memory
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return DEFAULT_CACHE_LIMIT
    return min(DEFAULT_CACHE_LIMIT, ram // 4)


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


class _Cache:
    """Decoded examples of a split, in index order, kept in memory.

    The first pass hands its freshly decoded arrays over as they are (no copy, no
    write), so caching costs it nothing; later passes return copies. Filled by
    sequential passes only (examples ``0..count-1``), complete once ``count == n``.
    Past ``limit`` bytes it is dropped for good and every pass decodes again.
    """

    def __init__(self, n: int, limit: int):
        self.n = n
        self.limit = limit
        self.nbytes = 0
        self.examples: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        self.dropped = False

    @property
    def count(self) -> int:
        return len(self.examples)

    def append(self, example: np.ndarray, labels: np.ndarray) -> None:
        self.nbytes += example.nbytes + labels.nbytes
        if self.nbytes > self.limit:
            self.drop()
            return
        self.examples.append(example)
        self.labels.append(labels)

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        # copies: callers may change their arrays in place without touching the cache
        return self.examples[i].copy(), self.labels[i].copy()

    @property
    def complete(self) -> bool:
        return not self.dropped and self.count == self.n

    @property
    def writable(self) -> bool:
        return not self.dropped and self.count < self.n

    def drop(self) -> None:
        self.dropped = True
        self.examples, self.labels = [], []


class AutoDLDataset:
    """One split folder (``metadata.textproto`` + TFRecord shards) as numpy pairs.

    Parameters
    ----------
    split_dir : the split folder (``<name>.data/train``) or a bare split folder.
    cache : keep decoded examples in a memory-mapped file for later passes.
    cache_limit : the cache's bound in bytes (default ``$AUTODL_CACHE_LIMIT``, else 4 GiB
        or a quarter of the machine's memory, whichever is less).
    num_workers : decoding processes of the first pass on large splits (default: one
        per CPU but one, at most 4; 0 decodes in this process).
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
        cpus = os.cpu_count() or 1
        # this process keeps a CPU busy too (receiving, caching, the caller's own work)
        # and on 2 or 3 CPUs a worker process costs more than it brings (measured)
        default = min(4, cpus - 1) if cpus >= 4 else 0
        self.num_workers = max(0, num_workers if num_workers is not None else default)
        self._shards: list[_Shard] | None = None
        self._where: list[list[int]] | None = None  # per example: shard, record in shard
        self._cache: _Cache | None = None

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

    def __len__(self) -> int:
        self._index()
        return len(self._where)  # type: ignore[arg-type]

    def _decode(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        k, j = self._where[i]  # type: ignore[index]
        shard = self._shards[k]  # type: ignore[index]
        # records are numbered within their file: that is what a person can look up
        return parse_example(shard.record(j), self.spec, shard.name, j)

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """``(example, labels)`` of example ``i`` (negative indices count from the end)."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"index {i} out of range for {n} examples")
        i %= n
        cache = self._cache
        if cache is not None and not cache.dropped and i < cache.count:
            return cache.get(i)
        return self._decode(i)

    # ------------------------------------------------------------------ passes
    def _decoded(self, start: int, stop: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if self.num_workers > 0 and stop - start >= _PROCESS_MIN:
            yield from self._decoded_in_processes(start, stop)
        else:
            for i in range(start, stop):
                yield self._decode(i)

    def _decoded_in_processes(
        self, start: int, stop: int
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Parse and decode in worker processes, in order; records travel as bytes.

        Parsing and decoding hold the GIL for most of their time, so threads would not
        scale. Falls back to this process when workers cannot be started (sandboxes).
        """
        # fork is fast, but unsafe once a framework has started its own threads
        busy = any(m in sys.modules for m in ("tensorflow", "torch"))
        ctx = mp.get_context("spawn" if busy else "fork")
        spec = self.spec

        def chunk(a: int) -> list[tuple[bytes, str, int]]:
            items = []
            for i in range(a, min(a + _CHUNK, stop)):
                k, j = self._where[i]  # type: ignore[index]
                shard = self._shards[k]  # type: ignore[index]
                items.append((shard.record(j), shard.name, j))
            return items

        try:
            pool = ProcessPoolExecutor(self.num_workers, mp_context=ctx)
            starts = iter(range(start, stop, _CHUNK))
            pending = [
                pool.submit(_parse_chunk, chunk(a), spec)
                for _, a in zip(range(3 * self.num_workers), starts, strict=False)
            ]
        except (OSError, BrokenProcessPool):
            yield from (self._decode(i) for i in range(start, stop))
            return
        with pool:
            while pending:
                results = pending.pop(0).result()
                nxt = next(starts, None)
                if nxt is not None:
                    pending.append(pool.submit(_parse_chunk, chunk(nxt), spec))
                yield from results

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self)
        cache = self._cache
        if self._use_cache and cache is None and n:
            cache = self._cache = _Cache(n, self._cache_limit)
        if cache is not None and not cache.dropped:
            done = cache.count
            for i in range(done):
                yield cache.get(i)
        else:
            done = 0
        for example, labels in self._decoded(done, n):
            if cache is not None and cache.writable:
                cache.append(example, labels)
            yield example, labels

    def cache_all(self) -> AutoDLDataset:
        """Run the first pass now (fills the cache); returns self."""
        for _ in self:
            pass
        return self

    @property
    def is_cached(self) -> bool:
        """True once a full pass has filled the cache (later passes read decoded tensors)."""
        return self._cache is not None and self._cache.complete

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
        if not examples:
            shape = tuple(max(s, 0) for s in self.spec.shape)
            return np.zeros((0, *shape), np.float32), np.zeros(
                (0, self.spec.output_dim), np.float32
            )
        return np.stack(examples), np.stack(labels)

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
        # Memory maps do not pickle: another process reopens the shards itself (a forked
        # one inherits everything, the cache included, without pickling).
        state = self.__dict__.copy()
        state["_shards"] = None
        state["_where"] = None
        state["_cache"] = None
        return state
