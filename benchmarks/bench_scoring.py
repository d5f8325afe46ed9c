"""Speed of ``autodl.scoring.nauc`` against reference formulations, in one run.

- ``python``: the reference formulation of protocol section 5 done in Python, per label
  column: rank the values (Python sort), walk them giving tied values their mean rank,
  then ``(sum of ranks of positives - npos(npos+1)/2) / (npos * nneg)``. The target
  (>= 20x) is against this one.
- ``2019``: the 2019 program's algorithm, written anew: per column a NumPy argsort, a
  Python walk over the sorted values only when there are ties, updating the tied ranks
  by a running mean (quadratic in the size of a tie group), Python ``sum``s.
- ``loop``: a lean variant: NumPy argsort per column and one Python step per value.
- ``sklearn``: scikit-learn's ``roc_auc_score`` column by column.

    python benchmarks/bench_scoring.py [--quick]

Prints the seconds of each, the ratios (reference / ours) and the largest absolute
difference between our NAUC and every reference's (target <= 1e-9). Ours is the best of
5 runs, each reference one run.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from autodl.scoring import nauc


def python_tiedrank(column: list[float]) -> list[float]:
    order = sorted(range(len(column)), key=column.__getitem__)
    ranks = [0.0] * len(column)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and column[order[j + 1]] == column[order[i]]:
            j += 1
        for q in range(i, j + 1):
            ranks[order[q]] = (i + j + 2) / 2
        i = j + 1
    return ranks


def python_nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    aucs = []
    for j in range(solution.shape[1]):
        s = solution[:, j].tolist()
        npos = sum(1 for v in s if v == 1)
        nneg = sum(1 for v in s if v < 1)
        if npos == 0 or nneg == 0:
            continue
        r = python_tiedrank(prediction[:, j].tolist())
        rank_sum = sum(rv for rv, sv in zip(r, s, strict=True) if sv == 1)
        aucs.append((rank_sum - npos * (npos + 1) / 2) / (npos * nneg))
    return 2 * sum(aucs) / len(aucs) - 1


def tiedrank_2019(a: np.ndarray) -> np.ndarray:
    m = len(a)
    order = a.argsort()
    sa = a[order]
    ranks = np.arange(m, dtype=float) + 1
    if len(np.unique(a)) != m:
        k0 = 0
        for k in range(1, m):
            if sa[k] == sa[k0]:  # running mean over the group so far
                ranks[k0 : k + 1] = ranks[k - 1] * (k - k0) / (k - k0 + 1) + ranks[k] / (k - k0 + 1)
            else:
                k0 = k
    out = np.empty(m)
    out[order] = ranks
    return out


def nauc_2019(solution: np.ndarray, prediction: np.ndarray) -> float:
    sums = solution.sum(axis=0)
    cols = np.flatnonzero(~np.isclose(sums, 0) & ~np.isclose(sums, len(solution)))
    aucs = []
    for j in cols:
        r = tiedrank_2019(prediction[:, j])
        s = solution[:, j]
        npos = sum(s == 1)
        nneg = sum(s < 1)
        aucs.append((sum(r[s == 1]) - npos * (npos + 1) / 2) / (nneg * npos))
    return 2 * float(np.mean(aucs)) - 1


def loop_tiedrank(column: np.ndarray) -> np.ndarray:
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


def loop_nauc(solution: np.ndarray, prediction: np.ndarray) -> float:
    aucs = []
    for j in range(solution.shape[1]):
        s = solution[:, j]
        npos, nneg = (s == 1).sum(), (s < 1).sum()
        if npos == 0 or nneg == 0:
            continue
        r = loop_tiedrank(prediction[:, j])
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

    refs = {"python": python_nauc, "2019": nauc_2019, "loop": loop_nauc, "sklearn": sklearn_nauc}
    header = f"{'case':26s} {'ours s':>8s}" + "".join(
        f" {name + ' s':>10s} {'ratio':>7s}" for name in refs
    )
    header += f" {'max |diff|':>10s}"
    print(header)
    print("-" * len(header))
    worst_ratio, worst_diff = float("inf"), 0.0
    for name, sol, pred in cases:
        t_ours, v_ours = best_time(nauc, sol, pred, repeat=5)
        line, diff = f"{name:26s} {t_ours:8.4f}", 0.0
        for ref_name, fn in refs.items():
            t_ref, v_ref = best_time(fn, sol, pred, repeat=1)
            diff = max(diff, abs(v_ours - v_ref))
            line += f" {t_ref:10.4f} {t_ref / t_ours:6.1f}x"
            if ref_name == "python":
                worst_ratio = min(worst_ratio, t_ref / t_ours)
        worst_diff = max(worst_diff, diff)
        print(line + f" {diff:10.2e}", flush=True)
    print(
        f"\nslowest ratio vs the Python reference formulation: {worst_ratio:.1f}x (target >= 20x);"
        f" largest difference: {worst_diff:.2e} (target <= 1e-9)"
    )


if __name__ == "__main__":
    main()
