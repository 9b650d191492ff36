"""Routing rule sets in the database (drafts, versions, publishing, history), replay inputs and unit deletion,
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from dashboard import store
from dashboard.db import audit_log, routing_rule_sets, units, users
from dashboard.domain.access import NotPermitted, Role, Viewer
from dashboard.domain.routing import RuleError, diff, parse_rule_set
from dashboard.queries import routing
from dashboard.queries.overview import load_overview
from dashboard.services import routing as routing_service
from tests.factories import NOW, at, item, tiny_org

UTC = dt.UTC
ADMIN = Viewer("ada@example.com", Role.ADMIN)
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
HUB2 = Viewer("hilde@example.com", Role.HUB_LEAD)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")

LEADS = {"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales"}
REPORTS = {"id": "reports", "name": "Reports to finance", "kinds": ["report"], "target_unit": "finance",
           "priority": "low", "sla_hours": 48}


def rules(*rs, default=None):
    return {"rules": list(rs), "default": {"target_unit": default}}


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.upsert_units(conn, [dict(id="legal", name="Legal", kind="spoke", headcount=2, cost_per_fte=90000,
                                       sort_order=3)])
        store.insert_work_items(conn, [
            *[item(f"l{i}", "hub", "sales", at(5 + i), kind="lead", resolved=at(4 + i)) for i in range(4)],
            item("r0", "hub", "finance", at(30), kind="report") | dict(text="Budget report for Q3", segment="office"),
            item("q0", "sales", "hub", at(6), kind="request"),
            item("u0", "hub", "hub", at(2), kind="mention", status="new") | dict(text="Wir stellen ein?"),
            item("old", "hub", "sales", at(24 * 40), kind="lead"),
        ])
    return engine


def audit_actions(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(audit_log.c.action, audit_log.c.target).order_by(audit_log.c.id))]


def test_a_draft_is_saved_versioned_and_a_stale_save_is_refused(org):
    with org.begin() as conn:
        draft = routing_service.save_draft(conn, HUB, rules(LEADS), name="Leads first", now=at(3))
    assert (draft.status, draft.version, draft.name, draft.created_by) == ("draft", 1, "Leads first", HUB.user)
    assert [r.id for r in draft.rule_set.rules] == ["leads"]
    with org.begin() as conn, pytest.raises(routing_service.DraftExists, match="hal@example.com is already editing"):
        routing_service.save_draft(conn, HUB2, rules(REPORTS))
    with org.begin() as conn:  # hal saves on top of version 1
        second = routing_service.save_draft(conn, HUB, rules(LEADS, REPORTS), draft_id=draft.id, version=1, now=at(2))
    assert second.version == 2 and len(second.rule_set.rules) == 2 and second.updated_at == at(2)
    # hilde opened version 1 before hal's save: refused, naming who changed it, nothing written
    with org.begin() as conn, pytest.raises(routing_service.StaleDraft, match="someone else \\(hal@example.com"):
        routing_service.save_draft(conn, HUB2, rules(REPORTS), draft_id=draft.id, version=1)
    with org.connect() as conn:
        kept = routing.current_draft(conn, HUB)
    assert kept.version == 2 and [r.id for r in kept.rule_set.rules] == ["leads", "reports"]
    assert audit_actions(org) == [("routing_save", f"rule set #{draft.id}")] * 2


def test_an_invalid_rule_set_is_refused_with_every_problem_and_nothing_is_written(org):
    bad = rules({"id": "jobs", "name": "Jobs", "pattern": "(hiring", "target_unit": "hr"},
                {"id": "x", "name": "Nowhere", "kinds": ["lead"], "target_unit": "atlantis"})
    with org.begin() as conn, pytest.raises(RuleError) as refused:
        routing_service.save_draft(conn, HUB, bad)
    assert any("(hiring" in p for p in refused.value.problems)
    with org.begin() as conn, pytest.raises(RuleError) as refused:  # a valid rule sending items to no spoke
        routing_service.save_draft(conn, HUB, rules(LEADS | {"target_unit": "atlantis"}, default="hub"))
    text = " ".join(refused.value.problems)
    assert "atlantis" in text and "hub" in text  # the hub is no spoke either
    with org.connect() as conn:
        assert conn.execute(select(func.count()).select_from(routing_rule_sets)).scalar_one() == 0
    assert audit_actions(org) == []


def test_publish_archives_the_active_set_keeps_the_history_and_needs_a_note(org):
    with org.begin() as conn:
        d1 = routing_service.save_draft(conn, HUB, rules(LEADS), now=at(10))
    with org.begin() as conn, pytest.raises(ValueError, match="note"):
        routing_service.publish(conn, HUB, d1.id, 1, "  ")
    with org.begin() as conn:
        v1 = routing_service.publish(conn, HUB, d1.id, 1, "first rules", now=at(9))
    assert (v1.status, v1.published_by, v1.published_at, v1.note) == ("active", HUB.user, at(9), "first rules")
    with org.begin() as conn:
        d2 = routing_service.save_draft(conn, HUB2, v1.rule_set.model_dump(), based_on=v1.id, now=at(8))
        d2 = routing_service.save_draft(conn, HUB2, rules(REPORTS, LEADS, default="sales"), draft_id=d2.id, version=1,
                                now=at(7))
    with org.begin() as conn, pytest.raises(routing_service.StaleDraft):  # published from an out-of-date view
        routing_service.publish(conn, HUB2, d2.id, 1, "reports first")
    with org.begin() as conn:
        v2 = routing_service.publish(conn, HUB2, d2.id, 2, "reports first", now=at(6))
    with org.connect() as conn:
        active = routing.active_rule_set(conn, EXEC)
        history = routing.list_rule_sets(conn, EXEC, with_rules=True)
        assert routing.current_draft(conn, HUB) is None
        assert routing.get_rule_set(conn, HUB, v1.id).status == "archived"
    assert active.id == v2.id and active.based_on == v1.id and active.rule_set.default.target_unit == "sales"
    assert history.id.tolist() == [v2.id, v1.id] and history.status.tolist() == ["active", "archived"]
    assert history.note.tolist() == ["reports first", "first rules"]
    assert history.published_by.tolist() == [HUB2.user, HUB.user]
    changes = diff(history.rule_set.iloc[1], history.rule_set.iloc[0])
    assert any("added rule 'Reports to finance'" in c for c in changes)
    assert any("default rule" in c and "'sales'" in c for c in changes)
    published = [t for a, t in audit_actions(org) if a == "routing_publish"]
    assert published == [f"rule set #{v1.id}", f"rule set #{v2.id}"]
    with org.connect() as conn:
        detail = conn.execute(select(audit_log.c.detail).where(audit_log.c.action == "routing_publish")
                              .order_by(audit_log.c.id.desc())).scalars().first()
    assert f"archived #{v1.id}" in detail and "reports first" in detail


def test_discarding_the_draft(org):
    with org.begin() as conn:
        d = routing_service.save_draft(conn, HUB, rules(LEADS))
        routing_service.save_draft(conn, HUB, rules(REPORTS), draft_id=d.id, version=1)
    with org.begin() as conn, pytest.raises(routing_service.StaleDraft):
        routing_service.discard_draft(conn, HUB2, d.id, 1)
    with org.begin() as conn:
        assert routing_service.discard_draft(conn, HUB2, d.id, 2) is True
    with org.begin() as conn:
        assert routing_service.discard_draft(conn, HUB2, d.id, 2) is False  # gone already: nothing to do
        assert routing.current_draft(conn, HUB) is None


def test_who_may_read_and_write_rule_sets(org):
    with org.begin() as conn:
        routing_service.save_draft(conn, ADMIN, rules(LEADS))
    with org.connect() as conn:
        for fn in (routing.active_rule_set, routing.current_draft, routing.list_rule_sets):
            with pytest.raises(NotPermitted, match="see the routing rules"):
                fn(conn, SALES)
        with pytest.raises(NotPermitted):
            routing.replay_items(conn, SALES, at(48), NOW)
        with pytest.raises(NotPermitted):
            routing.find_item(conn, SALES, "l0")
        assert routing.current_draft(conn, EXEC) is not None  # executives read
    with org.begin() as conn, pytest.raises(NotPermitted, match="executive\\) may not edit routing rules"):
        routing_service.save_draft(conn, EXEC, rules(REPORTS))
    with org.begin() as conn, pytest.raises(NotPermitted, match="delete units"):
        routing_service.delete_unit(conn, HUB, "legal")


def test_a_stored_set_that_no_longer_parses_says_which_one(org):
    with org.begin() as conn:
        conn.execute(routing_rule_sets.insert().values(
            status="active", name="Hand-edited", rules={"rules": [{"id": "Bad Id", "name": "x"}]}, version=1,
            created_by="x", created_at=NOW, updated_by="x", updated_at=NOW))
    with org.connect() as conn, pytest.raises(RuleError, match="stored rule set #1 \\(Hand-edited\\) is invalid"):
        routing.active_rule_set(conn, HUB)


def test_a_spoke_that_rules_point_to_cannot_be_deleted_until_the_rules_change(org):
    legal = {"id": "contracts", "name": "Contracts", "keywords": ["contract"], "target_unit": "legal"}
    with org.begin() as conn:
        d = routing_service.save_draft(conn, HUB, rules(legal, default="legal"))
        routing_service.publish(conn, HUB, d.id, 1, "legal gets contracts")
        routing_service.save_draft(conn, HUB, rules(LEADS, legal | {"enabled": False}))
    with org.begin() as conn, pytest.raises(routing_service.UnitInUse) as refused:
        routing_service.delete_unit(conn, ADMIN, "legal")
    reasons = refused.value.reasons
    assert len(reasons) == 2
    assert "active rule set" in reasons[0] and "“Contracts”" in reasons[0] and "“the default rule”" in reasons[0]
    assert "draft rule set" in reasons[1] and "“Contracts”" in reasons[1]  # a disabled rule still points there
    with org.begin() as conn:  # change the rules: publish a set without legal
        draft = routing.current_draft(conn, HUB)
        draft = routing_service.save_draft(conn, HUB, rules(LEADS), draft_id=draft.id, version=draft.version)
        routing_service.publish(conn, HUB, draft.id, draft.version, "legal is closing")
    with org.begin() as conn:
        assert routing_service.delete_unit(conn, ADMIN, "legal", now=at(1)) is True
    with org.connect() as conn:
        assert conn.execute(select(units.c.id).where(units.c.id == "legal")).first() is None
    assert ("unit_delete", "legal") in audit_actions(org)
    with org.begin() as conn:
        assert routing_service.delete_unit(conn, ADMIN, "legal") is False  # gone already


def test_a_spoke_with_items_kpis_or_people_cannot_be_deleted(org):
    with org.begin() as conn:
        conn.execute(users.insert().values(user="fay@example.com", role="spoke_lead", unit="finance", active=True,
                                           updated_at=NOW, updated_by="ada"))
    with org.begin() as conn, pytest.raises(routing_service.UnitInUse) as refused:
        routing_service.delete_unit(conn, ADMIN, "finance")
    assert refused.value.reasons == ["1 work item came from or went to it", "it owns 1 KPI",
                                     "it is the spoke of fay@example.com"]
    with org.begin() as conn, pytest.raises(routing_service.UnitInUse, match="it is the hub"):
        routing_service.delete_unit(conn, ADMIN, "hub")
    assert audit_actions(org) == []
    with org.connect() as conn:
        listed = routing.list_units_for_admin(conn, ADMIN).set_index("id")
    assert listed.at["sales", "items"] == 6 and listed.at["finance", "kpis"] == 1 and listed.at["finance", "users"] == 1
    assert listed.at["legal", "items"] == 0


def test_replay_items_are_the_hubs_items_in_the_window(org):
    with org.connect() as conn:
        items = routing.replay_items(conn, HUB, at(24 * 30), NOW)
    assert sorted(items.id) == ["l0", "l1", "l2", "l3", "r0", "u0"]  # not q0 (a spoke's request), not 'old'
    assert list(items.columns) == list(routing.REPLAY_COLUMNS)
    u0 = items.set_index("id").loc["u0"]
    assert u0.target_unit == "hub" and u0.status == "new" and u0.text == "Wir stellen ein?"
    assert str(items.created_at.dt.tz) == "UTC" and items.sla_hours.dtype == float


def test_replay_staffing_uses_the_capacity_when_set_else_observed_throughput(org):
    with org.begin() as conn:
        conn.execute(units.update().where(units.c.id == "finance").values(capacity_per_fte_day=3.0))
        # sales states a capacity below what it demonstrably resolved: the observed rate wins
        conn.execute(units.update().where(units.c.id == "sales").values(capacity_per_fte_day=0.01))
    with org.connect() as conn:
        staff = routing.replay_staffing(conn, HUB, at(48), NOW).set_index("unit")
    assert list(staff.index) == ["sales", "finance", "legal"]
    assert staff.at["finance", "service_rate_per_fte_day"] == 3.0 and staff.at["finance", "rate_source"] == "capacity"
    # sales resolved 4 leads in 2 days with 20 people, assumed 80 % busy
    assert staff.at["sales", "service_rate_per_fte_day"] == pytest.approx(4 / 2 / 20 / 0.8)
    assert staff.at["sales", "rate_source"] == "observed"
    assert staff.at["legal", "rate_source"] == "median of the others"
    assert staff.service_rate_per_fte_day.notna().all()


def test_find_item_for_try(org):
    with org.connect() as conn:
        found = routing.find_item(conn, HUB, " r0 ")
        assert routing.find_item(conn, HUB, "nope") is None and routing.find_item(conn, HUB, "") is None
    assert found["kind"] == "report" and found["segment"] == "office" and found["text"] == "Budget report for Q3"


def test_the_overview_counts_unrouted_items_without_a_hub_to_hub_edge(org):
    with org.connect() as conn:
        ov = load_overview(conn, ADMIN, "7d", NOW, UTC)
    assert ov.unrouted == 1
    own = ov.flows[(ov.flows.source_unit == "hub") & (ov.flows.target_unit == "hub")]
    assert own.hub_side.tolist() == ["unrouted"]
    assert set(ov.flows.loc[ov.flows.hub_side == "out", "target_unit"]) == {"sales", "finance"}


def test_a_rule_set_round_trips_through_json(org):
    original = parse_rule_set(rules(LEADS, REPORTS, default="sales"))
    with org.begin() as conn:
        d = routing_service.save_draft(conn, HUB, original)
    assert d.rule_set == original


def test_routing_the_waiting_items_after_a_publish(org):
    mentions = {"id": "mentions", "name": "Mentions to HR", "kinds": ["mention"], "target_unit": "legal"}
    with org.connect() as conn:
        assert routing.waiting_count(conn, EXEC) == 1
    with org.begin() as conn:
        assert routing_service.route_waiting(conn, HUB, NOW) == 0  # no active set: nothing to route with
        d = routing_service.save_draft(conn, HUB, rules(LEADS))
        routing_service.publish(conn, HUB, d.id, 1, "leads only")
        assert routing_service.route_waiting(conn, HUB, NOW) == 0  # no rule matches the mention: it keeps waiting
        d = routing_service.save_draft(conn, HUB, rules(LEADS, mentions))
        routing_service.publish(conn, HUB, d.id, 1, "mentions to legal")
        assert routing_service.route_waiting(conn, HUB, NOW) == 1
    with org.connect() as conn:
        assert routing.waiting_count(conn, HUB) == 0
        moved = routing.find_item(conn, HUB, "u0")
    assert (moved["target_unit"], moved["rule_id"], moved["status"]) == ("legal", "mentions", "routed")
    assert ("routing_route", f"rule set #{d.id}") in audit_actions(org)
    with org.connect() as conn:
        ov = load_overview(conn, ADMIN, "7d", NOW, UTC)
    assert ov.unrouted == 0 and ("hub", "legal") in set(zip(ov.flows.source_unit, ov.flows.target_unit))
    with org.begin() as conn, pytest.raises(NotPermitted):
        routing_service.route_waiting(conn, EXEC, NOW)


def test_an_unreadable_rule_set_blocks_deleting_a_spoke_rather_than_crashing(org):
    with org.begin() as conn:
        conn.execute(routing_rule_sets.insert().values(
            status="active", name="Hand-edited", rules={"rules": [{"id": "Bad Id", "name": "x"}]}, version=1,
            created_by="x", created_at=NOW, updated_by="x", updated_at=NOW))
    with org.begin() as conn, pytest.raises(routing_service.UnitInUse) as refused:
        routing_service.delete_unit(conn, ADMIN, "legal")
    assert refused.value.reasons == ["the active rule set cannot be read, so it may route items to it — fix it first"]
