"""Jobs: one submission on one dataset, with ingestion and scoring side by side.

A job runs two real processes, as the platform does: ``python -m autodl ingest`` (or the
same inside a Docker container) and ``python -m autodl score --watch``. They meet only
through the protocol files of the run folder::

    runs/<submission>/<dataset>/
      input_data/<task>.data/   the dataset as ingestion sees it (hard links; no solution)
      code/                     the extracted submission, when it came as a zip
      predictions/              start.txt, <task>.predict_<k>, end.txt, ingestion.json
      scores/                   scores.json, learning_curve.json, ... (scoring's output)
      logs/                     ingestion.log, scoring.log
      result.json               written last: the run is finished
      report.html               the run's page (names: autodl.protocol.RunFolder)

Scoring kills ingestion when the budget is spent; the runner is the safety net above
both (a wall-clock limit per job, cleanup of the process groups, offline scoring when the
live scorer did not finish). Many jobs run in threads, at most one per GPU.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from autodl.challenge.aside import make_aside, swap_in
from autodl.challenge.follow import LogFollower
from autodl.challenge.results import collect_result
from autodl.proc import signal_group
from autodl.protocol import (
    SCORES_JSON,
    RunFolder,
    RunResult,
    Status,
    format_number,
    read_result,
    write_result,
)
from autodl.scoring.curve import DEFAULT_T0

# Without a construction budget of its own, a job may take this long to build its model
# before the runner's wall-clock limit counts it as hung (the reference allowed 20 min).
DEFAULT_CONSTRUCTION_LIMIT = 1200.0
# Seconds the live scorer may take after ingestion ended before the runner scores offline.
SCORE_GRACE = 30.0
# Beyond the budgets, seconds for process start-up, imports and the final writes.
JOB_GRACE = 60.0
# Seconds after the budget before the live scorer ends an ingestion that did not stop.
SCORER_KILL_GRACE = 10.0
DOCKER_KILL_GRACE = 3600.0

# The container run in a process of its own, so that the runner can stop it like a local
# ingestion: SIGTERM becomes SystemExit, on which ingest_in_container removes the container.
_DOCKER_SNIPPET = (
    "import json, signal, sys\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))\n"
    "from autodl.docker import ingest_in_container\n"
    "sys.exit(ingest_in_container(**json.loads(sys.argv[1])))\n"
)


class RunnerError(RuntimeError):
    """A job could not even start (unusable dataset or submission); the message says why."""


@dataclass(frozen=True)
class Job:
    """One submission on one dataset, in its own run folder."""

    submission: str
    code: Path  # a folder holding model.py, or a zip of one
    dataset: str
    task_dir: Path  # the task folder (with the solution, which ingestion never sees)
    time_budget: float
    run_dir: Path
    construction_budget: float | None = None
    t0: float = DEFAULT_T0
    tf_mode: str = "auto"  # the submission's TensorFlow mode (autodl/ingestion/tfmode.py)
    python: str | None = None  # the worker's interpreter (--python; docs/environments.md)

    @property
    def label(self) -> str:
        return f"{self.submission} on {self.dataset}"


@dataclass
class RunOptions:
    """How jobs run: locally or in Docker, and the limits of the runner itself."""

    docker_image: str | None = None
    # How ingestion confines the worker outside Docker: "bwrap" (refuses where it cannot)
    # or "none" (trusted code only). A container is the sandbox of a Docker run.
    sandbox: str = "bwrap"
    python: str = sys.executable
    threads_per_job: int | None = None  # OMP/MKL/torch threads; None leaves the default
    score_grace: float = SCORE_GRACE
    scorer_kill_grace: float = SCORER_KILL_GRACE
    job_grace: float = JOB_GRACE
    kill_grace: float = 5.0
    env: dict[str, str] = field(default_factory=dict)
    # Called with each line of ingestion's log (the model's own prints among it) as it
    # comes (`autodl run --show-output`); the log file keeps them either way.
    show_output: Callable[[str], None] | None = None


# --------------------------------------------------------------------------- staging


def stage_input(task_dir: Path, input_dir: Path) -> tuple[str, Path]:
    """Put the task's ``<name>.data`` folder alone into ``input_dir``; returns (task, solution)."""
    from autodl.data import find_task
    from autodl.ingestion.sandbox import link_tree

    task = find_task(task_dir)
    if task.solution_path is None:
        raise RunnerError(f"{task_dir}: no *.solution file, so runs on it cannot be scored")
    input_dir.mkdir(parents=True, exist_ok=True)
    link_tree(Path(task.data_dir), input_dir / Path(task.data_dir).name, readable=False)
    return task.name, Path(task.solution_path)


