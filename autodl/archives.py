"""Safe zip extraction: the one member-path check and the one extraction routine.

Every zip the package unpacks (a submission, a run folder shipped back from a cluster
node, a downloaded dataset, a Codabench bundle entry) goes through here, so one set of
rules holds everywhere and fails closed. A member is refused, before anything is
written, when its name could land outside the destination (absolute, a drive letter,
``..``, a ``\\`` separator, which zipfile writes literally on POSIX but Windows reads as
a folder), when it is a link or a device, when it is encrypted, or when its name appears
twice or is both a file and a folder. Each caller adds only its own limits
(:class:`Policy`): a member count, and a byte limit checked against the headers and
again against the bytes actually inflated. Written files get mode 0o755 when any
executable bit was set, else 0o644 (owner-only kept on request); folders 0o755 (never
setuid, never group-writable).

Every refusal is an :class:`ArchiveError` naming the archive and the member.

>>> import io, tempfile, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("ok/a.txt", "x")
...     zf.writestr("../evil", "boom")
>>> dest = Path(tempfile.mkdtemp()) / "out"
>>> extract(buf.getvalue(), dest, name="demo.zip")
Traceback (most recent call last):
...
autodl.archives.ArchiveError: demo.zip: member '../evil' points outside the destination folder
>>> dest.exists()
False
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

_CHUNK = 1 << 20
# General-purpose flag bits 0 (traditional encryption) and 6 (strong encryption).
_ENCRYPTED = 0x1 | 0x40
_DRIVE = re.compile(r"^[A-Za-z]:")
# What a corrupt member raises while it is read (a bad CRC, a broken deflate stream, a
# header that disagrees with the directory, a compression method zipfile lacks).
_CORRUPT = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)

Source = str | os.PathLike[str] | bytes


class Refusal(str, Enum):
    """Why a member or an archive was refused (for callers that phrase it their way)."""

    OUTSIDE = "outside"  # absolute, drive letter or '..'
    BACKSLASH = "backslash"
    LINK = "link"
    SPECIAL = "special"  # FIFO, device, socket
    ENCRYPTED = "encrypted"
    DUPLICATE = "duplicate"  # a name twice, or a name both file and folder
    TOO_MANY = "too_many"
    TOO_BIG = "too_big"
    CORRUPT = "corrupt"
    UNREADABLE = "unreadable"  # not a zip at all
    NOT_EMPTY = "not_empty"  # the destination already holds files


class ArchiveError(ValueError):
    """A zip that cannot be extracted safely; the message names the archive and member."""

    def __init__(
        self, message: str, *, archive: str, reason: Refusal, member: str | None = None
    ) -> None:
        super().__init__(message)
        self.archive = archive
        self.member = member
        self.reason = reason


@dataclass(frozen=True)
class Policy:
    """A caller's limits; the path, link and encryption rules are not optional.

    ``max_members``: the most entries the zip may list (folders included).
    ``max_bytes``: the most bytes its members may hold, by their headers and as inflated.
    ``verify_crc``: :func:`check` reads every member to test its CRC-32 (extraction always
    does, as it reads).
    ``keep_private``: a file whose mode grants nothing to group and others (a solution
    written 0o600) stays owner-only (0o600, 0o700), for archives made by our own ``pack``.
    """

    max_members: int | None = None
    max_bytes: int | None = None
    verify_crc: bool = False
    keep_private: bool = False


def _refuse(archive: str, info: zipfile.ZipInfo, problem: str, reason: Refusal) -> ArchiveError:
    return ArchiveError(
        f"{archive}: member {info.filename!r} {problem}",
        archive=archive,
        member=info.filename,
        reason=reason,
    )


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.is_dir() or stat.S_ISDIR(info.external_attr >> 16)


def member_path(archive: str, info: zipfile.ZipInfo) -> PurePosixPath:
    """The member's path inside the destination, or :class:`ArchiveError` when its name
    could land outside it, or it is a link, a device or encrypted."""
    name = info.filename
    if "\\" in name:
        raise _refuse(archive, info, "uses '\\' as a path separator", Refusal.BACKSLASH)
    p = PurePosixPath(name)
    if p.is_absolute() or _DRIVE.match(name) or ".." in p.parts:
        raise _refuse(archive, info, "points outside the destination folder", Refusal.OUTSIDE)
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise _refuse(archive, info, "is a link (symbolic links are refused)", Refusal.LINK)
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(archive, info, "is not a regular file or folder", Refusal.SPECIAL)
    if info.flag_bits & _ENCRYPTED:
        raise _refuse(archive, info, "is encrypted", Refusal.ENCRYPTED)
    return p


def _open(source: Source, name: str | None) -> tuple[zipfile.ZipFile, str]:
    if isinstance(source, bytes):
        label = name or "zip bytes"
        fileobj: io.BytesIO | str | os.PathLike[str] = io.BytesIO(source)
    else:
        label = name or str(source)
        fileobj = source
    try:
        return zipfile.ZipFile(fileobj), label
    except (zipfile.BadZipFile, EOFError, ValueError, OSError) as e:
        raise ArchiveError(
            f"{label}: not a readable zip archive ({e})", archive=label, reason=Refusal.UNREADABLE
        ) from None


def _check_open(zf: zipfile.ZipFile, archive: str, policy: Policy) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if policy.max_members is not None and len(infos) > policy.max_members:
        raise ArchiveError(
            f"{archive}: {len(infos)} members, over the limit of {policy.max_members}",
            archive=archive,
            reason=Refusal.TOO_MANY,
        )
    members: list[zipfile.ZipInfo] = []
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    total = 0
    for info in infos:
        p = member_path(archive, info)
        if not p.parts:
            continue  # '' or './': the destination itself
        if _is_dir(info):
            if p in files:
                raise _refuse(archive, info, "is both a file and a folder", Refusal.DUPLICATE)
            folders.add(p)
        else:
            if p in files:
                raise _refuse(archive, info, "appears twice", Refusal.DUPLICATE)
            if p in folders:
                raise _refuse(archive, info, "is both a file and a folder", Refusal.DUPLICATE)
            files.add(p)
            total += info.file_size
        parents = set(p.parents) - {PurePosixPath(".")}
        if parents & files:
            raise _refuse(archive, info, "lies inside a member that is a file", Refusal.DUPLICATE)
        folders |= parents
        if policy.max_bytes is not None and total > policy.max_bytes:
            raise _refuse(
                archive,
                info,
                f"takes the uncompressed content over the limit of {policy.max_bytes} bytes",
                Refusal.TOO_BIG,
            )
        members.append(info)
    return members


def _corrupt(archive: str, info: zipfile.ZipInfo, e: BaseException) -> ArchiveError:
    return ArchiveError(
        f"{archive}: corrupt zip at member {info.filename!r} ({type(e).__name__}: {e})",
        archive=archive,
        member=info.filename,
        reason=Refusal.CORRUPT,
    )


def _too_big(archive: str, info: zipfile.ZipInfo, limit: int) -> ArchiveError:
    return _refuse(archive, info, f"inflates past the limit of {limit} bytes", Refusal.TOO_BIG)


def _file_mode(info: zipfile.ZipInfo, keep_private: bool) -> int:
    """Keep the executable bit, never setuid or group/other write bits."""
    perm = (info.external_attr >> 16) & 0o777
    mode = 0o755 if perm & 0o111 else 0o644
    if keep_private and perm and not perm & 0o077:
        mode &= 0o700
    return mode


def check(
    source: Source, policy: Policy | None = None, *, name: str | None = None
) -> list[zipfile.ZipInfo]:
    """Check a zip without extracting it; returns the members to extract (in order, the
    destination's own '' entry left out). ``source`` is a path or the zip's bytes;
    ``name`` is how messages call it (default: the path, or 'zip bytes')."""
    policy = policy or Policy()
    zf, archive = _open(source, name)
    with zf:
        members = _check_open(zf, archive, policy)
        if policy.verify_crc:
            read = 0
            for info in members:
                try:
                    with zf.open(info) as src:
                        while chunk := src.read(_CHUNK):
                            read += len(chunk)
                            if policy.max_bytes is not None and read > policy.max_bytes:
                                raise _too_big(archive, info, policy.max_bytes)
                except _CORRUPT as e:
                    raise _corrupt(archive, info, e) from None
    return members


def _mkdirs(root: Path, rel: PurePosixPath, archive: str, info: zipfile.ZipInfo) -> Path:
    """``root/rel`` as a folder, each missing level created with mode 0o755; a level
    that is a link or a file (put there by another archive) is refused, never followed."""
    here = root
    for part in rel.parts:
        here = here / part
        if here.is_symlink() or (here.exists() and not here.is_dir()):
            raise _refuse(archive, info, f"needs {here} as a folder", Refusal.DUPLICATE)
        if not here.exists():
            here.mkdir()
            os.chmod(here, 0o755)
    return here


def extract_into(
    source: Source,
    folder: str | os.PathLike[str],
    policy: Policy | None = None,
    *,
    name: str | None = None,
    members: list[zipfile.ZipInfo] | None = None,
) -> int:
    """Check the zip and write its members into ``folder``, a fresh folder of the caller's
    that the caller renames into place when this returns (and removes when it raises:
    a refusal found while inflating can leave files written before it). ``members``
    (from :func:`check`) limits what is written; each is checked again here. A file that
    already exists in ``folder`` is refused, never overwritten. Returns the bytes written.
    """
    folder = Path(folder)
    policy = policy or Policy()
    zf, archive = _open(source, name)
    written = 0
    with zf:
        checked = _check_open(zf, archive, policy)
        if members is not None:
            wanted = {(m.filename, m.header_offset) for m in members}
            checked = [i for i in checked if (i.filename, i.header_offset) in wanted]
        for info in checked:
            rel = PurePosixPath(info.filename)
            if _is_dir(info):
                _mkdirs(folder, rel, archive, info)
                continue
            target = _mkdirs(folder, rel.parent, archive, info) / rel.name
            try:
                with zf.open(info) as src, open(target, "xb") as dst:
                    while chunk := src.read(_CHUNK):
                        # Counted as inflated: the limit holds whatever the headers say.
                        written += len(chunk)
                        if policy.max_bytes is not None and written > policy.max_bytes:
                            raise _too_big(archive, info, policy.max_bytes)
                        dst.write(chunk)
            except _CORRUPT as e:
                raise _corrupt(archive, info, e) from None
            except FileExistsError:
                raise _refuse(archive, info, f"is already in {folder}", Refusal.DUPLICATE) from None
            os.chmod(target, _file_mode(info, policy.keep_private))
    return written


def extract(
    source: Source,
    dest: str | os.PathLike[str],
    policy: Policy | None = None,
    *,
    name: str | None = None,
) -> None:
    """Extract the zip as ``dest`` (absent, or an empty folder): written into a hidden
    sibling and renamed into place when complete, so a refusal leaves ``dest`` as it was
    and nothing beside it."""
    dest = Path(dest)
    label = name or ("zip bytes" if isinstance(source, bytes) else str(source))
    if dest.is_symlink() or (dest.exists() and (not dest.is_dir() or any(dest.iterdir()))):
        raise ArchiveError(
            f"{label}: {dest} is not an empty folder; extraction needs a new or empty one",
            archive=label,
            reason=Refusal.NOT_EMPTY,
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        extract_into(source, tmp, policy, name=label)
        os.chmod(tmp, 0o755)
        os.replace(tmp, dest)  # rename(2) replaces an empty folder
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
