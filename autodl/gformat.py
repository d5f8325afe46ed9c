"""``'%g'`` text of float arrays, vectorised: the bytes Python's ``'%g' % x`` gives, fast.

The AutoDL prediction format is ``'{:g}'`` values joined by single spaces, a line per
row, no trailing space: the bytes of the 2019 writer (``data_io.write``; protocol §4).
Formatting a million values one call at a time is slow; here the common case is done
with array arithmetic, in blocks of 16384 values, and the rest by Python itself:

1. Digits. For a finite ``v != 0`` with decimal exponent ``x``, the six significant
   digits are ``round(|v| * 10**(5 - x))``. The binary exponent gives ``x`` or ``x - 1``;
   a table of powers of ten says which. ``10**p`` is exact for ``|p| <= 22``, so the product is
   one correctly rounded operation: it cannot cross a rounding boundary ``M + 0.5`` (a
   double itself), only land on it. Products on or within 1e-9 of a boundary are left
   to Python, so every digit made here is the correctly rounded one, as Python's own.
2. Cells. The text of a value depends on its digits and a key: sign, exponent, number of
   digits left after stripping trailing zeros, and whether it ends a row. Per key a
   table holds a 16-byte template with '0' where the digits go, so a cell is the
   template with the raw digits OR-ed in, as two little-endian 64-bit words.
3. Text. A per-key mask of the bytes in use compresses the cells into the output.

Values outside the fast path (NaN, infinities, subnormals, ``|v| < 1e-16`` or
``>= 1e22``, near-ties) are formatted by ``'%g'`` and written into their cells.
"""

from __future__ import annotations

import functools

import numpy as np

PRECISION = 6  # '%g' significant digits
_XMIN, _XMAX = -16, 21  # decimal exponents of the fast path; 10**(5 - X) stays exact
_WIDTH = 16  # cell bytes; the longest text is '-1.23457e-308 ' (14)
_CHUNK = 1 << 14  # values per pass: keeps the temporaries in cache-sized pieces
_SLACK = 1e-9  # distance from a rounding boundary below which Python decides

__all__ = ["format_g"]


def format_g(values: np.ndarray) -> bytes:
    r"""The bytes of ``'%g'`` for every value, joined by ``' '``, ``'\n'`` ending each row.

    ``values`` is a 2-D array (one row per line); the result equals
    ``''.join(' '.join('%g' % v for v in row) + '\n' for row in values).encode()``.

    >>> format_g(np.array([[0.5, 1e-5, 123456789.0], [-0.0, 0.1234565, float("nan")]]))
    b'0.5 1e-05 1.23457e+08\n-0 0.123456 nan\n'
    """
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {arr.shape}")
    n, d = arr.shape
    if arr.size == 0:
        return b"\n" * n
    tables = _tables()
    flat = arr.ravel()
    parts = []
    for start in range(0, flat.size, _CHUNK):
        block = flat[start : start + _CHUNK]
        ends = np.zeros(block.size, dtype=np.int64)
        ends[(d - 1 - start) % d :: d] = 1  # the values of this block that end a row
        with np.errstate(all="ignore"):  # nan, inf and the like are Python's to format
            parts.append(_format_block(block, ends, tables))
    return b"".join(parts)


def _format_block(v: np.ndarray, ends: np.ndarray, t: _Tables) -> bytes:
    bits = v.view(np.uint64)
    neg = (bits >> np.uint64(63)).view(np.int64)
    a = np.abs(v)
    # The decimal exponent: floor(log10(2**e2)), or one more.
    e2 = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).view(np.int64) - 1023
    x = (e2 * 78913) >> 18  # the tables below span every x this gives
    ok = (x >= _XMIN - 1) & (x <= _XMAX)  # False for 0, subnormals, nan, inf, huge, tiny
    # Below 1 the table holds the doubles nearest to 10**x: next to a power of ten x may
    # be one too large (harmless: y rounds to 100000) or too small (y rounds to 1000000).
    x += a >= t.power[x + (t.offset0 + 1)]
    # y = a * 10**(5 - x), one exact power of ten, one rounding; a division above 1e5.
    p = (5 + t.offset0) - x
    y = a * t.scale_up[p]
    big = np.flatnonzero(x > 5)
    if big.size:
        y[big] = a[big] / t.scale_down[p[big]]
    # A correctly rounded y never crosses a rounding boundary M + 0.5, only lands on it.
    ok &= np.abs(y - np.floor(y) - 0.5) > _SLACK
    m = np.rint(y)
    carry = m >= 1_000_000  # 999999.6 -> 1.00000 of the next decade
    x += carry
    ok &= (m >= 100_000) & (m <= 1_000_000) & (x >= _XMIN) & (x <= _XMAX)
    mi = np.where(ok & ~carry, m, 0).astype(np.int64)
    mi[ok & carry] = 100_000
    hi = mi // 1000
    lo = mi - hi * 1000
    packed = t.digits[hi] | (t.digits[lo] << np.uint64(24))  # one raw digit per byte
    # Digits left once trailing zeros are stripped: the bytes up to the highest set bit,
    # read from the exponent of the (exact) float of the packed digits.
    bit_length = (packed.astype(np.float64).view(np.int64) >> 52) - 1022
    k = (bit_length + 7) >> 3

    key = ((neg * t.nx + (x - _XMIN)) * 6 + (k - 1)) * 2 + ends
    zero = (bits << np.uint64(1)) == 0
    key[~ok] = t.slow_key
    key[zero] = t.zero_key[neg[zero] * 2 + ends[zero]]

    # Open a one-byte gap for the '.' after the first r digits, then lay the digits over
    # the '0's of the key's template, which spans two little-endian words.
    r8 = t.split[key]
    low = (np.uint64(1) << r8) - np.uint64(1)
    digits = (packed & low) | ((packed >> r8) << (r8 + np.uint64(8)))
    shift = t.shift[key]
    cells = t.template[key].view("<u8").reshape(-1, 2)  # byte j of a word is j of the text
    cells[:, 0] |= digits << shift
    cells[:, 1] |= digits >> (np.uint64(64) - shift)
    keep = t.keep[key].view(np.bool_)
    bytes_ = cells.view(np.uint8).reshape(-1, _WIDTH)

    slow = np.flatnonzero(~(ok | zero))
    for i in slow.tolist():
        text = (f"{v[i]:g}" + ("\n" if ends[i] else " ")).encode("ascii")
        bytes_[i, : len(text)] = np.frombuffer(text, dtype=np.uint8)
        keep.reshape(-1, _WIDTH)[i, : len(text)] = True
    return np.compress(keep.ravel(), bytes_.ravel()).tobytes()


