"""The worker's interpreter: ours, or another Python or virtual environment (``--python``).

The worker needs there only what it imports itself, not autodl (our package is shown to
it read-only, on ``PYTHONPATH``):

- Python >= 3.10 (:data:`MIN_PYTHON`);
- ``numpy`` (>= 1.24; 1.x and 2.x both work), ``google.protobuf`` (protobuf >= 4.21)
  and ``google_crc32c``: reading the records (:data:`REQUIRED`);
- ``PIL`` (Pillow) and ``simplejpeg`` for datasets of compressed images, ``tensorflow``
  for the AutoDL API (train/test), ``torch`` only when the model asks for it
  (:data:`OPTIONAL`; a missing one is said in the record, and by the worker when used).

:func:`resolve` turns a ``--python`` value into a :class:`WorkerPython`, asking a
foreign interpreter once, before the run, whether it can serve: a missing interpreter,
one that does not start, one too old or lacking a module is refused with one message
naming it and what is missing (:class:`InterpreterError`).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MIN_PYTHON = (3, 10)
MIN_NUMPY = (1, 24)
# import name -> pip name
REQUIRED = {"numpy": "numpy", "google.protobuf": "protobuf", "google_crc32c": "google-crc32c"}
OPTIONAL = {
    "PIL": "pillow (images of compressed datasets)",
    "simplejpeg": "simplejpeg (TensorFlow's exact JPEG pixels; Pillow's otherwise)",
    "tensorflow": "tensorflow (the AutoDL API's tf.data datasets)",
}

# Run by the candidate interpreter; written for any Python 2.7+/3.x so that an old one
# still says its version instead of failing on syntax.
_PROBE = r"""
import json, sys
out = {"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable,
       "prefix": sys.prefix, "base_prefix": getattr(sys, "base_prefix", sys.prefix),
       "exec_prefix": sys.exec_prefix, "path": sys.path, "missing": None,
       "optional_missing": [], "numpy": None, "error": None, "autodl": None}
if tuple(sys.version_info[:2]) >= tuple(MIN_PYTHON):
    import importlib.util
    for name in REQUIRED:
        try:
            __import__(name)
        except ImportError as e:
            out["missing"] = [name, "%s: %s" % (type(e).__name__, e)]
            break
    if out["missing"] is None:
        import numpy
        out["numpy"] = numpy.__version__
        for name in OPTIONAL:
            try:
                found = importlib.util.find_spec(name) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                out["optional_missing"].append(name)
        try:
            import autodl, autodl.data, autodl.ingestion.worker
            out["autodl"] = autodl.__file__
        except Exception as e:
            out["error"] = "%s: %s" % (type(e).__name__, e)
print("AUTODL-PROBE " + json.dumps(out))
"""


class InterpreterError(RuntimeError):
    """The interpreter asked for cannot run the worker; the message names it and why."""


@dataclass(frozen=True)
class WorkerPython:
    """The interpreter the worker runs under, and what the sandbox must show of it."""

    executable: str
    version: str
    env: str | None = None  # the environment's name, when it has a manifest
    numpy_aliases: bool = False
    current: bool = True  # the interpreter running autodl
    prefixes: tuple[str, ...] = ()
    path: tuple[str, ...] = ()  # its sys.path
    missing_optional: tuple[str, ...] = ()
    numpy: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """The ``python`` part of ingestion.json."""
        found = {"executable": self.executable, "version": self.version, "env": self.env}
        if self.numpy:
            found["numpy"] = self.numpy
        if self.numpy_aliases:
            found["numpy_aliases"] = True
        if self.missing_optional:
            found["missing_optional"] = list(self.missing_optional)
        return found

    def runtime_paths(self) -> list[Path]:
        """What the worker must read to start: the interpreter and its sys.path folders."""
        import autodl

        paths = {Path(os.path.realpath(self.executable))}
        paths.add(Path(autodl.__file__).resolve().parent)
        parent = str(Path(autodl.__file__).resolve().parent.parent)
        for entry in self.path:
            if entry and os.path.isdir(entry) and os.path.realpath(entry) != parent:
                paths.add(Path(entry).resolve())
        return sorted(paths)


def _env_of(prefix: str) -> tuple[str | None, bool]:
    from autodl.envs import read_manifest

    manifest = read_manifest(prefix)
    if manifest is None:
        return None, False
    return manifest["name"], bool(manifest.get("spec", {}).get("numpy_aliases"))


def current() -> WorkerPython:
    """The interpreter running autodl (a built environment when its prefix has a manifest,
    as in the Docker image of one)."""
    env, aliases = _env_of(sys.prefix)
    # sys.path[0] is our own start folder (absent under -P): the worker starts elsewhere.
    first = 0 if getattr(sys.flags, "safe_path", False) else 1
    return WorkerPython(
        executable=sys.executable,
        version=platform.python_version(),
        env=env,
        numpy_aliases=aliases,
        current=True,
        prefixes=(sys.prefix, sys.base_prefix, sys.exec_prefix),
        path=tuple(sys.path[first:]),
    )


def package_parent() -> str:
    """The folder holding ``autodl``: the foreign worker's PYTHONPATH."""
    import autodl

    return str(Path(autodl.__file__).resolve().parent.parent)


