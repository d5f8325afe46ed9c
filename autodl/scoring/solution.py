"""The solution file as scoring accepts it: labels that every NAUC can be computed against.

A solution that fails these checks makes the whole scoring ``bad_solution``: no prediction
can be judged against it.

>>> import tempfile
>>> from pathlib import Path
>>> path = Path(tempfile.mkdtemp()) / "toy.solution"
>>> _ = path.write_text("1 0\\n1 0\\n")
>>> read_solution(path)
Traceback (most recent call last):
...
autodl.protocol.atomic.ProtocolError: ...: no label column holds both classes (0 and 1), ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from autodl import protocol
from autodl.protocol import ProtocolError
from autodl.scoring.metrics import valid_columns

__all__ = ["read_solution"]


def read_solution(path: Path) -> np.ndarray:
    """The labels of the solution file ``path``; raises ProtocolError naming what is wrong.

    Not empty, every value finite, and at least one label column with both classes.
    """
    sol = protocol.read_matrix(path, name="solution")
    if sol.size == 0:
        raise ProtocolError(f"{path}: the solution is empty")
    if not np.isfinite(sol).all():
        i, j = np.argwhere(~np.isfinite(sol))[0]
        raise ProtocolError(
            f"{path}: line {i + 1}, column {j + 1}: {float(sol[i, j])!r} is not a finite number"
        )
    if not valid_columns(sol).any():
        raise ProtocolError(
            f"{path}: no label column holds both classes (0 and 1), so NAUC is undefined"
        )
    return sol
