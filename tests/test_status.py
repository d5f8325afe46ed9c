"""The statuses: one enum, one documented table, exit codes that tell failures apart."""

from __future__ import annotations

import json
from pathlib import Path

from autodl.protocol import SUCCESS, IngestionRecord, RunResult, Status, status

DOCS = Path(__file__).resolve().parents[1] / "docs" / "statuses.md"


def test_docs_table_is_the_enum():
    assert status.status_table() in DOCS.read_text(encoding="utf-8"), (
        "docs/statuses.md is out of date: regenerate its table with status_table()"
    )


def test_failures_have_distinct_nonzero_exit_codes():
    failures = [s for s in Status if not s.success]
    codes = [s.exit_code for s in failures]
    assert len(set(codes)) == len(codes)
    assert all(c not in (0, status.USAGE_EXIT_CODE) for c in codes)
    assert all(s.exit_code == 0 for s in SUCCESS)


def test_records_round_trip_through_json_with_plain_strings():
    rec = IngestionRecord(status="timeout", num_predictions=2)
    data = json.loads(json.dumps(rec.to_dict()))
    assert data["status"] == "timeout" and IngestionRecord.from_dict(data).status is Status.TIMEOUT
    run = RunResult(submission="s", dataset="d", status="crashed")
    assert RunResult.from_dict(json.loads(json.dumps(run.to_dict()))).status is Status.CRASHED


def test_unknown_recorded_status_reads_as_error():
    assert Status.parse("no such status") is Status.ERROR
