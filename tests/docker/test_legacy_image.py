"""The legacy environment's image (`autodl docker build --legacy`), with the real engine.

Built on the local base image like the CPU image; Docker's layer cache makes a rebuild
quick. A 2019-style submission (numpy's removed aliases, TF 2.15's tf.estimator) runs in
it through `autodl docker ingest`, and the record names the environment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]
TAG = "autodl:test-legacy"

# Uses what numpy 1.24 removed and what TensorFlow 2.16 removed, at import.
MODEL = """
import numpy as np
import tensorflow as tf

assert tf.__version__ == "2.15.1", tf.__version__
ESTIMATOR = tf.estimator.Estimator
DTYPE = np.float


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        assert np.zeros(2, dtype=np.bool).dtype == bool

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 2
        return np.full((len(dataset), self.output_dim), 0.25 * self.round, dtype=DTYPE)
"""


def _cli(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autodl", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def legacy_image(engine, base_image) -> str:
    proc = _cli("docker", "build", "--legacy", "--base", base_image, "--tag", TAG)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"built {TAG}" in proc.stdout
    return TAG


def test_the_image_is_the_legacy_environment_with_the_harness(engine, legacy_image):
    image = engine.images.get(legacy_image)
    assert image.labels["org.autodl.harness"] == "autodl"
    assert image.labels["org.autodl.env"] == "legacy"
    out = engine.containers.run(
        legacy_image,
        [
            "python3",
            "-c",
            "import json, numpy, tensorflow as tf; "
            "m = json.load(open('/opt/autodl/autodl-env.json')); "
            "print(json.dumps([tf.__version__, numpy.__version__, m['name'], "
            "sorted(m['installed']), hasattr(numpy, 'float')]))",
        ],
        network_mode="none",
        remove=True,
    )
    tf_version, numpy_version, name, installed, alias = json.loads(out.decode().splitlines()[-1])
    assert tf_version == "2.15.1" and numpy_version.startswith("1.") and name == "legacy"
    assert "torch" not in installed and "autodl" in installed
    assert alias is False  # restored by the worker for the submission, not in the image


def test_a_2019_style_submission_runs_in_it(legacy_image, task, tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "model.py").write_text(textwrap.dedent(MODEL))
    out = tmp_path / "out"
    proc = _cli(
        "docker", "ingest", "--image", legacy_image, "--dataset_dir", str(task),
        "--code_dir", str(code), "--output_dir", str(out), "--time_budget", "120",
        timeout=600,
    )  # fmt: skip
    record = json.loads((out / "ingestion.json").read_text())
    assert record["status"] == "ok", (record["error"], proc.stderr[-3000:])
    assert record["num_predictions"] == 2
    assert record["python"]["env"] == "legacy" and record["python"]["numpy_aliases"] is True
    assert record["isolation"]["sandbox"]["kind"] == "docker"
