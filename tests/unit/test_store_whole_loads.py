"""The store's primitives for a load that replaces data whole (the demo), on SQLite and PostgreSQL: tables emptied
(TRUNCATE where PostgreSQL allows it), promotions, rule sets, assessments and a cycle written as given."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from dashboard import store
from dashboard.db import (
    app_meta,
    kpis,
    maturity_assessments,
    planned_changes,
    promotions,
    routing_rule_sets,
    units,
    users,
)
from tests.factories import NOW, tiny_org

DAY = dt.timedelta(days=1)


def test_clear_tables_empties_them_and_keeps_a_table_outside_that_refers_to_one(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.replace_users(conn, [dict(user="admin@example.com", name="Admin", role="admin", unit=None, active=True,
                                        updated_at=NOW, updated_by="test")])
        store.set_meta(conn, "demo_seed", "7")
        store.set_meta(conn, "dataset", "demo")
    with engine.begin() as conn:  # users refers to units: TRUNCATE would refuse it, so units are deleted instead
        store.clear_tables(conn, (kpis, units))
        store.delete_meta_like(conn, "demo_%")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(units)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(kpis)).scalar() == 0
        assert conn.execute(select(users.c.user)).scalars().all() == ["admin@example.com"]
        assert dict(conn.execute(select(app_meta.c.key, app_meta.c.value)).all()) == {"dataset": "demo"}


def test_rule_sets_are_chained_and_rows_are_written_as_given(engine):
    common = dict(name="Standard routing", rules={"rules": []}, version=1, created_by="demo", created_at=NOW - DAY,
                  updated_by="demo", updated_at=NOW - DAY, published_by="demo", published_at=NOW - DAY)
    change = dict(function="content_production", from_placement="spokes", to_placement="hub", from_share=0.0,
                  to_share=1.0, label="Content production centralised", units="sales", owner="Ann",
                  due_on=(NOW + DAY).date(), status="done", done_on=NOW.date(), predicted=None, version=3,
                  updated_by="demo", updated_at=NOW)
    with engine.begin() as conn:
        tiny_org(conn)
        ids = store.insert_rule_sets(conn, [common | dict(status="archived", based_on=99),
                                            common | dict(status="active")])
        assert store.insert_assessments(conn, [dict(function="analytics", assessed_at=NOW, author="demo",
                                                    structure=2, processes=3, data_management=4, technology=5,
                                                    note=None)]) == 1
        model = store.insert_target_model(conn, scenario_id=None, scenario_name="Target", inputs={}, results=None,
                                          status="current", note=None, promoted_by="demo", promoted_at=NOW)
        assert store.insert_planned_change_rows(conn, model, [change]) == 1
        assert store.insert_promotions(conn, [dict(id="promo-1", name="Launch", channel="web", starts_at=NOW,
                                                   ends_at=NOW + DAY, notice_item_id=None, description="x")]) == 1
        assert store.insert_assessments(conn, []) == 0  # nothing given, nothing written
        assert store.insert_planned_change_rows(conn, model, []) == 0
        assert store.insert_promotions(conn, []) == 0
    with engine.connect() as conn:
        r = routing_rule_sets.c
        assert conn.execute(select(r.id, r.based_on, r.status).order_by(r.id)).all() == [
            (ids[0], None, "archived"), (ids[1], ids[0], "active")]
        assert conn.execute(select(maturity_assessments.c.technology)).scalars().all() == [5]
        p = planned_changes.c
        assert conn.execute(select(p.target_model_id, p.status, p.version, p.done_on)).all() == [
            (model, "done", 3, NOW.date())]
        assert conn.execute(select(promotions.c.id)).scalars().all() == ["promo-1"]
