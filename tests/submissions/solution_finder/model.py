"""Looks for *.solution files from every path it was given, and from its supervisor's.

Fails (raises) when it finds one, so a leak shows as status "error" with the paths.
Searched: argv, every environment value that is a path, the working folder, its own
folder, every path attribute of the datasets, sys.path entries under those, the
supervisor's command line, working folder and environment (/proc/<ppid>), each with its
parent and grandparent, two levels deep.
"""

import os
import sys
from pathlib import Path

import numpy as np


def _paths_in(text):
    for token in text.replace("\0", " ").replace("=", " ").replace(":", " ").split():
        if token.startswith("/"):
            yield Path(token)


def _given(dataset):
    yield Path.cwd()
    yield Path(__file__).resolve().parent
    for arg in sys.argv:
        yield from _paths_in(arg)
    for value in os.environ.values():
        yield from _paths_in(value)
    for name in dir(dataset):
        try:
            value = getattr(dataset, name)
        except Exception:
            continue
        if isinstance(value, (str, os.PathLike)):
            yield from _paths_in(os.fspath(value))
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


def find_solutions(dataset):
    found, searched = set(), set()
    for p in _given(dataset):
        for base in (p, p.parent, p.parent.parent):
            if base in searched or base == Path("/") or not base.is_dir():
                continue
            searched.add(base)
            for pattern in ("*.solution", "*/*.solution", "*/*/*.solution"):
                try:
                    found.update(str(s) for s in base.glob(pattern))
                except OSError:
                    pass
    return found, searched


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        found, searched = find_solutions(dataset)
        print(f"searched {len(searched)} folders for *.solution")
        if found:
            raise RuntimeError(f"found solution files: {sorted(found)}")

    def predict(self, dataset, remaining_time_budget=None):
        found, _ = find_solutions(dataset)
        if found:
            raise RuntimeError(f"found solution files: {sorted(found)}")
        self.done_training = True
        return np.full((len(dataset), self.output_dim), 0.5)
