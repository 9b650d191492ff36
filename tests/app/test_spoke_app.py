"""The spoke page through the real app: deep links, filters in the URL, actions, conflicts, exports."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from dashboard import store
from dashboard.db import make_engine, work_items
from dashboard.domain.access import Role, Viewer
from dashboard.services.items import act
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
    assert at.pills(key="status").value == ["resolved"]
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
        now=dt.datetime.now(dt.UTC))
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

    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        # sales: 20 reps x 0.001 = 0.02 leads a day, so a week of complete days with a lead each exceeds it
        conn.execute(update(units).where(units.c.id == "sales").values(panels="lead_capacity,routed_topics", capacity_per_fte_day=0.001))
        store.insert_work_items(conn, [item(f"old-lead-{d}", "hub", "sales", now - dt.timedelta(days=d)) for d in range(2, 12)])
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


# --- the inbox: what an action says, what a link keeps, what a cell shows ------------------------------------------

def tick(at, *rows):
    key = next(k for k in at.session_state if k.startswith("inbox-"))
    at.session_state[key] = {"selection": {"rows": list(rows), "columns": [], "cells": []}}
    return at.run()


def apply(at, action):
    next(s for s in at.selectbox if s.label == "Action").set_value(action)
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception, at.exception
    return at


def audit_count(url):
    from sqlalchemy import func

    from dashboard.db import audit_log

    with make_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(audit_log)).scalar_one()


def test_acknowledging_an_acknowledged_item_says_so_and_changes_nothing(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    first = inbox_of(at).Item.iloc[0]
    apply(tick(at, 0), "acknowledge")
    assert "Acknowledge: 1 item updated." in at.success[0].value
    row = inbox_of(at).set_index("Item").loc[first]
    assert row.Status == "accepted"
    with make_engine(app_db).connect() as conn:
        version = conn.execute(select(work_items.c.version).where(work_items.c.id == first)).scalar_one()
    audited = audit_count(app_db)

    apply(tick(at, list(inbox_of(at).Item).index(first)), "acknowledge")
    assert not at.success and not at.warning
    assert [i.value for i in at.info] == [f"{first} is already acknowledged: nothing to change."]
    with make_engine(app_db).connect() as conn:
        assert conn.execute(select(work_items.c.version).where(work_items.c.id == first)).scalar_one() == version
    assert audit_count(app_db) == audited  # nothing changed, nothing audited


def test_an_action_the_workflow_does_not_allow_is_explained(app, app_db):
    at = app("pages/spoke_page.py", unit="sales", status="resolved", window="30d").run()
    resolved = inbox_of(at).Item.iloc[0]
    apply(tick(at, 0), "resolve")
    assert [i.value for i in at.info] == [f"{resolved} is already resolved: nothing to change."]
    assert tuple(status_of(app_db, resolved))[0] == "resolved"


def add_open_leads(url, n):
    now = dt.datetime.now(dt.UTC)
    leads = [item(f"bulk-{i:03d}", "hub", "sales", now - dt.timedelta(minutes=5 + 7 * i), sla_hours=4 + (i % 9),
                  value=float(10 * (i % 13))) for i in range(n)]
    with make_engine(url).begin() as conn:
        store.insert_work_items(conn, leads)
    return leads


def test_sort_and_page_are_in_the_url_and_a_link_reproduces_the_view(app, app_db):
    add_open_leads(app_db, 70)
    with make_engine(app_db).connect() as conn:  # the expected order, straight from the raw rows
        raw = conn.execute(select(work_items.c.id, work_items.c.created_at, work_items.c.status)
                           .where(work_items.c.target_unit == "sales")).all()
    newest_first = [r.id for r in sorted((r for r in raw if r.status == "routed"),
                                         key=lambda r: (-r.created_at.timestamp(), r.id))]

    at = app("pages/spoke_page.py", unit="sales", status="routed", sort="-created_at")
    at.query_params["page"] = "2"  # (the fixture's own first argument is called page)
    at.run()
    assert not at.exception
    assert at.selectbox(key="sort").value == "-created_at"
    assert at.pagination[0].value == 2
    assert list(inbox_of(at).Item) == newest_first[50:]
    assert any(c.value.startswith(f"{len(newest_first)} items · page 2 of 2") for c in at.caption)

    at.selectbox(key="sort").set_value("due_at").run()  # another order: back to its first page
    assert "sort" not in at.query_params  # the default order: a clean link
    assert "page" not in at.query_params and at.pagination[0].value == 1
    at.pagination[0].set_value(2).run()
    assert at.query_params["page"] in ("2", ["2"])


def test_inbox_cells_never_read_none(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    inbox = inbox_of(at)
    for column in ("Topic", "Text", "Channel", "Last change", "Note"):
        assert not inbox[column].isna().any(), column
        assert "None" not in set(inbox[column]), column
    assert set(inbox.Topic) == {""}  # the sample items have no topic


# --- charts on the page --------------------------------------------------------------------------------------------

def plotly_values(value) -> list:
    """A plotly array from a figure spec: a list, or numpy's typed array encoded as base64 ("bdata")."""
    import base64

    import numpy as np

    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def chart_spec(at, title):
    for c in at.get("plotly_chart"):
        spec = json.loads(c.proto.spec)
        text = (spec["layout"].get("title") or {}).get("text", "")
        if text == title or text.startswith(title):
            return spec
    raise AssertionError(f"no chart titled {title!r}")


