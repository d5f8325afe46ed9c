"""The learning-curve style: drawn pictures checked by their pixels and by where matplotlib
put every label (no two overlap), the seconds on the top axis, the zoom panel for curves
that end early."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from matplotlib.text import Text

from autodl.report.curves import learning_curve_figure, seconds_ticks
from autodl.scoring.curve import LearningCurve, rescale_time

LINE_BLUE = np.array([31, 119, 180])
TINT = 255 - 0.16 * (255 - LINE_BLUE)  # the area under a single curve

AT_ONE = LearningCurve((0.5, 2.6, 5.1, 7.0), (0.9986, 0.9999, 1.0, 1.0), 60.0, task_name="d")
RISING = LearningCurve((3, 30, 100, 400, 590), (0.2, 0.45, 0.6, 0.7, 0.72), 600.0)
LOW = LearningCurve((5, 50, 300), (0.02, 0.05, 0.1), 600.0)


def _pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(int)


def _at(fig, ax, x: float, y: float) -> tuple[int, int]:
    """(row, column) of the data point (x, y) of ``ax`` in the drawn picture."""
    px, py = ax.transData.transform((x, y))
    return int(round(fig.bbox.height - py)), int(round(px))


def _is(pixels: np.ndarray, colour: np.ndarray, tol: float) -> np.ndarray:
    return np.abs(pixels - colour).sum(axis=-1) < tol


def test_a_curve_at_nauc_1_is_a_visible_line_with_its_points_and_room_above():
    fig = learning_curve_figure(AT_ONE)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert high >= 1.05 and max(ax.get_yticks()) == pytest.approx(1.0)  # ticks stop at 1
    pixels = _pixels(fig)
    x = rescale_time(AT_ONE.timestamps, 60.0, 60.0)
    # Along the solid line between the first and the last prediction: the line's colour.
    row, left = _at(fig, ax, float(x[0]), 1.0)
    _, right = _at(fig, ax, float(x[-1]), 1.0)
    band = pixels[row - 2 : row + 3, left + 6 : right - 6]
    # The line's blue, antialiased: far darker in red than the tint (219) or the paper.
    line = (band[..., 0] < 130) & (band[..., 2] > 150)
    assert line.any(axis=0).mean() > 0.9  # the markers' white rims make the only gaps
    # Above the line, inside the frame: background (no fill); below it: the light tint.
    mid = (left + right) // 2
    above = pixels[row - 12 : row - 4, mid]
    below = pixels[row + 6 : row + 14, mid]
    assert (above.min(axis=-1) > 235).all(), above
    assert _is(below, TINT, 15).all(), below
    # Every prediction's marker is drawn (in the line's colour) at its place.
    for xi, yi in zip(x, AT_ONE.scores, strict=True):
        r, c = _at(fig, ax, float(xi), yi)
        assert _is(pixels[r - 1 : r + 2, c - 1 : c + 2], LINE_BLUE, 60).any(), (xi, yi)
    # The line is drawn over the fill, the fill over the grid.
    zorders = {type(a).__name__: a.get_zorder() for a in ax.get_children()}
    assert zorders["Line2D"] > zorders["FillBetweenPolyCollection"] > 0.5


@pytest.mark.parametrize(
    "curves, labels",
    [
        ([AT_ONE], None),
        ([RISING], None),
        ([LOW], None),
        ([LearningCurve((1.0, 7.5), (0.3, 0.98), 8.0)], None),
        ([LearningCurve((60.0, 1100.0), (0.5, 1.0), 1200.0)], None),
        (
            [RISING, LOW, LearningCurve((1, 2), (0.99, 1.0), 600.0), None],
            ["good", "meh", "a_submission_with_a_rather_long_name", "broken"],
        ),
    ],
)
def test_no_two_labels_overlap(curves, labels):
    fig = learning_curve_figure(curves, labels, show_final_score=labels is None)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text().strip()):
            continue
        box = t.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((t.get_text(), box))
    assert len(boxes) > 15  # the ticks, the axis labels, the title, the legend
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        assert not ba.overlaps(bb), f"{a!r} overlaps {b!r}"
    # Everything is inside the picture.
    for text, box in boxes:
        assert box.x0 >= 0 and box.y0 >= 0, text
        assert box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height, text


def test_the_top_axis_is_in_seconds_up_to_the_budget():
    fig = learning_curve_figure(RISING)
    top = next(a for a in fig.axes if a.get_xlabel() == "time (s)")
    ticks = seconds_ticks(600.0, 60.0)
    assert [t.get_text() for t in top.get_xticklabels()] == [f"{t:g}" for t in ticks]
    assert ticks[-1] == 600.0
    np.testing.assert_allclose(top.get_xticks(), rescale_time(ticks, 600.0, 60.0))


def test_a_curve_that_ends_early_gets_a_panel_in_linear_seconds():
    fig = learning_curve_figure(AT_ONE)
    (zoom,) = [a for a in fig.axes if a.get_xlabel().startswith("time (s), linear")]
    lo, hi = zoom.get_xlim()
    assert lo == 0 and 7.0 < hi < 8.0  # the last point, 7 s, and a little room
    xs = np.concatenate([line.get_xdata() for line in zoom.get_lines()])
    assert set(AT_ONE.timestamps) <= set(xs.tolist())  # the points at their seconds
    # A curve that uses its budget needs no zoom panel.
    late = learning_curve_figure(RISING)
    assert not [a for a in late.axes if a.get_xlabel().startswith("time (s), linear")]


def test_names_are_drawn_as_written_not_as_math():
    # "$" starts matplotlib's math; "$\frac{" alone would make the drawing fail.
    fig = learning_curve_figure([RISING, LOW], ["cost$\\frac{1", "b$x$"], title="$x$ run")
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0].startswith("cost\\$\\frac{1: ALC") and texts[1].startswith("b\\$x\\$: ALC")
    assert fig.axes[0].get_title() == "\\$x\\$ run"
