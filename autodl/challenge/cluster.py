"""The ``cluster:`` section of a challenge file: what each job asks a Ray cluster for.

Only ``autodl challenge --backend ray`` reads it; the local backend ignores it::

    cluster:
      cpus_per_job: 2            # Ray CPUs per job; also the job's CPU threads (default 1)
      memory_per_job_gb: 4       # Ray memory per job (default: none asked)
      gpus_per_job: 1            # default: 1 when the cluster has GPUs, else 0
      resources: {autodl: 1}     # custom Ray resources per job (e.g. only some nodes)
      max_retries: 2             # tries again a job whose node died (default 2)
      shared_storage: [/mnt/nfs] # paths every node sees at the same place: data and
                                 # code under them are read there, not sent through Ray

>>> s = parse_cluster("c.yaml", {"cpus_per_job": 2, "shared_storage": ["/mnt/x"]}, Path("/"))
>>> s.cpus_per_job, s.max_retries, s.is_shared(Path("/mnt/x/data/task"))
(2.0, 2, True)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_KEYS = {
    "cpus_per_job",
    "memory_per_job_gb",
    "gpus_per_job",
    "resources",
    "max_retries",
    "shared_storage",
}


@dataclass(frozen=True)
class ClusterSettings:
    """Per-job resource requests and data placement for the Ray backend."""

    cpus_per_job: float = 1.0
    memory_per_job_gb: float | None = None
    gpus_per_job: float | None = None  # None: 1 when the cluster has GPUs
    resources: dict[str, float] = field(default_factory=dict)
    max_retries: int = 2
    shared_storage: tuple[Path, ...] = ()

    def is_shared(self, path: Path) -> bool:
        """True when ``path`` lies under a folder every node sees at the same place."""
        path = Path(path).resolve()
        return any(path == root or root in path.parents for root in self.shared_storage)


def _error(where: str, key: str, message: str) -> Exception:
    from autodl.challenge.config import ConfigError

    return ConfigError(f"{where}: cluster.{key}: {message}")


def _number(where: str, key: str, value: Any, *, zero_ok: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(where, key, f"expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        raise _error(where, key, f"must be a {'non-negative' if zero_ok else 'positive'} number")
    return value


def parse_cluster(where: str, value: Any, base: Path) -> ClusterSettings:
    """Validate the ``cluster:`` mapping (None gives the defaults); paths are from ``base``."""
    if value is None:
        return ClusterSettings()
    if not isinstance(value, dict):
        from autodl.challenge.config import ConfigError

        raise ConfigError(f"{where}: cluster: expected a mapping, got {type(value).__name__}")
    for k in value:
        if k not in _KEYS:
            raise _error(where, str(k), f"unknown key (allowed here: {', '.join(sorted(_KEYS))})")
    kwargs: dict[str, Any] = {}
    if "cpus_per_job" in value:
        kwargs["cpus_per_job"] = _number(
            where, "cpus_per_job", value["cpus_per_job"], zero_ok=False
        )
    if value.get("memory_per_job_gb") is not None:
        kwargs["memory_per_job_gb"] = _number(
            where, "memory_per_job_gb", value["memory_per_job_gb"], zero_ok=False
        )
    if value.get("gpus_per_job") is not None:
        kwargs["gpus_per_job"] = _number(where, "gpus_per_job", value["gpus_per_job"], zero_ok=True)
    if "max_retries" in value:
        n = value["max_retries"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise _error(where, "max_retries", f"expected a whole number >= 0, got {n!r}")
        kwargs["max_retries"] = n
    resources = value.get("resources") or {}
    if not isinstance(resources, dict):
        raise _error(where, "resources", "expected a mapping 'name: amount'")
    kwargs["resources"] = {
        str(k): _number(where, f"resources.{k}", v, zero_ok=False) for k, v in resources.items()
    }
    shared = value.get("shared_storage") or []
    if isinstance(shared, str):
        shared = [shared]
    if not isinstance(shared, list) or not all(isinstance(p, str) and p for p in shared):
        raise _error(where, "shared_storage", "expected a list of folders")
    kwargs["shared_storage"] = tuple((base / os.path.expanduser(p)).resolve() for p in shared)
    return ClusterSettings(**kwargs)
