"""The hub-and-spoke map: a pure function from data frames to a plotly Figure.

Layout: the hub in the centre, spokes on a circle. Each spoke has two parallel edges, hub → spoke (leads,
notices, reports, insights) and spoke → hub (requests, escalations, data), drawn side by side — hub → spoke on
the left of the line from the hub to the spoke, spoke → hub on its right — so both directions stay visible
whichever way a spoke lies. Each edge is an arrow from the rim of its source node to the rim of its target
(plotly's ``standoff`` measures in pixels, so the head is never hidden under a node); its width encodes the
volume in the window, its colour the share handled within SLA. Invisible points all along each edge carry the
hover with exact figures and the click, so pointing anywhere on an edge works, not only at a dot. Each edge's
volume is a label beside it on its outer side (the two directions' labels never meet), on a light box so it
reads over anything it crosses. Node colour is the unit's KPI health, node size its headcount; names sit on
the side facing away from the hub, the hub's own name in a gap between two spokes' edges.
Every clickable point (node or edge point) carries the spoke id in ``customdata[0]``.

Unrouted items (open items from the hub to itself: no rule matched them, they wait in the hub's triage queue)
are never drawn as a hub → hub edge: the hub's hover says how many wait and a small "N unrouted" label sits
in another gap near the hub (trace :data:`UNROUTED_TRACE`).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.labels import literal
from dashboard.charts.palette import BAND_COLOURS, GREY, HUB, TEXT
from dashboard.domain import format as fmt
from dashboard.domain.stats import band

NODE_TRACE = "units"
EDGE_TRACE = "flows"
UNROUTED_TRACE = "unrouted"
OFFSET = 0.06  # data units each side of the line from the hub to a spoke: where the two directions run
MAX_WIDTH = 8.0  # px, the busiest edge
MIN_WIDTH = 1.5  # px, the quietest one
PX_PER_UNIT = 170.0  # about how many pixels one data unit spans on a laptop (for sizes plotly takes in pixels)
HOVER_STEP = 0.04  # data units between the invisible hover points along an edge (a few pixels at any width)
NODE_BORDER = 2  # px, the white ring around a node
LABEL_BOX = "rgba(255,255,255,0.85)"
LABEL_ROOM_X = 0.4  # data units kept free beside the outermost nodes for their names (a phone's width included)
LABEL_ROOM_TOP, LABEL_ROOM_BOTTOM = 0.36, 0.4


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


def gap_angles(n_spokes: int) -> list[float]:
    """The directions (radians) halfway between neighbouring spokes, the best first: straight down, then the
    others by how close they are to it. With no spokes every direction is free."""
    if n_spokes == 0:
        return [-math.pi / 2, 0.0]
    gaps = [math.pi / 2 - 2 * math.pi * (i + 0.5) / n_spokes for i in range(n_spokes)]

    def from_bottom(a: float) -> float:
        return abs(math.remainder(a + math.pi / 2, 2 * math.pi))

    return sorted(gaps, key=lambda a: (round(from_bottom(a), 9), -math.cos(a)))


def free_spot(units: pd.DataFrame, radius: float = 0.42, choice: int = 0) -> tuple[float, float, str]:
    """(x, y, text position) of a point near the hub in the middle of a gap between spoke edges, for a label
    that must not sit on an edge; ``choice`` 0 is the gap nearest 6 o'clock, 1 the next best and so on."""
    n = int((units.kind != "hub").sum())
    gaps = gap_angles(n)
    angle = gaps[min(choice, len(gaps) - 1)]
    x, y = radius * math.cos(angle), radius * math.sin(angle)
    return x, y, "bottom center" if abs(x) < 1e-9 else label_position(x, y)


def label_position(x: float, y: float) -> str:
    """Put a node's name on the side facing away from the hub, above or below it, so edges never run through it
    and a long name stays inside the chart even at a phone's width."""
    if abs(x) < 0.2 and abs(y) < 0.2:
        return "bottom center"
    return "top center" if y >= 0 else "bottom center"


