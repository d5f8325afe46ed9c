"""Learning curves and ALC against curves computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autodl.scoring import LearningCurve, alc, rescale_time


def x(t: float, T: float = 1200.0, t0: float = 60.0) -> float:
    """Rescaled time, written out: log(1 + t/t0) / log(1 + T/t0)."""
    return math.log(1 + t / t0) / math.log(1 + T / t0)


def test_rescale_time_endpoints_and_values():
    assert rescale_time(0.0, 1200.0) == 0.0
    assert rescale_time(1200.0, 1200.0) == pytest.approx(1.0, abs=1e-15)
    assert float(rescale_time(60.0, 1200.0)) == pytest.approx(math.log(2) / math.log(21), abs=1e-15)
    np.testing.assert_allclose(
        rescale_time([10, 300], 600, t0=30), [x(10, 600, 30), x(300, 600, 30)]
    )


def test_no_prediction_gives_zero():
    assert alc([], [], time_budget=1200) == 0.0
    assert LearningCurve(time_budget=10).final_score == 0.0


def test_one_point():
    # Curve: 0 on [0, x(60)), then 1 up to 1. Area = 1 - log 2 / log 21 = 0.7723297513...
    assert alc([60.0], [1.0], 1200.0) == pytest.approx(1 - math.log(2) / math.log(21), abs=1e-15)
    assert alc([60.0], [1.0], 1200.0) == pytest.approx(0.772329751303047, abs=1e-12)


def test_three_points_written_out():
    t, s = [10.0, 60.0, 600.0], [0.2, 0.5, 0.8]
    x1, x2, x3 = x(10), x(60), x(600)
    # Steps: [0,x1) at 0, [x1,x2) at 0.2, [x2,x3) at 0.5, [x3,1] at 0.8.
    expected = 0 * x1 + 0.2 * (x2 - x1) + 0.5 * (x3 - x2) + 0.8 * (1 - x3)
    assert alc(t, s, 1200.0) == pytest.approx(expected, abs=1e-15)
    # With numbers: x1 = log(7/6)/log 21, x2 = log 2/log 21, x3 = log 11/log 21.
    assert expected == pytest.approx(
        (0.2 * math.log(12 / 7) + 0.5 * math.log(11 / 2) + 0.8 * math.log(21 / 11)) / math.log(21),
        abs=1e-15,
    )


def test_other_t0_and_budget():
    # T = 100, t0 = 10: x(t) = log(1 + t/10) / log 11; one point (t = 10, s = 0.6).
    assert alc([10.0], [0.6], 100.0, t0=10.0) == pytest.approx(
        0.6 * (1 - math.log(2) / math.log(11)), abs=1e-15
    )


def test_points_after_budget_are_ignored_and_at_budget_add_nothing():
    assert alc([60.0, 1300.0], [0.5, 0.9], 1200.0) == alc([60.0], [0.5], 1200.0)
    assert alc([60.0, 1200.0], [0.5, 0.9], 1200.0) == pytest.approx(alc([60.0], [0.5], 1200.0))
    curve = LearningCurve((60.0, 1300.0), (0.5, 0.9), time_budget=1200.0)
    assert curve.duration == 1300.0 and curve.final_score == 0.5


def test_negative_scores_count_negatively():
    assert alc([0.0], [-0.5], 1200.0) == -0.5


def test_points_are_sorted_by_time():
    assert alc([600.0, 10.0], [0.8, 0.2], 1200.0) == alc([10.0, 600.0], [0.2, 0.8], 1200.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(timestamps=(1.0, 2.0), scores=(0.5,)), "2 timestamps but 1 scores"),
        (dict(timestamps=(-1.0,), scores=(0.5,)), "before the start"),
        (dict(timestamps=(1.0,), scores=(math.nan,)), "finite"),
        (dict(time_budget=0), "time budget"),
        (dict(t0=-1), "t0"),
    ],
)
def test_bad_curves(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LearningCurve(**kwargs)


def test_step_points():
    xs, ys = LearningCurve((60.0,), (0.7,), time_budget=1200.0).step_points()
    np.testing.assert_allclose(xs, [0, x(60), 1])
    np.testing.assert_allclose(ys, [0, 0.7, 0.7])


def test_addition_is_the_sum_of_step_functions():
    a = LearningCurve((10.0, 100.0, 500.0), (0.2, 0.5, 0.7), time_budget=1200.0)
    b = LearningCurve((50.0, 100.0, 900.0), (0.1, 0.4, 0.9), time_budget=1200.0)
    c = a + b
    assert c.timestamps == (10.0, 50.0, 100.0, 500.0, 900.0)
    np.testing.assert_allclose(c.scores, [0.2, 0.3, 0.9, 1.1, 1.6])
    assert c.alc() == pytest.approx(a.alc() + b.alc(), abs=1e-14)
    m = LearningCurve.mean([a, b])
    np.testing.assert_allclose(m.scores, [0.1, 0.15, 0.45, 0.55, 0.8])
    assert m.alc() == pytest.approx((a.alc() + b.alc()) / 2, abs=1e-14)
    assert sum([a, b]).alc() == pytest.approx(c.alc())
    assert (a - a).alc() == pytest.approx(0.0, abs=1e-15)
    assert (2 * a).alc() == pytest.approx(2 * a.alc())
    np.testing.assert_allclose(c.value_at([0.0, 10.0, 49.9, 2000.0]), [0, 0.2, 0.2, 1.6])


def test_addition_merges_close_timestamps():
    a = LearningCurve((100.0,), (0.5,), time_budget=1200.0)
    b = LearningCurve((100.0 + 1e-9,), (0.25,), time_budget=1200.0)
    c = a + b
    assert c.timestamps == (100.0,) and c.scores == (0.75,)


def test_combining_different_budgets_is_refused():
    a = LearningCurve((1.0,), (0.5,), time_budget=100.0)
    with pytest.raises(ValueError, match="time_budget"):
        a + LearningCurve((1.0,), (0.5,), time_budget=200.0)
    with pytest.raises(TypeError):
        a * "2"


def test_record_round_trip():
    a = LearningCurve((10.0, 100.0), (0.2, 0.5), time_budget=1200.0, task_name="toy")
    assert LearningCurve.from_record(a.to_record()) == a
