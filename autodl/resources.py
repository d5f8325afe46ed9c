"""What a run may use, as every command spells it: sizes (memory limits) and GPUs.

One parser per kind of value, shared by ``autodl ingest``, ``autodl docker ingest``,
``autodl run`` and ``autodl challenge``, and the one place that asks the machine which
GPUs it has.

>>> parse_size("8g"), parse_size("0")
(8589934592, None)
>>> parse_gpus("0, 2"), parse_gpus("none"), parse_gpus(None)
(['0', '2'], [], None)
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

_SIZE_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}

#: The ``--gpus`` value that hands over every GPU (Docker's ``--gpus all``).
ALL_GPUS = "all"
_NO_GPU_WORDS = ("none", "cpu")
# CUDA_VISIBLE_DEVICES treats -1 as "no device"; "" (nothing listed) means the same.
_NO_DEVICE_ID = "-1"
_DEVICE_FILE = re.compile(r"^nvidia(\d+)$")


def parse_size(text: str | int | None) -> int | None:
    """Bytes from a size: a plain number of bytes, or one with a binary unit ``K``, ``M``,
    ``G`` or ``T`` (any case, ``B`` or ``iB`` after it allowed: ``8g`` = ``8GiB`` = 8 << 30).

    None, ``""`` and zero mean *no limit* and give None, as for ``docker run --memory 0``:
    ``--memory_limit 0`` and ``--memory 0`` leave memory unlimited. Raises ValueError for
    anything else (a negative size, an unknown unit).

    >>> parse_size("512M"), parse_size("2GiB"), parse_size("1.5g"), parse_size(1000)
    (536870912, 2147483648, 1610612736, 1000)
    >>> parse_size("0"), parse_size(0), parse_size(""), parse_size(None)
    (None, None, None, None)
    >>> parse_size("lots")
    Traceback (most recent call last):
    ...
    ValueError: not a size: 'lots' (expected e.g. 512M, 8G)
    """
    if text is None:
        return None
    if isinstance(text, int) and not isinstance(text, bool):
        value = float(text)
    elif isinstance(text, str):
        s = text.strip().upper().removesuffix("B").removesuffix("I")
        factor = 1
        if s and s[-1] in _SIZE_UNITS:
            factor, s = _SIZE_UNITS[s[-1]], s[:-1]
        if not s.strip():
            if text.strip():
                raise ValueError(f"not a size: {text!r} (expected e.g. 512M, 8G)")
            return None
        try:
            value = float(s) * factor
        except ValueError:
            raise ValueError(f"not a size: {text!r} (expected e.g. 512M, 8G)") from None
    else:
        raise TypeError(f"a size is a string or a number of bytes, not {type(text).__name__}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"not a size: {text!r} (expected a positive size, e.g. 8G)")
    return int(value) or None


def parse_gpus(spec: str | int | Sequence[int | str] | None) -> list[str] | None:
    """The GPU ids a ``--gpus`` value names (as ``CUDA_VISIBLE_DEVICES`` and Docker take
    them), ``[]`` for none, ``["all"]`` for every GPU; None when no value was given, so that
    the caller decides (detect the GPUs, or hand over none).

    ``"none"``, ``"cpu"``, ``""`` and ``"-1"`` (CUDA's "no device") all mean no GPU.

    >>> parse_gpus("0, 2"), parse_gpus(1), parse_gpus([0, "3"]), parse_gpus("GPU-5d1e")
    (['0', '2'], ['1'], ['0', '3'], ['GPU-5d1e'])
    >>> parse_gpus("none"), parse_gpus("CPU"), parse_gpus(""), parse_gpus("-1"), parse_gpus([])
    ([], [], [], [], [])
    >>> parse_gpus("all"), parse_gpus(None)
    (['all'], None)
    """
    if spec is None:
        return None
    if isinstance(spec, bool):
        raise TypeError("a GPU spec is ids ('0,1'), 'all' or 'none', not a boolean")
    if isinstance(spec, int):
        items = [str(spec)]
    elif isinstance(spec, str):
        if spec.strip().lower() in _NO_GPU_WORDS:
            return []
        if spec.strip().lower() == ALL_GPUS:
            return [ALL_GPUS]
        items = spec.split(",")
    else:
        items = [str(g) for g in spec]
    return [g.strip() for g in items if g.strip() and g.strip() != _NO_DEVICE_ID]


def detect_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The ids of the GPUs available here.

    ``CUDA_VISIBLE_DEVICES`` of ``environ`` (default: this process's environment) when it
    is set: the GPUs this process may use. Otherwise every GPU of the host: nvidia-smi's
    indices (none when it fails), or, without nvidia-smi, the driver's ``/dev/nvidia<N>``
    device files; none without a driver. Pass ``environ={}`` for the host's GPUs whatever
    this process sees (what ``docker run --gpus all`` hands over).

    >>> detect_gpus({"CUDA_VISIBLE_DEVICES": "3,5"}), detect_gpus({"CUDA_VISIBLE_DEVICES": ""})
    (['3', '5'], [])
    >>> detect_gpus({})  # doctest: +SKIP
    ['0', '1']
    """
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return parse_gpus(visible) or []
    smi = shutil.which("nvidia-smi")
    if smi is not None:
        try:
            out = subprocess.run(
                [smi, "--query-gpu=index", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            return []  # a broken driver: its GPUs would not work either
        return [line.strip() for line in out.splitlines() if line.strip()]
    numbers = []
    for path in Path("/dev").glob("nvidia*"):
        m = _DEVICE_FILE.match(path.name)
        if m:
            numbers.append(int(m[1]))
    return [str(n) for n in sorted(numbers)]
