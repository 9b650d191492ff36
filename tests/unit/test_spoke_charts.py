"""The spoke page's charts say what they show: axes of whole things tick on whole numbers, the ROI axis on round
percentages with its title clear of the legend, cycle-time bins read upright, KPI names show literally."""

from __future__ import annotations

import pandas as pd

from dashboard.charts import spoke_charts
from dashboard.domain.stats import CYCLE_BIN_COLUMNS


def test_roi_axis_ticks_on_round_percentages_and_the_legend_sits_under_the_plot():
    returns = pd.DataFrame({"channel": ["email", "search", "display"], "spend": [50906.0, 224262.0, 113891.0],
                            "revenue": [390956.0, 737203.0, 65930.0], "roi": [6.68, 2.2872, -0.4211]})
    fig = spoke_charts.channel_roi(returns)
    y2 = fig.layout.yaxis2
    assert y2.tickmode == "auto" and y2.ticksuffix == " %" and y2.tickformat == ".0f"  # never -123 / 110 / 343
    lo, hi = y2.range
    assert lo < -42.11 and hi > 668  # every ROI point and its label inside the axis
    assert (fig.layout.legend.yref, fig.layout.legend.y, fig.layout.legend.yanchor) == ("container", 0, "bottom")
    assert fig.layout.yaxis.tickprefix == "€"
    roi = next(t for t in fig.data if t.name == "ROI")
    assert list(roi.text) == ["668.0 %", "228.7 %", "-42.1 %"]  # as in the table beside it


def test_cycle_bins_are_labelled_upright_every_sixth_bin():
    hist = pd.DataFrame([{"direction": "in", **{c: i for i, c in enumerate(CYCLE_BIN_COLUMNS)}}])
    fig = spoke_charts.cycle_distribution(hist)
    assert fig.layout.xaxis.tickangle == 0
    assert list(fig.layout.xaxis.tickvals) == list(fig.data[0].x)[::6]
    assert fig.layout.yaxis.tickformat == ",d"


def test_small_counts_get_one_tick_each():
    trend = pd.DataFrame({"ts": pd.date_range("2026-11-01", periods=3, freq="D", tz="UTC"), "direction": "in",
                          "created": [1.0, 2.0, 3.0], "backlog": [1.0, 3.0, 4.0], "breaches": [0.0, 1.0, 3.0]})
    fig = spoke_charts.backlog_and_breaches(trend)
    assert fig.layout.yaxis2.dtick == 1 and fig.layout.yaxis2.tickformat == ",d"
    assert fig.layout.yaxis.dtick == 1


def test_kpi_tree_shows_names_literally_and_values_by_unit():
    kpis = pd.DataFrame({"id": ["goal", "k"], "unit_id": ["sales", "sales"], "name": ["Revenue <b>", "Releases & fixes"],
                         "parent_id": [None, "goal"], "on_target": [True, None], "unit_of_measure": ["EUR", "count"],
                         "value": [899767.391, 13.3], "window_target": [840000.0, 10.5]})
    tree = spoke_charts.kpi_tree(kpis, "sales", {"sales": "Sales"}).data[0]
    assert list(tree.labels) == ["Revenue &lt;b&gt;", "Releases &amp; fixes"]
    assert list(tree.text) == ["€900k (target €840k)", "13 (target 10)"]
