"""The Docker path's errors that need no engine: a clear message, never a traceback."""

from __future__ import annotations

import os

import pytest

from autodl.docker import DockerError, _ingest_flags, _parse_gpus, _parse_memory, connect


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


def test_ingest_options_become_flags():
    assert _ingest_flags({"construction_budget": 60, "verbose": True, "x": None}) == [
        "--construction-budget",
        "60",
        "--verbose",
    ]
    with pytest.raises(DockerError, match="set by the container run"):
        _ingest_flags({"output_dir": "/tmp"})


def test_parsers():
    assert _parse_gpus(None) is None and _parse_gpus("none") is None
    assert _parse_gpus("all") == ["all"]
    assert _parse_gpus("0, 2") == ["0", "2"] and _parse_gpus([1]) == ["1"]
    assert _parse_memory("512m") == 512 * 2**20 and _parse_memory("2GiB") == 2 * 2**30
    assert _parse_memory(1000) == 1000 and _parse_memory(None) is None


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
        assert "autodl/docker.py" in zf.namelist()
    wheels = {p.name.split("-")[0].lower(): p.name for p in (ctx / "deps").glob("*.whl")}
    reqs = (ctx / "deps" / "requirements.txt").read_text()
    for name in ("numpy", "scikit_learn", "tensorflow_cpu"):
        dist = name.replace("_", "-")
        assert f"-{md.version(dist)}-" in wheels[name], wheels[name]  # the host's version
    assert "torch" not in wheels and "torch" not in reqs
    assert not any(n.startswith("nvidia") for n in wheels)
