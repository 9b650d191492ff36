"""The write API on SQLite and PostgreSQL: rollups stay equal to a rebuild, concurrency, duplicates, time zones."""

from __future__ import annotations

import datetime as dt
import threading
import time
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from dashboard import store
from dashboard.db import flow_hourly, kpi_hourly, kpi_observations, to_hour, work_items
from dashboard.domain.stats import CYCLE_BIN_EDGES_H
from tests.factories import NOW, at, item, tiny_org

UTC = dt.UTC
FLOW_ORDER = ["hour", "source_unit", "target_unit", "kind"]
ROUTES = [("hub", "sales", "lead"), ("sales", "hub", "request"), ("hub", "finance", "report")]
KPI_IDS = ["revenue", "conversion", "cost", "close_days"]


def rollups(conn) -> tuple[pd.DataFrame, pd.DataFrame]:
    flows = pd.DataFrame(conn.execute(select(flow_hourly)).mappings().all(), columns=list(flow_hourly.c.keys()))
    kpi = pd.DataFrame(conn.execute(select(kpi_hourly)).mappings().all(), columns=list(kpi_hourly.c.keys()))
    kpi["last_ts"] = pd.to_datetime(kpi["last_ts"], utc=True)
    return (flows.sort_values(FLOW_ORDER).reset_index(drop=True),
            kpi.sort_values(["kpi_id", "hour"]).reset_index(drop=True))


FLOAT_COLUMNS = {"created_value", "cycle_sum_h", "sum", "last_value"}  # sums in a different order: approx


def assert_same_rollup(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns) and len(got) == len(want), (len(got), len(want))
    for col in got.columns:
        if col in FLOAT_COLUMNS:
            np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), rtol=1e-9, atol=1e-6, err_msg=col)
        else:  # keys, counts, hours and timestamps: exactly
            assert got[col].tolist() == want[col].tolist(), col


def assert_rollups_match_rebuild(conn) -> None:
    """The incremental rollups equal what rebuild_rollups computes from the base tables."""
    flows, kpi = rollups(conn)
    store.rebuild_rollups(conn)
    want_flows, want_kpi = rollups(conn)
    assert_same_rollup(flows, want_flows)
    assert_same_rollup(kpi, want_kpi)


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
    return engine


# --- incremental == rebuild -------------------------------------------------------------------------------

item_spec = st.tuples(
    st.integers(0, len(ROUTES) - 1),  # route
    st.integers(0, 72 * 60),  # created, minutes before NOW
    st.one_of(st.none(), st.integers(0, 30 * 60)),  # resolved this many minutes after creation
    st.sampled_from([0.05, 1.0, 4.0, 24.0]),  # SLA hours (0.05 h = 3 min: a bin edge)
    st.one_of(st.none(), st.floats(0, 5000, allow_nan=False)),
)
operation = st.one_of(
    st.tuples(st.just("insert"), st.lists(item_spec, min_size=1, max_size=6)),
    st.tuples(st.just("move"), st.integers(0, 50), st.sampled_from(["routed", "accepted", "resolved", "handed_back"]),
              st.integers(0, 40 * 60), st.booleans()),
    st.tuples(st.just("observe"), st.lists(st.tuples(st.sampled_from(KPI_IDS), st.integers(0, 200), st.floats(-1e4, 1e4)),
                                           min_size=1, max_size=8)),
)


def _apply(conn, op, counter: list[int]) -> None:
    kind = op[0]
    if kind == "insert":
        rows = []
        for route, before, resolved_after, sla, value in op[1]:
            source, target, k = ROUTES[route]
            created = NOW - dt.timedelta(minutes=before)
            resolved = created + dt.timedelta(minutes=resolved_after) if resolved_after is not None else None
            counter[0] += 1
            rows.append(item(f"i{counter[0]}", source, target, created, kind=k, resolved=resolved, sla_hours=sla, value=value))
        store.insert_work_items(conn, rows)
    elif kind == "move":
        _, index, status, after, stale = op
        ids = conn.execute(select(work_items.c.id, work_items.c.version, work_items.c.created_at).order_by(work_items.c.id)).all()
        if not ids:
            return
        item_id, version, created = ids[index % len(ids)]
        try:
            result = store.transition_item(conn, item_id, expected_version=version - 1 if stale else version,
                                           status=status, at=created + dt.timedelta(minutes=after), by="test")
        except store.InvalidTransitionError:
            return
        assert result.ok != stale
    else:
        store.insert_kpi_observations(conn, [
            dict(kpi_id=k, ts=NOW - dt.timedelta(minutes=m), value=v) for k, m, v in op[1]
        ])


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_incremental_rollups_equal_a_rebuild_after_any_mix_of_writes(org, ops):
    with org.connect() as conn:
        trans = conn.begin()
        try:
            counter = [0]
            for op in ops:
                _apply(conn, op, counter)
            assert_rollups_match_rebuild(conn)
        finally:
            trans.rollback()


