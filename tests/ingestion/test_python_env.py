"""The worker under another interpreter (``--python``), through the real CLI.

A second interpreter is a fresh virtual environment holding only what the worker needs
(numpy, protobuf, google-crc32c; not autodl), or the ``legacy`` environment built by
``autodl env build legacy`` (TensorFlow 2.15, numpy 1.x). A missing, broken, too old or
incomplete interpreter is refused before anything is written.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autodl.ingestion.sandbox import probe

pytestmark = pytest.mark.skipif(
    not probe().ok and not os.environ.get("CI"), reason=f"no sandbox here: {probe().reason}"
)

# Prints where it runs, uses numpy's removed aliases only when they exist, and predicts
# (k + 1) / 10 for three rounds, like the other test submissions.
WHERE_MODEL = """
import sys
import numpy as np

print("WORKER-PREFIX", sys.prefix)
print("WORKER-NUMPY", np.__version__)
print("WORKER-ALIASES", hasattr(np, "float") and np.float is float)


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        pass

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 3
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
"""

# 2019 code: numpy's removed aliases at import and in the model.
ALIAS_MODEL = """
import numpy as np

DTYPE = np.float
LABEL = np.int


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        flags = np.zeros(3, dtype=np.bool)
        assert flags.dtype == bool and np.object is object

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 3
        return np.full((len(dataset), self.output_dim), 0.1 * self.round, dtype=DTYPE)
"""


def _submission(root: Path, source: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "model.py").write_text(textwrap.dedent(source))
    return root


def _venv(root: Path, *packages: str) -> Path:
    """A fresh virtual environment from this interpreter's base, with ``packages``."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=300)
    python = root / "bin" / "python"
    if packages:
        proc = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--only-binary=:all:", *packages],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            why = f"pip install {' '.join(packages)} failed:\n{proc.stderr[-2000:]}"
            if os.environ.get("CI"):
                pytest.fail(why)
            pytest.skip(why)
    os.chmod(root, 0o755)
    return python


@pytest.fixture(scope="session")
def worker_venv(tmp_path_factory) -> Path:
    """A second interpreter with the worker's needs only: numpy 1.x, protobuf,
    google-crc32c (no autodl, no TensorFlow)."""
    return _venv(
        tmp_path_factory.mktemp("venvs") / "worker",
        "numpy>=1.24,<2",
        "protobuf>=4.21",
        "google-crc32c",
    )


@pytest.fixture(scope="session")
def bare_venv(tmp_path_factory) -> Path:
    """A fresh virtual environment without numpy (nor anything else)."""
    return _venv(tmp_path_factory.mktemp("venvs") / "bare")


def _ingest(task: Path, code: Path, out: Path, *extra: str, env: dict | None = None):
    cmd = [
        sys.executable, "-m", "autodl", "ingest", "--dataset_dir", str(task),
        "--output_dir", str(out), "--code_dir", str(code), "--time_budget", "30", *extra,
    ]  # fmt: skip
    full_env = None if env is None else {**os.environ, **env}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=full_env)


def _record(out: Path) -> dict:
    return json.loads((out / "ingestion.json").read_text())


def test_a_second_interpreter_runs_the_worker_and_the_record_names_it(
    tiny_task, worker_venv, tmp_path
):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    out = tmp_path / "out"
    proc = _ingest(tiny_task, code, out, "--python", str(worker_venv))
    record = _record(out)
    assert proc.returncode == 0 and record["status"] == "ok", proc.stderr[-3000:]
    assert record["num_predictions"] == 3
    # The worker ran there: its own sys.prefix and numpy 1.x, not ours (numpy 2.x).
    assert f"WORKER-PREFIX {worker_venv.parent.parent}" in proc.stdout
    assert "WORKER-NUMPY 1." in proc.stdout
    assert "WORKER-ALIASES False" in proc.stdout  # a plain venv: no alias restored
    python = record["python"]
    assert python["executable"] == str(worker_venv)
    assert python["env"] is None and python["numpy"].startswith("1.")
    assert python["version"].startswith(f"{sys.version_info[0]}.{sys.version_info[1]}.")
    assert record["isolation"]["sandbox"]["kind"] == "bwrap"


def test_a_virtual_environment_folder_is_taken_for_its_interpreter(
    tiny_task, worker_venv, tmp_path
):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    out = tmp_path / "out"
    proc = _ingest(tiny_task, code, out, "--python", str(worker_venv.parent.parent))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _record(out)["python"]["executable"] == str(worker_venv)


