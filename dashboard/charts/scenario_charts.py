"""Charts for the Scenarios page: trade-off curve, sensitivity tornado, the scenario on the hub-and-spoke map,
where the lead time goes, and a team's week hour by hour."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.hub_map import edge_line, label_position, layout_positions
from dashboard.charts.palette import AMBER, GREEN, GREY, HUB, PRIMARY, RED, SERIES, TEXT
from dashboard.domain import format as fmt
from dashboard.whatif.calendar import DAY_NAMES, WEEK_HOURS, shift_week


def plain(text: object) -> str:
    """Text from the data (a unit's name) shown as typed in a chart: plotly reads a few HTML tags in titles,
    labels and hovers (links among them), so ``<`` and ``>`` are written as entities."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


LEAD_PARTS = {  # column of ScenarioResult.streams: (label, colour)
    "handoff_h": ("Handoff", SERIES[4]),
    "waiting_h": ("Waiting for a person", AMBER),
    "work_h": ("In progress", PRIMARY),
    "out_of_hours_h": ("Out of hours", GREY),
}


def tradeoff(curve, title: str = "Cost against mean lead time, central share 0 → 100 %",
             names: Mapping[str, str] | None = None) -> go.Figure:
    """x = mean lead time, y = yearly cost; points where a spoke misses its SLA are marked red and named; points
    where a platform licence appears or goes are marked and say so.

    ``curve``: a ``dashboard.whatif.analysis.TradeoffCurve``; ``names``: spoke id -> name for the hover text.
    """
    pts = curve.points
    names = names or {}
    breaching = [", ".join(plain(names.get(sp, sp)) for sp, b in row.items() if b)
                 for _, row in curve.spoke_breach.iterrows()]
    finite = np.isfinite(pts.lead_time_mean_h.to_numpy(dtype=float))
    c = pts[finite].assign(breaching=np.array(breaching, dtype=object)[finite])
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=c.lead_time_mean_h, y=c.total_cost, mode="lines", name="central share 0 → 100 %", line=dict(color=PRIMARY, width=3),
        customdata=np.stack([c.share * 100, c.breaching.replace("", "none")], axis=1),
        hovertemplate="central share %{customdata[0]:.0f} %<br>mean lead time %{x:.1f} h<br>cost €%{y:,.0f}/year"
                      "<br>SLA missed at: %{customdata[1]}<extra></extra>",
    ))
    bad = c[c.breaching != ""]
    if len(bad):
        fig.add_trace(go.Scatter(x=bad.lead_time_mean_h, y=bad.total_cost, mode="markers", name="a spoke misses its SLA",
                                 marker=dict(color=RED, size=6), hoverinfo="skip"))
    steps = getattr(curve, "steps", None)
    if steps is not None and len(steps) and len(c):
        at = [c.iloc[int((c.share - share).abs().argmin())] for share in steps.share]
        fig.add_trace(go.Scatter(
            x=[p.lead_time_mean_h for p in at], y=[p.total_cost for p in at], mode="markers",
            name="platform licences change",
            marker=dict(symbol="diamond-open", size=11, color=TEXT, line=dict(width=2)),
            customdata=np.stack([steps.share.to_numpy() * 100, steps.why.to_numpy(dtype=object)], axis=1),
            hovertemplate="central share %{customdata[0]:.0f} %<br>%{customdata[1]}<extra></extra>"))
    for share, label in ((0.0, "all in spokes"), (1.0, "all in hub")):
        if len(c):
            end = c.iloc[int((c.share - share).abs().argmin())]
            fig.add_annotation(x=end.lead_time_mean_h, y=end.total_cost, text=label, showarrow=True, arrowhead=2, ax=30, ay=-25)
    cur = curve.current
    if math.isfinite(cur.get("lead_time_mean_h", math.inf)):
        fig.add_trace(go.Scatter(x=[cur["lead_time_mean_h"]], y=[cur["total_cost"]], mode="markers",
                                 name="this scenario" + ("" if cur.get("on_curve", True) else " (mixed shares, off the curve)"),
                                 marker=dict(symbol="star", size=16, color=AMBER, line=dict(width=1, color=TEXT))))
    if not len(c):
        fig.add_annotation(text="Every point on this curve is unstable (demand exceeds capacity)", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(height=400, margin=dict(l=10, r=10, t=40, b=10), title=title, xaxis_title="mean lead time",
                      yaxis_title="cost per year", legend=dict(orientation="h", y=-0.2, yanchor="top"))
    fig.update_xaxes(nticks=6, **fmt.AXIS_HOURS)
    fig.update_yaxes(nticks=6, tickprefix="€", tickformat="~s")
    return fig


def tornado(sens: pd.DataFrame, metric: str = "cost", top: int = 10) -> go.Figure:
    """Bars from the result at input −x % to +x %, around the base, for the inputs that move it most. ``lead`` is
    the item-weighted **mean** lead time (the sensitivity's measure), and the title says so. Ticks on round
    values, horizontal; the two directions in neutral colours (a raised input is not worse in itself)."""
    lo_col, hi_col, base_col, swing = {"cost": ("cost_low", "cost_high", "cost_base", "cost_swing"),
                                       "lead": ("lead_low", "lead_high", "lead_base", "lead_swing")}[metric]
    rows = sens.sort_values(swing, ascending=False).head(top).iloc[::-1]
    base = float(rows[base_col].iloc[0]) if len(rows) else 0.0
    show = (lambda v: fmt.money(v)) if metric == "cost" else fmt.hours
    change = (lambda v: fmt.signed_money(v)) if metric == "cost" else fmt.signed_hours
    fig = go.Figure()
    for column, name, colour in ((lo_col, "input 20 % lower", SERIES[5]), (hi_col, "input 20 % higher", PRIMARY)):
        moved = rows[column].to_numpy(dtype=float)
        fig.add_trace(go.Bar(
            y=[plain(label) for label in rows.label], x=moved - base, base=base, orientation="h", name=name,
            marker_color=colour, customdata=[[show(v), change(v - base)] for v in moved],
            hovertemplate="%{y}<br>%{customdata[0]} (%{customdata[1]})<extra>" + name + "</extra>"))
    fig.add_vline(x=base, line=dict(color=TEXT, width=1))
    axis = (dict(tickprefix="€", tickformat="~s") if metric == "cost" else fmt.AXIS_HOURS)
    fig.update_xaxes(tickangle=0, nticks=5, **axis)
    title = "What moves the yearly cost most" if metric == "cost" else "What moves the mean lead time most"
    fig.update_layout(barmode="overlay", height=120 + 32 * len(rows), margin=dict(l=10, r=10, t=70, b=10),
                      title=dict(text=title, y=0.98, yanchor="top"),
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"), yaxis=dict(automargin=True))
    return fig


def scenario_map(units: pd.DataFrame, delta: pd.DataFrame) -> go.Figure:
    """The scenario on the hub-and-spoke map: edge width = hub↔spoke handoffs per month, colour = change of the
    spoke's median lead time vs the baseline (green faster, red slower, grey unchanged), label = lead time.

    ``delta``: ``dashboard.whatif.model.spoke_delta`` (index spoke).
    """
    pos = layout_positions(units)
    names = dict(zip(units.id, units.name))
    hubs = units[units.kind == "hub"].id.tolist()
    fig = go.Figure()
    max_h = max(float(delta.handoffs_per_month.max() or 0), 1.0) if len(delta) else 1.0
    mx, my, mtext, mhover, mcolour = [], [], [], [], []
    for spoke, row in delta.iterrows():
        if spoke not in pos or not hubs:
            continue
        lead, change = row.lead_time_median_h, row.lead_time_median_h_delta
        colour = GREY if not math.isfinite(change) or abs(change) < 0.05 else (GREEN if change < 0 else RED)
        xs, ys = edge_line(pos[hubs[0]], pos[spoke], 1)
        width = 1.5 + 10 * math.sqrt(max(row.handoffs_per_month, 0) / max_h)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False, line=dict(width=width, color=colour)))
        mx.append(xs[0] + (xs[1] - xs[0]) * 0.5)
        my.append(ys[0] + (ys[1] - ys[0]) * 0.5)
        change_txt = "" if not math.isfinite(change) or abs(change) < 0.05 else f" ({fmt.signed_hours(change)})"
        mtext.append(f"{fmt.hours(lead)}{change_txt}")
        mcolour.append(colour)
        mhover.append(f"<b>{plain(names.get(spoke, spoke))}</b><br>median lead time {fmt.hours(lead)}{change_txt}"
                      f"<br>hub↔spoke handoffs {fmt.count(row.handoffs_per_month)} a month"
                      f" ({fmt.signed_count(row.handoffs_per_month_delta)})")
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers+text", text=mtext, textposition="middle right", hovertext=mhover,
                             hoverinfo="text", marker=dict(size=11, color=mcolour), showlegend=False,
                             textfont=dict(size=11, color=TEXT)))
    xs = [pos[u][0] for u in units.id]
    ys = [pos[u][1] for u in units.id]
    is_hub = [k == "hub" for k in units.kind]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers+text", hoverinfo="skip", showlegend=False,
                             text=["" if hub else plain(names[u]) for u, hub in zip(units.id, is_hub)],
                             textposition=[label_position(x, y) for x, y in zip(xs, ys)],
                             marker=dict(size=34, color=[HUB if hub else PRIMARY for hub in is_hub],
                                         line=dict(width=2, color="white"))))
    for u, x, y, hub in zip(units.id, xs, ys, is_hub):  # the hub's name on a plate, clear of the edges under it
        if hub:
            fig.add_annotation(x=x, y=y, yshift=-26, text=plain(names[u]), showarrow=False, yanchor="top",
                               font=dict(size=11, color=TEXT), bgcolor="rgba(255,255,255,0.9)", borderpad=2)
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=40, b=10), title="This scenario on the map, vs as-is",
                      xaxis=dict(visible=False, range=[-1.5, 1.5]),
                      yaxis=dict(visible=False, range=[-1.45, 1.45], scaleanchor="x"),  # room for the names
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)")
    return fig


