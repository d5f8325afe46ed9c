"""Reading speed: our reader and our PyTorch loader against tf.data, in one run.

Part 1, shuffled training loaders (issue 15), on a synthetic JPEG task written by our
writer in a temporary folder (``--jpegs`` images of 32x32x3, default 5,000), batches of
``--batch`` (256), epochs 1 to 3 in examples/s of

- ours, 0 workers: ``load(split).to_torch().loader(batch_size, shuffle=True)``;
- ours, 2 workers: the same with ``num_workers=2`` (workers share one decoded cache);
- tf.data: the 2019 reference pipeline in TF2 (``TFRecordDataset`` -> ``map`` with
  ``num_parallel_calls=AUTOTUNE`` of ``parse_single_sequence_example`` + decode), then
  ``shuffle`` (the whole split) -> ``batch`` -> ``prefetch``, each batch taken to numpy;

their ratios to tf.data's best epoch (targets: epoch 1 >= 2x, later epochs >= 20x), the
cache's size and limit, and the peak resident memory of this process (and of its worker
processes) after each part.

Part 2, plain passes, on miniciao (PNG) and mini-mnist (dense floats) repeated to
``--examples`` (20,000): a fresh dataset iterated once (CRC, parse, decode, cache fill),
then again (from the cache), against tf.data per element and batched by 256 inside
TensorFlow. Targets: first pass >= 1.0x tf.data, later passes >= 10x.

Run: ``python benchmarks/bench_data.py [--jpegs N] [--examples N] [--skip-passes]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from autodl.data import AutoDLMetadata, load, write_task
from autodl.data.task import find_task, split_files
from autodl.data.tfrecord import read_records, write_records

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared" / "data" / "autodl-format"


def peak_rss() -> str:
    """Peak resident memory so far of this process and of its largest waited-for child,
    and this process's resident memory now (of which shared memory: the cache)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    now = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssShmem"):
                now[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    current = (
        f", now {now['VmRSS']:,.0f} MiB ({now['RssShmem']:,.0f} shared)" if len(now) == 2 else ""
    )
    # a forked worker's RSS also counts the pages it shares with this process
    return f"peak RSS {own:,.0f} MiB{current}; worker processes: {child:,.0f} MiB each at most"


def rate(fn) -> float:
    t = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t)


def count(iterable) -> int:
    n = 0
    for _ in iterable:
        n += 1
    return n


# --------------------------------------------------------------------------- loaders


def jpeg_task(out: Path, n: int) -> Path:
    """A task of ``n`` smooth 32x32x3 images stored as JPEG (what TF's decoder gets too)."""
    rng = np.random.default_rng(0)
    base = np.cumsum(rng.normal(0, 12, (n, 32, 32, 3)), axis=2)
    pixels = np.clip(base + np.linspace(40, 200, 32)[None, :, None, None], 0, 255)
    root = write_task(
        out,
        "jpegs",
        (pixels.astype(np.uint8), rng.integers(0, 10, n)),
        format="compressed",
        image_format="jpeg",
        jpeg_quality=90,
    )
    return root / "jpegs.data" / "train"


def epochs(loader, passes: int = 3) -> list[float]:
    def one() -> int:
        n = 0
        for x, _ in loader:
            n += int(x.shape[0])
        return n

    return [rate(one) for _ in range(passes)]


def bench_loaders(split: Path, batch: int, limit: int | None) -> None:
    import torch  # noqa: F401 - imported first, so that its own memory shows apart

    n = len(load(split))
    print(f"\nshuffled loaders: {n} JPEG images 32x32x3, batches of {batch}")
    print(f"  torch imported: {peak_rss()}")
    ours = {}
    for workers in (0, 2):
        ds = load(split, cache_limit=limit)
        loader = ds.to_torch().loader(batch_size=batch, shuffle=True, num_workers=workers)
        ours[workers] = epochs(loader)
        cache = ds.cache
        print(
            f"  ours, {workers} workers   "
            + "  ".join(f"epoch {e + 1} {r:10,.0f} ex/s" for e, r in enumerate(ours[workers]))
        )
        print(
            f"    cache {cache.nbytes / 2**20:,.1f} MiB of {cache.limit / 2**20:,.0f} MiB "
            f"limit, {cache.count}/{n} examples; {peak_rss()}"
        )
        del loader, ds, cache

    import tensorflow as tf

    from autodl.data.tf import reference_dataset

    def tf_loader():
        return (
            reference_dataset(str(split))
            .shuffle(n, seed=0, reshuffle_each_iteration=True)
            .batch(batch)
            .prefetch(tf.data.AUTOTUNE)
        )

    class Numpy:  # each batch delivered to Python as numpy, as ours are as tensors
        def __iter__(self):
            for x, y in tf_loader():
                yield x.numpy(), y.numpy()

    count(Numpy())  # warm up TensorFlow (graph tracing, thread pools)
    ref = epochs(Numpy())
    print(
        "  tf.data             "
        + "  ".join(f"epoch {e + 1} {r:10,.0f} ex/s" for e, r in enumerate(ref))
    )
    print(f"    {peak_rss()}")
    # tf.data does the same work every epoch: its best one is the bar
    best = max(ref)
    for workers, rates in ours.items():
        ratios = "  ".join(f"epoch {e + 1} {r / best:8.2f}x" for e, r in enumerate(rates))
        print(f"  ours, {workers} workers / tf.data's best epoch   {ratios}")


