"""numpy's removed aliases, put back for a submission written before they went.

numpy 1.20 deprecated and 1.24 removed ``np.float``, ``np.int``, ``np.bool``,
``np.object``, ``np.complex``, ``np.str``, ``np.long`` and ``np.unicode`` (they were
the builtins); numpy 2.0 removed ``np.float_``, ``np.complex_``, ``np.unicode_``,
``np.string_``, ``np.NaN``, ``np.Inf`` and a few more. 2019 code uses them freely.

The worker calls :func:`restore` just before importing the submission's ``model.py``,
and only in an environment whose manifest asks for it (``legacy``): our own code never
runs with them. A name numpy still has is left alone (numpy 2 has ``np.bool`` and
``np.long`` again, with other meanings than the builtins).

Skipped below: it changes numpy for the whole process.

>>> import numpy as np
>>> restore(np)                     # doctest: +SKIP
['bool', 'int', 'float', 'complex', 'object', 'str', 'long', 'unicode']
>>> np.float is float               # doctest: +SKIP
True
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

# name -> a builtin (numpy < 1.24 had exactly those objects there)
_BUILTINS = {
    "bool": "bool",
    "int": "int",
    "float": "float",
    "complex": "complex",
    "object": "object",
    "str": "str",
    "long": "int",
    "unicode": "str",
}
# name -> the numpy attribute it was an alias of (removed in numpy 2.0)
_NUMPY2 = {
    "float_": "float64",
    "complex_": "complex128",
    "cfloat": "complex128",
    "singlecomplex": "complex64",
    "longfloat": "longdouble",
    "clongfloat": "clongdouble",
    "longcomplex": "clongdouble",
    "unicode_": "str_",
    "string_": "bytes_",
    "Inf": "inf",
    "Infinity": "inf",
    "infty": "inf",
    "PINF": "inf",
    "NaN": "nan",
    "NAN": "nan",
}


def _present(np: Any, name: str) -> bool:
    # numpy >= 1.24 raises AttributeError from its module __getattr__, after a
    # FutureWarning for some of the names: asking must not print it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            getattr(np, name)
        except AttributeError:
            return False
    return True


def restore(np: Any) -> list[str]:
    """Set the removed aliases that ``np`` lacks; returns the names set."""
    added = []
    for name, target in _BUILTINS.items():
        if not _present(np, name):
            setattr(np, name, getattr(builtins, target))
            added.append(name)
    for name, target in _NUMPY2.items():
        if not _present(np, name) and _present(np, target):
            setattr(np, name, getattr(np, target))
            added.append(name)
    return added
