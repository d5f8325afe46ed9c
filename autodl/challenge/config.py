"""The challenge file: which submissions run on which datasets, with which budgets.

A challenge is a YAML file, validated completely before anything runs::

    title: My local challenge          # optional
    defaults:                          # optional; every dataset inherits these
      time_budget: 60                  # seconds of ingestion per run
      construction_budget: 120         # seconds for Model(metadata), not counted in the budget
      t0: 60                           # time constant of the learning curve's log scale
    datasets:                          # name -> built-in name, task folder, or a mapping
      digits: digits
      mini:
        path: ../data/mini-mnist       # relative paths are relative to this file
        time_budget: 30
    submissions:                       # name -> folder holding model.py, or a zip
      baseline: ../baselines/autodl_baseline
      mine: {path: submissions/mine.zip}

Unknown keys, duplicate names, missing files and bad values each raise one
:class:`ConfigError` that names the file and the key.

>>> cfg = load_config("examples/challenge.yaml")           # doctest: +SKIP
>>> [d.name for d in cfg.datasets], [s.name for s in cfg.submissions]   # doctest: +SKIP
(['digits', 'mini'], ['baseline', 'mine'])
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from autodl.challenge.cluster import ClusterSettings, parse_cluster
from autodl.scoring.curve import DEFAULT_T0

DEFAULT_TIME_BUDGET = 60.0

_TOP_KEYS = {"title", "defaults", "datasets", "submissions", "cluster"}
_DEFAULT_KEYS = {"time_budget", "construction_budget", "t0"}
_DATASET_KEYS = {"path", "time_budget", "construction_budget", "t0"}
_SUBMISSION_KEYS = {"path", "tf_mode", "python"}
# Names become folder names (runs/<submission>/<dataset>) and table cells.
_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")


class ConfigError(ValueError):
    """The challenge file is unusable; the message names the file and the key."""


@dataclass(frozen=True)
class DatasetEntry:
    """One dataset of a challenge: a task folder or a built-in dataset, with its budgets."""

    name: str
    source: str  # as written in the file
    path: Path | None  # the task folder, or None for a built-in dataset not built yet
    builtin: str | None  # the built-in name, when the source is one
    time_budget: float
    construction_budget: float | None = None
    t0: float = DEFAULT_T0

    def resolve(self) -> Path:
        """The task folder; a built-in dataset is built on first use (and cached)."""
        if self.path is not None:
            return self.path
        from autodl.data import samples

        return Path(samples.resolve(self.builtin))


@dataclass(frozen=True)
class SubmissionEntry:
    """One submission: a folder with ``model.py`` at its root, or a zip of one."""

    name: str
    path: Path
    tf_mode: str = "auto"  # auto, 1 or 2 (autodl/ingestion/tfmode.py)
    # The worker's interpreter: an environment's name or an interpreter's path
    # (docs/environments.md); None: the one running autodl.
    python: str | None = None

    @property
    def is_zip(self) -> bool:
        return self.path.is_file()


@dataclass(frozen=True)
class ChallengeConfig:
    path: Path | None
    title: str
    datasets: tuple[DatasetEntry, ...]
    submissions: tuple[SubmissionEntry, ...]
    # The Ray backend's requests per job (autodl.challenge.cluster); local runs ignore it.
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    def dataset(self, name: str) -> DatasetEntry:
        return next(d for d in self.datasets if d.name == name)

    def submission(self, name: str) -> SubmissionEntry:
        return next(s for s in self.submissions if s.name == name)


# --------------------------------------------------------------------------- YAML loading


def _strict_loader(where: str) -> type:
    """A safe YAML loader that refuses a key written twice in one mapping.

    PyYAML keeps the last of two equal keys silently; a challenge with two submissions
    of the same name would lose one without a word.
    """
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{where}: line {line}: duplicate name {key!r} (already given on line "
                    f"{seen[key]}); every key and name must be unique"
                )
            seen[key] = line
        return loader.construct_mapping(node, deep=deep)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def _check_keys(where: str, key: str, value: dict, allowed: set[str]) -> None:
    for k in value:
        if k not in allowed:
            raise ConfigError(
                f"{where}: {key}{k}: unknown key (allowed here: {', '.join(sorted(allowed))})"
            )


def _seconds(where: str, key: str, value: Any, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {key}: expected a number of seconds, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{where}: {key}: must be a positive number of seconds, got {value:g}")
    return value


def _check_name(where: str, key: str, name: Any) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(
            f"{where}: {key}{name}: a name must be letters, digits, '_', '.', '+' or '-' "
            "(it names folders and table rows)"
        )
    return name


def _mapping(where: str, key: str, value: Any, *, required: bool) -> dict:
    if value is None:
        if required:
            raise ConfigError(f"{where}: {key}: missing (give at least one entry)")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{where}: {key}: expected a mapping 'name: value', got {type(value).__name__}"
        )
    if required and not value:
        raise ConfigError(f"{where}: {key}: empty (give at least one entry)")
    return value


def _builtin_names() -> list[str]:
    from autodl.data import samples

    return list(samples.names())


def _dataset(where: str, base: Path, name: str, value: Any, defaults: dict) -> DatasetEntry:
    key = f"datasets.{name}"
    if isinstance(value, str):
        value = {"path": value}
    elif not isinstance(value, dict):
        raise ConfigError(
            f"{where}: {key}: expected a path, a built-in dataset name or a mapping with "
            f"'path', got {value!r}"
        )
    _check_keys(where, key + ".", value, _DATASET_KEYS)
    source = value.get("path")
    if not isinstance(source, str) or not source:
        raise ConfigError(f"{where}: {key}.path: missing (a task folder or a built-in name)")
    merged = {**defaults, **{k: v for k, v in value.items() if k != "path"}}
    time_budget = _seconds(where, f"{key}.time_budget", merged.get("time_budget"))
    construction = _seconds(
        where, f"{key}.construction_budget", merged.get("construction_budget"), allow_none=True
    )
    t0 = _seconds(where, f"{key}.t0", merged.get("t0", DEFAULT_T0))

    candidate = (base / os.path.expanduser(source)).resolve()
    if candidate.exists():
        from autodl.data import find_task

        try:
            task = find_task(candidate)
        except Exception as e:  # the data layer's message names the file
            raise ConfigError(f"{where}: {key}: {candidate} is not a task folder: {e}") from None
        if task.solution_path is None:
            raise ConfigError(
                f"{where}: {key}: {candidate} has no *.solution file, so it cannot be scored"
            )
        return DatasetEntry(name, source, Path(task.root), None, time_budget, construction, t0)
    looks_like_path = "/" in source or os.sep in source or source.startswith((".", "~"))
    builtins = [] if looks_like_path else _builtin_names()
    if source in builtins:
        return DatasetEntry(name, source, None, source, time_budget, construction, t0)
    hint = f" nor a built-in dataset ({', '.join(builtins)})" if builtins else ""
    raise ConfigError(f"{where}: {key}: {candidate} not found{hint}")


def _submission(where: str, base: Path, name: str, value: Any) -> SubmissionEntry:
    key = f"submissions.{name}"
    tf_mode = "auto"
    python = None
    if isinstance(value, dict):
        _check_keys(where, key + ".", value, _SUBMISSION_KEYS)
        if "python" in value:
            python = _python(where, f"{key}.python", base, value["python"])
        if "tf_mode" in value:
            from autodl.ingestion.tfmode import TFModeError, normalize

            try:
                tf_mode = normalize(value["tf_mode"], f"{where}: {key}.tf_mode")
            except TFModeError as e:
                raise ConfigError(str(e)) from None
        value = value.get("path")
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {key}: expected a folder or a zip file, got {value!r}")
    path = (base / os.path.expanduser(value)).resolve()
    if path.is_dir():
        if not (path / "model.py").is_file():
            raise ConfigError(f"{where}: {key}: {path} has no model.py at its root")
    elif path.is_file():
        if not zipfile.is_zipfile(path):
            raise ConfigError(f"{where}: {key}: {path} is neither a folder nor a zip file")
        from autodl.submission import SubmissionError, check_zip

        try:
            check_zip(path)
        except SubmissionError as e:
            raise ConfigError(f"{where}: {key}: {e}") from None
    else:
        raise ConfigError(f"{where}: {key}: {path} not found")
    return SubmissionEntry(name, path, tf_mode, python)


def _python(where: str, key: str, base: Path, value: Any) -> str:
    """A submission's interpreter, checked now: it can run the worker, or the file is
    refused naming it (a path is relative to the challenge file)."""
    from autodl.envs import is_env_name
    from autodl.ingestion.interpreter import InterpreterError, resolve

    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"{where}: {key}: expected an environment name or an interpreter's path, got {value!r}"
        )
    if not is_env_name(value):
        value = str(base / os.path.expanduser(value))
    try:
        resolve(value)
    except InterpreterError as e:
        raise ConfigError(f"{where}: {key}: {e}") from None
    return value


def parse_config(
    data: Any, *, where: str = "<config>", base: Path | None = None
) -> ChallengeConfig:
    """Validate an already-parsed challenge mapping; relative paths are taken from ``base``."""
    base = Path(base or Path.cwd())
    top = _mapping(where, "(top level)", data, required=True)
    _check_keys(where, "", top, _TOP_KEYS)
    title = top.get("title") or "AutoDL local challenge"
    if not isinstance(title, str):
        raise ConfigError(f"{where}: title: expected text, got {title!r}")

    defaults = _mapping(where, "defaults", top.get("defaults"), required=False)
    _check_keys(where, "defaults.", defaults, _DEFAULT_KEYS)
    defaults = {"time_budget": DEFAULT_TIME_BUDGET, **defaults}

    datasets = _mapping(where, "datasets", top.get("datasets"), required=True)
    submissions = _mapping(where, "submissions", top.get("submissions"), required=True)
    ds = tuple(
        _dataset(where, base, _check_name(where, "datasets.", n), v, defaults)
        for n, v in datasets.items()
    )
    subs = tuple(
        _submission(where, base, _check_name(where, "submissions.", n), v)
        for n, v in submissions.items()
    )
    cluster = parse_cluster(where, top.get("cluster"), base)
    return ChallengeConfig(None, title, ds, subs, cluster)


def load_config(path: str | os.PathLike[str]) -> ChallengeConfig:
    """Read and validate a challenge YAML file (see the module docstring for the keys)."""
    import yaml

    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}: challenge file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{where}: cannot read the challenge file: {e}") from None
    try:
        data = yaml.load(text, Loader=_strict_loader(where))  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    cfg = parse_config(data, where=where, base=path.resolve().parent)
    return replace(cfg, path=path.resolve())
