"""Folders as zip bytes, to send them through Ray's object store between machines.

Submissions and datasets go to the nodes this way, and finished run folders come back.
Extraction (:mod:`autodl.archives`) refuses what could land outside the target (absolute
names, ``..``, ``\\``, links): a run folder comes from a node that ran untrusted code.

>>> import tempfile, pathlib
>>> src = pathlib.Path(tempfile.mkdtemp()); (src / "a").mkdir()
>>> _ = (src / "a/b.txt").write_text("x")
>>> dst = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> unpack(pack(src), dst); (dst / "a/b.txt").read_text()
'x'
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from autodl import archives

_POLICY = archives.Policy(keep_private=True)


class ShippingError(ValueError):
    """An archive that cannot be unpacked safely; the message names the member."""


def pack(folder: str | os.PathLike[str], *, exclude: Iterable[str] = ()) -> bytes:
    """The folder's regular files as zip bytes (stored, not compressed: fast, and data
    files compress little); top-level entries named in ``exclude`` are left out."""
    folder = Path(folder)
    skip = set(exclude)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for dirpath, dirnames, filenames in os.walk(folder):
            rel = Path(dirpath).relative_to(folder)
            if rel == Path("."):
                dirnames[:] = [d for d in dirnames if d not in skip]
                filenames = [f for f in filenames if f not in skip]
            dirnames.sort()
            for d in dirnames:  # empty folders (predictions/ before the first file) too
                zf.writestr(str(PurePosixPath(*rel.parts, d)) + "/", b"")
            for name in sorted(filenames):
                path = Path(dirpath) / name
                st = path.lstat()
                if not stat.S_ISREG(st.st_mode):
                    continue  # links and devices stay behind
                info = zipfile.ZipInfo.from_file(path, str(PurePosixPath(*rel.parts, name)))
                info.compress_type = zipfile.ZIP_STORED
                with open(path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
    return buf.getvalue()


def unpack(data: bytes, target: str | os.PathLike[str]) -> None:
    """Extract zip bytes made by :func:`pack` as ``target`` (absent, or an empty folder),
    by the rules of :mod:`autodl.archives`: nothing is left in place when it refuses."""
    target = Path(target)
    try:
        # Owner-only files (a task's solution) stay so on the other machine.
        archives.extract(data, target, _POLICY, name=f"zip bytes for {target}")
    except archives.ArchiveError as e:
        if e.reason is archives.Refusal.OUTSIDE:
            raise ShippingError(
                f"{e.archive}: member {e.member!r} would land outside {target}"
            ) from None
        raise ShippingError(str(e)) from None
