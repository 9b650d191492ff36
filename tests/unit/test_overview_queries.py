"""Overview queries on a tiny explicit organisation, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from dashboard import store
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries.flows import edge_flows
from dashboard.queries.kpis import headline, kpi_values, unit_kpi_health
from dashboard.queries.overview import load_overview
from tests.factories import NOW, at, item, tiny_org

UTC = dt.UTC


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            item("a", "hub", "sales", at(1.33), resolved=at(1.2), value=100),    # 09:10, before a 1h window
            item("b", "hub", "sales", at(0.75), resolved=at(0.5), value=200),    # 09:45, in SLA
            item("c", "hub", "sales", at(0.6), resolved=None, sla_hours=0.1),    # open and overdue
            item("d", "hub", "sales", at(10), resolved=at(0.25), sla_hours=4),   # resolved late
            item("e", "sales", "hub", at(3), kind="request", resolved=None, sla_hours=48),  # open, not due
        ])
        store.insert_kpi_observations(conn, [
            dict(kpi_id="revenue", ts=at(h), value=v) for h, v in ((0.5, 700.0), (1.25, 300.0), (30, 50.0))
        ] + [
            dict(kpi_id="conversion", ts=at(h), value=v) for h, v in ((0.5, 6.0), (0.9, 4.0), (25, 2.0))
        ] + [dict(kpi_id="cost", ts=at(0.5), value=900.0)])
    return engine


def flows_of(engine, start, end):
    with engine.connect() as conn:
        return edge_flows(conn, LOCAL_ADMIN, start, end, NOW).set_index(["source_unit", "target_unit"])


def test_window_counts_are_exact_when_the_window_starts_mid_hour(org):
    f = flows_of(org, at(1), NOW)  # 09:30 .. 10:30; item a (09:10) shares the hour bucket but is outside
    out = f.loc[("hub", "sales")]
    assert out.created == 2  # b and c
    assert out.created_value == pytest.approx(200)
    assert out.resolved == 2  # b (10:00) and d (10:15); a resolved 09:18 is outside
    assert out.resolved_in_sla == 1
    assert out.sla_share == pytest.approx(0.5)


def test_backlog_counts_open_items_and_overdue_ones(org):
    f = flows_of(org, at(24), NOW)
    assert f.loc[("hub", "sales")].backlog == 1
    assert f.loc[("hub", "sales")].overdue == 1
    assert f.loc[("sales", "hub")].backlog == 1
    assert f.loc[("sales", "hub")].overdue == 0


def test_directions_are_reported_separately(org):
    f = flows_of(org, at(24), NOW)
    assert f.loc[("hub", "sales")].hub_side == "out"
    assert f.loc[("sales", "hub")].hub_side == "in"
    assert f.loc[("sales", "hub")].spoke == "sales"


def test_edge_without_resolutions_has_no_sla_figure_rather_than_zero(org):
    f = flows_of(org, at(24), NOW)
    back = f.loc[("sales", "hub")]
    assert back.created == 1 and back.resolved == 0
    assert math.isnan(back.sla_share) and math.isnan(back.median_h)


def test_cycle_time_percentiles_come_from_the_histogram(org):
    f = flows_of(org, at(24), NOW).loc[("hub", "sales")]
    # resolved cycles: a 0.13 h, b 0.25 h, d 9.75 h -> median within a bin of 0.25 h
    assert 0.15 <= f.median_h <= 0.40
    assert 6.0 <= f.p90_h <= 15.0


def test_kpi_values_follow_each_aggregation_and_scale_sum_targets(org):
    with org.connect() as conn:
        k = kpi_values(conn, LOCAL_ADMIN, at(1), NOW).set_index("id")
    assert k.at["revenue", "value"] == pytest.approx(700)  # 300 at 09:15 is outside 09:30..10:30
    assert k.at["revenue", "window_target"] == pytest.approx(1000 / 24)
    assert k.at["conversion", "value"] == pytest.approx(5.0)  # mean of 6 and 4
    assert bool(k.at["conversion", "on_target"]) is True
    assert bool(k.at["cost", "on_target"]) is False  # lower is better: 900 > 500/24
    assert math.isnan(k.at["close_days", "value"]) and k.at["close_days", "on_target"] is None


def test_unit_without_kpi_data_has_no_health_share(org):
    with org.connect() as conn:
        h = unit_kpi_health(kpi_values(conn, LOCAL_ADMIN, at(1), NOW)).set_index("unit_id")
    assert h.at["sales", "kpi_share"] == pytest.approx(1.0)
    assert pd.isna(h.at["finance", "kpi_share"])


def test_headline_compares_with_the_previous_period(org):
    with org.connect() as conn:
        h = headline(conn, LOCAL_ADMIN, at(24), NOW).set_index("id")
    assert set(h.index) == {"revenue", "conversion", "cost"}
    assert h.at["revenue", "value"] == pytest.approx(1000)
    assert h.at["revenue", "previous"] == pytest.approx(50)
    assert h.at["revenue", "change"] == pytest.approx(19.0)
    assert pd.isna(h.at["cost", "change"])  # nothing in the previous period: no change, not 0 %


def test_overview_bundle_has_one_node_per_unit(org):
    with org.connect() as conn:
        ov = load_overview(conn, LOCAL_ADMIN, "7d", NOW, UTC)
    assert sorted(ov.units.id) == ["finance", "hub", "sales"]
    assert not ov.empty


@pytest.mark.parametrize("viewer", [None, "admin", Viewer("x", Role.NONE)])
def test_queries_refuse_to_run_without_a_valid_viewer(org, viewer):
    with org.connect() as conn, pytest.raises(NotPermitted):
        edge_flows(conn, viewer, at(1), NOW)
    with org.connect() as conn, pytest.raises(NotPermitted):
        load_overview(conn, viewer, "7d", NOW, UTC)
