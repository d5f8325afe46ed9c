"""The host's record of a container that ended without one (no engine needed)."""

from __future__ import annotations

import time

from autodl.docker.containers import _record_host_status
from autodl.protocol import (
    IngestionRecord,
    Status,
    read_end,
    read_ingestion_record,
    write_ingestion_record,
    write_prediction,
)


def record(out, **kwargs) -> bool:
    now = time.time()
    args = dict(
        task_name="blobs",
        time_budget=60.0,
        start_time=now - 5,
        end_time=now,
        oom=False,
        timed_out=False,
        exit_code=137,
        wall=180.0,
        memory=700 << 20,
    )
    return _record_host_status(out, **{**args, **kwargs})


def test_no_record_inside_is_recorded_by_the_host(tmp_path):
    import numpy as np

    write_prediction(tmp_path, "blobs", 0, np.zeros((2, 3)))
    assert record(tmp_path, timed_out=True) is True
    rec = read_ingestion_record(tmp_path)
    assert rec.status is Status.KILLED and "180 s" in rec.error
    assert (rec.task_name, rec.num_predictions) == ("blobs", 1)
    assert rec.ingestion_duration > 4 and "recorded by the host" in rec.warnings[0]
    assert read_end(tmp_path).ingestion_success == 0

    out = tmp_path / "oom"
    out.mkdir()
    assert record(out, oom=True) is True
    rec = read_ingestion_record(out)
    assert rec.status is Status.OUT_OF_MEMORY and f"{700 << 20} bytes" in rec.error

    out = tmp_path / "crash"
    out.mkdir()
    assert record(out) is True
    assert read_ingestion_record(out).status is Status.CRASHED


def test_the_supervisors_record_stands(tmp_path):
    write_ingestion_record(tmp_path, IngestionRecord(status=Status.TIMEOUT, num_predictions=3))
    assert record(tmp_path, oom=True) is False
    assert read_ingestion_record(tmp_path).status is Status.TIMEOUT
    assert read_end(tmp_path) is None  # the supervisor's to write

    # ... except that a death the memory limit caused is named for it.
    write_ingestion_record(tmp_path, IngestionRecord(status=Status.CRASHED, task_name="blobs"))
    assert record(tmp_path, oom=True) is False
    rec = read_ingestion_record(tmp_path)
    assert rec.status is Status.OUT_OF_MEMORY and rec.task_name == "blobs"
    assert "memory limit" in rec.error


def test_a_half_written_record_is_replaced(tmp_path):
    from autodl.protocol import INGESTION_FILE

    (tmp_path / INGESTION_FILE).write_text('{"status": "o')
    assert record(tmp_path) is True
    assert read_ingestion_record(tmp_path).status is Status.CRASHED
