"""The parts of ingestion on their own: message framing, API detection, limits, the
process-tree kill, the live line and the platform program's argument mapping."""

from __future__ import annotations

import importlib.util
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from autodl.ingestion import api, limits, messages
from autodl.ingestion.progress import Progress
from autodl.ingestion.worker import pack_prediction
from autodl.protocol import Status

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- messages


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_frames_round_trip_with_payload(pipe):
    r, w = pipe
    arr = np.arange(12, dtype="<f8").reshape(3, 4)
    messages.send(w, {"op": "prediction", "shape": [3, 4]}, memoryview(arr).cast("B"))
    messages.send(w, {"op": "none"})
    reader = messages.Reader(r)
    header, payload = reader.receive(time.monotonic() + 5, max_payload=96)
    assert header == {"op": "prediction", "shape": [3, 4], "nbytes": 96}
    np.testing.assert_array_equal(np.frombuffer(payload, "<f8").reshape(3, 4), arr)
    assert reader.receive(time.monotonic() + 5)[0]["op"] == "none"


def test_oversized_payload_is_refused_before_reading_it(pipe):
    r, w = pipe
    messages.send(w, {"op": "prediction", "shape": [10**6, 3]}, b"x" * 4000)
    with pytest.raises(messages.PayloadTooLarge) as e:
        messages.Reader(r).receive(time.monotonic() + 5, max_payload=100)
    assert e.value.header["shape"] == [10**6, 3]


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"\x00\x00\x00\x03abc", "not JSON"),
        (b"\x00\x00\x00\x02[]", "not an object"),
        (b"\xff\xff\xff\xff", "message header of"),
        (b'\x00\x00\x00\x16{"op":"x","nbytes":-1}', "bad payload size"),
    ],
)
def test_malformed_frames_are_protocol_violations(pipe, raw, message):
    r, w = pipe
    os.write(w, raw)
    with pytest.raises(messages.ProtocolViolation, match=message):
        messages.Reader(r).receive(time.monotonic() + 5)


def test_timeout_keeps_a_partial_frame(pipe):
    r, w = pipe
    frame = b"".join(bytes(c) for c in messages.encode({"op": "trained"}))
    os.write(w, frame[:5])
    reader = messages.Reader(r)
    with pytest.raises(messages.MessageTimeout):
        reader.receive(time.monotonic() + 0.05)
    os.write(w, frame[5:])
    assert reader.receive(time.monotonic() + 5)[0]["op"] == "trained"


def test_eof_is_channel_closed(pipe):
    r, w = pipe
    os.close(w)
    with pytest.raises(messages.ChannelClosed):
        messages.Reader(r).receive(time.monotonic() + 5)


# --------------------------------------------------------------------------- API


def _frame(raw: bytes) -> bytes:
    return len(raw).to_bytes(4, "big") + raw


@pytest.mark.parametrize(
    "raw, message",
    [
        (b"[" * 500_000 + b"]" * 500_000, "nested too deeply"),
        (b'{"op":"x","s":"\xff\xfe"}', "not UTF-8"),
        (b'{"op":"x","v":NaN}', "not JSON"),
        (b'{"op":"x","nbytes":true}', "bad payload size"),
        (b'{"op":"x","n":' + b"9" * 5000 + b"}", "not JSON"),
    ],
)
def test_hostile_headers_are_protocol_violations(pipe, raw, message):
    # Whatever the worker sends ends as ProtocolViolation (its fault), never another error.
    r, w = pipe
    frame = _frame(raw)
    threading.Thread(target=os.write, args=(w, frame), daemon=True).start()
    with pytest.raises(messages.ProtocolViolation, match=message):
        messages.Reader(r).receive(time.monotonic() + 20)


def test_send_has_a_deadline_when_the_other_side_never_reads(pipe):
    import fcntl

    r, w = pipe
    fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page, as a hostile worker would set it
    t0 = time.monotonic()
    with pytest.raises(messages.MessageTimeout):
        for _ in range(10_000):
            messages.send(w, {"op": "round", "pad": "x" * 100}, deadline=time.monotonic() + 0.5)
    assert time.monotonic() - t0 < 30


class _Native:
    def fit(self, dataset, remaining_time_budget=None): ...
    def predict(self, dataset, remaining_time_budget=None): ...


class _AutoDL:
    def train(self, dataset, remaining_time_budget=None): ...
    def test(self, dataset, remaining_time_budget=None): ...


class _Both(_AutoDL, _Native):
    pass


def test_api_detection():
    assert api.detect(_Native).name == "native"
    assert api.detect(_AutoDL).name == "autodl"
    assert api.detect(_Both).name == "autodl"  # fit/predict are then its own helpers
    with pytest.raises(api.APIError, match=r"it defines train\(\)$"):
        api.detect(type("M", (), {"train": lambda self: None}))


def test_pack_prediction_messages():
    header, payload = pack_prediction(np.ones((2, 3), dtype=np.int64))
    assert header["dtype"] == "<f8" and bytes(payload) == np.ones((2, 3)).tobytes()
    header, _ = pack_prediction(np.ones((2, 3), dtype=np.float32))
    assert header["dtype"] == "<f4"
    header, _ = pack_prediction([["a", "b"]])
    assert header["op"] == "bad_prediction" and "strings" in header["message"]
    header, _ = pack_prediction(np.array([1 + 2j]))
    assert "complex numbers" in header["message"]
    assert pack_prediction(None)[0] == {"op": "none"}


# --------------------------------------------------------------------------- limits


def test_parse_size():
    assert limits.parse_size("512M") == 512 << 20
    assert limits.parse_size("2GiB") == 2 << 30
    assert limits.parse_size("1000") == 1000
    assert limits.parse_size("0") is None and limits.parse_size(None) is None
    with pytest.raises(ValueError, match="not a size"):
        limits.parse_size("lots")