def test_bulk_insert_bins_cycle_times_like_the_sql_rebuild_even_on_bin_edges(org):
    """Cycle times exactly on histogram edges land in the same bin in numpy and in SQL."""
    rng = np.random.default_rng(3)
    edges_s = [round(e * 3600) for e in CYCLE_BIN_EDGES_H[:12] if abs(e * 3600 - round(e * 3600)) < 1e-9]
    cycles = np.concatenate([edges_s, rng.integers(1, 400_000, 1500)])
    rows = []
    for i, seconds in enumerate(cycles):
        source, target, kind = ROUTES[i % len(ROUTES)]
        created = NOW - dt.timedelta(days=10) + dt.timedelta(seconds=int(rng.integers(0, 9 * 86400)), microseconds=i)
        resolved = created + dt.timedelta(seconds=int(seconds))
        rows.append(item(f"b{i}", source, target, created, kind=kind, resolved=resolved if i % 7 else None,
                         sla_hours=float(rng.choice([0.05, 4, 24])), value=float(i % 5) or None))
    with org.begin() as conn:
        assert store.insert_work_items(conn, pd.DataFrame(rows), batch_size=1000) == len(rows)
        assert_rollups_match_rebuild(conn)


def test_rebuild_is_exact_for_timestamps_a_hair_before_the_hour(org):
    """SQLite parses fractional seconds to milliseconds; .999999 s must not roll into the next hour."""
    last_us = dt.datetime(2026, 11, 23, 9, 59, 59, 999_999, tzinfo=UTC)
    with org.begin() as conn:
        store.insert_work_items(conn, [item("edge", "hub", "sales", last_us - dt.timedelta(hours=1), resolved=last_us)])
        store.insert_kpi_observations(conn, [dict(kpi_id="revenue", ts=last_us, value=1.0)])
        assert conn.execute(select(flow_hourly.c.hour).where(flow_hourly.c.resolved == 1)).scalar_one() == to_hour(last_us)
        assert_rollups_match_rebuild(conn)


# --- transitions --------------------------------------------------------------------------------------------


def _resolved_count(conn) -> int:
    return conn.execute(select(func.coalesce(func.sum(flow_hourly.c.resolved), 0))).scalar_one()


def test_transitions_move_the_resolution_in_and_out_of_the_rollup_and_refuse_bad_moves(org):
    with org.begin() as conn:
        store.insert_work_items(conn, [item("a", "hub", "sales", NOW - dt.timedelta(hours=3))])
        with pytest.raises(store.UnknownItemError, match="nope"):
            store.transition_item(conn, "nope", expected_version=1, status="resolved", at=NOW, by="u")
        with pytest.raises(store.InvalidTransitionError, match="routed to new"):
            store.transition_item(conn, "a", expected_version=1, status="new", at=NOW, by="u")
        with pytest.raises(store.InvalidTransitionError, match="unknown status"):
            store.transition_item(conn, "a", expected_version=1, status="done", at=NOW, by="u")
        with pytest.raises(store.InvalidTransitionError, match="before it was created"):
            store.transition_item(conn, "a", expected_version=1, status="resolved", at=NOW - dt.timedelta(days=1), by="u")
        assert conn.execute(select(work_items.c.version, work_items.c.status)).one() == (1, "routed")
        r = store.transition_item(conn, "a", expected_version=1, status="accepted", at=NOW - dt.timedelta(hours=2), by="u")
        assert r.ok and r.version == 2 and r.item["accepted_at"] == NOW - dt.timedelta(hours=2)
        r = store.transition_item(conn, "a", expected_version=2, status="resolved", at=NOW, by="u", note="done")
        assert r.ok and r.item["resolved_at"] == NOW and r.item["note"] == "done"
        assert _resolved_count(conn) == 1
        r = store.transition_item(conn, "a", expected_version=3, status="handed_back", at=NOW, by="u")
        assert r.ok and r.item["resolved_at"] is None
        assert _resolved_count(conn) == 0
        assert_rollups_match_rebuild(conn)


