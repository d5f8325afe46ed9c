"""Echoing a growing log file live: ingestion's log, with the model's own prints, on the
terminal of `autodl run --show-output` (the file keeps everything either way)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

POLL = 0.2  # seconds between reads of a log that has not grown


class LogFollower(threading.Thread):
    """Hands each complete line appended to ``path`` to ``emit`` until :meth:`close`
    (a live display's ``message``, which keeps the lines above its table)."""

    def __init__(self, path: str | os.PathLike[str], emit: Callable[[str], None]) -> None:
        super().__init__(name="log-follower", daemon=True)
        self.path, self.emit = Path(path), emit
        self._closing = threading.Event()
        self._pos = 0
        self._partial = b""

    def _emit(self, data: bytes, final: bool = False) -> None:
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = b"" if final else lines.pop()
        for line in lines:
            if line or not final:
                self.emit(line.decode("utf-8", errors="replace").rstrip("\r"))

    def _read(self) -> bytes:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except OSError:
            return b""
        self._pos += len(data)
        return data

    def run(self) -> None:
        while not self._closing.wait(POLL):
            data = self._read()
            if data:
                self._emit(data)
        self._emit(self._read(), final=True)

    def close(self) -> None:
        """Stop after echoing what the log holds by now (no-op when never started)."""
        if self.is_alive():
            self._closing.set()
            self.join(timeout=5)
