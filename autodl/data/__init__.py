"""AutoDL datasets without TensorFlow: read, cache, adapt and write them.

>>> from autodl.data import load, find_task, write_task, AutoDLMetadata
>>> ds = load("path/to/task")            # the train split  # doctest: +SKIP
>>> for example, labels in ds: ...       # float32 (T,R,C,Ch), (output_dim,)  # doctest: +SKIP

``import autodl.data`` loads numpy and protobuf only; ``to_torch()`` and ``to_tf()``
import their framework when called.
"""

from __future__ import annotations

import os
from pathlib import Path

from .cache import CacheLimitWarning
from .dataset import AutoDLDataset
from .errors import DataError, FeatureError, MetadataError, RecordError, TaskError
from .metadata import AutoDLMetadata
from .task import Task, find_task, is_split_dir
from .writer import write_task

__all__ = [
    "AutoDLDataset",
    "AutoDLMetadata",
    "CacheLimitWarning",
    "DataError",
    "FeatureError",
    "MetadataError",
    "RecordError",
    "Task",
    "TaskError",
    "find_task",
    "load",
    "write_task",
]


def load(path: str | os.PathLike[str], split: str | None = None, **options) -> AutoDLDataset:
    """One split of an AutoDL task as an :class:`AutoDLDataset`.

    ``path`` is a split folder (``<name>.data/train``, or any folder holding
    ``metadata.textproto`` and TFRecords), a ``<name>.data`` folder or a task folder.
    ``split`` is ``"train"`` (the default) or ``"test"``; for a split folder it must be
    None or that folder's name. ``options`` go to :class:`AutoDLDataset` (``cache``,
    ``cache_limit``, ``num_workers``, ``check_crc``).
    """
    p = Path(path).expanduser()
    if p.is_dir() and is_split_dir(p):
        if split is not None and split != p.name and p.parent.name.endswith(".data"):
            return AutoDLDataset(find_task(p).split_dir(split), **options)
        return AutoDLDataset(p, **options)
    return AutoDLDataset(find_task(p).split_dir(split or "train"), **options)