def test_a_stale_version_is_refused_and_the_first_edit_survives(org):
    with org.begin() as conn:
        store.insert_work_items(conn, [item("a", "hub", "sales", NOW - dt.timedelta(hours=3))])
    with org.begin() as alice:
        assert store.transition_item(alice, "a", expected_version=1, status="resolved", at=NOW, by="alice").ok
    with org.begin() as bob:  # still holds version 1
        result = store.transition_item(bob, "a", expected_version=1, status="handed_back", at=NOW, by="bob")
    assert result.conflict
    assert (result.item["status"], result.item["version"], result.item["updated_by"]) == ("resolved", 2, "alice")
    with org.begin() as conn:
        assert conn.execute(select(work_items.c.status, work_items.c.version)).one() == ("resolved", 2)
        assert _resolved_count(conn) == 1
        assert_rollups_match_rebuild(conn)


def test_concurrent_transitions_on_one_version_let_exactly_one_through(org):
    """Bob's write waits for Alice's open transaction; afterwards he is refused, never silently applied."""
    with org.begin() as conn:
        store.insert_work_items(conn, [item("a", "hub", "sales", NOW - dt.timedelta(hours=3))])
    outcome: dict[str, object] = {}

    def bob() -> None:
        try:
            with org.begin() as conn:
                outcome["result"] = store.transition_item(conn, "a", expected_version=1, status="accepted", at=NOW, by="bob")
        except OperationalError as exc:  # SQLite: the stale snapshot cannot write ("database is locked")
            outcome["error"] = exc

    with org.begin() as alice:
        assert store.transition_item(alice, "a", expected_version=1, status="resolved", at=NOW, by="alice").ok
        worker = threading.Thread(target=bob)
        worker.start()
        time.sleep(0.5)  # bob is now blocked on alice's row lock / write lock
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert "error" in outcome or outcome["result"].conflict
    with org.begin() as conn:
        assert conn.execute(select(work_items.c.status, work_items.c.version, work_items.c.updated_by)).one() == (
            "resolved", 2, "alice")
        assert_rollups_match_rebuild(conn)


# --- inserts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad, message", [
    (dict(status="resolved"), "status resolved without resolved_at"),
    (dict(resolved_at=NOW, status="routed"), "resolved_at set but status is not resolved"),
    (dict(kind="gossip"), "kind not one of"),
    (dict(target_unit="marketing"), "unknown unit"),
    (dict(resolved_at=NOW - dt.timedelta(days=3), status="resolved"), "resolved before created"),
    (dict(sla_hours=None), "sla_hours missing"),
])
def test_malformed_work_items_are_rejected_and_nothing_is_written(sqlite_engine, bad, message):
    """Validation runs before anything reaches the database, so one engine is enough here."""
    with sqlite_engine.begin() as conn:
        tiny_org(conn)
    good = item("ok", "hub", "sales", NOW - dt.timedelta(hours=1))
    with sqlite_engine.begin() as conn, pytest.raises(store.InvalidRowsError, match=message):
        store.insert_work_items(conn, [good, item("bad", "hub", "sales", NOW - dt.timedelta(hours=2)) | bad])
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar_one() == 0


