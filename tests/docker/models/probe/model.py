"""Looks around from inside the container, then fails with what it saw (one JSON line)."""

import json
import os
import socket


def _try(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 - the kind of failure is the finding
        return f"{type(e).__name__}: {e}"


def _write(path):
    with open(path, "w") as f:
        f.write("x")


def _solutions():
    # The image's own trees (/usr, the venv) hold no task; any mount is listed below.
    found = []
    for root, dirs, files in os.walk("/"):
        if root in ("/proc", "/sys", "/dev", "/usr", "/opt/autodl"):
            dirs[:] = []
            continue
        found += [os.path.join(root, f) for f in files if f.endswith(".solution")]
    return found


class Model:
    def __init__(self, metadata):
        data = os.path.join("/app/input_data", os.listdir("/app/input_data")[0])
        seen = {
            "uid": os.getuid(),
            "interfaces": sorted(os.listdir("/sys/class/net")),
            "connect": _try(lambda: socket.create_connection(("1.1.1.1", 53), timeout=3)),
            "resolve": _try(lambda: socket.getaddrinfo("pypi.org", 443)),
            "solutions": _solutions(),
            "app_mounts": sorted(
                line.split()[1] for line in open("/proc/self/mounts") if " /app" in line
            ),
            "input_data": sorted(os.listdir("/app/input_data")),
            "write_output": _try(lambda: _write("/app/output/evil.txt")),
            "write_code": _try(lambda: _write("/app/ingested_program/evil.txt")),
            "write_data": _try(lambda: _write(os.path.join(data, "evil.txt"))),
        }
        raise RuntimeError("PROBE " + json.dumps(seen))

    def train(self, dataset, remaining_time_budget=None):
        raise AssertionError("unreachable")

    def test(self, dataset, remaining_time_budget=None):
        raise AssertionError("unreachable")
