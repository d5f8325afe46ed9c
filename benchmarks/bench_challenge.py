"""What the challenge runner costs on top of ingestion and scoring, in one run.

The same K small jobs (a submission that predicts at once, on a tiny task) three ways:

- ``by hand``: the reference. For each job, ``autodl ingest`` then ``autodl score``
  (offline), one after the other, as a user would type them.
- ``runner -j1``: :func:`autodl.challenge.runner.run_jobs`, one job at a time: staging
  the data, ingestion and live scoring side by side, the run page and ``result.json``.
- ``runner -j2``: the same with two jobs at a time.

    python benchmarks/bench_challenge.py [--jobs K] [--repeat R]

The variants take turns, R times (default 2), and each keeps its best time, so that a
burst of load on a shared machine hits all of them alike. Prints the seconds of each and
the ratios to the reference (runner / by hand). The runner should cost about the same as
by hand (ratio near 1: live scoring overlaps ingestion) and two jobs at a time on two
cores should take less.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

from autodl.challenge.runner import Job, run_jobs
from autodl.data import write_task

MODEL = """
import numpy as np

class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        self.x, self.y = dataset.to_numpy()

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.tile(self.y.mean(axis=0), (len(dataset), 1))
"""


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "autodl", *args], check=False, capture_output=True)


def by_hand(task: Path, code: Path, out: Path, k: int) -> float:
    start = time.perf_counter()
    for i in range(k):
        pred, scores = out / f"pred{i}", out / f"scores{i}"
        _cli(
            "ingest",
            "--dataset_dir",
            str(task),
            "--output_dir",
            str(pred),
            "--code_dir",
            str(code),
            "--time_budget",
            "30",
        )
        _cli(
            "score",
            "--solution_dir",
            str(task),
            "--prediction_dir",
            str(pred),
            "--score_dir",
            str(scores),
            "--time_budget",
            "30",
        )
    return time.perf_counter() - start


def runner(task: Path, code: Path, out: Path, k: int, n_jobs: int) -> float:
    jobs = [Job(f"s{i}", code, "task", task, 30.0, out / f"s{i}" / "task") for i in range(k)]
    start = time.perf_counter()
    results, _ = run_jobs(jobs, n_jobs=n_jobs)
    elapsed = time.perf_counter() - start
    bad = [r for r in results if r.status != "ok"]
    if bad:
        raise SystemExit(f"a benchmark job failed: {bad[0].error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="jobs per variant (default 4)")
    parser.add_argument("--repeat", type=int, default=2, help="turns per variant (default 2)")
    args = parser.parse_args()
    k = args.jobs
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rng = np.random.default_rng(0)
        x = rng.normal(size=(200, 16)).astype(np.float32)
        y = np.arange(200) % 4
        task = write_task(root, "task", train=(x[:150], y[:150]), test=(x[150:], y[150:]))
        code = root / "code"
        code.mkdir()
        (code / "model.py").write_text(textwrap.dedent(MODEL))
        ref = one = two = float("inf")
        for turn in range(args.repeat):
            ref = min(ref, by_hand(task, code, root / f"hand{turn}", k))
            one = min(one, runner(task, code, root / f"j1-{turn}", k, 1))
            two = min(two, runner(task, code, root / f"j2-{turn}", k, 2))
    print(f"{k} jobs: by hand {ref:.1f} s | runner -j1 {one:.1f} s | runner -j2 {two:.1f} s")
    print(f"ratio runner -j1 / by hand: {one / ref:.2f}")
    print(f"ratio runner -j2 / by hand: {two / ref:.2f}")


if __name__ == "__main__":
    main()
