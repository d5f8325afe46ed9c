"""Built-in datasets: every one builds, reads back, is deterministic and is cached."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from autodl.data import find_task, load, samples
from autodl.data.domain import guess_domain
from autodl.protocol import read_matrix


def _digest(task_dir) -> dict[str, str]:
    return {
        str(p.relative_to(task_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(task_dir.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    return {name: samples.make(name, out) for name in samples.names()}


def test_one_per_domain_and_digits_is_there():
    domains = {samples.domain(n) for n in samples.names()}
    assert domains == {"image", "video", "speech", "text", "tabular"}
    assert {"digits", "cluttered_digits", "topics"} <= set(samples.names())


def test_every_sample_reads_back_with_its_domain(built):
    for name, task_dir in built.items():
        task = find_task(task_dir)
        assert task.name == name
        train, test = load(task_dir, split="train"), load(task_dir, split="test")
        assert len(train) > 0 and len(test) > 0
        assert guess_domain(train.metadata) == samples.domain(name), name
        y = read_matrix(task.solution_path)
        assert y.shape == (len(test), train.metadata.get_output_size())
        assert np.all(y.sum(axis=1) == 1)


def test_digits_matches_scikit_learn(built):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = load(built["digits"], split="train").to_numpy()
    xt, _ = load(built["digits"], split="test").to_numpy()
    assert x.shape[1:] == (1, 8, 8, 1) and len(x) + len(xt) == len(digits.images)
    # every training image is a scikit-learn digit / 16 with its label
    index = {
        im.tobytes(): t
        for im, t in zip(digits.images.astype(np.float32) / 16, digits.target, strict=True)
    }
    for example, labels in zip(x, y, strict=True):
        assert index[example[0, :, :, 0].tobytes()] == labels.argmax()
    # stratified: every class in the test split in proportion
    counts = read_matrix(find_task(built["digits"]).solution_path).sum(axis=0)
    assert counts.min() >= 35 and counts.max() <= 37


def _nauc(y: np.ndarray, scores: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(np.mean([2 * roc_auc_score(y[:, k], scores[:, k]) - 1 for k in range(y.shape[1])]))


def _fit_and_score(x_train, y_train, x_test, y_test) -> float:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=300).fit(x_train, y_train.argmax(axis=1))
    return _nauc(y_test, model.predict_proba(x_test))


def test_cluttered_digits_is_hard_for_a_linear_model(built):
    """Its point: pixels alone say little (the digit moves), unlike ``digits``."""
    scores = {}
    for name in ("digits", "cluttered_digits"):
        x, y = load(built[name], split="train").to_numpy()
        xt, _ = load(built[name], split="test").to_numpy()
        yt = read_matrix(find_task(built[name]).solution_path)
        assert x.min() >= 0 and x.max() <= 1
        scores[name] = _fit_and_score(x.reshape(len(x), -1), y, xt.reshape(len(xt), -1), yt)
    assert x.shape[1:] == (1, 32, 32, 1) and len(x) + len(xt) == 1797
    assert scores["digits"] > 0.99
    assert scores["cluttered_digits"] < 0.3


def test_topics_needs_word_order(built):
    """Word counts give a little; counts of word pairs (order) give clearly more."""
    from scipy.sparse import csr_matrix

    train, test = load(built["topics"], split="train"), load(built["topics"], split="test")
    vocabulary = train.metadata.get_channel_to_index_map()
    assert len(vocabulary) > 1500 and train.metadata.get_output_size() == 8

    def features(dataset, pairs: bool):
        rows = [x.reshape(-1).astype(np.int64) for x, _ in dataset]
        width = len(vocabulary) + (1 << 16 if pairs else 0)
        cols = [
            np.concatenate([r, len(vocabulary) + (r[:-1] * 4099 + r[1:]) % (1 << 16)])
            if pairs
            else r
            for r in rows
        ]
        indptr = np.cumsum([0] + [len(c) for c in cols])
        m = csr_matrix((np.ones(indptr[-1]), np.concatenate(cols), indptr), (len(cols), width))
        m.sum_duplicates()
        return m

    y = np.stack([labels for _, labels in train])
    yt = read_matrix(find_task(built["topics"]).solution_path)
    lengths = [len(x) for x, _ in train]
    assert min(lengths) >= 20 and max(lengths) < 100 and len(set(lengths)) > 50
    words = _fit_and_score(features(train, False), y, features(test, False), yt)
    pairs = _fit_and_score(features(train, True), y, features(test, True), yt)
    assert 0.2 < words < 0.7, words
    assert pairs > words + 0.05, (words, pairs)


def test_make_is_deterministic(built, tmp_path):
    for name in ("digits", "reviews", "tones", "cluttered_digits", "topics"):
        again = samples.make(name, tmp_path)
        assert _digest(again) == _digest(built[name]), name


def test_resolve_builds_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTODL_HOME", str(tmp_path / "home"))
    first = samples.resolve("wine")
    assert first.is_relative_to(tmp_path / "home" / "datasets")
    stamp = (first / "wine.solution").stat().st_mtime_ns
    assert samples.resolve("wine") == first
    assert (first / "wine.solution").stat().st_mtime_ns == stamp
    assert samples.resolve(first) == first  # a path is returned as is
    with pytest.raises(FileNotFoundError, match="built-in"):
        samples.resolve("no_such_dataset")


def test_cli_list_and_make(tmp_path, cli):
    proc = cli("datasets", "list", check=True)
    for name in samples.names():
        assert name in proc.stdout
    proc = cli("datasets", "make", "wine", "-o", tmp_path, check=True)
    assert proc.stdout.strip() == str(tmp_path / "wine")
    assert len(load(tmp_path / "wine", split="train")) == 142
    proc = cli("datasets", "make", "nope", "-o", tmp_path)
    assert proc.returncode == 2 and "nope" in proc.stderr
