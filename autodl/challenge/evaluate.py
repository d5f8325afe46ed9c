"""Local evaluations: one submission on one dataset (``autodl run``), or a whole challenge.

>>> result = run_single(time_budget=60)                       # doctest: +SKIP
>>> outcome = run_challenge(load_config("challenge.yaml"), "out", n_jobs=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import autodl
from autodl.challenge.config import ChallengeConfig
from autodl.challenge.leaderboard import Leaderboard, build_leaderboard, write_leaderboard
from autodl.challenge.results import write_results_table
from autodl.challenge.runner import (
    Job,
    JobEvent,
    RunnerError,
    RunOptions,
    run_job,
    run_jobs,
)
from autodl.protocol import RESULTS_CSV, RESULTS_JSON, RunFolder, RunResult, Status
from autodl.resources import detect_gpus

DEFAULT_DATASET = "digits"
DEFAULT_BASELINE = "autodl_baseline"
# The default budget of `autodl run`: long enough for the baseline to learn the built-in
# dataset, short enough that the whole command ends well within two minutes on 2 cores.
DEFAULT_RUN_BUDGET = 60.0


def default_code() -> Path:
    """``baselines/autodl_baseline`` of the checkout this package is installed from."""
    repo = Path(autodl.__file__).resolve().parent.parent
    path = repo / "baselines" / DEFAULT_BASELINE
    if not (path / "model.py").is_file():
        raise RunnerError(
            f"the default submission {path} is not there (it ships with the source checkout, "
            "not with a wheel); give one with --code DIR_OR_ZIP"
        )
    return path


def resolve_dataset(name_or_path: str | os.PathLike[str]) -> tuple[str, Path]:
    """(dataset name, task folder) for a task folder or a built-in dataset's name."""
    from autodl.data import find_task, samples

    given = str(name_or_path)
    path = Path(os.path.expanduser(given))
    if not path.exists():
        builtins = list(samples.names())
        if given not in builtins:
            raise RunnerError(
                f"dataset {given!r}: no such folder, nor a built-in dataset ({', '.join(builtins)})"
            )
        path = Path(samples.resolve(given))
        name = given
    else:
        name = None
    try:
        task = find_task(path)
    except Exception as e:
        raise RunnerError(f"dataset {given!r}: {e}") from None
    if task.solution_path is None:
        raise RunnerError(f"dataset {given!r}: {path} has no *.solution file to score against")
    return name or task.name, Path(task.root)


def submission_name(code: Path) -> str:
    return code.stem if code.is_file() else code.resolve().name


# --------------------------------------------------------------------------- autodl run


def run_single(
    *,
    code: str | os.PathLike[str] | None = None,
    dataset: str | os.PathLike[str] = DEFAULT_DATASET,
    time_budget: float = DEFAULT_RUN_BUDGET,
    output: str | os.PathLike[str] = "runs",
    gpus: list[str] | None = None,
    docker_image: str | None = None,
    sandbox: str = "bwrap",
    construction_budget: float | None = None,
    live: bool | None = None,
    stream=None,
) -> RunResult:
    """Run one submission on one dataset in ``<output>/<submission>/<dataset>`` (replaced)."""
    from autodl.challenge.live import LiveView

    stream = stream or sys.stderr
    code_path = Path(code) if code is not None else default_code()
    if not code_path.exists():
        raise RunnerError(f"--code {code_path}: no such folder or zip")
    if code_path.is_dir() and not (code_path / "model.py").is_file():
        raise RunnerError(f"--code {code_path}: no model.py at the root of the folder")
    name, task_dir = resolve_dataset(dataset)
    sub = submission_name(code_path)
    run_dir = Path(output).resolve() / sub / name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    gpus = detect_gpus() if gpus is None else gpus
    job = Job(
        sub, code_path.resolve(), name, task_dir, float(time_budget), run_dir, construction_budget
    )
    options = RunOptions(docker_image=docker_image, sandbox=sandbox)
    with LiveView(
        run_dir, time_budget=job.time_budget, label=job.label, stream=stream, enabled=live
    ):
        result = run_job(job, gpu=gpus[0] if gpus else None, options=options)
    assert result is not None  # nothing sets the stop event of a single run
    return result


