"""Writers that race each other lose nothing and leave the rollups equal to a rebuild, on a real PostgreSQL server
(row locks, one lock order) and a real SQLite file (one writer at a time); a transaction that lost a race as a
whole (deadlock, lock wait past its limit) is run again by dashboard.db.write_transaction.

The interleavings are forced, not hoped for: one writer holds its transaction open, the other is started in a
thread and the test waits until the server reports it waiting on a lock (pg_stat_activity), then lets the first
one commit.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from dashboard import errors, store
from dashboard.db import make_engine, work_items, write_transaction
from tests.factories import NOW, item, tiny_org
from tests.unit.test_store import assert_rollups_match_rebuild

WAIT_S = 20  # the longest any step may take before the test gives up


@pytest.fixture
def pg_org(pg_url):
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            item("x", "hub", "sales", NOW - dt.timedelta(hours=5), value=100.0),
            item("y", "hub", "sales", NOW - dt.timedelta(hours=4), value=10.0),
            item("z", "sales", "hub", NOW - dt.timedelta(hours=3), kind="request"),
        ])
    yield engine
    engine.dispose()


def waiting_on_a_lock(engine, outcome: dict, count: int = 1) -> None:
    """Return once ``count`` other sessions of this database wait on a lock (bounded); fail at once with the
    writer's error if it stopped instead."""
    deadline = time.monotonic() + WAIT_S
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            assert "error" not in outcome, outcome["error"]
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar_one()
            conn.rollback()  # pg_stat_activity is a snapshot per transaction: take a fresh one each time
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"no session started waiting on a lock within {WAIT_S} s")


def in_thread(work) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:  # noqa: BLE001 - the test asserts on what happened
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def finished(thread: threading.Thread, outcome: dict):
    thread.join(WAIT_S)
    assert not thread.is_alive(), "the writer never finished"
    assert "error" not in outcome, outcome.get("error")
    return outcome.get("result")


def stored(engine, item_id: str):
    with engine.connect() as conn:
        return conn.execute(select(work_items.c.status, work_items.c.version, work_items.c.text)
                            .where(work_items.c.id == item_id)).one()


def imported_row(**changes) -> dict:
    return item("x", "hub", "sales", NOW - dt.timedelta(hours=5), value=100.0) | changes


def test_an_import_that_waits_for_an_inbox_action_reads_the_row_the_action_wrote(pg_org):
    """A spoke lead resolves x while an import of x is under way: the import waits for the lock, then compares
    the file with the resolved row, so the rollups take out the resolution it replaces (no drift)."""
    with pg_org.begin() as lead:
        assert store.transition_item(lead, "x", expected_version=1, status="resolved", at=NOW, by="lead").ok
        thread, outcome = in_thread(lambda: write_transaction(
            pg_org, lambda conn: store.upsert_work_items(conn, [imported_row(text="from the file")], written_by="import")))
        waiting_on_a_lock(pg_org, outcome)
    counts = finished(thread, outcome)
    assert counts.updated == 1
    assert stored(pg_org, "x") == ("routed", 3, "from the file")  # serial: the action, then the import
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)


def test_an_inbox_action_that_waits_for_an_import_is_refused_not_applied_to_a_changed_item(pg_org):
    with pg_org.begin() as importing:
        store.upsert_work_items(importing, [imported_row(text="from the file")], written_by="import")
        thread, outcome = in_thread(lambda: write_transaction(pg_org, lambda conn: store.transition_item(
            conn, "x", expected_version=1, status="resolved", at=NOW, by="lead")))
        waiting_on_a_lock(pg_org, outcome)
    result = finished(thread, outcome)
    assert result.conflict and result.item["version"] == 2  # the lead is told someone changed it
    assert stored(pg_org, "x") == ("routed", 2, "from the file")
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)


def test_two_imports_of_the_same_items_in_opposite_orders_both_land(pg_org):
    """Rows are locked in id order whatever the file's order, so two imports never wait for each other in a
    circle: the second waits, then updates on top of the first."""
    first = [imported_row(text="first"), item("z", "sales", "hub", NOW - dt.timedelta(hours=3), kind="request")
             | {"text": "first"}]
    second = [dict(r, text="second") for r in reversed(first)]
    with pg_org.begin() as one:
        store.upsert_work_items(one, first, written_by="import-1")
        thread, outcome = in_thread(lambda: write_transaction(
            pg_org, lambda conn: store.upsert_work_items(conn, second, written_by="import-2"), attempts=1))
        waiting_on_a_lock(pg_org, outcome)
    counts = finished(thread, outcome)
    assert counts.updated == 2
    assert stored(pg_org, "x") == ("routed", 3, "second") and stored(pg_org, "z") == ("routed", 3, "second")
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)


