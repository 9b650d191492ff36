"""The demo organisation and the loaders CLI, on SQLite and PostgreSQL (small sizes)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard import store
from dashboard.db import kpis, make_engine, migrate, units, work_items
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.queries.flows import edge_flows
from dashboard.queries.kpis import kpi_values
from loaders import demo, spec
from loaders.__main__ import main
from tests.conftest import new_pg_database
from tests.factories import tiny_org
from tests.unit.test_store import assert_rollups_match_rebuild

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 10, 30, 15, tzinfo=dt.UTC)
SMALL = dict(now=NOW, work_items=3000, kpi_observations=2500)
SPOKES = {"sales": "Sales", "finance": "Finance", "customer_service": "Customer service", "product": "Product", "hr": "HR"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded(request, tmp_path_factory):
    """One demo per engine, shared by the read-only tests of this module (loading is the slow part)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
        eng = make_engine(url)
        migrate(eng)
    else:
        url = new_pg_database(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
        eng = make_engine(url)
    demo.load_demo(eng, **SMALL)
    yield eng
    eng.dispose()


def table(conn, t, order) -> pd.DataFrame:
    return pd.DataFrame(conn.execute(select(t).order_by(*order)).mappings().all())


# --- generation (no database) -----------------------------------------------------------------------------


def test_same_seed_and_now_generate_identical_data_and_another_seed_does_not():
    a, b = demo.generate(seed=5, **SMALL), demo.generate(seed=5, **SMALL)
    pd.testing.assert_frame_equal(a.work_items, b.work_items)
    pd.testing.assert_frame_equal(a.kpi_observations, b.kpi_observations)
    assert (a.units, a.kpis, a.campaigns, a.meta) == (b.units, b.kpis, b.campaigns, b.meta)
    c = demo.generate(seed=6, **SMALL)
    assert not a.work_items.created_at.equals(c.work_items.created_at)


def test_generated_items_are_consistent_and_recent():
    items = demo.generate(**SMALL).work_items
    assert len(items) == 3000 and items.id.is_unique
    assert items.created_at.max() < NOW and items.created_at.min() >= NOW - dt.timedelta(days=demo.DEFAULT_DAYS)
    resolved = items.status == "resolved"
    assert resolved.mean() > 0.8
    assert items.resolved_at.notna().eq(resolved).all()
    assert (items.resolved_at[resolved] >= items.created_at[resolved]).all()
    unrouted = (items.source_unit == "hub") & (items.target_unit == "hub")
    assert unrouted.sum() == demo.UNROUTED_WAITING and (items.status[unrouted] == "new").all()
    mentions = items[(items.kind == "mention") & ~unrouted]
    assert mentions.text.notna().all() and mentions.text.nunique() <= 3 * 4 * len(spec.PRODUCTS)
    assert set(mentions.topic) == {"purchase_intent", "complaint", "jobs"}
    by_topic = mentions.groupby("topic").target_unit.unique().to_dict()
    assert {k: list(v) for k, v in by_topic.items()} == {
        "purchase_intent": ["sales"], "complaint": ["customer_service"], "jobs": ["hr"]}
    hours = items.created_at.dt.hour
    assert ((hours >= 8) & (hours < 18)).mean() > 0.5  # office hours carry most of the work


# --- loading -----------------------------------------------------------------------------------------------


def test_demo_loads_the_organisation_with_flows_both_ways_on_every_spoke(loaded):
    with loaded.connect() as conn:
        names = dict(conn.execute(select(units.c.id, units.c.name)).all())
        assert names == {"hub": "Digital analytics & marketing hub", **SPOKES}
        pairs = set(conn.execute(select(work_items.c.source_unit, work_items.c.target_unit).distinct()).all())
        for spoke in SPOKES:
            assert ("hub", spoke) in pairs and (spoke, "hub") in pairs, spoke
        assert store.get_meta(conn, "dataset") == "demo"
        assert_rollups_match_rebuild(conn)


def test_kpi_tree_ends_at_the_shared_goal_and_health_is_mixed(loaded):
    with loaded.connect() as conn:
        tree = pd.DataFrame(conn.execute(select(kpis)).mappings().all()).set_index("id")
        values = kpi_values(conn, LOCAL_ADMIN, NOW - dt.timedelta(days=7), NOW)
    assert pd.isna(tree.loc["revenue"].parent_id) and tree.loc["revenue"].is_goal
    assert {"conversion_rate", "leads", "marketing_cost"} <= set(tree.index[tree.is_goal.astype(bool)])
    assert tree.loc["marketing_cost"].unit_id == "hub" and tree.loc["marketing_cost"].direction == "lower"
    for kpi_id in tree.index:  # every chain of parents ends at revenue
        seen = kpi_id
        while pd.notna(tree.loc[seen].parent_id):
            seen = tree.loc[seen].parent_id
        assert seen == "revenue"
    assert set(tree.unit_id) == {"hub", *SPOKES}
    status = values.set_index("id").on_target
    assert status.notna().all()
    assert 0.3 < status.astype(bool).mean() < 0.9  # some on target, some not
    assert not status[values.set_index("id").unit_id == "customer_service"].all()


def test_customer_service_has_the_growing_backlog_and_breaches_are_visible(loaded):
    with loaded.connect() as conn:
        flows = edge_flows(conn, LOCAL_ADMIN, NOW - dt.timedelta(days=30), NOW, NOW).set_index(["source_unit", "target_unit"])
    assert flows.loc[("hub", "hub"), "hub_side"] == "unrouted"  # the mentions waiting in the hub's triage queue
    flows = flows[flows.hub_side != "unrouted"]
    out = flows.xs("hub", level="source_unit")
    assert out.backlog.idxmax() == "customer_service"
    assert out.loc["customer_service", "overdue"] > 0.5 * out.loc["customer_service", "backlog"]
    assert (flows.sla_share < 1).all() and (flows.sla_share > 0.5).all()
    assert flows.loc[("hub", "sales"), "sla_share"] > 0.85  # most work is on time


def test_rerunning_the_demo_replaces_it_without_duplicates(engine):
    sizes = dict(now=NOW, work_items=1200, kpi_observations=800)
    summary = demo.load_demo(engine, **sizes)
    assert (summary.units, summary.work_items, summary.replaced) == (6, 1200, None)
    assert 600 < summary.kpi_observations <= 800
    with engine.connect() as conn:
        first = table(conn, work_items, [work_items.c.id])
    summary = demo.load_demo(engine, **sizes)
    assert summary.replaced == "demo"
    with engine.connect() as conn:
        again = table(conn, work_items, [work_items.c.id])
        assert_rollups_match_rebuild(conn)
    pd.testing.assert_frame_equal(first, again)


def test_demo_refuses_other_data_unless_forced(engine):
    with engine.begin() as conn:
        tiny_org(conn)
    small = dict(now=NOW, work_items=500, kpi_observations=300)
    with pytest.raises(demo.DemoRefused, match="--force"):
        demo.load_demo(engine, **small)
    with engine.connect() as conn:
        assert conn.execute(select(units.c.name).where(units.c.id == "hub")).scalar_one() == "Marketing hub"
    assert demo.load_demo(engine, force=True, **small).replaced == "other data"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(kpis).where(kpis.c.id == "close_days")).scalar_one() == 0
        assert store.get_meta(conn, "dataset") == "demo"


