"""Ingestion speed: harness overhead per train/test round, and prediction writing.

1. Overhead per round: a do-nothing native model (fit does nothing, predict returns a
   ready array) runs ``--rounds`` rounds through the real supervisor and worker
   processes. Per round the harness sends two messages, receives two answers (one with
   the prediction's raw bytes), validates the prediction, appends to start.txt and
   writes the file; the write alone is timed separately on the same machine, so
   overhead = (ingestion duration / rounds) - write time.
2. Sandbox start: the same interpreter started bare and inside the worker's sandbox
   (:func:`autodl.ingestion.sandbox.confine`: cgroup join, bwrap's namespaces and
   mounts), median of ``--starts`` starts each; the difference is what confinement adds
   to a run's start (target < 100 ms). Per round it adds nothing: the round trip in 1.
   runs on the same pipes either way.
3. Prediction writing: the 2019 reference writer (``'{:g} '`` per value, one
   ``write`` per value) against :func:`autodl.protocol.write_prediction` on the same
   array; the bytes must be identical.

Run: ``.venv/bin/python benchmarks/bench_ingestion.py [--rounds 300] [--rows 10000 --cols 100]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from autodl import protocol
from autodl.data import write_task
from autodl.ingestion.supervisor import IngestionOptions, ingest


def reference_write(path: Path, prediction: np.ndarray) -> None:
    """The AutoDL 2019 starting kit's writer: a formatted write per value."""
    with open(path, "w") as f:
        for row in prediction:
            for value in row:
                f.write("{:g} ".format(float(value)))  # noqa: UP032 - the reference's exact call
            f.write("\n")


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench_write(tmp: Path, rows: int, cols: int, repeat: int) -> None:
    rng = np.random.default_rng(0)
    pred = rng.random((rows, cols))
    pred[:, 0] = np.round(pred[:, 0], 2)  # a mix of short and long numbers
    ref_path, our_dir = tmp / "ref.predict_0", tmp / "ours"
    our_dir.mkdir()
    t_ref = best_of(lambda: reference_write(ref_path, pred), max(1, repeat // 2))
    t_ours = best_of(lambda: protocol.write_prediction(our_dir, "bench", 0, pred), repeat)
    same = ref_path.read_bytes() == (our_dir / "bench.predict_0").read_bytes()
    size = ref_path.stat().st_size
    print(f"prediction write, {rows} x {cols} ({size / 1e6:.1f} MB of text):")
    print(f"  reference writer  {t_ref * 1e3:9.1f} ms")
    print(f"  write_prediction  {t_ours * 1e3:9.1f} ms   speed-up x{t_ref / t_ours:.1f}")
    print(f"  identical bytes: {same}")
    if not same:
        raise SystemExit("the two writers disagree")


MODEL = textwrap.dedent(
    """
    import numpy as np

    class Model:
        def __init__(self, metadata):
            self.done_training = False
            self.rounds = 0
            self.prediction = None

        def fit(self, dataset, remaining_time_budget=None):
            pass

        def predict(self, dataset, remaining_time_budget=None):
            if self.prediction is None:
                self.prediction = np.zeros((len(dataset), dataset.metadata.get_output_size()))
            self.rounds += 1
            self.done_training = self.rounds >= {rounds}
            return self.prediction
    """
)


def bench_rounds(tmp: Path, rounds: int, num_test: int, output_dim: int, sandbox: str) -> float:
    tmp = tmp / sandbox
    tmp.mkdir()
    rng = np.random.default_rng(0)
    x = rng.random((num_test + 4, 1, 2, 2, 1), dtype=np.float32)
    y = np.arange(num_test + 4) % output_dim
    task = write_task(tmp, "bench", train=(x[:4], y[:4]), test=(x[4:], y[4:]))
    code = tmp / "code"
    code.mkdir()
    (code / "model.py").write_text(MODEL.replace("{rounds}", str(rounds)))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    options = IngestionOptions(time_budget=600, progress=False, sandbox=sandbox)
    result = ingest(task, tmp / "out", code, options)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    # The supervisor's own CPU per round (setup included, so an upper bound): unlike
    # wall time it does not depend on what else the machine runs.
    cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) / rounds
    assert result.status == "ok" and result.num_predictions == rounds, result
    per_round = result.ingestion_duration / rounds

    # The protocol writes of one round, alone: start.txt append + prediction file.
    out = tmp / "writes"
    out.mkdir()
    protocol.write_start(out, ingestion_pid=1, task_name="bench", time_budget=1, start_time=0.0)
    pred = np.zeros((num_test, output_dim))
    samples = []
    for k in range(rounds):
        t0 = time.perf_counter()
        protocol.append_prediction_time(out, k, time.time())
        protocol.write_prediction(out, "bench", k, pred)
        samples.append(time.perf_counter() - t0)
    write = statistics.median(samples)
    print(
        f"harness round trip, do-nothing model, {rounds} rounds, test {num_test} x "
        f"{output_dim}, sandbox {sandbox}:"
    )
    print(f"  per round (supervisor clock)  {per_round * 1e3:7.3f} ms")
    print(f"  of which protocol writes      {write * 1e3:7.3f} ms")
    print(f"  harness overhead              {(per_round - write) * 1e3:7.3f} ms  (target < 5 ms)")
    print(f"  supervisor CPU per round      {cpu * 1e3:7.3f} ms  (writes included)")
    print(f"  construction (worker start, imports, Model()) {result.construction_duration:.2f} s")
    return per_round


def bench_sandbox_start(tmp: Path, starts: int) -> None:
    import subprocess
    import sys

    from autodl.ingestion.sandbox import SandboxSpec, confine, probe
    from autodl.ingestion.sandbox.box import mounts_for

    found = probe()
    if not found.ok:
        print(f"sandbox start: skipped ({found.reason})")
        return
    code, data = tmp / "code", tmp / "bench.data"
    code.mkdir(exist_ok=True)
    data.mkdir(exist_ok=True)
    worker = [sys.executable, "-I", "-c", "import os"]

    def bare() -> None:
        subprocess.run(worker, check=True)

    def boxed() -> None:
        spec = SandboxSpec(mounts=mounts_for(code, data), memory=1 << 30, max_processes=256)
        box = confine(worker, spec)
        try:
            assert box.popen().wait() == 0
        finally:
            box.close()

    bare()
    boxed()  # warm caches (and the cached probe) before timing
    t_bare = statistics.median(best_of(bare, 1) for _ in range(starts))
    t_box = statistics.median(best_of(boxed, 1) for _ in range(starts))
    print(f"worker start, median of {starts} (interpreter only, no imports):")
    print(f"  unconfined                    {t_bare * 1e3:7.1f} ms")
    print(f"  sandbox (cgroup + bwrap)      {t_box * 1e3:7.1f} ms")
    print(f"  added by the sandbox          {(t_box - t_bare) * 1e3:7.1f} ms  (target < 100 ms)")
    print("  added per round               0 (same pipes, no process started per round)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--num_test", type=int, default=100)
    parser.add_argument("--output_dim", type=int, default=10)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--cols", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--starts", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "w").mkdir()
        bench_write(tmp / "w", args.rows, args.cols, args.repeat)
        bare = bench_rounds(tmp, args.rounds, args.num_test, args.output_dim, "none")
        boxed = bench_rounds(tmp, args.rounds, args.num_test, args.output_dim, "bwrap")
        print(f"per round, sandbox / unconfined: x{boxed / bare:.2f} (target: x1, nothing added)")
        bench_sandbox_start(tmp, args.starts)


if __name__ == "__main__":
    main()
