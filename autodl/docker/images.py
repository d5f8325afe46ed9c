"""Docker images of the harness: the build context, the base image, the harness check.

:func:`build_image` makes the CPU or CUDA image from ``docker/Dockerfile[.cuda]``. It
first fills a build context with a wheelhouse (this checkout built as a wheel, and every
dependency downloaded by the host's pip, pinned to the versions installed here), so the
build needs no network: the image reproduces the host's results. :func:`check_harness`
tells an image that can run ``autodl ingest`` from one that cannot.

>>> DEFAULT_TAGS["cpu"], DOCKERFILES["cuda"]
('autodl:cpu', 'Dockerfile.cuda')
>>> result = build_image(base="autodl-base:bookworm")  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autodl.docker.engine import (
    DockerError,
    Progress,
    connect,
    first_line,
    quiet,
    require_packaging,
    require_sdk,
    stderr_progress,
)

if TYPE_CHECKING:
    import docker as docker_sdk

DEFAULT_TAGS = {"cpu": "autodl:cpu", "cuda": "autodl:cuda"}
DEFAULT_BASES = {"cpu": "python:3.11-slim", "cuda": "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime"}
DOCKERFILES = {"cpu": "Dockerfile", "cuda": "Dockerfile.cuda"}
# The image of a documented environment (autodl.envs, e.g. legacy): that environment with
# the harness installed in it, tagged autodl:<name>.
ENV_DOCKERFILE = "Dockerfile.env"
# The harness's own requirements an environment's image leaves out: torch (a CUDA build of
# several GB, and the worker does not need it).
_ENV_LEFT_OUT = ("torch",)
HARNESS_LABEL = "org.autodl.harness"
# torch/TF wheels ship these; the CUDA image takes them from its base instead.
_CUDA_PROVIDED = ("torch", "triton")
_CUDA_PROVIDED_PREFIXES = ("nvidia-",)


@dataclass
class BuildResult:
    tag: str
    image_id: str
    size_bytes: int
    seconds: float
    base: str


def source_root() -> Path:
    """The checkout this package runs from (holds pyproject.toml and docker/)."""
    root = Path(__file__).resolve().parents[2]  # autodl/docker/images.py -> the checkout
    if not (root / "pyproject.toml").is_file() or not (root / "docker").is_dir():
        raise DockerError(
            f"{root}: not a source checkout of autodl (no pyproject.toml and docker/); "
            "`autodl docker build` builds the image from a clone of the repository"
        )
    return root


def _pip(args: Sequence[str], progress: Progress, env: Mapping[str, str] | None = None) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        raise DockerError(f"preparing the wheelhouse failed: {' '.join(cmd)}\n{tail}")


def _wheel_requirements(wheel: Path, extras: set[str]) -> list[str]:
    """The wheel's Requires-Dist lines that apply with ``extras`` (markers of this host)."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode().splitlines()
    out = []
    for line in lines:
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
            req.marker = None
            out.append(req)
    return [str(r) for r in out]


def _host_pins(exclude: Iterable[str]) -> list[str]:
    """``name==version`` of every distribution installed here, so the image matches."""
    import importlib.metadata as md

    from packaging.utils import canonicalize_name

    skip = {canonicalize_name(n) for n in exclude}
    pins = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if not name or canonicalize_name(name) in skip:
            continue
        pins[canonicalize_name(name)] = f"{canonicalize_name(name)}=={dist.version}"
    return sorted(pins.values())


def _is_cuda_provided(name: str) -> bool:
    from packaging.utils import canonicalize_name

    n = canonicalize_name(name)
    return n in _CUDA_PROVIDED or n.startswith(_CUDA_PROVIDED_PREFIXES)


def _image_python(client: docker_sdk.DockerClient, base: str) -> str:
    """``X.Y`` of the base image's python3 (the wheelhouse must match it)."""
    out = _run_probe(
        client, base, ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
    )
    return out.strip()


def _run_probe(client: docker_sdk.DockerClient, image: str, cmd: list[str]) -> str:
    from docker.errors import ContainerError, ImageNotFound

    try:
        out = client.containers.run(image, cmd, network_mode="none", remove=True, stderr=True)
    except ImageNotFound:
        raise DockerError(f"image {image!r} not found") from None
    except ContainerError as e:
        err = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        raise DockerError(
            f"image {image!r}: `{' '.join(cmd)}` failed with exit {e.exit_status}"
            + (f": {err[-1]}" if err else "")
        ) from None
    return out.decode(errors="replace")


def _ensure_base(client: docker_sdk.DockerClient, base: str, progress: Progress) -> None:
    from docker.errors import APIError, ImageNotFound

    try:
        client.images.get(base)
        return
    except ImageNotFound:
        pass
    progress(f"pulling base image {base}")
    try:
        client.images.pull(base)
    except APIError as e:
        raise DockerError(
            f"base image {base!r} is not here and cannot be pulled ({first_line(e)}); "
            "without a registry, build one from Debian's archive with "
            "docker/build-local-base.sh and pass --base autodl-base:bookworm"
        ) from None


