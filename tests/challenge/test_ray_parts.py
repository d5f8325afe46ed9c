"""The Ray backend's parts that need no cluster: the challenge file's ``cluster:``
section, the zip bundles that carry folders between machines, the resource requests,
and the one-line message when Ray is missing."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile

import pytest
from challenge_helpers import ZEROS, blobs, submission

from autodl.challenge.config import ConfigError, load_config
from autodl.challenge.ray_backend import RayBackend
from autodl.challenge.shipping import ShippingError, pack, unpack


def _config(tmp_path, cluster: str):
    blobs(tmp_path / "data", "blobs_a", classes=3, features=4, seed=1)
    submission(tmp_path / "subs", "zeros", ZEROS)
    path = tmp_path / "c.yaml"
    path.write_text(
        textwrap.dedent(
            f"""
            datasets: {{blobs_a: data/blobs_a}}
            submissions: {{zeros: subs/zeros}}
            {cluster}
            """
        )
    )
    return path


def test_cluster_section_is_read_with_its_defaults(tmp_path):
    assert load_config(_config(tmp_path, "")).cluster.max_retries == 2
    cfg = load_config(
        _config(
            tmp_path / "b",
            "cluster: {cpus_per_job: 2, memory_per_job_gb: 1.5, gpus_per_job: 0, "
            "resources: {slot: 1}, max_retries: 0, shared_storage: [data]}",
        )
    )
    c = cfg.cluster
    assert (c.cpus_per_job, c.memory_per_job_gb, c.gpus_per_job, c.max_retries) == (2, 1.5, 0, 0)
    assert c.resources == {"slot": 1.0}
    assert c.shared_storage == ((tmp_path / "b" / "data").resolve(),)  # from the file's folder
    assert c.is_shared(cfg.datasets[0].path) and not c.is_shared(cfg.submissions[0].path)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("cluster: {cpu: 2}", "cluster.cpu: unknown key"),
        ("cluster: {cpus_per_job: 0}", "cluster.cpus_per_job: must be a positive number"),
        ("cluster: {max_retries: -1}", "cluster.max_retries: expected a whole number >= 0"),
        ("cluster: {max_retries: 1.5}", "cluster.max_retries: expected a whole number >= 0"),
        ("cluster: {resources: {slot: x}}", "cluster.resources.slot: expected a number"),
        ("cluster: {shared_storage: [1]}", "cluster.shared_storage: expected a list of folders"),
        ("cluster: [1]", "cluster: expected a mapping"),
    ],
)
def test_bad_cluster_sections_name_the_key(tmp_path, section, message):
    path = _config(tmp_path, section)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}: ") and message in str(e.value)


def test_bundles_round_trip_and_refuse_what_would_escape(tmp_path):
    src = tmp_path / "src"
    (src / "predictions").mkdir(parents=True)
    (src / "scores").mkdir()
    (src / "scores" / "scores.json").write_bytes(b'{"alc": 0.5}')
    (src / "input_data").mkdir()
    (src / "input_data" / "big").write_bytes(b"x" * 1000)
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "link").symlink_to("/etc/passwd")
    dst = tmp_path / "dst"
    unpack(pack(src, exclude=("input_data",)), dst)
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*")) == [
        "predictions",  # empty folders travel too
        "run.sh",
        "scores",
        "scores/scores.json",
    ]  # no input_data, and the link stayed behind
    assert (dst / "scores" / "scores.json").read_bytes() == b'{"alc": 0.5}'
    assert (dst / "run.sh").stat().st_mode & 0o111

    for name in ("../evil", "/abs/evil", "a/../../evil"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, b"boom")
        with pytest.raises(ShippingError, match="would land outside"):
            unpack(buf.getvalue(), tmp_path / f"bad{len(name)}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        info = zipfile.ZipInfo("innocent")
        info.external_attr = 0o120777 << 16  # a symbolic link
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(ShippingError, match="is a link"):
        unpack(buf.getvalue(), tmp_path / "badlink")
    assert not (tmp_path.parent / "evil").exists()


def test_a_job_fits_only_a_node_with_everything_it_asks_for():
    req = {"num_cpus": 2.0, "num_gpus": 1.0, "memory": 2**30, "resources": {"slot": 1.0}}
    node = {"Alive": True, "Resources": {"CPU": 4.0, "GPU": 1.0, "memory": 2**31, "slot": 2.0}}
    assert RayBackend._fits(node, req)
    for missing in ("GPU", "slot", "memory"):
        poorer = {k: v for k, v in node["Resources"].items() if k != missing}
        assert not RayBackend._fits({"Alive": True, "Resources": poorer}, req)
    no_gpu = {**req, "num_gpus": 0.0}
    assert RayBackend._fits({"Resources": {"CPU": 2.0, "memory": 2**30, "slot": 1.0}}, no_gpu)
    assert RayBackend._describe(req) == "2 CPU, 1 GPU, 1 GiB memory, 1 slot"


def test_missing_ray_is_one_line_naming_the_extra(tmp_path):
    path = _config(tmp_path, "")
    # Ray made unimportable in a real subprocess, as on a machine without the extra.
    code = (
        "import sys; sys.modules['ray'] = None; from autodl.cli import main; "
        f"sys.exit(main(['challenge', {str(path)!r}, '-o', {str(tmp_path / 'out')!r}, "
        "'--backend', 'ray', '--sandbox', 'none']))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'autodl[ray]'" in lines[0], proc.stderr
    assert not (tmp_path / "out" / "runs").exists()  # nothing ran


def test_address_without_the_ray_backend_is_a_usage_error(tmp_path, cli):
    proc = cli("challenge", _config(tmp_path, ""), "--address", "127.0.0.1:1")
    assert proc.returncode == 2 and "--address goes with --backend ray" in proc.stderr
