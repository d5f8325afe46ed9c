"""Evaluations: one submission on one dataset (``autodl run``), or a whole challenge on a
backend (:mod:`autodl.challenge.backend`: threads on this machine, or a Ray cluster).

>>> result = run_single(time_budget=60)                       # doctest: +SKIP
>>> outcome = run_challenge(load_config("challenge.yaml"), "out", n_jobs=2)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import autodl
from autodl.challenge.backend import Backend, LocalBackend
from autodl.challenge.config import ChallengeConfig
from autodl.challenge.leaderboard import Leaderboard, build_leaderboard, write_leaderboard
from autodl.challenge.results import write_results_table
from autodl.challenge.runner import (
    Job,
    JobEvent,
    RunnerError,
    RunOptions,
    needs_run,
    run_job,
)
from autodl.display import Display
from autodl.protocol import RESULTS_CSV, RESULTS_JSON, RunFolder, RunResult
from autodl.resources import detect_gpus

DEFAULT_DATASET = "cluttered_digits"
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
    show_output: bool = False,
    tf_mode: str = "auto",
    python: str | None = None,
) -> RunResult:
    """Run one submission on one dataset in ``<output>/<submission>/<dataset>`` (replaced
    when the new run starts, not before). ``show_output``: ingestion's log, the model's
    prints among it, echoed live."""
    from autodl.challenge.live import job_events

    stream = stream or sys.stderr
    code_path = Path(code) if code is not None else default_code()
    if not code_path.exists():
        raise RunnerError(f"--code {code_path}: no such folder or zip")
    if code_path.is_dir() and not (code_path / "model.py").is_file():
        raise RunnerError(f"--code {code_path}: no model.py at the root of the folder")
    if code_path.is_file() and not zipfile.is_zipfile(code_path):
        raise RunnerError(
            f"--code {code_path}: a file that is not a zip; give the folder holding "
            "model.py, or a zip of it"
        )
    name, task_dir = resolve_dataset(dataset)
    sub = submission_name(code_path)
    run_dir = Path(output).resolve() / sub / name  # an earlier run there: see run_job
    gpus = detect_gpus() if gpus is None else gpus
    job = Job(
        sub,
        code_path.resolve(),
        name,
        task_dir,
        float(time_budget),
        run_dir,
        construction_budget,
        tf_mode=tf_mode,
        python=python,
    )
    options = RunOptions(docker_image=docker_image, sandbox=sandbox)
    mode = "auto" if live is None else "live" if live else "off"
    with Display(stream=stream, mode=mode, transient=True) as display:
        if show_output:
            options.show_output = (
                display.message
                if display.mode != "off"
                else lambda line: print(line, file=stream, flush=True)
            )
        job_events(display)(JobEvent("start", job, None, 0, 1))
        result = run_job(job, gpu=gpus[0] if gpus else None, options=options)
    # The summary lines say how it ended (the live table is transient).
    assert result is not None  # nothing sets the stop event of a single run
    return result


def summary_lines(result: RunResult) -> list[str]:
    def num(x: float | None, fmt: str = ".4f") -> str:
        return "-" if x is None else format(x, fmt)

    lines = [
        f"{result.submission} on {result.dataset}: {result.status}",
        # Two short lines rather than one that an 80-column terminal wraps.
        f"  ALC {num(result.alc)}   final NAUC {num(result.final_nauc)}   "
        f"accuracy {num(result.accuracy)}",
        f"  predictions {result.num_predictions}, the last at "
        f"{num(result.duration, '.1f')} s of {num(result.time_budget, 'g')} s",
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
                    tf_mode=s.tf_mode,
                    python=s.python,
                )
            )
    return jobs


def run_challenge(
    config: ChallengeConfig,
    out_dir: str | os.PathLike[str],
    *,
    n_jobs: int = 1,
    gpus: list[str] | None = None,
    docker_image: str | None = None,
    sandbox: str = "bwrap",
    rerun_failed: bool = False,
    backend: Backend | None = None,
    stream=None,
) -> ChallengeOutcome:
    """Run (or resume) a challenge into ``out_dir`` and write its tables and leaderboard.

    Jobs run on ``backend`` (default: :class:`~autodl.challenge.backend.LocalBackend` with
    ``n_jobs``, ``gpus``, ``docker_image`` and ``sandbox``); finished ones are skipped.
    """
    from autodl.challenge.live import job_events

    stream = stream or sys.stderr
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = plan_jobs(config, out_dir)
    if backend is None:
        backend = LocalBackend.create(
            n_jobs=n_jobs,
            gpus=detect_gpus() if gpus is None else gpus,
            docker_image=docker_image,
            sandbox=sandbox,
            rerun_failed=rerun_failed,
        )
    results: dict[tuple[str, str], RunResult] = {}
    with Display(title=config.title, stream=stream, total=len(jobs)) as display:
        show = job_events(display)
        todo = []
        for job in jobs:
            done = needs_run(job, rerun_failed=rerun_failed)
            if done is None:
                todo.append(job)
                continue
            results[job.submission, job.dataset] = done
            show(JobEvent("skip", job, done, len(results), len(jobs)))

        def on_event(event: JobEvent) -> None:
            # Numbered over the whole challenge, skipped jobs included.
            if event.kind == "done" and event.result is not None:
                results[event.job.submission, event.job.dataset] = event.result
                event = JobEvent("done", event.job, event.result, len(results), len(jobs))
            show(event)

        _, interrupted = backend.run(todo, on_event=on_event, display=display)
    ordered = [results[k] for k in ((j.submission, j.dataset) for j in jobs) if k in results]
    board = build_leaderboard(
        ordered,
        datasets=[d.name for d in config.datasets],
        submissions=[s.name for s in config.submissions],
    )
    write_results_table(out_dir, ordered)
    files = [out_dir / RESULTS_CSV, out_dir / RESULTS_JSON]
    files += write_leaderboard(board, out_dir, title=config.title)
    return ChallengeOutcome(ordered, board, interrupted, files)
