"""The worker's stdout and stderr: echoed up to a cap, the tail kept for the record."""

from __future__ import annotations

import collections
import os
import threading
from typing import BinaryIO

from autodl.ingestion.progress import Progress

WORKER_MARK = b"[worker] "
TAIL_BYTES = 8192  # the end of the output kept for ingestion.json (a crash's last words)


class OutputPump(threading.Thread):
    """Echoes the worker's stdout/stderr up to a cap, keeps its tail, drains the rest."""

    def __init__(self, fd: int, sink: BinaryIO, cap: int, progress: Progress) -> None:
        super().__init__(name="worker-output", daemon=True)
        self.fd, self.sink, self.cap, self.progress = fd, sink, cap, progress
        self.total = 0
        self.tail: collections.deque[bytes] = collections.deque()
        self._tail_size = 0
        self._line_start = True

    def _defang(self, data: bytes) -> bytes:
        """Mark every worker line that begins with "[": none can pass for a harness line
        such as "[ingestion] tiny: ok" (ours are written by this process, not echoed)."""
        out = data.replace(b"\n[", b"\n" + WORKER_MARK + b"[")
        if self._line_start and out.startswith(b"["):
            out = WORKER_MARK + out
        if data:
            self._line_start = data.endswith(b"\n")
        return out

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            room = self.cap - self.total
            self.total += len(chunk)
            if room > 0:
                with self.progress.paused():
                    try:
                        self.sink.write(self._defang(chunk[:room]))
                        if len(chunk) > room:
                            self.sink.write(
                                f"\n[ingestion] worker output over {self.cap} bytes: "
                                "the rest is dropped\n".encode()
                            )
                        self.sink.flush()
                    except (OSError, ValueError):
                        pass
            self.tail.append(chunk)
            self._tail_size += len(chunk)
            while self._tail_size - len(self.tail[0]) >= TAIL_BYTES:
                self._tail_size -= len(self.tail.popleft())
        os.close(self.fd)

    def tail_text(self) -> str:
        data = b"".join(self.tail)[-TAIL_BYTES:]
        return data.decode("utf-8", errors="replace").strip()
