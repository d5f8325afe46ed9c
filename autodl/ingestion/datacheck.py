"""Is the dataset itself defective? Asked by the supervisor, never believed from the worker.

When the model fails on a data error (a truncated or corrupt record, a metadata count
or shape that lies), the worker's word cannot decide whose fault it is: the submission
could raise the same exception itself. The supervisor then reads every example of both
splits with its own code, on the host's copy; only a defect it finds itself makes the
run ``bad_dataset``, with the file and record named.
"""

from __future__ import annotations

from pathlib import Path

# The exception names the data layer raises (autodl.data.errors) as the worker reports
# them: "<Name> in <stage>: ...".
DATA_ERRORS = ("DataError", "RecordError", "MetadataError", "FeatureError", "TaskError")


def blames_the_data(message: str) -> bool:
    return message.split(" ", 1)[0] in DATA_ERRORS


def find_defect(splits: list[Path]) -> str | None:
    """The first defect found reading every example of ``splits``, or None."""
    from autodl.data import DataError, load

    for split in splits:
        try:
            ds = load(split)
            for i in range(len(ds)):
                ds[i]
        except DataError as e:
            return str(e)
    return None
