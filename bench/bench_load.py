"""Concurrency under load and memory per idle session, against the real app in its own process.

``python -m bench.bench_load [--sessions 20 --seconds 60 --backend sqlite|postgresql|both]`` or, inside
``make bench``, :func:`run`. Localhost only, bounded in count and time, and everything it starts (app
server, simulator, spoke-lead processes, a throwaway PostgreSQL, the working copy of the database) is
stopped and removed again, also on failure.

Set-up: the demo at 1M work items on SQLite (a working copy of :func:`bench.bench_demo.build_bench_db`'s
cached file, so the shared file stays as built), or on a throwaway PostgreSQL at ``PG_ITEMS`` items (the
size is in every figure's name). The app runs through :func:`dashboard.ui.serve.start_background` with
``DASHBOARD_REFRESH_SECONDS`` = ``--refresh`` (default 10 s, the app's default; ``--refresh 5`` doubles the load) and a 5 s
query cache, and is driven by :mod:`bench.st_client` (Streamlit's websocket protocol, one event loop).

Phases, each on the same server:
1. memory per idle session: one warm-up tab opens the overview and stays; the server's RSS
   (``VmRSS`` in /proc/<pid>/status, median of 5 readings 0.5 s apart) is read; then ``--idle-sessions``
   tabs open the overview once (starts spread over 2 s) and sit idle (they do not follow the live
   fragment's auto-rerun); after 5 s the RSS is read again. Figure: (after - before) / N in MB.
2. load: the simulator (``python -m loaders simulate --rate 3000 --tick 1``: 50 new items/s plus its moves
   on open items and KPI observations) and two spoke leads (sales, finance; one process and one engine each,
   ``dashboard.services.items.act`` "resolve" at ``--lead-rate`` per second on an open item of their inbox, sorted
   by due date, with the version they read; every 5th action replays a version they already used, which
   must come back as a conflict) run while ``--sessions`` tabs open the overview (starts spread over one
   refresh interval), each following its live fragment from its own start, as a browser's timer does, for
   ``--seconds`` (``--herd``: all from the same moment, so every refresh of every tab fires together).
3. checks after the load, everything stopped: every resolve reported done is in the database (status
   resolved, that version, by that lead) and in the audit trail once; every replayed stale version was
   refused and left the row as it was; a conflict with the simulator wrote nothing of the lead's; the
   incremental rollups equal ``store.rebuild_rollups`` (rebuilt in a transaction that is rolled back).
4. floor (once per run): the same tabs against a one-fragment app that draws the overview fragment's
   elements (KPI tiles, the map figure, captions, the flows table) from constants pickled from the same
   database, with the same ``run_every``; no simulator, no leads.

Figures:
- live fragment refresh p95 under load: seconds from a tab's ``rerun_script`` (fragment id, auto-rerun) to
  its ``script_finished``, over all fragment runs of all tabs; target <= 1000 ms, <= 1.5 x floor
  (BENCHMARKS.md) and 0 client errors.
- first page render p95: connect + first ``rerun_script`` -> ``script_finished`` of each tab, under load.
- client errors: exception elements, ``st.error``, the overview's "database stopped answering" warning,
  compile errors, page-not-found, disconnects, runs that did not finish within 60 s; target 0.
- simulator batches failed: "batch skipped" lines of the simulator (e.g. "database is locked"); target 0.
- spoke-lead actions: value = actions that failed with an error; the ok / conflict / error counts and the
  integrity checks are in the name; ok only with 0 errors and every check passing.
- memory per idle session; target <= 5 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import datetime as dt
import os
import pickle
import queue
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import st_client
from bench.common import Figure

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 20
SECONDS = 60.0
REFRESH_SECONDS = 10.0  # the app's default DASHBOARD_REFRESH_SECONDS: what 20 real tabs would do
CACHE_TTL_SECONDS = 5.0
IDLE_SESSIONS = 20
SIM_RATE_PER_MIN = 3000.0  # 50 new work items per second
LEAD_RATE = 2.0  # resolves per second per spoke lead
LEADS = {"lead.sales@bench.local": "sales", "lead.finance@bench.local": "finance"}
PG_ITEMS = 1_000_000  # the target is stated at 1M items on both engines
SQLITE_ITEMS = 1_000_000
FLOOR_SECONDS = 30.0
RAMP_SECONDS = 2.0
TARGET_P95_MS = 1000.0
TARGET_FLOOR_RATIO = 1.5
TARGET_MB_PER_SESSION = 5.0
ERROR_WARNINGS = ("database stopped answering", "database is locked")


# --- the spoke leads ------------------------------------------------------------------------------------


def lead_worker(db_url: str, user: str, unit: str, rate: float, max_seconds: float, seed: int, stop, out) -> None:
    """One spoke lead in its own process with its own engine: resolve open items of ``unit`` at ``rate``
    per second until ``stop`` is set (or ``max_seconds`` pass); put a result dict on ``out``."""
    from dashboard.db import make_engine
    from dashboard.domain.access import Role, Viewer
    from dashboard.queries.spoke import InboxFilter, inbox
    from dashboard.services.items import act

    engine = make_engine(db_url)
    viewer = Viewer(user, Role.SPOKE_LEAD, unit)
    rng = random.Random(seed)
    res: dict = {"user": user, "unit": unit, "ok": [], "conflicts": [], "stale_refused": [], "stale_accepted": [],
                 "errors": [], "idle": 0, "seconds": []}
    done: list[tuple[str, int]] = []  # (id, version we read) of items we resolved
    deadline = time.monotonic() + max_seconds
    next_at = time.monotonic()
    n = 0
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            n += 1
            t0 = time.perf_counter()
            try:
                if n % 5 == 0 and done:  # a second tab still showing the old version: must be refused
                    item_id, seen = rng.choice(done)
                    o = act(engine, viewer, unit, [(item_id, seen)], "resolve")[0]
                    (res["stale_accepted"] if o.ok else res["stale_refused"]).append((item_id, seen, o.message))
                else:
                    with engine.connect() as conn:
                        page = inbox(conn, viewer, unit, InboxFilter(statuses=("routed", "accepted"), limit=50),
                                     dt.datetime.now(dt.UTC))
                    if page.rows.empty:  # nothing left to resolve (the simulator works the same inbox)
                        res["idle"] += 1
                    else:
                        row = page.rows.iloc[rng.randrange(len(page.rows))]
                        item_id, seen = str(row["id"]), int(row["version"])
                        o = act(engine, viewer, unit, [(item_id, seen)], "resolve")[0]
                        if o.ok:
                            res["ok"].append((item_id, seen, o.version))
                            done.append((item_id, seen))
                        elif o.version is not None:  # changed by someone else first (the simulator)
                            res["conflicts"].append((item_id, seen, o.version))
                        else:
                            res["errors"].append(o.message[:200])
            except Exception as exc:  # noqa: BLE001 - "database is locked" and friends: counted, not raised
                res["errors"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
            res["seconds"].append(time.perf_counter() - t0)
            next_at += 1.0 / rate
            stop.wait(max(0.0, next_at - time.monotonic()))
    finally:
        engine.dispose()
        out.put(res)


@dataclass
class Leads:
    results: list[dict] = field(default_factory=list)
    procs: list = field(default_factory=list)
    stop: object = None
    out: object = None

    @classmethod
    def start(cls, db_url: str, rate: float, max_seconds: float) -> Leads:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # no fork of a process with threads and open connections
        leads = cls(stop=ctx.Event(), out=ctx.Queue())
        for i, (user, unit) in enumerate(LEADS.items()):
            p = ctx.Process(target=lead_worker, args=(db_url, user, unit, rate, max_seconds, 100 + i, leads.stop, leads.out),
                            daemon=True, name=f"lead-{unit}")
            p.start()
            leads.procs.append(p)
        return leads

    def finish(self, timeout: float = 30) -> list[dict]:
        self.stop.set()
        deadline = time.monotonic() + timeout
        while len(self.results) < len(self.procs) and time.monotonic() < deadline:
            try:
                self.results.append(self.out.get(timeout=0.5))
            except queue.Empty:
                if not any(p.is_alive() for p in self.procs):
                    break
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(5)
        return self.results


# --- the simulator --------------------------------------------------------------------------------------


class Simulator:
    """``python -m loaders simulate`` as a child process; its lines are collected by a thread."""

    def __init__(self, db_url: str, rate_per_min: float, max_seconds: float) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DASHBOARD_DATABASE_URL": db_url}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "loaders", "simulate", "--rate", f"{rate_per_min:g}", "--tick", "1",
             "--report-every", "1", "--duration", f"{max_seconds:g}", "--seed", "5", "--database-url", db_url],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.first_batch = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())
            if "batch" in line:
                self.first_batch.set()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: the current batch commits, then it prints its totals
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reader.join(5)

    @property
    def batches(self) -> int:
        return sum(1 for ln in self.lines if re.match(r"simulate: batch \d+:", ln))

    @property
    def failed(self) -> list[str]:
        return [ln for ln in self.lines if "batch skipped" in ln]

    @property
    def items_per_second(self) -> float | None:
        """New items per second the simulator actually wrote, from its totals line."""
        for ln in reversed(self.lines):
            m = re.match(r"simulate: \d+ batches in ([\d.]+) s: \+([\d,]+) items", ln)
            if m and float(m.group(1)) > 0:
                return int(m.group(2).replace(",", "")) / float(m.group(1))
        return None

    @property
    def problems(self) -> list[str]:
        """Output that is neither a batch report nor the totals (tracebacks, error: lines)."""
        return [ln for ln in self.lines if ln and not ln.startswith("simulate:")]


# --- databases ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def sqlite_database(work_items: int = SQLITE_ITEMS):
    """A working copy of the cached 1M-item bench database (the shared file is not changed)."""
    from bench.bench_demo import BENCH_DIR, build_bench_db

    src = build_bench_db(BENCH_DIR / "bench-1m.db", work_items=work_items, kpi_observations=work_items)
    path = BENCH_DIR / f"load-{os.getpid()}.db"
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    try:
        with contextlib.closing(sqlite3.connect(src.removeprefix("sqlite:///"))) as s, \
                contextlib.closing(sqlite3.connect(path)) as d:
            s.backup(d)
        yield f"sqlite:///{path}", f"sqlite {work_items // 1000}k"
    finally:
        for f in files:
            f.unlink(missing_ok=True)


@contextlib.contextmanager
def postgres_database(work_items: int = PG_ITEMS):
    """A throwaway PostgreSQL server with the demo at ``work_items`` items."""
    from sqlalchemy import create_engine, text

    from dashboard.db import make_engine, migrate
    from loaders.demo import load_demo
    from tests.pg import TempPostgres

    server = TempPostgres().start()
    try:
        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench_load"))
        admin.dispose()
        url = server.url("bench_load")
        engine = make_engine(url)
        migrate(engine)
        load_demo(engine, work_items=work_items, kpi_observations=work_items)
        engine.dispose()
        yield url, f"postgresql {work_items // 1000}k"
    finally:
        server.cleanup()


# --- memory ---------------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


async def _settled_rss(pid: int, wait: float, samples: int = 5) -> float:
    await asyncio.sleep(wait)
    readings = []
    for _ in range(samples):
        readings.append(rss_mb(pid))
        await asyncio.sleep(0.5)
    return statistics.median(readings)


async def idle_memory(base_url: str, pid: int, n: int) -> tuple[float, float, st_client.LoadResult]:
    """(RSS before, RSS after) in MB around opening ``n`` idle overview tabs, after one warm-up tab."""
    warm = await st_client.open_sessions(base_url, 1, prefix="warm", error_warnings=ERROR_WARNINGS)
    try:
        before = await _settled_rss(pid, 3.0)
        t0 = time.monotonic()
        idle = await st_client.open_sessions(base_url, n, ramp=RAMP_SECONDS, prefix="idle", error_warnings=ERROR_WARNINGS)
        try:
            after = await _settled_rss(pid, 5.0)
        finally:
            await st_client.close_all(idle)
    finally:
        await st_client.close_all(warm)
    return before, after, st_client.LoadResult([s.stats for s in warm + idle], time.monotonic() - t0)


# --- checks after the load ------------------------------------------------------------------------------


def _rollup_frames(conn) -> dict:
    """Each rollup table as a frame in primary-key order."""
    import pandas as pd
    from sqlalchemy import select

    from dashboard.db import flow_hourly, kpi_hourly, mix_hourly, text_hourly

    frames = {}
    for table in (flow_hourly, kpi_hourly, mix_hourly, text_hourly):
        frame = pd.DataFrame(conn.execute(select(table)).mappings().all(), columns=list(table.c.keys()))
        if "last_ts" in frame:
            frame["last_ts"] = pd.to_datetime(frame["last_ts"], utc=True)
        key = [c.name for c in table.primary_key.columns]
        frames[table.name] = frame.sort_values(key).reset_index(drop=True)
    return frames


def _rollup_differences(got, want) -> list[str]:
    """The tests' oracle (tests/unit/test_store.py assert_same_rollup), as messages instead of asserts."""
    import numpy as np

    if list(got.columns) != list(want.columns) or len(got) != len(want):
        return [f"{len(got)} rows vs {len(want)} after a rebuild"]
    bad = []
    for col in got.columns:
        if col in {"created_value", "cycle_sum_h", "sum", "last_value"}:  # float sums in another order
            if not np.allclose(got[col].astype(float), want[col].astype(float), rtol=1e-9, atol=1e-6, equal_nan=True):
                bad.append(col)
        elif got[col].tolist() != want[col].tolist():
            bad.append(col)
    return bad