def test_thread_env():
    env = limits.thread_env(3)
    assert env["OMP_NUM_THREADS"] == "3" and env["TF_NUM_INTRAOP_THREADS"] == "3"
    assert limits.thread_env(None) == {}


def test_accessible_walks_every_parent(tmp_path):
    private = tmp_path / "private"
    (private / "inner").mkdir(parents=True)
    target = private / "inner" / "f.txt"
    target.write_text("x")
    os.chmod(target, 0o644)
    os.chmod(private / "inner", 0o755)
    os.chmod(private, 0o700)
    os.chmod(tmp_path, 0o755)
    assert not limits._accessible(target, 65534, [65534], 4)  # blocked by 'private'
    os.chmod(private, 0o711)
    ok = all(limits._accessible(p, 65534, [65534], 1) for p in tmp_path.parents)
    assert limits._accessible(target, 65534, [65534], 4) == ok


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and subreapers")
def test_kill_tree_reaches_processes_that_left_the_group():
    # A parent in its own group whose children each start a new session and then orphan
    # themselves: killpg alone would miss them.
    code = (
        "import os, time\n"
        "for _ in range(5):\n"
        "    if os.fork() == 0:\n"
        "        os.setsid()\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(60)\n"
        "        os._exit(0)\n"
        "time.sleep(60)\n"
    )
    probe = (
        "import subprocess, sys, time, os\n"
        "from autodl.ingestion import limits\n"
        "limits.set_subreaper()\n"
        f"p = subprocess.Popen([sys.executable, '-c', {code!r}], start_new_session=True)\n"
        "start = limits.start_ticks(p.pid)\n"
        "time.sleep(1.0)\n"
        "found = limits.descendants(p.pid, start)\n"
        "limits.kill_tree(p.pid, start)\n"
        "p.wait()\n"
        "alive = [q for q in found if os.path.exists(f'/proc/{q}') and "
        "open(f'/proc/{q}/stat').read().rsplit(')', 1)[1].split()[0] != 'Z']\n"
        "print(len(found), alive)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    n, alive = out.stdout.split(" ", 1)
    assert int(n) >= 5, out.stdout  # the escaped grandchildren were found ...
    assert alive.strip() == "[]", out.stdout  # ... and are gone


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/<pid>/cmdline")
def test_hide_command_line():
    probe = (
        "from autodl.ingestion.limits import hide_command_line\n"
        "import sys\n"
        "assert hide_command_line('autodl ingest [hidden]')\n"
        "print(open('/proc/self/cmdline', 'rb').read().rstrip(b'\\0').decode())\n"
        "print(sys.argv[1])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, "/secret/task/dir"],
        capture_output=True,
        text=True,
        check=True,
    )
    shown, argv = out.stdout.splitlines()
    assert shown == "autodl ingest [hidden]"
    assert argv == "/secret/task/dir"  # our own sys.argv is untouched


# --------------------------------------------------------------------------- progress


def test_progress_writes_plain_lines_off_a_terminal():
    buf = io.StringIO()
    with Progress("tiny", 10, stream=buf) as p:
        p.update("training", 1, time.monotonic())
        time.sleep(0.6)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "[ingestion] tiny: started (budget 10 s)"
    assert lines[1].startswith("[ingestion] tiny: round 1, 0.") and lines[1].endswith(" s of 10 s")
    assert "\x1b" not in buf.getvalue() and "\r" not in buf.getvalue()


def test_progress_is_silent_when_disabled():
    buf = io.StringIO()
    with Progress("tiny", 10, stream=buf, enabled=False) as p:
        p.update("training", 1, time.monotonic())
    assert buf.getvalue() == ""


# --------------------------------------------------------------------------- program


def _program():
    path = REPO / "ingestion" / "ingestion.py"
    spec = importlib.util.spec_from_file_location("ingestion_program", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_program_argument_forms():
    prog = _program()
    assert prog.to_ingest_args(["in", "out", "prog", "sub"]) == [
        "--dataset_dir", "in", "--output_dir", "out",
        "--ingestion_program_dir", "prog", "--code_dir", "sub",
    ]  # fmt: skip
    assert prog.to_ingest_args([]) == [
        "--dataset_dir", "/app/input_data", "--output_dir", "/app/output",
        "--code_dir", "/app/ingested_program", "--ingestion_program_dir", "/app/program",
    ]  # fmt: skip
    assert prog.to_ingest_args(["--time_budget=5"]) == ["--time_budget=5"]


def test_program_metadata_commands():
    import yaml

    codabench = yaml.safe_load((REPO / "ingestion" / "metadata.yaml").read_text())
    assert "/app/input_data" in codabench["command"]
    assert "/app/ingested_program" in codabench["command"]
    codalab = yaml.safe_load((REPO / "ingestion" / "metadata").read_text())
    assert "$submission_program" in codalab["command"]


def test_program_runs_a_submission(tiny_task, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(REPO / "ingestion" / "ingestion.py"), str(tiny_task), str(out),
         str(REPO / "ingestion"), str(REPO / "tests" / "submissions" / "native_ok")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (out / "end.txt").is_file() and (out / "tiny.predict_2").is_file()


def test_sigterm_to_ingestion_records_killed(tiny_task, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "autodl", "ingest", "--dataset_dir", str(tiny_task),
         "--output_dir", str(out), "--code_dir", str(REPO / "tests" / "submissions" / "time_limit"),
         "--time_budget", "60"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (out / "tiny.predict_0").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == Status.KILLED.exit_code, err
    import json

    result = json.loads((out / "ingestion.json").read_text())
    assert result["status"] == "killed" and "SIGTERM" in result["error"]
    assert (out / "end.txt").is_file()
