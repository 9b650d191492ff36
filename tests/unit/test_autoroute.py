"""System-side routing (dashboard.services.autoroute): the active set, routing new items, routing the ones already waiting,
and store.reroute_work_items keeping the rollups equal to a rebuild. Both engines where SQL is involved."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import insert, select

from dashboard import store
from dashboard.db import routing_rule_sets, work_items
from dashboard.domain.routing import parse_rule_set
from dashboard.services import autoroute
from tests.factories import NOW, at, item, tiny_org
from tests.unit.test_store import assert_rollups_match_rebuild

RULES = {
    "rules": [
        {"id": "jobs", "name": "Jobs to finance", "kinds": ["mention"], "keywords": ["hiring"],
         "target_unit": "finance", "priority": "low", "sla_hours": 24},
        {"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales", "priority": "high"},
        {"id": "vip", "name": "VIP mentions", "kinds": ["mention"], "segments": ["vip"], "target_unit": "sales",
         "priority": "high", "sla_hours": 1, "enabled": False},
    ],
    "default": {"target_unit": None},
}


def new_item(id, kind="mention", text=None, *, created=None, sla=4.0, target=None, segment=None, status="new",
             source="hub", **extra):
    created = created or at(1)
    return dict(id=id, kind=kind, source_unit=source, target_unit=target, channel="social", topic=None, text=text,
                segment=segment, created_at=created, status=status, sla_hours=sla, **({"value": None} | extra))


def publish(conn, rules=RULES, *, status="active", name="Test rules", when=NOW):
    return conn.execute(insert(routing_rule_sets).values(
        status=status, name=name, rules=rules, version=1, created_by="t", created_at=when, updated_by="t",
        updated_at=when, published_by="t" if status != "draft" else None,
        published_at=when if status != "draft" else None).returning(routing_rule_sets.c.id)).scalar_one()


# --- apply: pure ----------------------------------------------------------------------------------------


def test_apply_routes_items_without_a_target_and_leaves_the_rest_alone():
    rs = parse_rule_set(RULES)
    frame = pd.DataFrame([
        new_item("a", text="Are you HIRING analysts?"),  # jobs rule, case-insensitive; rule SLA 24 h
        new_item("b", kind="lead", sla=4.0),  # leads rule: keeps its own SLA
        new_item("c", text="Love the new ad!"),  # nothing matches: unrouted
        new_item("d", text="Are you hiring?", target="sales", status="routed"),  # has a target: untouched
        new_item("e", text="hiring", source="sales", target=""),  # not from the hub: untouched
        new_item("f", text="hiring", segment="vip"),  # the vip rule is disabled: jobs wins
    ])
    now = NOW
    out = autoroute.apply(rs, frame, "hub", now).set_index("id")
    assert out.loc["a", ["target_unit", "priority", "rule_id", "status"]].tolist() == ["finance", "low", "jobs", "routed"]
    assert out.loc["a", "sla_hours"] == 24 and out.loc["a", "due_at"] == frame.created_at[0] + dt.timedelta(hours=24)
    assert out.loc["a", "routed_at"] == now
    assert out.loc["b", ["target_unit", "priority", "rule_id", "sla_hours"]].tolist() == ["sales", "high", "leads", 4.0]
    c = out.loc["c"]
    assert (c.target_unit, c.status, c.rule_id, c.priority) == ("hub", "new", None, None) and pd.isna(c.routed_at)
    assert out.loc["d", ["target_unit", "rule_id"]].tolist() == ["sales", None]
    assert out.loc["e", "target_unit"] == ""
    assert out.loc["f", "rule_id"] == "jobs"
    assert list(out.index) == list("abcdef")  # never dropped, order kept


def test_apply_without_a_rule_set_leaves_everything_unrouted_and_keeps_history():
    frame = pd.DataFrame([
        new_item("a", text="hiring"),
        new_item("b", kind="lead", status="resolved", resolved_at=at(0.5), created=at(2)),
    ])
    out = autoroute.apply(None, frame, "hub", NOW).set_index("id")
    assert out.target_unit.tolist() == ["hub", "hub"]
    assert out.status.tolist() == ["new", "resolved"]  # history being imported keeps its status
    assert autoroute.outcome(frame, out.reset_index(), ["hub"]) == autoroute.Outcome(routed=0, unrouted=2)


def test_apply_at_creation_and_a_given_priority_wins():
    rs = parse_rule_set(RULES)
    frame = pd.DataFrame([new_item("a", kind="lead", priority="low", created=at(30)),
                          new_item("b", kind="lead", status="resolved", created=at(30), resolved_at=at(29),
                                   accepted_at=at(29.5))])
    out = autoroute.apply(rs, frame, "hub", None).set_index("id")
    assert out.loc["a", "priority"] == "low" and out.loc["a", "routed_at"] == at(30)
    assert out.loc["b", "status"] == "resolved" and out.loc["b", "routed_at"] == at(30)
    late = autoroute.apply(rs, frame, "hub", NOW).set_index("id")
    assert late.loc["b", "routed_at"] == at(29.5)  # never after it was accepted


# --- the database -----------------------------------------------------------------------------------------


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
    return engine


def test_active_rule_set_reads_the_published_one_only(org):
    with org.begin() as conn:
        assert autoroute.active_rule_set(conn) is None
        publish(conn, {"rules": [], "default": {"target_unit": "sales"}}, status="draft", name="draft")
        publish(conn, {"rules": [], "default": {"target_unit": "finance"}}, status="archived", name="old")
        assert autoroute.active_rule_set(conn) is None
        publish(conn)
        rs = autoroute.active_rule_set(conn)
    assert [r.id for r in rs.rules] == ["jobs", "leads", "vip"]


def test_an_invalid_stored_set_is_refused_with_its_problems_and_the_cache_carries_on(org):
    cache = autoroute.ActiveRules()
    with org.begin() as conn:
        assert cache.get(conn) is None and cache.changed
        publish(conn, {"rules": [{"id": "x", "name": "x", "pattern": "(hiring", "target_unit": "sales"}]})
        with pytest.raises(autoroute.InvalidActiveRules) as info:
            autoroute.active_rule_set(conn)
        assert "pattern" in str(info.value)
        assert cache.get(conn) is None and cache.changed and cache.problems
        assert cache.get(conn) is None and not cache.changed


def test_the_cache_sees_a_newly_published_set(org):
    cache = autoroute.ActiveRules()
    with org.begin() as conn:
        first = publish(conn)
        assert cache.get(conn).rules[0].id == "jobs"
        assert cache.get(conn) is cache.rule_set and not cache.changed
        conn.execute(routing_rule_sets.update().where(routing_rule_sets.c.id == first).values(status="archived"))
        publish(conn, {"rules": [], "default": {"target_unit": "sales"}}, when=NOW + dt.timedelta(minutes=1))
        assert cache.get(conn).default.target_unit == "sales" and cache.changed


def test_route_waiting_moves_unrouted_items_and_their_rollups(org):
    with org.begin() as conn:
        store.insert_work_items(conn, [
            new_item("m1", text="We are hiring?", target="hub", created=at(5)),
            new_item("m2", text="Love the ad", target="hub", created=at(4)),
            new_item("l1", kind="lead", target="hub", created=at(3), value=120.0),
            item("r1", "hub", "sales", at(2), resolved=at(1)),  # routed already: not touched
            item("x1", "hub", "hub", at(2), kind="mention", status="resolved", resolved=at(1)),  # closed: stays
        ])
        assert autoroute.route_waiting(conn, NOW) == 0  # no active set: nothing moves
        publish(conn)
        moved = autoroute.route_waiting(conn, NOW)
        assert moved == 2
        rows = {r.id: r for r in conn.execute(select(work_items)).all()}
        assert (rows["m1"].target_unit, rows["m1"].status, rows["m1"].rule_id, rows["m1"].priority) == (
            "finance", "routed", "jobs", "low")
        assert rows["m1"].sla_hours == 24 and rows["m1"].due_at == at(5) + dt.timedelta(hours=24)
        assert rows["m1"].routed_at == NOW and rows["m1"].version == 2 and rows["m1"].updated_by == autoroute.ACTOR
        assert rows["l1"].target_unit == "sales" and rows["l1"].sla_hours == 4.0
        assert (rows["m2"].target_unit, rows["m2"].status, rows["m2"].version) == ("hub", "new", 1)
        assert rows["x1"].target_unit == "hub"
        assert_rollups_match_rebuild(conn)
        assert autoroute.route_waiting(conn, NOW) == 0  # m2 keeps waiting


def test_reroute_moves_a_resolved_items_resolution_and_skips_stale_versions(org):
    with org.begin() as conn:
        store.insert_work_items(conn, [item("a", "hub", "sales", at(10), resolved=at(2), value=5.0),
                                       item("b", "hub", "sales", at(10))])
        n = store.reroute_work_items(conn, pd.DataFrame([
            {"id": "a", "version": 1, "target_unit": "finance", "sla_hours": 1.0},  # now resolved outside SLA
            {"id": "b", "version": 7, "target_unit": "finance"},  # someone changed it since: left alone
        ]), by="t", at=NOW)
        assert n == 1
        rows = {r.id: r for r in conn.execute(select(work_items)).all()}
        assert rows["a"].target_unit == "finance" and rows["a"].due_at == at(9)
        assert rows["b"].target_unit == "sales" and rows["b"].version == 1
        assert_rollups_match_rebuild(conn)
        with pytest.raises(store.InvalidRowsError, match="unknown unit"):
            store.reroute_work_items(conn, [{"id": "b", "version": 1, "target_unit": "nowhere"}], by="t", at=NOW)
        with pytest.raises(store.InvalidTransitionError):
            store.reroute_work_items(conn, [{"id": "b", "version": 1, "target_unit": "sales", "status": "new"}],
                                     by="t", at=NOW)


def test_a_due_time_past_the_year_2262_is_kept_not_wrapped_round():
    """Times stay in microseconds: in nanoseconds 10000-01-01 would silently become 1972."""
    import pandas as pd


    frame = pd.DataFrame({
        "id": ["late", "given"], "source_unit": ["hub", "hub"], "target_unit": [None, "sales"], "kind": ["lead"] * 2,
        "created_at": [pd.Timestamp("9999-12-31 23:00", tz="UTC"), pd.Timestamp("2026-01-01", tz="UTC")],
        "sla_hours": [5.0, 4.0], "status": [None, "routed"],
        "due_at": [None, pd.Timestamp("2026-01-01 04:00", tz="UTC")]})
    out = autoroute.apply(None, frame, "hub", None)
    assert [(t.year, t.month, t.day, t.hour) for t in out.due_at] == [(10000, 1, 1, 4), (2026, 1, 1, 4)]
