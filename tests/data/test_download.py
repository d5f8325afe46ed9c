"""`autodl datasets download`: resumable, checked, atomic, against a local HTTP server.

The server (http.server in a thread, on 127.0.0.1) serves zips of a real task written by
autodl.data; it honours Range requests, can drop the connection after some bytes, and
records every request's Range header.
"""

from __future__ import annotations

import ast
import hashlib
import http.server
import io
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
import reference_sources

from autodl.data import find_task, public
from autodl.data.download import DownloadError, download_dataset, fetch
from autodl.data.public import FilePart, PublicDataset

REPO = Path(__file__).resolve().parents[2]


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes]
    drop_after: dict[str, int]  # path -> bytes sent before the connection is cut (once)
    ranges: list[tuple[str, str | None]]

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        name = self.path.lstrip("/")
        self.ranges.append((name, self.headers.get("Range")))
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].removeprefix("bytes=").split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        cut = self.drop_after.pop(name, None)
        if cut is not None:
            self.wfile.write(body[start : start + cut])
            self.wfile.flush()
            self.connection.shutdown(2)  # the connection drops mid-file
            return
        self.wfile.write(body[start:])


@pytest.fixture
def server():
    handler = type("H", (_Handler,), {"files": {}, "drop_after": {}, "ranges": []})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield handler
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _zip(root: Path, paths: list[Path]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in paths:
            for p in sorted([path, *path.rglob("*")] if path.is_dir() else [path]):
                if p.is_file():
                    zf.write(p, p.relative_to(root).as_posix())
    return buf.getvalue()


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, bytes]:
    """Digits.data.zip and Digits.solution.zip of a real task named digits (large enough
    for the connection to drop mid-file)."""
    from autodl.data import write_task

    rng = np.random.default_rng(5)
    y = np.arange(600) % 4
    x = rng.normal(size=(600, 64)).astype(np.float32)
    root = write_task(
        tmp_path_factory.mktemp("src"), "digits", train=(x[:400], y[:400]),
        test=(x[400:], y[400:]),
    )  # fmt: skip
    return {
        "Digits.data.zip": _zip(root, [root / "digits.data"]),
        "Digits.solution.zip": _zip(root, [root / "digits.solution"]),
    }


def _entry(server, *, sha: dict[str, str] | None = None) -> PublicDataset:
    sha = sha or {}
    return PublicDataset(
        "Digits", "tabular",
        FilePart("Digits.data.zip", f"{server.url}/Digits.data.zip",
                 sha256=sha.get("Digits.data.zip")),
        FilePart("Digits.solution.zip", f"{server.url}/Digits.solution.zip",
                 sha256=sha.get("Digits.solution.zip")),
    )  # fmt: skip


def test_a_dropped_connection_resumes_and_the_file_is_whole(server, archives, tmp_path):
    server.files.update(archives)
    data = archives["Digits.data.zip"]
    assert len(data) > 100_000
    server.drop_after["Digits.data.zip"] = len(data) // 3
    sha = {k: hashlib.sha256(v).hexdigest() for k, v in archives.items()}
    folder = download_dataset(_entry(server, sha=sha), tmp_path, retries=3)
    assert folder == tmp_path / "Digits"
    task = find_task(folder)
    assert task.name == "digits" and task.solution_path is not None
    kept = tmp_path / ".downloads" / "Digits.data.zip"
    assert kept.read_bytes() == data
    # The second request asked for the rest only.
    data_requests = [r for name, r in server.ranges if name == "Digits.data.zip"]
    assert data_requests == [None, f"bytes={len(data) // 3}-"]
    assert not list(tmp_path.rglob("*.part"))


def test_a_part_left_by_a_killed_run_is_resumed(server, archives, tmp_path):
    server.files.update(archives)
    data = archives["Digits.data.zip"]
    cache = tmp_path / ".downloads"
    cache.mkdir()
    (cache / "Digits.data.zip.part").write_bytes(data[:5000])
    part = FilePart("Digits.data.zip", f"{server.url}/Digits.data.zip")
    path = fetch(part, cache)
    assert path.read_bytes() == data
    assert server.ranges == [("Digits.data.zip", "bytes=5000-")]


def test_a_corrupt_archive_fails_closed(server, archives, tmp_path):
    data = bytearray(archives["Digits.data.zip"])
    data[len(data) // 2] ^= 0xFF  # one flipped byte inside a member
    server.files.update(archives)
    server.files["Digits.data.zip"] = bytes(data)
    with pytest.raises(DownloadError, match=r"Digits\.data\.zip.*(CRC|corrupt)"):
        download_dataset(_entry(server), tmp_path)
    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert left == [".downloads"]  # no task folder, no zip, no .part


def test_a_checksum_mismatch_fails_closed(server, archives, tmp_path):
    server.files.update(archives)
    bad = {"Digits.data.zip": "0" * 64}
    with pytest.raises(DownloadError, match="SHA-256 mismatch"):
        download_dataset(_entry(server, sha=bad), tmp_path)
    assert not (tmp_path / "Digits").exists()
    assert not list((tmp_path / ".downloads").iterdir())


def test_the_command_with_a_mirror(server, archives, tmp_path, cli):
    server.files.update(archives)
    server.drop_after["Digits.data.zip"] = 20_000
    out = tmp_path / "public"
    proc = cli("datasets", "download", "digits", "--mirror", server.url + "/", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Digits: {out / 'Digits'}"
    proc = cli(
        "run",
        "--dataset",
        out / "Digits",
        "--code",
        REPO / "baselines" / "all_zero",
        "--time-budget",
        "10",
        "-o",
        tmp_path / "runs",
        "--sandbox",
        "none",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    # A name not in the table, and a missing file on the mirror: clear errors.
    proc = cli("datasets", "download", "Nope", "--mirror", server.url, "-o", out)
    assert proc.returncode == 2 and "no public dataset 'Nope'" in proc.stderr
    proc = cli("datasets", "download", "O1", "--mirror", server.url, "-o", out)
    assert proc.returncode == 1 and "HTTP 404" in proc.stderr
    assert not (out / "O1").exists()


def test_the_table_is_the_2019_kit_s():
    source = reference_sources.show(reference_sources.KIT, "download_public_datasets.py")
    found: dict[str, dict] = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("dataset_names", "data_urls", "solution_urls"):
                found[node.targets[0].id] = ast.literal_eval(node.value)
    assert public.names() == found["dataset_names"]
    for d in public.PUBLIC_DATASETS:
        assert d.data.url == found["data_urls"][d.name]
        assert d.solution.url == found["solution_urls"][d.name]


def test_download_needs_no_network_at_import():
    """The module and the table import with the standard library only."""
    code = "import autodl.data.download, autodl.data.public, sys; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
