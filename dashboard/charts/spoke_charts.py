"""Charts for a spoke's page: pure functions, data in, plotly Figure out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.cycle_charts import add_annotations
from dashboard.charts.labels import literal
from dashboard.charts.palette import AMBER, BAND_COLOURS, GREY, PRIMARY, RED, SERIES
from dashboard.domain import format as fmt
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, CYCLE_BIN_EDGES_H

DIRECTION_LABEL = {"in": "Hub → spoke", "out": "Spoke → hub"}
# dates on one line ("7 Dec", or "14:00" within a day): no second line with the year under the first tick for a
# legend below the plot to run into
DATE_AXIS = dict(tickformatstops=[dict(dtickrange=[None, 86_400_000 - 1], value="%H:%M"),
                                  dict(dtickrange=[86_400_000, None], value="%-d %b")])


# Every legend sits at the bottom of the figure, below the axis labels (the margin grows to make room when it
# wraps in a narrow column): it never covers the title, a tick label or the data.
LEGEND = dict(orientation="h", yref="container", y=0, yanchor="bottom", x=0, xanchor="left")


def _layout(fig: go.Figure, height: int = 280, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10), legend=LEGEND, **kw)
    return fig


def _count_axis(peak: float, **kw) -> dict:
    """A y axis of whole things on round ticks from zero (its own ticks, never synced to another axis'):
    at most a handful of small counts get one tick each."""
    axis = dict(fmt.AXIS_COUNT, rangemode="tozero", tickmode="auto", nticks=6, **kw)
    if not (peak > 5):  # 0..5 items (or none): ticks 0, 1, 2 ... rather than repeated whole labels
        axis |= dict(tickmode="linear", tick0=0, dtick=1, range=[0, max(peak, 1) * 1.05])
    return axis


def _time_axis(fig: go.Figure, span) -> None:
    """The x axis spans the window (``span``: its start and end, widened to whole buckets) and nothing more: a
    change marked today draws its line inside the range instead of stretching the axis to make room for its
    label, and each label sits on the side of its line that has room."""
    if span is None:
        return
    lo, hi = (_naive_utc(t) for t in span)
    fig.update_xaxes(range=[_iso(lo), _iso(hi)], autorange=False, **DATE_AXIS)
    middle = lo + (hi - lo) / 2
    for a in fig.layout.annotations:
        if _naive_utc(a.x) > middle:
            a.update(xanchor="right", align="right")


def _naive_utc(t) -> pd.Timestamp:
    ts = pd.Timestamp(t)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _iso(t) -> str:
    """A moment as plotly's date-axis string, in UTC like the bars (plotly ignores zone offsets)."""
    return _naive_utc(t).strftime("%Y-%m-%d %H:%M:%S")


def _bars_in_period(bucket_hours: float | None) -> dict:
    """Bars drawn across their bucket (start to end) rather than centred on its start."""
    if not bucket_hours:
        return {}
    return dict(xperiod=bucket_hours * 3_600_000, xperiodalignment="middle")


def flow_volume(trend: pd.DataFrame, annotations=None, span=None, bucket_hours: float | None = None) -> go.Figure:
    """Items created per bucket and direction; ``annotations`` (done operating-model changes: date, label) are
    drawn as dashed lines (dashboard.charts.cycle_charts.add_annotations); ``span`` (window start, end) fixes
    the time axis to the window; ``bucket_hours``: each bar spans its bucket."""
    fig = go.Figure()
    for i, (direction, g) in enumerate(trend.groupby("direction")):
        fig.add_trace(go.Bar(x=_utc(g.ts), y=g.created, name=DIRECTION_LABEL.get(direction, direction),
                             marker_color=SERIES[i], **_bars_in_period(bucket_hours),
                             hovertemplate="%{x|%d %b %H:%M}: %{y:,.0f} items<extra></extra>"))
    add_annotations(fig, annotations)
    _time_axis(fig, span)
    peak = float(trend.groupby("ts").created.max().max()) if not trend.empty else 0.0
    return _layout(fig, barmode="group", title="Volume", yaxis=_count_axis(peak, title="items"))


def backlog_and_breaches(trend: pd.DataFrame, annotations=None, span=None,
                         bucket_hours: float | None = None) -> go.Figure:
    fig = go.Figure()
    for i, (direction, g) in enumerate(trend.groupby("direction")):
        label = DIRECTION_LABEL.get(direction, direction)
        fig.add_trace(go.Scatter(x=_utc(g.ts), y=g.backlog, name=f"Open · {label}", mode="lines",
                                 line=dict(color=SERIES[i]),
                                 hovertemplate="%{x|%d %b %H:%M}: %{y:,.0f} open<extra></extra>"))
        fig.add_trace(go.Bar(x=_utc(g.ts), y=g.breaches, name=f"SLA breaches · {label}", marker_color=[RED, AMBER][i % 2],
                             opacity=0.6, yaxis="y2", **_bars_in_period(bucket_hours),
                             hovertemplate="%{x|%d %b %H:%M}: %{y:,.0f} breaches<extra></extra>"))
    add_annotations(fig, annotations)
    _time_axis(fig, span)
    backlog = float(trend.backlog.max()) if not trend.empty else 0.0
    breaches = float(trend.breaches.max()) if not trend.empty else 0.0
    _layout(fig, height=320, title="Backlog and SLA breaches", yaxis=_count_axis(backlog, title="open items"),
            yaxis2=_count_axis(breaches, title="breaches", overlaying="y", side="right", showgrid=False))
    return fig


def _utc(ts: pd.Series) -> list[str]:
    """Bucket starts as plotly date strings in UTC (the axis range is given in UTC too)."""
    return [_iso(t) for t in ts]


def cycle_distribution(hist: pd.DataFrame) -> go.Figure:
    """Items resolved per cycle-time bin and direction. Every bin keeps its bar and its exact range on hover; the
    axis names every sixth bin upright, so the labels stay readable in a half-width column on a laptop."""
    labels = [f"≤ {fmt.hours(e)}" for e in CYCLE_BIN_EDGES_H] + [f"> {fmt.hours(CYCLE_BIN_EDGES_H[-1])}"]
    fig = go.Figure()
    peak = 0
    for i, row in enumerate(hist.itertuples()):
        counts = [getattr(row, c) for c in CYCLE_BIN_COLUMNS]
        if sum(counts) == 0:
            continue
        peak = max(peak, max(counts))
        fig.add_trace(go.Bar(x=labels, y=counts, name=DIRECTION_LABEL.get(row.direction, row.direction),
                             marker_color=SERIES[i], hovertemplate="resolved %{x}: %{y:,.0f} items<extra></extra>"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, tickmode="array",
                     tickvals=labels[::6], ticktext=labels[::6], tickangle=0, title_text="resolved within")
    return _layout(fig, barmode="group", title="Cycle time (created → resolved)", yaxis=_count_axis(peak, title="items"))


def kpi_tree(kpis: pd.DataFrame, unit: str, unit_names: dict[str, str]) -> go.Figure:
    """The KPI tree as a treemap: every KPI under its parent, ending at the shared goal; the spoke's own
    KPIs in full colour (green on target, red off, grey no data), the rest of the organisation faded. Values
    read as on the tiles (:func:`dashboard.domain.format.kpi`); a box too small for readable text shows none
    (its name and value are on hover, and a click zooms into it)."""
    status_colour = {True: BAND_COLOURS["green"], False: BAND_COLOURS["red"], None: GREY}
    ids, labels, parents, colours, texts, hovers = [], [], [], [], [], []
    known = set(kpis.id)
    for k in kpis.itertuples():
        ids.append(k.id)
        owner = unit_names.get(k.unit_id, k.unit_id)
        labels.append(literal(k.name))
        parents.append(k.parent_id if isinstance(k.parent_id, str) and k.parent_id in known else "")
        colour = status_colour[k.on_target if k.on_target in (True, False) else None]
        colours.append(colour if k.unit_id == unit else _fade(colour))
        value = fmt.kpi(k.value, k.unit_of_measure, compact_form=True)
        target = fmt.kpi(k.window_target, k.unit_of_measure, compact_form=True)
        texts.append(f"{value} (target {target})")
        hovers.append(f"{literal(owner)}<br>{value} · target {target}")
    fig = go.Figure(go.Treemap(ids=ids, labels=labels, parents=parents, text=texts, customdata=hovers,
                               marker=dict(colors=colours), textinfo="label+text", branchvalues="remainder",
                               maxdepth=3, textfont=dict(size=13), pathbar=dict(visible=True),
                               hovertemplate="<b>%{label}</b><br>%{customdata}<extra></extra>", root_color="white"))
    fig.update_layout(uniformtext=dict(minsize=10, mode="hide"))
    return _layout(fig, height=480, title="Where this team sits in the KPI tree (click a box to zoom in)")


def _fade(hex_colour: str, amount: float = 0.7) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    r, g, b = (round(c + (255 - c) * amount) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def capacity_chart(days: pd.Series, fitted: pd.Series, capacity: float) -> go.Figure:
    """Leads per complete day as bars, the trend line fitted through those same days
    (:func:`dashboard.domain.capacity.capacity_outlook`; empty ``fitted``: no line) and capacity as a dashed line."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=list(days.index), y=days.values, name="Leads a day", marker_color=PRIMARY,
                         hovertemplate="%{x|%d %b %Y}: %{y:,.0f} leads<extra></extra>"))
    if len(fitted):
        fig.add_trace(go.Scatter(x=list(fitted.index), y=fitted.values, name="Trend", mode="lines",
                                 line=dict(color=AMBER, dash="dot", width=3),
                                 hovertemplate="trend %{x|%d %b}: %{y:,.0f} leads<extra></extra>"))
    fig.update_xaxes(tickformat="%-d %b")
    fig.add_hline(y=capacity, line=dict(color=RED, dash="dash"), annotation_text=f"capacity {fmt.count(capacity)} a day",
                  annotation_position="top left")
    peak = max(float(days.max()) if len(days) else 0.0, capacity)
    return _layout(fig, title="Leads arriving vs what sales can work",
                   yaxis=_count_axis(peak, title="leads a day", range=[0, peak * 1.12]))


def channel_roi(returns: pd.DataFrame) -> go.Figure:
    """Spend and revenue per channel as bars (€ axis), ROI as points on its own % axis. Both axes tick on round
    values; the legend sits at the bottom (see LEGEND), clear of both axis titles."""
    fig = go.Figure()
    money = dict(hovertemplate="%{x}: €%{y:,.0f}<extra>%{fullData.name}</extra>")
    fig.add_trace(go.Bar(x=returns.channel, y=returns.spend, name="Spend", marker_color=SERIES[0], **money))
    fig.add_trace(go.Bar(x=returns.channel, y=returns.revenue, name="Revenue", marker_color=SERIES[1], **money))
    roi = returns.roi * 100
    fig.add_trace(go.Scatter(x=returns.channel, y=roi, name="ROI", mode="markers+text", yaxis="y2",
                             text=[fmt.percent(r, 1) for r in returns.roi], textposition="top center", cliponaxis=False,
                             marker=dict(size=11, color=SERIES[3]), hovertemplate="%{x}: ROI %{text}<extra></extra>"))
    lo, hi = float(min(0.0, roi.min())), float(max(0.0, roi.max()))
    pad = (hi - lo) * 0.15 or 10.0
    fig.update_xaxes(tickangle=0)  # channel names upright, also in a phone's width
    fig = _layout(fig, height=340, barmode="group", title="Spend and revenue by channel",
                  yaxis=dict(fmt.AXIS_MONEY, title="spend and revenue", rangemode="tozero"),
                  yaxis2=dict(fmt.AXIS_PERCENT, title="ROI", overlaying="y", side="right", showgrid=False,
                              tickmode="auto", nticks=6, range=[lo - (pad if lo < 0 else 0), hi + pad], zeroline=True))
    return fig
