"""The sales capacity outlook, from the raw rows of a small known organisation (tests/capacity_org.py): only
complete local days count, a day without leads counts as zero, and the slope, the line and the day capacity
runs out are the textbook least-squares figures of those days. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import update

from dashboard import store
from dashboard.db import units
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.domain.capacity import MIN_DAYS_FOR_TREND, capacity_outlook
from dashboard.queries.checks import daily_arrivals
from tests import capacity_org as org
from tests.factories import NOW, tiny_org

ZONE = "Europe/Berlin"


@pytest.fixture
def leads(engine):
    rows = org.lead_rows(NOW, ZONE)
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, rows)
    return engine, rows


def arrivals(engine, days_back=28, zone=ZONE):
    with engine.connect() as conn:
        return daily_arrivals(conn, LOCAL_ADMIN, "sales", ["lead"], NOW - dt.timedelta(days=days_back), NOW,
                              ZoneInfo(zone))


def test_only_complete_local_days_are_counted_and_empty_ones_are_zero(leads):
    engine, rows = leads
    expected = org.complete_day_counts(rows, NOW, ZONE)
    got = arrivals(engine)
    assert list(got.index) == list(expected)  # the partial first day and today are left out
    assert got.tolist() == [float(n) for n in expected.values()]
    assert len(got) == org.COMPLETE_DAYS and got.iloc[org.EMPTY_DAY] == 0


def test_a_look_back_that_starts_mid_day_leaves_that_day_out(leads):
    engine, rows = leads
    expected = org.complete_day_counts(rows, NOW, ZONE)
    got = arrivals(engine, days_back=10)  # starts at 11:30 local, ten days ago
    start_day = (NOW - dt.timedelta(days=10)).astimezone(ZoneInfo(ZONE)).date()
    assert got.index[0] == start_day + dt.timedelta(days=1)
    assert got.tolist() == [float(expected[d]) for d in got.index]


def test_the_trend_is_the_least_squares_line_of_the_complete_days(leads):
    engine, rows = leads
    counts = org.complete_day_counts(rows, NOW, ZONE)
    slope, intercept = org.least_squares(list(counts.values()))
    out = capacity_outlook(arrivals(engine), capacity_per_day=200)
    assert out.slope == pytest.approx(slope) and out.intercept == pytest.approx(intercept)
    assert out.fitted.tolist() == pytest.approx([intercept + slope * x for x in range(len(counts))])
    assert out.recent_per_day == pytest.approx(sum(list(counts.values())[-7:]) / 7)
    assert out.runs_out_on == org.first_day_at_capacity(list(counts), slope, intercept, 200)
    assert not out.over_capacity_now
    # the partial first day (30 leads) and today's (40 so far) would have tilted the line
    with_partial = org.least_squares([org.FIRST_DAY_LEADS, *counts.values(), org.TODAY_LEADS])[0]
    assert abs(with_partial - slope) > 0.5


def test_over_capacity_now_and_no_trend_from_too_few_days():
    days = pd.Series([120.0] * 10, index=pd.date_range("2026-11-01", periods=10).date)
    out = capacity_outlook(days, 100)
    assert out.over_capacity_now and out.runs_out_on == dt.date(2026, 11, 11)  # today: the first day not judged
    few = capacity_outlook(days.iloc[: MIN_DAYS_FOR_TREND - 1], 500)
    assert few.slope is None and few.fitted.empty and few.runs_out_on is None and few.recent_per_day == 120
    with pytest.raises(ValueError, match="capacity"):
        capacity_outlook(days, 0)


def test_no_complete_day_gives_an_empty_series(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        conn.execute(update(units).where(units.c.id == "sales").values(capacity_per_fte_day=10))
        store.insert_work_items(conn, org.lead_rows(NOW, ZONE)[-org.TODAY_LEADS:])  # today's leads only
    assert arrivals(engine).empty
    assert capacity_outlook(arrivals(engine), 10).slope is None
