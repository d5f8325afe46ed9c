"""Confinement of the worker: what exists in its world and what it may use.

- :mod:`.staging`: the files it is given (hard-linked data and code, never a solution)
  and its scrubbed environment;
- :mod:`.check`: can a sandbox be made here at all (the fail-closed probe, once per
  process);
- :mod:`.bwrap`: the bubblewrap command line (namespaces, read-only mounts, private
  size-limited home and scratch);
- :mod:`.cgroups`: memory and process limits through a cgroup (v2, or v1 controllers),
  and the out-of-memory evidence;
- :mod:`.box`: the three together: :func:`confine` turns a worker command into a
  confined one plus what the record says about it.
"""

from autodl.ingestion.sandbox.box import Confinement, SandboxSpec, confine
from autodl.ingestion.sandbox.check import SandboxUnavailable, probe, require
from autodl.ingestion.sandbox.staging import link_tree, worker_env

__all__ = [
    "Confinement",
    "SandboxSpec",
    "SandboxUnavailable",
    "confine",
    "link_tree",
    "probe",
    "require",
    "worker_env",
]