def test_duplicate_ids_raise_by_default_and_are_skipped_on_request(org):
    rows = [item(f"x{i}", "hub", "sales", NOW - dt.timedelta(hours=i), resolved=NOW, value=10.0) for i in range(1, 4)]
    with org.begin() as conn:
        store.insert_work_items(conn, rows)
        before = rollups(conn)[0]
        assert store.insert_work_items(conn, rows + [item("x9", "hub", "sales", NOW)], on_duplicate="skip") == 1
        with pytest.raises(store.InvalidRowsError, match="duplicate id"):
            store.insert_work_items(conn, [rows[0], rows[0]])
        after = rollups(conn)[0]
        assert after.created.sum() == before.created.sum() + 1
        assert_rollups_match_rebuild(conn)
    with pytest.raises(IntegrityError), org.begin() as conn:  # an id already stored: the whole write fails
        store.insert_work_items(conn, [item("new", "hub", "sales", NOW), rows[0]])
    with org.connect() as conn:
        assert conn.execute(select(func.count()).select_from(work_items)).scalar_one() == 4
        assert rollups(conn)[0].created.sum() == 4


def test_duplicate_kpi_observations_are_ignored_and_late_ones_do_not_become_the_latest(org):
    obs = [dict(kpi_id="revenue", ts=NOW - dt.timedelta(minutes=m), value=float(m)) for m in (5, 10, 70)]
    with org.begin() as conn:
        assert store.insert_kpi_observations(conn, obs + [obs[0]]) == 3  # a repeat inside the input
        assert store.insert_kpi_observations(conn, obs) == 0  # all already stored
        assert store.insert_kpi_observations(conn, obs[:1] + [dict(kpi_id="revenue", ts=NOW, value=1.0)]) == 1
        assert conn.execute(select(func.sum(kpi_hourly.c.n))).scalar_one() == 4
        latest = conn.execute(select(kpi_hourly.c.last_ts, kpi_hourly.c.last_value)
                              .where(kpi_hourly.c.hour == to_hour(NOW))).one()
        assert latest == (NOW, 1.0)
        # a late observation (earlier ts) adds to n and sum but does not become the hour's latest value
        store.insert_kpi_observations(conn, [dict(kpi_id="cost", ts=NOW, value=5.0)])
        store.insert_kpi_observations(conn, [dict(kpi_id="cost", ts=NOW - dt.timedelta(minutes=20), value=9.0)])
        row = conn.execute(select(kpi_hourly).where(kpi_hourly.c.kpi_id == "cost")).mappings().one()
        assert (row["n"], row["sum"], row["last_ts"], row["last_value"]) == (2, 14.0, NOW, 5.0)
        assert_rollups_match_rebuild(conn)


# --- timestamps ---------------------------------------------------------------------------------------------


def test_timestamps_round_trip_as_aware_utc_whatever_zone_they_came_in(org):
    berlin = dt.datetime(2026, 7, 1, 14, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))  # 12:30:15 UTC
    naive_utc = dt.datetime(2026, 7, 1, 13, 0, 0, 7)
    with org.begin() as conn:
        store.insert_work_items(conn, [
            item("tz", "hub", "sales", berlin, resolved=naive_utc, sla_hours=1.5),
        ])
        store.insert_kpi_observations(conn, [dict(kpi_id="revenue", ts=berlin, value=1.0)])
    with org.connect() as conn:
        row = conn.execute(select(work_items).where(work_items.c.id == "tz")).mappings().one()
        assert row["created_at"] == berlin and row["created_at"].tzinfo == UTC
        assert row["resolved_at"] == naive_utc.replace(tzinfo=UTC)
        assert row["due_at"] == berlin + dt.timedelta(hours=1.5)
        # a bound parameter written by SQLAlchemy compares equal to the value the fast path wrote
        assert conn.execute(select(func.count()).where(work_items.c.created_at == berlin)).scalar_one() == 1
        ts = conn.execute(select(kpi_observations.c.ts)).scalar_one()
        assert ts == berlin and ts.tzinfo == UTC
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("SELECT created_at FROM work_items")).scalar_one() == "2026-07-01 12:30:15.123456"


# --- reference data -----------------------------------------------------------------------------------------


