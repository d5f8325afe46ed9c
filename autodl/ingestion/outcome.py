"""How a run ends early: :class:`RunEnd` carries its status and why to the record.

Raised anywhere while a run goes on (preparing the worker, the message exchange, the
round loop); :func:`autodl.ingestion.supervisor.ingest` catches it, records it, and writes
the end files all the same.
"""

from __future__ import annotations


class RunEnd(Exception):
    """Ends a run with ``status``; ``traceback`` is the worker's (or its last output)."""

    def __init__(self, status: str, error: str | None, traceback: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.traceback = status, error, traceback
