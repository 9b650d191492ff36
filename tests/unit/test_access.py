"""Access control in the data layer, on SQLite and PostgreSQL: every query refuses to run without a viewer,
scopes what it returns to that viewer, and every change it makes is audited in the same transaction.

The walk over ``dashboard.queries`` and ``dashboard.services`` (plus ``audit.search``) is exhaustive on purpose:
a new public query function must either take a ``viewer`` and be listed in ``CALLS`` (so it is called here without
one), or be listed in ``NO_VIEWER`` with the reason it needs none.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from contextlib import contextmanager

import pandas as pd
import pytest
from sqlalchemy import event, func, insert, select

import dashboard.queries
import dashboard.services
from dashboard import audit, store
from dashboard.db import audit_log, imports, scenarios, work_items
from dashboard.db import users as users_table
from dashboard.domain.access import (
    LOCAL_ADMIN,
    PAGE_PERMISSIONS,
    NotPermitted,
    Role,
    Viewer,
    parse_role,
    require,
    require_unit,
    require_viewer,
    roles_that_may_open,
    viewer_from_claims,
    who_may_open,
)
from dashboard.queries import checks, health, kpis, observed, overview, routing, spoke, users
from dashboard.queries import scenarios as saved
from dashboard.queries.spoke import InboxFilter
from dashboard.services import imports as ingest_module
from dashboard.services import items
from dashboard.services import scenarios as scenario_service
from dashboard.services import users as user_service
from tests.factories import NOW, at, item, tiny_org
from tests.unit.access_calls import merged

UTC = dt.UTC
ADMIN = Viewer("ada@example.com", Role.ADMIN)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
FINANCE = Viewer("fay@example.com", Role.SPOKE_LEAD, unit="finance")
NOBODY = Viewer("x", Role.NONE)
START, END = at(48), NOW
SALES_ITEMS = {f"s{i}" for i in range(3)} | {"s-out"}
FINANCE_ITEMS = {"f0", "f1"}


# --- the inventory ------------------------------------------------------------------------------------------

# Public functions of dashboard/queries/* that take no viewer, and why none is needed. Anything else that
# takes no viewer fails test_every_query_function_takes_a_viewer_or_says_why_not.
NO_VIEWER = {
    "users.lookup": "runs at sign-in, before anyone is known: it is how a person's role is found",
    "kpis.unit_kpi_health": "reshapes a frame the caller already read through kpi_values (with a viewer)",
    "kpis.goals": "filters a frame the caller already read through kpis_with_change (with a viewer)",
    "health.split_reason": "parses a reason string; touches no data",
}


def _scenario_inputs():
    return dict(name="Plan B", description=None, inputs={"functions": {}}, inputs_version=1, results=None)


# Every query function with a viewer: name -> the other arguments (keywords) of a call that works for an admin.
CALLS = {
    "checks.unit_panels": lambda c: dict(conn=c.conn, unit="sales"),
    "checks.unit_row": lambda c: dict(conn=c.conn, unit="sales"),
    "checks.daily_arrivals": lambda c: dict(conn=c.conn, unit="sales", kinds=["lead"], start=START, end=END),
    "checks.promotions_with_volume": lambda c: dict(conn=c.conn, unit="sales", now=NOW),
    "checks.campaign_frame": lambda c: dict(conn=c.conn, start=START.date(), end=END.date()),
    "checks.routed_topics": lambda c: dict(conn=c.conn, unit="sales", start=START, end=END),
    "flows.backlog": lambda c: dict(conn=c.conn, now=NOW),
    "flows.edge_flows": lambda c: dict(conn=c.conn, start=START, end=END),
    "health.require_health_viewer": lambda c: dict(),
    "health.freshness": lambda c: dict(conn=c.conn, now=NOW, cadence_hours={"work_items": 24.0}),
    "health.recent_imports": lambda c: dict(conn=c.conn),
    "health.last_imports": lambda c: dict(conn=c.conn),
    "health.quarantine_counts": lambda c: dict(conn=c.conn),
    "health.quarantine_reasons": lambda c: dict(conn=c.conn),
    "health.quarantined_rows": lambda c: dict(conn=c.conn),
    "health.imports_with_open_rows": lambda c: dict(conn=c.conn),
    "health.open_rows_as_file": lambda c: dict(conn=c.conn, import_id=1),
    "health.quarantine_csv": lambda c: dict(conn=c.conn, import_id=1),
    "health.quality_checks": lambda c: dict(conn=c.conn, now=NOW),
    "kpis.kpi_catalogue": lambda c: dict(conn=c.conn),
    "kpis.list_units": lambda c: dict(conn=c.conn),
    "kpis.kpi_values": lambda c: dict(conn=c.conn, start=START, end=END),
    "kpis.kpi_trend": lambda c: dict(conn=c.conn, kpi_ids=["revenue"], start=START, end=END, bucket_hours=6),
    "kpis.kpis_with_change": lambda c: dict(conn=c.conn, start=START, end=END),
    "kpis.kpis_and_unit_health": lambda c: dict(conn=c.conn, start=START, end=END),
    "kpis.headline": lambda c: dict(conn=c.conn, start=START, end=END),
    "kpis.visible_kpis": lambda c: dict(frame=pd.DataFrame({"unit_id": ["sales"], "is_goal": [False]})),
    "kpis.scope_kpis": lambda c: dict(frame=pd.DataFrame({"unit_id": ["sales"], "is_goal": [False], "value": [1.0]})),
    "observed.calibration_items": lambda c: dict(conn=c.conn, start=START, end=END),
    "overview.load_overview": lambda c: dict(conn=c.conn, window="7d", now=NOW, tz=UTC),
    "scenarios.list_scenarios": lambda c: dict(conn=c.conn),
    "scenarios.get_scenario": lambda c: dict(conn=c.conn, scenario_id=c.scenario_id),
    "services.scenarios.save_scenario": lambda c: dict(conn=c.conn, **(_scenario_inputs() | {"name": "Plan C"})),
    "services.scenarios.duplicate_scenario": lambda c: dict(conn=c.conn, scenario_id=c.scenario_id),
    "services.scenarios.delete_scenario": lambda c: dict(conn=c.conn, scenario_id=c.scenario_id),
    "spoke.inbox_count": lambda c: dict(conn=c.conn, unit="sales", f=InboxFilter()),
    "spoke.inbox": lambda c: dict(conn=c.conn, unit="sales", f=InboxFilter(), now=NOW),
    "spoke.export_rows": lambda c: dict(conn=c.conn, unit="sales", f=InboxFilter(), now=NOW),
    "spoke.inbox_options": lambda c: dict(conn=c.conn, unit="sales"),
    "spoke.item": lambda c: dict(conn=c.conn, unit="sales", item_id="s0"),
    "spoke.flow_trend": lambda c: dict(conn=c.conn, unit="sales", start=START, end=END),
    "spoke.cycle_histogram": lambda c: dict(conn=c.conn, unit="sales", start=START, end=END),
    "users.list_users": lambda c: dict(conn=c.conn),
    "services.users.save_users": lambda c: dict(conn=c.conn, edited=pd.DataFrame(
        [dict(user="new@example.com", name="New", role="executive", unit=None, active=True)])),
    "audit.search": lambda c: dict(conn=c.conn),
    "services.items.act": lambda c: dict(engine=c.engine, unit="sales", items=[("s0", 1)], action="acknowledge", now=NOW),
    "services.imports.ingest": lambda c: dict(engine=c.engine, path=c.units_csv, now=NOW),
}
WRITERS = {"services.scenarios.save_scenario", "services.scenarios.delete_scenario", "services.imports.ingest", "services.items.act",
           "services.users.save_users", "services.scenarios.duplicate_scenario"}
_more_calls, _more_writers, _more_no_viewer = merged()  # the features' own parts (tests/unit/access_calls/)
CALLS |= _more_calls
WRITERS |= _more_writers
NO_VIEWER |= _more_no_viewer
EXTRA = {"audit.search": audit.search}


def query_functions() -> dict[str, object]:
    """Every public function defined in a dashboard/queries module ("module.function") or a dashboard/services
    module ("services.module.function"), found by walking the packages so a new module is included too, plus
    the writers outside them."""
    found = {}
    for package, prefix in ((dashboard.queries, ""), (dashboard.services, "services.")):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                if not name.startswith("_") and fn.__module__ == module.__name__:
                    found[f"{prefix}{info.name}.{name}"] = fn
    return found | EXTRA


def takes_viewer(fn) -> bool:
    return "viewer" in inspect.signature(fn).parameters


def test_every_query_function_takes_a_viewer_or_says_why_not():
    fns = query_functions()
    assert len(fns) > 40  # the walk found the modules
    without = {name for name, fn in fns.items() if not takes_viewer(fn)}
    assert without - set(NO_VIEWER) == set(), "query functions without a viewer parameter (add one, or allow-list with a reason)"
    assert set(NO_VIEWER) - without == set(), "stale NO_VIEWER entries: these take a viewer now, or are gone"


def test_every_query_function_with_a_viewer_is_called_here():
    with_viewer = {name for name, fn in query_functions().items() if takes_viewer(fn)}
    assert with_viewer - set(CALLS) == set(), "new query functions: add them to CALLS so they are called without a viewer"
    assert set(CALLS) - with_viewer == set(), "stale CALLS entries"


# --- fixtures ------------------------------------------------------------------------------------------------


class Ctx:
    def __init__(self, engine, conn, scenario_id, units_csv):
        self.engine, self.conn, self.scenario_id, self.units_csv = engine, conn, scenario_id, units_csv


@pytest.fixture
def org(engine):
    """tiny_org with items routed to sales (3 in, one handed out to the hub) and to finance (2)."""
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            *[item(f"s{i}", "hub", "sales", at(5 + i), kind="lead") for i in range(3)],
            item("s-out", "sales", "hub", at(4), kind="request", resolved=at(3)),
            *[item(f"f{i}", "hub", "finance", at(6 + i), kind="report") for i in range(2)],
        ])
    return engine


@pytest.fixture
def ctx(org, tmp_path):
    units_csv = tmp_path / "units.csv"
    units_csv.write_text("id,name,kind,headcount,cost_per_fte\nsupport,Customer support,spoke,4,60000\n", encoding="utf-8")
    with org.begin() as conn:
        sid = scenario_service.save_scenario(conn, ADMIN, **_scenario_inputs(), now=at(10))
        conn.execute(audit_log.delete())  # start every test from an empty audit trail
    with org.connect() as conn:
        yield Ctx(org, conn, sid, units_csv)


@contextmanager
def statements(engine):
    """The SQL statements run on ``engine`` inside the block."""
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def audit_rows(engine, action: str | None = None) -> list[dict]:
    a = audit_log.c
    with engine.connect() as conn:
        stmt = select(a.user, a.role, a.action, a.target, a.detail).order_by(a.id)
        if action:
            stmt = stmt.where(a.action == action)
        return [dict(r) for r in conn.execute(stmt).mappings()]


def count_rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


# --- deny by default -----------------------------------------------------------------------------------------


def test_every_query_refuses_to_run_without_a_viewer_or_with_no_role(ctx):
    fns = query_functions()
    failures = []
    with statements(ctx.engine) as sql:
        for name, make in CALLS.items():
            for viewer in (None, NOBODY, "local admin", LOCAL_ADMIN.__dict__):
                try:
                    fns[name](viewer=viewer, **make(ctx))
                except NotPermitted:
                    continue
                except Exception as exc:  # noqa: BLE001 - anything else is a failure to refuse
                    failures.append(f"{name}(viewer={viewer!r}) raised {type(exc).__name__}: {exc}")
                else:
                    failures.append(f"{name}(viewer={viewer!r}) ran")
    assert failures == []
    assert sql == [], "a refused call touched the database"
    assert count_rows(ctx.engine, audit_log) == 0 and count_rows(ctx.engine, imports) == 0
    assert count_rows(ctx.engine, scenarios) == 1 and count_rows(ctx.engine, users_table) == 0


def test_the_same_calls_run_for_an_admin(ctx):
    """The arguments in CALLS are valid: the refusals above come from the viewer, nothing else."""
    fns = query_functions()
    for name, make in CALLS.items():
        if name in WRITERS:
            with ctx.engine.begin() as conn:  # writers: each in a transaction of its own
                kwargs = make(ctx)
                if "conn" in kwargs:
                    kwargs["conn"] = conn
                fns[name](viewer=ADMIN, **kwargs)
        else:
            fns[name](viewer=ADMIN, **make(ctx))


# --- scoping ---------------------------------------------------------------------------------------------------

UNIT_CALLS = [name for name, make in CALLS.items() if name.split(".")[0] in ("spoke", "checks")
              and "unit" in inspect.signature(query_functions()[name]).parameters]


def test_a_spoke_lead_is_refused_every_other_spokes_data(ctx):
    fns = query_functions()
    assert len(UNIT_CALLS) >= 12
    for name in UNIT_CALLS:
        kwargs = CALLS[name](ctx) | {"unit": "finance"}
        with statements(ctx.engine) as sql, pytest.raises(NotPermitted, match="may not open 'finance'"):
            fns[name](viewer=SALES, **kwargs)
        assert sql == [], f"{name} touched the database before refusing"
        fns[name](viewer=FINANCE, **kwargs)  # the same call for finance's own lead runs
    with pytest.raises(NotPermitted, match="may not open 'finance'"):
        items.act(ctx.engine, SALES, "finance", [("f0", 1)], "acknowledge")
    with pytest.raises(NotPermitted):
        require_unit(SALES, "hub")  # the hub's own page is not a spoke lead's either


def test_a_spoke_lead_gets_only_their_own_rows(ctx):
    conn = ctx.conn
    page = spoke.inbox(conn, SALES, "sales", InboxFilter(), NOW)
    assert set(page.rows.id) == {"s0", "s1", "s2"} and page.total == 3
    out = spoke.inbox(conn, SALES, "sales", InboxFilter(direction="out"), NOW)
    assert set(out.rows.id) == {"s-out"}
    assert set(spoke.export_rows(conn, SALES, "sales", InboxFilter(), NOW).id) == {"s0", "s1", "s2"}
    assert spoke.inbox_count(conn, SALES, "sales", InboxFilter()) == 3
    assert spoke.inbox_options(conn, SALES, "sales") == {"channels": ["web"], "kinds": ["lead", "request"]}
    assert spoke.item(conn, SALES, "sales", "f0") is None  # finance's item, asked for through sales
    assert spoke.item(conn, SALES, "sales", "s0")["target_unit"] == "sales"
    by_topic, _ = checks.routed_topics(conn, SALES, "sales", START, END)
    assert by_topic["items"].sum() == 3
    trend = spoke.flow_trend(conn, SALES, "sales", START, END)
    assert trend.groupby("direction").created.sum().to_dict() == {"in": 3.0, "out": 1.0}
    # finance's items cannot be acted on through sales either: refused per item, nothing written
    outcomes = items.act(ctx.engine, SALES, "sales", [("f0", 1), ("s0", 1)], "acknowledge", now=NOW)
    assert [(o.item_id, o.ok) for o in outcomes] == [("f0", False), ("s0", True)]
    assert "not an item of this spoke" in outcomes[0].message
    with ctx.engine.connect() as c2:
        assert c2.execute(select(work_items.c.status).where(work_items.c.id == "f0")).scalar_one() == "routed"
    assert [r["target"] for r in audit_rows(ctx.engine, "item_action")] == ["s0"]


def test_a_spoke_lead_sees_figures_of_their_own_and_the_goal_kpis_only(ctx):
    with ctx.engine.begin() as conn:
        store.insert_kpi_observations(conn, [dict(kpi_id=k, ts=at(5), value=v)
                                             for k, v in (("revenue", 900.0), ("close_days", 7.0))])
    with ctx.engine.connect() as conn:
        mine = kpis.kpis_with_change(conn, SALES, START, END).set_index("id")
        everything = kpis.kpis_with_change(conn, ADMIN, START, END).set_index("id")
        trend = kpis.kpi_trend(conn, SALES, ["revenue", "close_days"], START, END, 6)
        overview_data = overview.load_overview(conn, SALES, "30d", NOW, dt.UTC)
    assert mine.at["revenue", "value"] == 900.0 and everything.at["close_days", "value"] == 7.0
    assert pd.isna(mine.at["close_days", "value"]) and mine.at["close_days", "n"] == 0  # finance's, not a goal
    assert mine.at["close_days", "on_target"] is None and set(mine.index) == set(everything.index)  # the tree stays
    assert set(trend.kpi_id) == {"revenue"}
    health_by_unit = overview_data.health.set_index("unit_id")  # the overview's aggregate still counts finance
    assert health_by_unit.at["finance", "kpis_with_data"] == 1
    assert pd.isna(overview_data.kpis.set_index("id").at["close_days", "value"])


def test_organisation_wide_reads_are_refused_to_a_spoke_lead(ctx):
    with pytest.raises(NotPermitted, match="organisation-wide"):
        observed.calibration_items(ctx.conn, SALES, START, END)
    for fn in (health.recent_imports, health.quarantine_counts, health.last_imports):
        with pytest.raises(NotPermitted, match="data health"):
            fn(ctx.conn, SALES)
    for v in (EXEC, HUB, ADMIN):
        assert len(observed.calibration_items(ctx.conn, v, START, END)) == 6
        health.quarantine_counts(ctx.conn, v)


def test_who_may_act_on_items(ctx):
    with pytest.raises(NotPermitted, match=r"executive\) may not act on sales's items"):
        items.act(ctx.engine, EXEC, "sales", [("s0", 1)], "acknowledge")
    assert spoke.inbox(ctx.conn, EXEC, "sales", InboxFilter(), NOW).total == 3  # but reads the inbox
    [hub] = items.act(ctx.engine, HUB, "finance", [("f0", 1)], "acknowledge", now=NOW)
    [own] = items.act(ctx.engine, FINANCE, "finance", [("f1", 1)], "acknowledge", now=NOW)
    assert hub.ok and own.ok
    assert [(r["user"], r["role"]) for r in audit_rows(ctx.engine)] == [(HUB.user, "hub_lead"), (FINANCE.user, "spoke_lead")]


@pytest.mark.parametrize("viewer", [EXEC, SALES], ids=["executive", "spoke_lead"])
def test_executives_and_spoke_leads_cannot_change_scenarios(ctx, viewer):
    with ctx.engine.begin() as conn:
        with pytest.raises(NotPermitted, match="may not save scenarios"):
            scenario_service.save_scenario(conn, viewer, **(_scenario_inputs() | {"name": "Mine"}))
        with pytest.raises(NotPermitted, match="may not save scenarios"):
            scenario_service.duplicate_scenario(conn, viewer, ctx.scenario_id)
        with pytest.raises(NotPermitted, match="may not delete scenarios"):
            scenario_service.delete_scenario(conn, viewer, ctx.scenario_id)
        assert saved.get_scenario(conn, viewer, ctx.scenario_id).name == "Plan B"  # they may look
        assert list(saved.list_scenarios(conn, viewer).name) == ["Plan B"]
    assert count_rows(ctx.engine, scenarios) == 1 and audit_rows(ctx.engine) == []


def test_a_hub_lead_changes_only_their_own_scenarios(ctx):
    with ctx.engine.begin() as conn:
        with pytest.raises(NotPermitted, match="belongs to"):
            scenario_service.delete_scenario(conn, HUB, ctx.scenario_id)
        with pytest.raises(NotPermitted, match="belongs to"):
            scenario_service.save_scenario(conn, HUB, **_scenario_inputs(), overwrite=True)
        scenario_service.save_scenario(conn, HUB, **(_scenario_inputs() | {"name": "Hal's"}))
    assert [r["user"] for r in audit_rows(ctx.engine)] == [HUB.user]


@pytest.mark.parametrize("viewer", [EXEC, HUB, SALES], ids=["executive", "hub_lead", "spoke_lead"])
def test_only_admins_read_the_audit_trail_and_manage_users(ctx, viewer):
    with pytest.raises(NotPermitted, match="read the audit trail"):
        audit.search(ctx.conn, viewer)
    with pytest.raises(NotPermitted, match="manage users"):
        users.list_users(ctx.conn, viewer)
    with pytest.raises(NotPermitted, match="manage users"):
        user_service.save_users(ctx.conn, viewer, pd.DataFrame(columns=users.COLUMNS))
    rows, total = audit.search(ctx.conn, ADMIN)
    assert total == 0 and rows.empty
    assert users.list_users(ctx.conn, ADMIN).empty


@pytest.mark.parametrize("viewer", [EXEC, SALES], ids=["executive", "spoke_lead"])
def test_only_hub_leads_and_admins_import(ctx, viewer):
    with pytest.raises(NotPermitted, match="may not import"):
        ingest_module.ingest(ctx.engine, ctx.units_csv, viewer=viewer)
    assert count_rows(ctx.engine, imports) == 0


# --- the audit trail ------------------------------------------------------------------------------------------------


def test_acting_audits_each_item_that_changed_and_none_that_did_not(ctx):
    items.act(ctx.engine, SALES, "sales", [("s1", 1)], "resolve", now=at(1))  # a colleague was first
    outcomes = items.act(ctx.engine, SALES, "sales", [("s0", 1), ("s1", 1), ("s2", 1)], "hand_back",
                           note="wrong team", now=NOW)
    assert [o.ok for o in outcomes] == [True, False, True]
    rows = audit_rows(ctx.engine, "item_action")
    assert [(r["target"], r["detail"]) for r in rows] == [
        ("s1", "Resolve (sales)"), ("s0", "Hand back to the hub (sales): wrong team"),
        ("s2", "Hand back to the hub (sales): wrong team")]
    assert {(r["user"], r["role"]) for r in rows} == {(SALES.user, "spoke_lead")}


def test_scenario_saves_overwrites_and_deletes_are_audited(ctx):
    with ctx.engine.begin() as conn:
        sid = scenario_service.save_scenario(conn, HUB, **(_scenario_inputs() | {"name": "Hub first"}))
        scenario_service.save_scenario(conn, HUB, **(_scenario_inputs() | {"name": "Hub first"}), overwrite=True)
        copy = scenario_service.duplicate_scenario(conn, HUB, sid)
        scenario_service.delete_scenario(conn, HUB, sid)
        scenario_service.delete_scenario(conn, ADMIN, copy)  # an admin may delete anyone's
        scenario_service.delete_scenario(conn, HUB, 10**6)  # nothing to delete: nothing to audit
    assert [(r["user"], r["action"], r["target"], r["detail"]) for r in audit_rows(ctx.engine)] == [
        (HUB.user, "scenario_save", "Hub first", f"saved scenario #{sid}"),
        (HUB.user, "scenario_save", "Hub first", f"overwrote scenario #{sid}"),
        (HUB.user, "scenario_save", "Hub first (copy)", f"saved scenario #{copy}"),
        (HUB.user, "scenario_delete", "Hub first", f"deleted scenario #{sid}"),
        (ADMIN.user, "scenario_delete", "Hub first (copy)", f"deleted scenario #{copy}"),
    ]


def test_a_rolled_back_change_leaves_no_audit_entry(ctx):
    with ctx.engine.connect() as conn:
        tx = conn.begin()
        scenario_service.save_scenario(conn, HUB, **(_scenario_inputs() | {"name": "Never"}))
        scenario_service.delete_scenario(conn, ADMIN, ctx.scenario_id)
        user_service.save_users(conn, ADMIN, pd.DataFrame([dict(user="a@example.com", name=None, role="executive",
                                                         unit=None, active=True)]))
        assert conn.execute(select(func.count()).select_from(audit_log)).scalar_one() == 3  # written, uncommitted
        tx.rollback()
    assert audit_rows(ctx.engine) == []
    assert count_rows(ctx.engine, scenarios) == 1 and count_rows(ctx.engine, users_table) == 0


def test_imports_are_audited_but_dry_runs_and_repeats_are_not(ctx):
    dry = ingest_module.ingest(ctx.engine, ctx.units_csv, viewer=HUB, dry_run=True, now=NOW)
    assert dry.inserted == 1 and audit_rows(ctx.engine) == []
    done = ingest_module.ingest(ctx.engine, ctx.units_csv, viewer=HUB, now=NOW)
    again = ingest_module.ingest(ctx.engine, ctx.units_csv, viewer=HUB, now=NOW)
    assert again.skipped
    [entry] = audit_rows(ctx.engine)
    assert (entry["user"], entry["role"], entry["action"], entry["target"]) == (HUB.user, "hub_lead", "import",
                                                                                "units.csv (units)")
    assert f"import #{done.import_id}: 1 rows read, 1 inserted" in entry["detail"]


def test_a_failed_import_is_not_audited(ctx, tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    with pytest.raises(ingest_module.IngestError):
        ingest_module.ingest(ctx.engine, bad, viewer=HUB, kind="units", now=NOW)
    assert audit_rows(ctx.engine) == []


def test_user_changes_are_audited_one_entry_per_change(ctx):
    def save(rows, when):
        with ctx.engine.begin() as conn:
            return user_service.save_users(conn, ADMIN, pd.DataFrame(rows, columns=users.COLUMNS), now=when)

    pat = dict(user="Pat@Example.com ", name="Pat", role="hub lead", unit=None, active=True)
    sam = dict(user="sam@example.com", name="Sam", role="spoke_lead", unit="sales", active=True)
    assert save([pat, sam], at(3)) == []
    assert save([pat, sam | {"unit": "finance"}], at(2)) == []  # pat unchanged: no entry
    assert save([sam | {"unit": "finance", "active": False}], at(1)) == []  # pat removed, sam deactivated
    assert [(r["target"], r["detail"]) for r in audit_rows(ctx.engine, "user_change")] == [
        ("pat@example.com", "added: role hub_lead"),
        ("sam@example.com", "added: role spoke_lead, spoke sales"),
        ("sam@example.com", "changed: role spoke_lead, spoke finance"),
        ("sam@example.com", "changed: role spoke_lead, spoke finance, inactive"),
        ("pat@example.com", "removed"),
    ]
    assert {r["user"] for r in audit_rows(ctx.engine)} == {ADMIN.user}
    with ctx.engine.connect() as conn:
        assert users.lookup(conn, "sam@example.com") is None  # inactive
        listed = users.list_users(conn, ADMIN)
    assert listed.to_dict("records") == [dict(user="sam@example.com", name="Sam", role="spoke_lead", unit="finance",
                                              active=False)]


def test_a_refused_user_table_writes_nothing(ctx):
    rows = [dict(user="a@example.com", name=None, role="wizard", unit=None, active=True),
            dict(user="b@example.com", name=None, role="spoke_lead", unit="hub", active=True),
            dict(user="c@example.com", name=None, role="admin", unit=None, active=True),
            dict(user="C@example.com", name=None, role="admin", unit=None, active=True),
            dict(user="", name="No e-mail", role="admin", unit=None, active=True)]
    with ctx.engine.begin() as conn:
        problems = user_service.save_users(conn, ADMIN, pd.DataFrame(rows, columns=users.COLUMNS))
    assert [p.split(":")[0] for p in problems] == ["a@example.com", "b@example.com", "c@example.com", "row 5"]
    assert "listed twice" in problems[2]
    assert count_rows(ctx.engine, users_table) == 0 and audit_rows(ctx.engine) == []


def test_audit_search_filters_and_pages(ctx):
    with ctx.engine.begin() as conn:
        for i, (v, action, target) in enumerate([(SALES, "sign_in", None), (HUB, "export", "sales inbox"),
                                                 (SALES, "export", "sales KPIs"), (NOBODY, "sign_in", None)]):
            audit.record(conn, v, action, target, f"entry {i}", at=at(10 - i))
        with pytest.raises(ValueError, match="unknown audit action"):
            audit.record(conn, ADMIN, "coffee")
    conn = ctx.conn
    rows, total = audit.search(conn, ADMIN)
    assert total == 4 and list(rows.detail) == ["entry 3", "entry 2", "entry 1", "entry 0"]  # newest first
    assert rows.role.iloc[0] == "none"  # a refused sign-in is recorded too
    assert audit.search(conn, ADMIN, user="SAM")[1] == 2
    assert audit.search(conn, ADMIN, action="export", text="kpis")[0].user.tolist() == [SALES.user]
    assert audit.search(conn, ADMIN, since=at(8.5), until=at(7.5))[0].detail.tolist() == ["entry 2"]
    assert audit.search(conn, ADMIN, text="100%_")[1] == 0  # LIKE wildcards are matched literally
    page, total = audit.search(conn, ADMIN, limit=1, offset=1)
    assert total == 4 and page.detail.tolist() == ["entry 2"]


# --- roles from sign-in ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value, role", [
    ("hub_lead", Role.HUB_LEAD), ("Hub lead", Role.HUB_LEAD), (" HUB-LEAD ", Role.HUB_LEAD), ("admin", Role.ADMIN),
    ("spoke_lead", Role.SPOKE_LEAD), ("Executive", Role.EXECUTIVE),
    (["spoke_lead", "admin"], Role.ADMIN), (("spoke_lead", "executive"), Role.EXECUTIVE),
    (["executive", "hub_lead"], Role.HUB_LEAD), ({"spoke_lead"}, Role.SPOKE_LEAD), (["wizard", "spoke_lead"], Role.SPOKE_LEAD),
    ("wizard", Role.NONE), ("none", Role.NONE), ("", Role.NONE), (None, Role.NONE), ([], Role.NONE), ([None], Role.NONE),
    ("admin,executive", Role.NONE), (42, Role.NONE),
])
def test_parse_role(value, role):
    assert parse_role(value) is role


def test_viewer_from_claims():
    assert viewer_from_claims({"email": "a@x", "role": ["spoke_lead", "hub_lead"], "unit": "sales"}) == (
        Viewer("a@x", Role.HUB_LEAD, "sales"), None)
    assert viewer_from_claims({"email": "a@x", "role": "spoke_lead", "unit": "sales"}) == (
        Viewer("a@x", Role.SPOKE_LEAD, "sales"), None)
    assert viewer_from_claims({"email": "a@x", "role": "spoke_lead", "unit": 7})[0].unit == "7"
    viewer, why = viewer_from_claims({"email": "a@x", "role": "wizard"})
    assert viewer == Viewer("a@x", Role.NONE) and why == "you have no role in this dashboard yet"
    for unit in (None, ""):
        viewer, why = viewer_from_claims({"email": "a@x", "role": "spoke_lead", "unit": unit})
        assert viewer == Viewer("a@x", Role.NONE) and why == "you are a spoke lead without a spoke"
    viewer, why = viewer_from_claims({"role": "admin"})
    assert viewer == Viewer("unknown", Role.NONE) and "no 'email' claim" in why
    viewer, why = viewer_from_claims({"email": "  ", "sub": "", "role": "admin"}, user_claim="upn")
    assert viewer.role is Role.NONE and "no 'upn' claim" in why
    # the user claim falls back to the e-mail, then to the subject
    assert viewer_from_claims({"upn": "u@x", "email": "e@x", "role": "admin"}, user_claim="upn")[0].user == "u@x"
    assert viewer_from_claims({"email": "e@x", "role": "admin"}, user_claim="upn")[0].user == "e@x"
    assert viewer_from_claims({"sub": "s-1", "role": "admin"})[0].user == "s-1"
    # other claim names
    assert viewer_from_claims({"email": "a@x", "groups": ["executive"], "team": "x"}, role_claim="groups",
                              unit_claim="team")[0] == Viewer("a@x", Role.EXECUTIVE, "x")


def test_viewer_from_claims_falls_back_to_the_users_table():
    asked = []

    def lookup(user):
        asked.append(user)
        return {"pat@x": ("hub_lead", None), "sam@x": ("spoke_lead", "sales"), "lee@x": ("spoke_lead", None),
                "old@x": ("retired", None)}.get(user)

    assert viewer_from_claims({"email": "pat@x"}, lookup=lookup) == (Viewer("pat@x", Role.HUB_LEAD), None)
    assert viewer_from_claims({"email": "sam@x", "role": "wizard"}, lookup=lookup) == (
        Viewer("sam@x", Role.SPOKE_LEAD, "sales"), None)
    # the table's spoke wins; the token's is the fallback
    assert viewer_from_claims({"email": "sam@x", "unit": "finance"}, lookup=lookup)[0].unit == "sales"
    assert viewer_from_claims({"email": "lee@x", "unit": "finance"}, lookup=lookup)[0] == Viewer(
        "lee@x", Role.SPOKE_LEAD, "finance")
    assert viewer_from_claims({"email": "lee@x"}, lookup=lookup) == (
        Viewer("lee@x", Role.NONE), "you are a spoke lead without a spoke")
    assert viewer_from_claims({"email": "old@x"}, lookup=lookup)[0].role is Role.NONE
    assert viewer_from_claims({"email": "new@x"}, lookup=lookup) == (
        Viewer("new@x", Role.NONE), "you have no role in this dashboard yet")
    asked.clear()
    assert viewer_from_claims({"email": "pat@x", "role": "executive"}, lookup=lookup)[0].role is Role.EXECUTIVE
    assert asked == []  # a role in the token wins: the table is not asked


def test_users_table_lookup_is_case_insensitive_and_skips_inactive(ctx):
    with ctx.engine.begin() as conn:
        conn.execute(insert(users_table), [
            dict(user="pat@example.com", role="hub_lead", unit=None, active=True, updated_at=NOW, updated_by="t"),
            dict(user="sam@example.com", role="spoke_lead", unit="sales", active=True, updated_at=NOW, updated_by="t"),
            dict(user="old@example.com", role="admin", unit=None, active=False, updated_at=NOW, updated_by="t"),
        ])
    conn = ctx.conn
    assert users.lookup(conn, " Pat@Example.com") == ("hub_lead", None)
    assert users.lookup(conn, "old@example.com") is None and users.lookup(conn, "nobody@example.com") is None
    viewer, why = viewer_from_claims({"email": "Sam@Example.com", "sub": "1"}, lookup=lambda u: users.lookup(conn, u))
    assert viewer == Viewer("Sam@Example.com", Role.SPOKE_LEAD, "sales") and why is None


ROLE_MATRIX = {  # role: (sees every unit, acts for sales, edits scenarios, imports, admin)
    Role.ADMIN: (True, True, True, True, True),
    Role.HUB_LEAD: (True, True, True, True, False),
    Role.EXECUTIVE: (True, False, False, False, False),
    Role.SPOKE_LEAD: (False, True, False, False, False),
    Role.NONE: (False, False, False, False, False),
}


@pytest.mark.parametrize("role", list(Role))
def test_permissions_by_role(role):
    v = Viewer("v", role, unit="sales" if role is Role.SPOKE_LEAD else None)
    sees_all, acts, edits, imports_, admin = ROLE_MATRIX[role]
    assert v.sees_everything is sees_all and v.can_see_unit("finance") is sees_all
    assert v.can_see_unit("sales") is (sees_all or role is Role.SPOKE_LEAD)
    assert v.can_act_for("sales") is acts and v.can_act_for("finance") is (acts and role is not Role.SPOKE_LEAD)
    assert (v.can_edit_scenarios, v.can_import, v.is_admin) == (edits, imports_, admin)


# Who opens which page, written out as the spec: dashboard.domain.access.PAGE_PERMISSIONS must give exactly this.
EVERY_ROLE = {Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE, Role.SPOKE_LEAD}
PAGE_ROLES = {
    "overview": EVERY_ROLE,
    "spoke": EVERY_ROLE,
    "scenarios": EVERY_ROLE,
    "routing": {Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE},
    "operating-model": EVERY_ROLE,
    "data-health": {Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE},
    "upload": {Role.ADMIN, Role.HUB_LEAD},
    "admin": {Role.ADMIN},
}


def test_every_page_has_one_permission_and_every_permission_is_a_viewer_property():
    assert set(PAGE_PERMISSIONS) == set(PAGE_ROLES)
    for page, permission in PAGE_PERMISSIONS.items():
        assert isinstance(getattr(Viewer, permission, None), property), (page, permission)


@pytest.mark.parametrize("page", list(PAGE_ROLES))
@pytest.mark.parametrize("role", list(Role))
def test_who_may_open_each_page(role, page):
    for unit in (None, "sales", "finance"):  # a page opens by role; the spoke decides only which spoke
        assert Viewer("v", role, unit=unit).may_open(page) is (role in PAGE_ROLES[page]), (role, page, unit)


def test_an_unknown_page_is_closed_to_everyone():
    assert not any(Viewer("v", role).may_open("nowhere") for role in Role)
    assert roles_that_may_open("nowhere") == () and who_may_open("nowhere") == "nobody"


def test_who_may_open_names_the_roles_widest_first():
    assert {page: who_may_open(page) for page in ("routing", "data-health", "upload", "admin", "overview")} == {
        "routing": "admins, hub leads and executives",
        "data-health": "admins, hub leads and executives",
        "upload": "admins and hub leads",
        "admin": "admins",
        "overview": "admins, hub leads, executives and spoke leads",
    }
    assert all(set(roles_that_may_open(page)) == roles for page, roles in PAGE_ROLES.items())


@pytest.mark.parametrize("role", list(Role))
def test_the_data_layer_refuses_whom_the_page_refuses(ctx, role):
    """The reads behind the data health, routing and admin pages, and an import (a dry run), refuse exactly the
    roles whose menu lacks the page."""
    v = Viewer("v", role, unit="sales" if role is Role.SPOKE_LEAD else None)
    calls = {"data-health": lambda: health.quarantine_counts(ctx.conn, v),
             "routing": lambda: routing.list_rule_sets(ctx.conn, v),
             "admin": lambda: users.list_users(ctx.conn, v),
             "upload": lambda: ingest_module.ingest(ctx.engine, ctx.units_csv, viewer=v, dry_run=True)}
    for page, call in calls.items():
        if v.may_open(page):
            call()
        else:
            with pytest.raises(NotPermitted):
                call()
    if role is not Role.NONE and not v.may_open("data-health"):  # (no role at all is refused before that)
        with pytest.raises(NotPermitted, match=r"data health \(admins, hub leads and executives only\)"):
            health.require_health_viewer(v)


def test_require_helpers():
    for bad in (None, "admin", {"user": "x", "role": "admin"}, NOBODY):
        with pytest.raises(NotPermitted):
            require_viewer(bad)
    assert require_viewer(EXEC) is EXEC
    with pytest.raises(NotPermitted, match=r"eve@example.com \(executive\) may not import data"):
        require(EXEC, "can_import", "import data")
    with pytest.raises(NotPermitted, match="may not fly"):
        require(HUB, False, "fly")
    assert require(HUB, "can_import", "import data") is HUB
    with pytest.raises(NotPermitted, match="has no role"):
        require(NOBODY, True, "anything")
    assert require_unit(SALES, "sales") is SALES
    with pytest.raises(NotPermitted, match="may not open 'finance'"):
        require_unit(SALES, "finance")
    with pytest.raises(NotPermitted, match="may not open 'sales'"):
        require_unit(Viewer("lost", Role.SPOKE_LEAD, unit=None), "sales")
