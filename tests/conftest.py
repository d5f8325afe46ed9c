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


@pytest.fixture(scope="session")
def legacy_python() -> Path:
    """The interpreter of the ``legacy`` environment (TensorFlow 2.15, numpy < 2), built
    with ``autodl env build legacy`` when missing: it lives in the user's environments
    folder (``$AUTODL_ENVS`` or ~/.cache/autodl/envs), so a machine builds it once (about
    2 min, 1.5 GB). Skips when it cannot be built; fails when CI is set."""
    from autodl import envs

    try:
        return envs.python_of(envs.env_prefix("legacy"))
    except envs.EnvError:
        pass
    proc = run_cli("env", "build", "legacy", timeout=3600)
    if proc.returncode != 0:
        why = f"the legacy environment could not be built:\n{proc.stderr[-4000:]}"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    return Path(proc.stdout.strip().splitlines()[-1])


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