def probe_env(executable: str) -> dict[str, str]:
    """The environment the probe (and the worker) runs a foreign interpreter with."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(executable), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "PYTHONPATH": package_parent(),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "HOME": os.environ.get("HOME", "/"),
    }
    for name in ("LD_LIBRARY_PATH",):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def _locate(value: str) -> tuple[str, str | None]:
    """(interpreter path, environment name) for a ``--python`` value."""
    from autodl import envs

    path = Path(value).expanduser()
    if envs.is_env_name(value):
        import shutil

        on_path = shutil.which(value)  # python3.10 and the like
        if value in envs.SPECS or (envs.envs_root() / value).exists() or on_path is None:
            try:
                prefix = envs.env_prefix(value)
            except envs.EnvError as e:
                raise InterpreterError(f"--python {value}: {e}") from None
            return str(envs.python_of(prefix)), value
        path = Path(on_path)
    path = Path(os.path.abspath(path))
    if path.is_dir():
        path = envs.python_of(path)  # a virtual environment's folder
    if not path.exists():
        raise InterpreterError(f"--python {value}: {path}: no such interpreter")
    if not os.access(path, os.X_OK) or path.is_dir():
        raise InterpreterError(f"--python {value}: {path} is not an executable")
    return str(path), None


def probe(executable: str, env_name: str | None = None, value: str | None = None) -> WorkerPython:
    """Ask ``executable`` whether it can run the worker (InterpreterError when not)."""
    script = (
        _PROBE.replace("MIN_PYTHON", repr(MIN_PYTHON))
        .replace("REQUIRED", repr(list(REQUIRED)))
        .replace("OPTIONAL", repr(list(OPTIONAL)))
    )
    what = f"--python {value or executable}"
    try:
        proc = subprocess.run(
            [executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=120,
            cwd="/",
            env=probe_env(executable),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InterpreterError(f"{what}: {executable} did not answer within 120 s") from None
    except OSError as e:
        raise InterpreterError(f"{what}: {executable} cannot be run: {e.strerror or e}") from None
    line = next((x for x in proc.stdout.splitlines() if x.startswith("AUTODL-PROBE ")), None)
    if line is None:
        said = (proc.stderr or proc.stdout).strip().splitlines()
        detail = said[-1] if said else f"exit code {proc.returncode}"
        raise InterpreterError(f"{what}: {executable} does not run Python here ({detail})")
    found = json.loads(line[len("AUTODL-PROBE ") :])
    version = found["version"]
    named = f"{executable} (Python {version})"
    if tuple(int(x) for x in version.split(".")[:2]) < MIN_PYTHON:
        raise InterpreterError(
            f"{what}: {executable} is Python {version}; the worker needs Python "
            f">= {MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
        )
    if found["missing"]:
        module, detail = found["missing"]
        raise InterpreterError(
            f"{what}: {named} lacks the module {module}, which the worker needs "
            f"(pip install {REQUIRED.get(module, module)} there; {detail})"
        )
    numpy_version = found["numpy"] or "0"
    if tuple(int(x) for x in numpy_version.split(".")[:2] if x.isdigit()) < MIN_NUMPY:
        raise InterpreterError(
            f"{what}: {named} has numpy {numpy_version}; the worker needs numpy >= "
            f"{MIN_NUMPY[0]}.{MIN_NUMPY[1]}"
        )
    if found["error"]:
        raise InterpreterError(
            f"{what}: the worker's code does not import under {named}: {found['error']}"
        )
    ours = str(Path(package_parent()) / "autodl")
    if os.path.realpath(os.path.dirname(found["autodl"])) != os.path.realpath(ours):
        raise InterpreterError(
            f"{what}: {named} imports autodl from {found['autodl']}, not from {ours}"
        )
    prefix = found["prefix"]
    if env_name is None:
        env_name, aliases = _env_of(prefix)
    else:
        aliases = _env_of(prefix)[1]
    return WorkerPython(
        executable=executable,
        version=version,
        env=env_name,
        numpy_aliases=aliases,
        current=False,
        prefixes=(prefix, found["base_prefix"], found["exec_prefix"]),
        path=tuple(p for p in found["path"] if p),
        missing_optional=tuple(found["optional_missing"]),
        numpy=numpy_version,
    )


def resolve(value: str | None) -> WorkerPython:
    """The worker's interpreter for a ``--python`` value: None or ``current`` (ours), an
    environment's name (``legacy``), a virtual environment's folder or an interpreter's
    path. InterpreterError, naming it and why, when it cannot run the worker."""
    from autodl.envs import CURRENT

    if value is None or value == CURRENT:
        return current()
    executable, env_name = _locate(value)
    if os.path.abspath(executable) == os.path.abspath(sys.executable) and env_name is None:
        return current()
    return probe(executable, env_name, value)
