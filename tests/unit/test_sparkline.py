"""The KPI tiles' sparkline: a bare plotly line with no points, so it never counts as the map being drawn."""

from __future__ import annotations

from dashboard.charts.palette import GREEN, PRIMARY
from dashboard.charts.sparkline import CONFIG, sparkline


def test_sparkline_is_one_line_without_markers_axes_or_legend():
    fig = sparkline([3, 1, 4, 1, 5, 9])
    (trace,) = fig.data
    assert trace.mode == "lines"  # no markers: the browser tests and benchmark wait for the map's points
    assert list(trace.y) == [3, 1, 4, 1, 5, 9]
    assert trace.line.color == PRIMARY and trace.hoverinfo == "skip"
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.showlegend is False and fig.layout.height <= 80


def test_sparkline_takes_the_tile_colour_and_pads_the_range():
    fig = sparkline([10.0, 12.0], colour=GREEN)
    assert fig.data[0].line.color == GREEN
    lo, hi = fig.layout.yaxis.range
    assert lo < 10.0 and hi > 12.0


def test_flat_and_negative_series_still_draw():
    flat = sparkline([5, 5, 5])
    lo, hi = flat.layout.yaxis.range
    assert lo < 5 < hi
    negative = sparkline([-2, -1, -3])
    assert negative.data[0].fill is None  # no fill to zero across a negative line


def test_sparkline_is_static_without_a_mode_bar():
    assert CONFIG == {"displayModeBar": False, "staticPlot": True}


def test_marks_are_thin_dotted_lines_at_fractional_positions():
    import datetime as dt

    from dashboard.charts.sparkline import MARK_COLOUR, mark_positions

    times = [dt.datetime(2026, 11, d, tzinfo=dt.UTC) for d in (1, 3, 5, 7)]
    days = [dt.date(2026, 11, 4), dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 9)]
    assert mark_positions(times, days) == (0.0, 1.5)  # outside the span: left out
    assert mark_positions(times[:1], days) == () and mark_positions(times, []) == ()
    fig = sparkline([1, 2, 3, 4], marks=(1.5,))
    (shape,) = fig.layout.shapes
    assert (shape.x0, shape.x1, shape.yref) == (1.5, 1.5, "paper")
    assert shape.line.color == MARK_COLOUR and shape.line.dash == "dot" and shape.line.width <= 1
    assert list(fig.layout.xaxis.range) == [0, 3]
    assert len(fig.data) == 1  # no extra trace: still one line without points
    assert sparkline([1, 2]).layout.shapes == ()
