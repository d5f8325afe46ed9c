"""The one exception family of the data layer: every message names the file and, where
there is one, the record index (0-based, counted across the file) and the field."""

from __future__ import annotations

import os


class DataError(ValueError):
    """Bad AutoDL data: ``path``, ``record`` (or None) and ``reason`` are kept as attributes."""

    def __init__(self, path: str | os.PathLike[str] | None, reason: str, record: int | None = None):
        self.path = None if path is None else os.fspath(path)
        self.record = record
        self.reason = reason
        where = self.path or "<data>"
        if record is not None:
            where += f": record {record}"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):  # survive pickling (errors raised in decoding processes)
        return (self.__class__, (self.path, self.reason, self.record))


class RecordError(DataError):
    """TFRecord framing: bad CRC, truncated record, garbage between records."""


class MetadataError(DataError):
    """``metadata.textproto`` missing, unparsable or inconsistent."""


class FeatureError(DataError):
    """A record that does not follow the AutoDL feature conventions of its metadata."""


class TaskError(DataError):
    """A folder that is not an AutoDL task, data folder or split folder."""
