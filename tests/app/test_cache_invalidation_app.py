"""A write shows on the next run of every page that reads what it changed, without waiting for the cache's lifetime.

The lifetime is an hour here, so only the cache module's invalidation by name can refresh the pages; a write
that bypasses the use cases (as another process's would) stays out of sight for that hour, which proves the
pages really read from the cache. A real SQLite file, the real app (AppTest).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard import store
from dashboard.charts.hub_map import EDGE_TRACE
from dashboard.db import make_engine
from dashboard.domain.access import Role, Viewer
from dashboard.services import routing
from dashboard.ui import cache
from tests.factories import item

pytestmark = pytest.mark.slow  # three whole-app runs of about ten seconds each (make test runs them)

HOUR = 3600
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
LEADS_TO_SALES = {"rules": [{"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales"}],
                  "default": {"target_unit": None}}
TO_SALES = "<b>Marketing hub → Sales</b>"


def hub_to_sales(at) -> str:
    """The hover text of the map's hub → sales edge: volume, resolved, backlog."""
    fig = json.loads(at.get("plotly_chart")[0].proto.spec)
    edges = next(t for t in fig["data"] if t.get("name") == EDGE_TRACE)
    return next(h for h in edges["hovertext"] if h.startswith(TO_SALES))


def inbox_ids(at) -> list[str]:
    return list(next(d for d in at.dataframe if "Item" in d.value.columns).value.Item)


def waiting_lead(item_id: str, hours_ago: float = 1.0) -> dict:
    """A lead waiting unrouted at the hub (its triage queue)."""
    created = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    return item(item_id, "hub", "hub", created, status="new") | dict(routed_at=None)


def test_publishing_and_routing_the_waiting_items_shows_them_on_the_map_and_in_the_inbox_at_once(
        app, app_db, use_db):
    use_db(app_db, cache_ttl_seconds=HOUR)
    engine = make_engine(app_db)
    with engine.begin() as conn:
        store.insert_work_items(conn, [waiting_lead("wait-1")])
    overview = app().run()
    spoke = app("pages/spoke_page.py", unit="sales").run()
    assert not overview.exception and not spoke.exception
    map_before, inbox_before = hub_to_sales(overview), inbox_ids(spoke)
    assert "wait-1" not in inbox_before

    with engine.begin() as conn:  # written behind the use cases' back: the cache keeps the old view for its hour
        store.insert_work_items(conn, [item("side-1", "hub", "sales", dt.datetime.now(dt.UTC)
                                            - dt.timedelta(minutes=30))])
    assert hub_to_sales(overview.run()) == map_before and inbox_ids(spoke.run()) == inbox_before

    with engine.begin() as conn:  # what the Routing page does on "Publish" with "route the waiting items" ticked
        draft = routing.save_draft(conn, HUB, LEADS_TO_SALES, name="Leads to sales")
        routing.publish(conn, HUB, draft.id, draft.version, "leads go to sales")
        assert routing.route_waiting(conn, HUB) == 1
    cache.changed(routing.save_draft, routing.publish, routing.route_waiting)
    engine.dispose()

    assert {"wait-1", "side-1"} <= set(inbox_ids(spoke.run()))
    map_after = hub_to_sales(overview.run())
    assert map_after != map_before
    assert "Volume: 19 new items" in map_after and "Volume: 17 new items" in map_before


def test_an_inbox_action_changes_the_overview_on_the_next_run(app, app_db, use_db):
    use_db(app_db, cache_ttl_seconds=HOUR)
    at = app().run()
    before = hub_to_sales(at)
    assert "Backlog: 5 open" in before
    at.switch_page("pages/spoke_page.py")
    at.query_params["unit"] = "sales"
    at.run()
    assert not at.exception, at.exception
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    next(s for s in at.selectbox if s.label == "Action").set_value("resolve")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception, at.exception
    assert any("2 items updated" in s.value for s in at.success), [s.value for s in at.success]
    at.switch_page("pages/overview_page.py")
    at.run()
    assert not at.exception, at.exception
    after = hub_to_sales(at)
    assert "Backlog: 3 open" in after, after


def test_a_refused_action_says_why_and_changes_nothing(app, app_db, use_db):
    """Handing back without a note is advice for the person (ActionRefused), not a failure."""
    use_db(app_db, cache_ttl_seconds=HOUR)
    at = app("pages/spoke_page.py", unit="sales").run()
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    next(s for s in at.selectbox if s.label == "Action").set_value("hand_back")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception, at.exception
    assert any("Say why you hand the item back" in w.value for w in at.warning)
