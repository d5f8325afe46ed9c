"""Ranks and average ranks, against scipy's rankdata and hand computations."""

from __future__ import annotations

import csv
import random

import pytest
from scipy.stats import rankdata

from autodl.challenge.leaderboard import (
    build_leaderboard,
    codalab_scores,
    format_table,
    leaderboard_csv,
    rank_values,
)
from autodl.challenge.results import find_results
from autodl.protocol import RunResult


def test_rank_values_docstring_example():
    assert rank_values([0.8, 0.5, 0.8, None]) == [1.5, 3.0, 1.5, 4.0]


def test_rank_values_matches_scipy_average_ranks_with_ties_and_failures():
    rng = random.Random(0)
    for _ in range(200):
        n = rng.randint(1, 9)
        # Few distinct values, so ties are frequent; None is a failed run.
        values = [rng.choice([None, 0.0, 0.25, 0.5, 0.5, 0.75, 1.0]) for _ in range(n)]
        expected = rankdata([-(v if v is not None else float("-inf")) for v in values])
        assert rank_values(values) == pytest.approx(list(expected))


def test_rank_values_ties_values_equal_up_to_print_precision():
    # The same ALC, once computed here and once read back from another machine's file.
    assert rank_values([0.1 + 0.2, 0.3]) == [1.5, 1.5]


def _r(sub, ds, alc, status="ok", n=3):
    return RunResult(submission=sub, dataset=ds, status=status, alc=alc, num_predictions=n)


def test_average_rank_by_hand_with_ties_failures_and_missing_runs():
    results = [
        # d1: A 0.9, B 0.5, C 0.5 (tie)        -> A 1, B 2.5, C 2.5
        _r("A", "d1", 0.9),
        _r("B", "d1", 0.5),
        _r("C", "d1", 0.5),
        # d2: A crashed before predicting, B 0.2, C missing -> B 1, A 2.5, C 2.5
        _r("A", "d2", 0.0, status="error", n=0),
        _r("B", "d2", 0.2),
        # d3: A 0.1, B 0.3, C 0.3 (tie)        -> B 1.5, C 1.5, A 3
        _r("A", "d3", 0.1),
        _r("B", "d3", 0.3),
        _r("C", "d3", 0.3),
    ]
    board = build_leaderboard(results, datasets=["d1", "d2", "d3"], submissions=["A", "B", "C"])
    assert board.ranks[("A", "d1")] == 1 and board.ranks[("B", "d1")] == 2.5
    assert board.ranks[("A", "d2")] == 2.5 and board.ranks[("C", "d2")] == 2.5
    assert board.ranks[("B", "d2")] == 1
    assert board.average_rank == pytest.approx(
        {"A": (1 + 2.5 + 3) / 3, "B": (2.5 + 1 + 1.5) / 3, "C": (2.5 + 2.5 + 1.5) / 3}
    )
    # A and C tie at 6.5 / 3: they share position 2 (listed by name).
    assert board.submissions == ["B", "A", "C"]
    assert [board.position[s] for s in board.submissions] == [1, 2, 2]
    assert board.status("C", "d2") == "missing"
    assert board.alc("A", "d2") is None  # failed: no ALC shown, ranks last


def test_tied_average_ranks_share_a_position():
    results = [_r("A", "d1", 0.9), _r("B", "d1", 0.1), _r("A", "d2", 0.1), _r("B", "d2", 0.9)]
    board = build_leaderboard(results)
    assert board.average_rank == {"A": 1.5, "B": 1.5}
    assert board.position == {"A": 1, "B": 1}


def test_a_run_that_failed_after_predicting_keeps_its_alc():
    late = _r("late", "d", 0.4, status="error", n=2)  # crashed after two predictions
    zero = _r("zero", "d", 0.0, status="ok", n=1)  # a constant prediction: NAUC 0
    never = _r("never", "d", 0.0, status="ok", n=0)  # no prediction at all: failed
    hung = _r("hung", "d", 0.0, status="timeout", n=0)
    board = build_leaderboard([late, zero, never, hung])
    assert board.ranks == {
        ("late", "d"): 1,
        ("zero", "d"): 2,
        ("never", "d"): 3.5,
        ("hung", "d"): 3.5,
    }


def test_score_folders_from_two_machines_merge(tmp_path, make_run, cli):
    m1, m2 = tmp_path / "machine1", tmp_path / "machine2"
    make_run(m1, "A", "d1", timestamps=[1, 5], nauc=[0.2, 0.6], alc=0.5)
    make_run(m1, "B", "d1", timestamps=[2], nauc=[0.3], alc=0.3)
    make_run(m1, "C", "d1", timestamps=[], nauc=[], alc=0.0, status="crashed")
    make_run(m2, "A", "d2", timestamps=[3], nauc=[0.1], alc=0.1)
    make_run(m2, "B", "d2", timestamps=[1], nauc=[0.4], alc=0.35)
    # A bare score folder (scores.json + learning_curve.json), named after its submission.
    make_run(m2 / "bare", "C", "d2", timestamps=[4], nauc=[0.9], alc=0.8, layout="bare")

    found = {(r.submission, r.dataset): r for r in find_results([m1, m2])}
    assert set(found) == {(s, d) for s in "ABC" for d in ("d1", "d2")}
    assert found[("C", "d1")].failed and not found[("C", "d2")].failed

    out = tmp_path / "lb"
    proc = cli("leaderboard", m1, m2, "-o", out, check=True)
    # d1: A 1, B 2, C (crashed) 3; d2: C 1, B 2, A 3 -> A 2, B 2, C 2: all tie.
    rows = list(csv.DictReader((out / "leaderboard.csv").open()))
    assert {r["submission"]: float(r["average_rank"]) for r in rows} == {"A": 2, "B": 2, "C": 2}
    assert {r["submission"]: r["position"] for r in rows} == {"A": "1", "B": "1", "C": "1"}
    by_sub = {r["submission"]: r for r in rows}
    assert by_sub["C"]["d1_rank"] == "3" and by_sub["C"]["d1_alc"] == ""
    assert float(by_sub["C"]["d2_alc"]) == pytest.approx(0.8)
    assert "A" in proc.stdout and "avg rank" in proc.stdout

    sets = (out / "codalab" / "sets.txt").read_text().splitlines()
    assert sets == ["set1: d1", "set2: d2"]
    c_scores = (out / "codalab" / "C" / "scores.txt").read_text()
    assert "set1_score: 0.000000" in c_scores and "set2_score: 0.800000" in c_scores
    assert (out / "leaderboard.html").read_text().count("<img") == 2
    assert (out / "results.csv").read_text().startswith("submission,dataset,status,alc")


def test_leaderboard_of_nothing_is_a_clear_error(tmp_path, cli):
    proc = cli("leaderboard", tmp_path)
    assert proc.returncode == 1 and "no runs found" in proc.stderr
    proc = cli("leaderboard", tmp_path / "nope")
    assert proc.returncode == 2 and "nope" in proc.stderr


def test_text_outputs():
    board = build_leaderboard([_r("A", "d", 0.5), _r("B", "d", None, status="error", n=0)])
    table = format_table(board)
    assert "0.5000 (1)" in table and "error (2)" in table
    assert leaderboard_csv(board).splitlines()[0] == "position,submission,average_rank,d_alc,d_rank"
    assert codalab_scores(board)["B"] == {"set1_score": 0.0, "ave_rank": 2.0}