def edge_line(a: tuple[float, float], b: tuple[float, float], side: int) -> tuple[np.ndarray, np.ndarray]:
    """A straight edge from a to b shifted sideways (``side`` +1: to the left of a → b), stopping short of both
    centres (used by the maps that draw one direction per spoke)."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length * 0.075 * side, dx / length * 0.075 * side
    t = np.array([0.14, 0.86])
    return x0 + dx * t + nx, y0 + dy * t + ny


def sideways(hub: tuple[float, float], spoke: tuple[float, float]) -> tuple[float, float]:
    """The unit vector to the left of the line from the hub to the spoke."""
    dx, dy = spoke[0] - hub[0], spoke[1] - hub[1]
    length = math.hypot(dx, dy) or 1.0
    return -dy / length, dx / length


def edge_ends(pos: dict[str, tuple[float, float]], source: str, target: str, hub: str, spoke: str
              ) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
    """(start, end, side vector) of one direction of a spoke's edge between the two nodes' centres: hub → spoke
    runs OFFSET to the left of the hub-to-spoke line, spoke → hub OFFSET to its right; the side vector points
    away from the other direction (where this edge's label goes)."""
    nx, ny = sideways(pos[hub], pos[spoke])
    side = 1 if source == hub else -1
    ox, oy = nx * OFFSET * side, ny * OFFSET * side
    (x0, y0), (x1, y1) = pos[source], pos[target]
    return (x0 + ox, y0 + oy), (x1 + ox, y1 + oy), (nx * side, ny * side)


def rim_standoff(radius_px: float) -> float:
    """Pixels from the point beside a node's centre where an edge ends to the node's rim along the edge (the edge
    runs OFFSET beside the centre), plus a small gap, so an arrow head sits just outside the node."""
    beside = OFFSET * PX_PER_UNIT
    return math.sqrt(max(radius_px ** 2 - beside ** 2, 0.0)) + 3.0


def node_size(headcount, max_head: float) -> float:
    return 26 + 34 * math.sqrt(max(float(headcount or 0), 0) / max_head)


def edge_width(volume: float, max_volume: float) -> float:
    return MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * math.sqrt(volume / max_volume)


def wrap_name(name: str, width: int = 16) -> str:
    """A unit's name on at most two lines of about ``width`` characters ("<br>" between them), for labels."""
    if len(name) <= width or " " not in name:
        return name
    words, first = name.split(" "), ""
    while words and len(first) + len(words[0]) + (1 if first else 0) <= max(width, len(name) // 2):
        first = f"{first} {words.pop(0)}".strip()
    if not first:
        first = words.pop(0)
    return first + ("<br>" + " ".join(words) if words else "")


def _edge_hover(row, names: dict[str, str]) -> str:
    return (
        f"<b>{names.get(row.source_unit, row.source_unit)} → {names.get(row.target_unit, row.target_unit)}</b><br>"
        f"Volume: {fmt.count(row.created)} new items in the window<br>"
        f"Resolved: {fmt.count(row.resolved)} in the window (also items created before it)<br>"
        f"Of those, within SLA: {fmt.percent(row.sla_share, 1)}<br>"
        f"Cycle time: median {fmt.hours(row.median_h)} · p90 {fmt.hours(row.p90_h)}<br>"
        f"Backlog: {fmt.count(row.backlog)} open · {fmt.count(row.overdue)} overdue (now)"
    )


MAP_HEIGHT = 560  # px, legend included


def map_placeholder(height: int = MAP_HEIGHT) -> go.Figure:
    """An empty, transparent figure the map's size: it holds the map's place on a page's first paint (and
    makes the browser start loading plotly's code) while the flows are still being read."""
    fig = go.Figure()
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def legend_entries(*, sla_green: float, sla_amber: float, kpi_green: float, kpi_amber: float
                   ) -> list[tuple[str, str, str]]:
    """(label, colour, "line" for edges / "dot" for units) of the map's colour legend: edges by the share of items
    handled within SLA, units by the share of their KPIs on target — each with its own thresholds."""
    sla_hi, sla_lo = fmt.percent(sla_green), fmt.percent(sla_amber)
    kpi_hi, kpi_lo = fmt.percent(kpi_green), fmt.percent(kpi_amber)
    return [
        (f"Edge: within SLA ≥ {sla_hi}", BAND_COLOURS["green"], "line"),
        (f"≥ {sla_lo}", BAND_COLOURS["amber"], "line"),
        (f"< {sla_lo}", BAND_COLOURS["red"], "line"),
        (f"Unit: KPIs on target ≥ {kpi_hi}", BAND_COLOURS["green"], "dot"),
        (f"≥ {kpi_lo}", BAND_COLOURS["amber"], "dot"),
        (f"< {kpi_lo}", BAND_COLOURS["red"], "dot"),
        ("no data", GREY, "dot"),
    ]


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
    units = units.assign(name=units.name.map(literal))  # names from data read as typed in every label
    pos = layout_positions(units)
    names = dict(zip(units.id, units.name))
    kinds = dict(zip(units.id, units.kind))
    flows = flows[flows.source_unit.isin(pos) & flows.target_unit.isin(pos)]
    own = flows.source_unit == flows.target_unit  # a unit's own queue (the hub's unrouted items): not an edge
    unrouted = _unrouted_by_hub(flows[own], units)
    flows = flows[~own]
    max_volume = max(float(flows.created.max()) if len(flows) else 0.0, 1.0)
    max_head = max(float(units.headcount.max() or 1), 1.0)
    radius = {u.id: node_size(u.headcount, max_head) / 2 + NODE_BORDER for u in units.itertuples()}

    # every annotation is collected and set once: plotly validates the whole list again on each add_annotation,
    # which made adding them one by one cost most of the map's build time
    annotations: list[dict] = []
    hx, hy, h_colour, h_size, h_text, h_hover, h_unit = [], [], [], [], [], [], []
    for row in flows.itertuples():
        hub, spoke = (row.source_unit, row.target_unit) if kinds.get(row.source_unit) == "hub" \
            else (row.target_unit, row.source_unit)
        colour = BAND_COLOURS[band(None if pd.isna(row.sla_share) else row.sla_share, sla_green, sla_amber)]
        width = edge_width(row.created, max_volume)
        (x0, y0), (x1, y1), (sx, sy) = edge_ends(pos, row.source_unit, row.target_unit, hub, spoke)
        annotations.append(dict(  # the edge itself: an arrow from rim to rim, the head showing the flow's direction
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="", showarrow=True,
            arrowhead=2, arrowwidth=width, arrowsize=max((9 + width) / (5 * width), 0.3), arrowcolor=colour,
            standoff=rim_standoff(radius[row.target_unit]), startstandoff=rim_standoff(radius[row.source_unit]),
            opacity=0.9,
        ))
        length = math.hypot(x1 - x0, y1 - y0) or 1.0
        t0 = rim_standoff(radius[row.source_unit]) / PX_PER_UNIT / length
        t1 = 1 - rim_standoff(radius[row.target_unit]) / PX_PER_UNIT / length
        steps = max(int(math.ceil((t1 - t0) * length / HOVER_STEP)), 2)
        label, hover = fmt.count(row.created), _edge_hover(row, names)
        for t in np.linspace(t0, t1, steps + 1):
            hx.append(x0 + (x1 - x0) * t)
            hy.append(y0 + (y1 - y0) * t)
            h_colour.append(colour)
            h_size.append(max(width + 10, 16))
            h_text.append(label)
            h_hover.append(hover)
            h_unit.append([spoke])
        # the volume beside the edge's middle, on its outer side (away from the other direction)
        shift = width / 2 + 3
        annotations.append(dict(
            x=x0 + (x1 - x0) * 0.55, y=y0 + (y1 - y0) * 0.55, xref="x", yref="y", text=label, showarrow=False,
            xshift=sx * shift, yshift=sy * shift, font=dict(size=11, color=TEXT), bgcolor=LABEL_BOX, borderpad=1,
            xanchor="left" if sx > 0.35 else "right" if sx < -0.35 else "center",
            yanchor="bottom" if sy > 0.35 else "top" if sy < -0.35 else "middle",
        ))
    fig.add_trace(
        go.Scatter(  # invisible, all along every edge: hover and click anywhere on it
            x=hx, y=hy, mode="markers", name=EDGE_TRACE, text=h_text,
            marker=dict(size=h_size, color=h_colour, opacity=0),
            selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)),
            hovertext=h_hover, hoverinfo="text", customdata=h_unit, showlegend=False,
        )
    )

    health = health.set_index("unit_id") if "unit_id" in health else health
    volume_by_unit = pd.concat([
        flows.groupby("source_unit").created.sum(), flows.groupby("target_unit").created.sum()
    ]).groupby(level=0).sum()
    node_x, node_y, node_colour, node_sizes, node_text, node_hover, node_ids, node_pos = [], [], [], [], [], [], [], []
    hub_labels = []
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
            else f"KPIs on target: {int(n_on)} of {int(n_data)} with data ({fmt.percent(share, 1)})"
        )
        node_x.append(x)
        node_y.append(y)
        node_pos.append(label_position(x, y))
        node_colour.append(HUB if (u.kind == "hub" and kb == "none") else BAND_COLOURS[kb])
        node_sizes.append(node_size(u.headcount, max_head))
        # the hub's name goes in a gap between edges (below); a spoke's beside its node, away from the hub
        node_text.append("" if u.kind == "hub" else wrap_name(u.name))
        if u.kind == "hub":
            hub_labels.append(u)
        hover = (
            f"<b>{u.name}</b> ({u.kind})<br>Headcount: {fmt.fte(u.headcount)}<br>{kpi_line}"
            f" · {n_kpis} KPIs<br>Items in window: {fmt.count(volume_by_unit.get(u.id, 0))}"
        )
        if u.kind == "hub":
            hover += f"<br>Unrouted now: {fmt.count(unrouted.get(u.id, 0))} waiting in triage (no rule matched)"
        node_hover.append(hover)
        node_ids.append([u.id])
    fig.add_trace(
        go.Scatter(
            x=node_x, y=node_y, mode="markers+text", name=NODE_TRACE, text=node_text, textposition=node_pos,
            textfont=dict(size=13, color=TEXT),
            marker=dict(size=node_sizes, color=node_colour, line=dict(width=NODE_BORDER, color="white")),
            selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
            hovertext=node_hover, hoverinfo="text", customdata=node_ids, showlegend=False,
        )
    )
    for u in hub_labels:  # on a light box in the gap nearest 6 o'clock, just outside the hub
        angle = gap_angles(len(pos) - len(hub_labels))[0]
        reach = radius[u.id] + 6
        annotations.append(dict(
            x=pos[u.id][0], y=pos[u.id][1], xref="x", yref="y", text=wrap_name(u.name, 18), showarrow=False,
            xshift=math.cos(angle) * reach, yshift=math.sin(angle) * reach, font=dict(size=12, color=TEXT),
            bgcolor=LABEL_BOX, borderpad=2,
            xanchor="left" if math.cos(angle) > 0.35 else "right" if math.cos(angle) < -0.35 else "center",
            yanchor="bottom" if math.sin(angle) > 0.35 else "top" if math.sin(angle) < -0.35 else "middle",
        ))

    waiting = {hub: n for hub, n in unrouted.items() if n > 0 and hub in pos}
    if waiting:  # a small label in a gap near the hub (beyond the hub's name, or in the next gap); same hover
        n_spokes = len(pos) - len(hub_labels)
        dx, dy, where = free_spot(units, radius=0.62, choice=0 if n_spokes % 2 else 1)
        fig.add_trace(
            go.Scatter(
                x=[pos[h][0] + dx for h in waiting], y=[pos[h][1] + dy for h in waiting], mode="markers+text",
                name=UNROUTED_TRACE, text=[f"{fmt.count(n)} unrouted" for n in waiting.values()], textposition=where,
                textfont=dict(size=11, color=BAND_COLOURS["amber"]),
                marker=dict(size=9, color=BAND_COLOURS["amber"], symbol="diamond", line=dict(width=1, color="white")),
                selected=dict(marker=dict(opacity=1)), unselected=dict(marker=dict(opacity=1)),
                hovertext=[f"<b>{fmt.count(n)} unrouted item{'s' if n != 1 else ''}</b><br>No routing rule matched "
                           f"them: they wait in {names.get(h, h)}'s triage queue" for h, n in waiting.items()],
                hoverinfo="text", customdata=[[h] for h in waiting], showlegend=False,
            )
        )

    for label, colour, kind in legend_entries(sla_green=sla_green, sla_amber=sla_amber, kpi_green=kpi_green,
                                              kpi_amber=kpi_amber):
        style = dict(mode="lines", line=dict(color=colour, width=4)) if kind == "line" \
            else dict(mode="markers", marker=dict(size=10, color=colour))
        fig.add_trace(go.Scatter(x=[None], y=[None], name=label, hoverinfo="skip", **style))

    x_range, y_range = plot_ranges(pos)
    fig.update_layout(
        annotations=annotations,
        height=height,
        margin=dict(l=4, r=4, t=4, b=4),
        xaxis=dict(visible=False, range=list(x_range), fixedrange=True),
        yaxis=dict(visible=False, range=list(y_range), fixedrange=True),
        plot_bgcolor="rgba(0,0,0,0)",
        paper_bgcolor="rgba(0,0,0,0)",
        legend=dict(orientation="h", yanchor="top", y=-0.01, xanchor="left", x=0.0, font=dict(size=11),
                    itemclick=False, itemdoubleclick=False),
        hoverlabel=dict(align="left"),
        hovermode="closest",
        hoverdistance=12,
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def plot_ranges(pos: dict[str, tuple[float, float]]) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x range, y range) that hold every node with room for its name beside, above or below it."""
    xs, ys = [p[0] for p in pos.values()] or [0.0], [p[1] for p in pos.values()] or [0.0]
    reach = max(max(abs(x) for x in xs), 0.6) + LABEL_ROOM_X
    return (-reach, reach), (min(min(ys), -0.6) - LABEL_ROOM_BOTTOM, max(max(ys), 0.6) + LABEL_ROOM_TOP)


def _unrouted_by_hub(own: pd.DataFrame, units: pd.DataFrame) -> dict[str, int]:
    """Open items each hub holds for itself (its triage queue) from the flows' hub → hub rows."""
    hubs = set(units.loc[units.kind == "hub", "id"])
    own = own[own.source_unit.isin(hubs)]
    if own.empty or "backlog" not in own:
        return {}
    return {str(k): int(v) for k, v in own.groupby("source_unit").backlog.sum().items()}


def clicked_unit(selection: dict | None) -> str | None:
    """The unit id of the first clicked node or edge point in a plotly selection event, if any."""
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
