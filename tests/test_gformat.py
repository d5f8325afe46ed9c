"""The vectorised '%g' writer against Python's own '%g', value by value."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autodl.gformat import format_g


def python_g(values: np.ndarray) -> bytes:
    """The slow reference: Python's '%g' per value joined by spaces, a newline per row."""
    rows = values.tolist()
    return "".join(" ".join("%g" % v for v in row) + "\n" for row in rows).encode()  # noqa: UP031


def assert_same(values: np.ndarray) -> None:
    got, want = format_g(values), python_g(values)
    if got != want:  # name the first value that differs, not a 10 MB diff
        for i, (g, w) in enumerate(zip(got.split(b"\n"), want.split(b"\n"), strict=False)):
            for j, (gv, wv) in enumerate(zip(g.split(), w.split(), strict=False)):
                assert gv == wv, f"value [{i}, {j}] = {values[i, j]!r}: {gv!r} != {wv!r}"
        assert got == want


def neighbours(values: list[float]) -> np.ndarray:
    """Each value with the doubles on either side of it."""
    v = np.array(values, dtype=np.float64)
    return np.concatenate([np.nextafter(v, -np.inf), v, np.nextafter(v, np.inf)])


def test_docstring_example():
    values = np.array([[0.5, 1e-5, 123456789.0], [-0.0, 0.1234565, float("nan")]])
    assert format_g(values) == b"0.5 1e-05 1.23457e+08\n-0 0.123456 nan\n"


def test_probabilities_like_predictions():
    rng = np.random.default_rng(0)
    p = rng.random((3000, 37))
    p[:, 0] = np.round(p[:, 0], 2)
    p[:, 1] = 0.0
    p[:, 2] = 1.0
    p[:, 3] = rng.random(3000) ** 8  # small probabilities down to ~1e-30
    assert_same(p)


def test_every_magnitude_and_sign():
    rng = np.random.default_rng(1)
    mantissa = rng.standard_normal((4000, 9))
    exponent = rng.integers(-40, 40, size=mantissa.shape)
    assert_same(mantissa * 10.0**exponent)


def test_random_bit_patterns():
    # Every double is fair game: subnormals, NaN payloads, infinities, huge and tiny.
    rng = np.random.default_rng(2)
    bits = rng.integers(0, 2**64, size=(20000, 8), dtype=np.uint64)
    assert_same(bits.view(np.float64))


def test_powers_of_ten_and_their_neighbours():
    # Where the decimal exponent changes: the estimate from the binary exponent is one off.
    assert_same(neighbours([10.0**e for e in range(-30, 31)]).reshape(-1, 3))


def test_rounding_boundaries():
    # Doubles nearest to d.dddddd5 x 10^e, the ties of six-digit rounding, and their
    # neighbours: where a product rounded once could still round the wrong way.
    rng = np.random.default_rng(3)
    digits = rng.integers(1_000_000, 10_000_000, size=3000)
    exponents = rng.integers(-22, 25, size=3000)
    ties = [float(f"{m}5e{e}") for m, e in zip(digits.tolist(), exponents.tolist(), strict=True)]
    carries = [float(f"9999995e{e}") for e in range(-25, 25)]  # round up to one more digit
    exact = [1234565.0, 0.5, 2.5, 1000005.0, 3.0517578125e-05]  # exactly representable ties
    assert_same(neighbours(ties + carries + exact).reshape(-1, 3))


def test_short_and_round_numbers():
    rng = np.random.default_rng(4)
    rounded = np.concatenate(
        [np.round(rng.random(20000) * 10.0**s, r) for s in (0, 3, 6) for r in range(7)]
    )
    assert_same(rounded.reshape(-1, 7))
    integers = np.arange(1, 2_000_001, dtype=np.float64) * 10.0 ** rng.integers(-8, 8)
    assert_same(integers.reshape(-1, 40))


def test_special_values():
    specials = [
        0.0,
        -0.0,
        math.nan,
        -math.nan,
        math.inf,
        -math.inf,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
    ]
    assert_same(np.array([specials, specials[::-1]]))
    assert_same(np.array(specials)[:, None])  # every value ends its row


@pytest.mark.parametrize("shape", [(0, 5), (4, 0), (1, 1), (1, 70001), (70001, 1), (1000, 77)])
def test_shapes_and_block_boundaries(shape):
    # Rows that straddle the internal blocks still end with their newline.
    values = np.random.default_rng(5).random(shape)
    assert_same(values)


def test_dtypes_and_layouts():
    rng = np.random.default_rng(6)
    assert_same(rng.random((50, 8)).astype(np.float32))
    assert_same(rng.integers(-(10**9), 10**9, size=(50, 8)))
    wide = rng.random((40, 30))
    assert_same(wide[::3, ::-2])  # not contiguous
    with pytest.raises(ValueError, match="2-D"):
        format_g(np.zeros(3))
