"""Submissions: a folder or a zip whose root holds the participant's ``model.py``.

``resolve_code`` turns what a user hands to ``--code`` (a folder or a zip) into a folder
that ingestion can import from, checking the zip before anything is extracted: no path
that escapes the extraction folder, no link, no ``*.solution`` file, a size limit (also on
the uncompressed size, against zip bombs). ``pack`` makes such a zip from a folder, with
the same checks, and reports what went in.

>>> from autodl.submission import pack, resolve_code
>>> packed = pack("baselines/all_zero", "all_zero.zip")   # doctest: +SKIP
>>> [f.name for f in packed.files]                         # doctest: +SKIP
['model.py']
>>> resolve_code("all_zero.zip", "/tmp/work")              # doctest: +SKIP
PosixPath('/tmp/work/all_zero')
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import stat
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autodl import archives
from autodl.protocol import atomic_file

MODEL_FILE = "model.py"
# The AutoDL platform capped submissions at a few hundred MB; the same cap here keeps a
# stray dataset or checkpoint folder out of a zip.
DEFAULT_MAX_BYTES = 300 * 1024 * 1024
MAX_FILES = 10_000
# Never packed: caches and editor/VCS litter.
DEFAULT_EXCLUDE = (
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".git",
    ".hg",
    ".svn",
    ".DS_Store",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
)
# macOS zips carry resource forks in this folder; they are not part of the submission.
_IGNORED_TOP = "__MACOSX"
# A fixed timestamp makes ``pack`` byte-reproducible (zip cannot store dates before 1980).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class SubmissionError(ValueError):
    """A submission is unusable; the message names the file and what is wrong."""


@dataclass(frozen=True)
class PackedFile:
    name: str  # path inside the zip, '/'-separated
    size: int  # bytes, uncompressed


@dataclass
class PackResult:
    path: Path
    files: list[PackedFile] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def zip_bytes(self) -> int:
        return self.path.stat().st_size


def _is_solution(name: str) -> bool:
    return name.lower().endswith(".solution")


def _check_folder(folder: Path) -> Path:
    if not (folder / MODEL_FILE).is_file():
        raise SubmissionError(
            f"{folder}: no {MODEL_FILE} at the root of the submission folder "
            f"(the ingestion imports {MODEL_FILE} from there)"
        )
    return folder


# --------------------------------------------------------------------------- reading zips


def _code_root(zip_path: Path, files: list[PurePosixPath]) -> PurePosixPath:
    """'' when model.py is at the zip's root, else the single top folder that holds it."""
    if PurePosixPath(MODEL_FILE) in files:
        return PurePosixPath("")
    tops = {f.parts[0] for f in files}
    if len(tops) == 1:
        top = PurePosixPath(next(iter(tops)))
        if top / MODEL_FILE in files:
            return top
    raise SubmissionError(
        f"{zip_path}: no {MODEL_FILE} at the root of the zip (nor inside a single top "
        f"folder); zip the folder's content, e.g. `autodl submission pack DIR -o sub.zip`"
    )


def _policy(max_bytes: int) -> archives.Policy:
    return archives.Policy(max_members=MAX_FILES, max_bytes=max_bytes)


