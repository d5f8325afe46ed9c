"""What the worker sends, checked before the supervisor believes any of it.

The worker runs the participant's code, so every field of its replies is untrusted:
a prediction must have the announced shape and dtype and finite values, a device report
is cut down to known fields of known types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


class BadPrediction(ValueError):
    """A prediction that cannot be recorded; the message says what is wrong with it."""


def sanitize_device(device: Any) -> dict[str, Any]:
    """The worker's device report, reduced to known fields of known types."""
    if not isinstance(device, dict):
        return {"type": "cpu", "name": "", "memory_bytes": 0}
    kind = device.get("type") if device.get("type") in ("cpu", "cuda") else "cpu"
    name = device.get("name") if isinstance(device.get("name"), str) else ""
    memory = device.get("memory_bytes")
    count = device.get("count")
    return {
        "type": kind,
        "name": name[:200],
        "memory_bytes": memory if isinstance(memory, int) and memory >= 0 else 0,
        "count": count if isinstance(count, int) and count >= 0 else None,
    }


def describe_shape(header: dict[str, Any], k: int, shape: tuple[int, int]) -> str:
    got = header.get("shape")
    return (
        f"prediction {k} has shape {tuple(got) if isinstance(got, list) else got}, "
        f"expected (num_test, output_dim) = {shape}"
    )


def check_prediction(
    header: dict[str, Any], payload: bytes, shape: tuple[int, int], k: int
) -> np.ndarray:
    """The prediction as an array, or :class:`BadPrediction` saying what is wrong."""
    import numpy as np

    got = header.get("shape")
    dtype = header.get("dtype")
    if not (isinstance(got, list) and all(isinstance(x, int) and x >= 0 for x in got)):
        raise BadPrediction(f"prediction {k}: malformed shape {got!r}")
    if tuple(got) != shape:
        raise BadPrediction(describe_shape(header, k, shape))
    if dtype not in ("<f4", "<f8"):
        raise BadPrediction(f"prediction {k}: unsupported dtype {dtype!r}")
    arr = np.frombuffer(payload, dtype=dtype)
    if arr.size != shape[0] * shape[1]:
        raise BadPrediction(f"prediction {k}: {arr.size} values received, {shape} announced")
    arr = arr.reshape(shape)
    finite = np.isfinite(arr)
    if not finite.all():
        nan = int(np.isnan(arr).sum())
        inf = arr.size - int(finite.sum()) - nan
        row, col = (int(i) for i in np.argwhere(~finite)[0])
        raise BadPrediction(
            f"prediction {k} has {nan} NaN and {inf} infinite values "
            f"(first at row {row}, column {col}); predictions must be finite numbers",
        )
    return arr
