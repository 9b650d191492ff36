"""Small, explicit organisations for tests (the demo generator is tested separately, not used here)."""

from __future__ import annotations

import datetime as dt

from dashboard import store

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # half past: windows start mid-hour on purpose


def tiny_org(conn) -> None:
    """A hub with two spokes; finance has no flows and a KPI with no observations."""
    store.upsert_units(conn, [
        dict(id="hub", name="Marketing hub", kind="hub", headcount=12, cost_per_fte=80000, sort_order=0),
        dict(id="sales", name="Sales", kind="spoke", headcount=20, cost_per_fte=70000, sort_order=1),
        dict(id="finance", name="Finance", kind="spoke", headcount=6, cost_per_fte=75000, sort_order=2),
    ])
    store.upsert_kpis(conn, [
        dict(id="revenue", unit_id="sales", name="Revenue", unit_of_measure="EUR", target=1000.0,
             direction="higher", aggregation="sum", parent_id=None, is_goal=True, sort_order=0),
        dict(id="conversion", unit_id="sales", name="Conversion rate", unit_of_measure="%", target=5.0,
             direction="higher", aggregation="mean", parent_id="revenue", is_goal=True, sort_order=1),
        dict(id="cost", unit_id="hub", name="Marketing cost", unit_of_measure="EUR", target=500.0,
             direction="lower", aggregation="sum", parent_id="revenue", is_goal=True, sort_order=2),
        dict(id="close_days", unit_id="finance", name="Days to close", unit_of_measure="count", target=5.0,
             direction="lower", aggregation="last", parent_id="revenue", is_goal=False, sort_order=3),
    ])


def item(id, source, target, created, *, kind="lead", resolved=None, sla_hours=4.0, value=None, status=None):
    return dict(
        id=id, kind=kind, source_unit=source, target_unit=target, channel="web", topic=None, text=None,
        created_at=created, routed_at=created, accepted_at=None, resolved_at=resolved,
        status=status or ("resolved" if resolved else "routed"), sla_hours=sla_hours, value=value,
    )


def at(hours_before_now: float) -> dt.datetime:
    return NOW - dt.timedelta(hours=hours_before_now)
