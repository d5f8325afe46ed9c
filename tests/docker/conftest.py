"""Fixtures of the Docker tests: a reachable engine, a local base image, the CPU image.

Without an engine these tests skip, except under CI (the environment variable ``CI`` is
set), where a missing engine is a failure: CI must really run them.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
# The base the test image is built on: a local Debian image (no registry is needed).
BASE = os.environ.get("AUTODL_DOCKER_BASE", "autodl-base:bookworm")
TEST_TAG = "autodl:test-cpu"
# Submissions run in containers, not modules of the suite: --doctest-modules would import
# every models/*/model.py as the same module `model`.
collect_ignore_glob = ["models/*"]


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the Docker tests must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine():
    from autodl.docker import DockerError, connect

    try:
        return connect()
    except DockerError as e:
        unavailable(str(e))


@pytest.fixture(scope="session")
def base_image(engine) -> str:
    from docker.errors import ImageNotFound

    try:
        engine.images.get(BASE)
        return BASE
    except ImageNotFound:
        pass
    if os.geteuid() != 0:
        unavailable(f"base image {BASE} missing and building it needs root")
    proc = subprocess.run(
        ["bash", str(REPO / "docker" / "build-local-base.sh"), BASE],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    if proc.returncode != 0:
        unavailable(f"cannot build base image {BASE}: {proc.stderr.strip()[-500:]}")
    return BASE


@pytest.fixture(scope="session")
def cpu_image(engine, base_image) -> str:
    """The CPU image built from docker/ on the local base (Docker's cache makes reruns quick)."""
    from autodl.docker import build_image

    result = build_image(base=base_image, tag=TEST_TAG, client=engine, progress=lambda _: None)
    print(
        f"\nimage {result.tag}: {result.size_bytes / 1e9:.2f} GB, built in {result.seconds:.0f} s"
    )
    return result.tag


@pytest.fixture(scope="session")
def task(tmp_path_factory) -> Path:
    """A small 3-class dense task, with its .solution beside the .data folder."""
    from autodl.data import write_task

    rng = np.random.default_rng(7)
    centers = rng.normal(0, 3, size=(3, 8))
    y = np.arange(100) % 3
    x = (centers[y] + rng.normal(0, 2.0, size=(100, 8))).astype(np.float32)
    root = write_task(
        tmp_path_factory.mktemp("data"), "blobs", train=(x[:60], y[:60]), test=(x[60:], y[60:])
    )
    assert (root / "blobs.solution").is_file()
    return root
