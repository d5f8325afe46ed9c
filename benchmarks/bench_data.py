"""Reading speed: our reader and our PyTorch loader against tf.data, in one run.

Part 1, shuffled training loaders (issue 15), on a synthetic JPEG task written by our
writer in a temporary folder (``--jpegs`` images of 32x32x3, default 20,500), batches of
``--batch`` (256), epochs 1 to 3 in examples/s of

- ours, 0 workers: ``load(split).to_torch().loader(batch_size, shuffle=True)``;
- ours, 2 workers: the same with ``num_workers=2`` (workers share one decoded cache);
- tf.data: the 2019 reference pipeline in TF2 (``TFRecordDataset`` -> ``map`` with
  ``num_parallel_calls=AUTOTUNE`` of ``parse_single_sequence_example`` + decode), then
  ``shuffle`` (the whole split) -> ``batch`` -> ``prefetch``, each batch taken to numpy,
  after one warm-up epoch.

Each of the three runs in a fresh process, so that its peak resident memory (and that of
its DataLoader worker processes) is its own; the three take turns, ``--rounds`` times
(default 3), so that a busy machine slows all of them alike. Ratios are to tf.data's best
epoch in the same round (targets: epoch 1 >= 2x, later epochs >= 20x); the summary gives
the median and the range over rounds. ``--cache-limit SIZE`` (e.g. ``20M``) shows the
policy past the limit: the warning, and later epochs that decode the rest again.

Part 2, plain passes, on miniciao (PNG) and mini-mnist (dense floats) repeated to
``--examples`` (20,000): a fresh dataset iterated once (CRC, parse, decode, cache fill),
then again (from the cache), against tf.data per element and batched by 256 inside
TensorFlow. Targets: first pass >= 1.0x tf.data, later passes >= 10x.

Run: ``python benchmarks/bench_data.py [--jpegs N] [--rounds R] [--cache-limit SIZE]
[--examples N] [--skip-passes]``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import shutil
import statistics
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from autodl.data import AutoDLMetadata, load, write_task
from autodl.data.cache import parse_cache_limit
from autodl.data.task import find_task, split_files
from autodl.data.tfrecord import read_records, write_records

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared" / "data" / "autodl-format"
KINDS = ("ours, 0 workers", "ours, 2 workers", "tf.data")


def peak_rss() -> tuple[float, float]:
    """Peak resident MiB of this process, and of its largest waited-for child process
    (a forked DataLoader worker's counts the pages it shares with its parent)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


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
    base = np.cumsum(rng.normal(0, 12, (n, 32, 32, 3)).astype(np.float32), axis=2)
    pixels = np.clip(base + np.linspace(40, 200, 32, dtype=np.float32)[None, :, None, None], 0, 255)
    del base
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


def measure(kind: str, split: str, batch: int, limit: int | None) -> dict:
    """One loader's epochs 1 to 3, run in a fresh process (see ``main``)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # A process started by "spawn" makes spawn its children's default too; DataLoader
    # workers of a script on Linux are forked: measure those
    mp.set_start_method("fork", force=True)
    result: dict = {}
    if kind == "tf.data":
        import tensorflow as tf

        from autodl.data.tf import reference_dataset

        n = len(load(split, cache=False))

        class Numpy:  # each batch delivered to Python as numpy, as ours are as tensors
            def __iter__(self):
                pipeline = (
                    reference_dataset(split)
                    .shuffle(n, seed=0, reshuffle_each_iteration=True)
                    .batch(batch)
                    .prefetch(tf.data.AUTOTUNE)
                )
                for x, y in pipeline:
                    yield x.numpy(), y.numpy()

        count(Numpy())  # warm up TensorFlow (graph tracing, thread pools)
        result["rates"] = epochs(Numpy())
    else:
        import torch  # noqa: F401 - imported before the clock starts, as TF is above

        workers = 2 if "2" in kind else 0
        ds = load(split, cache_limit=limit)
        loader = ds.to_torch().loader(batch_size=batch, shuffle=True, num_workers=workers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result["rates"] = epochs(loader)
        cache = ds.cache
        result["cache"] = (cache.nbytes, cache.limit, cache.count, cache.n, str(cache.dtype))
        result["warnings"] = [str(w.message) for w in caught]
    result["rss"] = peak_rss()
    return result


def in_process(*args) -> dict:
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(measure, *args).result()


def spread(values: list[float], fmt: str) -> str:
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def bench_loaders(split: Path, batch: int, limit: int | None, rounds: int) -> None:
    n = len(load(split, cache=False))
    print(f"\nshuffled loaders: {n:,} JPEG images 32x32x3, batches of {batch}, {rounds} rounds")
    runs: dict[str, list[dict]] = {k: [] for k in KINDS}
    for r in range(rounds):
        for kind in KINDS:
            res = in_process(kind, str(split), batch, limit)
            runs[kind].append(res)
            rss, child = res["rss"]
            line = "  ".join(f"epoch {e + 1} {v:9,.0f}" for e, v in enumerate(res["rates"]))
            extra = f"peak RSS {rss:,.0f} MiB"
            if child:
                extra += f", workers {child:,.0f} MiB each at most"
            print(f"  round {r + 1} {kind:16s} {line} ex/s; {extra}")
            if "cache" in res:
                held, cap, kept, total, dtype = res["cache"]
                print(
                    f"      cache {held / 2**20:,.1f} MiB ({dtype}) of the {cap / 2**20:,.0f} MiB "
                    f"limit, {kept:,}/{total:,} examples"
                )
            for message in dict.fromkeys(res.get("warnings", [])):
                print(f"      warning: {message}")
        best = max(runs["tf.data"][-1]["rates"])
        for kind in KINDS[:2]:
            rates = runs[kind][-1]["rates"]
            runs[kind][-1]["ratios"] = [v / best for v in rates]
    print(f"\n  summary, median (min-max) over {rounds} rounds, examples/s:")
    for kind in KINDS:
        cells = [spread([res["rates"][e] for res in runs[kind]], ",.0f") for e in range(3)]
        rss = spread([res["rss"][0] for res in runs[kind]], ",.0f")
        print(f"  {kind:16s} " + "  ".join(f"epoch {e + 1} {c}" for e, c in enumerate(cells)))
        print(f"  {'':16s} peak RSS {rss} MiB")
    print("  ratios to tf.data's best epoch of the same round (targets: 2x, then 20x):")
    for kind in KINDS[:2]:
        cells = [spread([res["ratios"][e] for res in runs[kind]], ".2f") for e in range(3)]
        print(f"  {kind:16s} " + "  ".join(f"epoch {e + 1} {c}x" for e, c in enumerate(cells)))


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
    parser.add_argument("--jpegs", type=int, default=20_500, help="images of the loader task")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3, help="turns of the three loaders")
    parser.add_argument(
        "--cache-limit", type=parse_cache_limit, help="e.g. 20M (default: autodl's)"
    )
    parser.add_argument("--examples", type=int, default=20_000, help="examples of part 2")
    parser.add_argument("--passes", type=int, default=2, help="later passes timed (best kept)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument("--skip-passes", action="store_true", help="part 1 only")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tmp = Path(tempfile.mkdtemp(prefix="autodl-bench-"))
    try:
        print(f"CPUs: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
        bench_loaders(jpeg_task(tmp, args.jpegs), args.batch, args.cache_limit, args.rounds)
        if args.skip_passes:
            return
        ciao = find_task(args.shared / "miniciao").train_dir
        mnist = find_task(args.shared / "mini-mnist").train_dir
        ciao_split = repeat_split(ciao, tmp / "ciao", args.examples)
        bench_passes("miniciao (PNG 32x32x3)", ciao_split, args.passes)
        mnist_split = repeat_split(mnist, tmp / "mnist", args.examples)
        bench_passes("mini-mnist (dense 28x28x1)", mnist_split, args.passes)
        rss, _ = peak_rss()
        print(f"\npart 2: peak RSS {rss:,.0f} MiB (this process, task writing included)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