def rollup_drift(conn) -> list[tuple[str, list[str]]]:
    """(rollup table, columns that differ) for each rollup table (flow_hourly, kpi_hourly, mix_hourly,
    text_hourly) that differs from what ``store.rebuild_rollups`` computes from the rows; the rebuild is rolled
    back, nothing is changed."""
    from dashboard import store

    trans = conn.begin()
    try:
        got = _rollup_frames(conn)
        store.rebuild_rollups(conn)
        want = _rollup_frames(conn)
    finally:
        trans.rollback()
    return [(name, diff) for name in got if (diff := _rollup_differences(got[name], want[name]))]


def item_rows(conn, ids: list[str]) -> dict:
    """id -> (id, status, version, updated_by) of the stored work items among ``ids``, read 500 ids at a time."""
    from sqlalchemy import select

    from dashboard.db import work_items

    wi = work_items.c
    rows = {}
    for k in range(0, len(ids), 500):
        for row in conn.execute(select(wi.id, wi.status, wi.version, wi.updated_by)
                                .where(wi.id.in_(ids[k:k + 500]))).mappings():
            rows[row["id"]] = row
    return rows


def check_integrity(db_url: str, leads: list[dict]) -> list[str]:
    """What went wrong, as sentences; empty when no update was lost or overwritten and the rollups hold."""
    from sqlalchemy import func, select

    from dashboard.db import audit_log, make_engine

    problems = []
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for r in leads:
                user = r["user"]
                ok_ids = {i for i, _, _ in r["ok"]}
                rows = item_rows(conn, list(ok_ids | {i for i, _, _ in r["conflicts"]}))
                for item_id, _, version in r["ok"]:
                    row = rows.get(item_id)
                    if row is None or (row["status"], row["version"], row["updated_by"]) != ("resolved", version, user):
                        problems.append(f"{user}: resolve of {item_id} reported done (v{version}) but the row is "
                                        f"{None if row is None else dict(row)}")
                for item_id, _, _ in r["conflicts"]:
                    row = rows.get(item_id)
                    if item_id not in ok_ids and row is not None and row["updated_by"] == user:
                        problems.append(f"{user}: {item_id} was reported as a conflict but carries the lead's write")
                for item_id, seen, msg in r["stale_accepted"]:
                    problems.append(f"{user}: a stale version v{seen} of {item_id} was accepted: {msg}")
                audited = conn.execute(select(func.count()).select_from(audit_log).where(
                    audit_log.c.user == user, audit_log.c.action == "item_action")).scalar_one()
                if audited != len(r["ok"]):
                    problems.append(f"{user}: {audited} audit entries for {len(r['ok'])} resolves done")
        with engine.connect() as conn:
            problems += [f"{label} differs from a rebuild in {', '.join(cols)}" for label, cols in rollup_drift(conn)]
    finally:
        engine.dispose()
    return problems