def lead_time_split(streams: pd.DataFrame, by: str, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean lead time per ``by`` (``function`` or ``spoke``) split into its parts (:data:`LEAD_PARTS`), each the
    mean over the group's streams weighted by the items answered per month; plus ``lead_time_mean_h`` (their
    sum) and ``answered_per_month``. Index: the group's label from ``names`` (else its id), in the order of
    ``names``.

    ``streams``: ``ScenarioResult.streams`` (one row per stream and worker).
    """
    parts = list(LEAD_PARTS)
    if streams.empty:
        return pd.DataFrame(columns=[*parts, "lead_time_mean_h", "answered_per_month"], dtype=float)
    weight = streams["answered_per_month"].to_numpy(dtype=float)
    weighted = streams[parts].mul(weight, axis=0).assign(answered_per_month=weight, group=streams[by].to_numpy())
    sums = weighted.groupby("group", sort=False).sum()
    if names:  # in the order of ``names`` (the organisation's), others after
        sums = sums.reindex([g for g in names if g in sums.index] + [g for g in sums.index if g not in names])
    total = sums.pop("answered_per_month")
    table = sums.div(total.where(total > 0, np.nan), axis=0).fillna(0.0)
    table["lead_time_mean_h"] = table[parts].sum(axis=1)
    table["answered_per_month"] = total
    table.index = [(names or {}).get(g, g) for g in table.index]
    return table


def lead_time_breakdown(splits: Mapping[str, pd.DataFrame], title: str = "Where the mean lead time goes") -> go.Figure:
    """Stacked horizontal bars: per group (rows of each :func:`lead_time_split` table) one bar per scenario
    (``splits``: scenario label -> table, in that order within each group), split into handoff, waiting,
    in-progress and out-of-hours time. A group missing from a scenario gets no bar there."""
    groups: list[str] = []
    for table in splits.values():
        groups += [g for g in table.index if g not in groups]
    rows = [(g, w) for g in groups for w in splits if g in splits[w].index]
    y = [[plain(g) for g, _ in rows], [plain(w) for _, w in rows]]
    totals = [fmt.hours(float(splits[w].at[g, "lead_time_mean_h"])) for g, w in rows]
    fig = go.Figure()
    for part, (label, colour) in LEAD_PARTS.items():
        x = [max(float(splits[w].at[g, part]), 0.0) for g, w in rows]
        fig.add_trace(go.Bar(
            y=y, x=x, orientation="h", name=label, marker_color=colour,
            customdata=np.array([[fmt.hours(v), t] for v, t in zip(x, totals)], dtype=object).reshape(-1, 2),
            hovertemplate=f"{label}: %{{customdata[0]}} of %{{customdata[1]}}<extra></extra>"))
    fig.update_layout(barmode="stack", height=140 + 30 * len(rows), margin=dict(l=10, r=10, t=90, b=10),
                      title=dict(text=title, y=0.99, yanchor="top"), xaxis_title="mean lead time",
                      yaxis=dict(autorange="reversed", automargin=True),  # the legend under the title, never on it
                      legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0, xanchor="left", traceorder="normal"))
    fig.update_xaxes(**fmt.AXIS_HOURS)
    return fig


def staffing_week(weeks: Mapping[str, pd.DataFrame], offset_h: float = 0.0, zone: str = "UTC",
                  title: str = "A week of the team, hour by hour") -> go.Figure:
    """Items arriving per hour, people on duty and the backlog over the week, one line per scenario.

    ``weeks``: scenario label -> ``ScenarioResult.staffing(pool)`` (columns ``hour`` 0..167 on the model's UTC
    week, hour 0 = Monday 00:00 UTC, ``arrivals``, ``on_duty``, ``backlog``); the first is drawn dashed grey
    (the as-is), the last solid. ``offset_h``: the viewer's zone's offset from UTC, so the x axis is the week in
    ``zone`` (Monday 00:00 local at 0).
    """
    rows = (("arrivals", "Items arriving per hour"), ("on_duty", "People on duty"), ("backlog", "Backlog (items)"))
    digits = {"arrivals": ",.1f", "on_duty": ",.1f", "backlog": ",.0f"}  # a backlog is whole items
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        subplot_titles=[label for _, label in rows])
    hours = np.arange(WEEK_HOURS)
    days = [f"{DAY_NAMES[h // 24]} {h % 24:02d}:00" for h in hours]
    styles = [dict(color=GREY, dash="dash", width=2), dict(color=PRIMARY, width=2.5)]
    for i, (label, week) in enumerate(weeks.items()):
        style = styles[min(i, 1)] if len(weeks) > 1 else styles[1]
        for r, (col, name) in enumerate(rows, start=1):
            values = np.asarray(week.sort_values("hour")[col], dtype=float)
            local = shift_week(values, offset_h)
            fig.add_trace(go.Scatter(
                x=hours, y=local, mode="lines", name=plain(label), legendgroup=label, showlegend=r == 1,
                line=dict(shape="hv", **style), customdata=days,
                hovertemplate=f"%{{customdata}}<br>{name.lower()}: %{{y:{digits[col]}}}<extra>{plain(label)}</extra>"),
                row=r, col=1)
    fig.update_xaxes(tickvals=list(range(0, WEEK_HOURS, 24)), ticktext=list(DAY_NAMES), range=[0, WEEK_HOURS - 1],
                     showgrid=True)
    fig.update_xaxes(title_text=f"hour of the week ({zone})", row=3, col=1)
    for r, (col, _name) in enumerate(rows, start=1):  # from zero, with room above the highest line
        top = max([float(np.nanmax(w[col])) for w in weeks.values() if len(w)] or [0.0])
        fig.update_yaxes(range=[0, top * 1.15 if top > 0 else 1.0], row=r, col=1)
    fig.update_layout(height=560, margin=dict(l=10, r=10, t=80, b=10), title=dict(text=plain(title), y=0.99,
                      yanchor="top"), legend=dict(orientation="h", y=1.07, yanchor="bottom", x=0, xanchor="left"))
    return fig
