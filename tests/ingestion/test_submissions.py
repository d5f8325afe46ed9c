"""Hostile and broken submissions (tests/submissions/<name>/model.py), each through the
real ``autodl ingest``: the right status, a clear message, end.txt, the earlier
predictions intact, the harness done within the budget plus 10 s."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from autodl import protocol
from autodl.protocol import Status

BUDGET = 4.0


def _done_in_time(run, budget: float = BUDGET) -> None:
    # Construction is not part of the time budget; the harness has 10 s on top of both.
    limit = budget + (run.result["construction_duration"] or 0) + 10
    assert run.elapsed < limit + 3, f"{run.elapsed:.1f} s (python startup included)"


def test_well_behaved_native_model(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "native_ok", tmp_path, budget=30)
    assert run.returncode == 0, run.stderr
    r = run.result
    assert (r["status"], r["error"], r["api"]) == ("ok", None, "native")
    run.check_files(3)
    end = protocol.read_end(run.output_dir)
    assert end.ingestion_success == 1
    assert r["device"]["type"] in ("cpu", "cuda") and "memory_bytes" in r["device"]
    assert f"AUTODL_DEVICE={r['device']['type']}" in run.stdout
    # remaining_time_budget is what is left of the budget, decreasing, never above it.
    budgets = eval(run.stdout.strip().splitlines()[-1].split(":", 1)[1])
    assert 0 < budgets[2] < budgets[1] < budgets[0] <= 30


def test_gpus_and_threads_reach_the_model(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "native_ok", tmp_path, "--gpus", "none", "--cpu_threads", "2")
    assert run.result["status"] == "ok"
    assert "CUDA_VISIBLE_DEVICES=\n" in run.stdout  # no GPU for this run
    assert "AUTODL_DEVICE=cpu" in run.stdout and "OMP_NUM_THREADS=2" in run.stdout
    assert run.result["device"]["type"] == "cpu"
    assert run.result["isolation"]["cpu_threads"] == 2


@pytest.mark.tf
@pytest.mark.slow
def test_well_behaved_autodl_api_model(ingest_run, tiny_task, tmp_path):
    pytest.importorskip("tensorflow")
    run = ingest_run(tiny_task, "autodl_ok", tmp_path, budget=120)
    assert (run.result["status"], run.result["api"]) == ("ok", "autodl"), run.result
    run.check_files(2)


def test_bad_prediction_shape(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "bad_shape", tmp_path, budget=BUDGET)
    assert run.returncode == Status.BAD_PREDICTION.exit_code  # the status's code
    assert run.result["status"] == "bad_prediction"
    assert (
        "prediction 1 has shape (8, 4), expected (num_test, output_dim) = (8, 3)"
        in (run.result["error"])
    )
    run.check_files(1)
    assert protocol.read_end(run.output_dir).ingestion_success == 0
    _done_in_time(run)


def test_time_limit(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "time_limit", tmp_path, budget=BUDGET)
    assert run.result["status"] == "timeout"
    assert "time budget of 4 s ran out during train (round 1)" in run.result["error"]
    run.check_files(1)
    # Running out of time is how AutoDL runs end: a success for end.txt.
    assert protocol.read_end(run.output_dir).ingestion_success == 1
    assert BUDGET <= run.result["ingestion_duration"] < BUDGET + 5
    _done_in_time(run)


def test_exception_in_model(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "exception", tmp_path)
    assert run.result["status"] == "error"
    assert run.result["error"] == (
        "ValueError in fit (round 1): the participant's model failed on purpose"
    )
    assert "raise ValueError" in run.result["traceback"]
    run.check_files(1)
    _done_in_time(run)


def test_exception_with_probability_half(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "random_exception", tmp_path)
    assert run.result["status"] == "error"
    assert run.result["error"] == "RuntimeError in fit (round 2): random failure in round 2"
    run.check_files(2)


def test_no_train_test_methods(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "no_methods", tmp_path)
    assert run.result["status"] == "error"
    assert (
        "Model must define train() and test() (AutoDL API) or fit() and predict()"
        in (run.result["error"])
    )
    assert "none of them" in run.result["error"]
    run.check_files(0)
    assert not (run.output_dir / protocol.START_FILE).exists()


def test_c_loop_ignoring_sigterm(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "sigterm_c_loop", tmp_path, "--kill_grace", "1")
    assert run.result["status"] == "timeout"
    run.check_files(1)
    _done_in_time(run)
    _no_worker_left(run)


def test_memory_bomb_with_memory_limit(ingest_run, tiny_task, tmp_path):
    # A generous budget: touching memory is slow on a loaded 2-core machine.
    run = ingest_run(tiny_task, "memory_bomb", tmp_path, "--memory_limit", "700M", budget=30)
    assert run.result["status"] == "out_of_memory", run.result
    assert "MemoryError in fit (round 1)" in run.result["error"]
    assert run.result["isolation"]["memory_limit"] == 700 << 20
    run.check_files(1)


def test_fork_bomb_is_contained(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "fork_bomb", tmp_path, "--max_processes", "64")
    isolation = run.result["isolation"]
    if isolation["privileges_dropped"] or isolation["sandbox"]["kind"] == "bwrap":
        # The sandbox's pids cgroup or RLIMIT_NPROC (which binds without capabilities,
        # and under an unprivileged uid): fork fails inside the model.
        assert run.result["status"] == "error"
        assert "BlockingIOError" in run.result["error"]
    else:
        # Unconfined root ignores RLIMIT_NPROC: the 100 children exist and must all die.
        assert run.result["status"] == "timeout"
    run.check_files(1)
    _done_in_time(run)
    _no_worker_left(run)


def test_segfault(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "segfault", tmp_path)
    assert run.result["status"] == "crashed"
    assert run.result["error"] == (
        "the worker died from SIGSEGV (segmentation fault) during train (round 1)"
    )
    # faulthandler's report (the worker's last output) points at the line.
    assert "Segmentation fault" in run.result["traceback"]
    assert "model.py" in run.result["traceback"]
    run.check_files(1)


def test_os_exit(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "os_exit", tmp_path)
    assert run.result["status"] == "crashed"
    assert "exited with code 3 during test (round 1)" in run.result["error"]
    run.check_files(1)


def test_sys_exit(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "sys_exit", tmp_path)
    assert run.result["status"] == "error"
    assert run.result["error"] == "the model called sys.exit(2) in fit (round 1)"
    run.check_files(1)


@pytest.mark.parametrize(
    "name, message",
    [
        ("nan_prediction", "prediction 1 has 1 NaN and 0 infinite values (first at row 1, col"),
        ("inf_prediction", "prediction 1 has 0 NaN and 1 infinite values (first at row 3, col"),
        ("string_prediction", "prediction 1: test returned an array of strings"),
        ("huge_prediction", "prediction 1 has shape (2000000, 3), expected"),
    ],
)
def test_bad_prediction_values(ingest_run, tiny_task, tmp_path, name, message):
    run = ingest_run(tiny_task, name, tmp_path)
    assert run.result["status"] == "bad_prediction"
    assert message in run.result["error"]
    run.check_files(1)
    _done_in_time(run)


def test_stdout_flood(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "stdout_flood", tmp_path, "--max_output", "1M", budget=30)
    assert run.result["status"] == "ok"
    run.check_files(2)
    assert len(run.stdout) < (1 << 20) + 1000
    assert "worker output over 1048576 bytes: the rest is dropped" in run.stdout


def test_import_error(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "import_error", tmp_path)
    assert run.result["status"] == "error"
    assert run.result["error"] == (
        "ModuleNotFoundError in the import of model.py: "
        "No module named 'autodl_no_such_package_for_tests' "
        "(autodl_no_such_package_for_tests is not installed where the submission runs: "
        "give it an environment that has it, --python PATH)"
    )
    run.check_files(0)


def test_syntax_error(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "syntax_error", tmp_path)
    assert run.result["status"] == "error"
    assert run.result["error"].startswith("SyntaxError in the import of model.py")
    assert "model.py" in run.result["traceback"]
    run.check_files(0)


def test_slow_constructor(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "slow_constructor", tmp_path, "--construction_budget", "3")
    assert run.result["status"] == "construction_timeout"
    assert "construction budget of 3 s" in run.result["error"]
    assert 3 <= run.result["construction_duration"] < 5
    assert run.result["start_time"] is None
    run.check_files(0)
    assert run.elapsed < 3 + 10 + 3


def test_none_from_first_test(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "none_first", tmp_path)
    assert run.result["status"] == "ok"
    assert "test returned None in round 0" in run.result["warnings"][0]
    run.check_files(0)
    assert protocol.read_start(run.output_dir).timestamps == {}


def test_solution_is_out_of_reach(ingest_run, tiny_task, tmp_path):
    assert (tiny_task / "tiny.solution").is_file()
    run = ingest_run(tiny_task, "solution_finder", tmp_path)
    assert run.result["status"] == "ok", run.result["error"]
    assert "own view: nothing found" in run.stdout
    # The supervisor's command line is blanked and its working folder is /.
    assert "leak via cmdline" not in run.stdout
    assert "leak via cwd" not in run.stdout
    if run.result["isolation"]["privileges_dropped"]:
        # Another uid cannot read the supervisor's environment at all. (Under the same
        # uid it can: see docs/ingestion.md; Docker or root is the sandbox.)
        assert "leak via" not in run.stdout, run.stdout


def test_output_folder_cannot_be_forged(ingest_run, tiny_task, tmp_path):
    # The output path sits in ingestion's own environment: readable by a worker of the
    # same uid (/proc/<ppid>/environ), not by a dropped one.
    out = tmp_path / "out"
    run = ingest_run(tiny_task, "output_writer", tmp_path, env={"FORGERY_HINT": str(out)})
    assert run.result["status"] == "ok", run.result
    run.check_files(2)
    start = protocol.read_start(run.output_dir)
    assert start.ingestion_pid != 1 and start.time_budget == 5
    names = sorted(p.name for p in run.output_dir.iterdir())
    assert names == ["end.txt", "ingestion.json", "start.txt", "tiny.predict_0", "tiny.predict_1"]
    line = next(x for x in run.stdout.splitlines() if x.startswith("forgery:"))
    isolation = run.result["isolation"]
    if isolation["privileges_dropped"] or isolation["sandbox"]["kind"] == "bwrap":
        # The output folder is not in the sandbox; a dropped uid could not write it.
        assert line.startswith("forgery: 0 of"), line
    else:
        # Same uid: it wrote, and ingestion undid it before end.txt.
        assert not line.startswith("forgery: 0 of"), line
        warnings = " ".join(run.result["warnings"])
        assert "start.txt was modified during the run; rewritten" in warnings
        assert "tiny.predict_9 was not written by ingestion; removed" in warnings
        assert "tiny.predict_0 was modified during the run; restored" in warnings


def test_missing_dataset_is_a_harness_error(tmp_path, cli):
    proc = cli(
        "ingest",
        "--dataset_dir",
        tmp_path / "nope",
        "--output_dir",
        tmp_path / "o",
        "--code_dir",
        tmp_path,
    )
    assert proc.returncode == 2
    assert "nope" in proc.stderr and "no such file or folder" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_zip_without_model_is_a_recorded_error(ingest_run, tiny_task, tmp_path):
    import zipfile

    z = tmp_path / "sub.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("readme.txt", "no model here")
    run = ingest_run(tiny_task, z, tmp_path)
    assert run.returncode == Status.ERROR.exit_code
    assert run.result["status"] == "error" and "model.py" in run.result["error"]
    assert protocol.read_end(run.output_dir).ingestion_success == 0


def _no_worker_left(run) -> None:
    """No process of the run survives it (the worker and anything it forked)."""
    time.sleep(0.2)
    left = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        # This run's processes: the worker's command, in a scratch folder already removed.
        ours = "autodl-ingest-" in cwd and cwd.endswith("(deleted)")
        if b"autodl.ingestion.worker" in cmd and state != b"Z" and ours:
            left.append(int(pid))
    assert not left, f"worker processes left: {left}"


def test_garbage_on_the_message_pipe(ingest_run, tiny_task, tmp_path):
    run = ingest_run(tiny_task, "pipe_garbage", tmp_path)
    assert run.result["status"] == "error"
    assert "the worker broke the message protocol during train (round 1)" in run.result["error"]
    run.check_files(1)
    _done_in_time(run)


def test_shared_miniciao_predictions_are_scorable(ingest_run, miniciao, tmp_path):
    """A trivial model on the real miniciao task: files the reference scorer reads as is."""
    run = ingest_run(miniciao, "native_ok", tmp_path, budget=60)
    assert run.result["status"] == "ok"
    solution = protocol.read_matrix(miniciao / "miniciao.solution")
    found = protocol.list_predictions(run.output_dir)
    assert [(task, k) for task, k, _ in found] == [
        ("miniciao", 0),
        ("miniciao", 1),
        ("miniciao", 2),
    ]
    for _, _, path in found:
        # The reference scorer reads predictions with the solution's shape, line by line.
        assert protocol.read_matrix(path).shape == solution.shape == (18, 10)
        # The 2019 writer's lines: values joined by single spaces, no trailing space.
        lines = path.read_bytes().split(b"\n")
        assert lines[-1] == b"" and all(ln and not ln.endswith(b" ") for ln in lines[:-1])
    start = protocol.read_start(run.output_dir)
    assert start.task_name == "miniciao" and len(start.timestamps) == 3


def test_no_stage_uses_the_data_folder_in_place(ingest_run, tiny_task, tmp_path):
    # A task folder holding its solution is staged all the same.
    run = ingest_run(tiny_task, "native_ok", tmp_path, "--no-stage")
    assert run.result["status"] == "ok"
    assert "the task folder holds its solution: data staged" in run.result["warnings"]
    # A .data folder alone (what a container mounts) is used where it is, when the
    # worker's user can read it there (pytest's tmp_path is private to root).
    import shutil
    import tempfile

    mount = Path(tempfile.mkdtemp(prefix="autodl-mount-"))
    try:
        os.chmod(mount, 0o755)
        bare = mount / "tiny.data"
        shutil.copytree(tiny_task / "tiny.data", bare)
        run = ingest_run(bare, "native_ok", tmp_path / "bare", "--no-stage")
        assert run.result["status"] == "ok" and run.result["warnings"] == []
        run.check_files(3)
    finally:
        shutil.rmtree(mount)
    # Where it cannot read it, the data is staged for it.
    private = tmp_path / "private" / "tiny.data"
    shutil.copytree(tiny_task / "tiny.data", private)
    run = ingest_run(private, "native_ok", tmp_path / "priv", "--no-stage")
    assert run.result["status"] == "ok"
    if run.result["isolation"]["privileges_dropped"]:
        assert any("cannot read" in w for w in run.result["warnings"]), run.result["warnings"]


def test_odd_prediction_files_of_an_earlier_hand_are_removed(ingest_run, tiny_task, tmp_path):
    """``predict_01`` (the solution, say) beside ``predict_1``, a link and a FIFO named as
    predictions: none was written by ingestion, none is left for a scorer to pick."""
    from autodl.data import find_task

    name = find_task(tiny_task).name
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{name}.predict_01").write_text("1 0\n")
    os.symlink("/etc/passwd", out / f"{name}.predict_7")
    os.mkfifo(out / f"{name}.predict_8")
    run = ingest_run(tiny_task, "native_ok", tmp_path, budget=30)
    assert run.result["status"] == "ok", run.result
    left = sorted(p.name for p in out.iterdir() if ".predict_" in p.name)
    assert left == [protocol.prediction_name(name, k) for k in range(len(left))]
    assert any("predict_01" in w for w in run.result["warnings"]), run.result["warnings"]
