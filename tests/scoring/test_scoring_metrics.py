"""nauc / accuracy against scikit-learn and against a slow per-column reference formulation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from autodl.scoring import accuracy, auc_per_column, is_multiclass, metrics, nauc


def slow_tied_ranks(column: np.ndarray) -> np.ndarray:
    """1-based ranks, ties averaged, one Python step per value (protocol section 5)."""
    order = sorted(range(len(column)), key=lambda i: column[i])
    ranks = [0.0] * len(column)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and column[order[j + 1]] == column[order[i]]:
            j += 1
        mean_rank = (i + 1 + j + 1) / 2
        for q in range(i, j + 1):
            ranks[order[q]] = mean_rank
        i = j + 1
    return np.array(ranks)


def slow_nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    aucs = []
    for k in range(solution.shape[1]):
        s = solution[:, k]
        npos, nneg = int((s == 1).sum()), int((s < 1).sum())
        if npos == 0 or nneg == 0:
            continue
        r = slow_tied_ranks(prediction[:, k])
        aucs.append((r[s == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))
    return 2 * float(np.mean(aucs)) - 1


def sklearn_aucs(solution: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    out = np.full(solution.shape[1], np.nan)
    for k in range(solution.shape[1]):
        if len(np.unique(solution[:, k])) == 2:
            out[k] = roc_auc_score(solution[:, k], prediction[:, k])
    return out


def _data(kind: str, n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "multiclass":
        sol = np.eye(m)[rng.integers(0, m, n)]
    else:  # multi-label
        sol = (rng.random((n, m)) < 0.3).astype(float)
    pred = rng.random((n, m)) + 0.4 * sol
    return sol, pred


TIES = {
    "continuous": lambda p: p,
    "rounded_0.1": lambda p: np.round(p, 1),
    "three_values": lambda p: np.floor(p * 2),  # heavy ties: 0, 1, 2
    "constant": lambda p: np.zeros_like(p),
}


@pytest.mark.parametrize("kind", ["multiclass", "multilabel"])
@pytest.mark.parametrize("ties", list(TIES))
@pytest.mark.parametrize("n,m,seed", [(50, 3, 0), (301, 7, 1), (1000, 12, 2)])
def test_auc_per_column_matches_sklearn_and_slow_reference(kind, ties, n, m, seed):
    sol, pred = _data(kind, n, m, seed)
    pred = TIES[ties](pred)
    ours = auc_per_column(sol, pred)
    np.testing.assert_allclose(ours, sklearn_aucs(sol, pred), rtol=0, atol=1e-12)
    assert nauc(sol, pred) == pytest.approx(slow_nauc(sol, pred), abs=1e-12)


def test_single_class_columns_are_ignored():
    sol, pred = _data("multilabel", 200, 6, 3)
    sol[:, 1] = 0  # only negatives
    sol[:, 4] = 1  # only positives
    aucs = auc_per_column(sol, pred)
    assert np.isnan(aucs[[1, 4]]).all() and not np.isnan(aucs[[0, 2, 3, 5]]).any()
    expected = 2 * np.mean([roc_auc_score(sol[:, k], pred[:, k]) for k in (0, 2, 3, 5)]) - 1
    assert nauc(sol, pred) == pytest.approx(expected, abs=1e-12)
    # Changing the prediction of an ignored column changes nothing.
    pred2 = pred.copy()
    pred2[:, 1] = -pred2[:, 1]
    assert nauc(sol, pred2) == nauc(sol, pred)


def test_every_column_single_class_is_an_error():
    sol = np.zeros((5, 3))
    sol[:, 0] = 1
    with pytest.raises(ValueError, match="no label column .* both classes"):
        nauc(sol, np.random.default_rng(0).random((5, 3)))
    assert np.isnan(auc_per_column(sol, np.zeros((5, 3)))).all()


def test_extremes_and_binary_vector():
    y = np.array([0, 1, 1, 0, 1, 0, 0])
    s = np.arange(7.0)
    assert nauc(y, y * 2.0) == 1.0
    assert nauc(y, -y) == -1.0
    assert nauc(y, np.ones(7)) == 0.0
    assert nauc(y, s) == pytest.approx(2 * roc_auc_score(y, s) - 1, abs=1e-15)


def test_invariant_under_monotone_transform():
    sol, pred = _data("multilabel", 400, 5, 4)
    assert nauc(sol, np.exp(3 * pred) - 7) == pytest.approx(nauc(sol, pred), abs=1e-14)


def test_blocks_give_the_same_result(monkeypatch):
    sol, pred = _data("multilabel", 97, 23, 5)
    pred = np.round(pred, 1)
    whole = auc_per_column(sol, pred)
    monkeypatch.setattr(metrics, "_BLOCK_ELEMENTS", 97 * 4)  # blocks of 4 columns
    np.testing.assert_array_equal(auc_per_column(sol, pred), whole)


@pytest.mark.parametrize(
    "sol,pred,match",
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), r"shape \(3, 3\).*\(3, 2\)"),
        (np.zeros((0, 2)), np.zeros((0, 2)), "no rows"),
        ([[1, 0], [0, 1]], [[0.5, np.nan], [0.1, 0.2]], "non-finite.*row 1, column 2"),
        ([[1, 0], [0, 1]], [[0.5, 0.1], [np.inf, 0.2]], "non-finite.*row 2, column 1"),
        (np.zeros((2, 2, 2)), np.zeros((2, 2, 2)), "1-D or 2-D"),
    ],
)
def test_bad_arrays_are_rejected_with_a_clear_message(sol, pred, match):
    with pytest.raises(ValueError, match=match):
        nauc(sol, pred)
    with pytest.raises(ValueError, match=match):
        accuracy(sol, pred)


def test_accuracy_formula_and_multiclass_detection():
    sol = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]], dtype=float)
    pred = np.array([[2, 1, 1], [0, 0, 0], [-1, 0, 3], [0.5, 0.5, 0]])
    # Row by row: 2/4, 0/(0+1e-15)*0 = 0, 3/4, 0.5/1 -> (0.5 + 0 + 0.75 + 0.5) / 4
    assert accuracy(sol, pred) == pytest.approx((0.5 + 0.0 + 0.75 + 0.5) / 4, abs=1e-12)
    assert accuracy(sol, sol) == pytest.approx(1.0, abs=1e-12)
    assert is_multiclass(sol)
    assert not is_multiclass(np.array([[1, 1, 0], [0, 1, 0]]))  # multi-label row
    assert not is_multiclass(np.array([[0, 0, 0], [0, 1, 0]]))  # a row without label
    assert is_multiclass(np.array([[-1, 0], [0, 1]]))  # the 2019 rule uses |x|


def _tiedrank_2019(a: np.ndarray) -> np.ndarray:
    """The 2019 program's rank algorithm (running mean over each tie group), written anew."""
    m = len(a)
    order = a.argsort()
    sa = a[order]
    ranks = np.arange(m, dtype=float) + 1
    k0 = 0
    for k in range(1, m):
        if sa[k] == sa[k0]:
            ranks[k0 : k + 1] = ranks[k - 1] * (k - k0) / (k - k0 + 1) + ranks[k] / (k - k0 + 1)
        else:
            k0 = k
    out = np.empty(m)
    out[order] = ranks
    return out


def _nauc_2019(solution: np.ndarray, prediction: np.ndarray) -> float:
    sums = solution.sum(axis=0)
    cols = np.flatnonzero(~np.isclose(sums, 0) & ~np.isclose(sums, len(solution)))
    aucs = []
    for j in cols:
        r, s = _tiedrank_2019(prediction[:, j]), solution[:, j]
        npos, nneg = (s == 1).sum(), (s < 1).sum()
        aucs.append((r[s == 1].sum() - npos * (npos + 1) / 2) / (nneg * npos))
    mean = 0.0  # the 2019 running mean over columns
    for i, x in enumerate(aucs):
        mean = (i / (i + 1.0)) * mean + x / (i + 1)
    return 2 * mean - 1


@pytest.mark.parametrize("ties", ["continuous", "rounded_0.1", "three_values"])
def test_matches_the_2019_algorithm_to_1e_9(ties):
    sol, pred = _data("multiclass", 3000, 9, 11)
    sol[:, 4] = 0  # a single-class column
    pred = TIES[ties](pred)
    assert abs(nauc(sol, pred) - _nauc_2019(sol, pred)) <= 1e-9
