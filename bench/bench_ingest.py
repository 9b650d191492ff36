"""File import (``dashboard.services.imports``) of a large CSV of work items into SQLite and PostgreSQL.

Figures (see docs/benchmarks.md):
- ingest rate, SQLite: rows per second for ``ingest`` of a CSV of 1M valid work items (streamed in chunks,
  validated, de-duplicated, upserted by natural key with rollups, one transaction) into a fresh migrated SQLite
  file that holds the sample units. Floor, in the same run: ``pandas.read_csv`` of the same file + a bare
  ``executemany`` of its rows into the same schema's ``work_items`` table on a fresh SQLite file, through the
  raw sqlite3 connection with the engine's pragmas and the store's bulk page cache, no validation. Target
  >= 0.8 x the floor's throughput.
- ingest rate, PostgreSQL: the same import into a fresh migrated database (holding the sample units) on a local
  server of this benchmark's own (``loaders.localpg.LocalPostgres`` in $TMPDIR/hubspoke-bench/pg-ingest, fsync
  off, started for the run and stopped after it). Floor, in the same run and server: ``pandas.read_csv`` of the
  same file + one COPY of its rows (CSV written by Arrow, as the store does) into a bare table of the same
  columns without indexes or constraints. Target >= 100,000 rows/s. For context, the same file imported again
  into that database (forced): every row goes through the staged upsert's set-based comparison, all unchanged.
- ingest peak memory: peak RSS (VmHWM) of a child process that only imports the file, beside the file size,
  for the 1M-row file (floor: the same process's RSS just before the import) and for a 2M-row file (floor:
  the 1M-row peak). Memory is bounded when twice the file needs at most 1.2 x the memory. Why 1M vs 2M and
  not smaller: during a bulk write SQLite's page cache grows to the store's 256 MiB cap, which a fresh
  database reaches only after roughly 550k rows, so smaller files would show that fill-up as growth.

The CSVs (work items between the sample units, ~60 % resolved, ISO timestamps with +00:00 and 10 % of rows
naive) are generated once with numpy (seeded, vectorised) and cached in the benchmark directory, keyed by row
count and ``FORMAT_VERSION``. Every import and the floor run in a fresh child process.

``python -m bench.bench_ingest --profile [ROWS]`` prints cProfile's top functions for one import (200k rows
by default), for whoever tunes the importer.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import Figure

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(os.environ.get("HUBSPOKE_BENCH_DIR", tempfile.gettempdir())) / "hubspoke-bench"
UNITS_CSV = ROOT / "loaders" / "samples" / "units.csv"
ROWS = 1_000_000
FORMAT_VERSION = 2  # bump when the generated file changes, so cached files are rebuilt
SEED = 23
BLOCK_ROWS = 1_000_000  # rows generated at a time
TARGET_RATE = 100_000  # rows per second (PostgreSQL)
TARGET_RATIO = 0.8  # of the floor's throughput (SQLite)
PG_DIR = BENCH_DIR / "pg-ingest"  # this benchmark's own server (others may use BENCH_DIR / "pg" meanwhile)
MEMORY_GROWTH = 1.2  # the 2N-row import may peak at most this much above the N-row one
MEMORY_BUDGET_MIB = 1024  # an import above the process it runs in: 256 MiB page cache + chunk working set
ANCHOR = np.datetime64("2026-11-01T00:00:00", "s")  # fixed, so the file (and its cache) never changes
DAYS = 90
NAIVE_SHARE = 0.1  # rows whose timestamps have no offset (another export; read in the import zone, UTC here)

# (source, target, kind, share, sla_hours, channels, topics, lead value in EUR or None, texts)
ROUTES = (
    ("hub", "sales", "lead", 0.30, 4, ("social", "web", "email"), ("kitchen", "cleaning", "climate", "pricing"), 1500,
     ("Asked for a quote for {n} seats", "Wants a demo of the {p} after the webinar")),
    ("hub", "sales", "mention", 0.07, 2, ("social",), ("purchase_intent",), None,
     ("Is the {p} in stock anywhere near me?", "Any discount codes for the {p}?")),
    ("hub", "customer_service", "complaint", 0.15, 8, ("email", "web", "social"),
     ("delivery", "billing", "product_defect", "refund"), None,
     ("Parcel late, second time this month", "Refund for my {p} still not received")),
    ("hub", "customer_service", "mention", 0.06, 4, ("social",), ("complaint",), None,
     ("My {p} stopped working after {n} days", "The {p} arrived damaged, disappointed")),
    ("hub", "customer_service", "promotion_notice", 0.06, 24, ("internal",),
     ("spring_sale", "newsletter", "price_change", "black friday"), None,
     ("Black Friday: {n}% off the {p} from 27 Nov", "Newsletter: new prices for the {p}")),
    ("hub", "finance", "report", 0.04, 48, ("internal",), ("budget", "revenue"), None,
     ("Campaign spend for week {n}, please check", "Revenue by channel, week {n}")),
    ("sales", "hub", "request", 0.08, 24, ("internal",), ("campaign_brief", "lead_scoring", "dashboard"), None,
     ("Campaign brief for the {p}, please", "Lead scoring looks off for {n} leads")),
    ("sales", "hub", "escalation", 0.03, 4, ("internal",), ("key_account", "pricing_issue"), None,
     ("Key account threatens to cancel {n} seats", "Pricing issue on the {p} quote")),
    ("sales", "hub", "report", 0.03, 48, ("internal",), ("crm_export", "pipeline_data"), None,
     ("CRM export, {n} open deals attached", "Pipeline data for the {p}")),
    ("customer_service", "hub", "escalation", 0.04, 4, ("internal",), ("viral_complaint", "press"), None,
     ("Viral post about a broken {p}", "Press asked about the {p} recall")),
    ("customer_service", "hub", "request", 0.04, 24, ("internal",), ("faq_content", "promo_details"), None,
     ("FAQ entry needed for the {p}", "Details of the {n}% promotion, please")),
    ("finance", "hub", "report", 0.05, 48, ("internal",), ("budget_actuals", "cost_allocation"), None,
     ("Budget actuals for week {n}, please check", "Cost allocation for the {p} launch")),
    ("finance", "hub", "request", 0.05, 24, ("internal",), ("roi_analysis", "forecast_input"), None,
     ("ROI analysis for the {p} campaign", "Forecast input: {n} leads next quarter")),
)
PRODUCTS = ("X200 microwave", "AirPure 3", "Nova S blender", "K9 kettle", "Breeze fan", "Pro plan")
TEXT_VARIANTS = 50  # distinct texts per route (rows pick from them)
COLUMNS = ("id", "kind", "source_unit", "target_unit", "channel", "topic", "text", "created_at", "routed_at",
           "accepted_at", "resolved_at", "status", "sla_hours", "value")


# --- the file ------------------------------------------------------------------------------------------


def _texts(rng: np.random.Generator, templates: tuple[str, ...]) -> np.ndarray:
    """A few dozen free texts of about 40 characters for one route (some with commas, so the CSV quotes them)."""
    return np.array([templates[i % len(templates)].format(n=int(rng.integers(2, 90)),
                                                          p=PRODUCTS[int(rng.integers(len(PRODUCTS)))])
                     + f" #{int(rng.integers(100, 999))}" for i in range(TEXT_VARIANTS)], dtype=object)


def _iso(values: np.ndarray, naive: np.ndarray) -> np.ndarray:
    """datetime64[s] as ISO text, ``2026-10-03T09:12:45+00:00`` or where naive ``2026-10-03 09:12:45``;
    NaT as ''. Digits are written into a byte matrix (a million values in well under a second)."""
    missing = np.isnat(values)
    v = np.where(missing, np.datetime64("2000-01-01T00:00:00", "s"), values)
    days, months, years = v.astype("M8[D]"), v.astype("M8[M]"), v.astype("M8[Y]")
    secs = (v - days.astype("M8[s]")).astype(np.int64)
    parts = (
        (0, 4, years.astype(np.int64) + 1970),
        (5, 2, (months - years.astype("M8[M]")).astype(np.int64) + 1),
        (8, 2, (days - months.astype("M8[D]")).astype(np.int64) + 1),
        (11, 2, secs // 3600), (14, 2, secs // 60 % 60), (17, 2, secs % 60),
    )
    buf = np.zeros((len(v), 25), dtype=np.uint8)
    for at, width, number in parts:
        for k in range(width):
            buf[:, at + width - 1 - k] = 48 + number // 10**k % 10
    buf[:, [4, 7]] = ord("-")
    buf[:, [13, 16]] = ord(":")
    buf[:, 10] = np.where(naive, ord(" "), ord("T"))
    buf[:, 19:] = np.frombuffer(b"+00:00", dtype=np.uint8)
    buf[naive, 19:] = 0
    buf[missing] = 0
    return buf.view("S25").ravel().astype("U25")


def generate_frame(rows: int, seed: int = SEED, first_id: int = 1, period: int = 0):
    """``rows`` valid work items between the sample units, as the text cells of a CSV (a DataFrame).

    Rows come in order of creation, as exports from ticketing and CRM systems do; block ``period`` covers
    the DAYS after block ``period - 1`` (an incremental extract)."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    shares = np.array([r[3] for r in ROUTES])
    route = rng.choice(len(ROUTES), size=rows, p=shares / shares.sum())
    source, target, kind = (np.array([r[i] for r in ROUTES], dtype=object)[route] for i in range(3))
    sla = np.array([r[4] for r in ROUTES], dtype=np.int64)[route]
    channel, topic, text = (np.empty(rows, dtype=object) for _ in range(3))
    for i, r in enumerate(ROUTES):  # per route (13 of them), never per row
        at = np.flatnonzero(route == i)
        for column, choices in ((channel, r[5]), (topic, r[6]), (text, _texts(rng, r[8]))):
            column[at] = np.asarray(choices, dtype=object)[rng.integers(0, len(choices), len(at))]
    topic[rng.random(rows) < 0.05] = ""  # topic is optional

    offset = (np.sort(rng.random(rows)) + period - 1) * DAYS * 86_400
    created = ANCHOR + offset.astype("timedelta64[s]")
    cycle = (sla * 3_600 * np.exp(rng.normal(-0.6, 0.6, rows))).astype(np.int64) + 60  # seconds to resolve
    roll = rng.random(rows)
    status = np.select([roll < 0.60, roll < 0.70, roll < 0.82, roll < 0.95],
                       ["resolved", "new", "routed", "accepted"], "handed_back")
    nat = np.datetime64("NaT", "s")
    routed_at = np.where(status == "new", nat, created + (cycle // 10).astype("timedelta64[s]"))
    accepted_at = np.where(np.isin(status, ["accepted", "resolved"]), created + (cycle * 3 // 10).astype("timedelta64[s]"), nat)
    resolved_at = np.where(status == "resolved", created + cycle.astype("timedelta64[s]"), nat)

    lead_value = np.array([np.nan if r[7] is None else r[7] for r in ROUTES])[route]
    value = np.round(lead_value * rng.lognormal(0, 0.5, rows), 2)
    naive = rng.random(rows) < NAIVE_SHARE  # whole rows, as when two exports were concatenated
    return pd.DataFrame({
        "id": pd.Series(np.arange(first_id, first_id + rows)).astype(str).str.zfill(7).radd("WI-"),
        "kind": kind, "source_unit": source, "target_unit": target, "channel": channel, "topic": topic, "text": text,
        "created_at": _iso(created, naive), "routed_at": _iso(routed_at, naive),
        "accepted_at": _iso(accepted_at, naive), "resolved_at": _iso(resolved_at, naive),
        "status": status, "sla_hours": sla, "value": value,  # to_csv writes NaN as an empty cell
    }, columns=list(COLUMNS))


def bench_csv(rows: int) -> Path:
    """The cached CSV of ``rows`` generated work items (written once per row count and format version).

    Written in blocks of at most BLOCK_ROWS, each from its own seed, so a larger file starts with the rows of
    the smaller one and generating it never holds more than one block in memory."""
    path = BENCH_DIR / f"ingest-work-items-{rows}-v{FORMAT_VERSION}.csv"
    if not path.exists():
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", newline="") as fh:
            for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
                n = min(BLOCK_ROWS, rows - start)
                generate_frame(n, seed=SEED + block, first_id=start + 1, period=block).to_csv(fh, index=False, header=block == 0)
        tmp.replace(path)
    return path


# --- databases and child processes ---------------------------------------------------------------------


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _with_units(url: str) -> str:
    """Migrate ``url``'s database to the head schema and import the sample units (as an importer starts)."""
    from dashboard.db import make_engine, migrate
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.services.imports import ingest

    engine = make_engine(url)
    try:
        migrate(engine)
        report = ingest(engine, UNITS_CSV, viewer=LOCAL_ADMIN, kind="units")
        assert report.inserted == 4 and not report.quarantined, report.summary()
    finally:
        engine.dispose()
    return url


def fresh_db(path: Path) -> str:
    """A fresh SQLite file at the head schema holding the sample units; its URL."""
    _remove(path)
    return _with_units(f"sqlite:///{path}")


def _status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _peak_mib() -> float:
    """This process's peak RSS. Linux's VmHWM, not ``ru_maxrss``: after fork + exec the latter still carries
    the parent's RSS at the fork (the benchmark parent may hold a generated million-row frame)."""
    peak = _status_mib("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mib() -> float:
    rss = _status_mib("VmRSS")
    return rss if rss is not None else _peak_mib()


def _child_ingest(db: str, csv: str, chunk_rows: int | None) -> dict:
    """Import ``csv`` into the prepared ``db``: seconds, counts and peak RSS (this process only imports)."""
    from zoneinfo import ZoneInfo

    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.services.imports import ingest

    engine = make_engine(f"sqlite:///{db}")
    with engine.connect():  # open the pooled connection before the baseline
        pass
    before = _rss_mib()
    started = time.perf_counter()
    report = ingest(engine, csv, viewer=LOCAL_ADMIN, kind="work_items", tz=ZoneInfo("UTC"), chunk_rows=chunk_rows)
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": report.rows_read, "inserted": report.inserted,
            "quarantined": report.quarantined, "summary": report.summary(), "before_mib": before,
            "peak_mib": _peak_mib()}


def _child_floor(db: str, csv: str) -> dict:
    """The floor: ``pandas.read_csv`` of the file, then a bare ``executemany`` of its rows into work_items.

    Raw sqlite3 connection with the engine's pragmas (WAL, synchronous NORMAL, foreign keys) and the page cache
    the store uses for bulk writes. No validation, no derived values: ``due_at`` (NOT NULL, absent from the
    file) gets the created_at text, ``version`` 1; missing cells are NaN, which SQLite stores as NULL.
    """
    import pandas as pd

    from dashboard.store import BULK_CACHE_KIB

    con = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL", "foreign_keys=ON",
                   f"cache_size={BULK_CACHE_KIB}"):
        con.execute(f"PRAGMA {pragma}")
    before = _rss_mib()
    started = time.perf_counter()
    frame = pd.read_csv(csv)
    read_s = time.perf_counter() - started
    names = [*frame.columns, "due_at", "version"]
    cols = [frame[c].to_numpy() for c in frame.columns] + [frame["created_at"].to_numpy(), np.ones(len(frame), np.int64)]
    sql = f"INSERT INTO work_items ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    con.execute("BEGIN")
    con.executemany(sql, zip(*[c.tolist() for c in cols]))
    con.execute("COMMIT")
    seconds = time.perf_counter() - started
    rows = con.execute("SELECT count(*) FROM work_items").fetchone()[0]
    con.close()
    return {"seconds": seconds, "read_s": read_s, "write_s": seconds - read_s, "rows": rows,
            "before_mib": before, "peak_mib": _peak_mib()}


def _child_pg_ingest(url: str, csv: str) -> dict:
    """Import ``csv`` into the prepared PostgreSQL database at ``url``: seconds and counts."""
    from zoneinfo import ZoneInfo

    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.services.imports import ingest

    engine = make_engine(url)
    with engine.connect():
        pass
    started = time.perf_counter()
    report = ingest(engine, csv, viewer=LOCAL_ADMIN, kind="work_items", tz=ZoneInfo("UTC"))
    seconds = time.perf_counter() - started
    started = time.perf_counter()  # the same file again: every row compared with its stored one, all unchanged
    again = ingest(engine, csv, viewer=LOCAL_ADMIN, kind="work_items", tz=ZoneInfo("UTC"), force=True)
    again_seconds = time.perf_counter() - started
    engine.dispose()
    return {"seconds": seconds, "rows": report.rows_read, "inserted": report.inserted,
            "quarantined": report.quarantined, "summary": report.summary(), "again_seconds": again_seconds,
            "again_unchanged": again.unchanged}


def _child_pg_floor(url: str, csv: str) -> dict:
    """The floor on PostgreSQL: ``pandas.read_csv`` of the file, then one COPY of its rows (CSV written by Arrow)
    into a bare table with work_items' columns and no index or constraint. ``due_at`` gets created_at's text and
    ``version`` 1, as in the SQLite floor."""
    import pandas as pd
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    started = time.perf_counter()
    frame = pd.read_csv(csv)
    read_s = time.perf_counter() - started
    names = [*frame.columns, "due_at", "version"]
    data = pa.table({**{c: pa.array(frame[c], from_pandas=True) for c in frame.columns},
                     "due_at": pa.array(frame["created_at"], from_pandas=True),
                     "version": pa.array(np.ones(len(frame), np.int32))})
    buffer = pa.BufferOutputStream()
    pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False, batch_size=65_536))
    payload = memoryview(buffer.getvalue())
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as con:
        with con.cursor() as cur:
            cur.execute("CREATE TABLE bare_items AS SELECT * FROM work_items WITH NO DATA")
            with cur.copy(f"COPY bare_items ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)") as copy:
                for start in range(0, len(payload), 1 << 20):
                    copy.write(payload[start:start + (1 << 20)])
            cur.execute("SELECT count(*) FROM bare_items")
            rows = cur.fetchone()[0]
        con.commit()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "read_s": read_s, "write_s": seconds - read_s, "rows": rows}


