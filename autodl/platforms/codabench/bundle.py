"""``autodl bundle``: a Codabench competition bundle (``competition.yaml`` version 2) from a
challenge YAML.

One task per dataset of the challenge, each with its own folders::

    competition.yaml  logo.png  pages/{overview,evaluation,data,terms}.md
    data/<name>-input/<task>.data/...       input data: the splits, never the solution
    data/<name>-reference/<task>.solution   reference data: the test labels
    programs/<name>-ingestion/              ingestion.py + metadata.yaml (the budgets)
    programs/<name>-scoring/                score.py + metadata.yaml (t0)
    starting_kit/                           README.md + sample_submission.zip

The bundle is staged in a folder beside the output, checked with
:func:`autodl.platforms.codabench.rules.check_bundle` (every file the YAML names, unique
indexes, the leaderboard's rules, columns that ``autodl score`` writes: the same rules
``autodl bundle --check`` applies to a bundle edited by hand), zipped through
:func:`autodl.protocol.atomic_file` (written aside, renamed when complete) and the
staging folder removed.

Codabench runs a submission in two steps (its compute worker): the prediction step
runs the ingestion program beside the submission, with the input data and no solution;
the scoring step runs the scoring program on ingestion's output and the reference data.
The tasks keep ``ingestion_only_during_scoring`` off on purpose: with it on, Codabench
mounts the reference data (the solutions) into the ingestion container too, where the
submission could read them.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autodl.platforms.codabench import pages
from autodl.platforms.codabench.rules import (
    DEFAULT_QUEUE_LIMIT,
    BundleError,
    BundleSummary,
    check_bundle,
)

DEFAULT_IMAGE = "autodl:cpu"
# autodl ingest's default construction budget, and the margin the Docker runner allows
# beyond the budgets (start-up, imports, the supervisor's grace).
DEFAULT_CONSTRUCTION_BUDGET = 1200.0
WALL_GRACE = 120.0
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)

# The leaderboard: (key in scores.json, title, sorting, precision). check_bundle checks
# that autodl score writes each key, so a column never stays empty.
COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("alc", "ALC", "desc", 4),
    ("nauc", "NAUC (last prediction)", "desc", 4),
    ("duration", "Duration (s)", "asc", 1),
    ("num_predictions", "Predictions", "desc", 0),
)


@dataclass
class BundleReport:
    """What :func:`build_bundle` wrote."""

    path: Path
    summary: BundleSummary
    execution_time_limit: int
    zip_bytes: int
    warnings: list[str]


def execution_time_limit(budgets: list[tuple[float, float | None]]) -> int:
    """The phase's limit in whole seconds: the largest time budget plus construction
    budget (autodl ingest's default where unset) plus the margin.

    >>> execution_time_limit([(20, None), (60, 30)])
    1340
    """
    worst = max(t + (c if c is not None else DEFAULT_CONSTRUCTION_BUDGET) for t, c in budgets)
    return math.ceil(worst + WALL_GRACE)


def _task_info(index: int, name: str, task, entry) -> pages.TaskInfo:
    from autodl.data.domain import guess_domain
    from autodl.data.metadata import AutoDLMetadata

    counts: dict[str, int | None] = {"train": None, "test": None}
    domain, classes = "?", None
    for split in ("train", "test"):
        split_dir = getattr(task, f"{split}_dir")
        if split_dir is None:
            continue
        meta = AutoDLMetadata.from_file(split_dir)
        counts[split] = meta.size()
        classes = meta.get_output_size()
        domain = guess_domain(meta)
    return pages.TaskInfo(
        index=index,
        name=name,
        task_name=task.name,
        domain=domain,
        time_budget=entry.time_budget,
        construction_budget=entry.construction_budget,
        t0=entry.t0,
        train_examples=counts["train"],
        test_examples=counts["test"],
        classes=classes,
    )


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)


def _ingestion_command(info: pages.TaskInfo) -> str:
    parts = [
        "python3 $ingestion_program/ingestion.py",
        "--dataset_dir $input --output_dir $output --code_dir $submission_program",
        f"--time_budget {info.time_budget:g}",
    ]
    if info.construction_budget is not None:
        parts.append(f"--construction_budget {info.construction_budget:g}")
    # The container is the model's wall: Codabench's worker forbids what bubblewrap needs
    # (user namespaces) and drops SETUID/SETGID, so the model keeps the container's user.
    parts.append("--sandbox container --worker_uid -1 --no-progress")
    return " ".join(parts)


def _scoring_command(info: pages.TaskInfo) -> str:
    return (
        "python3 $program/score.py --solution_dir $hidden --prediction_dir $input/res "
        f"--score_dir $output --t0 {info.t0:g}"
    )


def _metadata(description: str, command: str) -> str:
    import yaml

    return yaml.safe_dump({"description": description, "command": command}, sort_keys=False)


def _stage_task(root: Path, info: pages.TaskInfo, task) -> dict[str, str]:
    name = info.name
    data_dir = Path(task.data_dir)
    leaked = sorted(p.name for p in data_dir.rglob("*.solution"))
    if leaked:  # fail closed: the input data reaches the submission
        raise BundleError(f"{data_dir}: holds solution files ({', '.join(leaked)}); refusing")
    inputs = root / "data" / f"{name}-input"
    shutil.copytree(data_dir, inputs / data_dir.name, symlinks=False)
    reference = root / "data" / f"{name}-reference"
    reference.mkdir(parents=True)
    shutil.copy2(task.solution_path, reference / Path(task.solution_path).name)
    ingestion = root / "programs" / f"{name}-ingestion"
    _write(ingestion / "ingestion.py", pages.INGESTION_ENTRY)
    _write(
        ingestion / "metadata.yaml",
        _metadata(f"AutoDL ingestion of {name}", _ingestion_command(info)),
    )
    scoring = root / "programs" / f"{name}-scoring"
    _write(scoring / "score.py", pages.SCORING_ENTRY)
    _write(
        scoring / "metadata.yaml", _metadata(f"AutoDL scoring of {name}", _scoring_command(info))
    )
    return {
        "index": info.index,
        "name": name,
        "description": (
            f"{info.domain} task {info.task_name}: time budget {info.time_budget:g} s, "
            f"t0 {info.t0:g} s"
        ),
        "ingestion_only_during_scoring": False,
        "ingestion_program": f"programs/{name}-ingestion",
        "input_data": f"data/{name}-input",
        "scoring_program": f"programs/{name}-scoring",
        "reference_data": f"data/{name}-reference",
    }


def _stage_sample(root: Path, sample_path: Path, title: str, infos) -> str:
    from autodl.submission import pack, resolve_code

    kit = root / "starting_kit"
    kit.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="autodl-sample-") as work:
        code = resolve_code(sample_path, work)
        folder = Path(work) / "sample"
        shutil.copytree(code, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        if not (folder / "metadata").exists() and not (folder / "metadata.yaml").exists():
            (folder / "metadata").write_text(pages.submission_metadata(), encoding="utf-8")
        pack(folder, kit / "sample_submission.zip")
    _write(kit / "README.md", pages.starting_kit_readme(title, sample_path.name, infos))
    return "starting_kit"


def _zip_folder(folder: Path, out: Path) -> int:
    from autodl.protocol import atomic_file

    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    info = zipfile.ZipInfo(p.relative_to(folder).as_posix(), date_time=_ZIP_DATE)
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = 0o644 << 16
                    with open(p, "rb") as src, zf.open(info, "w") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
        size = f.tell()
    return size


def build_bundle(
    config_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    docker_image: str = DEFAULT_IMAGE,
    sample: str | None = None,
    start: dt.date | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> BundleReport:
    """Write the Codabench bundle of the challenge at ``config_path`` to ``output``.

    ``sample`` names the challenge submission that becomes the starting kit's sample
    (default: the first). ``start`` is the phase's start date (default: today, UTC).
    Raises :class:`autodl.challenge.config.ConfigError` for a bad challenge file and
    :class:`BundleError` for a bundle Codabench would refuse; nothing is written then.
    """
    from autodl.challenge.config import load_config
    from autodl.data import find_task

    cfg = load_config(config_path)
    if not docker_image or any(c.isspace() for c in docker_image):
        raise BundleError(f"docker image: expected an image name, got {docker_image!r}")
    names = [s.name for s in cfg.submissions]
    if sample is None:
        sample = names[0]
    elif sample not in names:
        raise BundleError(f"--sample {sample!r}: not a submission of {cfg.path} ({names})")
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{output.name}.", suffix=".stage", dir=output.parent))
    try:
        infos, tasks = [], []
        for index, entry in enumerate(cfg.datasets):
            progress(f"task {index}: {entry.name}")
            task = find_task(entry.resolve())
            if task.data_dir is None or task.solution_path is None:
                raise BundleError(
                    f"{task.root}: dataset {entry.name!r} needs <task>.data and <task>.solution"
                )
            info = _task_info(index, entry.name, task, entry)
            infos.append(info)
            tasks.append(_stage_task(stage, info, task))
        limit = execution_time_limit([(i.time_budget, i.construction_budget) for i in infos])
        kit = _stage_sample(stage, cfg.submission(sample).path, cfg.title, infos)
        _write(stage / "logo.png", pages.logo_png())
        _write(stage / "pages" / "overview.md", pages.overview(cfg.title, infos, docker_image))
        _write(stage / "pages" / "evaluation.md", pages.evaluation(infos))
        _write(stage / "pages" / "data.md", pages.data(infos))
        _write(stage / "pages" / "terms.md", pages.terms(cfg.title))
        competition = {
            "version": 2,
            "title": cfg.title,
            "description": f"AutoDL-style challenge: {len(infos)} task(s), scored by ALC",
            "image": "logo.png",
            "docker_image": docker_image,
            "enable_detailed_results": True,
            "make_programs_available": True,
            "make_input_data_available": False,
            "terms": "pages/terms.md",
            "pages": [
                {"title": "Overview", "file": "pages/overview.md"},
                {"title": "Evaluation", "file": "pages/evaluation.md"},
                {"title": "Data", "file": "pages/data.md"},
            ],
            "tasks": tasks,
            "phases": [
                {
                    "index": 0,
                    "name": "AutoDL",
                    "description": "Every submission runs on every task under its budget.",
                    "start": (start or dt.datetime.now(dt.timezone.utc).date()).isoformat(),
                    "execution_time_limit": limit,
                    "max_submissions_per_day": 5,
                    "max_submissions": 100,
                    "starting_kit": kit,
                    "tasks": [t["index"] for t in tasks],
                }
            ],
            "leaderboards": [
                {
                    "title": "Results",
                    "key": "results",
                    "primary_index": 0,
                    "submission_rule": "Force_Last",
                    "columns": [
                        {
                            "title": title,
                            "key": key,
                            "index": i,
                            "sorting": sort,
                            "precision": precision,
                        }
                        for i, (key, title, sort, precision) in enumerate(COLUMNS)
                    ],
                }
            ],
        }
        import yaml

        _write(stage / "competition.yaml", yaml.safe_dump(competition, sort_keys=False))
        summary = check_bundle(stage)
        warnings = list(summary.warnings)
        if limit > DEFAULT_QUEUE_LIMIT and any(i.construction_budget is None for i in infos):
            warnings.append(
                "the limit counts autodl ingest's default construction_budget "
                f"({DEFAULT_CONSTRUCTION_BUDGET:g} s) for the datasets that set none"
            )
        progress(f"zipping {summary.total_bytes} bytes into {output}")
        size = _zip_folder(stage, output)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    summary.root = output
    return BundleReport(output, summary, limit, size, warnings)
