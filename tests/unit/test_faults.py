"""Faults, with real parts: a PostgreSQL server that goes away and comes back, a simulator killed mid-batch,
a read-only SQLite file and a full one — and the sentences dashboard.errors makes of what the drivers raise.

The PostgreSQL outages use their own throwaway server (``outage_pg``), never the session one other tests share.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import QueuePool

from dashboard import errors
from dashboard.db import audit_log, imports, make_engine, migrate, work_items
from dashboard.domain.access import Role, Viewer
from dashboard.services.items import act
from loaders import __main__ as cli
from loaders import demo, simulate
from tests.factories import sample_database
from tests.pg import TempPostgres, skip_without_postgres
from tests.unit.test_demo import ROOT
from tests.unit.test_store import assert_rollups_match_rebuild

UTC = dt.UTC
SAMPLES = ROOT / "loaders" / "samples"
LEAD = Viewer("lee", Role.SPOKE_LEAD, unit="sales")


@pytest.fixture(scope="module")
def outage_pg():
    """A PostgreSQL server of this module's own: the tests stop and restart it."""
    if not shutil.which("runuser") and os.geteuid() == 0:  # pragma: no cover - Debian always has it
        pytest.skip("runuser is missing")
    skip_without_postgres()
    server = TempPostgres().start()
    try:
        yield server
    finally:
        server.cleanup()


def new_database(server: TempPostgres, name: str) -> str:
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url(name)


def read_only(url: str) -> str:
    """The same SQLite file through a read-only connection (we run as root, so chmod would not stop writes)."""
    return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"


def write(eng, sql: str) -> None:
    with eng.begin() as conn:
        conn.execute(text(sql))


def caught(fn) -> BaseException:
    try:
        fn()
    except errors.DATABASE_ERRORS as exc:
        return exc
    raise AssertionError("no database error was raised")


# --- dashboard.errors on what real drivers raise ------------------------------------------------------------


def test_refused_postgres_is_unreachable_and_the_password_is_not_shown():
    eng = create_engine("postgresql+psycopg://admin:hunter2@127.0.0.1:9/db", connect_args={"connect_timeout": 2})
    exc = caught(eng.connect)
    message = errors.explain(exc, url="postgresql+psycopg://admin:hunter2@127.0.0.1:9/db")
    assert errors.kind(exc) == "unreachable" and errors.is_connection_loss(exc)
    assert message.startswith("Cannot reach the database at `postgresql+psycopg://admin:***@127.0.0.1:9/db`")
    assert "Connection refused" in message and "hunter2" not in message and "DASHBOARD_DATABASE_URL" in message


def test_postgres_errors_from_a_real_server(outage_pg):
    url = new_database(outage_pg, "explain")
    eng = make_engine(url)
    migrate(eng)
    other = make_engine(url)

    def read_only_write():
        with eng.begin() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            conn.execute(text("INSERT INTO app_meta (key, value) VALUES ('x', 'y')"))

    exc = caught(read_only_write)
    assert errors.kind(exc) == "read_only" and not errors.is_connection_loss(exc)
    assert "it is read-only" in errors.explain(exc) and "standby" in errors.explain(exc)

    def terminated():  # an admin (or a failover) ends our session: SQLSTATE 57P01
        with other.connect() as victim:
            pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with eng.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            victim.execute(text("SELECT 1"))

    exc = caught(terminated)
    assert errors.kind(exc) == "unreachable", exc
    eng.dispose()
    other.dispose()