def _copy_source(root: Path, dest: Path) -> None:
    """What the project's wheel is built from: pyproject, top-level docs and the package."""
    for f in root.iterdir():
        if f.is_file() and (f.name == "pyproject.toml" or f.name.startswith(("README", "LICENSE"))):
            shutil.copy2(f, dest / f.name)
    shutil.copytree(
        root / "autodl",
        dest / "autodl",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
    )


def prepare_context(
    context_dir: str | os.PathLike[str],
    *,
    gpu: bool = False,
    python_version: str | None = None,
    pip_options: Sequence[str] = (),
    progress: Progress = quiet,
    env: str | None = None,
) -> Path:
    """Fill ``context_dir`` with the Dockerfile and a wheelhouse; returns it.

    ``context_dir/deps/`` holds every third-party wheel and ``requirements.txt`` (pinned
    to this host's versions when the image's Python is this host's), ``project/`` the
    wheel of this checkout. Two folders so that a code change rebuilds one small layer.
    ``python_version`` ("3.11") is the image's; other versions download wheels for it.
    ``env``: the image of that documented environment (:data:`autodl.envs.SPECS`): its
    spec's requirements and the harness's own but torch, pinned by the spec, not the host.
    """
    require_packaging()
    root = source_root()
    ctx = Path(context_dir)
    deps, project = ctx / "deps", ctx / "project"
    for d in (deps, project):  # a reused context must not keep another build's wheels
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    flavour = "cuda" if gpu else "cpu"
    dockerfile = DOCKERFILES[flavour] if env is None else ENV_DOCKERFILE
    shutil.copy2(root / "docker" / dockerfile, ctx / "Dockerfile")
    shutil.copy2(root / "docker" / ".dockerignore", ctx / ".dockerignore")

    progress(f"building the autodl wheel from {root}")
    # From a copy: setuptools builds in the source's build/ folder, which concurrent
    # builds (and other tools) share. A fixed SOURCE_DATE_EPOCH makes the wheel
    # byte-identical while the code is, so Docker's layer cache holds across builds.
    with tempfile.TemporaryDirectory(prefix="autodl-src-") as src:
        _copy_source(root, Path(src))
        _pip(
            ["wheel", "--no-deps", "-q", "-w", str(project), src],
            progress,
            env={"SOURCE_DATE_EPOCH": "315532800"},
        )
    wheels = sorted(project.glob("autodl-*.whl"))
    if len(wheels) != 1:
        raise DockerError(f"{project}: expected one autodl wheel, found {len(wheels)}")
    reqs = _wheel_requirements(wheels[0], {"tf"})
    if env is not None:
        reqs = _env_requirements(env, wheels[0], python_version)
    elif gpu:
        from packaging.requirements import Requirement

        reqs = [r for r in reqs if not _is_cuda_provided(Requirement(r).name)]
    host_py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    target_args: list[str] = []
    constraints: list[str] = []
    if env is not None and python_version in (None, host_py):
        pass  # the spec pins what matters; the host's versions (numpy 2) would not fit
    elif python_version in (None, host_py):
        constraints = _host_pins(exclude=["autodl", *(_CUDA_PROVIDED if gpu else ())])
    else:
        from packaging import tags

        platforms = sorted({t.platform for t in tags.sys_tags()})
        target_args = ["--python-version", python_version, "--only-binary=:all:"]
        for p in platforms:
            target_args += ["--platform", p]
    (deps / "requirements.txt").write_text("\n".join(reqs) + "\n")
    args = ["download", "-q", "-d", str(deps), "-r", str(deps / "requirements.txt")]
    if constraints:
        (ctx / "constraints.txt").write_text("\n".join(constraints) + "\n")
        args += ["-c", str(ctx / "constraints.txt")]
    progress(f"downloading {len(reqs)} dependencies and theirs into the wheelhouse")
    _pip([*args, *target_args, *pip_options], progress)
    if gpu:
        for whl in deps.glob("*.whl"):
            if _is_cuda_provided(whl.name.split("-")[0]):
                whl.unlink()
    return ctx


