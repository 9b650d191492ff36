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
