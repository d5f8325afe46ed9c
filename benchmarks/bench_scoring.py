"""Speed of ``autodl.scoring.nauc`` against the reference formulation, in one run.

The reference formulation is the one protocol section 5 describes and the 2019 program
used: per label column, sort, then walk the sorted values in Python to give tied values
their mean rank, then ``(sum of ranks of positives - npos(npos+1)/2) / (npos * nneg)``.
Scikit-learn's ``roc_auc_score`` column by column is shown too, for scale.

    python benchmarks/bench_scoring.py [--quick]

Prints, per case, the seconds of each, the ratio reference / ours (target >= 20) and the
largest absolute difference of the NAUCs (target <= 1e-9).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from autodl.scoring import nauc


def reference_tiedrank(column: np.ndarray) -> np.ndarray:
    order = column.argsort()
    values = column[order]
    m = len(column)
    ranks = np.arange(1, m + 1, dtype=float)
    k0 = 0
    for k in range(1, m + 1):  # one Python step per value, a group closed at each change
        if k == m or values[k] != values[k0]:
            if k - k0 > 1:
                ranks[k0:k] = (k0 + 1 + k) / 2
            k0 = k
    out = np.empty(m)
    out[order] = ranks
    return out


def reference_nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    aucs = []
    for j in range(solution.shape[1]):
        s = solution[:, j]
        npos, nneg = (s == 1).sum(), (s < 1).sum()
        if npos == 0 or nneg == 0:
            continue
        r = reference_tiedrank(prediction[:, j])
        aucs.append((r[s == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg))
    return 2 * float(np.mean(aucs)) - 1


def sklearn_nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    cols = [j for j in range(solution.shape[1]) if 0 < solution[:, j].sum() < len(solution)]
    return 2 * float(np.mean([roc_auc_score(solution[:, j], prediction[:, j]) for j in cols])) - 1


def best_time(fn, *args, repeat: int) -> tuple[float, float]:
    best, value = float("inf"), float("nan")
    for _ in range(repeat):
        t = time.perf_counter()
        value = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller matrices")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(0)
    cases = []
    for n, m in ((100_000, 10), (20_000, 100)):
        n //= scale
        sol = np.eye(m)[rng.integers(0, m, n)]
        pred = rng.random((n, m)) + 0.3 * sol
        cases.append((f"{n} x {m} continuous", sol, pred))
        cases.append((f"{n} x {m} rounded 0.1", sol, np.round(pred, 1)))

    header = (
        f"{'case':28s} {'ours s':>9s} {'reference s':>12s} {'ratio':>8s} "
        f"{'sklearn s':>10s} {'ratio':>8s} {'max |diff|':>11s}"
    )
    print(header)
    print("-" * len(header))
    worst_ratio, worst_diff = float("inf"), 0.0
    for name, sol, pred in cases:
        t_ours, v_ours = best_time(nauc, sol, pred, repeat=5)
        t_ref, v_ref = best_time(reference_nauc, sol, pred, repeat=1)
        t_sk, v_sk = best_time(sklearn_nauc, sol, pred, repeat=1)
        diff = max(abs(v_ours - v_ref), abs(v_ours - v_sk))
        worst_ratio, worst_diff = min(worst_ratio, t_ref / t_ours), max(worst_diff, diff)
        print(
            f"{name:28s} {t_ours:9.4f} {t_ref:12.4f} {t_ref / t_ours:7.1f}x "
            f"{t_sk:10.4f} {t_sk / t_ours:7.1f}x {diff:11.2e}"
        )
    print(
        f"\nslowest ratio vs reference: {worst_ratio:.1f}x (target >= 20x); "
        f"largest difference: {worst_diff:.2e} (target <= 1e-9)"
    )


if __name__ == "__main__":
    main()