# --- the floor app --------------------------------------------------------------------------------------

FLOOR_APP = '''\
"""Floor for the live fragment: the overview fragment's elements from constants (bench/bench_load.py)."""
import pickle

import streamlit as st

from dashboard.ui.tables import flows_table
from dashboard.ui.widgets import kpi_tile, trend_series, updated_caption


@st.cache_resource
def constants():
    with open({path!r}, "rb") as f:
        ov, fig, names = pickle.load(f)
    return ov, fig, names, trend_series(ov.trends)


@st.fragment(run_every={refresh!r})
def live_view() -> None:
    ov, fig, names, series = constants()
    with st.spinner("Loading flows…"):
        pass
    tiles = st.columns(max(len(ov.headline), 1))
    for col, row in zip(tiles, ov.headline.itertuples()):
        with col:
            kpi_tile(row, series)
    st.subheader("Flows · last 7 days")
    st.plotly_chart(fig, key="map", on_select="rerun", selection_mode="points", config={{"displayModeBar": False}})
    st.caption("Click a spoke or an edge to open that spoke's page.")
    updated_caption(paused=False, as_of=ov.end)
    with st.expander("Flows as a table"):
        flows_table(ov.flows, names, [])


st.title("Overview (floor)")
live_view()
'''


def write_floor_app(db_url: str, directory: Path, refresh: float) -> Path:
    """Pickle the overview's data and map for the default window from ``db_url`` and write the floor app."""
    from dashboard.charts.hub_map import hub_spoke_map
    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.domain.vocabulary import DEFAULT_WINDOW
    from dashboard.queries.overview import load_overview
    from dashboard.settings import load_settings

    s = load_settings(database_url=db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            ov = load_overview(conn, LOCAL_ADMIN, DEFAULT_WINDOW, dt.datetime.now(dt.UTC), s.tz)
    finally:
        engine.dispose()
    fig = hub_spoke_map(ov.units, ov.flows, ov.health, sla_green=s.sla_green, sla_amber=s.sla_amber,
                        kpi_green=s.kpi_green, kpi_amber=s.kpi_amber, focus=None)
    data = directory / "floor.pickle"
    data.write_bytes(pickle.dumps((ov, fig, dict(zip(ov.units.id, ov.units.name)))))
    app = directory / "floor_app.py"
    app.write_text(FLOOR_APP.format(path=str(data), refresh=refresh))
    return app


# --- one backend ----------------------------------------------------------------------------------------


@dataclass
class Options:
    sessions: int = SESSIONS
    seconds: float = SECONDS
    refresh: float = REFRESH_SECONDS
    idle_sessions: int = IDLE_SESSIONS
    sim_rate: float = SIM_RATE_PER_MIN
    lead_rate: float = LEAD_RATE
    floor_seconds: float = FLOOR_SECONDS
    floor: bool = True
    verbose: bool = True
    herd: bool = False  # every tab starts following at once: their refreshes all fire together (worst case)


def _say(opts: Options, text: str) -> None:
    if opts.verbose:
        print(f"bench_load: {text}", file=sys.stderr, flush=True)


def _load(base_url: str, opts: Options, seconds: float) -> st_client.LoadResult:
    # Tabs opened over one refresh interval, as people open them at different moments, each following its live
    # fragment from the moment it opened (a browser's timer starts when the fragment's auto_rerun arrives): tabs
    # that all start following at once fire together every interval forever, a thundering herd no real
    # audience produces. ``--herd`` measures that worst case instead.
    if opts.herd:
        return st_client.run_sessions(base_url, opts.sessions, seconds, ramp=opts.refresh,
                                      error_warnings=ERROR_WARNINGS)
    return st_client.run_sync(staggered_load(base_url, opts.sessions, seconds, ramp=opts.refresh))


async def staggered_load(base_url: str, sessions: int, seconds: float, *, ramp: float, page: str = "",
                         query: str = "") -> st_client.LoadResult:
    """``sessions`` tabs opened evenly over ``ramp`` seconds, each following its live fragment as soon as it has
    opened (its ticks one interval after its own first run, as in a browser) until ``ramp + seconds`` after the
    start; then all are closed."""
    tabs = [st_client.StreamlitSession(base_url, page, query, name=f"s{i:02d}", error_warnings=ERROR_WARNINGS)
            for i in range(sessions)]
    t0 = time.monotonic()
    until = t0 + ramp + seconds

    async def tab(i: int, s: st_client.StreamlitSession) -> None:
        await asyncio.sleep(ramp * i / max(sessions, 1))
        await s.open()
        if s.connected:
            await s.follow_live(until)

    try:
        await asyncio.gather(*(tab(i, s) for i, s in enumerate(tabs)))
    finally:
        await st_client.close_all(tabs)
    return st_client.LoadResult([t.stats for t in tabs], time.monotonic() - t0)


def measure_floor(db_url: str, opts: Options, tmp: Path) -> st_client.LoadResult:
    from dashboard.ui.serve import start_background

    app = write_floor_app(db_url, tmp, opts.refresh)
    server = start_background(db_url, tmp, str(app), refresh_seconds=opts.refresh, cache_ttl_seconds=CACHE_TTL_SECONDS)
    try:
        st_client.run_sessions(server.url, 1, 0)  # warm: imports, the pickle, plotly
        return _load(server.url, opts, opts.floor_seconds)
    finally:
        server.stop()


def run_backend(db_url: str, label: str, opts: Options, floor: st_client.LoadResult | None = None) -> tuple[list[Figure], st_client.LoadResult | None]:
    from dashboard.ui.serve import start_background

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="hubspoke-load-") as tmpdir:
        tmp = Path(tmpdir)
        if floor is None and opts.floor:
            _say(opts, f"{label}: floor app, {opts.sessions} sessions x {opts.floor_seconds:g} s")
            floor = measure_floor(db_url, opts, tmp)
            _say(opts, f"floor: {floor.summary()}")
        server = start_background(db_url, tmp, refresh_seconds=opts.refresh, cache_ttl_seconds=CACHE_TTL_SECONDS)
        sim = leads = None
        try:
            _say(opts, f"{label}: memory, 1 warm-up + {opts.idle_sessions} idle sessions")
            before, after, idle = st_client.run_sync(idle_memory(server.url, server.proc.pid, opts.idle_sessions))
            per_session = (after - before) / max(opts.idle_sessions, 1)
            _say(opts, f"RSS {before:.1f} -> {after:.1f} MB; idle sessions: {idle.summary()}")

            _say(opts, f"{label}: load, simulator {opts.sim_rate:g}/min + 2 spoke leads + {opts.sessions} live sessions x {opts.seconds:g} s")
            bound = opts.seconds + 120  # hard stop for the helpers, whatever happens here
            sim = Simulator(db_url, opts.sim_rate, bound)
            leads = Leads.start(db_url, opts.lead_rate, bound)
            sim.first_batch.wait(60)
            load = _load(server.url, opts, opts.seconds)
            sim.stop()
            lead_results = leads.finish()
            _say(opts, f"load: {load.summary()}")
            for e in load.errors[:10]:
                _say(opts, f"  client error: {e}")
            _say(opts, f"simulator: {sim.lines[-1] if sim.lines else 'no output'}")
            for ln in (sim.failed + sim.problems)[:10]:
                _say(opts, f"  simulator: {ln}")
            for r in lead_results:
                for msg, count in collections.Counter(r["errors"]).most_common(5):
                    _say(opts, f"  {r['user']}: {count} x {msg}")
            problems = check_integrity(db_url, lead_results)
            for p in problems[:10]:
                _say(opts, f"  integrity: {p}")
        finally:
            if sim is not None:
                sim.stop()
            if leads is not None:
                leads.finish(5)
            server.stop()

    ms = 1000.0
    n, who = opts.sessions, f"{label}, {opts.sessions} sessions, sim {opts.sim_rate / 60:g} items/s, 2 spoke leads"
    frag_p95 = st_client.p95(load.fragment_runs_s) * ms
    floor_p95 = st_client.p95(floor.fragment_runs_s) * ms if floor is not None and floor.fragment_runs_s else None
    ratio_ok = floor_p95 is None or frag_p95 <= TARGET_FLOOR_RATIO * floor_p95
    errors = len(load.errors)
    figures.append(Figure(
        f"live fragment refresh p95 under load ({who}; {len(load.fragment_runs_s)} runs, {load.overruns} overruns, "
        f"every {opts.refresh:g} s, tabs opened over {opts.refresh:g} s"
        f"{', all refreshing in step' if opts.herd else ''}, {opts.seconds:g} s)",
        frag_p95, "ms", floor_p95, f"<= {TARGET_P95_MS:g} ms, <= {TARGET_FLOOR_RATIO} x floor and 0 errors",
        frag_p95 <= TARGET_P95_MS and ratio_ok and errors == 0 and bool(load.fragment_runs_s)))
    figures.append(Figure(f"first page render p95 under load ({who}, starts spread over {opts.refresh:g} s)",
                          st_client.p95(load.first_runs_s) * ms, "ms", None, "reported", True))
    figures.append(Figure(f"client errors under load ({who})", errors, "errors", None, "0",
                          errors == 0 and len(load.first_runs_s) == n))
    achieved = sim.items_per_second
    figures.append(Figure(f"simulator batches failed under load ({label}, {sim.batches} batches, "
                          f"{'?' if achieved is None else f'{achieved:.0f}'} of {opts.sim_rate / 60:g} new items/s written)",
                          len(sim.failed),
                          "batches", None, "0", not sim.failed and not sim.problems and sim.batches > 0))
    ok = sum(len(r["ok"]) for r in lead_results)
    conflicts = sum(len(r["conflicts"]) for r in lead_results)
    stale = sum(len(r["stale_refused"]) for r in lead_results)
    lead_errors = sum(len(r["errors"]) for r in lead_results)
    empty_inbox = sum(r.get("idle", 0) for r in lead_results)
    lead_p95 = st_client.p95([t for r in lead_results for t in r["seconds"]]) * 1000
    figures.append(Figure(
        f"spoke-lead action errors ({label}: {ok} resolved, {conflicts} conflicts with the simulator, "
        f"{stale} stale replays refused, {empty_inbox} times an empty inbox, action p95 {lead_p95:.0f} ms; "
        f"integrity {'ok' if not problems else f'{len(problems)} problems'})",
        lead_errors, "errors", None, "0 errors, no lost update, rollups = rebuild",
        lead_errors == 0 and not problems and len(lead_results) == len(LEADS) and ok > 0))
    figures.append(Figure(f"memory per idle session ({label}, {opts.idle_sessions} sessions, RSS {before:.0f} -> {after:.0f} MB)",
                          per_session, "MB", None, f"<= {TARGET_MB_PER_SESSION:g} MB",
                          per_session <= TARGET_MB_PER_SESSION and not idle.errors))
    return figures, floor


