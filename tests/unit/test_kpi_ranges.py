"""Which KPI values the data-health checks flag: the range comes from the KPI's definition (unit of measure and
target), so a campaign ROI above 100 % is no false alarm while a share above 100 % still is."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import kpi_observations
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.domain.kpi_ranges import is_share, value_range
from dashboard.queries import health
from loaders import demo
from tests.factories import NOW, at, tiny_org


@pytest.mark.parametrize(("uom", "target", "expected"), [
    ("%", 5.0, (0.0, 100.0)),  # a share: conversion rate
    ("%", 100.0, (0.0, 100.0)),  # all reports on time
    ("%", None, (0.0, 100.0)),  # no target: most percentages are shares
    ("%", 250.0, None),  # a campaign ROI: a ratio, can pass 100
    ("%", -5.0, None),  # a shrinking target: a ratio, can be negative
    ("EUR", 1000.0, (0.0, None)),
    ("EUR", -500.0, None),  # a result that can be a loss
    ("count", 5.0, (0.0, None)),
    ("hours", 48.0, (0.0, None)),
    ("score", 7.0, None),  # a unit with no known range
])
def test_the_range_follows_the_unit_and_the_target(uom, target, expected):
    assert value_range(uom, target) == expected


def test_a_share_is_a_percentage_aiming_inside_0_to_100():
    assert is_share("%", 90.0) and not is_share("%", 250.0) and not is_share("EUR", 50.0)


def by_check(checks):
    return {r.check: (r.problems, r.checked, r.detail) for r in checks.itertuples()}


def test_a_ratio_kpi_above_100_is_not_flagged_but_a_share_above_100_is(engine):
    with engine.begin() as conn:
        tiny_org(conn)  # "Conversion rate": % with a target of 5
        store.upsert_kpis(conn, [
            dict(id="roi", unit_id="hub", name="Campaign ROI", unit_of_measure="%", target=250.0, direction="higher",
                 aggregation="mean", parent_id="cost", is_goal=False, sort_order=4),
            dict(id="growth", unit_id="sales", name="Order growth", unit_of_measure="%", target=-2.0,
                 direction="higher", aggregation="mean", parent_id="revenue", is_goal=False, sort_order=5),
        ])
        conn.execute(insert(kpi_observations), [
            dict(kpi_id="roi", ts=at(1), value=310.0), dict(kpi_id="roi", ts=at(2), value=-40.0),
            dict(kpi_id="roi", ts=at(3), value=180.0), dict(kpi_id="growth", ts=at(1), value=-12.0),
            dict(kpi_id="conversion", ts=at(1), value=104.0), dict(kpi_id="conversion", ts=at(2), value=4.0),
        ])
    with engine.connect() as conn:
        checks = by_check(health.quality_checks(conn, LOCAL_ADMIN, NOW))
        lifted = health.kpis_not_range_checked(conn, LOCAL_ADMIN)
    # only the share's 104 % is flagged; the ratios' rows are not even counted as checked against 0–100
    assert checks["% KPI value outside 0–100"] == (1, 2, "Conversion rate: 1")
    assert lifted.name.tolist() == ["Campaign ROI", "Order growth"]
    assert lifted.target.tolist() == [250.0, -2.0]


def test_the_demo_organisation_passes_every_consistency_check(engine):
    """A new user's first look at data health on the demo: no false alarm about the demo's own data."""
    demo.load_demo(engine, now=NOW, work_items=3000, kpi_observations=2500)
    with engine.connect() as conn:
        checks = health.quality_checks(conn, LOCAL_ADMIN, NOW)
        lifted = health.kpis_not_range_checked(conn, LOCAL_ADMIN)
    invalid = checks[checks.kind == "invalid"]
    assert invalid.problems.sum() == 0, invalid[invalid.problems > 0][["check", "problems", "detail"]]
    # the demo's ROI exceeds 100 % (that was the false alarm) and is named as not range-checked
    roi = next(k for k in demo.KPIS if k.id == "campaign_roi")
    assert roi.name in lifted.name.tolist()
    with engine.connect() as conn:
        values = conn.execute(kpi_observations.select().where(kpi_observations.c.kpi_id == "campaign_roi")).all()
    assert max(v.value for v in values) > 100  # the case the check must not flag really occurs in the demo
