"""Docker images of the harness, and ingestion runs inside a container.

Two concerns, both through the Docker SDK for Python (the ``autodl[docker]`` extra):

- :mod:`.images`: :func:`build_image` makes the CPU or CUDA image from
  ``docker/Dockerfile[.cuda]`` out of a wheelhouse prepared on the host
  (:func:`prepare_context`), so the build needs no network; :func:`check_harness`;
- :mod:`.containers`: :func:`ingest_in_container` runs ``autodl ingest`` confined in a
  container and makes sure ``ingestion.json`` ends up in the output folder.

:mod:`.engine` reaches the engine (:func:`connect`). Errors that stop the harness itself
(no SDK, no engine, an image without the harness, a bad argument) raise
:class:`DockerError` with one clear message.

Importing this package needs no SDK; the functions that talk to an engine check for it.

>>> DEFAULT_TAGS
{'cpu': 'autodl:cpu', 'cuda': 'autodl:cuda'}
"""

from autodl.docker.containers import (
    APP_CODE,
    APP_DATA,
    APP_OUTPUT,
    DEFAULT_CONSTRUCTION_BUDGET,
    WALL_GRACE,
    ingest_in_container,
)
from autodl.docker.engine import SDK_MISSING, DockerError, connect, require_sdk
from autodl.docker.images import (
    DEFAULT_BASES,
    DEFAULT_TAGS,
    DOCKERFILES,
    HARNESS_LABEL,
    BuildResult,
    build_image,
    check_harness,
    prepare_context,
    source_root,
)

__all__ = [
    "APP_CODE",
    "APP_DATA",
    "APP_OUTPUT",
    "DEFAULT_BASES",
    "DEFAULT_CONSTRUCTION_BUDGET",
    "DEFAULT_TAGS",
    "DOCKERFILES",
    "HARNESS_LABEL",
    "SDK_MISSING",
    "WALL_GRACE",
    "BuildResult",
    "DockerError",
    "build_image",
    "check_harness",
    "connect",
    "ingest_in_container",
    "prepare_context",
    "require_sdk",
    "source_root",
]