def summary_lines(result: RunResult) -> list[str]:
    def num(x: float | None, fmt: str = ".4f") -> str:
        return "-" if x is None else format(x, fmt)

    lines = [
        f"{result.submission} on {result.dataset}: {result.status}",
        f"  ALC {num(result.alc)}   final NAUC {num(result.final_nauc)}   "
        f"accuracy {num(result.accuracy)}   predictions {result.num_predictions}   "
        f"last at {num(result.duration, '.1f')} s of {num(result.time_budget, 'g')} s",
    ]
    if result.device:
        lines.append(f"  device {result.device}")
    if result.error:
        lines.append(f"  error: {result.error}")
    if result.run_dir:
        lines.append(f"  report: {RunFolder(result.run_dir).report}")
        lines.append(f"  files:  {result.run_dir}")
    return lines


# --------------------------------------------------------------------------- challenges


@dataclass
class ChallengeOutcome:
    results: list[RunResult]
    leaderboard: Leaderboard
    interrupted: bool
    files: list[Path] = field(default_factory=list)


def plan_jobs(config: ChallengeConfig, out_dir: Path) -> list[Job]:
    """Every submission on every dataset (built-in datasets are built here, once)."""
    jobs = []
    task_dirs = {d.name: d.resolve() for d in config.datasets}
    for d in config.datasets:
        for s in config.submissions:
            jobs.append(
                Job(
                    submission=s.name,
                    code=s.path,
                    dataset=d.name,
                    task_dir=task_dirs[d.name],
                    time_budget=d.time_budget,
                    run_dir=out_dir / "runs" / s.name / d.name,
                    construction_budget=d.construction_budget,
                    t0=d.t0,
                )
            )
    return jobs


def _printer(stream) -> Callable[[JobEvent], None]:
    def on_event(event: JobEvent) -> None:
        r = event.result
        if event.kind == "start":
            return
        if event.kind == "skip":
            print(
                f"[{event.index}/{event.total}] {event.job.label}: done before ({r.status}), "
                "skipped",
                file=stream,
                flush=True,
            )
            return
        alc = f"ALC {r.alc:.4f}" if r.alc is not None else "no score"
        err = f" - {r.error}" if r.error and r.status is not Status.OK else ""
        wall = f" in {r.wall_time:.0f} s" if r.wall_time is not None else ""
        print(
            f"[{event.index}/{event.total}] {event.job.label}: {r.status}, {alc}{wall}{err}",
            file=stream,
            flush=True,
        )

    return on_event


def run_challenge(
    config: ChallengeConfig,
    out_dir: str | os.PathLike[str],
    *,
    n_jobs: int = 1,
    gpus: list[str] | None = None,
    docker_image: str | None = None,
    sandbox: str = "bwrap",
    rerun_failed: bool = False,
    stream=None,
) -> ChallengeOutcome:
    """Run (or resume) a challenge into ``out_dir`` and write its tables and leaderboard."""
    stream = stream or sys.stderr
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(config, out_dir)
    gpus = detect_gpus() if gpus is None else gpus
    workers = min(n_jobs, len(gpus)) if gpus else n_jobs
    # Parallel CPU jobs share the cores instead of each claiming all of them.
    threads = None if gpus or workers <= 1 else max(1, (os.cpu_count() or 1) // workers)
    options = RunOptions(docker_image=docker_image, threads_per_job=threads, sandbox=sandbox)
    results, interrupted = run_jobs(
        jobs,
        n_jobs=n_jobs,
        gpus=gpus,
        options=options,
        rerun_failed=rerun_failed,
        on_event=_printer(stream),
    )
    board = build_leaderboard(
        results,
        datasets=[d.name for d in config.datasets],
        submissions=[s.name for s in config.submissions],
    )
    write_results_table(out_dir, results)
    files = [out_dir / RESULTS_CSV, out_dir / RESULTS_JSON]
    files += write_leaderboard(board, out_dir, title=config.title)
    return ChallengeOutcome(results, board, interrupted, files)
