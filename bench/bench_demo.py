"""Demo generation on SQLite, and the shared 1M-row benchmark database.

Figures (see docs/benchmarks.md):
- demo generation rate: work items per second for ``load_demo`` at 1M items (generate + insert + rollups +
  commit, one transaction) into a fresh SQLite file. Floor: a bare ``executemany`` of the very same row
  tuples into an index-free table in the same kind of file; the ratio shows what indexes, rollups,
  validation and generation cost on top of the driver.
- demo load 1M items + 1M KPI observations: wall time of a fresh ``build_bench_db`` (which also refreshes
  the cache the overview benchmark reuses, so its windows are anchored at about now).
- demo at the ``make run`` size (150k items, 60k observations).

``build_bench_db(path, ...)`` is the helper other benchmarks call: it reuses the file when its meta says
it holds the demo at that size, at the current schema revision and anchored recently enough.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import Figure

BENCH_SEED = 11
MAX_AGE = dt.timedelta(hours=6)  # older demos drift out of the overview's recent windows
TARGET_RATE = 100_000  # work items per second
BENCH_DIR = Path(os.environ.get("HUBSPOKE_BENCH_DIR", tempfile.gettempdir())) / "hubspoke-bench"


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _remove(path: Path) -> None:
    for p in _sqlite_files(path):
        p.unlink(missing_ok=True)


def _cached(url: str, request: str) -> bool:
    """True when the file holds the demo built for ``request``, at the head revision, anchored recently."""
    from alembic.config import Config
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from dashboard import store
    from dashboard.db import make_engine, schema_ready

    engine = make_engine(url)
    try:
        if not schema_ready(engine):
            return False
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "dashboard" / "migrations"))
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        with engine.connect() as conn:
            if set(MigrationContext.configure(conn).get_current_heads()) != heads:
                return False
            if store.get_meta(conn, "bench_request") != request:
                return False
            anchored = store.get_meta(conn, "demo_now")
        return anchored is not None and dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(anchored) < MAX_AGE
    finally:
        engine.dispose()


def _build(path: Path, work_items: int, kpi_observations: int):
    """A fresh SQLite file with the demo at this size; returns (url, DemoSummary with phase timings)."""
    from dashboard import store
    from dashboard.db import make_engine, migrate
    from loaders import demo

    path.parent.mkdir(parents=True, exist_ok=True)
    _remove(path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        migrate(engine)
        summary = demo.load_demo(engine, seed=BENCH_SEED, work_items=work_items, kpi_observations=kpi_observations)
        with engine.begin() as conn:
            store.set_meta(conn, "bench_request", _request(work_items, kpi_observations))
    finally:
        engine.dispose()
    return url, summary


def _request(work_items: int, kpi_observations: int) -> str:
    return f"seed={BENCH_SEED} work_items={work_items} kpi_observations={kpi_observations}"


def ensure_bench_db(path: str | Path, work_items: int = 1_000_000, kpi_observations: int = 1_000_000):
    """(URL, DemoSummary of the load or None when the file was reused) for a SQLite file holding the demo at
    this size."""
    path = Path(path)
    url = f"sqlite:///{path}"
    if path.exists() and _cached(url, _request(work_items, kpi_observations)):
        return url, None
    return _build(path, work_items, kpi_observations)


def build_bench_db(path: str | Path, work_items: int = 1_000_000, kpi_observations: int = 1_000_000) -> str:
    """A SQLite file holding the demo at this size; returns its URL. Reused when it still fits."""
    return ensure_bench_db(path, work_items, kpi_observations)[0]


def vacuum_analyze(engine) -> None:
    """VACUUM ANALYZE: statistics and the visibility map a live server's autovacuum keeps after a big load
    (index-only scans of the open items need the latter)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def build_bench_postgres(url: str, work_items: int = 1_000_000, kpi_observations: int = 1_000_000):
    """The same demo in a PostgreSQL database (created, migrated); returns None when reused, else the load's
    DemoSummary. The bench keeps one local server (bench.bench_scale) so a load is reused for hours."""
    from dashboard import store
    from dashboard.db import make_engine, migrate
    from loaders import demo

    request = _request(work_items, kpi_observations)
    if _cached(url, request):
        return None
    engine = make_engine(url)
    try:
        migrate(engine)
        summary = demo.load_demo(engine, seed=BENCH_SEED, work_items=work_items, kpi_observations=kpi_observations,
                                 force=True)
        with engine.begin() as conn:
            store.set_meta(conn, "bench_request", request)
        vacuum_analyze(engine)
    finally:
        engine.dispose()
    return summary


def _fresh_engine(directory: Path, name: str):
    from dashboard.db import make_engine, migrate

    path = directory / name
    _remove(path)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return engine


def _demo_seconds(directory: Path, name: str, work_items: int, kpi_observations: int) -> float:
    path = directory / name
    try:
        return _build(path, work_items, kpi_observations)[1].seconds
    finally:
        _remove(path)


def _bare_executemany_seconds(directory: Path, work_items: int) -> float:
    """The floor: the store's exact row tuples into a table with no keys, indexes or rollups."""
    from dashboard import store
    from loaders import demo

    data = demo.generate(seed=BENCH_SEED, work_items=work_items, kpi_observations=0)
    engine = _fresh_engine(directory, "floor-schema.db")  # only to render rows as the SQLite driver gets them
    try:
        with engine.connect() as conn:
            frame = store.items.item_frame(data.work_items)
            rows = list(store.bulk.driver_rows(store.inserts.item_driver_columns(conn.dialect.name, frame)))
    finally:
        engine.dispose()
    path = directory / "floor.db"
    _remove(path)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        columns = ", ".join(store.ITEM_COLUMNS)
        con.execute(f"CREATE TABLE bare ({columns})")
        sql = f"INSERT INTO bare ({columns}) VALUES ({', '.join('?' * len(store.ITEM_COLUMNS))})"
        started = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(sql, rows)
        con.execute("COMMIT")
        return time.perf_counter() - started
    finally:
        con.close()
        _remove(path)


def run() -> list[Figure]:
    n = 1_000_000
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    # One fresh 1M + 1M build: its timings give the rate, and it refreshes the overview benchmark's cache.
    _, full = _build(BENCH_DIR / "bench-1m.db", n, n)
    p = full.phases
    items_s = p["generate"] + p["clear_and_reference"] + p["work_items"] + p["commit"]  # all but observations
    scratch = Path(tempfile.mkdtemp(prefix="bench-demo-", dir=BENCH_DIR))
    try:
        floor_s = _bare_executemany_seconds(scratch, n)
        default_s = _demo_seconds(scratch, "default.db", 150_000, 60_000)
    finally:
        for leftover in scratch.iterdir():
            leftover.unlink()
        scratch.rmdir()
    rate, floor_rate = n / items_s, n / floor_s
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in p.items())
    return [
        Figure("demo generation rate 1M items (SQLite)", rate, "items/s", floor_rate,
               f">= {TARGET_RATE:,} items/s; floor = bare executemany of the same rows", rate >= TARGET_RATE),
        Figure(f"demo load 1M items + 1M KPI obs (SQLite; {phases})", full.seconds, "s", None, "< 60 s",
               full.seconds < 60),
        Figure("demo at make-run size (150k items + 60k KPI obs)", default_s, "s", None, "<= 10 s", default_s <= 10),
    ]