def test_postgres_disk_full_on_a_tiny_tablespace(outage_pg):
    """SQLSTATE 53100 for real: a table on a 1 MB tmpfs (skipped where mounting is not allowed)."""
    base = Path(tempfile.mkdtemp(prefix="hubspoke-tiny-"))  # pytest's tmp_path is private to root
    os.chmod(base, 0o755)
    where = base / "tiny"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        shutil.chown(where, "postgres", "postgres")
        admin = create_engine(outage_pg.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE TABLESPACE tiny LOCATION '{where}'"))
            conn.execute(text("CREATE TABLE filler (x text) TABLESPACE tiny"))

        def fill():
            with admin.connect() as conn:
                conn.execute(text("INSERT INTO filler SELECT repeat(md5(i::text), 20) FROM generate_series(1, 100000) i"))

        exc = caught(fill)
        assert errors.kind(exc) == "disk_full", exc
        assert "its disk is full" in errors.explain(exc) and "Free space" in errors.explain(exc)
        with admin.connect() as conn:
            conn.execute(text("DROP TABLE filler"))
            conn.execute(text("DROP TABLESPACE tiny"))
        admin.dispose()
    finally:
        subprocess.run(["umount", str(where)], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_sqlite_errors_from_the_real_driver(tmp_path):
    url = sample_database(tmp_path / "hub.db")
    ro = make_engine(read_only(url))
    exc = caught(lambda: write(ro, "DELETE FROM work_items"))
    assert errors.kind(exc) == "read_only" and "attempt to write a readonly database" in errors.explain(exc)
    ro.dispose()

    full = make_engine(url)
    event.listen(full, "connect", lambda dbapi, _rec: dbapi.execute("PRAGMA max_page_count = 1"))
    exc = caught(lambda: write(full, "INSERT INTO audit_log (at, user, role, action) SELECT at, user, role, action FROM audit_log UNION ALL SELECT datetime(), hex(randomblob(2000)), 'admin', 'x' FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) SELECT i FROM n)"))
    assert errors.kind(exc) == "disk_full" and "database or disk is full" in errors.explain(exc)
    full.dispose()

    missing = make_engine(f"sqlite:///file:{tmp_path / 'no' / 'such.db'}?mode=ro&uri=true")
    exc = caught(missing.connect)
    assert errors.kind(exc) == "cannot_open" and "Cannot open the database" in errors.explain(exc)

    holder = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        impatient = create_engine(url, connect_args={"timeout": 0.1})
        exc = caught(lambda: write(impatient, "DELETE FROM app_meta"))
        assert errors.kind(exc) == "locked" and "locked" in errors.explain(exc)
        impatient.dispose()
    finally:
        holder.rollback()
        holder.close()


def test_a_pool_with_every_connection_busy_is_reported_as_busy(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'p.db'}", pool_size=1, max_overflow=0, pool_timeout=0.1,
                        poolclass=QueuePool)
    with eng.connect():
        exc = caught(eng.connect)
    assert errors.kind(exc) == "busy" and "DASHBOARD_POOL_SIZE" in errors.explain(exc)


# --- read-only and full SQLite files: the real write paths ---------------------------------------------------


def counts(url: str) -> tuple[int, int, int]:
    eng = make_engine(url)
    with eng.connect() as conn:
        out = tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (work_items, imports, audit_log))
    eng.dispose()
    return out


def assert_intact(url: str) -> None:
    eng = make_engine(url)
    with eng.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert_rollups_match_rebuild(conn)
    eng.dispose()


def test_cli_ingest_into_a_read_only_database_says_so_and_writes_nothing(tmp_path, env, capsys):
    url = sample_database(tmp_path / "hub.db")
    before = counts(url)
    code = cli.main(["ingest", str(SAMPLES / "work_items.csv"), "--database-url", read_only(url)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG
    assert err.startswith("error: cannot use the database at sqlite:///file:") and err.count("\n") == 1, err
    assert "it is read-only (attempt to write a readonly database)" in err and "rolled back" in err
    assert "Traceback" not in err
    assert counts(url) == before
    assert_intact(url)


def test_an_inbox_action_on_a_read_only_database_reports_each_item_not_done_and_changes_nothing(tmp_path):
    url = sample_database(tmp_path / "hub.db")
    before = counts(url)
    ro = make_engine(read_only(url))
    outs = act(ro, LEAD, "sales", [("open-0", 1), ("open-1", 1)], "resolve")
    ro.dispose()
    assert [(o.ok, o.failed) for o in outs] == [(False, True), (False, True)]
    assert outs[0].message.startswith("open-0 was not resolved: Cannot write to the database: it is read-only")
    assert outs[1].message == "open-1 was not resolved: not tried after the database failed on open-0."
    assert counts(url) == before
    eng = make_engine(url)
    with eng.connect() as conn:
        assert conn.execute(select(work_items.c.status).where(work_items.c.id == "open-0")).scalar_one() == "routed"
    eng.dispose()


def big_work_items_csv(path, n: int) -> None:
    now = dt.datetime.now(UTC)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "kind", "source_unit", "target_unit", "channel", "topic", "text", "created_at", "routed_at",
                    "accepted_at", "resolved_at", "status", "sla_hours", "value"])
        for i in range(n):
            created = now - dt.timedelta(minutes=5 * i + 30)
            resolved = (created + dt.timedelta(hours=2)).isoformat() if i % 2 else ""
            w.writerow([f"BIG-{i:06d}", "lead", "hub", "sales", "web", "pricing", f"lead number {i} " * 4,
                        created.isoformat(), created.isoformat(), "", resolved, "resolved" if i % 2 else "routed",
                        24, 100 + i])


