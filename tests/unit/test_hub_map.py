"""The hub-and-spoke map is a pure function of its data."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.charts.hub_map import (
    EDGE_TRACE,
    NODE_TRACE,
    UNROUTED_TRACE,
    clicked_unit,
    hub_spoke_map,
    layout_positions,
)
from dashboard.charts.palette import BAND_COLOURS

THRESHOLDS = dict(sla_green=0.9, sla_amber=0.75, kpi_green=0.75, kpi_amber=0.5)


def units(n_spokes=5):
    rows = [dict(id="hub", name="Hub", kind="hub", headcount=10)]
    rows += [dict(id=f"s{i}", name=f"Spoke {i}", kind="spoke", headcount=5 + i) for i in range(n_spokes)]
    return pd.DataFrame(rows)


def flow(src, dst, created, sla):
    return dict(source_unit=src, target_unit=dst, hub_side="out" if src == "hub" else "in",
                spoke=dst if src == "hub" else src, created=created, created_value=0.0, resolved=created,
                resolved_in_sla=0 if sla != sla else int(created * sla), sla_share=sla, mean_h=2.0, median_h=1.5,
                p90_h=5.0, backlog=3, overdue=1)


def health(ids, share=0.8):
    return pd.DataFrame(dict(unit_id=ids, kpis=[2] * len(ids), kpis_with_data=[2] * len(ids),
                             on_target=[1] * len(ids), kpi_share=[share] * len(ids)))


def trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_map_has_one_node_per_unit_with_its_id_in_customdata():
    u = units(5)
    fig = hub_spoke_map(u, pd.DataFrame([flow("hub", "s0", 10, 0.95)]), health(u.id.tolist()), **THRESHOLDS)
    nodes = trace(fig, NODE_TRACE)
    assert [c[0] for c in nodes.customdata] == u.id.tolist()


def test_both_directions_are_drawn_and_coloured_by_sla():
    u = units(2)
    f = pd.DataFrame([flow("hub", "s0", 100, 0.95), flow("s0", "hub", 10, 0.5), flow("hub", "s1", 5, np.nan)])
    fig = hub_spoke_map(u, f, health(u.id.tolist()), **THRESHOLDS)
    edges = trace(fig, EDGE_TRACE)
    per_edge = list(dict.fromkeys(zip(edges.hovertext, edges.marker.color, (c[0] for c in edges.customdata))))
    assert [(colour, spoke) for _, colour, spoke in per_edge] == [
        (BAND_COLOURS["green"], "s0"), (BAND_COLOURS["red"], "s0"), (BAND_COLOURS["none"], "s1")]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert [a.arrowcolor for a in arrows] == [BAND_COLOURS["green"], BAND_COLOURS["red"], BAND_COLOURS["none"]]
    assert arrows[0].arrowwidth > arrows[1].arrowwidth > arrows[2].arrowwidth  # width follows volume
    assert "Backlog: 3 open · 1 overdue" in per_edge[0][0]


def test_node_colour_shows_kpi_health_and_no_data_is_grey():
    u = units(2)
    h = health(["hub", "s0"], share=0.3)
    fig = hub_spoke_map(u, pd.DataFrame([flow("hub", "s0", 1, 1.0)]), h, **THRESHOLDS)
    colours = list(trace(fig, NODE_TRACE).marker.color)
    assert colours[1] == BAND_COLOURS["red"] and colours[2] == BAND_COLOURS["none"]
    assert "KPIs: no data" in trace(fig, NODE_TRACE).hovertext[2]


def test_focus_keeps_only_the_chosen_spokes():
    u = units(4)
    f = pd.DataFrame([flow("hub", "s0", 3, 1.0), flow("hub", "s2", 3, 1.0)])
    fig = hub_spoke_map(u, f, health(u.id.tolist()), focus=["s2"], **THRESHOLDS)
    assert [c[0] for c in trace(fig, NODE_TRACE).customdata] == ["hub", "s2"]
    assert {c[0] for c in trace(fig, EDGE_TRACE).customdata} == {"s2"}


def test_spokes_sit_on_a_circle_around_the_hub():
    pos = layout_positions(units(5))
    assert pos["hub"] == (0.0, 0.0)
    assert all(abs(np.hypot(*pos[f"s{i}"]) - 1) < 1e-9 for i in range(5))


def test_clicked_unit_reads_customdata_of_the_first_point():
    assert clicked_unit({"selection": {"points": [{"customdata": ["sales"]}]}}) == "sales"
    assert clicked_unit({"selection": {"points": []}}) is None
    assert clicked_unit(None) is None


def test_unrouted_items_are_not_a_hub_to_hub_edge_but_a_label_at_the_hub():
    u = units(2)
    unrouted = flow("hub", "hub", 7, np.nan) | dict(hub_side="unrouted", spoke="hub", backlog=5, overdue=2)
    f = pd.DataFrame([flow("hub", "s0", 10, 0.95), unrouted])
    fig = hub_spoke_map(u, f, health(u.id.tolist()), **THRESHOLDS)
    edges = trace(fig, EDGE_TRACE)
    assert {c[0] for c in edges.customdata} == {"s0"}  # no hub -> hub edge
    assert len([a for a in fig.layout.annotations if a.showarrow]) == 1
    label = trace(fig, UNROUTED_TRACE)
    assert list(label.text) == ["5 unrouted"] and label.customdata[0][0] == "hub"
    assert "Unrouted now: 5 waiting in triage" in trace(fig, NODE_TRACE).hovertext[0]
    assert "Items in window: 10" in trace(fig, NODE_TRACE).hovertext[0]  # the queue does not count as a flow


def test_no_unrouted_label_when_nothing_waits():
    u = units(2)
    fig = hub_spoke_map(u, pd.DataFrame([flow("hub", "s0", 10, 0.95)]), health(u.id.tolist()), **THRESHOLDS)
    assert UNROUTED_TRACE not in {t.name for t in fig.data}
    assert "Unrouted now: 0 waiting" in trace(fig, NODE_TRACE).hovertext[0]


# --- the routing replay on the same map (dashboard.charts.routing_charts) ----------------------------------------


def replay_rows():
    from dashboard.whatif.replay import PER_SPOKE_COLUMNS

    rows = [dict(unit="s0", name="Spoke 0", items_now=300, items_draft=3900, delta=3600),
            dict(unit="s1", name="Spoke 1", items_now=1500, items_draft=300, delta=-1200),
            dict(unit="unrouted", name="Unrouted", items_now=9, items_draft=12, delta=3)]
    frame = pd.DataFrame(rows)
    for col in PER_SPOKE_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    frame["over_capacity_draft"] = [False, True, False]
    frame["wait_draft_h"] = [0.5, np.inf, np.nan]
    return frame[PER_SPOKE_COLUMNS]


def test_the_replay_map_labels_each_spoke_edge_with_the_daily_change_and_never_draws_unrouted_as_an_edge():
    from dashboard.charts.routing_charts import EDGE_TRACE as REPLAY_EDGES
    from dashboard.charts.routing_charts import FEWER, MORE, UNROUTED_ROW, replay_map

    fig = replay_map(units(2), replay_rows(), days=30)
    edges = trace(fig, REPLAY_EDGES)
    assert [c[0] for c in edges.customdata] == ["s0", "s1"]
    assert list(edges.text) == ["+120 items/day", "−40 items/day"]
    assert list(edges.marker.color) == [MORE, FEWER]
    assert "over capacity" in edges.hovertext[1] and "300 now → 3,900 with the draft" in edges.hovertext[0]
    assert list(trace(fig, UNROUTED_ROW).text) == ["12 unrouted"]
    assert len([t for t in fig.data if t.mode == "lines"]) == 2


def test_daily_rates_read_well():
    from dashboard.charts.routing_charts import per_day

    assert per_day(3600, 30) == "+120 items/day"
    assert per_day(-12, 30) == "−0.4 items/day"
    assert per_day(1, 30) == "no change"
    assert per_day(90, 30, signed=False) == "3 items/day"


def test_the_replay_table_keeps_over_capacity_waits_out_of_the_numbers():
    from dashboard.charts.routing_charts import replay_table

    table = replay_table(replay_rows(), 30)
    assert table["Items/day with draft"].tolist() == [130.0, 10.0, 0.4]
    assert table["Wait with draft"].tolist()[:2] == ["30 min", "over capacity"] and pd.isna(table["Wait with draft"][2])