# --------------------------------------------------------------------------- passes


def repeat_split(split_dir: Path, out_dir: Path, n: int) -> Path:
    """A copy of a split whose records are repeated to ``n`` examples (one shard)."""
    records = [r for f in split_files(split_dir) for r in read_records(f)]
    reps = -(-n // len(records))
    records = (records * reps)[:n]
    out_dir.mkdir(parents=True)
    md = AutoDLMetadata.from_file(split_dir)
    md.metadata_.sample_count = len(records)
    md.write(out_dir / "metadata.textproto")
    write_records(out_dir / "sample-bench.tfrecord", records)
    return out_dir


def bench_passes(name: str, split: Path, passes: int) -> None:
    import tensorflow as tf

    from autodl.data.tf import reference_dataset

    ds = load(split)
    first = rate(lambda: count(ds))
    later = max(rate(lambda: count(ds)) for _ in range(passes))

    def tf_elements() -> int:
        n = 0
        for x, y in reference_dataset(str(split)).prefetch(tf.data.AUTOTUNE):
            x.numpy(), y.numpy()
            n += 1
        return n

    def tf_batched() -> int:
        n = 0
        for x, _ in reference_dataset(str(split)).batch(256).prefetch(tf.data.AUTOTUNE):
            n += int(x.shape[0])
        return n

    tf_elements()  # warm up TensorFlow (graph tracing, thread pools)
    ref = rate(tf_elements)
    ref_batched = rate(tf_batched)
    print(f"\n{name}: {len(ds)} examples, shape {ds.metadata.get_tensor_shape()}")
    print(f"  ours, first pass     {first:12,.0f} ex/s  ({ds.num_workers} decoding processes)")
    print(f"  ours, later passes   {later:12,.0f} ex/s")
    print(f"  tf.data, per element {ref:12,.0f} ex/s")
    print(f"  tf.data, batched     {ref_batched:12,.0f} ex/s")
    print(f"  first / tf.data      {first / ref:8.2f}x   (batched: {first / ref_batched:.2f}x)")
    print(f"  later / tf.data      {later / ref:8.2f}x   (batched: {later / ref_batched:.2f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jpegs", type=int, default=5000, help="images of the loader task")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--cache-limit", type=float, help="bytes (default: autodl's)")
    parser.add_argument("--examples", type=int, default=20_000, help="examples of part 2")
    parser.add_argument("--passes", type=int, default=2, help="later passes timed (best kept)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--skip-passes", action="store_true", help="part 1 only")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tmp = Path(tempfile.mkdtemp(prefix="autodl-bench-"))
    try:
        print(f"CPUs: {os.cpu_count()}")
        limit = int(args.cache_limit) if args.cache_limit else None
        bench_loaders(jpeg_task(tmp, args.jpegs), args.batch, limit)
        if args.skip_passes:
            return
        ciao = find_task(args.shared / "miniciao").train_dir
        mnist = find_task(args.shared / "mini-mnist").train_dir
        ciao_split = repeat_split(ciao, tmp / "ciao", args.examples)
        bench_passes("miniciao (PNG 32x32x3)", ciao_split, args.passes)
        mnist_split = repeat_split(mnist, tmp / "mnist", args.examples)
        bench_passes("mini-mnist (dense 28x28x1)", mnist_split, args.passes)
        print(f"\n{peak_rss()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