def _env_requirements(env: str, wheel: Path, python_version: str | None) -> list[str]:
    """The requirements of environment ``env``'s image: its spec's and the harness's own
    (without extras, without torch), for the image's Python."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    from autodl import envs

    spec = envs.SPECS.get(env)
    if spec is None:
        raise DockerError(
            f"no documented environment {env!r} (documented: {', '.join(envs.SPECS)})"
        )
    if python_version is not None:
        v = tuple(int(x) for x in python_version.split(".")[:2])
        if not spec.python_min <= v <= spec.python_max:
            raise DockerError(
                f"the base image has Python {python_version}; environment {env!r} needs "
                f"Python {'.'.join(map(str, spec.python_min))} to "
                f"{'.'.join(map(str, spec.python_max))}: choose another --base"
            )
    left_out = {canonicalize_name(n) for n in _ENV_LEFT_OUT}
    own = [
        r
        for r in _wheel_requirements(wheel, set())
        if canonicalize_name(Requirement(r).name) not in left_out
    ]
    return [*spec.all_requirements(), *own]


def build_image(
    *,
    gpu: bool = False,
    base: str | None = None,
    tag: str | None = None,
    pip_options: Sequence[str] = (),
    context_dir: str | os.PathLike[str] | None = None,
    progress: Progress = stderr_progress,
    client: docker_sdk.DockerClient | None = None,
    env: str | None = None,
) -> BuildResult:
    """Build the CPU (or CUDA, ``gpu=True``) image of the harness and return its figures.

    ``base`` replaces the Dockerfile's default base image; ``pip_options`` go to
    ``pip download`` (e.g. ``--extra-index-url https://download.pytorch.org/whl/cpu``
    when this host's torch is not the CPU build). ``context_dir`` keeps the prepared
    build context there instead of a temporary folder. ``env``: the image of a documented
    environment (``legacy`` -> ``autodl:legacy``, docs/environments.md), CPU only.
    """
    require_sdk()
    require_packaging()
    if env is not None and gpu:
        raise DockerError("an environment's image is CPU only: --env goes without --gpu")
    flavour = "cuda" if gpu else "cpu"
    base = base or DEFAULT_BASES[flavour]
    tag = tag or (DEFAULT_TAGS[flavour] if env is None else f"autodl:{env}")
    client = client or connect(timeout=3600)
    started = time.monotonic()
    previous = _image_id(client, tag)
    _ensure_base(client, base, progress)
    python_version = _image_python(client, base)
    with tempfile.TemporaryDirectory(prefix="autodl-docker-") as tmp:
        ctx = Path(context_dir) if context_dir else Path(tmp)
        prepare_context(
            ctx,
            gpu=gpu,
            python_version=python_version,
            pip_options=pip_options,
            progress=progress,
            env=env,
        )
        progress(f"building {tag} from {base} (Python {python_version})")
        args = {"BASE": base} if env is None else {"BASE": base, "ENV": env}
        image_id = _docker_build(client, ctx, tag, args, progress)
    image = client.images.get(image_id)
    if previous and previous != image.id:
        _remove_replaced(client, previous)
    return BuildResult(
        tag=tag,
        image_id=image.id,
        size_bytes=int(image.attrs.get("Size", 0)),
        seconds=time.monotonic() - started,
        base=base,
    )


def _image_id(client: docker_sdk.DockerClient, name: str) -> str | None:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(name).id
    except ImageNotFound:
        return None


def _remove_replaced(client: docker_sdk.DockerClient, image_id: str) -> None:
    """Remove the image a rebuild took the tag from, unless something still uses it."""
    from docker.errors import APIError

    try:
        if not client.images.get(image_id).tags:
            client.images.remove(image_id)
    except APIError:  # a container or another image still needs it: keep it
        pass


def _docker_build(
    client: docker_sdk.DockerClient,
    ctx: Path,
    tag: str,
    buildargs: dict[str, str],
    progress: Progress,
) -> str:
    from docker.errors import APIError

    tail: list[str] = []
    image_id = None
    try:
        stream = client.api.build(
            path=str(ctx),
            tag=tag,
            buildargs=buildargs,
            rm=True,
            forcerm=True,
            pull=False,
            decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                detail = "\n".join(tail[-15:])
                raise DockerError(
                    f"docker build of {tag} failed: {chunk['error'].strip()}\n{detail}"
                )
            line = (chunk.get("stream") or "").rstrip()
            if line:
                tail.append(line)
                if line.startswith("Step "):
                    progress(line)
            aux = chunk.get("aux") or {}
            image_id = aux.get("ID", image_id)
    except APIError as e:
        raise DockerError(f"docker build of {tag} failed: {first_line(e)}") from None
    if image_id is None:
        image_id = client.images.get(tag).id
    return image_id


def check_harness(client: docker_sdk.DockerClient, image: str) -> None:
    """Raise :class:`DockerError` unless ``image`` exists and runs ``python3 -m autodl``."""
    require_sdk()
    from docker.errors import ImageNotFound

    try:
        img = client.images.get(image)
    except ImageNotFound:
        raise DockerError(
            f"image {image!r} not found; build it with `autodl docker build`"
            + (" --gpu" if "cuda" in image else "")
        ) from None
    if (img.labels or {}).get(HARNESS_LABEL) == "autodl":
        return
    try:
        _run_probe(client, image, ["python3", "-m", "autodl", "--version"])
    except DockerError as e:
        raise DockerError(
            f"image {image!r} does not hold the autodl harness ({e}); build one with "
            "`autodl docker build`"
        ) from None