def _in_child(*args: str) -> dict:
    """Run this module in a fresh interpreter (``--child ...``) and return the JSON it prints last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "bench.bench_ingest", "--child", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"child {' '.join(args[:1])} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mib(n_bytes: int) -> float:
    return n_bytes / 1024**2


def _rows_label(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows // 1000}k"


def fresh_pg(server, name: str) -> str:
    """A fresh migrated database ``name`` on ``server`` holding the sample units; its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()
    server.create_database(name)
    return _with_units(server.url(name))


def postgres_figures(rows: int = ROWS) -> list[Figure]:
    from loaders.localpg import LocalPostgres, PostgresUnavailable, free_port

    csv = bench_csv(rows)
    try:
        server = LocalPostgres(PG_DIR, free_port(), durable=False).start()
    except PostgresUnavailable as exc:
        print(f"bench_ingest: no PostgreSQL figure ({exc})", file=sys.stderr)
        return []
    try:
        floor = _in_child("pg-floor", fresh_pg(server, "ingest_floor"), str(csv))
        full = _in_child("pg-ingest", fresh_pg(server, "ingest_run"), str(csv))
    finally:
        server.stop()
    for got in (floor, full):
        if got["rows"] != rows or got.get("inserted", rows) != rows or got.get("quarantined", 0):
            raise RuntimeError(f"expected {rows:,} valid rows imported, got {got}")
    if full["again_unchanged"] != rows:
        raise RuntimeError(f"expected {rows:,} unchanged rows on the second import, got {full}")
    rate, floor_rate = rows / full["seconds"], rows / floor["seconds"]
    label = _rows_label(rows)
    return [Figure(f"ingest {label} work items CSV -> PostgreSQL ({_mib(csv.stat().st_size):.0f} MiB; "
                   f"{full['seconds']:.1f} s; floor read_csv {floor['read_s']:.1f} s + COPY into a bare table "
                   f"{floor['write_s']:.1f} s)", rate, "rows/s", floor_rate, f">= {TARGET_RATE:,} rows/s",
                   rate >= TARGET_RATE),
            Figure(f"ingest the same {label} rows again -> PostgreSQL (every row compared with its stored one in "
                   f"the staged upsert, all unchanged; {full['again_seconds']:.1f} s; floor as above)",
                   rows / full["again_seconds"], "rows/s", floor_rate, "- (context)", True)]


