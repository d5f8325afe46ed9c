"""Every status a run, an ingestion or a scoring can end with: one enum, one table.

A status is what a program records (``ingestion.json``, ``scores.json``, ``result.json``)
and what decides its exit code. :attr:`Status.success` is the success set: the
statuses after which ``end.txt`` says ``ingestion_success: 1`` and a run ranks as done
(``timeout`` is a submission that used its whole budget, as any-time learning expects).

>>> Status("timeout").success, Status.TIMEOUT.exit_code
(True, 0)
>>> Status.BAD_INPUT.exit_code, str(Status.BAD_INPUT)
(4, 'bad_input')
>>> sorted(s.value for s in Status if s.success)
['ok', 'prediction_limit', 'running', 'timeout']
"""

from __future__ import annotations

import enum

#: Exit code of a usage error (argparse's): no status, nothing was run.
USAGE_EXIT_CODE = 2


class Status(str, enum.Enum):
    """A recorded status, with its exit code, whether it counts as success, who sets it
    (``ingestion``, ``scoring`` or ``run``: the challenge runner) and what it means."""

    # value, exit code, success, set by, meaning
    OK = ("ok", 0, True, "any", "finished normally: every prediction made and valid")
    RUNNING = ("running", 0, True, "scoring", "live scoring, ingestion not ended yet")
    TIMEOUT = (
        "timeout",
        0,
        True,
        "ingestion",
        "the time budget ran out while the model was still learning (its predictions count)",
    )
    ERROR = (
        "error",
        1,
        False,
        "any",
        "an exception: in ingestion the submission's (traceback recorded), in scoring the "
        "scorer's own, in a run the harness could not start or finish it",
    )
    BAD_SOLUTION = (
        "bad_solution",
        3,
        False,
        "scoring",
        "zero or several *.solution files, an unreadable solution, or no label column with "
        "both classes: nothing can be scored",
    )
    BAD_INPUT = (
        "bad_input",
        4,
        False,
        "scoring",
        "a bad prediction file, a missing or malformed start.txt, missing or out-of-order "
        "timestamps, or no prediction at all",
    )
    INGESTION_FAILED = (
        "ingestion_failed",
        5,
        False,
        "scoring",
        "end.txt says ingestion_success: 0 (the predictions made are still scored)",
    )
    TIME_LIMIT_EXCEEDED = (
        "time_limit_exceeded",
        6,
        False,
        "scoring",
        "live scoring: the budget passed without end.txt; ingestion was ended",
    )
    BAD_PREDICTION = (
        "bad_prediction",
        7,
        False,
        "ingestion",
        "a prediction of the wrong shape or type, or with NaN or infinite values",
    )
    CRASHED = (
        "crashed",
        8,
        False,
        "ingestion",
        "the submission's process died (a signal such as SIGSEGV, or it exited)",
    )
    OUT_OF_MEMORY = (
        "out_of_memory",
        9,
        False,
        "ingestion",
        "the memory limit stopped the submission",
    )
    KILLED = (
        "killed",
        10,
        False,
        "ingestion",
        "ingestion was stopped from outside (SIGTERM, SIGINT, a container stop), or the "
        "submission was killed by a signal no limit of ours explains (the signal is named)",
    )
    CONSTRUCTION_TIMEOUT = (
        "construction_timeout",
        11,
        False,
        "ingestion",
        "Model(metadata) took longer than the construction budget",
    )
    BAD_DATASET = (
        "bad_dataset",
        13,
        False,
        "ingestion",
        "the dataset is defective (a truncated or corrupt record, a metadata count or shape "
        "that lies): the error names the file and record; not the submission's fault",
    )
    PREDICTION_LIMIT = (
        "prediction_limit",
        0,
        True,
        "ingestion",
        "the run reached its cap on predictions (--max_predictions); the predictions made "
        "count, as after a timeout",
    )
    SCORING_ERROR = (
        "scoring_error",
        12,
        False,
        "run",
        "ingestion went well but scoring wrote no scores",
    )

    exit_code: int
    success: bool
    stage: str
    meaning: str

    def __new__(cls, value: str, exit_code: int, success: bool, stage: str, meaning: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.exit_code = exit_code
        obj.success = success
        obj.stage = stage
        obj.meaning = meaning
        return obj

    def __str__(self) -> str:
        return self.value

    __format__ = str.__format__

    @classmethod
    def parse(cls, value: object, default: Status | None = None) -> Status:
        """The status named by a recorded value; ``default`` (or ERROR) for an unknown one."""
        try:
            return cls(str(value))
        except ValueError:
            return default if default is not None else cls.ERROR


#: Ingestion's statuses after which ``end.txt`` says ``ingestion_success: 1``.
SUCCESS = frozenset(s for s in Status if s.success)


def status_table() -> str:
    """The statuses as a Markdown table (docs/statuses.md is this table)."""
    rows = ["| status | exit | set by | success | meaning |", "| --- | --- | --- | --- | --- |"]
    for s in Status:
        rows.append(
            f"| `{s.value}` | {s.exit_code} | {s.stage} | {'yes' if s.success else 'no'} "
            f"| {s.meaning} |"
        )
    return "\n".join(rows) + "\n"
