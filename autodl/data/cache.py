"""The decoded cache: examples of one split, keyed by record index, shared by processes.

Every access path (iteration, ``ds[i]``, batch gathers, the adapters) looks here first
and stores what it had to decode. The arrays live in one shared memory file (a
``memfd``, or an unnamed temporary file where there is none), mapped by every process
that uses the dataset: DataLoader workers forked from the owner map the same pages, and
a process that unpickles the dataset reopens the file through ``/proc``. Nothing is
copied per process, and what a worker decodes serves the owner and the other workers.

Layout of the file::

    header    token (16 bytes, tells the right file from a reused descriptor number),
              bytes used, arena pointer, warned flag, full flag
    filled    uint8 [n]: how many times example i was stored (0: not cached)
    slot      int64 [n]: fixed shape: the row of example i; variable: its byte offset
    shapes    int32 [n, 4]: the shape of example i (variable shapes only)
    labels    float32 [n, output_dim]
    data      fixed shape: [rows, T, R, C, Ch] of the stored dtype; variable: a byte arena

Images are stored as their uint8 pixels (``pixels=True``) and served as the float32
``pixel * float32(1/255)`` the reader gives: a quarter of the bytes to write, keep and
gather, and the conversion happens once a batch, on the gathered copy. Dense data is
stored as float32.

Fixed-shape splits that fit under the limit store example ``i`` in row ``i``; otherwise
rows (or arena bytes) are handed out in the order examples are first decoded, under a
lock (``lockf`` on the file, which excludes other processes, plus a thread lock).

The limit (``cache_limit``, bytes of decoded examples and labels): by default
``$AUTODL_CACHE_LIMIT``, else the smaller of 4 GiB and a quarter of the memory of the
machine (or of its cgroup). Pages are only taken when written, so an unused cache costs
nothing. Policy past the limit: examples already cached stay cached and are served;
new ones are decoded on every access and not kept; a :class:`CacheLimitWarning` says
so once, with the figures.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import resource
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .features import pixels_to_float

__all__ = [
    "DEFAULT_CACHE_LIMIT",
    "CacheLimitWarning",
    "DecodedCache",
    "cache_limit",
    "parse_cache_limit",
]

DEFAULT_CACHE_LIMIT = 4 << 30
_ALIGN = 64
_HEADER = 64
_F32 = np.dtype(np.float32)


class CacheLimitWarning(UserWarning):
    """The decoded cache is full: later examples are decoded on every access."""


def parse_cache_limit(text: str | int | None) -> int | None:
    """Bytes from a cache limit as a person writes it: ``512M``, ``2G``, ``1e9``, ``0``
    (cache nothing); None or ``""``: not given. ValueError names what is wrong.

    >>> parse_cache_limit("512M"), parse_cache_limit("0"), parse_cache_limit(None)
    (536870912, 0, None)
    """
    from autodl.resources import parse_size

    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    try:
        size = parse_size(text)
    except ValueError:
        try:  # 1e9, as the environment variable was first read
            size = int(float(text))
        except ValueError:
            raise ValueError(
                f"cache limit {text!r}: expected a size such as 512M, 2G or 0 (cache nothing)"
            ) from None
        if size < 0:
            raise ValueError(f"cache limit {text!r}: a size cannot be negative") from None
    return size or 0


def cache_limit(value: int | None = None) -> int:
    """The cache bound in bytes: ``value``, else ``$AUTODL_CACHE_LIMIT`` (a size: ``2G``),
    else the default: the smaller of :data:`DEFAULT_CACHE_LIMIT` and a quarter of memory."""
    if value is not None:
        return max(0, int(value))
    try:
        env = parse_cache_limit(os.environ.get("AUTODL_CACHE_LIMIT"))
    except ValueError as e:
        raise ValueError(f"$AUTODL_CACHE_LIMIT: {e}") from None
    if env is not None:
        return env
    ram = _memory()
    return DEFAULT_CACHE_LIMIT if ram is None else min(DEFAULT_CACHE_LIMIT, ram // 4)


def _memory() -> int | None:
    """Physical memory, or the cgroup's or rlimits' when lower (containers, the sandbox)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = None
    for name in ("RLIMIT_AS", "RLIMIT_DATA"):
        soft = resource.getrlimit(getattr(resource, name))[0]
        if soft != resource.RLIM_INFINITY and (ram is None or soft < ram):
            ram = soft
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and (ram is None or int(text) < ram):
            ram = int(text)
        break
    return ram