def check_zip(
    zip_path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[PurePosixPath, list[zipfile.ZipInfo]]:
    """Check a submission zip without extracting it.

    Returns the folder inside the zip that holds ``model.py`` ('' for the root) and the
    members to extract. Raises :class:`SubmissionError` naming the zip and the member:
    the rules of :mod:`autodl.archives` (paths, links, encryption, at most
    :data:`MAX_FILES` members and ``max_bytes`` uncompressed), then the submission's own
    (no ``*.solution`` file, ``model.py`` at the root or in a single top folder).
    """
    zip_path = Path(zip_path)
    size = zip_path.stat().st_size
    if size > max_bytes:
        raise SubmissionError(
            f"{zip_path}: {size} bytes, over the submission limit of {max_bytes} bytes"
        )
    try:
        infos = archives.check(zip_path, _policy(max_bytes))
    except archives.ArchiveError as e:
        raise SubmissionError(str(e)) from None
    members: list[zipfile.ZipInfo] = []
    for info in infos:
        p = PurePosixPath(info.filename)
        if p.parts[0] == _IGNORED_TOP:
            continue
        if _is_solution(p.name):
            raise SubmissionError(
                f"{zip_path}: member {info.filename!r} is a solution file; "
                "submissions must not contain *.solution files"
            )
        members.append(info)
    files = [PurePosixPath(i.filename) for i in members if not i.is_dir()]
    return _code_root(zip_path, files), members


def resolve_code(
    path: str | os.PathLike[str],
    workdir: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Path:
    """The folder holding the submission's ``model.py``.

    A folder is checked (``model.py`` at its root) and returned as is. A zip is checked
    (:func:`check_zip`) and extracted into a new folder under ``workdir`` named after the
    zip; the folder holding ``model.py`` is returned (the zip's root, or its single top
    folder). The extraction happens in a temporary folder that is renamed when complete,
    so a failure leaves nothing half-extracted.
    """
    path = Path(path)
    if path.is_dir():
        return _check_folder(path.resolve())
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    if not zipfile.is_zipfile(path):
        raise SubmissionError(f"{path}: neither a folder nor a zip file")
    root, members = check_zip(path, max_bytes=max_bytes)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", suffix=".tmp", dir=workdir))
    try:
        try:
            archives.extract_into(path, tmp, _policy(max_bytes), members=members)
        except archives.ArchiveError as e:
            raise SubmissionError(str(e)) from None
        os.chmod(tmp, 0o755)
        dest = workdir / path.stem
        n = 1
        while dest.exists():
            n += 1
            dest = workdir / f"{path.stem}-{n}"
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest.joinpath(*root.parts).resolve()


# --------------------------------------------------------------------------- packing


def _excluded(rel: PurePosixPath, exclude: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatch(part, pat) for part in rel.parts for pat in exclude)


def list_files(
    src_dir: str | os.PathLike[str], *, exclude: tuple[str, ...] = DEFAULT_EXCLUDE
) -> list[tuple[Path, PurePosixPath]]:
    """The files ``pack`` would put in the zip: (path on disk, name in the zip), sorted."""
    src = Path(src_dir)
    out: list[tuple[Path, PurePosixPath]] = []
    for dirpath, dirnames, filenames in os.walk(src):
        here = Path(dirpath)
        rel_dir = PurePosixPath(here.relative_to(src).as_posix())
        keep = []
        for d in sorted(dirnames):
            rel = rel_dir / d
            if _excluded(rel, exclude):
                continue
            if (here / d).is_symlink():
                raise SubmissionError(f"{here / d}: symbolic links cannot be packed")
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            rel = rel_dir / name
            if _excluded(rel, exclude):
                continue
            full = here / name
            if full.is_symlink():
                raise SubmissionError(f"{full}: symbolic links cannot be packed")
            if not full.is_file():
                raise SubmissionError(f"{full}: not a regular file")
            out.append((full, rel))
    out.sort(key=lambda t: t[1].as_posix())
    return out


def pack(
    src_dir: str | os.PathLike[str],
    out_zip: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE,
) -> PackResult:
    """Zip a submission folder: ``model.py`` at the zip's root, nothing else above it.

    Refuses (:class:`SubmissionError`) a folder without ``model.py``, a ``*.solution``
    file, a symbolic link, or content over ``max_bytes``. Files matching ``exclude``
    (caches, VCS folders) are left out, and so is ``out_zip`` itself when it lies inside
    ``src_dir``. The zip is written beside ``out_zip`` and renamed when complete; entries
    are sorted and carry a fixed date, so packing the same files gives the same bytes.
    """
    src = Path(src_dir)
    out = Path(out_zip)
    if not src.is_dir():
        raise SubmissionError(f"{src}: not a folder")
    _check_folder(src)
    out_resolved = out.resolve()
    files = [(p, rel) for p, rel in list_files(src, exclude=exclude) if p.resolve() != out_resolved]
    if len(files) > MAX_FILES:
        raise SubmissionError(f"{src}: {len(files)} files, over the limit of {MAX_FILES}")
    result = PackResult(path=out)
    for p, rel in files:
        if _is_solution(rel.name):
            raise SubmissionError(
                f"{p}: a solution file; submissions must not contain *.solution files"
            )
        result.files.append(PackedFile(rel.as_posix(), p.stat().st_size))
    if result.total_bytes > max_bytes:
        raise SubmissionError(
            f"{src}: {result.total_bytes} bytes of files, over the submission limit of "
            f"{max_bytes} bytes"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    # Owner-only, as pack has always made it: a submission is its author's to share.
    with atomic_file(out, mode=0o600) as f:
        with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
            for p, rel in files:
                info = zipfile.ZipInfo(rel.as_posix(), date_time=_ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                executable = os.stat(p).st_mode & 0o100
                info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                with open(p, "rb") as src_f, zf.open(info, "w") as dst:
                    shutil.copyfileobj(src_f, dst, 1 << 20)
        if f.tell() > max_bytes:
            raise SubmissionError(
                f"{out}: the zip is over the submission limit of {max_bytes} bytes"
            )
    return result
