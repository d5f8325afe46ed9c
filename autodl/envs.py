"""Environments a submission can run in: documented specs, built as virtual environments.

An environment is a virtual environment at ``envs_root()/NAME`` (``$AUTODL_ENVS``, else
``$XDG_CACHE_HOME/autodl/envs``, else ``~/.cache/autodl/envs``) holding a manifest,
``autodl-env.json``: its name, its spec, its Python and every distribution installed.
The manifest is written last and the folder is built under a hidden name, then renamed
into place, so a folder at ``NAME`` with a manifest is a complete build; a failed or
interrupted build leaves nothing that looks like one.

The ingestion worker runs in such an environment with ``--python NAME`` (or a path); it
needs there only what :mod:`autodl.ingestion.interpreter` lists, not autodl itself,
which is shown to it read-only. ``current`` names the interpreter running autodl.

>>> sorted(SPECS), SPECS["legacy"].numpy_aliases
(['legacy'], True)
>>> is_env_name("legacy"), is_env_name("./legacy"), is_env_name("/usr/bin/python3")
(True, False, False)
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

ROOT_VAR = "AUTODL_ENVS"
MANIFEST = "autodl-env.json"
CURRENT = "current"
MANIFEST_FORMAT = 1
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

# What the worker imports in any environment (autodl.ingestion.interpreter checks them):
# numpy, protobuf and google-crc32c to read the records, Pillow and simplejpeg to decode
# images. Kept here as pip requirements so that every spec installs them.
WORKER_REQUIREMENTS = (
    "numpy>=1.24",
    "protobuf>=4.21",
    "google-crc32c>=1.5",
    "pillow>=9.5",
    "simplejpeg>=1.7",
)
_X86 = "platform_machine == 'x86_64' or platform_machine == 'AMD64'"
_NOT_X86 = "platform_machine != 'x86_64' and platform_machine != 'AMD64'"


@dataclass(frozen=True)
class EnvSpec:
    """A documented environment: what ``autodl env build NAME`` installs."""

    name: str
    summary: str
    requirements: tuple[str, ...]
    python_min: tuple[int, int] = (3, 10)
    python_max: tuple[int, int] = (3, 11)  # the newest minor version the wheels exist for
    # np.float, np.int, np.bool, np.object... restored in the worker just before the
    # submission's model.py is imported (autodl.ingestion.numpy_aliases).
    numpy_aliases: bool = False
    # Distributions that must not come in through a dependency: torch would fetch a CUDA
    # build of several GB.
    forbidden: tuple[str, ...] = ("torch",)
    # Run in the built environment before it is renamed into place.
    check: str = "import numpy"

    def all_requirements(self) -> list[str]:
        return [*self.requirements, *WORKER_REQUIREMENTS]


SPECS: dict[str, EnvSpec] = {
    "legacy": EnvSpec(
        name="legacy",
        summary="the 2019 challenge's world: TensorFlow 2.15 (the last with tf.estimator), "
        "numpy < 2, scikit-learn; numpy's removed aliases restored for the submission",
        requirements=(
            f"tensorflow-cpu==2.15.1; {_X86}",
            f"tensorflow==2.15.1; {_NOT_X86}",
            "numpy>=1.24,<2",
            "scikit-learn",
        ),
        python_min=(3, 9),
        python_max=(3, 11),
        numpy_aliases=True,
        check=(
            "import numpy, sklearn, tensorflow as tf; "
            "assert numpy.__version__.startswith('1.'), numpy.__version__; "
            "assert tf.estimator.Estimator and tf.compat.v1.Session"
        ),
    ),
}


class EnvError(RuntimeError):
    """An environment cannot be found or built; the message says which and why."""


@dataclass
class EnvInfo:
    """One environment as ``autodl env list`` shows it."""

    name: str
    state: str  # "built", "not built", "incomplete" (a folder without a manifest), "current"
    prefix: Path | None
    summary: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)


def envs_root() -> Path:
    """Where environments live (``$AUTODL_ENVS``, else the user's cache folder)."""
    if os.environ.get(ROOT_VAR):
        return Path(os.environ[ROOT_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "autodl" / "envs"


def is_env_name(value: str) -> bool:
    """A bare name (an environment), not a path: ``./name`` is a folder here."""
    return bool(_NAME_RE.match(value)) and os.sep not in value


def python_of(prefix: Path) -> Path:
    """The interpreter of the virtual environment at ``prefix``."""
    return prefix / "bin" / "python"


def read_manifest(prefix: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of the environment at ``prefix``; None when it has none (or a bad one)."""
    path = Path(prefix) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("name"), str) else None


def env_prefix(name: str, root: Path | None = None) -> Path:
    """The folder of the built environment ``name`` (EnvError when it is not built)."""
    if not is_env_name(name):
        raise EnvError(f"{name!r} is not an environment name (letters, digits, '_', '.', '-')")
    prefix = (root or envs_root()) / name
    if read_manifest(prefix) is not None and python_of(prefix).exists():
        return prefix
    if name in SPECS:
        state = "incomplete" if prefix.exists() else "not built"
        raise EnvError(
            f"environment {name!r} is {state} (at {prefix}): build it with "
            f"`autodl env build {name}`"
        )
    known = sorted({*SPECS, *(e.name for e in list_envs(root) if e.state == "built")})
    raise EnvError(f"no environment named {name!r} (known: {', '.join(known) or 'none'})")


def list_envs(root: Path | None = None) -> list[EnvInfo]:
    """``current``, every documented environment, and any other built one under ``root``."""
    root = root or envs_root()
    found = [EnvInfo(CURRENT, CURRENT, Path(sys.prefix), "the interpreter running autodl")]
    names = set(SPECS)
    if root.is_dir():
        names |= {p.name for p in root.iterdir() if p.is_dir() and is_env_name(p.name)}
    for name in sorted(names):
        prefix = root / name
        spec = SPECS.get(name)
        summary = spec.summary if spec else ""
        manifest = read_manifest(prefix)
        if manifest is not None and python_of(prefix).exists():
            summary = summary or manifest.get("spec", {}).get("summary", "")
            found.append(EnvInfo(name, "built", prefix, summary, manifest))
        elif prefix.exists():
            found.append(EnvInfo(name, "incomplete", prefix, summary))
        else:
            found.append(EnvInfo(name, "not built", None, summary))
    return found


# --------------------------------------------------------------------------- building


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.strip()
        major, minor = out.split(".")
        return int(major), int(minor)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def base_python(spec: EnvSpec, given: str | None = None) -> tuple[str, tuple[int, int]]:
    """The interpreter the environment is made from: ``given``, ours when its version
    fits the spec, else ``python3.X`` on PATH from the newest fitting minor down."""
    fits = lambda v: v is not None and spec.python_min <= v <= spec.python_max  # noqa: E731
    if given:
        v = _version_of(given)
        if v is None:
            raise EnvError(f"--base-python {given}: cannot run it")
        if not fits(v):
            raise EnvError(
                f"--base-python {given} is Python {v[0]}.{v[1]}; environment {spec.name!r} "
                f"needs {_range(spec)}"
            )
        return given, v
    candidates = [sys.executable]
    for minor in range(spec.python_max[1], spec.python_min[1] - 1, -1):
        exe = shutil.which(f"python3.{minor}")
        if exe:
            candidates.append(exe)
    for exe in candidates:
        v = _version_of(exe)
        if fits(v):
            return exe, v
    raise EnvError(
        f"environment {spec.name!r} needs {_range(spec)} (its wheels exist for no other); "
        f"none found (tried {', '.join(candidates)}): install one, or pass --base-python"
    )


def _range(spec: EnvSpec) -> str:
    lo, hi = spec.python_min, spec.python_max
    return f"Python {lo[0]}.{lo[1]} to {hi[0]}.{hi[1]}"


@contextlib.contextmanager
def _locked(root: Path, name: str) -> Iterator[None]:
    """One build of ``name`` at a time under ``root`` (a second one waits)."""
    import fcntl

    with open(root / f".{name}.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _installed(python: Path) -> dict[str, str]:
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions() "
        "if d.metadata['Name']}))"
    )
    out = subprocess.run(
        [str(python), "-I", "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    return dict(sorted(json.loads(out).items(), key=lambda kv: kv[0].lower()))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _relocate(tmp: Path, final: Path) -> None:
    """Point the scripts of ``bin/`` and ``pyvenv.cfg`` at the final folder: a venv's
    console scripts name their interpreter by absolute path."""
    old, new = str(tmp).encode(), str(final).encode()
    for path in [*sorted((tmp / "bin").iterdir()), tmp / "pyvenv.cfg"]:
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old in data and b"\0" not in data[:1024]:
            path.write_bytes(data.replace(old, new))


def _du(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, f)).st_size
    return total


def manifest_for(
    spec: EnvSpec, python: Path, *, base: str | None, seconds: float | None
) -> dict[str, Any]:
    """What ``autodl-env.json`` says about the environment whose interpreter is ``python``."""
    from autodl import __version__

    version = subprocess.run(
        [str(python), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.strip()
    return {
        "format": MANIFEST_FORMAT,
        "name": spec.name,
        "spec": asdict(spec),
        "python": {"version": version, "base": base},
        "installed": _installed(python),
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "build_seconds": None if seconds is None else round(seconds, 1),
        "machine": platform.machine(),
        "autodl_version": __version__,
    }


@dataclass
class BuildResult:
    name: str
    prefix: Path
    python: Path
    seconds: float
    size_bytes: int
    installed: dict[str, str]


def _say(out: TextIO, text: str) -> None:
    print(f"[autodl env] {text}", file=out, flush=True)


def build(
    name: str,
    *,
    root: Path | None = None,
    base: str | None = None,
    pip_options: Sequence[str] = (),
    out: TextIO | None = None,
) -> BuildResult:
    """Build the documented environment ``name`` under ``root``, replacing an older build.

    pip's own output goes to ``out`` (stderr by default) as it comes: that is the
    progress. Built under a hidden name and renamed into place once complete.
    """
    out = out or sys.stderr
    spec = SPECS.get(name)
    if spec is None:
        raise EnvError(f"no documented environment {name!r} (documented: {', '.join(SPECS)})")
    root = root or envs_root()
    root.mkdir(parents=True, exist_ok=True)
    exe, version = base_python(spec, base)
    final = root / name
    with _locked(root, name):
        for stale in root.glob(f".{name}.*-*"):  # what a killed build left
            shutil.rmtree(stale, ignore_errors=True)
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=root))
        try:
            os.chmod(tmp, 0o755)  # the worker may run as another uid
            _say(
                out,
                f"{name}: a virtual environment from {exe} (Python {version[0]}."
                f"{version[1]}) in {tmp}",
            )
            _run([exe, "-m", "venv", "--prompt", name, str(tmp)], out)
            python = python_of(tmp)
            reqs = spec.all_requirements()
            _say(
                out,
                f"{name}: pip install {' '.join(repr(r) for r in reqs)} (minutes: "
                "pip's output follows)",
            )
            _run(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "--no-input",
                    "--only-binary=:all:",
                    *pip_options,
                    *reqs,
                ],
                out,
            )
            installed = _installed(python)
            pulled = sorted(
                n for n in installed if _canonical(n) in {_canonical(f) for f in spec.forbidden}
            )
            if pulled:
                raise EnvError(
                    f"environment {name!r}: {', '.join(pulled)} came in through a dependency, "
                    "which the spec forbids (a CUDA build of several GB)"
                )
            _relocate(tmp, final)
            _say(out, f"{name}: checking it ({spec.check})")
            _run([str(python), "-c", spec.check], out)
            seconds = time.monotonic() - started
            from autodl.protocol.atomic import write_json

            write_json(tmp / MANIFEST, manifest_for(spec, python, base=exe, seconds=seconds))
            old = None
            if final.exists() or final.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{name}.old-", dir=root))
                os.rename(final, old / name)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    size = _du(final)
    _say(out, f"{name}: built in {seconds:.0f} s, {size / 1e9:.2f} GB, at {final}")
    return BuildResult(name, final, python_of(final), seconds, size, installed)


def _run(cmd: list[str], out: TextIO) -> None:
    """Run a build step, its output streamed to ``out``; EnvError naming it when it fails."""
    stream = out if hasattr(out, "fileno") else None
    try:
        fd = stream.fileno() if stream is not None else None
    except (OSError, ValueError):  # pytest's capture, a StringIO
        fd = None
    if fd is not None:
        out.flush()
        rc = subprocess.run(cmd, stdout=fd, stderr=fd, stdin=subprocess.DEVNULL).returncode
    else:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False
        )
        out.write(proc.stdout + proc.stderr)
        rc = proc.returncode
    if rc != 0:
        raise EnvError(f"building the environment failed: `{' '.join(cmd)}` exited {rc}")
