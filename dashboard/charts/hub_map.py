"""The hub-and-spoke map: a pure function from data frames to a plotly Figure.

Layout: the hub in the centre, spokes on a circle. Each spoke has two parallel edges, hub → spoke (leads,
notices, reports, insights) and spoke → hub (requests, escalations, data), so both directions are visible.
Edge width encodes volume in the window, edge colour the SLA band; a marker at each edge's middle carries
the label and the hover with exact figures. Node colour is the unit's KPI health, node size its headcount.
Every clickable point (node or edge marker) carries the spoke id in ``customdata[0]``.

Unrouted items (open items from the hub to itself: no rule matched them, they wait in the hub's triage
queue) are never drawn as a hub → hub edge: the hub's hover says how many wait and a small "N unrouted" label
sits under the hub (trace :data:`UNROUTED_TRACE`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.palette import BAND_COLOURS, GREY, HUB, TEXT
from dashboard.domain import format as fmt
from dashboard.domain.stats import band

NODE_TRACE = "units"
EDGE_TRACE = "flows"
UNROUTED_TRACE = "unrouted"
OFFSET = 0.075  # half the gap between the two directions of a spoke's edge
MAX_WIDTH = 10.0  # px, the busiest edge


def layout_positions(units: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Hub(s) at the centre, spokes evenly on the unit circle starting at 12 o'clock, clockwise."""
    pos: dict[str, tuple[float, float]] = {}
    hubs = units[units.kind == "hub"].id.tolist()
    for i, hub in enumerate(hubs):
        pos[hub] = (0.18 * i, 0.0)
    spokes = units[units.kind != "hub"].id.tolist()
    for i, spoke in enumerate(spokes):
        angle = math.pi / 2 - 2 * math.pi * i / max(len(spokes), 1)
        pos[spoke] = (math.cos(angle), math.sin(angle))
    return pos


def free_spot(units: pd.DataFrame, radius: float = 0.42) -> tuple[float, float, str]:
    """(x, y, text position) of a point near the hub in the middle of a gap between spoke edges, for a label
    that must not sit on an edge. Spokes sit at 90° − 360°·i/n (see :func:`layout_positions`): with an odd
    count 6 o'clock is the middle of the gap between the two lowest spokes; with an even count a spoke sits at
    6 o'clock, so the gap just right of it is used."""
    n = int((units.kind != "hub").sum())
    angle = -math.pi / 2 if n % 2 == 1 or n == 0 else -math.pi / 2 + math.pi / n
    x, y = radius * math.cos(angle), radius * math.sin(angle)
    return x, y, "bottom center" if abs(x) < 1e-9 else label_position(x, y)


def label_position(x: float, y: float) -> str:
    """Put a node's name on the side facing away from the hub, so edges never run through it."""
    if abs(x) < 0.2 and abs(y) < 0.2:
        return "bottom center"
    if abs(y) >= abs(x) * 0.6:
        return "top center" if y > 0 else "bottom center"
    return "middle right" if x > 0 else "middle left"


