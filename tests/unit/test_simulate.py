"""The live feed on SQLite and PostgreSQL: it adds and moves work, keeps rollups right, stops cleanly."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard import store
from dashboard.db import kpi_observations, work_items
from dashboard.services import autoroute
from loaders import demo, simulate
from tests.factories import tiny_org
from tests.unit.test_demo import ROOT
from tests.unit.test_store import assert_rollups_match_rebuild

UTC = dt.UTC


@pytest.fixture
def demo_db(engine):
    demo.load_demo(engine, now=dt.datetime.now(UTC), work_items=1000, kpi_observations=800)
    return engine


def counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        sim = conn.execute(select(func.count()).where(work_items.c.id.like("sim-%"))).scalar_one()
        moved = conn.execute(select(func.count()).where(work_items.c.updated_by == simulate.ACTOR,
                                                        work_items.c.version > 1)).scalar_one()
        obs = conn.execute(select(func.count()).select_from(kpi_observations)).scalar_one()
    return sim, moved, obs


def test_a_short_run_adds_items_moves_open_ones_and_keeps_rollups_right(demo_db):
    _, _, obs_before = counts(demo_db)
    lines: list[str] = []
    totals = simulate.run(demo_db, rate_per_min=3000, duration=0.8, tick=0.15, seed=1, report_every=1, out=lines.append)
    sim, moved, obs = counts(demo_db)
    assert totals.batches >= 1 and sim == totals.stats.created > 0  # batch count depends on machine load
    assert moved > 0 and totals.stats.moved >= moved
    assert obs - obs_before == totals.stats.observations > 0
    assert lines[-1].startswith("simulate:") and f"+{sim:,} items" in lines[-1]
    assert lines[0].startswith("simulate: batch 1: +") and len(lines) == totals.batches + 1
    with demo_db.connect() as conn:
        assert_rollups_match_rebuild(conn)


def test_a_batch_that_fails_midway_leaves_nothing_behind(demo_db, monkeypatch):
    with demo_db.connect() as conn:
        model = simulate.load_model(conn, now=dt.datetime.now(UTC))
    before = counts(demo_db)

    def broken(*_args, **_kwargs):
        raise RuntimeError("killed midway")

    monkeypatch.setattr(simulate.store, "insert_kpi_observations", broken)
    with pytest.raises(RuntimeError, match="killed midway"):
        with demo_db.begin() as conn:
            simulate.simulate_batch(conn, model, np.random.default_rng(2), simulate.IdSource(), now=dt.datetime.now(UTC),
                                    seconds=5, rate_per_min=600, pending_derived={})
    assert counts(demo_db) == before
    with demo_db.connect() as conn:
        assert_rollups_match_rebuild(conn)


def test_a_stop_request_ends_the_run_after_the_current_batch(demo_db):
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    totals = simulate.run(demo_db, rate_per_min=600, duration=None, tick=0.1, seed=3, stop=stop, out=lambda _: None)
    timer.join()
    assert 1 <= totals.batches and totals.seconds < 5


def test_it_refuses_an_empty_database_and_one_without_the_demo(engine):
    with pytest.raises(simulate.NothingToSimulate, match="python -m loaders demo"):
        simulate.run(engine, duration=0.1, out=lambda _: None)
    with engine.begin() as conn:
        tiny_org(conn)
    with pytest.raises(simulate.NothingToSimulate, match="--force"):
        simulate.run(engine, duration=0.1, out=lambda _: None)
    totals = simulate.run(engine, rate_per_min=600, duration=0.3, tick=0.1, seed=4, force=True, out=lambda _: None)
    assert totals.stats.created > 0  # the demo's hub->sales and sales->hub routes fit the tiny organisation
    with engine.connect() as conn:
        assert_rollups_match_rebuild(conn)


def test_sigterm_stops_the_cli_cleanly_with_a_summary(sqlite_url, sqlite_engine):
    demo.load_demo(sqlite_engine, work_items=500, kpi_observations=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")} | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loaders", "simulate", "--database-url", sqlite_url, "--tick", "0.2",
         "--report-every", "1", "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT / "tests",
    )
    try:
        first = proc.stdout.readline()  # the first batch has committed
        assert first.startswith("simulate: batch 1:"), first + proc.stderr.read()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1].startswith("simulate: ") and "batches in" in out and not err
    with sqlite_engine.connect() as conn:
        assert store.get_meta(conn, "dataset") == "demo"
        assert_rollups_match_rebuild(conn)


def test_on_postgresql_a_batch_skips_items_a_person_is_editing_instead_of_waiting_for_them(pg_url):
    """An inbox action locks its item, then its rollup row; the simulator takes its item locks first and skips
    locked ones, so it neither waits for the person nor deadlocks with them (seen under load before)."""
    from dashboard.db import make_engine, migrate

    engine = make_engine(pg_url)
    try:
        migrate(engine)
        demo.load_demo(engine, now=dt.datetime.now(UTC), work_items=400, kpi_observations=100)
        with engine.connect() as conn:
            model = simulate.load_model(conn, now=dt.datetime.now(UTC))
            open_ids = conn.execute(select(work_items.c.id).where(work_items.c.resolved_at.is_(None))).scalars().all()
        held = engine.connect()
        trans = held.begin()
        held.execute(select(work_items.c.id).where(work_items.c.id.in_(open_ids)).with_for_update())  # a person on each
        done: list[simulate.BatchStats] = []

        def batch() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")  # waiting would fail the batch, not hang
                done.append(simulate.simulate_batch(conn, model, np.random.default_rng(3), simulate.IdSource(),
                                                    now=dt.datetime.now(UTC), seconds=30, rate_per_min=600,
                                                    pending_derived={}))

        worker = threading.Thread(target=batch)
        worker.start()
        worker.join(20)
        trans.rollback()
        held.close()
        worker.join(20)
        assert done, "the batch waited for the locked items"
        assert done[0].created > 0 and done[0].moved > 0  # it moved its own new items ...
        with engine.connect() as conn:
            touched = conn.execute(select(func.count()).where(work_items.c.id.in_(open_ids),
                                                              work_items.c.updated_by == simulate.ACTOR)).scalar_one()
            assert touched == 0  # ... and none that were being edited
            assert_rollups_match_rebuild(conn)
    finally:
        engine.dispose()


# --- routing rules -----------------------------------------------------------------------------------------


def _batch(engine, model, rules=None, seed=11, seconds=20):
    with engine.begin() as conn:
        return simulate.simulate_batch(conn, model, np.random.default_rng(seed), simulate.IdSource(),
                                       now=dt.datetime.now(UTC), seconds=seconds, rate_per_min=600,
                                       pending_derived={}, rules=rules)


def _new_hub_items(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(work_items).where(
            work_items.c.id.like("sim-%"), work_items.c.source_unit == "hub")).mappings().all())


def test_new_hub_items_are_routed_by_the_active_rules_and_a_published_change_shows_at_once(demo_db):
    from dashboard.db import routing_rule_sets
    from dashboard.domain.routing import parse_rule_set, route_frame

    with demo_db.connect() as conn:
        model = simulate.load_model(conn, now=dt.datetime.now(UTC))
    rules = autoroute.ActiveRules()
    stats = _batch(demo_db, model, rules)
    items = _new_hub_items(demo_db)
    assert stats.routed_by_rules == len(items) > 0 and stats.unrouted == 0
    expected = route_frame(parse_rule_set(demo.STANDARD_RULES), items)
    assert items.target_unit.tolist() == expected.target_unit.tolist()
    assert items.rule_id.tolist() == expected.rule_id.tolist() and items.priority.notna().all()
    assert (items.status != "new").all() and items.routed_at.notna().all()  # mentions too: no triage wait
    with demo_db.connect() as conn:
        waiting = conn.execute(select(func.count()).where(work_items.c.text.in_(demo.UNROUTED_TEXTS))).scalar_one()

    # publish a set that sends job questions and the waiting "Love the new ad!" mentions elsewhere
    changed = dict(demo.STANDARD_RULES)
    changed["rules"] = [dict(r, target_unit="customer_service") if r["id"] == "jobs" else r
                        for r in demo.STANDARD_RULES["rules"]]
    changed["rules"].append({"id": "praise", "name": "Praise to Product", "kinds": ["mention"],
                             "keywords": ["love", "great", "made my day", "happy", "sings", "pick"],
                             "target_unit": "product", "priority": "low"})
    now = dt.datetime.now(UTC)
    with demo_db.begin() as conn:
        conn.execute(routing_rule_sets.update().where(routing_rule_sets.c.status == "active").values(status="archived"))
        conn.execute(routing_rule_sets.insert().values(
            status="active", name="Changed", rules=changed, version=1, created_by="t", created_at=now, updated_by="t",
            updated_at=now, published_by="t", published_at=now))
    stats = _batch(demo_db, model, rules, seed=12, seconds=40)
    assert rules.changed and stats.rerouted == waiting > 0  # the waiting ones left the hub
    after = _new_hub_items(demo_db)
    fresh = after[~after.id.isin(items.id)]
    jobs = fresh[fresh.text.str.contains("hiring|internship|role|work on your", na=False)]
    assert len(jobs) and set(jobs.target_unit) == {"customer_service"}
    with demo_db.connect() as conn:
        praise = conn.execute(select(work_items.c.target_unit, work_items.c.rule_id, work_items.c.status).where(
            work_items.c.text.in_(demo.UNROUTED_TEXTS))).all()
        assert {(t, r) for t, r, _ in praise} == {("product", "praise")} and "new" not in {s for *_, s in praise}
        assert_rollups_match_rebuild(conn)


def test_without_an_active_set_the_demo_routes_stay_and_unrouted_items_are_left_to_people(demo_db):
    from dashboard.db import routing_rule_sets

    with demo_db.begin() as conn:
        conn.execute(routing_rule_sets.delete())
        model = simulate.load_model(conn, now=dt.datetime.now(UTC))
    for seed in range(2):
        stats = _batch(demo_db, model, seed=seed, seconds=20)
        assert stats.routed_by_rules == 0 and stats.rerouted == 0
    items = _new_hub_items(demo_db)
    assert items.rule_id.isna().all() and (items.target_unit != "hub").all()
    assert set(items.status[items.kind == "mention"]) <= {"new", "routed", "accepted", "resolved"}
    with demo_db.connect() as conn:
        waiting = conn.execute(select(work_items.c.version, work_items.c.status).where(
            work_items.c.text.in_(demo.UNROUTED_TEXTS))).all()
        assert set(waiting) == {(1, "new")}  # the simulator never "triages" an unrouted item into a hub->hub flow
        assert_rollups_match_rebuild(conn)


def test_an_invalid_active_set_is_reported_once_and_the_feed_keeps_the_demo_routes(demo_db):
    from dashboard.db import routing_rule_sets

    with demo_db.begin() as conn:
        conn.execute(routing_rule_sets.update().where(routing_rule_sets.c.status == "active").values(
            rules={"rules": [{"id": "bad", "name": "bad", "pattern": "(a+)+", "target_unit": "sales"}]}))
    lines: list[str] = []
    totals = simulate.run(demo_db, rate_per_min=3000, duration=0.6, tick=0.15, seed=2, report_every=0, out=lines.append)
    problems = [line for line in lines if "not valid" in line]
    assert len(problems) == 1 and "bad" in problems[0] and totals.stats.created > 0
    assert _new_hub_items(demo_db).rule_id.isna().all()