def test_a_change_marked_done_today_keeps_the_trend_charts_to_the_window(app, app_db):
    from sqlalchemy import insert

    from dashboard.db import planned_changes, target_models

    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        conn.execute(insert(target_models).values(id=1, scenario_name="Target", inputs={}, status="current",
                                                  promoted_by="hal", promoted_at=now))
        conn.execute(insert(planned_changes).values(
            target_model_id=1, function="content_production", from_placement="spokes", to_placement="hub",
            label="Content production centralised", units="sales", status="done", done_on=now.date(),
            updated_by="hal", updated_at=now))
        # sample_activity's newest item is an hour old: just after midnight "today" would be empty, without charts
        store.insert_work_items(conn, [item("just-now", "hub", "sales", now)])
    at = app("pages/spoke_page.py", unit="sales").run()
    for window, bucket in (("7d", 6), ("30d", 24), ("today", 1)):
        at.segmented_control(key="window").set_value(window).run()
        assert not at.exception
        for title in ("Volume", "Backlog and SLA breaches"):
            layout = chart_spec(at, title)["layout"]
            lo, hi = (dt.datetime.fromisoformat(x).replace(tzinfo=dt.UTC) for x in layout["xaxis"]["range"])
            # the axis ends with the bucket now falls in, not days later to make room for the label
            assert now <= hi <= now + dt.timedelta(hours=bucket), (window, title, hi)
            assert layout["xaxis"]["autorange"] is False
            [label] = layout["annotations"]
            assert label["text"] == "Content production centralised"
            # the label runs into the plot from its line: leftwards from a line in the right half (the 7- and
            # 30-day windows end today), rightwards from one at the start ("today" starts at midnight)
            x = dt.datetime.fromisoformat(label["x"]).replace(tzinfo=dt.UTC)
            assert label["xanchor"] == ("right" if x > lo + (hi - lo) / 2 else "left"), window


def test_breach_and_count_axes_tick_on_whole_numbers(app, app_db):
    at = app("pages/spoke_page.py", unit="sales", window="30d").run()
    layout = chart_spec(at, "Backlog and SLA breaches")["layout"]
    for axis in ("yaxis", "yaxis2"):
        assert layout[axis]["tickformat"] == ",d" and layout[axis].get("tickmode") != "sync"
    assert layout["yaxis2"]["dtick"] == 1  # a handful of breaches: one tick each, never 0.53 / 3.97 / 7.4
    volume = chart_spec(at, "Volume")["layout"]["yaxis"]
    assert volume["tickformat"] == ",d"


# --- check panels --------------------------------------------------------------------------------------------------

