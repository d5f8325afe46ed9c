"""What running the ingestion in a container costs, against the same ingestion run locally.

The same deterministic model (tests/docker/models/centroid: AutoDL API, three rounds) on
the same small task, K times each way:

- ``local``: the reference, ``python -m autodl ingest`` in a subprocess;
- ``docker``: :func:`autodl.docker.ingest_in_container` (container creation, start,
  confinement, removal included).

    python benchmarks/bench_docker.py [--image autodl:cpu] [--repeat K]

Prints the median wall seconds of each, the ratio docker / local, and checks that both
wrote the same prediction bytes. Needs the Docker SDK (``pip install 'autodl[docker]'``),
a running engine and the image (`autodl docker build`). Most of the difference is fixed:
container start-up and removal.
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from autodl import protocol
from autodl.data import write_task
from autodl.docker import DockerError, connect, ingest_in_container

MODEL = Path(__file__).resolve().parents[1] / "tests" / "docker" / "models" / "centroid"


def make_task(root: Path) -> Path:
    rng = np.random.default_rng(7)
    centers = rng.normal(0, 3, size=(3, 8))
    y = np.arange(100) % 3
    x = (centers[y] + rng.normal(0, 2.0, size=(100, 8))).astype(np.float32)
    return write_task(root, "blobs", train=(x[:60], y[:60]), test=(x[60:], y[60:]))


def predictions(out: Path) -> list[bytes]:
    return [p.read_bytes() for _, _, p in protocol.list_predictions(out)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="autodl:cpu")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        client = connect()
    except DockerError as e:  # no SDK or no engine: one line, not a traceback
        print(f"bench_docker: {e}", file=sys.stderr)
        return 2
    times: dict[str, list[float]] = {"local": [], "docker": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        task = make_task(tmp_path)
        ref = None
        for i in range(args.repeat):
            for way in ("local", "docker"):
                out = tmp_path / f"{way}-{i}"
                t0 = time.perf_counter()
                if way == "local":
                    cmd = [
                        sys.executable,
                        "-m",
                        "autodl",
                        "ingest",
                        "--dataset_dir",
                        str(task),
                        "--code_dir",
                        str(MODEL),
                        "--output_dir",
                        str(out),
                        "--time_budget",
                        "300",
                    ]
                    subprocess.run(cmd, check=True, capture_output=True)
                else:
                    ingest_in_container(
                        args.image,
                        task,
                        MODEL,
                        out,
                        300,
                        stdout=io.StringIO(),
                        stderr=io.StringIO(),
                        client=client,
                    )
                times[way].append(time.perf_counter() - t0)
                got = predictions(out)
                ref = ref if ref is not None else got
                if got != ref or not got:
                    print(f"{way} run {i}: predictions differ from the first run", file=sys.stderr)
                    return 1
    local, docker = (statistics.median(times[w]) for w in ("local", "docker"))
    print(f"local  (reference): {local:6.2f} s  (median of {args.repeat})")
    print(f"docker            : {docker:6.2f} s  ratio docker/local = {docker / local:.2f}")
    print("predictions: identical bytes in every run")
    return 0


if __name__ == "__main__":
    sys.exit(main())
