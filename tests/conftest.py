"""Shared test fixtures: where the shared real data lives, and the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (real AutoDL data); skips when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def miniciao(shared_data: Path) -> Path:
    return shared_data / "autodl-format" / "miniciao"


@pytest.fixture(scope="session")
def mini_mnist(shared_data: Path) -> Path:
    return shared_data / "autodl-format" / "mini-mnist"


def run_cli(
    *args: str | os.PathLike[str], timeout: float = 600, check: bool = False, **kwargs
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m autodl ARGS`` in a real subprocess and capture its output."""
    cmd = [sys.executable, "-m", "autodl", *map(str, args)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def cli():
    return run_cli