def run(backends: tuple[str, ...] = ("sqlite", "postgresql"), opts: Options | None = None) -> list[Figure]:
    opts = opts or Options()  # progress and any error details go to stderr
    figures: list[Figure] = []
    floor = None
    for backend in backends:
        if backend == "postgresql" and not (shutil.which("initdb") or list(Path("/usr/lib/postgresql").glob("*/bin/initdb"))):
            print("bench_load: no PostgreSQL server binaries; skipping postgresql", file=sys.stderr)
            continue
        db = sqlite_database() if backend == "sqlite" else postgres_database()
        with db as (url, label):
            got, floor = run_backend(url, label, opts, floor)
        figures += got
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=SESSIONS)
    ap.add_argument("--seconds", type=float, default=SECONDS)
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="sqlite")
    ap.add_argument("--refresh", type=float, default=REFRESH_SECONDS, help="the live fragment's run_every (s)")
    ap.add_argument("--idle-sessions", type=int, default=IDLE_SESSIONS)
    ap.add_argument("--floor-seconds", type=float, default=FLOOR_SECONDS)
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--herd", action="store_true", help="every tab follows from the same moment: refreshes in step")
    args = ap.parse_args(argv)
    if not (1 <= args.sessions <= 200 and 1 <= args.seconds <= 3600 and 0 <= args.idle_sessions <= 200):
        ap.error("bounded: 1..200 sessions, 1..3600 s, 0..200 idle sessions")
    opts = Options(sessions=args.sessions, seconds=args.seconds, refresh=args.refresh, idle_sessions=args.idle_sessions,
                   floor_seconds=args.floor_seconds, floor=not args.no_floor, herd=args.herd)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for fig in run(backends, opts):
        print(fig.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