# --- the CLI, as a user runs it ----------------------------------------------------------------------------


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m loaders ...`` in a clean environment (no DASHBOARD_* variables, no .env in the cwd)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    clean.update(PYTHONPATH=str(ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "loaders", *args], capture_output=True, text=True, env=clean,
                          cwd=ROOT / "tests", timeout=120)


def test_cli_errors_are_one_clear_line_with_exit_code_2():
    done = cli("init", "--database-url", "postgresql+psycopg://u:secret@127.0.0.1:9/db")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot use the database") and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and "secret" not in done.stderr


@pytest.mark.parametrize("args, variables, expect", [
    (["demo", "--database-url", "mysql://h/db"], {}, "error: Invalid setting: DASHBOARD_DATABASE_URL"),
    (["init"], {"DASHBOARD_SLA_GREEN": "7"}, "error: Invalid setting: DASHBOARD_SLA_GREEN"),
    (["simulate"], {"DASHBOARD_DATABASE_URL": "sqlite:////proc/nowhere/x.db"}, "error: cannot create the database"),
    (["demo", "--database-url", "postgresql+nodriver://h/db"], {}, "error: bad database URL"),
])
def test_configuration_errors_end_with_one_line_and_exit_code_2(env, capsys, args, variables, expect):
    for key, value in variables.items():
        env.setenv(key, value)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(expect) and err.count("\n") == 1, err