def test_upserts_update_in_place_and_meta_round_trips(org):
    with org.begin() as conn:
        store.upsert_units(conn, [dict(id="sales", name="Sales EMEA", kind="spoke", headcount=25, cost_per_fte=1)])
        store.upsert_kpis(conn, [  # child before parent in the input: the store orders them
            dict(id="child", unit_id="hub", name="Child", unit_of_measure="count", direction="higher", parent_id="parent"),
            dict(id="parent", unit_id="hub", name="Parent", unit_of_measure="count", direction="higher"),
        ])
        store.upsert_campaigns(conn, [dict(channel="email", period_start=dt.date(2026, 11, 16),
                                           period_end=dt.date(2026, 11, 22), budget=10.0, spend=5.0)] * 1)
        store.upsert_campaigns(conn, [dict(channel="email", period_start=dt.date(2026, 11, 16),
                                           period_end=dt.date(2026, 11, 22), budget=10.0, spend=7.0)])
        store.set_meta(conn, "dataset", "demo")
        store.set_meta(conn, "dataset", "import")
        assert store.get_meta(conn, "dataset") == "import"
        assert store.get_meta(conn, "missing", "x") == "x"
        assert conn.execute(text("SELECT name, headcount FROM units WHERE id = 'sales'")).one() == ("Sales EMEA", 25)
        assert conn.execute(text("SELECT count(*), max(spend) FROM campaigns")).one() == (1, 7.0)
    with org.begin() as conn, pytest.raises(store.InvalidRowsError, match="cycle"):
        store.upsert_kpis(conn, [
            dict(id="p", unit_id="hub", name="P", unit_of_measure="count", direction="higher", parent_id="q"),
            dict(id="q", unit_id="hub", name="Q", unit_of_measure="count", direction="higher", parent_id="p"),
        ])


# --- bulk loads: indexes built afterwards, COPY as CSV ------------------------------------------------------


def _index_names(conn, table: str) -> set[str]:
    from sqlalchemy import inspect

    return {ix["name"] for ix in inspect(conn).get_indexes(table)}


def _fk_names(conn, table: str) -> set[str]:
    from sqlalchemy import inspect

    return {fk["name"] for fk in inspect(conn).get_foreign_keys(table)}


AWKWARD_TEXTS = ["", None, 'say "hi", then\nleave', "=HYPERLINK(\"x\")", "naïve café ☕", "\\N", "a\\tb", "NULL"]


def test_a_bulk_load_into_an_empty_table_builds_indexes_afterwards_and_keeps_every_value(org, monkeypatch):
    monkeypatch.setattr(store.bulk, "BULK_INDEX_ROWS", 5)
    with org.connect() as conn:
        indexes, fks = _index_names(conn, "work_items"), _fk_names(conn, "work_items")
    assert {"ix_work_items_open", "ix_work_items_created"} <= indexes
    rows = [item(f"b{i}", *ROUTES[i % 3][:2], NOW - dt.timedelta(hours=i), kind=ROUTES[i % 3][2],
                 resolved=NOW - dt.timedelta(hours=i) + dt.timedelta(minutes=30) if i % 2 else None)
            | {"text": AWKWARD_TEXTS[i % len(AWKWARD_TEXTS)], "topic": None if i % 3 else ""}
            for i in range(40)]
    with org.begin() as conn:
        calls = []
        real = store.deferred_indexes

        @contextmanager
        def spy(c, table, n):
            with real(c, table, n) as deferred:
                calls.append((table.name, n, deferred))
                yield deferred

        monkeypatch.setattr(store.inserts, "deferred_indexes", spy)  # where insert_work_items looks it up
        store.set_meta(conn, "bulk", "test")  # a write first, as the demo's emptying of the tables is
        assert store.insert_work_items(conn, rows) == 40
    assert calls == [("work_items", 40, True)]
    with org.connect() as conn:
        assert _index_names(conn, "work_items") == indexes and _fk_names(conn, "work_items") == fks
        got = dict(conn.execute(select(work_items.c.id, work_items.c.text)).all())
        topics = dict(conn.execute(select(work_items.c.id, work_items.c.topic)).all())
        assert_rollups_match_rebuild(conn)
    assert got == {r["id"]: r["text"] for r in rows}  # "" stays "", None stays NULL, quotes/newlines/\N survive
    assert topics == {r["id"]: r["topic"] for r in rows}


