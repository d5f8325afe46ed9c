"""Tries to write outside its scratch: its code, the dataset, the interpreter, /, and
makes a FIFO wherever it can (a FIFO in place of an output file hangs a naive reader).

Harmless when unconfined: it opens files for appending without writing a byte, and
removes every FIFO it managed to make.
"""

import os
import sys
from pathlib import Path

import numpy as np


def _writable(path):
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND))
        return True
    except OSError:
        return False


class Model:
    def __init__(self, metadata):
        self.output_dim = metadata.get_output_size()
        self.done_training = False

    def fit(self, dataset, remaining_time_budget=None):
        targets = [Path(__file__).parent, Path(sys.prefix), Path("/"), Path("/usr")]
        for name in dir(dataset):
            try:
                value = getattr(dataset, name)
            except Exception:
                continue
            if isinstance(value, (str, os.PathLike)) and os.path.isabs(os.fspath(value)):
                targets.append(Path(os.fspath(value)))
        wrote = []
        for folder in targets:
            folder = folder if folder.is_dir() else folder.parent
            for p in folder.iterdir():
                if p.is_file() and _writable(p):
                    wrote.append(str(p))
            fifo = folder / "autodl-write-probe.fifo"
            try:
                os.mkfifo(fifo)
                os.unlink(fifo)
                wrote.append(f"fifo in {folder}")
            except OSError:
                pass
        print(f"outside: wrote {wrote}")

    def predict(self, dataset, remaining_time_budget=None):
        self.done_training = True
        return np.full((len(dataset), self.output_dim), 0.5)
