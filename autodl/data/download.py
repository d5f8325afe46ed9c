"""Downloading the public AutoDL datasets: resumable, checked, atomic, unpacked.

:func:`download_dataset` fetches a dataset's two zips (:mod:`autodl.data.public`) into
``DIR/.downloads/``, then unpacks them into the task folder ``DIR/<Name>/``
(``<name>.data/`` and ``<name>.solution``), the layout ``autodl run --dataset`` takes.

- **Resumable**: bytes go to ``<file>.part``; an interrupted transfer (a dropped
  connection here, or a killed process on the next call) continues with an HTTP
  ``Range`` request from the bytes already there. A server that ignores the range
  (status 200) is read again from the start.
- **Checked**: the bytes received must be the count the server announced, and the
  size and SHA-256 of the table when it knows them; every zip member's CRC-32 must
  match, and no member may land outside the task folder, be a link or be encrypted
  (:mod:`autodl.archives`); the unpacked folder must be an AutoDL task with its solution.
- **Atomic**: ``<file>.part`` is renamed to ``<file>`` only once checked, and the task
  folder is unpacked aside and renamed; on any mismatch the bad bytes are deleted and
  :class:`DownloadError` names the file and the URL: nothing that looks complete stays.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from autodl import archives
from autodl.data.public import FilePart, PublicDataset

CHUNK = 1 << 16
DOWNLOADS = ".downloads"
PART_SUFFIX = ".part"
# Progress(file name, bytes so far, total bytes or None)
Progress = Callable[[str, int, "int | None"], None]


class DownloadError(RuntimeError):
    """A download or an archive that cannot be trusted; the message names the file."""


def _no_progress(_name: str, _done: int, _total: int | None) -> None:
    pass


def _total_of(response, offset: int) -> int | None:
    """The file's full size from a response to a request starting at ``offset``."""
    if response.status == 206:
        match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            raise DownloadError(
                f"{response.url}: the server answered a range request with "
                f"{response.headers.get('Content-Range')!r}, not bytes from {offset}"
            )
        return None if match.group(3) == "*" else int(match.group(3))
    length = response.headers.get("Content-Length")
    return int(length) if length is not None and length.isdigit() else None


def _fetch_once(part: FilePart, tmp: Path, progress: Progress, timeout: float) -> int | None:
    """One request, appending to ``tmp`` from its current size; returns the total size
    the server announced. Raises OSError (urllib's) when the connection breaks."""
    offset = tmp.stat().st_size if tmp.exists() else 0
    request = urllib.request.Request(part.url, headers={"User-Agent": "autodl"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http/https)
    except urllib.error.HTTPError as e:
        if e.code == 416 and offset:  # nothing after offset: what is there may be all
            if part.size is not None and offset == part.size:
                return part.size
            tmp.unlink()
            raise OSError(f"range from {offset} refused (416); starting again") from None
        raise DownloadError(f"{part.url}: HTTP {e.code} {e.reason}") from None
    with response:
        if offset and response.status == 200:
            offset = 0  # the range was ignored: the whole file comes again
        total = _total_of(response, offset)
        with open(tmp, "r+b" if offset else "wb") as f:
            f.seek(offset)
            f.truncate()
            done = offset
            progress(part.file_name, done, total)
            while chunk := response.read(CHUNK):
                f.write(chunk)
                done += len(chunk)
                progress(part.file_name, done, total)
    return total


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Datasets run to gigabytes in a few members: no byte or count limit, but every member's
# CRC-32 is read before a download is kept.
_POLICY = archives.Policy(verify_crc=True)


def _check_zip(path: Path, where: str) -> None:
    """The archive rules of :mod:`autodl.archives` (paths, links, encryption) and every
    member's CRC-32, before the file is kept."""
    try:
        archives.check(path, _POLICY, name=where)
    except archives.ArchiveError as e:
        raise DownloadError(str(e)) from None


def fetch(
    part: FilePart,
    folder: str | os.PathLike[str],
    *,
    progress: Progress = _no_progress,
    retries: int = 5,
    timeout: float = 60.0,
) -> Path:
    """Download ``part`` into ``folder`` (resuming ``<file>.part``), check it and return
    the complete file. Raises :class:`DownloadError` when it cannot be trusted."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / part.file_name
    if final.exists():
        return final  # renamed only once checked
    tmp = folder / (part.file_name + PART_SUFFIX)
    where = f"{part.file_name} from {part.url}"
    total: int | None = None
    for attempt in range(retries + 1):
        try:
            total = _fetch_once(part, tmp, progress, timeout)
        except (OSError, http.client.HTTPException) as e:  # a broken connection: resume
            if attempt == retries:
                raise DownloadError(
                    f"{where}: gave up after {retries + 1} attempts ({e}); run again to resume "
                    f"from the {tmp.stat().st_size if tmp.exists() else 0} bytes kept in {tmp}"
                ) from None
            time.sleep(min(0.2 * 2**attempt, 5.0))
            continue
        if total is None or tmp.stat().st_size >= total:
            break
        # The server closed early without an error: ask for the rest.
    received = tmp.stat().st_size
    if total is not None and received < total:
        raise DownloadError(
            f"{where}: {received} of {total} bytes after {retries + 1} attempts; run again "
            f"to resume from {tmp}"
        )
    try:
        if total is not None and received != total:
            raise DownloadError(f"{where}: {received} bytes received, the server announced {total}")
        if part.size is not None and received != part.size:
            raise DownloadError(f"{where}: {received} bytes, the table says {part.size}")
        if part.sha256 is not None and _sha256(tmp) != part.sha256:
            raise DownloadError(f"{where}: SHA-256 mismatch (expected {part.sha256})")
        _check_zip(tmp, where)
    except DownloadError:
        tmp.unlink(missing_ok=True)  # bad bytes are not worth resuming
        raise
    os.replace(tmp, final)
    return final


def download_dataset(
    dataset: PublicDataset,
    out_dir: str | os.PathLike[str],
    *,
    progress: Progress = _no_progress,
    retries: int = 5,
    timeout: float = 60.0,
) -> Path:
    """Download and unpack ``dataset`` into ``out_dir/<Name>/``; returns that task folder.

    A task folder already there is kept as it is. The zips stay in
    ``out_dir/.downloads/`` (delete them to save space).
    """
    from autodl.data import find_task

    out_dir = Path(out_dir)
    dest = out_dir / dataset.name
    if dest.exists():
        return dest
    cache = out_dir / DOWNLOADS
    zips = [
        fetch(p, cache, progress=progress, retries=retries, timeout=timeout) for p in dataset.parts
    ]
    tmp = Path(tempfile.mkdtemp(prefix=f".{dataset.name}.", suffix=".tmp", dir=out_dir))
    try:
        for z in zips:
            try:  # the same rules as fetch's check; CRCs are tested again as members inflate
                archives.extract_into(z, tmp, _POLICY)
            except archives.ArchiveError as e:
                raise DownloadError(str(e)) from None
        root = tmp
        inner = [p for p in tmp.iterdir() if p.is_dir()]
        if not list(tmp.glob("*.data")) and len(inner) == 1:
            root = inner[0]  # the archives' own top folder
        try:
            task = find_task(root)
        except Exception as e:  # the data layer's message names the file
            raise DownloadError(f"{dataset.name}: the archives hold no AutoDL task: {e}") from None
        if task.solution_path is None:
            raise DownloadError(f"{dataset.name}: {dataset.solution.file_name} held no .solution")
        os.chmod(root, 0o755)
        os.replace(root, dest)
        shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest
