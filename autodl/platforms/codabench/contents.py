"""A bundle's files, read from an unpacked folder or straight from its zip.

The rules (:mod:`.rules`) ask a bundle only what is at a path inside it, how big it is,
and the first bytes of a small file. A zip answers from its central directory, so
checking a zip extracts nothing: a hand-edited bundle with gigabytes of data, or entries
that would land outside a folder, is read without writing a byte.

>>> import io, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("competition.yaml", "version: 2\\n")
...     zf.writestr("data/a/x.bin", b"12345")
>>> files = ZipFiles(zipfile.ZipFile(buf), "c.zip")
>>> files.kind("data"), files.kind("data/a/x.bin"), files.kind("nope"), files.size("data")
('dir', 'file', None, 5)
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Literal

Kind = Literal["file", "dir"]
# Enough of a page or a metadata.yaml for the rules; a larger file is read only this far.
READ_LIMIT = 1 << 20


class BundleFiles:
    """The files of a bundle by their path inside it (``/``-separated, relative)."""

    label: str  # how messages name the bundle: the folder or the zip

    def kind(self, rel: str) -> Kind | None:
        raise NotImplementedError

    def size(self, rel: str) -> int:
        """Bytes of the file, or of every file under the folder (unzipped)."""
        raise NotImplementedError

    def read(self, rel: str, limit: int = READ_LIMIT) -> bytes:
        """The first ``limit`` bytes of the file."""
        raise NotImplementedError

    def nested(self, name: str) -> list[str]:
        """Paths of files called ``name`` one folder or more down (a folder zipped whole)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class FolderFiles(BundleFiles):
    """An unpacked bundle (the exporter's staging folder, or one unzipped by hand)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.label = str(root)

    def _path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/")) if rel else self.root

    def kind(self, rel: str) -> Kind | None:
        path = self._path(rel)
        return "dir" if path.is_dir() else "file" if path.is_file() else None

    def size(self, rel: str) -> int:
        path = self._path(rel)
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())

    def read(self, rel: str, limit: int = READ_LIMIT) -> bytes:
        with open(self._path(rel), "rb") as f:
            return f.read(limit)

    def nested(self, name: str) -> list[str]:
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.glob(f"*/{name}"))


class ZipFiles(BundleFiles):
    """A bundle zip, as Codabench receives it; folders are the prefixes of its entries."""

    def __init__(self, zf: zipfile.ZipFile, label: str) -> None:
        self.zf = zf
        self.label = label
        self.entries = {i.filename: i for i in zf.infolist() if not i.is_dir()}
        self.folders = {i.filename.rstrip("/") for i in zf.infolist() if i.is_dir()}
        for name in self.entries:  # zips need not list folders: every prefix is one
            parts = name.split("/")[:-1]
            self.folders.update("/".join(parts[: n + 1]) for n in range(len(parts)))

    def kind(self, rel: str) -> Kind | None:
        rel = rel.rstrip("/")
        return "file" if rel in self.entries else "dir" if rel in self.folders else None

    def size(self, rel: str) -> int:
        rel = rel.rstrip("/")
        if rel in self.entries:
            return self.entries[rel].file_size
        prefix = rel + "/"
        return sum(i.file_size for n, i in self.entries.items() if n.startswith(prefix))

    def read(self, rel: str, limit: int = READ_LIMIT) -> bytes:
        with self.zf.open(self.entries[rel.rstrip("/")]) as f:
            return f.read(limit)

    def nested(self, name: str) -> list[str]:
        return sorted((n for n in self.entries if n.endswith("/" + name)), key=len)

    def unsafe(self) -> list[str]:
        """Why each entry that could land outside a folder, or is a link, is refused.

        Codabench's unpacker quietly rewrites such names; our programs refuse them
        (:mod:`autodl.archives`), so a bundle holding one fails its check.
        """
        from autodl.archives import ArchiveError, member_path

        problems = []
        for info in self.zf.infolist():
            try:
                member_path(self.label, info)
            except ArchiveError as e:
                problems.append(str(e).removeprefix(f"{self.label}: "))
        return problems

    def close(self) -> None:
        self.zf.close()


class NotABundle(ValueError):
    """The path is neither a folder nor a readable zip."""


def open_bundle(path: str | os.PathLike[str]) -> BundleFiles:
    """The files of the bundle at ``path``: a folder, or a zip (read in place).

    Raises :class:`FileNotFoundError` when nothing is there and :class:`NotABundle` for
    a file that is not a zip; close the result when done.
    """
    p = Path(path)
    if p.is_dir():
        return FolderFiles(p)
    if not p.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    try:
        return ZipFiles(zipfile.ZipFile(p), str(path))
    except zipfile.BadZipFile as e:
        raise NotABundle(f"{path}: not a zip file ({e}); Codabench refuses it") from None