def test_capacity_warning_and_chart_show_one_fit_of_complete_days_from_the_raw_rows(app, app_db, use_db):
    """The figures a sales lead acts on, against the raw leads counted and fitted by hand (tests/capacity_org.py)."""
    from sqlalchemy import update

    from dashboard.db import units
    from dashboard.domain import format as fmt
    from tests import capacity_org as org

    zone = "Europe/Berlin"
    use_db(app_db, timezone=zone)
    now = dt.datetime.now(dt.UTC)
    rows = org.lead_rows(now, zone, target="finance")  # finance: no other leads in the sample organisation
    counts = org.complete_day_counts(rows, now, zone)
    slope, intercept = org.least_squares(list(counts.values()))
    capacity = 20 * 8.0  # headcount × leads per rep per day
    runs_out = org.first_day_at_capacity(list(counts), slope, intercept, capacity)
    assert runs_out is not None  # the known organisation is built to run out within the horizon
    with make_engine(app_db).begin() as conn:
        conn.execute(update(units).where(units.c.id == "finance").values(panels="lead_capacity", headcount=20,
                                                                         capacity_per_fte_day=8.0))
        store.insert_work_items(conn, rows)

    at = app("pages/spoke_page.py", unit="finance").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Trend"] == f"{fmt.signed_decimal(slope)} a day"
    assert metrics["Leads a day (last 7 days)"] == fmt.count(sum(list(counts.values())[-7:]) / 7)
    assert metrics["Sales capacity a day"] == fmt.count(capacity)
    assert any(f"exceed sales capacity on **{fmt.day(runs_out)}**" in w.value for w in at.warning)
    spec = chart_spec(at, "Leads arriving vs what sales can work")
    bars = next(t for t in spec["data"] if t["name"] == "Leads a day")
    line = next(t for t in spec["data"] if t["name"] == "Trend")
    assert [dt.date.fromisoformat(x[:10]) for x in bars["x"]] == list(counts)
    assert plotly_values(bars["y"]) == [float(n) for n in counts.values()]
    assert plotly_values(line["y"]) == [pytest.approx(intercept + slope * x) for x in range(len(counts))]


def test_promotions_panel_says_which_promotions_it_lists(app, app_db):
    from sqlalchemy import insert, update

    from dashboard.db import promotions, units

    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        conn.execute(update(units).where(units.c.id == "sales").values(panels="promotions"))
        conn.execute(insert(promotions), [
            dict(id="p-ended", name="Summer sale", channel="web", starts_at=now - dt.timedelta(days=9),
                 ends_at=now - dt.timedelta(days=3)),
            dict(id="p-active", name="Black Friday", channel="web", starts_at=now - dt.timedelta(days=1),
                 ends_at=now + dt.timedelta(days=3)),
            dict(id="p-later", name="Winter warmers", channel="email", starts_at=now + dt.timedelta(days=5),
                 ends_at=now + dt.timedelta(days=9)),
            dict(id="p-old", name="Spring sale", channel="web", starts_at=now - dt.timedelta(days=40),
                 ends_at=now - dt.timedelta(days=30)),
        ])
    at = app("pages/spoke_page.py", unit="sales").run()
    assert "Promotions: active, upcoming and ended in the last 7 days" in [s.value for s in at.subheader]
    table = next(d.value for d in at.dataframe if "Promotion" in d.value.columns)
    assert list(zip(table.Promotion, table.State)) == [("Black Friday", "active"), ("Winter warmers", "upcoming"),
                                                      ("Summer sale", "ended")]


def test_count_kpis_read_whole_in_the_kpi_tree(app, app_db):
    from dashboard.db import kpi_observations  # noqa: F401  (the table the observation lands in)

    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        store.insert_kpi_observations(conn, [dict(kpi_id="close_days", ts=now - dt.timedelta(hours=1), value=4.6)])
    at = app("pages/spoke_page.py", unit="finance").run()
    tree = next(t for t in chart_spec(at, "Where this team sits in the KPI tree")["data"] if t["type"] == "treemap")
    text = dict(zip(tree["ids"], tree["text"]))
    assert text["close_days"] == "5 (target 5)"  # a count: whole, never 4.6
    assert text["revenue"].startswith("€")