def test_cli_init_then_demo_print_one_line_each(env, capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["init", "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith("init: created the schema")
    assert main(["init", "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith("init: schema already up to date")
    args = ["demo", "--database-url", url, "--work-items", "1500", "--kpi-observations", "500", "--now", "2026-11-23T10:30:00Z"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("demo: loaded") and "1,500 work items" in out


def test_the_cli_defaults_match_the_demo_module():
    from loaders import __main__ as cli_module

    assert (cli_module.DEFAULT_SEED, cli_module.DEFAULT_WORK_ITEMS, cli_module.DEFAULT_KPI_OBSERVATIONS,
            cli_module.DEFAULT_DAYS) == (demo.DEFAULT_SEED, demo.DEFAULT_WORK_ITEMS, demo.DEFAULT_KPI_OBSERVATIONS,
                                         demo.DEFAULT_DAYS)


def test_cli_demo_on_a_database_without_tables_says_to_run_init(env, capsys, tmp_path):
    assert main(["demo", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"]) == 2
    err = capsys.readouterr().err
    assert "python -m loaders init" in err and err.count("\n") == 1


def test_cli_demo_refuses_other_data_with_exit_code_1(env, capsys, db_url, engine):
    with engine.begin() as conn:
        tiny_org(conn)
    assert main(["demo", "--database-url", db_url, "--work-items", "100", "--kpi-observations", "100"]) == 1
    err = capsys.readouterr().err
    assert "--force" in err and err.count("\n") == 1


def test_demo_configures_each_spokes_checks_and_announces_promotions(engine):
    from sqlalchemy import select

    from dashboard.db import promotions, units
    from loaders.demo import load_demo

    load_demo(engine, work_items=3000, kpi_observations=500, now=NOW)
    with engine.connect() as conn:
        panels = dict(conn.execute(select(units.c.id, units.c.panels)).all())
        capacity = conn.execute(select(units.c.capacity_per_fte_day).where(units.c.id == "sales")).scalar_one()
        promos = conn.execute(select(promotions.c.starts_at, promotions.c.ends_at)).all()
    assert panels["sales"] == "lead_capacity,routed_topics" and panels["finance"] == "channel_roi"
    assert panels["hub"] is None
    assert capacity > 0
    states = {"ended" if e < NOW else "upcoming" if s > NOW else "active" for s, e in promos}
    assert states == {"ended", "active", "upcoming"}


# --- routing rules, segments, journeys and the operating-model cycle ---------------------------------------


def test_the_active_rule_set_reproduces_the_demos_hub_routes_with_their_rule_priority_and_sla():
    from dashboard.domain.routing import parse_rule_set, route_frame

    items = demo.generate(**SMALL).work_items
    hub = items[items.source_unit == "hub"]
    decided = route_frame(parse_rule_set(demo.STANDARD_RULES), hub)
    routed = hub.target_unit != "hub"
    assert (decided.target_unit[routed] == hub.target_unit[routed]).all()
    assert decided.target_unit[~routed].isna().all()  # the waiting ones: no rule matches them
    assert (decided.rule_id[routed] == hub.rule_id[routed]).all() and hub.rule_id[~routed].isna().all()
    assert (decided.priority[routed] == hub.priority[routed]).all()
    assert (decided.sla_hours[routed] == hub.sla_hours[routed]).all()
    assert set(hub.rule_id.dropna()) == {r["id"] for r in demo.STANDARD_RULES["rules"]}  # every rule fires
    assert items.rule_id[items.source_unit != "hub"].isna().all()
    # the earlier version routes the same texts a little differently: History has something to show
    earlier = route_frame(parse_rule_set(demo.EARLIER_RULES), hub)
    assert (earlier.target_unit[routed] == hub.target_unit[routed]).mean() > 0.9


def test_inbound_customer_items_carry_a_segment_and_internal_ones_none():
    items = demo.generate(**SMALL).work_items
    customer = items.kind.isin(["lead", "mention", "complaint"]) & (items.source_unit == "hub")
    assert set(items.segment[customer]) == {"consumer", "business", "vip"}
    assert items.segment[~customer].isna().all()
    vip_leads = items[(items.kind == "lead") & (items.segment == "vip")]
    assert (vip_leads.priority == "high").all() and (vip_leads.rule_id == "vip-leads").all()


def test_journeys_are_short_paths_of_consumer_items_that_convert_depending_on_the_path():
    data = demo.generate(**(SMALL | {"work_items": 30_000}))
    items, journeys = data.work_items, data.journeys
    members = items[items.journey_id.notna()]
    assert journeys.id.is_unique and set(members.journey_id) == set(journeys.id)
    at_hub = members.target_unit == "hub"  # the hub's own work for the customer, asked for by a spoke
    customer = members[~at_hub]
    assert (customer.segment == "consumer").all() and (customer.source_unit == "hub").all()
    assert set(zip(members.source_unit[at_hub], members.kind[at_hub], members.topic[at_hub])) == {
        ("sales", "request", "content"), ("customer_service", "escalation", "viral_complaint")}
    sizes = members.groupby("journey_id").size()
    assert sizes.min() == 1 and sizes.max() <= 5 and 1.4 < sizes.mean() < 2.5
    leads = items[(items.kind == "lead") & (items.segment == "consumer")]
    assert 0.2 < leads.journey_id.notna().mean() < 0.3
    spans = members.groupby("journey_id").created_at.agg(["min", "max"])
    assert ((spans["max"] - spans["min"]) <= dt.timedelta(days=5)).all()
    started = journeys.set_index("id").started_at
    assert (spans["min"] == started.loc[spans.index]).all()
    converted = journeys.converted_at.notna()
    assert 0.05 < converted.mean() < 0.4 and (journeys.revenue[converted] > 0).all()
    assert (journeys.revenue[~converted] == 0).all() and (journeys.converted_at[converted] < NOW).all()
    conv_at = journeys.set_index("id").converted_at.loc[spans.index]
    assert (conv_at.isna() | (spans["max"] < conv_at)).all()  # a journey converts after every touchpoint
    # the path matters: journeys with a purchase-intent mention convert more often than lead-only ones, and the
    # hub's tailored content raises the chance too
    paths = members.sort_values("created_at").groupby("journey_id").apply(
        lambda g: tuple(zip(g.kind, g.target_unit)), include_groups=False)
    by_id = journeys.set_index("id").converted_at.notna()
    with_mention = [j for j, p in paths.items() if ("mention", "sales") in p and p[-1] == ("lead", "sales")]
    lead_only = [j for j, p in paths.items() if p == (("lead", "sales"),)]
    lead_then_hub = [j for j, p in paths.items() if p == (("lead", "sales"), ("request", "hub"))]
    assert by_id.loc[with_mention].mean() > by_id.loc[lead_only].mean() + 0.1
    assert len(lead_then_hub) > 50 and by_id.loc[lead_then_hub].mean() > by_id.loc[lead_only].mean() + 0.05


def test_attribution_credits_the_hub_with_a_clear_but_smaller_removal_effect_than_sales():
    from dashboard.domain import attribution

    data = demo.generate(**(SMALL | {"work_items": 30_000}))
    items, journeys = data.work_items, data.journeys.set_index("id")
    members = items[items.journey_id.notna()].sort_values(["journey_id", "created_at", "id"])
    paths = members.groupby("journey_id").target_unit.agg(tuple)  # every touch is before the conversion
    frame = attribution.journeys_frame([paths[j] for j in journeys.index], journeys.converted_at.notna(),
                                       journeys.revenue)
    chain = attribution.markov_chain(frame)
    effect = chain.removal_effect
    assert set(effect) == {"sales", "customer_service", "hub"}
    assert effect["sales"] > effect["customer_service"] > effect["hub"] > 0.1
    shares = attribution.compare(frame).set_index(["method", "team"]).conversion_share
    assert shares["first_touch", "hub"] == 0  # the hub's work follows a customer's item, never opens a journey
    assert 0.1 < shares["markov", "hub"] < shares["markov", "sales"]
    assert shares["last_touch", "hub"] > shares["linear", "hub"] > 0


def test_the_done_change_shortened_the_touched_spokes_cycle_times_as_the_model_predicted():
    from dashboard.domain import evaluation as ev
    from dashboard.whatif.changes import predict_change

    as_is, _target = demo.operating_model_inputs()
    predicted = predict_change(as_is, demo.CHANGE_FUNCTION, 1.0)["lead_time_h"]
    speedup = predicted["after"] / predicted["before"]
    assert speedup == pytest.approx(demo.change_speedup()) and 0.7 < speedup < 0.85  # a clear predicted change
    data = demo.generate(**(SMALL | {"work_items": 60_000}))
    items = data.work_items
    done = NOW.replace(hour=0, minute=0, second=0) - dt.timedelta(days=demo.CHANGE_DONE_DAYS)
    closed = items[(items.source_unit == "hub") & items.resolved_at.notna()
                   & (items.created_at >= done - dt.timedelta(days=21))]
    cycle = (closed.resolved_at - closed.created_at).dt.total_seconds() / 3600 / closed.sla_hours
    after = closed.created_at >= done
    for spoke in demo.CHANGE_UNITS:
        mine = closed.target_unit == spoke
        ratio = cycle[mine & after].median() / cycle[mine & ~after].median()
        assert ratio == pytest.approx(speedup, abs=0.08), (spoke, ratio)
    hr = closed.target_unit == "hr"  # not touched
    assert 0.85 < cycle[hr & after].median() / cycle[hr & ~after].median() < 1.15
    # what the Evaluate tab computes from the daily flows (resolution day, as the hourly rollup has them): the
    # lead-time difference-in-differences against the untouched spokes agrees with the stored prediction
    change = next(c for c in data.planned_changes if c["status"] == "done")
    win = ev.window(change["done_on"], NOW)
    hub_out = items[(items.source_unit == "hub") & (items.target_unit != "hub")]
    group = np.where(hub_out.target_unit.isin(change["units"].split(",")), "treated", "control")
    done_items = hub_out.resolved_at.notna().to_numpy()
    resolved = pd.DataFrame({
        "day": hub_out.resolved_at.dt.floor("D")[done_items], "group": group[done_items],
        "in_sla": (hub_out.resolved_at <= hub_out.created_at + pd.to_timedelta(hub_out.sla_hours, unit="h"))[done_items],
        "cycle_h": ((hub_out.resolved_at - hub_out.created_at).dt.total_seconds() / 3600)[done_items]})
    flow = resolved.groupby(["day", "group"]).agg(resolved=("in_sla", "size"), resolved_in_sla=("in_sla", "sum"),
                                                  cycle_sum_h=("cycle_h", "sum"))
    created = pd.DataFrame({"day": hub_out.created_at.dt.floor("D"), "group": group}).groupby(["day", "group"]).size()
    flow = flow.join(created.rename("created"), how="outer").fillna(0).reset_index()
    flow = flow[(flow.day >= win.start) & (flow.day < win.end)]
    lead = ev.evaluate(flow, win, change["predicted"]).estimates[0]
    assert lead.metric == "lead_time_h" and lead.judgement == "in line with the prediction", lead.verdict
    assert lead.did / lead.treated_before.mean == pytest.approx(speedup - 1, abs=0.12)


def test_the_demo_loads_rule_sets_assessments_and_a_target_model_with_its_changes(loaded):
    from dashboard.db import journeys, maturity_assessments, planned_changes, routing_rule_sets, target_models
    from dashboard.domain.routing import diff, parse_rule_set
    from dashboard.whatif.changes import predict_change
    from dashboard.whatif.inputs import FUNCTIONS, load_inputs

    with loaded.connect() as conn:
        sets = table(conn, routing_rule_sets, [routing_rule_sets.c.id])
        assessments = table(conn, maturity_assessments, [maturity_assessments.c.assessed_at])
        model = conn.execute(select(target_models)).mappings().one()
        changes = table(conn, planned_changes, [planned_changes.c.id])
        n_journeys = conn.execute(select(func.count()).select_from(journeys)).scalar_one()
        linked = conn.execute(select(func.count(func.distinct(work_items.c.journey_id)))).scalar_one()
    assert sets.status.tolist() == ["archived", "active"] and set(sets.published_by) == {"demo"}
    assert sets.based_on.iloc[1] == sets.id.iloc[0]
    assert (NOW - sets.published_at.iloc[1]).days in (59, 60)
    active, earlier = (parse_rule_set(r) for r in (sets.rules.iloc[1], sets.rules.iloc[0]))
    assert len(diff(earlier, active)) >= 4  # added VIP rules, a move, changed keywords and SLA
    assert len(assessments) == 3 * len(FUNCTIONS) and set(assessments.function) == set(FUNCTIONS)
    for _, g in assessments.groupby("function"):
        total = g[["structure", "processes", "data_management", "technology"]].sum(axis=1).tolist()
        assert total == sorted(total) and total[-1] > total[0]
    assert assessments[["structure", "processes", "data_management", "technology"]].isin(range(1, 6)).all().all()
    assert model["status"] == "current" and model["promoted_by"] == "demo"
    inputs = load_inputs(model["inputs"])
    assert inputs.functions["content_production"].central_share == 1.0
    done = changes[changes.status == "done"]
    assert done.label.tolist() == ["Content production centralised"] and done.units.tolist() == ["sales,product"]
    assert (NOW.date() - done.done_on.iloc[0]).days == demo.CHANGE_DONE_DAYS
    assert set(changes.target_model_id) == {model["id"]}
    planned = changes[changes.status == "planned"]
    assert len(planned) >= 1 and planned.owner.notna().all() and (planned.due_on > NOW.date()).all()
    as_is, _target = demo.operating_model_inputs()
    assert done.predicted.iloc[0] == predict_change(as_is, "content_production", 1.0)
    assert n_journeys == linked > 0


def test_the_simulator_and_the_map_see_a_handful_of_unrouted_items_waiting(loaded):
    with loaded.connect() as conn:
        waiting = conn.execute(select(func.count()).where(
            work_items.c.source_unit == "hub", work_items.c.target_unit == "hub", work_items.c.status == "new")).scalar_one()
    assert waiting == demo.UNROUTED_WAITING