def test_without_python_the_record_names_ours(tiny_task, tmp_path):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    out = tmp_path / "out"
    proc = _ingest(tiny_task, code, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _record(out)["python"]["executable"] == sys.executable
    assert f"WORKER-PREFIX {sys.prefix}" in proc.stdout


def _refused(proc, out: Path, *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = [x for x in proc.stderr.strip().splitlines() if x]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]
    assert not out.exists(), "a refused run must write nothing"


def test_an_interpreter_without_numpy_is_refused_naming_both(tiny_task, bare_venv, tmp_path):
    out = tmp_path / "out"
    proc = _ingest(tiny_task, tiny_task, out, "--python", str(bare_venv))
    _refused(proc, out, str(bare_venv), "lacks the module numpy", "pip install numpy")


def test_a_missing_interpreter_is_refused(tiny_task, tmp_path):
    out = tmp_path / "out"
    proc = _ingest(tiny_task, tiny_task, out, "--python", str(tmp_path / "nope" / "python"))
    _refused(proc, out, str(tmp_path / "nope" / "python"), "no such interpreter")


def test_a_broken_interpreter_is_refused(tiny_task, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'python: cannot start: broken install' >&2\nexit 3\n")
    fake.chmod(0o755)
    out = tmp_path / "out"
    proc = _ingest(tiny_task, tiny_task, out, "--python", str(fake))
    _refused(proc, out, str(fake), "does not run Python here", "broken install")


def test_a_too_old_python_is_refused(tiny_task, tmp_path):
    old = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.[6-9]*/bin/python3.[6-9]")))
    old += [p for p in ("/usr/bin/python3.9", "/usr/bin/python3.8") if os.path.exists(p)]
    if not old:
        pytest.skip("no Python older than 3.10 on this machine")
    out = tmp_path / "out"
    proc = _ingest(tiny_task, tiny_task, out, "--python", old[0])
    _refused(proc, out, old[0], "the worker needs Python >= 3.10")


def test_an_environment_not_built_is_refused_with_the_command_to_build_it(tiny_task, tmp_path):
    out = tmp_path / "out"
    proc = _ingest(
        tiny_task, tiny_task, out, "--python", "legacy",
        env={"AUTODL_ENVS": str(tmp_path / "envs")},
    )  # fmt: skip
    _refused(proc, out, "legacy", "not built", "autodl env build legacy")


def test_autodl_run_refuses_a_bad_python_before_running(tmp_path):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    out = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, "-m", "autodl", "run", "--code", str(code), "-o", str(out),
         "--python", str(tmp_path / "nope")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "no such interpreter" in proc.stderr and not out.exists()


def test_python_does_not_go_with_docker(tmp_path):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    proc = subprocess.run(
        [sys.executable, "-m", "autodl", "run", "--code", str(code), "-o", str(tmp_path / "r"),
         "--python", "legacy", "--docker"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "does not apply with --docker" in proc.stderr and "autodl:legacy" in proc.stderr


def _challenge(tmp_path: Path, task: Path, code: Path, python: str) -> Path:
    cfg = tmp_path / "challenge.yaml"
    cfg.write_text(
        f"datasets:\n  tiny: {{path: {task}, time_budget: 10}}\n"
        f"submissions:\n  where: {{path: {code}, python: {python}}}\n"
    )
    return cfg


def test_the_challenge_file_gives_a_submission_its_interpreter(tiny_task, worker_venv, tmp_path):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    cfg = _challenge(tmp_path, tiny_task, code, str(worker_venv))
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "autodl", "challenge", str(cfg), "-o", str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = _record(out / "runs" / "where" / "tiny" / "predictions")
    assert record["status"] == "ok" and record["python"]["executable"] == str(worker_venv)


def test_the_challenge_file_refuses_an_interpreter_without_numpy(tiny_task, bare_venv, tmp_path):
    code = _submission(tmp_path / "code", WHERE_MODEL)
    cfg = _challenge(tmp_path, tiny_task, code, str(bare_venv))
    proc = subprocess.run(
        [sys.executable, "-m", "autodl", "challenge", str(cfg), "-o", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert str(cfg) in proc.stderr and "submissions.where.python" in proc.stderr
    assert "lacks the module numpy" in proc.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_numpy_aliases_are_restored_in_the_legacy_environment_only(
    tiny_task, legacy_python, tmp_path
):
    code = _submission(tmp_path / "code", ALIAS_MODEL)
    legacy = _ingest(tiny_task, code, tmp_path / "legacy", "--python", "legacy")
    record = _record(tmp_path / "legacy")
    assert record["status"] == "ok", (record["error"], legacy.stderr[-3000:])
    assert record["num_predictions"] == 3
    assert record["python"]["env"] == "legacy" and record["python"]["numpy_aliases"] is True
    assert record["python"]["executable"] == str(legacy_python)
    assert "FutureWarning" not in legacy.stdout + legacy.stderr
    # The same code under our interpreter (numpy 2, no aliases) fails at its import.
    _ingest(tiny_task, code, tmp_path / "ours")
    record = _record(tmp_path / "ours")
    assert record["status"] == "error", record
    assert "AttributeError" in record["error"] and "float" in record["error"]


@pytest.mark.slow
@pytest.mark.tf
def test_the_autodl_api_runs_on_tensorflow_2_15_in_the_legacy_environment(
    tiny_task, legacy_python, ingest_run, tmp_path
):
    run = ingest_run(tiny_task, "autodl_ok", tmp_path, "--python", str(legacy_python), budget=60)
    assert run.result["status"] == "ok", (run.result["error"], run.stderr[-3000:])
    assert run.result["api"] == "autodl" and run.result["num_predictions"] >= 1
    assert run.result["python"]["env"] == "legacy"
