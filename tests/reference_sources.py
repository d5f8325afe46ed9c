"""Files of public reference projects (the 2019 starting kit, Codabench), read to check
our restatements of their rules against them.

They are not part of the repository nor of ../shared: a test that reads one skips when the
checkout is absent or unreadable (another user's home, say). Point the variables
AUTODL_2019_KIT and AUTODL_CODABENCH_SRC at a git checkout (or bare repository) of them.
"""

from __future__ import annotations

import os
import subprocess

import pytest

KIT = os.environ.get(
    "AUTODL_2019_KIT", "/work/.mirror/zhengying-liu+autodl_starting_kit_stable/repo/.git"
)
CODABENCH = os.environ.get("AUTODL_CODABENCH_SRC", "/work/.mirror/codalab+codabench/repo")


def show(repo: str, path: str) -> str:
    """The text of ``path`` at the repository's HEAD, or the test is skipped."""
    proc = subprocess.run(
        ["git", "-C", repo, "show", f"HEAD:{path}"], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot read {path} from {repo}: {proc.stderr.strip()[:200]}")
    return proc.stdout
