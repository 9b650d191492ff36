"""A done change's label on a trend chart stays inside the chart: to the right of its dashed line early in the
window, to its left near the right edge (a change marked done today)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.cycle_charts import add_annotations

DAYS = pd.date_range("2026-11-01", "2026-11-14", freq="D", tz="UTC")


def chart() -> go.Figure:
    return go.Figure(go.Bar(x=DAYS, y=list(range(len(DAYS)))))


def test_a_change_on_the_last_day_has_its_label_left_of_its_line():
    fig = add_annotations(chart(), [(dt.date(2026, 11, 14), "Content production centralised")])
    (label,) = fig.layout.annotations
    assert label.xanchor == "right" and label.align == "right"
    assert label.hovertext == "Content production centralised (14 Nov 2026)"


def test_a_change_early_in_the_window_has_its_label_right_of_its_line():
    fig = add_annotations(chart(), [(dt.date(2026, 11, 2), "Early change")])
    assert fig.layout.annotations[0].xanchor == "left"


def test_a_fixed_time_axis_decides_and_the_line_does_not_widen_it():
    fig = chart()
    fig.update_xaxes(range=["2026-10-01", "2026-11-14"])
    add_annotations(fig, [(dt.date(2026, 11, 1), "Mid-window change")])
    assert fig.layout.annotations[0].xanchor == "right"  # 1 Nov is late in a window from 1 Oct
    assert list(fig.layout.xaxis.range) == ["2026-10-01", "2026-11-14"]
    assert len(fig.data) == 1  # a layout shape, no extra trace


def test_a_chart_without_data_keeps_the_label_to_the_right():
    fig = add_annotations(go.Figure(), [(dt.date(2026, 11, 14), "Change")])
    assert fig.layout.annotations[0].xanchor == "left"
