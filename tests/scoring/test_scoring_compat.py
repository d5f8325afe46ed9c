"""`autodl score --compat 2019`: the 2019 program's ALC where ours differs by design.

The 2019 scorer (``LearningCurve.get_alc``) took every prediction in the order of ``k``,
those after the budget too, closed the step curve at t~ = 1 and summed
``(x[i+1] - x[i]) * y[i]`` in a Python loop. ``step_area_2019`` restates that loop here,
independently of ``autodl.scoring.curve``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score


def step_area_2019(ts: list[float], scores: list[float], T: float, t0: float = 60.0) -> float:
    xs = [0.0] + [math.log(1 + t / t0) / math.log(1 + T / t0) for t in ts] + [1.0]
    ys = [0.0] + list(scores) + [scores[-1] if scores else 0.0]
    area = 0.0
    for i in range(len(xs) - 1):
        area += (xs[i + 1] - xs[i]) * ys[i]
    return area


def ours(ts: list[float], scores: list[float], T: float, t0: float = 60.0) -> float:
    """The documented rule: points after T are left out, the curve held to t~ = 1."""
    kept = [(t, s) for t, s in zip(ts, scores, strict=True) if t <= T]
    xs = [0.0] + [math.log(1 + t / t0) / math.log(1 + T / t0) for t, _ in kept] + [1.0]
    ys = [0.0] + [s for _, s in kept]
    return sum((xs[i + 1] - xs[i]) * ys[i] for i in range(len(ys)))


def binary_task(n: int = 200, seed: int = 3):
    rng = np.random.default_rng(seed)
    sol = np.zeros((n, 2))
    sol[np.arange(n), rng.integers(0, 2, n)] = 1
    preds = [np.round(rng.random((n, 2)) + w * sol, 2) for w in (0.2, 0.6, 1.5)]
    return sol, preds


def nauc(sol: np.ndarray, pred: np.ndarray) -> float:
    return 2 * float(np.mean([roc_auc_score(sol[:, k], pred[:, k]) for k in range(2)])) - 1


@pytest.mark.parametrize(
    "times",
    [
        [5.0, 20.0, 50.0],  # all within the 60 s budget: both rules agree
        [5.0, 40.0, 75.0],  # the last one 15 s late
        [30.0, 90.0, 200.0],  # two late ones
    ],
)
def test_compat_2019_is_the_2019_number(folders, cli, times):
    sol, preds = binary_task()
    folders.solution(sol)
    st = folders.start(budget=60)
    for k, (p, t) in enumerate(zip(preds, times, strict=True)):
        folders.predict(k, p, t, st)
    folders.end()
    naucs = [nauc(sol, p) for p in preds]

    proc = cli(*folders.args("--no-bootstrap"))
    assert proc.returncode == 0, proc.stderr
    default = json.loads((folders.out / "scores.json").read_text())
    assert default["compat"] == "autodl"
    assert default["alc"] == pytest.approx(ours(times, naucs, 60), abs=1e-9)

    proc = cli(*folders.args("--no-bootstrap", "--compat", "2019"))
    assert proc.returncode == 0, proc.stderr
    compat = json.loads((folders.out / "scores.json").read_text())
    assert compat["compat"] == "2019"
    assert compat["alc"] == compat["score"]
    assert compat["alc"] == pytest.approx(step_area_2019(times, naucs, 60), abs=1e-9)
    # The per-prediction scores do not depend on the rule.
    assert compat["nauc"] == pytest.approx(naucs[-1], abs=1e-9) == default["nauc"]
    late = any(t > 60 for t in times)
    assert (compat["alc"] != pytest.approx(default["alc"], abs=1e-9)) == late


def test_compat_rejects_an_unknown_rule(folders, cli):
    proc = cli(*folders.args("--compat", "2018"))
    assert proc.returncode == 2 and "invalid choice: '2018'" in proc.stderr
