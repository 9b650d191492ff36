"""The spoke page through the real app: deep links, filters in the URL, actions, conflicts, exports."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from dashboard import store
from dashboard.actions import act
from dashboard.db import make_engine, work_items
from dashboard.domain.access import Role, Viewer
from tests.factories import item


def inbox_of(at):
    table = next(d for d in at.dataframe if "Item" in d.value.columns)
    return table.value


def status_of(url, item_id):
    with make_engine(url).connect() as conn:
        return conn.execute(select(work_items.c.status, work_items.c.updated_by).where(work_items.c.id == item_id)).one()


def test_every_spoke_page_renders(app, app_db):
    for unit, name in (("sales", "Sales"), ("finance", "Finance")):
        at = app("pages/spoke_page.py", unit=unit).run()
        assert not at.exception, at.exception
        assert at.title[0].value == name


def test_unknown_spoke_lists_the_valid_ones(app, app_db):
    at = app("pages/spoke_page.py", unit="marketing; drop table units").run()
    assert not at.exception
    assert at.title[0].value == "No such spoke"
    assert [link.proto.label for link in at.get("page_link")] == ["Sales", "Finance"]


def test_spoke_page_without_unit_offers_a_choice(app, app_db):
    at = app("pages/spoke_page.py").run()
    assert [link.proto.label for link in at.get("page_link")] == ["Sales", "Finance"]


def test_default_unit_setting_decides_when_the_url_does_not(app, app_db, use_db):
    use_db(app_db, default_unit="finance")
    assert app("pages/spoke_page.py").run().title[0].value == "Finance"


def test_inbox_shows_open_items_by_default_with_breach_flags(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    inbox = inbox_of(at)
    assert set(inbox.Status) == {"routed"}
    assert len(inbox) == 5  # four open leads and the hyperlink one
    assert inbox.set_index("Item").loc["open-3", "Breached"]  # open for 2.3 h against a 1 h SLA


def test_filters_round_trip_through_the_url(app, app_db):
    at = app("pages/spoke_page.py", unit="sales", status="resolved", kind="lead", window="30d").run()
    assert at.multiselect(key="status").value == ["resolved"]
    assert at.multiselect(key="kind").value == ["lead"]
    assert set(inbox_of(at).Status) == {"resolved"}
    at.multiselect(key="channel").set_value(["web"]).run()
    assert at.query_params["channel"] == ["web"] or at.query_params["channel"] == "web"
    assert at.query_params["status"] in ("resolved", ["resolved"])


def test_resolving_selected_items_updates_the_database_and_the_overview(app, app_db):
    before = app().run()
    def edge(at):
        spec = json.loads(at.get("plotly_chart")[0].proto.spec)
        flows = next(t for t in spec["data"] if t.get("name") == "flows")
        return next(h for h in flows["hovertext"] if "Marketing hub → Sales" in h)

    assert "5 open" in edge(before)

    at = app("pages/spoke_page.py", unit="sales").run()
    ids = list(inbox_of(at).Item)
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    at.run()
    form_action = next(s for s in at.selectbox if s.label == "Action")
    form_action.set_value("resolve")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert "Resolve: 2 items updated." in at.success[0].value
    for item_id in ids[:2]:
        assert tuple(status_of(app_db, item_id)) == ("resolved", "local admin")

    after = app().run()
    assert "3 open" in edge(after)


def test_an_item_someone_else_resolved_is_reported_not_overwritten(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    first = inbox_of(at).Item.iloc[0]
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    # a colleague resolves the same item in the meantime
    act(make_engine(app_db), Viewer("bob", Role.SPOKE_LEAD, unit="sales"), "sales", [(first, 1)], "resolve",
        now=dt.datetime.now(dt.timezone.utc))
    next(s for s in at.selectbox if s.label == "Action").set_value("hand_back")
    next(t for t in at.text_input if t.label == "Note").input("Wrong team")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert "already changed by bob" in at.warning[0].value
    assert tuple(status_of(app_db, first)) == ("resolved", "bob")


def test_hand_back_without_a_note_asks_for_one(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    next(s for s in at.selectbox if s.label == "Action").set_value("hand_back")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert "Say why" in at.warning[0].value


def test_check_panels_follow_the_units_configuration(app, app_db):
    from sqlalchemy import update

    from dashboard.db import units

    with make_engine(app_db).begin() as conn:
        # sales: 20 reps x 0.001 = 0.02 leads a day, so any complete day with a lead exceeds it; a lead 30 h
        # ago always falls on a complete day (yesterday or the day before), whatever the time of day
        conn.execute(update(units).where(units.c.id == "sales").values(panels="lead_capacity,routed_topics", capacity_per_fte_day=0.001))
        store.insert_work_items(conn, [item("old-lead", "hub", "sales", dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=30))])
    at = app("pages/spoke_page.py", unit="sales").run()
    assert not at.exception
    subheaders = [s.value for s in at.subheader]
    assert "Marketing leads vs sales capacity" in subheaders and "Routed topics and recurring questions" in subheaders
    assert "Spend, revenue and ROI by channel" not in subheaders
    assert any("exceed" in e.value for e in at.error) or any("exceed" in w.value for w in at.warning)


def test_exports_are_offered(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download filtered inbox (CSV)", "Download KPIs (CSV)"]