def run(rows: int = ROWS) -> list[Figure]:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    csv, csv_double = bench_csv(rows), bench_csv(2 * rows)
    db = BENCH_DIR / "ingest.db"
    try:
        fresh_db(db)
        floor = _in_child("floor", str(db), str(csv))
        fresh_db(db)
        full = _in_child("ingest", str(db), str(csv))
        fresh_db(db)
        double = _in_child("ingest", str(db), str(csv_double))
    finally:
        _remove(db)
    for got, want in ((floor, rows), (full, rows), (double, 2 * rows)):
        if got["rows"] != want or got.get("inserted", want) != want or got.get("quarantined", 0):
            raise RuntimeError(f"expected {want:,} valid rows imported, got {got}")
    rate, floor_rate = rows / full["seconds"], rows / floor["seconds"]
    size, size_double = _mib(csv.stat().st_size), _mib(csv_double.stat().st_size)
    label, label_double = _rows_label(rows), _rows_label(2 * rows)
    return [
        Figure(f"ingest {label} work items CSV -> SQLite ({size:.0f} MiB; {full['seconds']:.1f} s; floor read_csv "
               f"{floor['read_s']:.1f} s + executemany {floor['write_s']:.1f} s)", rate, "rows/s", floor_rate,
               f">= {TARGET_RATIO} x floor", rate >= TARGET_RATIO * floor_rate),
        Figure(f"ingest peak RSS {label} rows ({size:.0f} MiB CSV; floor = RSS before the import; the floor's "
               f"whole-file read_csv + executemany peaked at {floor['peak_mib']:.0f} MiB)",
               full["peak_mib"], "MiB", full["before_mib"], f"<= floor + {MEMORY_BUDGET_MIB} MiB",
               full["peak_mib"] <= full["before_mib"] + MEMORY_BUDGET_MIB),
        Figure(f"ingest peak RSS {label_double} rows ({size_double:.0f} MiB CSV, 2x the file; "
               f"floor = the {label}-row peak)", double["peak_mib"], "MiB", full["peak_mib"],
               f"<= {MEMORY_GROWTH} x floor (bounded)", double["peak_mib"] <= MEMORY_GROWTH * full["peak_mib"]),
        *postgres_figures(rows),
    ]


