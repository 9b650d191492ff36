"""Spoke leads act on routed work; concurrent edits never lose a change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard import store
from dashboard.actions import act
from dashboard.db import flow_hourly, work_items
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries.flows import edge_flows
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
