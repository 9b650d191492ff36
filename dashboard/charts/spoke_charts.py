"""Charts for a spoke's page: pure functions, data in, plotly Figure out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.cycle_charts import add_annotations
from dashboard.charts.palette import AMBER, BAND_COLOURS, GREY, PRIMARY, RED, SERIES
from dashboard.db import CYCLE_BIN_COLUMNS, CYCLE_BIN_EDGES_H
from dashboard.domain import format as fmt

DIRECTION_LABEL = {"in": "Hub → spoke", "out": "Spoke → hub"}


def _layout(fig: go.Figure, height: int = 280, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=1.12), **kw)
    return fig


def flow_volume(trend: pd.DataFrame, annotations=None) -> go.Figure:
    """Items created per bucket and direction; ``annotations`` (done operating-model changes: date, label) are
    drawn as dashed lines (dashboard.charts.cycle_charts.add_annotations)."""
    fig = go.Figure()
    for i, (direction, g) in enumerate(trend.groupby("direction")):
        fig.add_trace(go.Bar(x=g.ts, y=g.created, name=DIRECTION_LABEL.get(direction, direction), marker_color=SERIES[i],
                             hovertemplate="%{x|%d %b %H:%M}: %{y:,.0f} items<extra></extra>"))
    add_annotations(fig, annotations)
    return _layout(fig, barmode="group", yaxis_title="items", title="Volume")


def backlog_and_breaches(trend: pd.DataFrame, annotations=None) -> go.Figure:
    fig = go.Figure()
    for i, (direction, g) in enumerate(trend.groupby("direction")):
        label = DIRECTION_LABEL.get(direction, direction)
        fig.add_trace(go.Scatter(x=g.ts, y=g.backlog, name=f"Open · {label}", mode="lines", line=dict(color=SERIES[i]),
                                 hovertemplate="%{x|%d %b}: %{y:,.0f} open<extra></extra>"))
        fig.add_trace(go.Bar(x=g.ts, y=g.breaches, name=f"SLA breaches · {label}", marker_color=[RED, AMBER][i % 2],
                             opacity=0.6, yaxis="y2", hovertemplate="%{x|%d %b}: %{y:,.0f} breaches<extra></extra>"))
    add_annotations(fig, annotations)
    _layout(fig, height=320, title="Backlog and SLA breaches", yaxis=dict(title="open items"),
            yaxis2=dict(title="breaches", overlaying="y", side="right", showgrid=False))
    # four legend entries wrap in a half-width column: below the plot they cover neither the lines nor the
    # change annotations at the plot's top
    return fig.update_layout(legend=dict(orientation="h", y=-0.12, yanchor="top"))


def cycle_distribution(hist: pd.DataFrame) -> go.Figure:
    labels = [f"≤ {fmt.hours(e)}" for e in CYCLE_BIN_EDGES_H] + [f"> {fmt.hours(CYCLE_BIN_EDGES_H[-1])}"]
    fig = go.Figure()
    for i, row in enumerate(hist.itertuples()):
        counts = [getattr(row, c) for c in CYCLE_BIN_COLUMNS]
        if sum(counts) == 0:
            continue
        fig.add_trace(go.Bar(x=labels, y=counts, name=DIRECTION_LABEL.get(row.direction, row.direction),
                             marker_color=SERIES[i], hovertemplate="%{x}: %{y:,.0f} items<extra></extra>"))
    return _layout(fig, barmode="group", title="Cycle time (created → resolved)", yaxis_title="items")


def kpi_tree(kpis: pd.DataFrame, unit: str, unit_names: dict[str, str]) -> go.Figure:
    """The KPI tree as a treemap: every KPI under its parent, ending at the shared goal; the spoke's own
    KPIs in full colour (green on target, red off, grey no data), the rest of the organisation faded."""
    status_colour = {True: BAND_COLOURS["green"], False: BAND_COLOURS["red"], None: GREY}
    ids, labels, parents, colours, texts = [], [], [], [], []
    known = set(kpis.id)
    for k in kpis.itertuples():
        ids.append(k.id)
        owner = unit_names.get(k.unit_id, k.unit_id)
        labels.append(f"{k.name}<br><sub>{owner}</sub>")
        parents.append(k.parent_id if isinstance(k.parent_id, str) and k.parent_id in known else "")
        colour = status_colour[k.on_target if k.on_target in (True, False) else None]
        colours.append(colour if k.unit_id == unit else _fade(colour))
        texts.append(f"{fmt.measure(k.value, k.unit_of_measure)} (target {fmt.measure(k.window_target, k.unit_of_measure)})")
    fig = go.Figure(go.Treemap(ids=ids, labels=labels, parents=parents, text=texts, marker=dict(colors=colours),
                               textinfo="label+text", branchvalues="remainder", hovertemplate="%{label}<br>%{text}<extra></extra>",
                               root_color="white"))
    return _layout(fig, height=360, title="Where this team sits in the KPI tree")


def _fade(hex_colour: str, amount: float = 0.7) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def capacity_chart(daily: pd.Series, capacity: float) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(daily.index), y=daily.values, name="Leads per day", marker_color=PRIMARY,
                         hovertemplate="%{x|%d %b}: %{y:,.0f} leads<extra></extra>"))
    if len(daily) >= 2:
        x = np.arange(len(daily), dtype=float)
        slope, intercept = np.polyfit(x, daily.to_numpy(dtype=float), 1)
        fig.add_trace(go.Scatter(x=list(daily.index), y=intercept + slope * x, name="Trend", mode="lines",
                                 line=dict(color=AMBER, dash="dot")))
    fig.add_hline(y=capacity, line=dict(color=RED, dash="dash"), annotation_text=f"capacity {capacity:,.0f}/day")
    return _layout(fig, title="Leads arriving vs what sales can work", yaxis_title="leads per day")


def channel_roi(returns: pd.DataFrame) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Bar(x=returns.channel, y=returns.spend, name="Spend", marker_color=SERIES[0]))
    fig.add_trace(go.Bar(x=returns.channel, y=returns.revenue, name="Revenue", marker_color=SERIES[1]))
    fig.add_trace(go.Scatter(x=returns.channel, y=returns.roi * 100, name="ROI %", mode="markers+text", yaxis="y2",
                             text=[fmt.percent(r) for r in returns.roi], textposition="top center",
                             marker=dict(size=11, color=SERIES[3])))
    return _layout(fig, barmode="group", title="Spend and revenue by channel", yaxis_title="€",
                   yaxis2=dict(title="ROI %", overlaying="y", side="right", showgrid=False))
