"""A published routing change visibly alters the live map: in Chromium, a hub lead (the local admin here) changes
the default rule so that items no rule matches go to Finance, saves, replays and publishes it through the real
page; the system then routes new arrivals with the active rules (as the simulator and the import do,
:mod:`dashboard.services.autoroute`), and the overview's map shows the hub → Finance volume grow
and the "unrouted" label go. Publishing also routes the items already waiting at the hub (a box on the page)."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
from sqlalchemy import select

from dashboard import store
from dashboard.charts.hub_map import EDGE_TRACE, UNROUTED_TRACE
from dashboard.db import make_engine, work_items
from dashboard.domain.access import Role, Viewer
from dashboard.services import autoroute
from dashboard.services import routing as routing_service
from tests.browser.conftest import start_server
from tests.browser.plotly_helpers import wait_for_map
from tests.factories import item, sample_database

HUB = Viewer("hal@example.com", Role.HUB_LEAD)
RULES = {"rules": [{"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales"},
                   {"id": "reports", "name": "Reports to finance", "kinds": ["report"], "target_unit": "finance"}],
         "default": {"target_unit": None}}

# what the overview map shows on a hub -> spoke edge (its label), and the hub's unrouted label, read from plotly
MAP_JS = """([edgeTrace, unroutedTrace, spoke]) => {
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  if (!gd || !gd._fullData) return null;
  const edges = gd._fullData.find(t => t.name === edgeTrace);
  const waiting = gd._fullData.find(t => t.name === unroutedTrace);
  const hovers = edges ? Array.from(edges.hovertext || []) : [];
  const i = hovers.findIndex(h => h.includes('→ ' + spoke + '</b>'));
  return {edge: i >= 0 ? edges.text[i] : null, unrouted: waiting ? waiting.text[0] : null};
}"""


def map_reading(page) -> dict | None:
    return page.evaluate(MAP_JS, [EDGE_TRACE, UNROUTED_TRACE, "Finance"])


def wait_for_map_reading(page, expected: dict, timeout: float = 20.0) -> dict:
    deadline = time.time() + timeout
    seen = None
    while time.time() < deadline:
        seen = map_reading(page)
        if seen == expected:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"the map shows {seen}, expected {expected}")


def test_publishing_a_rule_in_the_browser_changes_the_routed_volume_on_the_map(page, tmp_path):
    url = sample_database(tmp_path / "routing.db")  # 2 reports hub -> finance in the last two days
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        draft = routing_service.save_draft(conn, HUB, RULES, name="Standard routing")
        routing_service.publish(conn, HUB, draft.id, draft.version, "first rules", now=now - dt.timedelta(days=1))
        waiting = [item(f"m{i}", "hub", "hub", now - dt.timedelta(hours=3 + i), kind="mention", status="new")
                   | dict(routed_at=None, text="Do you ship to Norway?") for i in range(5)]
        store.insert_work_items(conn, waiting)
    server = start_server(url, tmp_path, refresh_seconds=2, cache_ttl_seconds=1)
    try:
        page.goto(server.url)
        wait_for_map(page)
        wait_for_map_reading(page, {"edge": "2", "unrouted": "5 unrouted"})

        page.goto(f"{server.url}/routing")
        page.get_by_role("button", name="Start a draft from the active set").click()
        page.get_by_text("Items no rule matches (the default rule)").wait_for()
        page.get_by_test_id("stSelectbox").filter(has_text="Items no rule matches").click()
        page.get_by_role("option", name="Send to Finance").click()
        page.get_by_role("button", name="Save draft").click()
        page.get_by_text("Draft saved (version 2, 2 rules)").wait_for()

        page.get_by_role("tab", name="Replay & publish").click()
        page.get_by_role("button", name="Run replay").click()
        page.get_by_text("Largest moves").wait_for()  # the 5 waiting mentions would go to Finance
        page.get_by_label("What changed and why (required)").fill("Unmatched items go to Finance for now")
        page.get_by_role("button", name="Publish the draft").click()
        # publishing also routed the 5 mentions waiting at the hub (the box is ticked by default)
        page.get_by_text("is active. New items arriving at the hub are routed with it. 5 waiting items were "
                         "routed with it.").wait_for()

        # the system side: the simulator and the import route new arrivals with the active rules
        with engine.begin() as conn:
            rules = autoroute.active_rule_set(conn)
            arrivals = pd.DataFrame([item(f"n{i}", "hub", None, now - dt.timedelta(minutes=5 + i), kind="mention",
                                          status=None) | dict(routed_at=None, text="Is the shop open on Sunday?")
                                     for i in range(3)])
            routed = autoroute.apply(rules, arrivals, "hub", now)
            store.insert_work_items(conn, routed)
            assert autoroute.route_waiting(conn, now) == 0  # nothing left waiting
        with engine.connect() as conn:
            targets = dict(conn.execute(select(work_items.c.id, work_items.c.target_unit)
                                        .where(work_items.c.kind == "mention")).all())
        assert set(targets.values()) == {"finance"} and len(targets) == 8

        page.goto(server.url)
        wait_for_map(page)
        wait_for_map_reading(page, {"edge": "10", "unrouted": None})  # 2 reports + 5 waiting + 3 new
    finally:
        server.stop()
        engine.dispose()
