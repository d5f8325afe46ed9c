"""The supervisor's side of the message pipes: every send and receive has a deadline,
and every way the worker fails to answer ends the run with a status.

The wire format is :mod:`.messages`; this module decides what a stalled pipe, a closed
pipe, a broken message or an ``error`` from the worker means for the run
(:class:`~.outcome.RunEnd`). A :class:`MessageTimeout` while receiving is the caller's to
name (construction budget or time budget), and so is a :class:`PayloadTooLarge`.
"""

from __future__ import annotations

import subprocess
from typing import Any

from autodl.ingestion import datacheck
from autodl.ingestion.child import Child
from autodl.ingestion.exits import explain
from autodl.ingestion.messages import (
    ChannelClosed,
    MessageTimeout,
    PayloadTooLarge,
    ProtocolViolation,
    send,
)
from autodl.ingestion.outcome import RunEnd
from autodl.protocol import Status


class Channel:
    """Talks to ``child``; ``task`` is read to check a data error the worker reports."""

    def __init__(self, child: Child, task: Any, memory_limit: int | None) -> None:
        self.child, self.task, self.memory_limit = child, task, memory_limit

    def send(self, header: dict[str, Any], deadline: float, stage: str, clocked: bool) -> None:
        """Send ``header``; ``clocked``: the time budget runs (else the construction's)."""
        try:
            send(self.child.to_worker, header, deadline=deadline)
        except MessageTimeout:
            raise RunEnd(
                Status.TIMEOUT if clocked else Status.CONSTRUCTION_TIMEOUT,
                f"the worker stopped reading its messages during {stage}: the budget ran "
                "out while the supervisor waited to send",
            ) from None
        except (BrokenPipeError, OSError):
            raise self._gone(stage) from None

    def receive(
        self, deadline: float, max_payload: int, stage: str, loaded: bool
    ) -> tuple[dict, bytes]:
        """The next message; ``loaded``: the worker said it loaded the data (from then on
        participant code may run, so its word about the dataset is no longer taken)."""
        try:
            header, payload = self.child.reader.receive(deadline, max_payload)
        except (MessageTimeout, PayloadTooLarge):
            raise
        except ChannelClosed:
            raise self._gone(stage) from None
        except ProtocolViolation as e:
            raise RunEnd(
                Status.ERROR, f"the worker broke the message protocol during {stage}: {e}"
            ) from None
        if header["op"] == "error":
            raise self._worker_error(header, loaded)
        return header, payload

    def _worker_error(self, header: dict[str, Any], loaded: bool) -> RunEnd:
        """What an ``error`` message means; a data error is checked by us, not believed."""
        kind = header.get("kind")
        message = header.get("message")
        message = message[:2000] if isinstance(message, str) and message else "the model failed"
        tb = header.get("traceback")
        tb = tb if isinstance(tb, str) else None
        status = Status.OUT_OF_MEMORY if kind == Status.OUT_OF_MEMORY else Status.ERROR
        if kind == "bad_dataset" and not loaded:
            # Only before "loaded": model.py was not imported yet, nothing could forge it.
            status, message = Status.BAD_DATASET, f"the dataset is defective: {message}"
        elif status is Status.ERROR and datacheck.blames_the_data(message):
            defect = datacheck.find_defect([self.task.train_dir, self.task.test_dir])
            if defect is not None:
                status = Status.BAD_DATASET
                message = f"the dataset is defective: {defect} (the model saw: {message})"
        return RunEnd(status, message, tb)

    def _gone(self, stage: str) -> RunEnd:
        """The worker exited or closed its pipe without an answer: say how it ended."""
        child = self.child
        try:
            rc = child.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return RunEnd(Status.ERROR, f"the worker closed its message pipe during {stage}")
        if child.pump is not None:
            child.pump.join(timeout=0.5)  # let the last words (a faulthandler dump) arrive
        tail = child.pump.tail_text() if child.pump else None
        box = child.box
        status, message = explain(
            rc,
            stage,
            bwrap=box is not None and box.record.get("kind") == "bwrap",
            oom_kills=box.cgroup.oom_kills() if box and box.cgroup else 0,
            memory_limit=self.memory_limit,
        )
        return RunEnd(status, message, tail or None)
