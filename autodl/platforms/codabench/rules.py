"""The rules a Codabench competition bundle (``competition.yaml`` version 2) must pass.

Our own reading of what Codabench's v2 unpacker, its leaderboard serializer and its
compute worker refuse or silently mishandle, checked on an unpacked bundle folder, so a
bundle fails here, with every problem named, rather than on the platform:

- ``competition.yaml`` at the bundle's root, ``version: 2``, a ``title``;
- ``image`` (the logo), ``terms`` and every page's ``file`` exist (pages and terms not
  empty); every path stays inside the bundle;
- tasks: a unique ``index`` each, a ``scoring_program`` unless a ``key`` names an existing
  task, every file they name present; a program folder's ``metadata.yaml`` (or
  ``metadata``) holds a ``command``;
- phases: at least one task each, only indexes the tasks define, a ``start`` date,
  every phase but the last with an ``end`` before the next one's ``start``, a positive
  whole ``execution_time_limit``, ``starting_kit`` and ``public_data`` present;
- leaderboards: at least one, each with columns whose ``index`` and ``key`` are unique,
  keys and titles of at most 36 characters (the leaderboard's title 64), ``sorting``
  ``asc`` or ``desc``, a ``computation`` (avg, sum, min, max) only with
  ``computation_indexes`` naming other existing columns, and a ``primary_index`` that is
  a column's;
- scores: where a task's scoring program is ``autodl score`` (the one the exporter
  writes), every leaderboard column that is not computed is a number ``scores.json``
  holds: Codabench drops a score whose key no column has, and shows nothing for a
  column whose key the scoring program never writes.

The bundle is a folder or a zip (read in place: :mod:`.contents`). ``autodl bundle``
checks its staging folder with these rules before zipping, and ``autodl bundle --check``
an existing bundle with the same ones.

>>> check_bundle("no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
Traceback (most recent call last):
BundleError: no/such/folder: no competition.yaml at the bundle's root
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from autodl.platforms.codabench.contents import BundleFiles, NotABundle, ZipFiles, open_bundle
from autodl.platforms.codabench.programs import (
    metadata_command,
    read_metadata_command,
    score_keys,
    scoring_is_autodl,
)

__all__ = ["BundleError", "BundleSummary", "check_bundle", "read_metadata_command", "score_keys"]

COMPETITION_YAML = "competition.yaml"
TASK_FILES = ("ingestion_program", "input_data", "scoring_program", "reference_data")
PROGRAM_FILES = ("ingestion_program", "scoring_program")
COMPUTATIONS = ("avg", "sum", "min", "max")
SORTINGS = ("asc", "desc")
# Column.key/title and Leaderboard.key are CharField(max_length=36), Leaderboard.title 64.
MAX_KEY = 36
MAX_LEADERBOARD_TITLE = 64
# Codabench's default queue cuts every run at this many seconds (MAX_EXECUTION_TIME_LIMIT).
DEFAULT_QUEUE_LIMIT = 600


class BundleError(ValueError):
    """A bundle Codabench would refuse; the message lists every problem, each by its key.

    ``problems`` holds one ``"field: what is wrong"`` line per problem, ``source`` the
    file they are about (the bundle's ``competition.yaml``).
    """

    def __init__(self, message: str, problems: list[str] | None = None, source: str = "") -> None:
        super().__init__(message)
        self.problems = problems if problems is not None else [message]
        self.source = source

    def lines(self) -> list[str]:
        """One line per problem, each naming the file it is about."""
        return [f"{self.source}: {p}" if self.source else p for p in self.problems]


@dataclass
class TaskEntry:
    """One task of a bundle, as the summary shows it."""

    index: Any
    name: str
    scoring: str  # "autodl score", "not determined", or an existing task's key
    bytes: int


@dataclass
class PhaseEntry:
    name: str
    tasks: list[Any]
    start: str
    end: str
    execution_time_limit: Any


@dataclass
class BundleSummary:
    """What a bundle that passes holds."""

    root: Path
    title: str
    tasks: int
    phases: int
    columns: list[str] = field(default_factory=list)
    files: dict[str, int] = field(default_factory=dict)  # path in the bundle -> bytes
    task_entries: list[TaskEntry] = field(default_factory=list)
    phase_entries: list[PhaseEntry] = field(default_factory=list)
    # column key -> "written" (autodl score writes it), "computed", or "not determined"
    column_sources: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # allowed, but likely not meant

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _date(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            return None
    return None


class _Checker:
    def __init__(self, files: BundleFiles) -> None:
        self.bundle = files
        self.problems: list[str] = []
        self.files: dict[str, int] = {}
        self.tasks: list[TaskEntry] = []
        self.phases: list[PhaseEntry] = []
        self.autodl_scoring: list[str] = []  # the tasks' fields naming `autodl score`
        self.warnings: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def file(self, where: str, value: Any, *, allow_uuid: bool = False) -> str | None:
        """The bundle path ``value`` names (normalised), checked to exist inside the bundle."""
        if not isinstance(value, str) or not value.strip():
            self.fail(where, f"expected a path inside the bundle, got {value!r}")
            return None
        rel = PurePosixPath(value)
        if rel.is_absolute() or ".." in rel.parts:
            # The unpacker joins the path to its folder: an absolute one escapes it.
            self.fail(where, f"{value!r} leaves the bundle (absolute or '..')")
            return None
        path = rel.as_posix()
        if self.bundle.kind(path) is None:
            if allow_uuid and _is_uuid(value):
                return None  # an existing dataset's key on the platform
            self.fail(where, f"{value!r} not found in the bundle")
            return None
        self.files.setdefault(value, self.bundle.size(path))
        return path

    def text(self, where: str, value: Any) -> None:
        path = self.file(where, value)
        if path is None:
            return
        if self.bundle.kind(path) != "file":
            self.fail(where, f"{value!r} is a folder; a page is one markdown/HTML file")
        elif not self.bundle.read(path).decode("utf-8", errors="replace").strip():
            self.fail(where, f"{value!r} is empty; Codabench refuses empty pages")

    def listing(self, where: str, value: Any) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.fail(where, "missing or empty (a list of at least one entry)")
            return []
        return value


def _check_tasks(c: _Checker, data: dict) -> set[Any]:
    indexes: set[Any] = set()
    for i, task in enumerate(c.listing("tasks", data.get("tasks"))):
        where = f"tasks[{i}]"
        if not isinstance(task, dict):
            c.fail(where, "expected a mapping")
            continue
        if "index" not in task:
            c.fail(where, "no index")
            continue
        index = task["index"]
        if index in indexes:
            c.fail(f"{where}.index", f"duplicate task index {index!r}")
        indexes.add(index)
        name = str(task.get("name") or task.get("key") or index)
        if "key" in task:  # an existing task on the platform: nothing else is read
            c.tasks.append(TaskEntry(index, name, f"existing task {task['key']}", 0))
            continue
        if "scoring_program" not in task:
            c.fail(where, "no scoring_program")
        size, scoring = 0, "not determined"
        for kind in TASK_FILES:
            if kind not in task:
                continue
            path = c.file(f"{where}.{kind}", task[kind], allow_uuid=True)
            if path is None:
                continue
            size += c.files.get(task[kind], 0)
            if kind in PROGRAM_FILES and c.bundle.kind(path) == "dir":
                if metadata_command(c.bundle, path) is None:
                    c.fail(
                        f"{where}.{kind}",
                        f"{task[kind]!r} has no metadata.yaml/metadata with a 'command'",
                    )
                elif kind == "scoring_program" and scoring_is_autodl(c.bundle, path):
                    scoring = "autodl score"
                    c.autodl_scoring.append(f"{where}.scoring_program")
        c.tasks.append(TaskEntry(index, name, scoring, size))
    return indexes


def _check_solutions(c: _Checker, data: dict, task_indexes: set[Any]) -> None:
    seen: set[Any] = set()
    for i, sol in enumerate(data.get("solutions") or []):
        where = f"solutions[{i}]"
        if not isinstance(sol, dict) or "index" not in sol:
            c.fail(where, "no index")
            continue
        if sol["index"] in seen:
            c.fail(where, f"duplicate solution index {sol['index']!r}")
        seen.add(sol["index"])
        tasks = sol.get("tasks")
        if not isinstance(tasks, list) or not all(t in task_indexes for t in tasks):
            c.fail(where, f"tasks {tasks!r} must list task indexes defined under 'tasks'")
        if "key" not in sol:
            c.file(f"{where}.path", sol.get("path"))


def _check_phases(c: _Checker, data: dict, task_indexes: set[Any]) -> int:
    phases = c.listing("phases", data.get("phases"))
    dated: list[tuple[str, dt.datetime | None, dt.datetime | None]] = []
    for i, phase in enumerate(phases):
        where = f"phases[{i}]"
        if not isinstance(phase, dict):
            c.fail(where, "expected a mapping")
            continue
        tasks = phase.get("tasks")
        if not isinstance(tasks, list) or not tasks:
            c.fail(f"{where}.tasks", "no tasks (a phase needs at least one)")
        else:
            for t in tasks:
                if t not in task_indexes:
                    c.fail(f"{where}.tasks", f"task index {t!r} is not defined under 'tasks'")
        start = _date(phase.get("start"))
        if start is None:
            c.fail(where, f"start: a date is required, got {phase.get('start')!r}")
        end = None
        if phase.get("end") is not None:
            end = _date(phase.get("end"))
            if end is None:
                c.fail(where, f"end: not a date: {phase.get('end')!r}")
        limit = phase.get("execution_time_limit")
        bad_limit = isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0
        if limit is not None and bad_limit:
            c.fail(where, f"execution_time_limit: positive whole seconds, got {limit!r}")
        elif limit is not None and limit > DEFAULT_QUEUE_LIMIT:
            c.warnings.append(
                f"{where}.execution_time_limit is {limit} s: Codabench's default queue stops "
                f"runs at {DEFAULT_QUEUE_LIMIT} s, so use a queue of your own or lower the budgets"
            )
        for kind in ("starting_kit", "public_data"):
            if kind in phase:
                c.file(f"{where}.{kind}", phase[kind])
        dated.append((str(phase.get("name") or i), start, end))
        shown = [str(phase.get(k)) if phase.get(k) is not None else "-" for k in ("start", "end")]
        c.phases.append(
            PhaseEntry(
                str(phase.get("name") or i),
                tasks if isinstance(tasks, list) else [],
                *shown,
                phase.get("execution_time_limit"),
            )
        )
    for (name1, _, end1), (name2, start2, _) in zip(dated, dated[1:], strict=False):
        if end1 is None:
            c.fail(f"phase {name1!r}", "needs an end: another phase follows it")
        elif start2 is not None and start2 <= end1:
            c.fail(f"phase {name2!r}", f"starts before (or when) phase {name1!r} ends")
    return len(phases)


def _check_leaderboards(c: _Checker, data: dict) -> list[str]:
    keys_out: list[str] = []
    for i, board in enumerate(c.listing("leaderboards", data.get("leaderboards"))):
        where = f"leaderboards[{i}]"
        if not isinstance(board, dict):
            c.fail(where, "expected a mapping")
            continue
        title, key = board.get("title"), board.get("key")
        if not isinstance(title, str) or not 0 < len(title) <= MAX_LEADERBOARD_TITLE:
            c.fail(where, f"title: 1 to {MAX_LEADERBOARD_TITLE} characters, got {title!r}")
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY:
            c.fail(where, f"key: 1 to {MAX_KEY} characters, got {key!r}")
        columns = c.listing(f"{where}.columns", board.get("columns"))
        indexes = [col.get("index") for col in columns if isinstance(col, dict)]
        keys = [col.get("key") for col in columns if isinstance(col, dict)]
        if len(set(indexes)) != len(columns):
            c.fail(f"{where}.columns", f"column indexes must be unique, got {indexes}")
        if len(set(keys)) != len(columns):
            c.fail(f"{where}.columns", f"column keys must be unique, got {keys}")
        for j, col in enumerate(columns):
            cw = f"{where}.columns[{j}]"
            if not isinstance(col, dict):
                c.fail(cw, "expected a mapping")
                continue
            index = col.get("index")
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                c.fail(cw, f"index: a whole number >= 0, got {index!r}")
            for name in ("key", "title"):
                v = col.get(name)
                if not isinstance(v, str) or not 0 < len(v) <= MAX_KEY:
                    c.fail(cw, f"{name}: 1 to {MAX_KEY} characters, got {v!r}")
            if col.get("sorting", "desc") not in SORTINGS:
                c.fail(cw, f"sorting: one of {SORTINGS}, got {col.get('sorting')!r}")
            _check_computation(c, cw, col, indexes)
            if isinstance(col.get("key"), str):
                keys_out.append(col["key"])
        primary = board.get("primary_index", 0)
        if primary not in indexes:
            c.fail(where, f"primary_index {primary!r} is not a column's index ({indexes})")
    return keys_out


def _check_computation(c: _Checker, where: str, col: dict, indexes: list[Any]) -> None:
    computation, refs = col.get("computation"), col.get("computation_indexes")
    if computation is None and not refs:
        return
    if computation not in COMPUTATIONS:
        c.fail(where, f"computation: one of {COMPUTATIONS}, got {computation!r}")
    if not refs:
        c.fail(where, "a computation needs computation_indexes (the columns it acts on)")
        return
    refs_list = refs if isinstance(refs, list) else str(refs).split(",")
    for ref in refs_list:
        try:
            ref = int(ref)
        except (TypeError, ValueError):
            c.fail(where, f"computation_indexes: {ref!r} is not a column index")
            continue
        if ref == col.get("index"):
            c.fail(where, "computation_indexes: a column cannot compute over itself")
        elif ref not in indexes:
            c.fail(where, f"computation_indexes: no column with index {ref}")


def _check_scores(c: _Checker, data: dict) -> dict[str, str]:
    """Each column's source; a column no ``autodl score`` task writes is a problem."""
    sources: dict[str, str] = {}
    written = score_keys() if c.autodl_scoring else frozenset()
    for i, board in enumerate(data.get("leaderboards") or []):
        columns = board.get("columns") if isinstance(board, dict) else None
        for j, col in enumerate(columns if isinstance(columns, list) else []):
            if not isinstance(col, dict) or not isinstance(col.get("key"), str):
                continue
            key = col["key"]
            if col.get("computation") is not None:
                sources[key] = "computed"
            elif not c.autodl_scoring:
                sources[key] = "not determined"
            elif key in written:
                sources[key] = "written"
            else:
                sources[key] = "never written"
                c.fail(
                    f"leaderboards[{i}].columns[{j}].key",
                    f"{key!r} is not a number scores.json holds: "
                    f"{c.autodl_scoring[0]} runs autodl score, which writes "
                    f"{', '.join(sorted(written))}",
                )
    return sources


def _load_yaml(files: BundleFiles) -> dict:
    import yaml

    if files.kind(COMPETITION_YAML) != "file":
        nested = ""
        inner = files.nested(COMPETITION_YAML)
        if inner:  # the folder was zipped instead of its contents
            nested = f" (it is at {inner[0]!r}: zip the folder's contents, not the folder)"
        problem = f"no {COMPETITION_YAML} at the bundle's root{nested}"
        raise BundleError(f"{files.label}: {problem}", [problem], files.label)
    source = f"{files.label}: {COMPETITION_YAML}"
    try:
        data = yaml.safe_load(files.read(COMPETITION_YAML).decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        detail = getattr(e, "problem", None) or " ".join(str(e).split())
        problem = f"not valid YAML: {where}{detail}"
        raise BundleError(f"{source}: {problem}", [problem], source) from None
    if not isinstance(data, dict):
        problem = f"expected a mapping at the top level, got {type(data).__name__}"
        raise BundleError(f"{source}: {problem}", [problem], source)
    return data


def check_bundle(bundle: str | os.PathLike[str] | BundleFiles) -> BundleSummary:
    """Check a bundle: an unpacked folder, a zip (read in place), or its files.

    Raises :class:`BundleError` listing every problem; ``FileNotFoundError`` when
    ``bundle`` names nothing.
    """
    if isinstance(bundle, BundleFiles):
        return _check(bundle)
    if not Path(bundle).exists():  # the message the exporter's callers have always had
        raise BundleError(f"{bundle}: no {COMPETITION_YAML} at the bundle's root")
    try:
        files = open_bundle(bundle)
    except NotABundle as e:
        raise BundleError(str(e)) from None
    try:
        return _check(files)
    except (zipfile.BadZipFile, zlib.error, EOFError) as e:  # an entry's bytes are damaged
        raise BundleError(f"{bundle}: a damaged zip entry: {e}") from None
    finally:
        files.close()


def _check(files: BundleFiles) -> BundleSummary:
    data = _load_yaml(files)
    c = _Checker(files)
    if isinstance(files, ZipFiles):
        for problem in files.unsafe():
            c.fail("zip entry", problem)
    if str(data.get("version")) != "2":
        c.fail("version", f"must be 2 (this checker knows version 2), got {data.get('version')!r}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        c.fail("title", "missing")
    image = data.get("docker_image")
    if image is not None and (not isinstance(image, str) or not image.strip()):
        c.fail("docker_image", f"expected an image name, got {image!r}")
    c.file("image", data.get("image"))
    c.text("terms", data.get("terms"))
    for i, page in enumerate(c.listing("pages", data.get("pages"))):
        if not isinstance(page, dict):
            c.fail(f"pages[{i}]", "expected a mapping with 'title' and 'file'")
            continue
        c.text(f"pages[{i}].file", page.get("file"))
    task_indexes = _check_tasks(c, data)
    _check_solutions(c, data, task_indexes)
    phases = _check_phases(c, data, task_indexes)
    columns = _check_leaderboards(c, data)
    sources = _check_scores(c, data)
    source = f"{files.label}: {COMPETITION_YAML}"
    if c.problems:
        listed = "\n  ".join(c.problems)
        raise BundleError(
            f"{source}: {len(c.problems)} problem(s):\n  {listed}", c.problems, source
        )
    return BundleSummary(
        root=Path(files.label),
        title=str(title),
        tasks=len(task_indexes),
        phases=phases,
        columns=columns,
        files=dict(sorted(c.files.items())),
        task_entries=c.tasks,
        phase_entries=c.phases,
        column_sources=sources,
        warnings=c.warnings,
    )
