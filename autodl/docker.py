"""Docker images of the harness, and ingestion runs inside a container.

Two concerns, both through the Docker SDK for Python:

- :func:`build_image` makes the CPU or CUDA image from ``docker/Dockerfile[.cuda]``. It
  first fills a build context with a wheelhouse (this checkout built as a wheel, and
  every dependency downloaded by the host's pip, pinned to the versions installed here),
  so the build needs no network: the image reproduces the host's results.
- :func:`ingest_in_container` runs ``autodl ingest`` in a container: the submission and
  the dataset's ``<name>.data`` folder (never the solution) mounted read-only, the output
  folder the only writable mount, no network, memory / CPU / process limits, GPUs on
  request. Whatever happens inside, ``ingestion.json`` ends up in the output folder: when
  the container dies before the supervisor could record a status (memory limit, wall
  clock), the host records it.

Errors that stop the harness itself (no engine, an image without the harness, a bad
argument) raise :class:`DockerError` with one clear message.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from docker.models.containers import Container

    import docker as docker_sdk

# Where things live inside the image (Codabench's layout, so the image also serves as a
# Codabench `docker_image`).
APP_DATA = "/app/input_data"
APP_CODE = "/app/ingested_program"
APP_OUTPUT = "/app/output"
DEFAULT_TAGS = {"cpu": "autodl:cpu", "cuda": "autodl:cuda"}
DEFAULT_BASES = {"cpu": "python:3.11-slim", "cuda": "pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime"}
DOCKERFILES = {"cpu": "Dockerfile", "cuda": "Dockerfile.cuda"}
HARNESS_LABEL = "org.autodl.harness"
INGESTION_FILE = "ingestion.json"
# Seconds allowed beyond the budgets before the host kills the container: start-up,
# imports and the supervisor's own grace period.
WALL_GRACE = 120.0
DEFAULT_CONSTRUCTION_BUDGET = 1200.0  # autodl ingest's default
# torch/TF wheels ship these; the CUDA image takes them from its base instead.
_CUDA_PROVIDED = ("torch", "triton")
_CUDA_PROVIDED_PREFIXES = ("nvidia-",)


class DockerError(RuntimeError):
    """The container path cannot run; the message says why and what to do."""


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def _stderr_progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- engine


def connect(timeout: float = 60.0) -> docker_sdk.DockerClient:
    """A client for the local engine (``DOCKER_HOST`` or the default socket), checked alive."""
    try:
        from docker.errors import DockerException

        import docker
    except ImportError:  # pragma: no cover - docker is a dependency
        raise DockerError("the Docker SDK for Python is missing: pip install docker") from None
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except DockerException as e:
        raise DockerError(
            f"no Docker engine reachable at {where} ({_first_line(e)}); start one "
            "(`dockerd &`, or `systemctl start docker`) or set DOCKER_HOST"
        ) from None
    return client


def host_gpus() -> int:
    """How many NVIDIA GPUs the host exposes (0 without a driver)."""
    return len(list(Path("/dev").glob("nvidia[0-9]*")))


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


# --------------------------------------------------------------------------- build


@dataclass
class BuildResult:
    tag: str
    image_id: str
    size_bytes: int
    seconds: float
    base: str


def source_root() -> Path:
    """The checkout this package runs from (holds pyproject.toml and docker/)."""
    root = Path(__file__).resolve().parents[1]
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
            f"base image {base!r} is not here and cannot be pulled ({_first_line(e)}); "
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
    progress: Progress = _quiet,
) -> Path:
    """Fill ``context_dir`` with the Dockerfile and a wheelhouse; returns it.

    ``context_dir/deps/`` holds every third-party wheel and ``requirements.txt`` (pinned
    to this host's versions when the image's Python is this host's), ``project/`` the
    wheel of this checkout. Two folders so that a code change rebuilds one small layer.
    ``python_version`` ("3.11") is the image's; other versions download wheels for it.
    """
    root = source_root()
    ctx = Path(context_dir)
    deps, project = ctx / "deps", ctx / "project"
    for d in (deps, project):  # a reused context must not keep another build's wheels
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    flavour = "cuda" if gpu else "cpu"
    shutil.copy2(root / "docker" / DOCKERFILES[flavour], ctx / "Dockerfile")
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
    if gpu:
        from packaging.requirements import Requirement

        reqs = [r for r in reqs if not _is_cuda_provided(Requirement(r).name)]
    host_py = f"{sys.version_info[0]}.{sys.version_info[1]}"
    target_args: list[str] = []
    constraints: list[str] = []
    if python_version in (None, host_py):
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


def build_image(
    *,
    gpu: bool = False,
    base: str | None = None,
    tag: str | None = None,
    pip_options: Sequence[str] = (),
    context_dir: str | os.PathLike[str] | None = None,
    progress: Progress = _stderr_progress,
    client: docker_sdk.DockerClient | None = None,
) -> BuildResult:
    """Build the CPU (or CUDA, ``gpu=True``) image of the harness and return its figures.

    ``base`` replaces the Dockerfile's default base image; ``pip_options`` go to
    ``pip download`` (e.g. ``--extra-index-url https://download.pytorch.org/whl/cpu``
    when this host's torch is not the CPU build). ``context_dir`` keeps the prepared
    build context there instead of a temporary folder.
    """
    flavour = "cuda" if gpu else "cpu"
    base = base or DEFAULT_BASES[flavour]
    tag = tag or DEFAULT_TAGS[flavour]
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
        )
        progress(f"building {tag} from {base} (Python {python_version})")
        image_id = _docker_build(client, ctx, tag, {"BASE": base}, progress)
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
        raise DockerError(f"docker build of {tag} failed: {_first_line(e)}") from None
    if image_id is None:
        image_id = client.images.get(tag).id
    return image_id


# --------------------------------------------------------------------------- run


def check_harness(client: docker_sdk.DockerClient, image: str) -> None:
    """Raise :class:`DockerError` unless ``image`` exists and runs ``python3 -m autodl``."""
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


def _find_data_dir(dataset_dir: Path) -> tuple[str, Path]:
    """(task name, ``<name>.data`` folder) of a task folder or of a ``.data`` folder."""
    from autodl.data import DataError, find_task

    try:
        task = find_task(dataset_dir)
    except DataError as e:
        raise DockerError(str(e)) from None
    return task.name, Path(task.data_dir).resolve()


def _ingest_flags(options: Mapping[str, Any]) -> list[str]:
    reserved = {"dataset_dir", "output_dir", "code_dir", "score_dir"}
    out: list[str] = []
    for key, value in options.items():
        if key in reserved:
            raise DockerError(f"ingest option {key!r} is set by the container run itself")
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif isinstance(value, (list, tuple)):
            out += [flag, *map(str, value)]
        else:
            out += [flag, str(value)]
    return out


def _parse_gpus(gpus: str | int | Sequence[int | str] | None) -> list[str] | None:
    """Device ids from ``None``/``"none"`` (no GPU), ``"all"``, ``"0,1"`` or ``[0, 1]``."""
    if gpus is None or gpus in ("", "none", "-1") or gpus == []:
        return None
    if isinstance(gpus, str):
        if gpus == "all":
            return ["all"]
        return [g.strip() for g in gpus.split(",") if g.strip()]
    if isinstance(gpus, int):
        return [str(gpus)]
    return [str(g) for g in gpus]


def _parse_memory(memory: int | str | None) -> int | None:
    if memory is None:
        return None
    if isinstance(memory, int):
        return memory
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    text = memory.strip().lower().removesuffix("b").removesuffix("i")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def _forward_logs(container: Container, stdout: IO[str], stderr: IO[str]) -> list[threading.Thread]:
    def pump(out: IO[str], **which: bool) -> None:
        try:
            for chunk in container.logs(stream=True, follow=True, **which):
                out.write(chunk.decode(errors="replace"))
                out.flush()
        except Exception:  # the container went away: nothing more to forward
            pass

    threads = [
        threading.Thread(
            target=pump, args=(stdout,), kwargs={"stdout": True, "stderr": False}, daemon=True
        ),
        threading.Thread(
            target=pump, args=(stderr,), kwargs={"stdout": False, "stderr": True}, daemon=True
        ),
    ]
    for t in threads:
        t.start()
    return threads


def ingest_in_container(
    image: str,
    dataset_dir: str | os.PathLike[str],
    code_dir: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    time_budget: float,
    gpus: str | int | Sequence[int | str] | None = None,
    memory: int | str | None = None,
    cpus: float | None = None,
    pids: int | None = 2048,
    *,
    timeout: float | None = None,
    shm_size: str | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    client: docker_sdk.DockerClient | None = None,
    **ingest_options: Any,
) -> int:
    """Run ``autodl ingest`` for one task in a fresh container; returns its exit code.

    ``dataset_dir`` is a task folder or its ``<name>.data`` folder: only the ``.data``
    folder is mounted (read-only), so the solution cannot be seen. ``code_dir`` is a
    submission folder or zip (:func:`autodl.submission.resolve_code`), mounted read-only.
    ``output_dir`` is the only writable mount. The container has no network, at most
    ``memory`` (bytes or "4g"; no swap beyond it), ``cpus`` CPUs and ``pids`` processes,
    and the GPUs in ``gpus`` ("all", "0,1", [0, 1]; none by default). Other keyword
    arguments become ``autodl ingest`` flags (``construction_budget=60`` ->
    ``--construction-budget 60``).

    The container is killed after ``timeout`` seconds (default: both budgets plus
    2 minutes). When it dies before the supervisor inside records a status, the host
    writes ``ingestion.json`` (``out_of_memory`` when the memory limit killed it,
    ``killed`` on the wall clock, ``crashed`` otherwise) and ``end.txt``, and 0 is
    returned, as ``autodl ingest`` does once a status is recorded. Raises
    :class:`DockerError` when the run cannot start (no engine, no image, no harness in
    the image, GPUs asked of a host without any).
    """
    from docker.errors import APIError
    from docker.types import DeviceRequest

    from autodl.submission import resolve_code

    dataset_dir, output_dir = Path(dataset_dir), Path(output_dir)
    if not dataset_dir.exists():
        raise DockerError(f"{dataset_dir}: no such dataset folder")
    task_name, data_dir = _find_data_dir(dataset_dir)
    client = client or connect()
    check_harness(client, image)
    gpu_ids = _parse_gpus(gpus)
    if gpu_ids and host_gpus() == 0:
        raise DockerError(f"GPUs {gpus!r} requested but this host has no NVIDIA GPU")
    output_dir.mkdir(parents=True, exist_ok=True)
    construction = float(ingest_options.get("construction_budget") or DEFAULT_CONSTRUCTION_BUDGET)
    wall = timeout if timeout is not None else float(time_budget) + construction + WALL_GRACE
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr

    with tempfile.TemporaryDirectory(prefix="autodl-code-") as work:
        code = resolve_code(code_dir, work)
        args = [
            "python3",
            "-m",
            "autodl",
            "ingest",
            "--dataset_dir",
            f"{APP_DATA}",
            "--code_dir",
            APP_CODE,
            "--output_dir",
            APP_OUTPUT,
            "--time_budget",
            str(time_budget),
        ]
        device_requests = None
        environment = {"PYTHONDONTWRITEBYTECODE": "1"}
        if gpu_ids:
            # Inside the container the GPUs handed over are renumbered from 0.
            if gpu_ids == ["all"]:
                device_requests = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
                inner = [str(i) for i in range(host_gpus())]
            else:
                device_requests = [DeviceRequest(device_ids=gpu_ids, capabilities=[["gpu"]])]
                inner = [str(i) for i in range(len(gpu_ids))]
            args += ["--gpus", ",".join(inner)]
        if cpus and "cpu_threads" not in ingest_options:
            # Libraries size their thread pools by the host's cores, not the CPU quota.
            args += ["--cpu_threads", str(max(1, math.floor(cpus)))]
        args += _ingest_flags(ingest_options)
        mem = _parse_memory(memory)
        owner = f"{os.getuid()}:{os.getgid()}" if os.getuid() != 0 else ""
        command = ["sh", "-c", _ENTRY_SCRIPT, "sh", str(math.ceil(wall + 30)), owner, *args]
        volumes = {
            str(data_dir): {"bind": f"{APP_DATA}/{data_dir.name}", "mode": "ro"},
            str(code): {"bind": APP_CODE, "mode": "ro"},
            str(output_dir.resolve()): {"bind": APP_OUTPUT, "mode": "rw"},
        }
        try:
            container = client.containers.create(
                image,
                command,
                volumes=volumes,
                network_mode="none",
                mem_limit=mem,
                memswap_limit=mem,  # equal to mem_limit: no swap on top
                nano_cpus=int(cpus * 1e9) if cpus else None,
                pids_limit=pids,
                shm_size=shm_size or "1g",
                device_requests=device_requests,
                environment=environment,
                init=True,
                security_opt=["no-new-privileges"],
                cap_drop=["ALL"],
                # What the trusted supervisor needs: drop to the worker's user, signal
                # it, and write/chown the output folder owned by the host's user.
                cap_add=["SETUID", "SETGID", "KILL", "CHOWN", "DAC_OVERRIDE", "FOWNER"],
                labels={"org.autodl.task": task_name},
                working_dir="/app",
            )
        except APIError as e:
            raise DockerError(
                f"cannot create the container from {image!r}: {_first_line(e)}"
            ) from None
        started = time.time()
        timed_out = False
        try:
            try:
                container.start()
            except APIError as e:
                raise DockerError(
                    f"cannot start the container from {image!r}: {_first_line(e)}"
                ) from None
            pumps = _forward_logs(container, stdout, stderr)
            exit_code = _wait(container, wall)
            if exit_code is None:
                timed_out = True
                container.kill()
                exit_code = _wait(container, 30.0)
            for t in pumps:
                t.join(timeout=5)
            container.reload()
            state = container.attrs.get("State", {})
        except BaseException:
            _remove(container)
            raise
        _remove(container)
    ended = time.time()
    recorded = _record_host_status(
        output_dir,
        task_name=task_name,
        time_budget=time_budget,
        start_time=started,
        end_time=ended,
        oom=bool(state.get("OOMKilled")),
        timed_out=timed_out,
        exit_code=exit_code,
        wall=wall,
        memory=mem,
    )
    if recorded:
        return 0
    return int(exit_code if exit_code is not None else 1)


# The container's entry: a self-imposed deadline (an orphaned container, whose host
# process died, still ends), then the output handed back to the host's user (when not root).
_ENTRY_SCRIPT = """\
deadline=$1; owner=$2; shift 2
if command -v timeout >/dev/null 2>&1; then timeout -k 10 "$deadline" "$@"; else "$@"; fi
rc=$?
if [ -n "$owner" ]; then chown -R "$owner" /app/output 2>/dev/null; fi
exit $rc
"""


def _wait(container: Container, seconds: float) -> int | None:
    """The exit code, or None when the container still runs after ``seconds``."""
    import requests

    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            result = container.wait(timeout=max(1, min(left, 60)))
            return int(result.get("StatusCode", 1))
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            continue


def _remove(container: Container) -> None:
    try:
        container.remove(force=True)
    except Exception:  # already gone
        pass


def _record_host_status(
    output_dir: Path,
    *,
    task_name: str,
    time_budget: float,
    start_time: float,
    end_time: float,
    oom: bool,
    timed_out: bool,
    exit_code: int | None,
    wall: float,
    memory: int | None,
) -> bool:
    """Write ``ingestion.json`` (and ``end.txt``) when the container could not; True if so.

    A status the supervisor recorded stands, except that a crash the kernel's memory
    limit caused is named ``out_of_memory``.
    """
    from autodl import protocol
    from autodl.ingestion.supervisor import IngestionResult

    path = output_dir / INGESTION_FILE
    existing: dict[str, Any] | None = None
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except (OSError, ValueError):
            existing = None
    mem_text = f"{memory} bytes" if memory else "the container's memory"
    if existing is not None:
        if oom and existing.get("status") in ("crashed", "killed", "error"):
            existing["status"] = "out_of_memory"
            existing["error"] = f"killed by the memory limit ({mem_text})"
            protocol.atomic_write(path, json.dumps(existing, indent=2) + "\n")
        return False
    if oom:
        status, error = (
            "out_of_memory",
            f"the container was killed by the memory limit ({mem_text})",
        )
    elif timed_out:
        status, error = "killed", f"the container ran past {wall:.0f} s and was killed"
    else:
        status, error = "crashed", f"the container exited {exit_code} without recording a status"
    result = IngestionResult(
        status=status,
        error=error,
        task_name=task_name,
        num_predictions=len(protocol.list_predictions(output_dir)),
        time_budget=time_budget,
        start_time=start_time,
        end_time=end_time,
        ingestion_duration=end_time - start_time,
        warnings=["recorded by the host: the container ended without ingestion.json"],
    )
    record = result.to_dict()
    protocol.atomic_write(path, json.dumps(record, indent=2) + "\n")
    if protocol.read_end(output_dir) is None:
        protocol.write_end(
            output_dir,
            ingestion_duration=end_time - start_time,
            ingestion_success=False,
            end_time=end_time,
        )
    return True
