"""Reaching the Docker engine: the SDK (the ``autodl[docker]`` extra), a checked client,
and the one error type of the container path.

>>> str(DockerError(SDK_MISSING))
"Docker runs need the Docker SDK: pip install 'autodl[docker]'"
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import docker as docker_sdk

INSTALL_EXTRA = "pip install 'autodl[docker]'"
SDK_MISSING = f"Docker runs need the Docker SDK: {INSTALL_EXTRA}"


class DockerError(RuntimeError):
    """The container path cannot run; the message says why and what to do."""


Progress = Callable[[str], None]


def quiet(_: str) -> None:
    pass


def stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def require_sdk() -> ModuleType:
    """The Docker SDK's ``docker`` module; :class:`DockerError` naming the extra if missing.

    Every entry point of the container path calls this first, so a missing SDK is one
    line, never an ImportError from deep inside.
    """
    try:
        # Submodules, not just `docker`: without the SDK, a `docker/` folder on sys.path
        # (this checkout's Dockerfiles) imports as an empty namespace package.
        import docker.errors
        import docker.types
    except ImportError:
        raise DockerError(SDK_MISSING) from None
    return docker


def require_packaging() -> None:
    """:class:`DockerError` naming the extra unless ``packaging`` (for image builds) is here."""
    try:
        import packaging.requirements  # noqa: F401
    except ImportError:
        raise DockerError(f"building images needs packaging: {INSTALL_EXTRA}") from None


def connect(timeout: float = 60.0) -> docker_sdk.DockerClient:
    """A client for the local engine (``DOCKER_HOST`` or the default socket), checked alive."""
    docker = require_sdk()
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    hint = "start one (`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST"
    if where.startswith("unix://") and not os.path.exists(where[len("unix://") :]):
        # Said at once, without the SDK's pages about a refused connection.
        raise DockerError(f"no Docker engine reachable at {where} (no such socket); {hint}")
    try:
        client = docker.from_env(timeout=max(1, math.ceil(timeout)))
        client.ping()
    except docker.errors.DockerException as e:
        raise DockerError(
            f"no Docker engine reachable at {where} ({first_line(e)}); {hint}"
        ) from None
    return client


def first_line(e: BaseException) -> str:
    """The first line of an exception's message (the SDK's can run to pages)."""
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__
