"""The decode pool: serialized records -> ``(example, labels)``, in this process or in many.

Parsing and decoding hold the GIL for most of their time, so threads would not scale:
long runs of records go to worker processes in chunks, as bytes, and come back in
order. Short runs, and machines with fewer than 4 CPUs, decode in the calling process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from .features import FeatureSpec, parse_example

__all__ = ["decode_one", "decoded", "default_workers"]

CHUNK = 256  # records per task of the decoding processes
PROCESS_MIN = 4096  # fewer records than this are decoded in the calling process

Record = tuple[bytes, str, int]  # serialized record, its file, its number in the file
Pair = tuple[np.ndarray, np.ndarray]


def default_workers(num_workers: int | None) -> int:
    """Decoding processes: ``num_workers``, else one per CPU but one, at most 4."""
    if num_workers is not None:
        return max(0, num_workers)
    cpus = os.cpu_count() or 1
    # this process keeps a CPU busy too (receiving, caching, the caller's own work)
    # and on 2 or 3 CPUs a worker process costs more than it brings (measured)
    return min(4, cpus - 1) if cpus >= 4 else 0


def decode_one(record: bytes, spec: FeatureSpec, path: str, index: int, raw: bool = False) -> Pair:
    """One record; errors name the file and the record's number in it. ``raw``: images
    as uint8 pixels (see :func:`~autodl.data.features.parse_example`)."""
    return parse_example(record, spec, path, index, raw)


def _parse_chunk(items: list[Record], spec: FeatureSpec, raw: bool) -> list[Pair]:
    return [parse_example(record, spec, path, j, raw) for record, path, j in items]


def decoded(
    record: Callable[[int], Record],
    indices: Sequence[int],
    spec: FeatureSpec,
    num_workers: int,
    raw: bool = False,
) -> Iterator[Pair]:
    """The pairs of ``indices`` in order; ``record(i)`` gives example ``i``'s record."""
    if num_workers > 0 and len(indices) >= PROCESS_MIN:
        yield from _in_processes(record, indices, spec, num_workers, raw)
    else:
        for i in indices:
            rec, path, j = record(i)
            yield decode_one(rec, spec, path, j, raw)


def _in_processes(
    record: Callable[[int], Record],
    indices: Sequence[int],
    spec: FeatureSpec,
    workers: int,
    raw: bool,
) -> Iterator[Pair]:
    # fork is fast, but unsafe once a framework has started its own threads
    busy = any(m in sys.modules for m in ("tensorflow", "torch"))
    ctx = mp.get_context("spawn" if busy else "fork")
    starts = iter(range(0, len(indices), CHUNK))

    def chunk(a: int) -> list[Record]:
        return [record(i) for i in indices[a : a + CHUNK]]

    try:
        pool = ProcessPoolExecutor(workers, mp_context=ctx)
        pending = [
            pool.submit(_parse_chunk, chunk(a), spec, raw)
            for _, a in zip(range(3 * workers), starts, strict=False)
        ]
    except (OSError, BrokenProcessPool):  # sandboxes may forbid new processes
        for i in indices:
            rec, path, j = record(i)
            yield decode_one(rec, spec, path, j, raw)
        return
    with pool:
        while pending:
            results = pending.pop(0).result()
            nxt = next(starts, None)
            if nxt is not None:
                pending.append(pool.submit(_parse_chunk, chunk(nxt), spec, raw))
            yield from results
