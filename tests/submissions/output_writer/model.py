"""Tries to write into and next to the prediction folder, and to rewrite start.txt.

It looks for the output folder wherever it can (the paths it was given, their parents,
its supervisor's command line, working folder and environment) and, in each folder it
can write, drops a forged start.txt, end.txt and prediction files. Ingestion's files
must stay right.
"""

import os
from pathlib import Path

import numpy as np

FORGED_START = "ingestion_pid: 1\ntask_name: forged\ntime_budget: 1\nstart_time: 0.0\n0: 1.0\n"


def _paths_in(text):
    for token in text.replace("\0", " ").replace("=", " ").replace(":", " ").split():
        if token.startswith("/"):
            yield Path(token)


def candidates():
    yield Path.cwd()
    yield Path(__file__).resolve().parent
    for value in os.environ.values():
        yield from _paths_in(value)
    ppid = os.getppid()
    for what in ("cmdline", "environ"):
        try:
            yield from _paths_in(Path(f"/proc/{ppid}/{what}").read_bytes().decode(errors="replace"))
        except OSError:
            pass
    try:
        cwd = Path(os.readlink(f"/proc/{ppid}/cwd"))
        yield cwd
        yield from (p for p in cwd.iterdir() if p.is_dir())
    except OSError:
        pass


def vandalize():
    hits = 0
    seen = set()
    for p in candidates():
        for base in (p, p.parent):
            if base in seen or not base.is_dir() or base == Path("/"):
                continue
            seen.add(base)
            for name in ("start.txt", "end.txt", "ingestion.json"):
                target = base / name
                try:
                    if name == "start.txt" and target.exists():
                        with open(target, "a") as f:
                            f.write("7: 1.0\n")
                    with open(target, "w") as f:
                        f.write(FORGED_START)
                    hits += 1
                except OSError:
                    pass
            for pred in list(base.glob("*.predict_*")) + [base / "tiny.predict_9"]:
                try:
                    pred.write_text("1 1 1\n")
                    hits += 1
                except OSError:
                    pass
    return hits


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round >= 1:
            print(f"wrote {vandalize()} forged files")

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 2
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
