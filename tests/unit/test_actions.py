"""Spoke leads act on routed work; concurrent edits never lose a change."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event, select

from dashboard import store
from dashboard.db import WRITE_ATTEMPTS, audit_log, flow_hourly, work_items
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries.flows import edge_flows
from dashboard.services.items import act
from tests.factories import NOW, at, item, tiny_org

ALICE = Viewer("alice", Role.SPOKE_LEAD, unit="sales")
BOB = Viewer("bob", Role.SPOKE_LEAD, unit="sales")


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [item(f"i{i}", "hub", "sales", at(3)) for i in range(3)]
                                + [item("f1", "hub", "finance", at(3), kind="report")])
    return engine


def row(engine, item_id):
    with engine.connect() as conn:
        return conn.execute(select(work_items).where(work_items.c.id == item_id)).mappings().one()


def test_resolving_writes_who_and_when_and_moves_the_overview(org):
    [out] = act(org, ALICE, "sales", [("i0", 1)], "resolve", now=at(1))
    assert out.ok and out.status == "resolved" and out.version == 2
    r = row(org, "i0")
    assert r["updated_by"] == "alice" and r["resolved_at"] == at(1)
    with org.connect() as conn:
        f = edge_flows(conn, LOCAL_ADMIN, at(24), NOW).set_index(["source_unit", "target_unit"])
    assert f.loc[("hub", "sales")].resolved == 1 and f.loc[("hub", "sales")].backlog == 2


def test_second_editor_with_a_stale_version_is_told_and_nothing_is_overwritten(org):
    act(org, ALICE, "sales", [("i1", 1)], "acknowledge", now=at(2))
    [out] = act(org, BOB, "sales", [("i1", 1)], "resolve", now=at(1))
    assert not out.ok
    assert "already changed by alice" in out.message and "Nothing was overwritten" in out.message
    assert out.status == "accepted"
    assert row(org, "i1")["status"] == "accepted"


def test_bulk_action_applies_to_the_others_when_one_conflicts(org):
    act(org, ALICE, "sales", [("i0", 1)], "resolve", now=at(2))
    outs = act(org, BOB, "sales", [("i0", 1), ("i1", 1), ("i2", 1)], "acknowledge", now=at(1))
    assert [o.ok for o in outs] == [False, True, True]
    assert row(org, "i0")["status"] == "resolved"


def test_hand_back_needs_a_note_and_keeps_it(org):
    with pytest.raises(ValueError, match="Say why"):
        act(org, ALICE, "sales", [("i2", 1)], "hand_back", note="  ")
    [out] = act(org, ALICE, "sales", [("i2", 1)], "hand_back", note="Not a sales lead: a supplier", now=at(1))
    assert out.ok and row(org, "i2")["note"] == "Not a sales lead: a supplier"


def test_a_spoke_lead_cannot_act_on_another_spokes_items(org):
    with pytest.raises(NotPermitted):
        act(org, ALICE, "finance", [("f1", 1)], "resolve")
    [out] = act(org, ALICE, "sales", [("f1", 1)], "resolve")  # tampered id from another spoke
    assert not out.ok and "not an item of this spoke" in out.message
    assert row(org, "f1")["status"] == "routed"


def test_resolving_then_reopening_leaves_the_rollups_as_a_rebuild_would(org):
    act(org, ALICE, "sales", [("i0", 1)], "resolve", now=at(1))
    act(org, ALICE, "sales", [("i0", 2)], "acknowledge", now=at(0.5))
    with org.connect() as conn:
        incremental = sorted(map(tuple, conn.execute(select(flow_hourly)).all()))
    with org.begin() as conn:
        store.rebuild_rollups(conn)
    with org.connect() as conn:
        rebuilt = sorted(map(tuple, conn.execute(select(flow_hourly)).all()))
    assert incremental == rebuilt


def _seeded(url: str):
    """An engine on ``url`` with the tiny organisation and sales items i0..i2 routed at version 1."""
    from dashboard.db import make_engine

    eng = make_engine(url)
    with eng.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [item(f"i{i}", "hub", "sales", at(3)) for i in range(3)])
    return eng


def _audited(eng) -> list[str]:
    with eng.connect() as conn:
        return [r.target for r in conn.execute(select(audit_log).where(audit_log.c.action == "item_action"))]


def test_a_lock_held_past_the_retries_after_the_first_item_reports_which_items_were_done(sqlite_url, tmp_path):
    """SQLite: another program takes the write lock once the first item is committed and keeps it. The first
    item stays resolved and audited; the second fails after its retries, the third is not tried; both are
    reported not done with the reason, and neither changed."""
    eng = _seeded(sqlite_url)
    eng.dispose()
    event.listen(eng, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA busy_timeout = 50"))  # after make_engine's
    path = sqlite_url.removeprefix("sqlite:///")
    holder = sqlite3.connect(path, timeout=5, isolation_level=None)
    returned = []

    def hold_the_lock_after_the_first_item(_dbapi, _rec):
        returned.append(1)
        if len(returned) == 1:
            holder.execute("BEGIN IMMEDIATE")

    event.listen(eng, "checkin", hold_the_lock_after_the_first_item)
    try:
        outs = act(eng, ALICE, "sales", [("i0", 1), ("i1", 1), ("i2", 1)], "resolve", now=at(1))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        event.remove(eng, "checkin", hold_the_lock_after_the_first_item)
    assert [(o.item_id, o.ok, o.failed) for o in outs] == [("i0", True, False), ("i1", False, True),
                                                           ("i2", False, True)]
    assert outs[1].message.startswith("i1 was not resolved: Cannot write to the database: another program kept it "
                                      "locked for longer than the wait limit (database is locked).")
    assert outs[2].message == "i2 was not resolved: not tried after the database failed on i1."
    assert len(returned) >= 1 + WRITE_ATTEMPTS  # the first item, then every attempt at the second
    assert [row(eng, i)["status"] for i in ("i0", "i1", "i2")] == ["resolved", "routed", "routed"]
    assert [row(eng, i)["version"] for i in ("i0", "i1", "i2")] == [2, 1, 1]
    assert _audited(eng) == ["i0"]
    eng.dispose()


def test_a_row_lock_held_past_the_retries_on_postgresql_reports_which_items_were_done(pg_url):
    """PostgreSQL: another session holds i1's row lock; with a short lock timeout every attempt at i1 fails, i0
    is done and audited, i1 and i2 are reported not done and left as they were."""
    eng = _seeded(pg_url)
    eng.dispose()
    event.listen(eng, "connect", lambda dbapi, _rec: dbapi.execute("SET lock_timeout = '100ms'"))
    from dashboard.db import make_engine

    other = make_engine(pg_url)
    try:
        with other.begin() as holder:
            holder.execute(select(work_items.c.id).where(work_items.c.id == "i1").with_for_update())
            outs = act(eng, ALICE, "sales", [("i0", 1), ("i1", 1), ("i2", 1)], "acknowledge", now=at(1))
    finally:
        other.dispose()
    assert [(o.item_id, o.ok, o.failed) for o in outs] == [("i0", True, False), ("i1", False, True),
                                                           ("i2", False, True)]
    assert outs[1].message.startswith("i1 was not acknowledged: Cannot write to the database: another program kept "
                                      "it locked for longer than the wait limit")
    assert outs[2].message == "i2 was not acknowledged: not tried after the database failed on i1."
    assert [row(eng, i)["status"] for i in ("i0", "i1", "i2")] == ["accepted", "routed", "routed"]
    assert _audited(eng) == ["i0"]
    eng.dispose()
