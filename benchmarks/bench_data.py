"""Reading speed: our reader (first pass, later passes) against tf.data, in one run.

For each dataset (miniciao's PNG images and mini-mnist's dense floats, each repeated
to >= 20,000 examples in a temporary folder) it prints examples/s of

- ours, first pass: a fresh ``autodl.data.load`` iterated once (CRC, parse, decode,
  cache fill);
- ours, later pass: the same object iterated again (from the decoded cache);
- tf.data: the reference pipeline in TF2 (``TFRecordDataset`` -> ``map`` with
  ``num_parallel_calls=AUTOTUNE`` of ``parse_single_sequence_example`` + decode), each
  element delivered to Python as numpy, as our pairs are; and the same batched by 256
  inside TensorFlow (its fastest consumption, a stricter bar);

and the ratios. Targets: first pass >= 1.0x tf.data, later passes >= 10x.

Run: ``python benchmarks/bench_data.py [--examples N] [--shared DIR]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from autodl.data import AutoDLMetadata, load
from autodl.data.task import find_task, split_files
from autodl.data.tfrecord import read_records, write_records

HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared" / "data" / "autodl-format"


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


def rate(fn) -> float:
    t = time.perf_counter()
    n = fn()
    return n / (time.perf_counter() - t)


def count(iterable) -> int:
    n = 0
    for _ in iterable:
        n += 1
    return n


def bench(name: str, split: Path, passes: int, workers: list[int]) -> dict[str, float]:
    import tensorflow as tf

    from autodl.data.tf import reference_dataset

    ds = load(split)
    first = rate(lambda: count(ds))
    later = max(rate(lambda: count(ds)) for _ in range(passes))
    # the first pass again with explicit numbers of decoding processes
    by_workers = {w: rate(lambda w=w: count(load(split, num_workers=w))) for w in workers}

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
    print(f"  ours, first pass     {first:12,.0f} ex/s  (default: {ds.num_workers} processes)")
    for w, r in by_workers.items():
        print(f"    with {w} processes    {r:12,.0f} ex/s  ({r / first:.2f}x the default)")
    print(f"  ours, later passes   {later:12,.0f} ex/s")
    print(f"  tf.data, per element {ref:12,.0f} ex/s")
    print(f"  tf.data, batched     {ref_batched:12,.0f} ex/s")
    print(f"  first / tf.data      {first / ref:8.2f}x   (batched: {first / ref_batched:.2f}x)")
    print(f"  later / tf.data      {later / ref:8.2f}x   (batched: {later / ref_batched:.2f}x)")
    return {"first": first, "later": later, "tf": ref, "tf_batched": ref_batched}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--passes", type=int, default=2, help="later passes timed (best kept)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED)
    parser.add_argument(
        "--workers", default="", help="also time the first pass with these process counts: 0,2"
    )
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tmp = Path(tempfile.mkdtemp(prefix="autodl-bench-"))
    try:
        ciao = find_task(args.shared / "miniciao").train_dir
        mnist = find_task(args.shared / "mini-mnist").train_dir
        print(f"CPUs: {os.cpu_count()}; examples per dataset: {args.examples}")
        workers = [int(w) for w in args.workers.split(",") if w.strip()]
        ciao_split = repeat_split(ciao, tmp / "ciao", args.examples)
        bench("miniciao (PNG 32x32x3)", ciao_split, args.passes, workers)
        mnist_split = repeat_split(mnist, tmp / "mnist", args.examples)
        bench("mini-mnist (dense 28x28x1)", mnist_split, args.passes, workers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
