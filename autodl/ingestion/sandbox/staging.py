"""The worker's world: its staged files and its scrubbed environment.

The worker gets hard links of the ``<name>.data`` folder and of the code in a private
folder (never a ``*.solution``, never a symbolic link that could lead elsewhere) and an
environment holding only what Python, CUDA and the numeric libraries need.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodl.ingestion.limits import WorkerUser, can_read, thread_env
from autodl.resources import ALL_GPUS, parse_gpus

if TYPE_CHECKING:
    from autodl.ingestion.interpreter import WorkerPython


def link_tree(src: Path, dst: Path, readable: bool) -> None:
    """Recreate ``src`` under ``dst`` with hard links (a copy when linking is impossible).

    ``*.solution`` files are never staged. ``readable``: the worker runs as another uid,
    so a file it could not read, or could write, is copied (read-only) instead.
    """
    dst.mkdir(mode=0o755)
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        for d in dirs:
            (dst / rel / d).mkdir(mode=0o755)
        for name in files:
            if name.endswith(".solution"):
                continue
            s, d = Path(root) / name, dst / rel / name
            if os.path.islink(s):
                continue  # a link could lead anywhere, solutions included
            mode = os.stat(s).st_mode
            if readable and (not mode & 0o004 or mode & 0o002):
                shutil.copyfile(s, d)
                os.chmod(d, 0o444)
                continue
            try:
                os.link(s, d)
            except OSError:
                shutil.copyfile(s, d)
                os.chmod(d, 0o644)


def _needs_pythonpath() -> str | None:
    """The folder holding ``autodl`` when the worker's interpreter would not find it alone.

    Asked of a fresh interpreter (no PYTHONPATH, working folder ``/``): every path handed
    to the worker is one more place a submission can look around, so none is added when
    the installation (site-packages, an editable install's .pth) already provides it.
    """
    import autodl

    package = Path(autodl.__file__).resolve().parent
    probe = "import autodl, os; print(os.path.dirname(os.path.realpath(autodl.__file__)))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        proc = subprocess.run(
            [sys.executable, "-I", "-c", probe],
            cwd="/",
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode == 0 and Path(proc.stdout.strip()) == package:
            return None
    except (OSError, subprocess.SubprocessError):
        pass
    return str(package.parent)


def worker_env(
    home: Path,
    gpus: str | None,
    cpu_threads: int | None,
    sandbox: str | None = None,
    python: WorkerPython | None = None,
) -> dict[str, str]:
    """A scrubbed environment: only what Python, CUDA and the numeric libraries need.

    ``home`` is the worker's home as it sees it (inside the sandbox when there is one);
    ``sandbox`` names the confinement (``AUTODL_SANDBOX``: the worker adapts to a PID
    namespace). ``python``: the worker's interpreter when it is not ours; it finds
    autodl through ``PYTHONPATH`` (the package's folder, shown read-only in the sandbox).
    """
    executable = python.executable if python is not None else sys.executable
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(executable), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLBACKEND": "Agg",
        "XDG_CACHE_HOME": str(home / ".cache"),
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    for name in ("LD_LIBRARY_PATH", "CUDA_HOME", "CUDA_PATH", "NVIDIA_DRIVER_CAPABILITIES"):
        if name in os.environ:
            env[name] = os.environ[name]
    if python is not None and not python.current:
        from autodl.ingestion.interpreter import package_parent

        pythonpath = package_parent()  # never installed there: shown, not installed
    else:
        pythonpath = _needs_pythonpath()
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    ids = parse_gpus(gpus)
    if ids is None:
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    elif ids != [ALL_GPUS]:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
    if sandbox:
        env["AUTODL_SANDBOX"] = sandbox
    # The worker's check that its parent is alive must know when the supervisor itself is
    # pid 1 (a container started without an init, as Codabench's worker starts them).
    env["AUTODL_SUPERVISOR_PID"] = str(os.getpid())
    env.update(thread_env(cpu_threads))
    return env


def stage_box(
    box: Path,
    task: Any,
    code_path: Path,
    *,
    stage_data: bool,
    user: WorkerUser,
    warnings: list[str],
) -> tuple[Path, Path, Path]:
    """Fill the worker's folder: ``(data_dir, code, home)`` (SubmissionError for bad code).

    box/  0711: data/<name>.data, code/ (or unpacked/), home/ (cwd and HOME unconfined)
    Traversable, not listable: an unconfined worker reaches only the names it is given;
    a sandboxed one sees these only at the fixed paths they are mounted at.
    """
    from autodl.submission import resolve_code

    box.mkdir(mode=0o711)
    os.chmod(box, 0o711)
    data = box / "data"
    data.mkdir(mode=0o711)
    os.chmod(data, 0o711)
    data_dir = data / task.data_dir.name
    in_place_unreadable = not can_read(task.data_dir, user)
    if stage_data or task.solution_path is not None or in_place_unreadable:
        if not stage_data:
            why = (
                "the task folder holds its solution"
                if task.solution_path is not None
                else f"uid {user.uid} cannot read {task.data_dir}"
            )
            warnings.append(f"{why}: data staged")
        link_tree(task.data_dir, data_dir, user.dropped)
    else:
        data_dir = task.data_dir
    code = resolve_code(code_path, box / "unpacked")
    if box not in code.parents:
        staged = box / "code"
        link_tree(code, staged, user.dropped)
        code = staged
    else:
        for p in [code, *code.parents]:
            if p == box:
                break
            os.chmod(p, 0o755)
    home = box / "home"
    home.mkdir()
    (home / "tmp").mkdir()
    if user.dropped:
        for p in (home, home / "tmp"):
            os.chown(p, user.uid, user.gid)
            os.chmod(p, 0o700)
    return data_dir, code, home
