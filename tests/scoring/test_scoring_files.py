"""The score files: scores.txt in the 2019 layout, scores.json, learning_curve.json."""

from __future__ import annotations

import json

import pytest

from autodl import protocol


def test_scores_txt_layout_is_the_2019_one(tmp_path):
    protocol.write_scores_txt(
        tmp_path,
        score=0.5123,
        duration=12.25,
        timestamps=[1.5, 12.25],
        nauc_scores=[0.1, 0.30000000000000004],
        accuracy=[0.3, 0.4],
    )
    assert (tmp_path / "scores.txt").read_text() == (
        "score: 0.5123\n"
        "Duration: 12.25\n"
        "timestamps: [1.5, 12.25]\n"
        "nauc_scores: [0.1, 0.30000000000000004]\n"
        "accuracy: [0.3, 0.4]\n"
    )


def test_scores_txt_multilabel_and_empty(tmp_path):
    protocol.write_scores_txt(tmp_path, score=0, duration=0, timestamps=[], nauc_scores=[])
    assert (tmp_path / "scores.txt").read_text() == (
        "score: 0\nDuration: 0\ntimestamps: []\nnauc_scores: []\n"
    )
    scores = protocol.read_scores(tmp_path)
    assert scores["score"] == 0 and scores["duration"] == 0 and scores["nauc_scores"] == []


def test_read_scores_prefers_json_and_reads_2019_txt(tmp_path):
    (tmp_path / "scores.txt").write_text(
        "score: 0.41\nDuration: 33.5\ntimestamps: [3.1, 33.5]\nnauc_scores: [0.2, 0.6]\n"
    )
    s = protocol.read_scores(tmp_path)
    assert s["score"] == 0.41 and s["duration"] == 33.5 and s["nauc_scores"] == [0.2, 0.6]
    protocol.write_scores_json(tmp_path, {"score": 0.5, "status": "ok", "nauc": float("nan")})
    s = protocol.read_scores(tmp_path)
    assert s == {"score": 0.5, "status": "ok", "nauc": None}  # NaN is written as null
    json.loads((tmp_path / "scores.json").read_text())  # strict JSON


def test_read_scores_errors_name_the_file(tmp_path):
    with pytest.raises(protocol.ProtocolError, match="neither scores.json nor scores.txt"):
        protocol.read_scores(tmp_path)
    (tmp_path / "scores.json").write_text("{not json")
    with pytest.raises(protocol.ProtocolError, match="scores.json: not valid JSON"):
        protocol.read_scores(tmp_path)


def test_learning_curve_round_trip_and_checks(tmp_path):
    record = {
        "task": "toy",
        "time_budget": 100.0,
        "t0": 60.0,
        "timestamps": [1.0, 2.0],
        "nauc": [0.1, 0.2],
        "accuracy": None,
        "alc": 0.1,
    }
    protocol.write_learning_curve(tmp_path, record)
    assert protocol.read_learning_curve(tmp_path) == record
    protocol.write_learning_curve(tmp_path, {**record, "nauc": [0.1]})
    with pytest.raises(protocol.ProtocolError, match="2 timestamps but 1 nauc"):
        protocol.read_learning_curve(tmp_path)
