"""Ingestion's own files in the output folder: written once, checked and put back.

Anyone who can write the output folder (the user, another process) may change
``start.txt`` or a prediction during the run, or drop a ``predict_<k>`` of their own.
:class:`OutputFiles` writes every protocol file of a run, keeps a private copy of each
prediction, and at the end restores what was changed and removes what it did not write,
so the scorer reads exactly what the submission predicted.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autodl import protocol


def clear_stale(output_dir: Path, warnings: list[str]) -> None:
    """Remove protocol files of an earlier run, which a watching scorer would misread."""
    stale = [output_dir / protocol.START_FILE, output_dir / protocol.END_FILE]
    stale.append(output_dir / protocol.INGESTION_FILE)
    found, odd = protocol.scan_predictions(output_dir)
    stale += [p for _, _, p in found] + [p for p, _ in odd]
    removed = [p.name for p in stale if p.is_symlink() or p.exists()]
    for p in stale:
        _remove(p)
    if removed:
        warnings.append(f"removed files of an earlier run from the output folder: {removed}")


def _remove(path: Path) -> None:
    """Remove whatever stands at ``path``: a file, a link, a FIFO or a folder."""
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


class OutputFiles:
    """The protocol files one run writes into ``output_dir``; ``shadow`` is a private
    folder (0700) for the copies they are restored from."""

    def __init__(self, output_dir: Path, task_name: str, time_budget: float, shadow: Path):
        self.output_dir, self.task_name, self.time_budget = output_dir, task_name, time_budget
        self.shadow = shadow
        self.start_time: float | None = None
        self.timestamps: dict[int, float] = {}
        self.written: dict[int, tuple[int, int, int]] = {}  # k -> (inode, size, mtime)

    def write_start(self, start_time: float) -> None:
        self.start_time = start_time
        protocol.write_start(
            self.output_dir,
            ingestion_pid=os.getpid(),
            task_name=self.task_name,
            time_budget=self.time_budget,
            start_time=start_time,
        )

    def write_prediction(self, k: int, prediction: Any, timestamp: float) -> None:
        """``k: <timestamp>`` in start.txt, then ``<task>.predict_<k>`` and its copy."""
        protocol.append_prediction_time(self.output_dir, k, timestamp)
        name = protocol.prediction_name(self.task_name, k)
        data = protocol.format_prediction(prediction)
        (self.shadow / name).write_bytes(data)
        protocol.atomic_write(self.output_dir / name, data)
        st = os.stat(self.output_dir / name)
        self.written[k] = (st.st_ino, st.st_size, st.st_mtime_ns)
        self.timestamps[k] = timestamp

    def repair(self, warnings: list[str]) -> None:
        """Undo what anyone else did to our protocol files during the run."""
        if self.start_time is None:
            return
        try:
            info = protocol.read_start(self.output_dir)
            same = (
                info.start_time == self.start_time
                and info.task_name == self.task_name
                and info.timestamps == self.timestamps
                and info.ingestion_pid == os.getpid()
            )
        except protocol.ProtocolError:
            same = False
        if not same:
            warnings.append("start.txt was modified during the run; rewritten")
            self.write_start(self.start_time)
            for k, t in sorted(self.timestamps.items()):
                protocol.append_prediction_time(self.output_dir, k, t)
        found, odd = protocol.scan_predictions(self.output_dir)
        for task, k, path in found:
            if task == self.task_name and k not in self.written:
                path.unlink(missing_ok=True)
                warnings.append(f"{path.name} was not written by ingestion; removed")
        for path, why in odd:  # predict_01 beside predict_1, a link, a FIFO: never ours
            _remove(path)
            warnings.append(f"{path.name} ({why}) was not written by ingestion; removed")
        for k, signature in self.written.items():
            name = protocol.prediction_name(self.task_name, k)
            try:
                st = os.stat(self.output_dir / name)
                same = (st.st_ino, st.st_size, st.st_mtime_ns) == signature
            except OSError:
                same = False
            if not same:
                protocol.atomic_write(self.output_dir / name, (self.shadow / name).read_bytes())
                warnings.append(f"{name} was modified during the run; restored")
