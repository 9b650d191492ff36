"""A routing replay drawn on the hub-and-spoke map (pure: data in, plotly Figure out).

Same layout as the overview's map (:mod:`dashboard.charts.hub_map`): the hub in the centre, spokes on a circle.
Each hub → spoke edge is as wide as the spoke's volume under the draft and labelled with the change in items
per day ("+120 items/day", "−40 items/day"); blue when the spoke would get more, orange when it would get fewer,
grey (and unlabelled) when nothing changes. The items the draft leaves unrouted are a label at the hub ("N unrouted"), never an
edge. Hovers give the exact figures: items now → draft, backlog, SLA, utilisation and wait.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.hub_map import edge_line, free_spot, label_position, layout_positions
from dashboard.charts.palette import AMBER, GREY, HUB, PRIMARY, TEXT
from dashboard.domain import format as fmt

MORE, FEWER, SAME = PRIMARY, AMBER, GREY
EDGE_TRACE = "replay"
NODE_TRACE = "units"
UNROUTED_ROW = "unrouted"
HEIGHT = 460  # the square layout fills a laptop's width at this height and leaves little blank on a phone


def per_day(value: float, days: float, signed: bool = True) -> str:
    """A count over ``days`` as a readable daily rate: '+120 items/day', '−0.4 items/day', '0 items/day'."""
    rate = value / days if days else float("nan")
    if rate != rate:
        return "no data"
    if abs(rate) < 0.05:
        return "no change" if signed else "0 items/day"
    text = fmt.compact(abs(rate), 2 if abs(rate) < 10 else 3)
    sign = ("+" if rate > 0 else "−") if signed else ("−" if rate < 0 else "")
    return f"{sign}{text} items/day"


def _share(value) -> str:
    return fmt.percent(None if value is None or pd.isna(value) else float(value), 1)


def _wait(value) -> str:
    if value is None or pd.isna(value):
        return "no data"
    return "over capacity" if math.isinf(value) else fmt.hours(float(value))


def _hover(row, days: float) -> str:
    return (
        f"<b>{row.name}</b><br>"
        f"Items: {fmt.count(row.items_now)} now → {fmt.count(row.items_draft)} with the draft "
        f"({per_day(row.delta, days)})<br>"
        f"Backlog: {fmt.count(row.backlog_now)} → {fmt.count(row.backlog_draft)} open<br>"
        f"Within SLA (estimated): {_share(row.sla_now_est)} now → {_share(row.sla_draft)} with the draft; "
        f"observed now: {_share(row.sla_now)}<br>"
        f"Utilisation: {_share(row.utilisation_now)} → {_share(row.utilisation_draft)}<br>"
        f"Wait before work starts: {_wait(row.wait_now_h)} → {_wait(row.wait_draft_h)}"
    )


def replay_map(units: pd.DataFrame, per_spoke: pd.DataFrame, days: float, *, height: int = HEIGHT) -> go.Figure:
    """units: id, name, kind (and headcount); per_spoke: ``ReplayResult.per_spoke`` (its ``unrouted`` row
    becomes the hub's label). Every edge marker carries the spoke id in ``customdata[0]``."""
    pos = layout_positions(units)
    names = dict(zip(units.id, units.name))
    hubs = units[units.kind == "hub"].id.tolist()
    rows = per_spoke[per_spoke.unit.isin(pos) & (per_spoke.unit != UNROUTED_ROW)]
    unrouted = per_spoke[per_spoke.unit == UNROUTED_ROW]
    fig = go.Figure()
    max_items = max(float(rows.items_draft.max()) if len(rows) else 0.0, float(rows.items_now.max()) if len(rows) else 0.0, 1.0)
    mx, my, mtext, mhover, mcolour, munit, mwhere = [], [], [], [], [], [], []
    for row in rows.itertuples():
        if not hubs:
            break
        delta = float(row.delta)
        colour = SAME if abs(delta) / max(days, 1e-9) < 0.05 else (MORE if delta > 0 else FEWER)
        xs, ys = edge_line(pos[hubs[0]], pos[row.unit], 1)
        width = 1.5 + 10 * math.sqrt(max(float(row.items_draft), 0.0) / max_items)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip", showlegend=False,
                                 line=dict(width=width, color=colour), name=f"{hubs[0]}->{row.unit}"))
        fig.add_annotation(x=xs[1], y=ys[1], ax=xs[0] + (xs[1] - xs[0]) * 0.75, ay=ys[0] + (ys[1] - ys[0]) * 0.75,
                           xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.1,
                           arrowwidth=2, arrowcolor=colour, text="")
        mx.append(xs[0] + (xs[1] - xs[0]) * 0.5)
        my.append(ys[0] + (ys[1] - ys[0]) * 0.5)
        mwhere.append("middle left" if mx[-1] < -0.05 else "middle right")  # away from the hub's centre
        mtext.append("" if colour == SAME else per_day(delta, days))  # grey already says "no change"
        mcolour.append(colour)
        mhover.append(_hover(row._replace(name=names.get(row.unit, row.name)), days))
        munit.append([row.unit])
    fig.add_trace(go.Scatter(x=mx, y=my, mode="markers+text", name=EDGE_TRACE, text=mtext, textposition=mwhere,
                             hovertext=mhover, hoverinfo="text", customdata=munit, showlegend=False,
                             marker=dict(size=12, color=mcolour, line=dict(width=1.5, color="white")),
                             textfont=dict(size=11, color=TEXT)))

    node_x = [pos[u][0] for u in units.id]
    node_y = [pos[u][1] for u in units.id]
    hover = []
    for u in units.itertuples():
        if u.kind == "hub" and len(unrouted):
            r = unrouted.iloc[0]
            hover.append(f"<b>{u.name}</b><br>Unrouted (hub triage): {fmt.count(r.items_now)} now → "
                         f"{fmt.count(r.items_draft)} with the draft")
        else:
            hover.append(f"<b>{u.name}</b>")
    fig.add_trace(go.Scatter(x=node_x, y=node_y, mode="markers+text", name=NODE_TRACE,
                             text=[names[u] for u in units.id], hovertext=hover, hoverinfo="text",
                             customdata=[[u] for u in units.id],
                             textposition=[label_position(x, y) for x, y in zip(node_x, node_y)], showlegend=False,
                             textfont=dict(size=12, color=TEXT),
                             marker=dict(size=34, color=[HUB if k == "hub" else PRIMARY for k in units.kind],
                                         line=dict(width=2, color="white"))))
    if hubs and len(unrouted):
        r = unrouted.iloc[0]
        x, y = pos[hubs[0]]
        dx, dy, where = free_spot(units)
        now_n, draft_n = int(r.items_now), int(r.items_draft)
        text = f"{fmt.count(draft_n)} unrouted"
        fig.add_trace(go.Scatter(x=[x + dx], y=[y + dy], mode="markers+text", name=UNROUTED_ROW, text=[text],
                                 textposition=where, hoverinfo="text", customdata=[[hubs[0]]],
                                 hovertext=[f"<b>Unrouted with the draft: {fmt.count(draft_n)} items</b><br>No rule "
                                            "matches them and the default rule leaves them in the hub's triage queue "
                                            f"(now: {fmt.count(now_n)})"],
                                 marker=dict(size=9, symbol="diamond", color=AMBER if draft_n else GREY),
                                 textfont=dict(size=11, color=AMBER if draft_n else TEXT), showlegend=False))
    for label, colour in (("more items with the draft", MORE), ("fewer", FEWER), ("no change", SAME)):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=10, color=colour), name=label,
                                 hoverinfo="skip"))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=10, b=10),
                      xaxis=dict(visible=False, range=[-1.5, 1.5]),
                      yaxis=dict(visible=False, range=[-1.3, 1.3], scaleanchor="x", scaleratio=1),
                      plot_bgcolor="rgba(0,0,0,0)", paper_bgcolor="rgba(0,0,0,0)", hoverlabel=dict(align="left"),
                      legend=dict(orientation="h", yanchor="bottom", y=0.0, xanchor="left", x=0.0,
                                  title_text="Edge width = items with the draft; colour:"),
                      dragmode=False)
    return fig


