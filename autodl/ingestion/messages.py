"""The small message protocol between the ingestion supervisor and its worker.

A message is a frame on a pipe: a 4-byte big-endian header length, a JSON header (a
dict with an ``op`` key), then ``header["nbytes"]`` raw payload bytes (0 when absent).
Predictions travel as the raw bytes of a C-contiguous float array, with ``shape`` and
``dtype`` in the header. JSON and raw bytes only: the supervisor never unpickles
anything that came from the worker, whose process runs untrusted code.

Both sides import this module; it imports nothing but the standard library, so the
worker never loads supervisor code and the supervisor never loads the participant's.

Ops, supervisor -> worker: ``init`` (paths), ``round`` (train then test, with the
``deadline`` on the shared ``time.monotonic`` clock), ``exit``.
Ops, worker -> supervisor: ``device`` (what the model got), ``loaded`` (the data is
loaded; model.py is imported after it), ``ready`` (api,
done_training), ``trained`` (train returned; the worker goes on to test without
waiting), then one of ``prediction`` (+ payload, done_training), ``none`` (test returned
None), ``bad_prediction`` (not even numbers), and at any time ``error`` (stage, kind,
message, traceback).
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

_LEN = struct.Struct(">I")
# A header is a small dict; a traceback is truncated by the worker well below this.
MAX_HEADER_BYTES = 1 << 20
# Truncation of text fields (messages, tracebacks) sent by the worker.
MAX_TEXT = 16_000


class ProtocolViolation(RuntimeError):
    """The other side sent something that is not a well-formed message."""


class ChannelClosed(EOFError):
    """The other side closed its end of the pipe (it exited or crashed)."""


class MessageTimeout(TimeoutError):
    """No complete message arrived before the deadline."""


class PayloadTooLarge(ProtocolViolation):
    """A header announced more payload than allowed; ``header`` is what it said."""

    def __init__(self, header: dict[str, Any], limit: int) -> None:
        super().__init__(f"payload of {header.get('nbytes')} bytes announced, at most {limit}")
        self.header = header


def truncate(text: str | None, limit: int = MAX_TEXT) -> str | None:
    """Keep the end of a long text (the end of a traceback is the useful part)."""
    if text is None or len(text) <= limit:
        return text
    return "...[truncated]...\n" + text[-limit:]


def encode(header: dict[str, Any], payload: bytes | memoryview | None = None) -> list:
    """The byte chunks of one frame (header length, JSON header, payload)."""
    size = 0 if payload is None else memoryview(payload).nbytes
    header = dict(header, nbytes=size)
    raw = json.dumps(header, allow_nan=False, separators=(",", ":")).encode("utf-8")
    chunks: list = [_LEN.pack(len(raw)) + raw]
    if size:
        chunks.append(memoryview(payload).cast("B"))
    return chunks


def send(
    fd: int,
    header: dict[str, Any],
    payload: bytes | memoryview | None = None,
    deadline: float | None = None,
) -> None:
    """Write one frame; with a ``deadline`` (monotonic clock) never block past it.

    The supervisor passes a deadline: a worker that stops reading (and shrinks its pipe
    to one page) must not freeze the process that keeps the clock. The descriptor is
    made non-blocking for that, and :class:`MessageTimeout` raised when it stays full.
    """
    if deadline is not None and os.get_blocking(fd):
        os.set_blocking(fd, False)
    for chunk in encode(header, payload):
        view = memoryview(chunk)
        while view.nbytes:
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                n = 0
            view = view[n:]
            if view.nbytes and deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0:
                    raise MessageTimeout("the other side stopped reading")
                _, ready, _ = select.select([], [fd], [], timeout)
                if not ready:
                    raise MessageTimeout("the other side stopped reading")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode_header(raw: bytes) -> dict[str, Any]:
    """A header's JSON, or :class:`ProtocolViolation`: never anything else, whatever ``raw``.

    Deep nesting (RecursionError), invalid UTF-8, NaN/Infinity, integers past Python's
    digit limit, non-object headers: all are the sender's fault, said in one line.
    """
    try:
        header = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as e:
        raise ProtocolViolation(f"message header is not UTF-8: {e}") from None
    except RecursionError:
        raise ProtocolViolation("message header is nested too deeply") from None
    except (ValueError, TypeError) as e:
        raise ProtocolViolation(f"message header is not JSON: {str(e)[:200]}") from None
    if not isinstance(header, dict) or not isinstance(header.get("op"), str):
        raise ProtocolViolation("message header is not an object with an 'op'")
    nbytes = header.get("nbytes", 0)
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        raise ProtocolViolation(f"bad payload size {str(nbytes)[:50]!r}")
    return header


class Reader:
    """Reads frames from a file descriptor, with a deadline on the monotonic clock.

    ``max_payload`` bounds what the other side may make us allocate: a header announcing
    more is a :class:`ProtocolViolation` raised before any payload byte is read.
    """

    def __init__(self, fd: int, watch: int | None = None) -> None:
        self.fd = fd
        # ``watch``: a descriptor that becomes readable when the other side is gone (a
        # pidfd): its children may keep the pipe open, so EOF alone cannot tell.
        self.watch = watch
        self._buf = bytearray()

    def _fill(self, n: int, deadline: float | None) -> None:
        fds = [self.fd] if self.watch is None else [self.fd, self.watch]
        while len(self._buf) < n:
            if deadline is not None or self.watch is not None:
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    raise MessageTimeout()
                ready, _, _ = select.select(fds, [], [], timeout)
                if not ready:
                    raise MessageTimeout()
                if self.fd not in ready:
                    raise ChannelClosed("the other side exited")
            chunk = os.read(self.fd, max(n - len(self._buf), 1 << 16))
            if not chunk:
                raise ChannelClosed()
            self._buf += chunk

    def _take(self, n: int) -> bytes:
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def receive(
        self, deadline: float | None = None, max_payload: int = MAX_HEADER_BYTES
    ) -> tuple[dict[str, Any], bytes]:
        """The next ``(header, payload)``; raises on timeout, EOF or a malformed frame.

        On timeout the bytes already read are kept, so a later call resumes the frame.
        """
        self._fill(_LEN.size, deadline)
        (hlen,) = _LEN.unpack(self._buf[: _LEN.size])
        if hlen > MAX_HEADER_BYTES:
            raise ProtocolViolation(f"message header of {hlen} bytes (limit {MAX_HEADER_BYTES})")
        self._fill(_LEN.size + hlen, deadline)
        header = decode_header(bytes(self._buf[_LEN.size : _LEN.size + hlen]))
        nbytes = header.get("nbytes", 0)
        if nbytes > max_payload:
            raise PayloadTooLarge(header, max_payload)
        self._fill(_LEN.size + hlen + nbytes, deadline)
        self._take(_LEN.size + hlen)
        return header, self._take(nbytes)
