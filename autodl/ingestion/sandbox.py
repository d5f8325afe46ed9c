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

from autodl.ingestion.limits import thread_env


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


def worker_env(home: Path, gpus: str | None, cpu_threads: int | None) -> dict[str, str]:
    """A scrubbed environment: only what Python, CUDA and the numeric libraries need."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
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
    pythonpath = _needs_pythonpath()
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    if gpus is None:
        if "CUDA_VISIBLE_DEVICES" in os.environ:
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
    elif gpus.strip().lower() in ("none", "", "-1", "cpu"):
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif gpus.strip().lower() != "all":
        env["CUDA_VISIBLE_DEVICES"] = gpus.strip()
    env.update(thread_env(cpu_threads))
    return env
