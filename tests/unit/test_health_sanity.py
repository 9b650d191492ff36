"""Data health counts what imports warn about but keep: work due more than a year ahead, items sent from a spoke
to itself, campaign rows with more conversions than leads (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert

from dashboard.db import campaigns, work_items
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.queries import health
from tests.factories import NOW, at, item, tiny_org


@pytest.fixture
def odd_org(engine):
    rows = [item("ok", "hub", "sales", at(3)), item("far", "hub", "sales", at(3)),
            item("self", "sales", "sales", at(3)), item("waiting", "hub", "hub", at(3), status="new"),
            item("finance-self", "finance", "finance", at(2))]
    due = {"far": NOW + dt.timedelta(days=400)}
    campaign = dict(channel="search", period_start=dt.date(2026, 11, 2), period_end=dt.date(2026, 11, 8), budget=100.0,
                    spend=90.0, leads=10, conversions=3, revenue=500.0)
    with engine.begin() as conn:
        tiny_org(conn)
        conn.execute(insert(work_items), [r | {"due_at": due.get(r["id"], r["created_at"] + dt.timedelta(hours=4)),
                                               "version": 1} for r in rows])
        conn.execute(insert(campaigns), [campaign, campaign | {"channel": "social", "conversions": 12},
                                         campaign | {"channel": "email", "leads": 0, "conversions": 1}])
    return engine


def test_the_checks_count_far_due_dates_self_sends_and_conversions_over_leads(odd_org):
    with odd_org.connect() as conn:
        checks = health.quality_checks(conn, LOCAL_ADMIN, NOW)
    by = {(r.table, r.column, r.check): (r.problems, r.checked) for r in checks[checks.kind == "invalid"].itertuples()}
    assert by[("work_items", "due_at", "due more than a year ahead")] == (1, 5)
    assert by[("work_items", "target_unit", "sent from a spoke to itself")] == (2, 5)  # not the hub's own queue
    assert by[("campaigns", "conversions", "more conversions than leads")] == (2, 3)


def test_a_clean_organisation_passes_the_new_checks(engine):
    with engine.begin() as conn:
        tiny_org(conn)
    with engine.connect() as conn:
        checks = health.quality_checks(conn, LOCAL_ADMIN, NOW).set_index("check")
    for check in ("due more than a year ahead", "sent from a spoke to itself", "more conversions than leads"):
        assert checks.at[check, "problems"] == 0
