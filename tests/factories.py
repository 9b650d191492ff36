"""Small, explicit organisations for tests (the demo generator is tested separately, not used here)."""

from __future__ import annotations

import datetime as dt

from dashboard import store

UTC = dt.UTC
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


def sample_activity(conn, now: dt.datetime) -> None:
    """tiny_org plus a day of flows and KPI observations relative to ``now`` (for app and browser tests)."""
    tiny_org(conn)
    h = lambda hours: now - dt.timedelta(hours=hours)  # noqa: E731
    items = [item(f"lead-{i}", "hub", "sales", h(20 - i), resolved=h(19.5 - i), value=50.0) for i in range(12)]
    items += [item(f"open-{i}", "hub", "sales", h(2 + i / 10), sla_hours=1) for i in range(4)]
    items += [item(f"req-{i}", "sales", "hub", h(10 - i), kind="request", resolved=h(9 - i), sla_hours=0.5) for i in range(3)]
    items += [item(f"rep-{i}", "hub", "finance", h(30 + i), kind="report", resolved=h(28 + i), sla_hours=24) for i in range(2)]
    items.append(item("hyperlink", "hub", "sales", h(1), value=1.0) | {"text": '=HYPERLINK("http://x","y")'})
    store.insert_work_items(conn, items)
    store.insert_kpi_observations(conn, [
        dict(kpi_id=k, ts=h(i), value=v) for i in range(0, 48, 2)
        for k, v in (("revenue", 120.0 + i), ("conversion", 5.5), ("cost", 15.0))
    ])


def sample_database(path) -> str:
    """A migrated SQLite file at ``path`` holding ``sample_activity`` relative to now; returns its URL."""
    from dashboard.db import make_engine, migrate

    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        sample_activity(conn, dt.datetime.now(dt.UTC))
    engine.dispose()
    return url
