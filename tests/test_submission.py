"""Submission zips: packing, checking and extracting, with hostile zips built by hand."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from autodl.submission import SubmissionError, pack, resolve_code

MODEL = "class Model:\n    def __init__(self, metadata):\n        self.done_training = False\n"


def make_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def make_zip(path: Path, members: dict[str, bytes | str], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink is not None:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return path


# --------------------------------------------------------------------------- folders


def test_folder_with_model_is_returned(tmp_path):
    src = make_folder(tmp_path / "sub", {"model.py": MODEL})
    assert resolve_code(src, tmp_path / "work") == src.resolve()
    assert not (tmp_path / "work").exists()  # nothing copied for a folder


def test_folder_without_model_names_the_folder(tmp_path):
    src = make_folder(tmp_path / "sub", {"other.py": ""})
    with pytest.raises(SubmissionError, match=r"sub: no model\.py"):
        resolve_code(src, tmp_path / "work")


def test_missing_path_and_non_zip(tmp_path):
    with pytest.raises(SubmissionError, match="no such file"):
        resolve_code(tmp_path / "nope.zip", tmp_path)
    (tmp_path / "model.py").write_text(MODEL)
    with pytest.raises(SubmissionError, match="neither a folder nor a zip"):
        resolve_code(tmp_path / "model.py", tmp_path)


# --------------------------------------------------------------------------- pack


def test_pack_round_trip(tmp_path):
    src = make_folder(
        tmp_path / "sub",
        {
            "model.py": MODEL,
            "helpers/net.py": "X = 1\n",
            "weights.txt": "0.5\n",
            "__pycache__/model.cpython-311.pyc": "junk",
            ".git/HEAD": "ref",
        },
    )
    os.chmod(src / "helpers" / "net.py", 0o755)
    result = pack(src, tmp_path / "out" / "sub.zip")
    names = [f.name for f in result.files]
    assert names == ["helpers/net.py", "model.py", "weights.txt"]
    assert result.total_bytes == sum((src / n).stat().st_size for n in names)
    with zipfile.ZipFile(tmp_path / "out" / "sub.zip") as zf:
        assert sorted(zf.namelist()) == names
        assert zf.read("model.py").decode() == MODEL
    code = resolve_code(tmp_path / "out" / "sub.zip", tmp_path / "work")
    assert code == (tmp_path / "work" / "sub").resolve()
    assert (code / "model.py").read_text() == MODEL
    assert (code / "helpers" / "net.py").stat().st_mode & 0o100  # executable bit kept
    assert not (code / "weights.txt").stat().st_mode & 0o100
    # no temporary left behind, beside the zip or in the work folder
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["sub.zip"]
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["sub"]


def test_pack_is_reproducible(tmp_path):
    src = make_folder(tmp_path / "sub", {"model.py": MODEL, "a/b.py": "y = 2\n"})
    pack(src, tmp_path / "1.zip")
    os.utime(src / "model.py", (1e9, 1e9))
    pack(src, tmp_path / "2.zip")
    assert (tmp_path / "1.zip").read_bytes() == (tmp_path / "2.zip").read_bytes()


def test_pack_refuses_missing_model_and_solution(tmp_path):
    src = make_folder(tmp_path / "sub", {"main.py": ""})
    with pytest.raises(SubmissionError, match=r"no model\.py"):
        pack(src, tmp_path / "x.zip")
    make_folder(src, {"model.py": MODEL, "data/digits.solution": "1 0\n"})
    with pytest.raises(SubmissionError, match=r"digits\.solution: a solution file"):
        pack(src, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.glob(".x.zip*")) == []


def test_pack_size_limit_leaves_old_zip_intact(tmp_path):
    src = make_folder(tmp_path / "sub", {"model.py": MODEL})
    pack(src, tmp_path / "x.zip")
    before = (tmp_path / "x.zip").read_bytes()
    (src / "big.bin").write_bytes(b"\0" * 5000)
    with pytest.raises(SubmissionError, match="over the submission limit of 4000 bytes"):
        pack(src, tmp_path / "x.zip", max_bytes=4000)
    assert (tmp_path / "x.zip").read_bytes() == before


def test_pack_zip_over_the_limit_leaves_nothing(tmp_path):
    # The files fit the limit but the zip, with its headers, does not: checked after writing.
    src = make_folder(tmp_path / "sub", {"model.py": MODEL})
    limit = len(MODEL.encode()) + 10
    with pytest.raises(SubmissionError, match=r"x\.zip: the zip is over the submission limit"):
        pack(src, tmp_path / "x.zip", max_bytes=limit)
    assert not (tmp_path / "x.zip").exists()
    assert list(tmp_path.glob(".x.zip*")) == []


def test_pack_skips_its_own_output_and_refuses_links(tmp_path):
    src = make_folder(tmp_path / "sub", {"model.py": MODEL})
    pack(src, src / "sub.zip")
    result = pack(src, src / "sub.zip")  # the previous zip is not packed into the new one
    assert [f.name for f in result.files] == ["model.py"]
    (src / "link.py").symlink_to(src / "model.py")
    with pytest.raises(SubmissionError, match="symbolic link"):
        pack(src, tmp_path / "y.zip")


# --------------------------------------------------------------------------- hostile zips


def test_zip_with_single_top_folder(tmp_path):
    z = make_zip(tmp_path / "s.zip", {"mysub/model.py": MODEL, "mysub/lib/u.py": "u = 1\n"})
    code = resolve_code(z, tmp_path / "work")
    assert code == (tmp_path / "work" / "s" / "mysub").resolve()
    assert (code / "lib" / "u.py").is_file()


def test_zip_macos_litter_ignored(tmp_path):
    z = make_zip(tmp_path / "s.zip", {"model.py": MODEL, "__MACOSX/._model.py": "fork"})
    code = resolve_code(z, tmp_path / "work")
    assert sorted(p.name for p in code.iterdir()) == ["model.py"]


def test_zip_extracts_into_a_fresh_folder_each_time(tmp_path):
    z = make_zip(tmp_path / "s.zip", {"model.py": MODEL})
    a = resolve_code(z, tmp_path / "work")
    b = resolve_code(z, tmp_path / "work")
    assert a != b and (a / "model.py").is_file() and (b / "model.py").is_file()


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"src/model.py": MODEL, "other/x.py": ""}, r"no model\.py at the root"),
        ({"a/b/model.py": MODEL}, r"no model\.py at the root"),
        ({"model.py": MODEL, "../evil.py": "x"}, r"'\.\./evil\.py' points outside"),
        ({"model.py": MODEL, "/etc/evil.py": "x"}, r"'/etc/evil\.py' points outside"),
        ({"model.py": MODEL, "a/../../evil.py": "x"}, "points outside"),
        ({"model.py": MODEL, "ref/digits.solution": "1\n"}, r"digits\.solution' is a solution"),
        ({"model.py": MODEL, "X.SOLUTION": "1\n"}, "is a solution file"),
    ],
)
def test_bad_zips_are_refused_before_extraction(tmp_path, members, message):
    z = make_zip(tmp_path / "s.zip", members)
    with pytest.raises(SubmissionError, match=message) as err:
        resolve_code(z, tmp_path / "work")
    assert str(z) in str(err.value)
    assert not (tmp_path / "work").exists() or list((tmp_path / "work").iterdir()) == []
    assert not (tmp_path / "evil.py").exists()


def test_zip_symlink_refused(tmp_path):
    z = make_zip(tmp_path / "s.zip", {"model.py": MODEL}, symlink="passwd")
    with pytest.raises(SubmissionError, match="symbolic link"):
        resolve_code(z, tmp_path / "work")


def test_zip_size_limits(tmp_path):
    # A zip bomb in miniature: 1 MB of zeros compresses to about 1 kB.
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.py", MODEL)
        zf.writestr("zeros.bin", b"\0" * 1_000_000)
    assert z.stat().st_size < 50_000
    with pytest.raises(SubmissionError, match="uncompressed content over"):
        resolve_code(z, tmp_path / "work", max_bytes=100_000)
    with pytest.raises(SubmissionError, match="over the submission limit of 100 bytes"):
        resolve_code(z, tmp_path / "work", max_bytes=100)
    assert resolve_code(z, tmp_path / "work", max_bytes=2_000_000).is_dir()


def test_zip_with_forged_sizes_stops_at_the_limit(tmp_path):
    # The central directory claims a tiny size; extraction counts the real bytes.
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.py", MODEL)
        zf.writestr("zeros.bin", b"\0" * 300_000)
    data = bytearray(z.read_bytes())
    cd = data.rfind(b"PK\x01\x02")  # the last central-directory entry is zeros.bin
    data[cd + 24 : cd + 28] = (10).to_bytes(4, "little")  # uncompressed size field
    z.write_bytes(bytes(data))
    with pytest.raises(SubmissionError, match="s.zip: corrupt zip"):
        resolve_code(z, tmp_path / "work", max_bytes=100_000)
    assert [p for p in (tmp_path / "work").iterdir()] == []


def test_corrupt_zip(tmp_path):
    z = tmp_path / "s.zip"
    z.write_bytes(b"PK\x05\x06" + b"\0" * 18)  # an empty zip: valid, but no model.py
    with pytest.raises(SubmissionError, match=r"no model\.py"):
        resolve_code(z, tmp_path / "work")


# --------------------------------------------------------------------------- the command


def test_cli_pack_and_check(tmp_path, cli):
    src = make_folder(tmp_path / "sub", {"model.py": MODEL, "util.py": "z = 3\n"})
    proc = cli("submission", "pack", src, "-o", tmp_path / "sub.zip", check=True)
    assert "model.py" in proc.stdout and "util.py" in proc.stdout
    assert "2 files" in proc.stdout
    proc = cli("submission", "check", tmp_path / "sub.zip", check=True)
    assert "ok" in proc.stdout

    (src / "model.py").unlink()
    proc = cli("submission", "pack", src, "-o", tmp_path / "bad.zip")
    assert proc.returncode == 2
    assert "no model.py" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "bad.zip").exists()