def test_a_real_deadlock_is_run_again_and_both_writers_land(pg_org):
    """Two transactions lock x and y in opposite orders: PostgreSQL cancels one (40P01); write_transaction runs
    it again and it succeeds once the other committed."""
    both_hold_one = threading.Barrier(2, timeout=WAIT_S)
    attempts = {"a": 0, "b": 0}

    def writer(name: str, first: str, second: str):
        def work(conn):
            attempts[name] += 1
            conn.execute(text("SELECT 1 FROM work_items WHERE id = :id FOR UPDATE"), {"id": first})
            if attempts[name] == 1:
                both_hold_one.wait()
            conn.execute(text("UPDATE work_items SET text = :t WHERE id = :id"), {"t": name, "id": second})
            return attempts[name]
        return lambda: write_transaction(pg_org, work, first_delay=0.01)

    a, out_a = in_thread(writer("a", "x", "y"))
    b, out_b = in_thread(writer("b", "y", "x"))
    assert finished(a, out_a) >= 1 and finished(b, out_b) >= 1
    # one was cancelled and ran again (on a busy machine its retry can collide once more before the other commits)
    assert max(attempts.values()) >= 2
    assert (stored(pg_org, "x").text, stored(pg_org, "y").text) == ("b", "a")  # both writers' updates landed


def test_the_deadlock_victim_is_told_it_was_a_conflict_when_retries_run_out(pg_org):
    both_hold_one = threading.Barrier(2, timeout=WAIT_S)

    def writer(first: str, second: str):
        def work(conn):
            conn.execute(text("SELECT 1 FROM work_items WHERE id = :id FOR UPDATE"), {"id": first})
            both_hold_one.wait()
            conn.execute(text("SELECT 1 FROM work_items WHERE id = :id FOR UPDATE"), {"id": second})
        return lambda: write_transaction(pg_org, work, attempts=1)

    a, out_a = in_thread(writer("x", "y"))
    b, out_b = in_thread(writer("y", "x"))
    a.join(WAIT_S), b.join(WAIT_S)
    failures = [o["error"] for o in (out_a, out_b) if "error" in o]
    assert len(failures) == 1 and isinstance(failures[0], DBAPIError)
    assert errors.kind(failures[0]) == "conflict" and errors.is_transient(failures[0])
    assert "Try again in a moment." in errors.explain(failures[0])


def test_sqlite_a_write_locked_out_past_the_busy_timeout_runs_again(tmp_path):
    path = tmp_path / "busy.db"
    setup = make_engine(f"sqlite:///{path}")
    with setup.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    setup.dispose()
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05})
    waits: list[float] = []

    def release(delay: float) -> None:  # the other process finishes while this one backs off
        waits.append(delay)
        holder.execute("COMMIT")

    write_transaction(engine, lambda conn: conn.execute(text("INSERT INTO t VALUES (1)")), sleep=release)
    assert len(waits) == 1 and waits[0] > 0
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    engine.dispose()
    holder.close()


def test_a_failure_that_is_not_a_lost_race_is_raised_at_once(sqlite_url):
    engine = make_engine(sqlite_url)
    runs = []

    def work(conn):
        runs.append(1)
        conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError):
        write_transaction(engine, work, sleep=lambda _s: pytest.fail("must not wait to retry"))
    assert runs == [1]


def test_an_import_of_new_items_another_import_is_inserting_updates_them_once_that_one_committed(pg_org, tmp_path):
    """Both imports see the ids as new; the second waits on the unique index, is refused when the first
    commits, and is run again (write_transaction): it then finds the rows and compares them, never failing."""
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.services.imports import ingest

    created = (NOW - dt.timedelta(hours=2)).isoformat()
    path = tmp_path / "new.csv"
    path.write_text("id,kind,source_unit,target_unit,channel,created_at,status,sla_hours,text\n"
                    + "".join(f"n{i},lead,hub,sales,web,{created},routed,4,from the file\n" for i in range(3)))
    with pg_org.begin() as other:
        store.upsert_work_items(other, [item(f"n{i}", "hub", "sales", NOW - dt.timedelta(hours=2)) | {"text": "other"}
                                        for i in range(3)], written_by="import-1")
        thread, outcome = in_thread(lambda: ingest(pg_org, path, viewer=LOCAL_ADMIN, tz=dt.UTC))
        waiting_on_a_lock(pg_org, outcome)
    report = finished(thread, outcome)
    assert (report.inserted, report.updated, report.quarantined) == (0, 3, 0)
    assert stored(pg_org, "n0") == ("routed", 2, "from the file")
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)