def _aligned(size: int) -> int:
    return -(-size // _ALIGN) * _ALIGN


def _shared_file(size: int) -> int:
    """A file descriptor of ``size`` bytes of shared memory that no name points to."""
    if hasattr(os, "memfd_create"):
        try:
            fd = os.memfd_create("autodl-cache")
        except OSError:  # seccomp filters, old kernels
            fd = -1
        if fd >= 0:
            os.ftruncate(fd, size)
            return fd
    # an unlinked temporary file: the page cache holds it, nothing is left behind
    f = tempfile.TemporaryFile(prefix="autodl-cache-")
    fd = os.dup(f.fileno())
    f.close()
    os.ftruncate(fd, size)
    return fd


class DecodedCache:
    """Decoded ``(example, labels)`` pairs of ``n`` records, in shared memory.

    ``shape`` is the examples' common ``(T, R, C, Ch)``, or None when it varies.
    ``pixels``: examples are put as uint8 pixels and served as float32 (``/ 255``);
    otherwise they are float32. Arrays returned by :meth:`get`, :meth:`gather` and
    :meth:`block` are float32 copies: callers may change them.
    """

    def __init__(
        self,
        n: int,
        shape: tuple[int, ...] | None,
        output_dim: int,
        limit: int,
        pixels: bool = False,
    ):
        self.n = n
        self.shape = tuple(shape) if shape is not None else None
        self.output_dim = output_dim
        self.pixels = pixels
        self.dtype = np.dtype(np.uint8 if pixels else np.float32)
        self.limit = max(0, int(limit))
        while True:
            self._size_for(self.limit)
            try:
                self._create()
                return
            except OSError:  # an address-space limit (RLIMIT_AS) refuses so large a map
                if self.limit == 0:
                    raise
                self.limit = self.limit // 2 if self.limit > 1 << 20 else 0

    def _size_for(self, limit: int) -> None:
        label_bytes = self.output_dim * _F32.itemsize
        if self.shape is not None:
            self.item_bytes = int(np.prod(self.shape)) * self.dtype.itemsize + label_bytes
            self.rows = min(self.n, limit // self.item_bytes) if self.item_bytes else self.n
            self.direct = self.rows == self.n  # example i in row i: no allocation, no lock
            data = self.rows * (self.item_bytes - label_bytes)
        else:
            self.item_bytes = 0
            self.rows = 0
            self.direct = False
            data = limit
        self._layout(data)

    def _create(self) -> None:
        self._fd = _shared_file(self._size)
        self._pid = os.getpid()
        self.owner = self._pid  # the process that warns (see warn_if_full)
        try:
            self._open()
        except OSError:
            os.close(self._fd)
            raise
        self._header[:2] = np.frombuffer(os.urandom(16), np.int64)

    # ------------------------------------------------------------------ the file
    def _layout(self, data: int) -> None:
        n, dim = self.n, self.output_dim
        parts = [("filled", n), ("slot", 8 * n), ("labels", 4 * n * dim)]
        if self.shape is None:
            parts.append(("shapes", 16 * n))
        offsets, pos = {}, _HEADER
        for name, size in parts:
            offsets[name] = pos
            pos += _aligned(size)
        offsets["data"] = pos
        self._offsets = offsets
        self._data_bytes = data
        self._size = max(pos + data, 1)

    def _open(self) -> None:
        self._map = mmap.mmap(self._fd, self._size)
        buf, off, n = self._map, self._offsets, self.n
        self._header = np.frombuffer(buf, np.int64, 8, 0)
        self.filled = np.frombuffer(buf, np.uint8, n, off["filled"])
        self._slot = np.frombuffer(buf, np.int64, n, off["slot"])
        self._labels = np.frombuffer(buf, np.float32, n * self.output_dim, off["labels"]).reshape(
            n, self.output_dim
        )
        if self.shape is not None:
            size = self.rows * int(np.prod(self.shape))
            rows = np.frombuffer(buf, self.dtype, size, off["data"])
            self._rows = rows.reshape(self.rows, *self.shape)
            self._shapes = None
        else:
            self._shapes = np.frombuffer(buf, np.int32, 4 * n, off["shapes"]).reshape(n, 4)
            self._arena = np.frombuffer(buf, np.uint8, self._data_bytes, off["data"])
        self._thread_lock = threading.Lock()

    def close(self) -> None:
        """Unmap and close this process's view (other processes keep theirs)."""
        # numpy views hold exports of the map: drop them before closing it
        for name in ("_header", "filled", "_slot", "_labels", "_rows", "_shapes", "_arena"):
            self.__dict__.pop(name, None)
        buf = self.__dict__.pop("_map", None)
        if buf is not None:
            try:
                buf.close()
            except BufferError:  # a caller still holds a view; it is unmapped with it
                pass
        fd = self.__dict__.pop("_fd", -1)
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self) -> dict[str, Any]:
        # Another process maps the same file through the owner's descriptor; the token
        # proves it found the right file (not a reused number) or it starts its own.
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        del state["filled"]
        state.update(_offsets=self._offsets, _data_bytes=self._data_bytes, _size=self._size)
        state["_owner"] = (self._pid, self._fd, self._header[:2].tobytes())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        pid, fd, token = state.pop("_owner")
        self.__dict__.update(state)
        self._pid = os.getpid()
        try:
            self._fd = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDWR)
        except OSError:
            self._fd = -1
        if self._fd >= 0:
            try:
                if os.fstat(self._fd).st_size == self._size:
                    self._open()
                    if self._header[:2].tobytes() == token:
                        return
            except OSError:  # no room to map it here
                pass
            self.close()
        # the owner is gone or unreachable: a cache of this process's own
        self.__init__(  # type: ignore[misc]
            self.n, self.shape, self.output_dim, self.limit, self.pixels
        )

    # ------------------------------------------------------------------ reading
    @property
    def count(self) -> int:
        """Examples cached (by any process)."""
        return int(np.count_nonzero(self.filled))

    @property
    def fills(self) -> int:
        """Examples stored so far, by every process (a re-store of one counts again)."""
        return int(self.filled.sum(dtype=np.int64))

    @property
    def complete(self) -> bool:
        return self.count == self.n

    @property
    def nbytes(self) -> int:
        """Bytes of decoded examples and labels held."""
        if self.shape is not None:
            return self.count * self.item_bytes
        return int(self._header[2])

    def has(self, i: int) -> bool:
        return bool(self.filled[i])

    def missing(self, index: np.ndarray) -> np.ndarray:
        """The entries of ``index`` that are not cached."""
        return index[self.filled[index] == 0]

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray] | None:
        """A copy of example ``i`` and its labels, or None when it is not cached."""
        if not self.filled[i]:
            return None
        labels = self._labels[i].copy()
        if self.shape is not None:
            return self._served(self._rows[self._row(i)]), labels
        start = int(self._slot[i])
        shape = tuple(int(s) for s in self._shapes[i])
        count = int(np.prod(shape)) * self.dtype.itemsize
        raw = self._arena[start : start + count]
        return self._served(raw.view(self.dtype).reshape(shape)), labels

    def _served(self, stored: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """What the reader gives for ``stored`` (a copy, or written into ``out``)."""
        if self.pixels:
            return pixels_to_float(stored, out)
        if out is None:
            return stored.copy()
        out[...] = stored
        return out

    def _row(self, i: int) -> int:
        return i if self.direct else int(self._slot[i])

    def gather(
        self, index: np.ndarray, out: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fixed shapes: the cached examples at ``index`` stacked (one fancy-index copy),
        into ``out`` when given."""
        rows = index if self.direct else self._slot[index]
        if out is None:
            stored = self._rows[rows]  # a copy already: converted in place when pixels
            return (pixels_to_float(stored) if self.pixels else stored), self._labels[index]
        if self.pixels:
            pixels_to_float(self._rows[rows], out[0])
        else:
            # mode="clip": indices are checked already, and "raise" would buffer the copy
            np.take(self._rows, rows, axis=0, out=out[0], mode="clip")
        np.take(self._labels, index, axis=0, out=out[1], mode="clip")
        return out

    def block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Fixed shapes stored by index: examples ``start..stop-1`` as one copy, if all cached."""
        if not self.direct or not self.filled[start:stop].all():
            return None
        return self._served(self._rows[start:stop]), self._labels[start:stop].copy()

    # ------------------------------------------------------------------ writing
    def put(self, i: int, example: np.ndarray, labels: np.ndarray) -> bool:
        """Store a copy of example ``i`` (of :attr:`dtype`: uint8 pixels with ``pixels``);
        False when the limit leaves no room for it."""
        if example.dtype != self.dtype:  # a float image would be truncated, silently
            raise TypeError(f"the cache stores {self.dtype} examples, got {example.dtype}")
        if self.direct:
            if example.shape != self.shape:
                return False
            self._rows[i] = example
            self._labels[i] = labels
            self._mark(i)
            return True
        with self._locked():
            if self.filled[i]:
                return True
            if self.shape is not None:
                row = int(self._header[2]) // self.item_bytes
                if example.shape != self.shape or row >= self.rows:
                    return self._full()
                self._rows[row] = example
                self._header[2] += self.item_bytes
                self._slot[i] = row
            else:
                start = int(self._header[3])
                size = _aligned(example.nbytes)
                used = int(self._header[2]) + example.nbytes + labels.nbytes
                if start + size > self._data_bytes or used > self.limit or example.ndim != 4:
                    return self._full()
                flat = np.ascontiguousarray(example).reshape(-1)
                self._arena[start : start + flat.nbytes] = flat.view(np.uint8)
                self._header[3] = start + size
                self._header[2] = used
                self._slot[i] = start
                self._shapes[i] = example.shape
            self._labels[i] = labels
            self._mark(i)
            return True

    def _mark(self, i: int) -> None:
        # written last: a reader that sees the flag finds the example complete
        self.filled[i] = min(int(self.filled[i]) + 1, 255)

    def _locked(self) -> _Lock:
        if self._pid != os.getpid():  # a forked child: its copy of the thread lock may be held
            self._pid = os.getpid()
            self._thread_lock = threading.Lock()
        return _Lock(self._thread_lock, self._fd)

    @property
    def full(self) -> bool:
        """True once an example was refused for want of room (by any process)."""
        return bool(self._header[5])

    def _full(self) -> bool:
        self._header[5] = 1
        self.warn_if_full(stacklevel=5)
        return False

    def warn_if_full(self, stacklevel: int = 2) -> None:
        """The :class:`CacheLimitWarning`, once, and only in the process that made the
        cache: what DataLoader workers refuse is reported where the user sees it."""
        if not self._header[5] or self._header[4] or os.getpid() != self.owner:
            return
        self._header[4] = 1
        held = self.count
        warnings.warn(
            f"the decoded cache is full: {held} of {self.n} examples "
            f"({self.nbytes / 2**20:.1f} MiB) are kept under the limit of "
            f"{self.limit / 2**20:.1f} MiB (cache_limit=, $AUTODL_CACHE_LIMIT, "
            f"--cache-limit); they are still served from it, the other {self.n - held} "
            "are decoded on every access",
            CacheLimitWarning,
            stacklevel=stacklevel,
        )


class _Lock:
    """The thread lock, then ``lockf`` on the cache file: one writer across processes."""

    def __init__(self, thread_lock: threading.Lock, fd: int):
        self.thread_lock = thread_lock
        self.fd = fd

    def __enter__(self) -> None:
        self.thread_lock.acquire()
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX)
        except BaseException:
            self.thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()
