"""Looks for *.solution files from every path it was given, and from its supervisor's.

Its own view (argv, every environment value that is a path, the working folder, its own
folder, every path attribute of the datasets), each with its parent and grandparent, two
levels deep: a find there raises, so a leak shows as status "error" with the paths.
The supervisor's command line, environment and working folder (/proc/<ppid>) are
searched the same way and reported as "leak via <what>: <paths>" lines on stdout.
"""

import os
import sys
from pathlib import Path

import numpy as np


def _paths_in(text):
    for token in text.replace("\0", " ").replace("=", " ").replace(":", " ").split():
        if token.startswith("/"):
            yield Path(token)


def own_view(dataset):
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


def supervisor_view(what):
    ppid = os.getppid()
    try:
        if what == "cwd":
            yield Path(os.readlink(f"/proc/{ppid}/cwd"))
        else:
            yield from _paths_in(
                Path(f"/proc/{ppid}/{what}").read_bytes().decode("utf-8", "replace")
            )
    except OSError:
        pass


def search(paths):
    found = set()
    for p in paths:
        for base in (p, p.parent, p.parent.parent):
            if base == Path("/") or not base.is_dir():
                continue
            for pattern in ("*.solution", "*/*.solution", "*/*/*.solution"):
                try:
                    found.update(str(s) for s in base.glob(pattern))
                except OSError:
                    pass
    return sorted(found)


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        found = search(own_view(dataset))
        if found:
            raise RuntimeError(f"found solution files: {found}")
        print("own view: nothing found")

    def predict(self, dataset, remaining_time_budget=None):
        found = search(own_view(dataset))
        if found:
            raise RuntimeError(f"found solution files: {found}")
        for what in ("cmdline", "environ", "cwd"):
            leaked = search(supervisor_view(what))
            if leaked:
                print(f"leak via {what}: {leaked}")
        self.done_training = True
        return np.full((len(dataset), self.output_dim), 0.5)