def test_a_failed_bulk_load_leaves_the_indexes_and_nothing_else(org, monkeypatch):
    monkeypatch.setattr(store.bulk, "BULK_INDEX_ROWS", 5)
    rows = [item(f"f{i}", "hub", "sales", NOW - dt.timedelta(hours=i)) for i in range(10)]
    rows.append(item("f10", "hub", "nowhere", NOW))  # an unknown unit the foreign key must refuse
    with org.connect() as conn:
        before = _index_names(conn, "work_items")
    with pytest.raises(IntegrityError):  # SQLite: at the row; PostgreSQL: when the foreign key is re-added
        with org.begin() as conn:
            store.set_meta(conn, "bulk", "test")
            store.insert_work_items(conn, rows, batch_size=4, check_units=False)
    with org.connect() as conn:
        assert _index_names(conn, "work_items") == before
        assert conn.execute(select(func.count()).select_from(work_items)).scalar() == 0


def test_a_load_into_a_table_that_has_rows_keeps_its_indexes_in_place(org, monkeypatch):
    monkeypatch.setattr(store.bulk, "BULK_INDEX_ROWS", 1)
    with org.begin() as conn:
        if conn.dialect.name == "sqlite":  # no write yet, so no transaction: DDL would commit on its own
            with store.deferred_indexes(conn, work_items, 100) as deferred:
                assert not deferred
        store.insert_work_items(conn, [item("first", "hub", "sales", NOW)])
        with store.deferred_indexes(conn, work_items, 100) as deferred:
            assert not deferred  # not empty: indexes are maintained row by row as usual
            assert "ix_work_items_open" in _index_names(conn, "work_items")


def test_an_update_from_rows_without_some_columns_keeps_their_stored_values_in_the_rows_and_rollups(org):
    """A file without ``value`` (or ``text``) means "unchanged": the stored value stays, and so does its share of
    flow_hourly.created_value (the update's rollup delta must not treat the missing column as empty)."""
    first = [item("v-1", "hub", "sales", at(30), value=1200.0),
             item("v-2", "hub", "sales", at(29), resolved=at(27), value=80.5) | {"text": "keep me"},
             item("v-3", "sales", "hub", at(10), kind="request", value=None)]
    with org.begin() as conn:
        store.insert_work_items(conn, first)
    # the same items updated from a file with neither value nor text: v-1 resolved, v-2 re-opened, v-3 moved
    # to another hour; the items are changed (status, times), so their rollup contributions are moved
    without = [{k: v for k, v in row.items() if k not in ("value", "text")} for row in first]
    without[0] |= dict(resolved_at=at(28), status="resolved")
    without[1] |= dict(resolved_at=None, status="accepted", accepted_at=at(28.5))
    without[2] |= dict(created_at=at(5), routed_at=at(5))
    with org.begin() as conn:
        counts = store.upsert_work_items(conn, without, written_by="import")
        assert (counts.inserted, counts.updated, counts.unchanged) == (0, 3, 0)
        stored = dict(conn.execute(select(work_items.c.id, work_items.c.value)).all())
        texts = dict(conn.execute(select(work_items.c.id, work_items.c.text)).all())
        created_value = conn.execute(select(func.sum(flow_hourly.c.created_value))).scalar_one()
        assert_rollups_match_rebuild(conn)
    assert stored == {"v-1": 1200.0, "v-2": 80.5, "v-3": None} and texts["v-2"] == "keep me"
    assert float(created_value) == pytest.approx(1280.5)
    # a file that does carry value changes it, and the rollup follows
    with org.begin() as conn:
        store.upsert_work_items(conn, [without[0] | {"value": 900.0}], written_by="import")
        assert float(conn.execute(select(func.sum(flow_hourly.c.created_value))).scalar_one()) == pytest.approx(980.5)
        assert_rollups_match_rebuild(conn)
    # a file without resolved_at says the item is not resolved (a resolved status needs it): v-4 is re-opened
    # in the rows and out of the resolution columns of the rollup alike
    with org.begin() as conn:
        store.insert_work_items(conn, [item("v-4", "hub", "finance", at(40), kind="report", resolved=at(20), value=7.0)])
        reopened = {k: v for k, v in item("v-4", "hub", "finance", at(40), kind="report").items()
                    if k not in ("value", "resolved_at")} | {"status": "accepted"}
        assert store.upsert_work_items(conn, [reopened]).updated == 1
        row = conn.execute(select(work_items.c.status, work_items.c.resolved_at, work_items.c.value)
                           .where(work_items.c.id == "v-4")).one()
        assert tuple(row) == ("accepted", None, 7.0)
        assert_rollups_match_rebuild(conn)
