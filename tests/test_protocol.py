"""The protocol files against the 2019 writers' exact bytes and a hand-written start.txt."""

from __future__ import annotations

import numpy as np
import pytest

from autodl import protocol

EDGES = [
    0.0,
    -0.0,
    1.0,
    100000.0,
    999999.5,
    1e6,
    1e-4,
    1e-5,
    0.1 + 0.2,
    123456.5,
    1e300,
    5e-324,
    float("nan"),
    float("inf"),
    float("-inf"),
]


def reference_writer(values: np.ndarray) -> bytes:
    """The 2019 ingestion's writer (data_io.write): '{0:g}' values joined by single spaces,
    then a newline, per row; a row that is not a list or array is one value on its line."""
    lines = []
    for row in values:
        if not isinstance(row, (np.ndarray, list)):
            row = [row]
        lines.append(" ".join("{0:g}".format(float(v)) for v in row) + "\n")  # noqa: UP030, UP032
    return "".join(lines).encode()


def test_prediction_bytes_equal_the_reference_writer(tmp_path):
    rng = np.random.default_rng(0)
    for values in (rng.random((300, 7)), np.round(rng.random((50, 3)), 1), np.array([EDGES])):
        assert protocol.format_prediction(values) == reference_writer(values)
    # No trailing space: a line is exactly the values and the separators between them.
    assert protocol.format_prediction(np.array([[0.25, 1.0], [0.0, -0.5]])) == b"0.25 1\n0 -0.5\n"
    column = rng.random(20)  # 1-D: one value per line, as the reference writes it
    assert protocol.format_prediction(column) == reference_writer(column)
    big = rng.random((2000, 600))  # more than one block of rows
    path = protocol.write_prediction(tmp_path, "task", 3, big)
    assert path.name == "task.predict_3" and path.read_bytes() == reference_writer(big)
    assert path.stat().st_mode & 0o777 == 0o644
    np.testing.assert_allclose(protocol.read_matrix(path), big, rtol=1e-5)
    assert [(t, k) for t, k, _ in protocol.list_predictions(tmp_path)] == [("task", 3)]


def test_start_and_end_files_read_back(tmp_path):
    (tmp_path / "start.txt").write_text(  # as the 2019 ingestion wrote it
        "ingestion_pid: 1234\ntask_name: miniciao\ntime_budget: 1200\n"
        "start_time: 1557923830.3012087\n0: 1557923840.5\n1: 1557923850.25\n"
    )
    start = protocol.read_start(tmp_path)
    assert (start.ingestion_pid, start.task_name, start.time_budget) == (1234, "miniciao", 1200)
    assert start.start_time == 1557923830.3012087
    assert start.timestamps == {0: 1557923840.5, 1: 1557923850.25}
    protocol.write_start(tmp_path, ingestion_pid=7, task_name="t", time_budget=60, start_time=1.5)
    protocol.append_prediction_time(tmp_path, 0, 2.25)
    assert (tmp_path / "start.txt").read_text() == (
        "ingestion_pid: 7\ntask_name: t\ntime_budget: 60\nstart_time: 1.5\n0: 2.25\n"
    )
    # The budget as given: never '%g'-rounded (1.23457e+06) nor with a float's '.0'.
    for budget, text in ((1234567.0, "1234567"), (7.25, "7.25"), (1200, "1200")):
        protocol.write_start(
            tmp_path, ingestion_pid=7, task_name="t", time_budget=budget, start_time=1.5
        )
        assert protocol.read_start(tmp_path).time_budget == budget
        assert f"\ntime_budget: {text}\n" in (tmp_path / "start.txt").read_text()
    assert protocol.read_end(tmp_path) is None
    protocol.write_end(tmp_path, ingestion_duration=3.0, ingestion_success=True, end_time=4.5)
    assert protocol.read_end(tmp_path) == protocol.EndInfo(3.0, 1, 4.5)


def test_bad_files_name_the_file_and_line(tmp_path):
    bad = tmp_path / "t.predict_0"
    bad.write_text("0.1 0.2\n\n0.3 x\n")
    with pytest.raises(protocol.ProtocolError, match=r"t\.predict_0: line 3: 'x'"):
        protocol.read_matrix(bad)
    bad.write_text("0.1 0.2\n0.3\n")
    with pytest.raises(protocol.ProtocolError, match="line 2 has 1 values, line 1 has 2"):
        protocol.read_matrix(bad)
    (tmp_path / "start.txt").write_text("task_name: t\n")
    with pytest.raises(protocol.ProtocolError, match="start.txt: missing field 'time_budget'"):
        protocol.read_start(tmp_path)
    with pytest.raises(protocol.ProtocolError, match="expected exactly one"):
        protocol.find_solution(tmp_path)