def _prepare(job: Job, run_dir: Path) -> tuple[str, Path, Path]:
    """Fill a fresh run folder (written aside: see :mod:`autodl.challenge.aside`); the code
    is returned relative to it when it was extracted there, as the folder moves next."""
    folder = RunFolder(run_dir)
    for p in (folder.predictions, folder.scores, folder.logs):
        p.mkdir(parents=True, exist_ok=True)
    task_name, solution = stage_input(job.task_dir, folder.input_data)
    if job.code.is_dir():
        code = job.code.resolve()
    else:
        from autodl.submission import resolve_code

        code = resolve_code(job.code, run_dir / "code").relative_to(run_dir)
    return task_name, solution, code


# --------------------------------------------------------------------------- processes


def _env(options: RunOptions) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    if options.threads_per_job:
        n = str(options.threads_per_job)
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env.setdefault(var, n)
    env.update(options.env)
    return env


def _start(
    cmd: list[str], log: Path, env: dict[str, str], cwd: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen:
    with open(log, "ab") as f:
        # A session of its own: the terminal's Ctrl-C reaches the runner only, and the
        # runner can end the whole process group.
        return subprocess.Popen(
            cmd,
            stdout=f,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
            pass_fds=pass_fds,
        )


def _start_scorer(
    job: Job, options: RunOptions, solution: Path, watch: bool, log: Path, env: dict[str, str]
) -> subprocess.Popen:
    """The scorer, handed the solution's folder as an inherited descriptor: its command
    line, which every process can read in /proc, names only ``/proc/self/fd/N``."""
    fd = os.open(solution.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        cmd = _score_cmd(job, options, f"/proc/self/fd/{fd}", watch)
        return _start(cmd, log, env, job.run_dir, pass_fds=(fd,))
    finally:
        os.close(fd)


def _stop(proc: subprocess.Popen, grace: float) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is None:
        signal_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # Stragglers (a data loader's workers, a forgotten child) go too.
    signal_group(proc.pid, signal.SIGKILL)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass


def _wait(proc: subprocess.Popen, timeout: float, stop: threading.Event) -> int | None:
    """The exit code, or None at the timeout or when ``stop`` is set."""
    end = time.monotonic() + timeout
    while True:
        rc = proc.poll()
        if rc is not None:
            return rc
        if stop.is_set() or time.monotonic() >= end:
            return None
        stop.wait(0.2)


def _score_cmd(job: Job, options: RunOptions, solution_dir: str, watch: bool) -> list[str]:
    cmd = [
        options.python,
        "-m",
        "autodl",
        "score",
        "--solution_dir",
        solution_dir,
        "--prediction_dir",
        str(RunFolder(job.run_dir).predictions),
        "--score_dir",
        str(RunFolder(job.run_dir).scores),
        "--time_budget",
        format_number(job.time_budget),
        "--t0",
        f"{job.t0:g}",
    ]
    if not watch:
        return cmd
    # Ingestion stops itself at the budget; the scorer's kill is the backstop, a little
    # later so that the two never race. A container's pid means nothing on the host, so
    # there the container's own wall clock is the backstop.
    grace = DOCKER_KILL_GRACE if options.docker_image else options.scorer_kill_grace
    return [*cmd, "--watch", "--kill_grace", f"{grace:g}", "--poll_interval", "0.5", "--quiet"]


def _ingest_cmd(job: Job, options: RunOptions, code: Path, gpu: str | None) -> list[str]:
    run_dir = job.run_dir
    if options.docker_image:
        kwargs = {
            "image": options.docker_image,
            "dataset_dir": str(run_dir / "input_data"),
            "code_dir": str(code),
            "output_dir": str(RunFolder(run_dir).predictions),
            "time_budget": job.time_budget,
            "gpus": gpu,
        }
        if options.threads_per_job:
            kwargs["cpus"] = options.threads_per_job
        if job.construction_budget is not None:
            kwargs["construction_budget"] = job.construction_budget
        if job.tf_mode != "auto":
            kwargs["tf_mode"] = job.tf_mode
        if job.python:
            raise RunnerError(
                f"{job.label}: --python {job.python} does not apply in a container, whose "
                "image holds the interpreter (the legacy environment: --docker autodl:legacy)"
            )
        return [options.python, "-c", _DOCKER_SNIPPET, json.dumps(kwargs)]
    cmd = [
        options.python,
        "-m",
        "autodl",
        "ingest",
        "--dataset_dir",
        str(run_dir / "input_data"),
        "--output_dir",
        str(RunFolder(run_dir).predictions),
        "--code_dir",
        str(code),
        "--sandbox",
        options.sandbox,
        "--score_dir",
        str(RunFolder(run_dir).scores),
        "--time_budget",
        format_number(job.time_budget),
    ]
    if job.construction_budget is not None:
        cmd += ["--construction-budget", f"{job.construction_budget:g}"]
    if job.tf_mode != "auto":
        cmd += ["--tf-mode", job.tf_mode]
    if job.python:
        cmd += ["--python", job.python]
    if options.threads_per_job:
        cmd += ["--cpu-threads", str(options.threads_per_job)]
    # No GPU for this job means none, not whatever CUDA_VISIBLE_DEVICES says.
    return [*cmd, "--gpus", gpu if gpu is not None else "none"]


def run_job(
    job: Job,
    *,
    gpu: str | None = None,
    options: RunOptions | None = None,
    stop: threading.Event | None = None,
) -> RunResult | None:
    """Run one job to its end and record its result; None when ``stop`` interrupted it.

    Whatever the submission does (crash, hang, garbage), the job ends with a recorded
    status; only an unusable dataset or submission raises (:class:`RunnerError`).
    """
    options = options or RunOptions()
    stop = stop or threading.Event()
    started = time.time()
    runner_status = runner_error = None
    # Written aside, swapped in now that it starts: the earlier run stays whole until then.
    aside = make_aside(job.run_dir)
    try:
        task_name, solution, code = _prepare(job, aside)
    except Exception as e:  # a bad zip or dataset: recorded like any failed run
        task_name = solution = code = None
        runner_status, runner_error = Status.ERROR, f"could not prepare the run: {e}"
    swap_in(aside, job.run_dir)
    if code is not None:
        code = job.run_dir / code  # absolute stays absolute; extracted: inside the run

    ingest_rc = None
    if code is not None:
        env, folder = _env(options), RunFolder(job.run_dir)
        scorer = _start_scorer(job, options, solution, True, folder.scoring_log, env)
        ingest = _start(
            _ingest_cmd(job, options, code, gpu), folder.ingestion_log, env, job.run_dir
        )
        follower = LogFollower(folder.ingestion_log, options.show_output or print)
        if options.show_output is not None:
            follower.start()
        limit = (job.construction_budget or DEFAULT_CONSTRUCTION_LIMIT) + job.time_budget
        limit += options.job_grace
        try:
            ingest_rc = _wait(ingest, limit, stop)
            if ingest_rc is None and not stop.is_set():
                runner_status = Status.TIMEOUT
                runner_error = f"the run did not end within {limit:g} s; the runner killed it"
            _stop(ingest, options.kill_grace)
            score_rc = _wait(scorer, options.score_grace, stop)
            _stop(scorer, options.kill_grace)
            if stop.is_set():
                return None
            # Other non-zero exits are verdicts on the input (see `autodl score --help`).
            if score_rc in (None, 1) or not (RunFolder(job.run_dir).scores / SCORES_JSON).exists():
                # The live scorer failed or hung: score what exists, offline.
                offline = _start_scorer(job, options, solution, False, folder.scoring_log, env)
                _wait(offline, 120.0 + job.time_budget / 10, stop)
                _stop(offline, options.kill_grace)
                if stop.is_set():
                    return None
        finally:
            _stop(ingest, options.kill_grace)
            _stop(scorer, options.kill_grace)
            follower.close()

    result = collect_result(
        job.run_dir,
        submission=job.submission,
        dataset=job.dataset,
        ingest_returncode=ingest_rc,
        runner_status=runner_status,
        runner_error=runner_error,
        time_budget=job.time_budget,
    )
    result.task = result.task or task_name
    result.wall_time = time.time() - started
    result.finished_at = time.time()
    try:
        from autodl.report.run import write_run_report

        write_run_report(result, RunFolder(job.run_dir).report)
    except Exception as e:  # a report is a convenience; the result must still be recorded
        result.extra["report_error"] = str(e)
    write_result(job.run_dir, result)
    return result


# --------------------------------------------------------------------------- many jobs


def needs_run(job: Job, *, rerun_failed: bool = False) -> RunResult | None:
    """The recorded result when the job is already done (and may be skipped), else None."""
    done = read_result(job.run_dir)
    if done is None:
        return None
    if done.time_budget is not None and abs(done.time_budget - job.time_budget) > 1e-9:
        return None  # the budget changed: the old run does not answer this challenge
    if rerun_failed and (not done.status.success or done.failed):
        return None
    return done


@dataclass
class JobEvent:
    kind: str  # "skip", "start", "done"
    job: Job
    result: RunResult | None = None
    index: int = 0
    total: int = 0


def run_jobs(
    jobs: Sequence[Job],
    *,
    n_jobs: int = 1,
    gpus: Sequence[str] = (),
    options: RunOptions | None = None,
    rerun_failed: bool = False,
    on_event: Callable[[JobEvent], None] | None = None,
) -> tuple[list[RunResult], bool]:
    """Run the jobs not done yet, ``n_jobs`` at a time and at most one per GPU.

    Returns the results of every finished job (skipped ones included) and whether the
    run was interrupted (Ctrl-C): unfinished jobs are then stopped and left unrecorded,
    so the next start runs them again.
    """
    options = options or RunOptions()
    on_event = on_event or (lambda event: None)
    results: dict[int, RunResult] = {}
    todo: list[int] = []
    for i, job in enumerate(jobs):
        done = needs_run(job, rerun_failed=rerun_failed)
        if done is not None:
            results[i] = done
            on_event(JobEvent("skip", job, done, len(results), len(jobs)))
        else:
            todo.append(i)
    workers = max(1, min(n_jobs, len(gpus)) if gpus else n_jobs)
    gpu_pool: queue.Queue[str | None] = queue.Queue()
    for g in gpus or [None] * workers:
        gpu_pool.put(g)
    stop = threading.Event()
    lock = threading.Lock()

    def work(i: int) -> RunResult | None:
        if stop.is_set():
            return None
        gpu = gpu_pool.get()
        try:
            on_event(JobEvent("start", jobs[i], None, 0, len(jobs)))
            result = run_job(jobs[i], gpu=gpu, options=options, stop=stop)
        finally:
            gpu_pool.put(gpu)
        if result is not None:
            with lock:
                results[i] = result
                on_event(JobEvent("done", jobs[i], result, len(results), len(jobs)))
        return result

    interrupted = False
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="autodl-job")
    futures = {pool.submit(work, i) for i in todo}
    try:
        pending = futures
        while pending:
            done_set, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done_set:
                fut.result()  # a bug in the runner itself surfaces here
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    finally:
        if interrupted:
            pool.shutdown(wait=True, cancel_futures=True)
        else:
            stop.set()
            pool.shutdown(wait=True)
    return [results[i] for i in sorted(results)], interrupted