class _Tables:
    """Per-key layouts (template, digit shift, '.' split, kept bytes), digits and powers."""

    def __init__(self) -> None:
        self.nx = _XMAX - _XMIN + 1
        # Indexed by exponent + offset0 for every exponent of a double; only |e| <= 22,
        # where 10**e is exact, is used by values on the fast path.
        self.offset0 = 340
        exps = range(-self.offset0, self.offset0 + 1)
        self.power = np.array([float(f"1e{e}") for e in exps])
        # 10**-e is inexact, so a negative power divides by 10**e instead.
        self.scale_up = np.array([float(f"1e{e}") if e >= 0 else 1.0 for e in exps])
        self.scale_down = np.array([1.0 if e >= 0 else float(f"1e{-e}") for e in exps])
        # Raw digits (0-9, not ASCII) of 0..999, first digit in the lowest byte.
        i = np.arange(1000, dtype=np.uint64)
        ten = np.uint64(10)
        self.digits = (i // 100) | ((i // ten % ten) << np.uint64(8)) | ((i % ten) << np.uint64(16))

        layouts = [
            _layout(neg, xs + _XMIN, k, end)
            for neg in (0, 1)
            for xs in range(self.nx)
            for k in range(1, 7)
            for end in (0, 1)
        ]
        self.zero_key = np.arange(4) + len(layouts)
        layouts += [(("-0" if neg else "0") + _sep(end), 0, 0) for neg in (0, 1) for end in (0, 1)]
        self.slow_key = len(layouts)
        layouts.append(("", 0, 0))
        count = len(layouts)
        template = np.zeros((count, _WIDTH), dtype=np.uint8)
        keep = np.zeros((count, _WIDTH), dtype=np.bool_)
        self.shift = np.zeros(count, dtype=np.uint64)
        self.split = np.zeros(count, dtype=np.uint64)
        for j, (text, offset, split) in enumerate(layouts):
            template[j, : len(text)] = np.frombuffer(text.encode(), dtype=np.uint8)
            keep[j, : len(text)] = True
            self.shift[j], self.split[j] = 8 * offset, 8 * split
        # 16-byte rows gathered as one complex128 each: numpy's fast fixed-size path.
        self.template = template.view(np.complex128).ravel()
        self.keep = keep.view(np.complex128).ravel()


def _layout(neg: int, x: int, k: int, end: int) -> tuple[str, int, int]:
    """The cell of a value with sign ``neg``, exponent ``x``, ``k`` significant digits.

    Returns the text with '0' where the digits go, the offset of the first digit, and
    after how many digits a '.' interrupts them (6: none).
    """
    sign = "-" if neg else ""
    tail = _sep(end)
    if -4 <= x < PRECISION:
        if x >= 0:
            frac = "." + "0" * (k - x - 1) if k > x + 1 else ""
            return sign + "0" * (x + 1) + frac + tail, len(sign), x + 1
        return sign + "0." + "0" * (-x - 1) + "0" * k + tail, len(sign) + 1 - x, 6
    mantissa = "0." + "0" * (k - 1) if k > 1 else "0"
    return sign + mantissa + f"e{x:+03d}" + tail, len(sign), 1


def _sep(end: int) -> str:
    """What follows a value: a space between values, the newline after a row's last."""
    return "\n" if end else " "


@functools.cache
def _tables() -> _Tables:
    return _Tables()