def edge_line(a: tuple[float, float], b: tuple[float, float], side: int) -> tuple[np.ndarray, np.ndarray]:
    """A straight edge from a to b shifted sideways so the two directions run side by side."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length * OFFSET * side, dx / length * OFFSET * side
    # stop short of the node centres so arrows and markers are not hidden under the nodes
    t = np.array([0.14, 0.86])
    return x0 + dx * t + nx, y0 + dy * t + ny


def _edge_hover(row, names: dict[str, str]) -> str:
    return (
        f"<b>{names.get(row.source_unit, row.source_unit)} → {names.get(row.target_unit, row.target_unit)}</b><br>"
        f"Volume: {fmt.compact(row.created)} items<br>"
        f"Resolved: {fmt.compact(row.resolved)} · within SLA: {fmt.percent(row.sla_share)}<br>"
        f"Cycle time: median {fmt.hours(row.median_h)} · p90 {fmt.hours(row.p90_h)}<br>"
        f"Backlog: {fmt.compact(row.backlog)} open · {fmt.compact(row.overdue)} overdue"
    )


MAP_HEIGHT = 560  # px


def map_placeholder(height: int = MAP_HEIGHT) -> go.Figure:
    """An empty, transparent figure the map's size: it holds the map's place on a page's first paint (and
    makes the browser start loading plotly's code) while the flows are still being read."""
    fig = go.Figure()
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def hub_spoke_map(
    units: pd.DataFrame,
    flows: pd.DataFrame,
    health: pd.DataFrame,
    *,
    sla_green: float,
    sla_amber: float,
    kpi_green: float,
    kpi_amber: float,
    focus: list[str] | None = None,
    height: int = MAP_HEIGHT,
) -> go.Figure:
    """Draw the map.

    units: id, name, kind, headcount. flows: the output of ``queries.flows.edge_flows``. health: unit_id,
    kpis, kpis_with_data, on_target, kpi_share. focus: spoke ids to draw (None = all).
    """
    fig = go.Figure()
    if focus:
        units = units[(units.kind == "hub") | units.id.isin(focus)]
    pos = layout_positions(units)
    names = dict(zip(units.id, units.name))
    flows = flows[flows.source_unit.isin(pos) & flows.target_unit.isin(pos)]
    own = flows.source_unit == flows.target_unit  # a unit's own queue (the hub's unrouted items): not an edge
    unrouted = _unrouted_by_hub(flows[own], units)
    flows = flows[~own]
    max_volume = max(float(flows.created.max()) if len(flows) else 0.0, 1.0)

    mid_x, mid_y, mid_colour, mid_text, mid_hover, mid_unit = [], [], [], [], [], []
    for row in flows.itertuples():
        b = band(None if pd.isna(row.sla_share) else row.sla_share, sla_green, sla_amber)
        colour = BAND_COLOURS[b]
        side = 1 if row.hub_side == "out" else -1
        xs, ys = edge_line(pos[row.source_unit], pos[row.target_unit], side)
        width = 1.5 + (MAX_WIDTH - 1.5) * math.sqrt(row.created / max_volume)
        fig.add_trace(
            go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=width, color=colour), opacity=0.85,
                       hoverinfo="skip", showlegend=False, name=f"{row.source_unit}->{row.target_unit}")
        )
        fig.add_annotation(  # the arrow head shows the direction of the flow
            x=xs[1], y=ys[1], ax=xs[0] + (xs[1] - xs[0]) * 0.75, ay=ys[0] + (ys[1] - ys[0]) * 0.75,
            xref="x", yref="y", axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.1,
            arrowwidth=2, arrowcolor=colour, text="",
        )
        # 38 % along from the source: hub → spoke labels sit nearer the hub, spoke → hub ones nearer the
        # spoke, so the two directions' labels never collide
        mid_x.append(xs[0] + (xs[1] - xs[0]) * 0.38)
        mid_y.append(ys[0] + (ys[1] - ys[0]) * 0.38)
        mid_colour.append(colour)
        mid_text.append(fmt.compact(row.created))
        mid_hover.append(_edge_hover(row, names))
        mid_unit.append([row.spoke])

    fig.add_trace(
        go.Scatter(
            x=mid_x, y=mid_y, mode="markers+text", name=EDGE_TRACE, text=mid_text, textposition="middle right",
            textfont=dict(size=11, color=TEXT),
            marker=dict(size=13, color=mid_colour, line=dict(width=1.5, color="white")),
            hovertext=mid_hover, hoverinfo="text", customdata=mid_unit, showlegend=False,
        )
    )

    health = health.set_index("unit_id") if "unit_id" in health else health
    volume_by_unit = pd.concat([
        flows.groupby("source_unit").created.sum(), flows.groupby("target_unit").created.sum()
    ]).groupby(level=0).sum()
    node_x, node_y, node_colour, node_size, node_text, node_hover, node_ids, node_pos = [], [], [], [], [], [], [], []
    max_head = max(float(units.headcount.max() or 1), 1.0)
    for u in units.itertuples():
        x, y = pos[u.id]
        share = health.kpi_share.get(u.id) if "kpi_share" in health else None
        share = None if share is None or pd.isna(share) else float(share)
        kb = band(share, kpi_green, kpi_amber)
        n_kpis = int(health.kpis.get(u.id, 0)) if "kpis" in health and not pd.isna(health.kpis.get(u.id, np.nan)) else 0
        n_on = health.on_target.get(u.id) if "on_target" in health else None
        n_data = health.kpis_with_data.get(u.id) if "kpis_with_data" in health else None
        kpi_line = (
            "KPIs: no data" if share is None
            else f"KPIs on target: {int(n_on)} of {int(n_data)} with data ({fmt.percent(share)})"
        )
        node_x.append(x)
        node_y.append(y)
        node_pos.append(label_position(x, y))
        node_colour.append(HUB if (u.kind == "hub" and kb == "none") else BAND_COLOURS[kb])
        node_size.append(26 + 34 * math.sqrt(max(float(u.headcount or 0), 0) / max_head))
        node_text.append(u.name)
        hover = (
            f"<b>{u.name}</b> ({u.kind})<br>Headcount: {fmt.compact(u.headcount)} FTE<br>{kpi_line}"
            f" · {n_kpis} KPIs<br>Items in window: {fmt.compact(volume_by_unit.get(u.id, np.nan))}"
        )
        if u.kind == "hub":
            hover += f"<br>Unrouted now: {unrouted.get(u.id, 0):,} waiting in triage (no rule matched)"
        node_hover.append(hover)
        node_ids.append([u.id])
    fig.add_trace(
        go.Scatter(
            x=node_x, y=node_y, mode="markers+text", name=NODE_TRACE, text=node_text, textposition=node_pos,
            textfont=dict(size=13, color=TEXT),
            marker=dict(size=node_size, color=node_colour, line=dict(width=2, color="white")),
            hovertext=node_hover, hoverinfo="text", customdata=node_ids, showlegend=False,
        )
    )

    waiting = {hub: n for hub, n in unrouted.items() if n > 0 and hub in pos}
    if waiting:  # a small label near the hub, between two spokes' edges; hover with the same figure
        dx, dy, where = free_spot(units)
        fig.add_trace(
            go.Scatter(
                x=[pos[h][0] + dx for h in waiting], y=[pos[h][1] + dy for h in waiting], mode="markers+text",
                name=UNROUTED_TRACE, text=[f"{n:,} unrouted" for n in waiting.values()], textposition=where,
                textfont=dict(size=11, color=BAND_COLOURS["amber"]),
                marker=dict(size=9, color=BAND_COLOURS["amber"], symbol="diamond", line=dict(width=1, color="white")),
                hovertext=[f"<b>{n:,} unrouted item{'s' if n != 1 else ''}</b><br>No routing rule matched them: they "
                           f"wait in {names.get(h, h)}'s triage queue" for h, n in waiting.items()],
                hoverinfo="text", customdata=[[h] for h in waiting], showlegend=False,
            )
        )

    for label, colour in (
        (f"SLA / KPIs ≥ {fmt.percent(sla_green)}", BAND_COLOURS["green"]),
        (f"≥ {fmt.percent(sla_amber)}", BAND_COLOURS["amber"]),
        ("below", BAND_COLOURS["red"]),
        ("no data", GREY),
    ):
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", marker=dict(size=10, color=colour),
                                 name=label, hoverinfo="skip"))

    fig.update_layout(
        height=height,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(visible=False, range=[-1.45, 1.45]),
        yaxis=dict(visible=False, range=[-1.3, 1.3], scaleanchor="x", scaleratio=1),
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        legend=dict(orientation="h", yanchor="bottom", y=0.0, xanchor="left", x=0.0, title_text="Colour:"),
        hoverlabel=dict(align="left"),
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def _unrouted_by_hub(own: pd.DataFrame, units: pd.DataFrame) -> dict[str, int]:
    """Open items each hub holds for itself (its triage queue) from the flows' hub → hub rows."""
    hubs = set(units.loc[units.kind == "hub", "id"])
    own = own[own.source_unit.isin(hubs)]
    if own.empty or "backlog" not in own:
        return {}
    return {str(k): int(v) for k, v in own.groupby("source_unit").backlog.sum().items()}


def clicked_unit(selection: dict | None) -> str | None:
    """The unit id of the first clicked node or edge marker in a plotly selection event, if any."""
    if not selection:
        return None
    points = (selection.get("selection") or {}).get("points") or []
    for p in points:
        data = p.get("customdata")
        if isinstance(data, (list, tuple)) and data:
            return str(data[0])
        if isinstance(data, str):
            return data
    return None
