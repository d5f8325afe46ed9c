"""autodl.archives: real hostile zips, built with zipfile (and bytes patched where zipfile
will not write the lie), refused with the archive and the member named, nothing left."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from autodl import archives
from autodl.archives import ArchiveError, Policy, Refusal


def make_zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]], **kw) -> Path:
    with zipfile.ZipFile(path, "w", kw.pop("compression", zipfile.ZIP_DEFLATED)) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def with_mode(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = mode << 16
    return info


def dos_member(name: str) -> zipfile.ZipInfo:
    """A member as Windows tools write it: DOS attributes only, no Unix mode."""
    info = zipfile.ZipInfo(name)
    info.create_system = 0
    info.external_attr = 0x20  # the DOS 'archive' attribute
    return info


def left_beside(tmp_path: Path, *keep: Path) -> list[str]:
    """Everything in tmp_path but the given paths (the archive itself)."""
    return sorted(p.name for p in tmp_path.iterdir() if p not in keep)


def refused(tmp_path: Path, z: Path, reason: Refusal, member: str | None, **kw) -> ArchiveError:
    """Extract z as tmp_path/out, expect the refusal, and check that nothing was left."""
    dest = tmp_path / "out"
    with pytest.raises(ArchiveError) as err:
        archives.extract(z, dest, Policy(**kw))
    e = err.value
    assert e.reason is reason and e.member == member and e.archive == str(z)
    assert str(e).startswith(f"{z}: ")
    if member is not None:
        assert repr(member) in str(e)
    assert not dest.exists() and left_beside(tmp_path, z) == []  # no aside folder either
    return e


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../x", Refusal.OUTSIDE),
        ("a/../../x", Refusal.OUTSIDE),
        ("a/../b", Refusal.OUTSIDE),  # harmless here, but no '..' is trusted
        ("/x", Refusal.OUTSIDE),
        ("/tmp/x", Refusal.OUTSIDE),
        ("C:/x", Refusal.OUTSIDE),
        ("C:x", Refusal.OUTSIDE),
        ("a\\b", Refusal.BACKSLASH),
        ("..\\x", Refusal.BACKSLASH),
    ],
)
def test_names_that_could_land_outside_are_refused(tmp_path, name, reason):
    z = make_zip(tmp_path / "h.zip", [("fine.txt", b"ok"), (name, b"boom")])
    assert name in zipfile.ZipFile(z).namelist()  # zipfile kept the hostile name as is
    e = refused(tmp_path, z, reason, name)
    assert ("points outside" if reason is Refusal.OUTSIDE else "uses '\\' as a") in str(e)
    assert not (tmp_path.parent / "x").exists()


def test_a_symbolic_link_member_is_refused(tmp_path):
    z = make_zip(tmp_path / "l.zip", [(with_mode("innocent", 0o120777), b"/etc/passwd")])
    e = refused(tmp_path, z, Refusal.LINK, "innocent")
    assert "symbolic link" in str(e)


def test_a_fifo_or_device_member_is_refused(tmp_path):
    z = make_zip(tmp_path / "f.zip", [(with_mode("pipe", stat.S_IFIFO | 0o644), b"")])
    refused(tmp_path, z, Refusal.SPECIAL, "pipe")
    z = make_zip(tmp_path / "f.zip", [(with_mode("dev", stat.S_IFCHR | 0o644), b"")])
    refused(tmp_path, z, Refusal.SPECIAL, "dev")


def test_an_encrypted_member_is_refused(tmp_path):
    z = make_zip(tmp_path / "e.zip", [("a.txt", b"plain"), ("secret.bin", b"x" * 100)])
    # zipfile cannot write encrypted members: set the flag bit in both headers.
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        local = zf.getinfo("secret.bin").header_offset
    data[local + 6] |= 0x1
    central = data.rfind(b"PK\x01\x02")  # the last central entry is secret.bin
    data[central + 8] |= 0x1
    z.write_bytes(bytes(data))
    with zipfile.ZipFile(z) as zf:
        assert zf.getinfo("secret.bin").flag_bits & 0x1
    e = refused(tmp_path, z, Refusal.ENCRYPTED, "secret.bin")
    assert "encrypted" in str(e)


def test_too_many_members_are_refused_only_under_a_count_limit(tmp_path):
    z = make_zip(tmp_path / "m.zip", [(f"f{i}.txt", b"x") for i in range(5)])
    e = refused(tmp_path, z, Refusal.TOO_MANY, None, max_members=4)
    assert "5 members, over the limit of 4" in str(e)
    archives.extract(z, tmp_path / "out", Policy(max_members=5))
    assert len(list((tmp_path / "out").iterdir())) == 5


def test_a_small_zip_bomb_is_refused_before_anything_is_written(tmp_path):
    z = make_zip(tmp_path / "b.zip", [("a.txt", b"ok"), ("zeros.bin", b"\0" * 2_000_000)])
    assert z.stat().st_size < 20_000  # 2 MB of zeros in a few kB
    e = refused(tmp_path, z, Refusal.TOO_BIG, "zeros.bin", max_bytes=1_000_000)
    assert "uncompressed content over the limit of 1000000 bytes" in str(e)
    with pytest.raises(ArchiveError, match="zeros.bin"):  # check() alone says the same
        archives.check(z, Policy(max_bytes=1_000_000))
    archives.extract(z, tmp_path / "out", Policy(max_bytes=2_000_002))
    assert (tmp_path / "out" / "zeros.bin").stat().st_size == 2_000_000


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_header_that_lies_about_the_size_is_refused(tmp_path, compression):
    z = make_zip(
        tmp_path / "s.zip", [("a.txt", b"ok"), ("zeros.bin", b"\0" * 300_000)],
        compression=compression,
    )  # fmt: skip
    data = bytearray(z.read_bytes())
    central = data.rfind(b"PK\x01\x02")  # the last central entry is zeros.bin
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")  # uncompressed size
    z.write_bytes(bytes(data))
    assert zipfile.ZipFile(z).getinfo("zeros.bin").file_size == 10  # within any limit
    e = refused(tmp_path, z, Refusal.CORRUPT, "zeros.bin", max_bytes=100_000)
    assert "corrupt zip" in str(e) and "CRC" in str(e)


def test_a_bad_crc_fails_check_with_verify_crc_and_always_fails_extraction(tmp_path):
    z = make_zip(
        tmp_path / "c.zip", [("a.txt", b"ok"), ("data.bin", bytes(range(256)) * 40)],
        compression=zipfile.ZIP_STORED,
    )  # fmt: skip
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo("data.bin")
        start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5000] ^= 0xFF  # one flipped byte inside the member's data
    z.write_bytes(bytes(data))
    assert len(archives.check(z)) == 2  # names and headers are fine
    with pytest.raises(ArchiveError, match=r"c\.zip: corrupt zip at member 'data\.bin'.*CRC"):
        archives.check(z, Policy(verify_crc=True))
    refused(tmp_path, z, Refusal.CORRUPT, "data.bin")


@pytest.mark.parametrize(
    ("entries", "member"),
    [
        ([("a.txt", b"1"), ("a.txt", b"2")], "a.txt"),
        ([("a", b"file"), ("a/b.txt", b"under a file")], "a/b.txt"),
        ([("a/b.txt", b"x"), ("a", b"file over a folder")], "a"),
        ([("a", b"file"), ("a/", b"")], "a/"),
    ],
)
@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile warns, and writes it
def test_names_twice_or_file_and_folder_are_refused(tmp_path, entries, member):
    z = make_zip(tmp_path / "d.zip", entries)
    refused(tmp_path, z, Refusal.DUPLICATE, member)


def test_not_a_zip_is_named(tmp_path):
    z = tmp_path / "n.zip"
    z.write_bytes(b"this is not a zip")
    e = refused(tmp_path, z, Refusal.UNREADABLE, None)
    assert "not a readable zip archive" in str(e)


def test_a_good_zip_keeps_the_executable_bit_and_only_that(tmp_path):
    entries = [
        (with_mode("run.sh", stat.S_IFREG | 0o755), b"#!/bin/sh\necho hi\n"),
        (with_mode("tool", stat.S_IFREG | 0o4777), b"setuid, world-writable"),
        (with_mode("data/notes.txt", stat.S_IFREG | 0o666), b"group-writable"),
        (with_mode("empty/", stat.S_IFDIR | 0o777), b""),
        ("deep/er/file.txt", b"no folder entries above it"),  # zipfile's default 0o600
    ]
    z = make_zip(tmp_path / "g.zip", entries)
    dest = tmp_path / "out"
    archives.extract(z, dest)
    modes = {
        p.relative_to(dest).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in dest.rglob("*")
    }
    assert modes == {
        "run.sh": 0o755,
        "tool": 0o755,
        "data": 0o755,
        "data/notes.txt": 0o644,
        "empty": 0o755,
        "deep": 0o755,
        "deep/er": 0o755,
        "deep/er/file.txt": 0o644,
    }
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert (dest / "run.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert (dest / "deep/er/file.txt").read_bytes() == b"no folder entries above it"
    assert left_beside(tmp_path, z) == ["out"]


def test_owner_only_files_stay_so_only_when_asked(tmp_path):
    z = make_zip(
        tmp_path / "p.zip",
        [
            (with_mode("t.solution", stat.S_IFREG | 0o600), b"1 0\n"),
            (with_mode("run.sh", stat.S_IFREG | 0o700), b"#!/bin/sh\n"),
            (dos_member("dos.txt"), b"no unix mode at all"),
            (with_mode("open.txt", stat.S_IFREG | 0o664), b"readable"),
        ],
    )
    want = {
        False: {"t.solution": 0o644, "run.sh": 0o755, "dos.txt": 0o644, "open.txt": 0o644},
        True: {"t.solution": 0o600, "run.sh": 0o700, "dos.txt": 0o644, "open.txt": 0o644},
    }
    for keep in (False, True):
        dest = tmp_path / f"out-{keep}"
        archives.extract(z, dest, Policy(keep_private=keep))
        assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in dest.iterdir()} == want[keep]


def test_a_shipped_solution_stays_owner_only(tmp_path):
    from autodl.challenge.shipping import pack, unpack

    src = tmp_path / "task"
    (src / "t.data").mkdir(parents=True)
    (src / "t.data" / "x.tfrecord").write_bytes(b"records")
    (src / "t.data" / "x.tfrecord").chmod(0o644)
    (src / "t.solution").write_bytes(b"1 0\n")
    (src / "t.solution").chmod(0o600)
    unpack(pack(src), tmp_path / "node")
    assert stat.S_IMODE((tmp_path / "node" / "t.solution").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "node" / "t.data" / "x.tfrecord").stat().st_mode) == 0o644


def test_bytes_into_an_empty_folder_and_never_into_a_full_one(tmp_path):
    z = make_zip(tmp_path / "g.zip", [("a.txt", b"new")])
    empty = tmp_path / "empty"
    empty.mkdir()
    archives.extract(z.read_bytes(), empty)
    assert (empty / "a.txt").read_bytes() == b"new"
    with pytest.raises(ArchiveError, match="shipped: .* is not an empty folder") as err:
        archives.extract(z.read_bytes(), empty, name="shipped")
    assert err.value.reason is Refusal.NOT_EMPTY
    assert (empty / "a.txt").read_bytes() == b"new"
    assert left_beside(tmp_path, z) == ["empty"]


def test_extract_into_never_overwrites_and_writes_only_the_members_asked(tmp_path):
    z = make_zip(tmp_path / "g.zip", [("keep/a.txt", b"a"), ("__MACOSX/._a", b"fork")])
    members = [i for i in archives.check(z) if not i.filename.startswith("__MACOSX")]
    folder = tmp_path / "work"
    folder.mkdir()
    assert archives.extract_into(z, folder, members=members) == 1
    assert [p.name for p in folder.iterdir()] == ["keep"]
    with pytest.raises(ArchiveError, match=r"'keep/a\.txt' is already in") as err:
        archives.extract_into(z, folder)
    assert err.value.reason is Refusal.DUPLICATE
    assert (folder / "keep/a.txt").read_bytes() == b"a"


def test_extract_into_never_follows_a_link_or_writes_through_a_file(tmp_path):
    z = make_zip(tmp_path / "g.zip", [("sub/a.txt", b"a")])
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "sub").symlink_to(outside)  # planted before the extraction
    with pytest.raises(ArchiveError, match=r"'sub/a\.txt' needs .*sub as a folder"):
        archives.extract_into(z, folder)
    assert list(outside.iterdir()) == []
    (folder / "sub").unlink()
    (folder / "sub").write_bytes(b"a file")  # e.g. from an earlier archive
    with pytest.raises(ArchiveError, match="needs .*sub as a folder"):
        archives.extract_into(z, folder)


# --------------------------------------------------------------------------- the callers


def test_the_codabench_worker_refuses_what_extractall_would_rewrite(tmp_path):
    from autodl.platforms.codabench.worker import unpack

    for name in ("../evil", "a\\b"):
        z = make_zip(tmp_path / "bundle.zip", [(name, b"boom")])
        with pytest.raises(ArchiveError, match="bundle.zip: member"):
            unpack(z, tmp_path / "program")
        assert not (tmp_path / "program").exists() and not (tmp_path.parent / "evil").exists()
    z = make_zip(tmp_path / "bundle.zip", [(with_mode("l", 0o120777), b"/etc/passwd")])
    with pytest.raises(ArchiveError, match="is a link"):
        unpack(z, tmp_path / "program")
    z = make_zip(tmp_path / "bundle.zip", [(with_mode("run.sh", 0o100755), b"#!/bin/sh\n")])
    unpack(z, tmp_path / "program")
    assert (tmp_path / "program" / "run.sh").stat().st_mode & 0o111


def test_a_download_refuses_a_cached_zip_with_a_hostile_member(tmp_path):
    from autodl.data.download import DOWNLOADS, DownloadError, download_dataset
    from autodl.data.public import FilePart, PublicDataset

    cache = tmp_path / DOWNLOADS
    cache.mkdir()
    # fetch() keeps a file already there without asking the server (port 9: discard).
    make_zip(cache / "Evil.data.zip", [("evil.data/a\\..\\..\\x", b"boom")])
    make_zip(cache / "Evil.solution.zip", [(with_mode("evil.solution", 0o120777), b"/x")])
    entry = PublicDataset(
        "Evil", "tabular", FilePart("Evil.data.zip", "http://127.0.0.1:9/Evil.data.zip"),
        FilePart("Evil.solution.zip", "http://127.0.0.1:9/Evil.solution.zip"),
    )  # fmt: skip
    with pytest.raises(DownloadError, match=r"Evil\.data\.zip: member .* uses '\\' as"):
        download_dataset(entry, tmp_path)
    assert left_beside(tmp_path) == [DOWNLOADS]


def test_shipping_and_submissions_keep_their_error_types(tmp_path):
    from autodl.challenge.shipping import ShippingError, unpack
    from autodl.submission import SubmissionError, resolve_code

    z = make_zip(tmp_path / "s.zip", [("model.py", b""), ("lib\\u.py", b"")])
    with pytest.raises(ShippingError, match=r"zip bytes for .*: member 'lib\\\\u\.py' uses"):
        unpack(z.read_bytes(), tmp_path / "run")
    with pytest.raises(SubmissionError, match=r"s\.zip: member 'lib\\\\u\.py' uses"):
        resolve_code(z, tmp_path / "work")
    assert left_beside(tmp_path, z) == []  # checked before the work folder is made