def profile(rows: int = 200_000, top: int = 15) -> None:
    """cProfile of one import of ``rows`` generated work items: top functions by cumulative and by own time.

    Threads the import starts (a read-ahead worker) get their own profiler; the stats printed are the sum
    over all threads, so time a thread spends waiting for another shows as lock ``acquire``."""
    import cProfile
    import pstats
    import threading
    from zoneinfo import ZoneInfo

    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.services.imports import ingest

    csv = bench_csv(rows)
    db = BENCH_DIR / "ingest-profile.db"
    engine = make_engine(fresh_db(db))
    profilers = [cProfile.Profile()]

    def in_new_thread(*_):  # the first event in a new thread: hand the thread to a profiler of its own
        prof = cProfile.Profile()
        profilers.append(prof)
        prof.enable()

    threading.setprofile(in_new_thread)
    try:
        profilers[0].enable()
        report = ingest(engine, csv, viewer=LOCAL_ADMIN, kind="work_items", tz=ZoneInfo("UTC"))
        profilers[0].disable()
    finally:
        threading.setprofile(None)
        engine.dispose()
        _remove(db)
    print(f"{report.summary()} in {report.seconds:.1f} s ({rows / report.seconds:,.0f} rows/s under cProfile; "
          f"{len(profilers)} thread(s) profiled)")
    stats = pstats.Stats(*profilers)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        what, db, csv, *rest = argv[1:]
        if what == "pg-ingest":
            out = _child_pg_ingest(db, csv)
        elif what == "pg-floor":
            out = _child_pg_floor(db, csv)
        else:
            out = _child_ingest(db, csv, int(rest[0]) if rest else None) if what == "ingest" else _child_floor(db, csv)
        print(json.dumps(out))
        return 0
    if argv[:1] == ["--postgres"]:  # the PostgreSQL figure alone
        for fig in postgres_figures(int(argv[1]) if len(argv) > 1 else ROWS):
            print(fig.line(), flush=True)
        return 0
    if argv[:1] == ["--profile"]:
        profile(int(argv[1]) if len(argv) > 1 else 200_000)
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
