"""How soon the any-time baseline predicts, against the one-shot linear baseline.

For each dataset, ``autodl ingest`` runs ``baselines/linear`` (the reference: read
everything, fit once, predict) and ``baselines/autodl_baseline`` with the same budget,
one after the other, then ``autodl score`` scores both. Printed per dataset: the seconds
from the start of the clock to the first prediction of each, their ratio
(autodl_baseline / linear; below 1 means the any-time baseline answers sooner) and
both ALCs.

    python benchmarks/bench_baselines.py [--datasets digits,wine,...] [--budget 30]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from autodl.data import samples
from autodl.protocol import read_scores, read_start

BASELINES = Path(__file__).resolve().parents[1] / "baselines"


def run(task: Path, baseline: str, budget: float, work: Path) -> tuple[float, float]:
    """(seconds to the first prediction, ALC) of one baseline on one task."""
    out, scores = work / f"{baseline}-out", work / f"{baseline}-scores"
    cli = [sys.executable, "-m", "autodl"]
    subprocess.run(
        [
            *cli,
            "ingest",
            "--dataset_dir",
            str(task),
            "--output_dir",
            str(out),
            "--code_dir",
            str(BASELINES / baseline),
            "--time_budget",
            str(budget),
            "--no-progress",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            *cli,
            "score",
            "--solution_dir",
            str(task),
            "--prediction_dir",
            str(out),
            "--score_dir",
            str(scores),
            "--no_bootstrap",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    start = read_start(out)
    first = min(start.timestamps.values()) - start.start_time
    return first, float(read_scores(scores)["alc"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(samples.names()))
    parser.add_argument("--budget", type=float, default=30.0)
    args = parser.parse_args()
    print(
        f"{'dataset':<15}{'linear first':>14}{'baseline first':>16}{'ratio':>8}"
        f"{'linear ALC':>12}{'baseline ALC':>14}"
    )
    for name in args.datasets.split(","):
        task = samples.resolve(name)
        with tempfile.TemporaryDirectory() as tmp:
            ref_first, ref_alc = run(task, "linear", args.budget, Path(tmp))
            first, alc = run(task, "autodl_baseline", args.budget, Path(tmp))
        print(
            f"{name:<15}{ref_first:>13.2f}s{first:>15.2f}s{first / ref_first:>8.2f}"
            f"{ref_alc:>12.4f}{alc:>14.4f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