def test_disk_full_during_an_import_writes_nothing_and_leaves_the_database_intact(tmp_path, env, capsys, monkeypatch):
    url = sample_database(tmp_path / "hub.db")
    big = tmp_path / "big.csv"
    big_work_items_csv(big, 20_000)
    before = counts(url)
    con = sqlite3.connect(tmp_path / "hub.db")
    limit = con.execute("PRAGMA page_count").fetchone()[0] + 40  # room for the import's first rows, not all of them
    con.close()
    real = cli.make_engine

    def small_disk(u, **kw):  # the CLI's own engine, on a "disk" that is full after `limit` pages
        eng = real(u, **kw)
        event.listen(eng, "connect", lambda dbapi, _rec: dbapi.execute(f"PRAGMA max_page_count = {limit}"))
        return eng

    monkeypatch.setattr(cli, "make_engine", small_disk)
    code = cli.main(["ingest", str(big), "--database-url", url])
    err = capsys.readouterr().err
    assert code == cli.EXIT_CONFIG
    assert "its disk is full (database or disk is full)" in err and "Free space" in err and "Traceback" not in err
    after = counts(url)  # the whole file is one transaction: no item, no audit line; the failure is on record
    assert (after[0], after[2]) == (before[0], before[2]) and after[1] == before[1] + 1
    eng = make_engine(url)
    with eng.connect() as conn:
        failed = conn.execute(select(imports.c.status, imports.c.inserted, imports.c.message)
                              .order_by(imports.c.id.desc()).limit(1)).one()
    eng.dispose()
    assert failed.status == "failed" and failed.inserted == 0 and "disk is full" in (failed.message or "")
    assert_intact(url)
    monkeypatch.setattr(cli, "make_engine", real)
    assert cli.main(["ingest", str(big), "--database-url", url]) == 0  # with room, the same file goes in
    assert counts(url)[0] == before[0] + 20_000
    assert_intact(url)


# --- the simulator: killed mid-batch, and across a PostgreSQL outage ----------------------------------------


def sim_items(url: str) -> int:
    eng = make_engine(url)
    with eng.connect() as conn:
        n = conn.execute(select(func.count()).where(work_items.c.id.like("sim-%"))).scalar_one()
    eng.dispose()
    return n


def assert_items_consistent(url: str) -> None:
    """Every item's status agrees with its timestamps (a half-applied move would not)."""
    eng = make_engine(url)
    wi = work_items.c
    with eng.connect() as conn:
        bad = conn.execute(select(func.count()).where(
            ((wi.status == "resolved") != wi.resolved_at.is_not(None))
            | ((wi.status == "accepted") & wi.accepted_at.is_(None))
            | ((wi.status == "routed") & wi.routed_at.is_(None))
            | (wi.version < 1)
        )).scalar_one()
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        assert_rollups_match_rebuild(conn)
    eng.dispose()
    assert bad == 0


def test_sigkill_mid_batch_leaves_no_partial_batch(db_url):
    eng = make_engine(db_url)
    demo.load_demo(eng, work_items=800, kpi_observations=400)
    eng.dispose()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")} | {"PYTHONPATH": str(ROOT)}
    rnd = random.Random(11)
    for attempt in range(3):
        before = sim_items(db_url)
        proc = subprocess.Popen(
            [sys.executable, "-m", "loaders", "simulate", "--database-url", db_url, "--rate", "60000", "--tick", "0.05",
             "--report-every", "1", "--seed", str(attempt)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean, cwd=ROOT / "tests",
        )
        try:
            first = proc.stdout.readline()  # one batch has committed; the next ones are being written
            assert first.startswith("simulate: batch 1:"), first + proc.stderr.read()
            time.sleep(rnd.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            out, _ = proc.communicate(timeout=20)
        finally:
            proc.kill()
        assert proc.returncode == -signal.SIGKILL
        reported = sum(int(line.split("+")[1].split()[0]) for line in [first, *out.splitlines()] if "batch" in line)
        assert sim_items(db_url) - before >= reported > 0  # every batch it reported is there, whole
        assert_items_consistent(db_url)


def test_the_simulator_waits_through_a_postgres_outage_and_carries_on(outage_pg):
    url = new_database(outage_pg, "sim_outage")
    eng = make_engine(url)
    migrate(eng)
    demo.load_demo(eng, work_items=800, kpi_observations=400)
    lines: list[str] = []
    stop, failure = threading.Event(), []

    def feed():
        try:
            simulate.run(eng, rate_per_min=3000, tick=0.2, seed=9, report_every=1, stop=stop, out=lines.append)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failure.append(exc)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not any("batch 2:" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.05)
        outage_pg.stop()
        down = time.monotonic()
        # three times as long as MAX_FAILED_BATCHES failed batches at this tick (10 x 0.2 s): a lost connection is
        # waited through, never counted as a failed batch
        time.sleep(3 * simulate.MAX_FAILED_BATCHES * 0.2)
        unreachable = [line for line in lines if "database unreachable" in line]
        assert len(unreachable) >= 3 and not failure, lines[-5:]
        assert "retrying in" in unreachable[-1]
        outage_pg.restart()
        print(f"outage lasted {time.monotonic() - down:.1f} s")
        before = sim_items(url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sim_items(url) <= before:
            time.sleep(0.2)
        assert sim_items(url) > before, lines[-5:]  # batches written after the restart
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failure and not thread.is_alive()
    assert any("answers again" in line for line in lines)
    assert_items_consistent(url)
    eng.dispose()
