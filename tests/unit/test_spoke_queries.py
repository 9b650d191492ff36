"""A spoke's inbox and flow trend, scoped to the viewer, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from dashboard import store
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries.spoke import InboxFilter, flow_trend, inbox, inbox_options
from tests.factories import NOW, at, item, tiny_org


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        items = [item(f"open-{i:02d}", "hub", "sales", at(10 + i), sla_hours=5) for i in range(25)]
        items += [item("done", "hub", "sales", at(3), resolved=at(2), sla_hours=4, value=10.0)]
        items += [item("late", "hub", "sales", at(30), resolved=at(1), sla_hours=4) | {"channel": "email"}]
        items += [item("fin", "hub", "finance", at(5), kind="report")]
        items += [item("req", "sales", "hub", at(4), kind="request", resolved=at(3.5))]
        store.insert_work_items(conn, items)
    return engine


def test_inbox_pages_through_the_spokes_items_only(org):
    with org.connect() as conn:
        first = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(limit=10), NOW)
        last = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(limit=10, offset=20), NOW)
    assert first.total == 27 and first.pages == 3
    assert len(first.rows) == 10 and len(last.rows) == 7
    assert "fin" not in set(first.rows.id) | set(last.rows.id)


def test_inbox_flags_breaches_and_computes_age(org):
    with org.connect() as conn:
        page = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(limit=100, sort="created_at", descending=True), NOW)
    rows = page.rows.set_index("id")
    assert bool(rows.at["late", "breached"]) and not bool(rows.at["done", "breached"])
    assert bool(rows.at["open-00", "breached"])  # open for 10 h against a 5 h SLA
    assert rows.at["done", "age_h"] == pytest.approx(1.0)
    assert rows.index[0] == "done"  # newest first


def test_inbox_filters_by_channel_status_and_window(org):
    with org.connect() as conn:
        email = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(channels=("email",)), NOW)
        resolved = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(statuses=("resolved",)), NOW)
        recent = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(start=at(12)), NOW)
        outgoing = inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(direction="out"), NOW)
    assert list(email.rows.id) == ["late"]
    assert set(resolved.rows.id) == {"done", "late"}
    assert recent.total == 4  # open-00, open-01, open-02 (10..12 h) and done
    assert list(outgoing.rows.id) == ["req"]


def test_inbox_refuses_unknown_sort_columns(org):
    with org.connect() as conn, pytest.raises(ValueError, match="cannot sort"):
        inbox(conn, LOCAL_ADMIN, "sales", InboxFilter(sort="text; drop table units"), NOW)


def test_spoke_lead_cannot_open_another_spoke(org):
    sales_lead = Viewer("sam", Role.SPOKE_LEAD, unit="sales")
    with org.connect() as conn:
        assert inbox(conn, sales_lead, "sales", InboxFilter(), NOW).total == 27
        with pytest.raises(NotPermitted):
            inbox(conn, sales_lead, "finance", InboxFilter(), NOW)
        with pytest.raises(NotPermitted):
            inbox_options(conn, None, "sales")


def test_flow_trend_tracks_backlog_over_time(org):
    with org.connect() as conn:
        trend = flow_trend(conn, LOCAL_ADMIN, "sales", at(48), NOW, bucket_hours=24)
        opts = inbox_options(conn, LOCAL_ADMIN, "sales")
    incoming = trend[trend.direction == "in"]
    assert incoming.created.sum() == 27 and incoming.resolved.sum() == 2
    assert incoming.backlog.iloc[-1] == 25
    assert incoming.breaches.sum() == 1
    assert opts == {"channels": ["email", "web"], "kinds": ["lead", "request"]}


def test_export_returns_every_matching_item_across_pages(org):
    from dashboard.queries.spoke import export_rows

    with org.connect() as conn:
        rows = export_rows(conn, LOCAL_ADMIN, "sales", InboxFilter(limit=10), NOW, cap=1000)
        capped = export_rows(conn, LOCAL_ADMIN, "sales", InboxFilter(limit=10), NOW, cap=5)
    assert len(rows) == 27 and rows.id.is_unique
    assert len(capped) == 5
