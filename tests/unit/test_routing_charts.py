"""The routing replay as a table and on the map (dashboard.charts.routing_charts): estimates beside estimates,
waits readable, counts with separators, unchanged edges quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.charts.routing_charts import EDGE_TRACE, FEWER, MORE, SAME, UNROUTED_ROW, replay_map, replay_table
from dashboard.whatif.replay import PER_SPOKE_COLUMNS


def units(n: int) -> pd.DataFrame:
    rows = [dict(id="hub", name="Hub", kind="hub", headcount=10)]
    rows += [dict(id=f"s{i}", name=f"Spoke {i}", kind="spoke", headcount=5) for i in range(n)]
    return pd.DataFrame(rows)


def rows() -> pd.DataFrame:
    """Spoke 0 gains 3,600 items over 30 days, spoke 1 loses 1,200 and goes over capacity, spoke 2 is unchanged."""
    frame = pd.DataFrame([
        dict(unit="s0", name="Spoke 0", items_now=300, items_draft=3900, delta=3600, backlog_now=1200,
             backlog_draft=12500, sla_now=0.9, sla_now_est=0.97, sla_draft=0.80, utilisation_now=0.2,
             utilisation_draft=0.7, wait_now_h=0.25, wait_draft_h=0.5),
        dict(unit="s1", name="Spoke 1", items_now=1500, items_draft=300, delta=-1200, backlog_now=40, backlog_draft=8,
             sla_now=0.5, sla_now_est=0.6, sla_draft=0.99, utilisation_now=1.2, utilisation_draft=0.24,
             wait_now_h=np.inf, wait_draft_h=60.0),
        dict(unit="s2", name="Spoke 2", items_now=60, items_draft=60, delta=0, backlog_now=3, backlog_draft=3,
             sla_now=1.0, sla_now_est=0.99, sla_draft=0.99, utilisation_now=0.1, utilisation_draft=0.1,
             wait_now_h=0.01, wait_draft_h=0.01),
        dict(unit="unrouted", name="Unrouted", items_now=9, items_draft=12, delta=3, backlog_now=9, backlog_draft=12),
    ])
    for col in PER_SPOKE_COLUMNS:
        if col not in frame:
            frame[col] = np.nan
    return frame[PER_SPOKE_COLUMNS]


def test_the_table_sets_the_drafts_estimate_beside_todays_estimate():
    table = replay_table(rows(), 30).set_index("Spoke")
    assert table.loc["Spoke 0", ["Within SLA now (est.)", "Within SLA with draft (est.)", "Within SLA now (observed)"]] \
        .round(1).tolist() == [97.0, 80.0, 90.0]
    assert table.at["Spoke 0", "Items/day with draft"] == 3900 / 30
    assert table.at["Spoke 1", "Change (items)"] == -1200


def test_waits_read_in_the_unit_a_reader_expects_and_a_growing_queue_says_so():
    table = replay_table(rows(), 30).set_index("Spoke")
    assert table["Wait now"].tolist()[:3] == ["15 min", "over capacity", "1 min"]
    assert table["Wait with draft"].tolist()[:3] == ["30 min", "2.5 d", "1 min"]
    assert pd.isna(table.at["Unrouted", "Wait now"])  # no queue to wait in: missing, shown as "—" on the page


def test_the_map_hover_counts_with_separators_and_unchanged_edges_stay_quiet():
    fig = replay_map(units(3), rows(), days=30)
    edges = next(t for t in fig.data if t.name == EDGE_TRACE)
    assert [c[0] for c in edges.customdata] == ["s0", "s1", "s2"]
    assert list(edges.text) == ["+120 items/day", "−40 items/day", ""]  # grey already says "no change"
    assert list(edges.marker.color) == [MORE, FEWER, SAME]
    assert "Items: 300 now → 3,900 with the draft" in edges.hovertext[0]
    assert "Backlog: 1,200 → 12,500 open" in edges.hovertext[0]
    assert "Within SLA (estimated): 97.0 % now → 80.0 % with the draft; observed now: 90.0 %" in edges.hovertext[0]
    assert "over capacity → 2.5 d" in edges.hovertext[1]
    assert list(next(t for t in fig.data if t.name == UNROUTED_ROW).text) == ["12 unrouted"]
    assert len([t for t in fig.data if t.mode == "lines"]) == 3  # unrouted items are a label, never an edge