def _wait_cell(value) -> str | None:
    return None if value is None or pd.isna(value) else _wait(float(value))


def replay_table(per_spoke: pd.DataFrame, days: float) -> pd.DataFrame:
    """The per-spoke replay as a readable table. Counts, rates and shares stay numbers (shares × 100, for
    ``fmt.PERCENT``; the page formats those columns); waits are text in the unit a reader expects ('12 min',
    '3.4 h', 'over capacity'), since a queue that grows without bound has no number.

    The SLA estimate under the draft is set beside the same model's estimate for today's routing, so a rule
    change reads as the change it makes; the observed share stays as the check of the model."""
    t = per_spoke.copy()
    for col in ("sla_now", "sla_now_est", "sla_draft", "utilisation_now", "utilisation_draft", "wait_now_h",
                "wait_draft_h"):
        t[col] = pd.to_numeric(t[col], errors="coerce").astype(float)
    return pd.DataFrame({
        "Spoke": t.name,
        "Items/day now": t.items_now / days,
        "Items/day with draft": t.items_draft / days,
        "Change (items)": t.delta,
        "Backlog now": t.backlog_now,
        "Backlog with draft": t.backlog_draft,
        "Within SLA now (est.)": t.sla_now_est * 100,
        "Within SLA with draft (est.)": t.sla_draft * 100,
        "Within SLA now (observed)": t.sla_now * 100,
        "Utilisation now": t.utilisation_now * 100,
        "Utilisation with draft": t.utilisation_draft * 100,
        "Wait now": [_wait_cell(v) for v in t.wait_now_h],
        "Wait with draft": [_wait_cell(v) for v in t.wait_draft_h],
    })
