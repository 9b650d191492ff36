"""The overview map reads at a glance: both directions of every edge apart, arrow heads outside the nodes,
hover all along an edge, labels clear of edges, a legend that states the thresholds each colour uses, figures
formatted like everywhere else."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.charts.hub_map import (
    EDGE_TRACE,
    HOVER_STEP,
    NODE_TRACE,
    OFFSET,
    PX_PER_UNIT,
    hub_spoke_map,
    label_position,
    layout_positions,
)
from dashboard.charts.palette import BAND_COLOURS

THRESHOLDS = dict(sla_green=0.9, sla_amber=0.75, kpi_green=0.75, kpi_amber=0.5)


def units(n_spokes=5, hub_name="Hub"):
    rows = [dict(id="hub", name=hub_name, kind="hub", headcount=12)]
    rows += [dict(id=f"s{i}", name=f"Spoke {i}", kind="spoke", headcount=5 + 3 * i) for i in range(n_spokes)]
    return pd.DataFrame(rows)


def flow(src, dst, created, sla=0.95, backlog=3):
    return dict(source_unit=src, target_unit=dst, hub_side="out" if src == "hub" else "in",
                spoke=dst if src == "hub" else src, created=created, created_value=0.0, resolved=created,
                resolved_in_sla=int(created * sla), sla_share=sla, mean_h=2.0, median_h=1.5, p90_h=5.0,
                backlog=backlog, overdue=1)


def both_ways(n_spokes, volume=100):
    return pd.DataFrame([f for i in range(n_spokes) for f in (flow("hub", f"s{i}", volume + i), flow(f"s{i}", "hub", volume // 2 + i))])


def health(ids, share=0.8):
    return pd.DataFrame(dict(unit_id=ids, kpis=[2] * len(ids), kpis_with_data=[2] * len(ids),
                             on_target=[1] * len(ids), kpi_share=[share] * len(ids)))


def draw(n_spokes=5, flows=None, **kw):
    u = units(n_spokes, **kw)
    return u, hub_spoke_map(u, both_ways(n_spokes) if flows is None else flows, health(u.id.tolist()), **THRESHOLDS)


def trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def arrows(fig):
    return [a for a in fig.layout.annotations if a.showarrow]


def side_of_line(point, a, b) -> float:
    """Signed distance of ``point`` from the line a → b (positive: to its left)."""
    (x, y), (x0, y0), (x1, y1) = point, a, b
    length = math.hypot(x1 - x0, y1 - y0)
    return ((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)) / length


@pytest.mark.parametrize("n_spokes", [1, 2, 3, 4, 5, 6, 8])
def test_the_two_directions_of_every_spoke_run_apart_on_opposite_sides(n_spokes):
    """The hub → spoke edge runs left of the line from the hub to the spoke, spoke → hub right of it — for every
    position on the circle, also a spoke straight above or below the hub."""
    u, fig = draw(n_spokes)
    pos = layout_positions(u)
    by_pair = {}
    for a in arrows(fig):  # each edge is one arrow from (ax, ay) to (x, y)
        source = min(pos, key=lambda k: math.dist(pos[k], (a.ax, a.ay)))
        target = min(pos, key=lambda k: math.dist(pos[k], (a.x, a.y)))
        by_pair[(source, target)] = a
    assert len(by_pair) == 2 * n_spokes
    for i in range(n_spokes):
        spoke = f"s{i}"
        out, back = by_pair[("hub", spoke)], by_pair[(spoke, "hub")]
        for end in ((out.x, out.y), (out.ax, out.ay)):
            assert side_of_line(end, pos["hub"], pos[spoke]) == pytest.approx(OFFSET)
        for end in ((back.x, back.y), (back.ax, back.ay)):
            assert side_of_line(end, pos["hub"], pos[spoke]) == pytest.approx(-OFFSET)


def test_arrow_heads_stop_at_the_rim_of_the_node_they_point_at():
    u, fig = draw(5)
    nodes = trace(fig, NODE_TRACE)
    radius = {c[0]: size / 2 for c, size in zip(nodes.customdata, nodes.marker.size)}
    pos = layout_positions(u)
    beside = OFFSET * PX_PER_UNIT  # px between the edge and the centre line
    for a in arrows(fig):
        target = min(pos, key=lambda k: math.dist(pos[k], (a.x, a.y)))
        source = min(pos, key=lambda k: math.dist(pos[k], (a.ax, a.ay)))
        # along the edge, the rim is this far from the point beside the centre; the head stops at or outside it
        assert a.standoff >= math.sqrt(radius[target] ** 2 - beside ** 2)
        assert a.startstandoff >= math.sqrt(radius[source] ** 2 - beside ** 2)
        assert a.standoff <= radius[target] + 8  # ... but close to it, not halfway down the edge


def test_hover_and_click_work_all_along_an_edge_not_only_at_a_dot():
    u, fig = draw(3, flows=pd.DataFrame([flow("hub", "s0", 40), flow("s0", "hub", 10)]))
    edges = trace(fig, EDGE_TRACE)
    assert edges.marker.opacity == 0  # invisible: the arrow is what one sees
    points = list(zip(edges.x, edges.y, edges.hovertext, (c[0] for c in edges.customdata)))
    out = [(x, y) for x, y, h, _ in points if h.startswith("<b>Hub → Spoke 0")]
    back = [(x, y) for x, y, h, _ in points if h.startswith("<b>Spoke 0 → Hub")]
    assert {c for *_, c in points} == {"s0"}
    for line in (out, back):
        steps = [math.dist(a, b) for a, b in zip(line, line[1:])]
        assert max(steps) <= HOVER_STEP * 1.01  # a few pixels apart: the hover never falls between two points
        span = math.dist(line[0], line[-1])
        assert span > 0.6  # from near one node's rim to near the other's (hub and spoke are 1 apart)


def test_volume_labels_sit_beside_their_edge_on_its_outer_side():
    u, fig = draw(5)
    pos = layout_positions(u)
    labels = [a for a in fig.layout.annotations if not a.showarrow and a.text.replace(",", "").isdigit()]
    assert len(labels) == 10
    for label in labels:
        spoke = min((s for s in pos if s != "hub"), key=lambda s: abs(side_of_line((label.x, label.y), pos["hub"], pos[s])))
        side = side_of_line((label.x, label.y), pos["hub"], pos[spoke])
        # pushed further out, in pixels, on the side its edge runs: away from the other direction
        nx, ny = -(pos[spoke][1]), pos[spoke][0]
        push = (label.xshift * nx + label.yshift * ny) / math.hypot(nx, ny)
        assert push * side > 0 and abs(push) >= 3


def test_the_hub_name_sits_on_a_box_in_a_gap_between_edges_not_on_them():
    u, fig = draw(5, hub_name="Digital analytics & marketing hub")
    nodes = trace(fig, NODE_TRACE)
    assert nodes.text[0] == ""  # not a plain label under the hub, across the lower spokes' edges
    (label,) = [a for a in fig.layout.annotations if "Digital analytics" in (a.text or "")]
    assert label.bgcolor and "<br>" in label.text  # on a box, on two lines
    direction = math.degrees(math.atan2(label.yshift, label.xshift))
    spokes = [math.degrees(math.atan2(y, x)) for k, (x, y) in layout_positions(u).items() if k != "hub"]
    gap = min(abs((direction - s + 180) % 360 - 180) for s in spokes)
    assert gap == pytest.approx(36, abs=0.5)  # halfway between two neighbouring spokes (72° apart)


def test_spoke_names_sit_above_or_below_their_node_so_they_stay_inside_a_narrow_chart():
    u, fig = draw(8)
    nodes = trace(fig, NODE_TRACE)
    pos = layout_positions(u)
    for (unit,), where in zip(nodes.customdata, nodes.textposition):
        if unit != "hub":
            assert where == ("top center" if pos[unit][1] >= 0 else "bottom center")
    assert label_position(0.95, 0.3) == "top center" and label_position(-0.95, -0.3) == "bottom center"
    low, high = fig.layout.xaxis.range
    assert max(abs(x) for x, _ in pos.values()) + 0.35 <= min(-low, high)  # room for a name centred on the node


def test_the_legend_states_the_thresholds_each_colour_really_uses():
    u = units(2)
    fig = hub_spoke_map(u, both_ways(2), health(u.id.tolist()), sla_green=0.95, sla_amber=0.8, kpi_green=0.6,
                        kpi_amber=0.4)
    legend = [t.name for t in fig.data if t.showlegend is not False and t.x == (None,)]
    edge_part = " ".join(legend[:legend.index(next(n for n in legend if "KPI" in n))])
    unit_part = " ".join(legend[legend.index(next(n for n in legend if "KPI" in n)):])
    assert "SLA ≥ 95 %" in edge_part and "≥ 80 %" in edge_part and "< 80 %" in edge_part
    assert "60 %" not in edge_part and "40 %" not in edge_part
    assert "KPIs on target ≥ 60 %" in unit_part and "≥ 40 %" in unit_part and "< 40 %" in unit_part
    assert "95 %" not in unit_part and "80 %" not in unit_part
    colours = [(t.line.color if t.mode == "lines" else t.marker.color) for t in fig.data if t.x == (None,)]
    assert colours[:3] == [BAND_COLOURS["green"], BAND_COLOURS["amber"], BAND_COLOURS["red"]]


def test_map_figures_are_whole_counts_with_separators_and_fixed_decimals():
    u = units(1)
    big = flow("hub", "s0", 53548, sla=0.86213, backlog=12345)
    fig = hub_spoke_map(u, pd.DataFrame([big]), health(u.id.tolist(), share=0.5), **THRESHOLDS)
    hover = trace(fig, EDGE_TRACE).hovertext[0]
    assert "Volume: 53,548 new items" in hover and "Backlog: 12,345 open" in hover
    assert "within SLA: 86.2 %" in hover
    labels = [a.text for a in fig.layout.annotations if not a.showarrow and "53" in (a.text or "")]
    assert labels == ["53,548"]
    node = trace(fig, NODE_TRACE).hovertext[1]
    assert "Items in window: 53,548" in node and "Headcount: 5.0 FTE" in node and "(50.0 %)" in node


def test_a_map_without_flows_still_draws_its_nodes():
    u = units(3)
    fig = hub_spoke_map(u, both_ways(3).iloc[0:0], health(u.id.tolist()), **THRESHOLDS)
    assert [c[0] for c in trace(fig, NODE_TRACE).customdata] == u.id.tolist()
    assert len(trace(fig, EDGE_TRACE).x) == 0 and not arrows(fig)
    assert np.isfinite(trace(fig, NODE_TRACE).marker.size).all()
