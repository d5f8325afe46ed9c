"""The Docker path's errors that need no engine: a clear message, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from autodl.docker import SDK_MISSING, DockerError, connect, ingest_in_container
from autodl.docker.containers import _ingest_flags
from autodl.resources import parse_gpus, parse_size

# Python as it is without the Docker SDK installed: an entry of None in sys.modules makes
# every `import docker...` fail, as a missing package does.
WITHOUT_SDK = "import sys; sys.modules['docker'] = None\n"


def run_without_sdk(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_SDK + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,
    )


def test_no_engine_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no.sock")
    with pytest.raises(DockerError, match=r"no Docker engine reachable at unix://.*no\.sock"):
        connect(timeout=5)


def test_cli_build_without_engine(tmp_path, cli):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    proc = cli("docker", "build", env=env)
    assert proc.returncode == 2
    assert "no Docker engine reachable" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_entry_points_without_the_sdk(tmp_path):
    proc = run_without_sdk(
        """
        import autodl.docker as d
        calls = {
            "connect": lambda: d.connect(),
            "build_image": lambda: d.build_image(),
            "check_harness": lambda: d.check_harness(None, "autodl:cpu"),
            "ingest_in_container": lambda: d.ingest_in_container("i", ".", ".", ".", 10),
        }
        for name, call in calls.items():
            try:
                call()
            except d.DockerError as e:
                print(name, "->", e)
        """,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [ln.split(" -> ")[0] for ln in lines] == [
        "connect",
        "build_image",
        "check_harness",
        "ingest_in_container",
    ]
    assert all(ln.split(" -> ")[1] == SDK_MISSING for ln in lines)
    assert SDK_MISSING == "Docker runs need the Docker SDK: pip install 'autodl[docker]'"


def test_cli_without_the_sdk(tmp_path):
    """`autodl docker ...`, `autodl run --docker` and `autodl challenge --docker`: one line."""
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "model.py").write_text("class Model:\n    pass\n")
    (tmp_path / "c.yaml").write_text("datasets: {digits: digits}\nsubmissions: {zero: zero}\n")
    cli = "from autodl.cli import main; sys.exit(main())"
    for args, prefix in (
        (["docker", "build"], "autodl docker"),
        (
            ["docker", "ingest", "--dataset_dir", ".", "--code_dir", ".", "--output_dir", "o"],
            "autodl docker",
        ),
        (["run", "--docker", "--gpus", "none", "-o", "runs"], "autodl run"),
        (["run", "--docker", "autodl:cpu", "--gpus", "none", "-o", "runs"], "autodl run"),
        (["challenge", "c.yaml", "--docker", "--gpus", "none", "-o", "out"], "autodl challenge"),
    ):
        proc = run_without_sdk(cli, *args, cwd=tmp_path)
        assert proc.returncode != 0, args
        assert proc.stderr.strip().splitlines()[-1] == f"{prefix}: {SDK_MISSING}", proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists() and not (tmp_path / "o").exists()


def test_ingest_options_become_flags():
    assert _ingest_flags({"construction_budget": 60, "verbose": True, "x": None}) == [
        "--construction-budget",
        "60",
        "--verbose",
    ]
    with pytest.raises(DockerError, match="set by the container run"):
        _ingest_flags({"output_dir": "/tmp"})


def test_container_specs():
    """What `ingest_in_container` takes for its GPUs and memory (the shared parsers)."""
    assert parse_gpus(None) is None and parse_gpus("none") == [] and parse_gpus("-1") == []
    assert parse_gpus("all") == ["all"]
    assert parse_gpus("0, 2") == ["0", "2"] and parse_gpus([1]) == ["1"] and parse_gpus(0) == ["0"]
    assert parse_size("512m") == 512 * 2**20 and parse_size("2GiB") == 2 * 2**30
    assert parse_size(1000) == 1000 and parse_size(None) is None
    # `--memory 0` is no limit, as for `docker run --memory 0` and `autodl ingest`.
    assert parse_size("0") is None and parse_size(0) is None
    with pytest.raises(ValueError, match="not a size"):
        parse_size("-1g")


def test_bad_memory_is_one_clear_error(tmp_path):
    with pytest.raises(DockerError, match=r"^memory limit: not a size: 'lots'"):
        ingest_in_container("autodl:cpu", tmp_path, tmp_path, tmp_path / "o", 10, memory="lots")


@pytest.mark.slow
def test_cuda_build_context(tmp_path):
    """The CUDA image's context: its Dockerfile, the host's pins, no torch (the base has it).

    The CPU context is built and checked (torch and TF at the host's versions) by
    tests/docker/test_container.py::test_image_holds_the_harness.
    """
    import importlib.metadata as md
    import zipfile

    from autodl.docker import prepare_context

    ctx = prepare_context(tmp_path, gpu=True)
    dockerfile = (ctx / "Dockerfile").read_text()
    assert "--system-site-packages" in dockerfile and "cuda" in dockerfile
    (project,) = (ctx / "project").glob("autodl-*.whl")
    with zipfile.ZipFile(project) as zf:
        names = zf.namelist()
    assert {"autodl/docker/images.py", "autodl/docker/containers.py"} <= set(names)
    wheels = {p.name.split("-")[0].lower(): p.name for p in (ctx / "deps").glob("*.whl")}
    reqs = (ctx / "deps" / "requirements.txt").read_text()
    for name in ("numpy", "scikit_learn", "tensorflow_cpu"):
        dist = name.replace("_", "-")
        assert f"-{md.version(dist)}-" in wheels[name], wheels[name]  # the host's version
    assert "torch" not in wheels and "torch" not in reqs
    assert not any(n.startswith("nvidia") for n in wheels)
