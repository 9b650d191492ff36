"""Live sessions over several replicas behind HAProxy on PostgreSQL at scale (``make run-cluster``'s set-up).

``python -m bench.bench_cluster [--sessions 50 --replicas 2 --seconds 60 --items 10000000]`` or, inside
``make bench``, :func:`run`. Localhost only, bounded in count and time; everything it starts (PostgreSQL, the
replicas, HAProxy, the simulator, the spoke leads) is stopped again, also on failure.

Set-up: the benchmark's PostgreSQL server (``$TMPDIR/hubspoke-bench/pg``, kept by :mod:`bench.bench_scale`) holds
the demo at 10M work items (``bench_10m``) and 1M (``bench_1m``), each built once and reused; this benchmark takes
the 10M one when it is complete at the schema's head revision (its ``bench_request`` mark is written last; ``make
bench`` runs ``bench_scale``, which builds it, first), else the 1M one (built here if missing), and says which in
every figure's name. The load writes, so it runs on a copy
(``CREATE DATABASE … TEMPLATE``) dropped afterwards: the shared databases stay as built. The cluster is
:class:`loaders.cluster.Cluster` — ``--replicas`` app processes behind HAProxy configured from
``deploy/haproxy.cfg.template`` — with ``DASHBOARD_REFRESH_SECONDS`` = ``--refresh`` (10 s, the app's default)
and the load benchmark's 5 s query cache.

The load is :mod:`bench.bench_load`'s, over the balancer: its simulator (50 new items/s plus moves and KPI
observations) and its two spoke leads (resolves with stale replays, one process each) write while ``--sessions``
tabs (:mod:`bench.st_client`, no cookie, so HAProxy spreads them by least connections) open the overview, their
starts spread over one refresh interval, each following its live fragment from the moment it opened, as a
browser's timer does (:func:`bench.bench_load.staggered_load`; ``--herd``: all from one moment, every refresh in
step, the worst case), for ``--seconds``. Afterwards
:func:`bench.bench_load.check_integrity` checks that no lead's update was lost and that the rollups equal a
rebuild. HAProxy's status (sessions per replica) is read while the tabs are open, and where the machine's time
goes: the CPU each part used during the load (the replicas, HAProxy, PostgreSQL, the simulator and the leads, this
process as the load client), as cores busy, printed and in the refresh figure's name.

Floor (same run): the same tabs against ``--replicas`` copies of the load benchmark's floor app (the overview
fragment's elements from constants, :func:`bench.bench_load.write_floor_app`) behind the same HAProxy set-up; no
simulator, no leads.

Figures: live fragment refresh p95 (target <= 1000 ms and 0 client errors; ratio to the floor reported), first
page render p95 (reported), client errors and sessions per replica (0 errors, every replica served), simulator
batches failed (0), spoke-lead action errors with the integrity checks (0, no lost update, rollups = rebuild).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import st_client
from bench.bench_load import (
    CACHE_TTL_SECONDS,
    ERROR_WARNINGS,
    LEAD_RATE,
    LEADS,
    SIM_RATE_PER_MIN,
    Leads,
    Simulator,
    check_integrity,
    staggered_load,
    write_floor_app,
)
from bench.common import Figure

SESSIONS = 50
REPLICAS = 2
SECONDS = 60.0
FLOOR_SECONDS = 30.0
REFRESH_SECONDS = 10.0
ITEMS = 10_000_000
FALLBACK_ITEMS = 1_000_000
OBSERVATIONS = 1_000_000  # the KPI observations bench_scale builds its databases with
TARGET_P95_MS = 1000.0
WORK_DATABASE = "bench_cluster"


@dataclass
class Options:
    sessions: int = SESSIONS
    replicas: int = REPLICAS
    seconds: float = SECONDS
    floor_seconds: float = FLOOR_SECONDS
    refresh: float = REFRESH_SECONDS
    items: int = ITEMS
    floor: bool = True
    herd: bool = False  # every tab follows from one moment: all refreshes fire together (worst case)


def _say(text: str) -> None:
    print(f"bench_cluster: {text}", file=sys.stderr, flush=True)


def _size(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


# --- the database -----------------------------------------------------------------------------------------------


def _head_revisions() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "dashboard" / "migrations"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def _complete(server, items: int) -> bool:
    """Whether the bench server holds the demo at ``items`` items, at the schema's head revision, finished (its
    request mark is written last)."""
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine, text

    from dashboard import store
    from dashboard.db import make_engine

    name = f"bench_{_size(items).lower()}"
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                return False
    finally:
        admin.dispose()
    engine = make_engine(server.url(name))
    try:
        with engine.connect() as conn:
            if set(MigrationContext.configure(conn).get_current_heads()) != _head_revisions():
                return False
            mark = store.get_meta(conn, "bench_request")
    except Exception:  # noqa: BLE001 - half-built (no meta table yet): not complete
        return False
    finally:
        engine.dispose()
    return bool(mark) and f"work_items={items} " in f"{mark} " and f"kpi_observations={OBSERVATIONS}" in mark


@contextlib.contextmanager
def bench_database(items: int):
    """(URL of a working copy, label, the server's postmaster.pid): the bench server's demo at ``items`` when
    complete, else at 1M."""
    from sqlalchemy import create_engine, text

    from bench.bench_demo import BENCH_DIR, build_bench_postgres
    from loaders.localpg import LocalPostgres, free_port

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    server = LocalPostgres(BENCH_DIR / "pg", free_port(), durable=False).start()
    admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    try:
        chosen = items
        if not _complete(server, items):
            _say(f"the {_size(items)} database is not ready; measuring at {_size(FALLBACK_ITEMS)}")
            chosen = FALLBACK_ITEMS
            if not _complete(server, chosen):
                build_bench_postgres(server.create_database(f"bench_{_size(chosen).lower()}"),
                                     work_items=chosen, kpi_observations=OBSERVATIONS)
        t0 = time.monotonic()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{WORK_DATABASE}"'))
            conn.execute(text(f'CREATE DATABASE "{WORK_DATABASE}" TEMPLATE "bench_{_size(chosen).lower()}"'))
        _say(f"copied bench_{_size(chosen).lower()} in {time.monotonic() - t0:.0f} s")
        yield server.url(WORK_DATABASE), f"postgresql {_size(chosen)}", server.data / "postmaster.pid"
    finally:
        with contextlib.suppress(Exception), admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{WORK_DATABASE}" WITH (FORCE)'))
        admin.dispose()
        server.stop()


# --- the load ---------------------------------------------------------------------------------------------------


async def _drive(cluster, opts: Options, seconds: float) -> tuple[st_client.LoadResult, dict[str, int]]:
    """The load benchmark's tabs through the balancer — opened over one refresh interval, each following its live
    fragment from the moment it opened (:func:`bench.bench_load.staggered_load`; ``herd``: all from one moment) —
    and HAProxy's sessions per replica, read once every tab is open."""

    async def sessions_per_replica() -> dict[str, int]:
        await asyncio.sleep(opts.refresh + min(5.0, seconds / 2))
        return await asyncio.to_thread(lambda: {name: int(row["scur"]) for name, row in cluster.stats().items()})

    if opts.herd:
        tabs = st_client.load(cluster.url, opts.sessions, seconds, ramp=opts.refresh, error_warnings=ERROR_WARNINGS)
    else:
        tabs = staggered_load(cluster.url, opts.sessions, seconds, ramp=opts.refresh)
    load, per_replica = await asyncio.gather(tabs, sessions_per_replica())
    return load, per_replica


def _cpu_seconds(pid: int, children: bool = False) -> float:
    """CPU seconds (user + system) a process has used, with those of its children it reaped when asked
    (PostgreSQL's postmaster reaps its ended backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu(pid_file: Path | None) -> float:
    """CPU seconds of the PostgreSQL server: its postmaster, the backends it reaped and the ones running."""
    try:
        postmaster = int((pid_file or Path("/nonexistent")).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = _cpu_seconds(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(next(ln for ln in (entry / "status").read_text().splitlines() if ln.startswith("PPid:")).split()[1])
            except (OSError, StopIteration, ValueError):
                continue
            if ppid == postmaster:
                total += _cpu_seconds(int(entry.name))
    return total


def cpu_use(cluster, sim, leads, pid_file: Path | None) -> dict[str, float]:
    """CPU seconds used so far by each part of the set-up (this process is the load client)."""
    return {
        "replicas": sum(_cpu_seconds(cluster.procs[r.name].pid) for r in cluster.members),
        "haproxy": _cpu_seconds(cluster.procs["haproxy"].pid),
        "postgresql": _postgres_cpu(pid_file),
        "simulator+leads": _cpu_seconds(sim.proc.pid) + sum(_cpu_seconds(p.pid) for p in leads.procs),
        "load client": _cpu_seconds(os.getpid()),
    }


def _tracebacks(log: Path) -> list[str]:
    """The distinct tracebacks in a replica's log (their last 12 lines each)."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return []
    blocks: dict[str, str] = {}
    for i, line in enumerate(lines):
        if "Traceback (most recent call last)" in line:
            end = next((j for j in range(i + 1, len(lines)) if lines[j] and not lines[j].startswith(" ")), i)
            block = "\n".join(lines[max(i, end - 11):end + 1])
            blocks.setdefault(lines[end], block)
    return list(blocks.values())


def _cluster(db_url: str, opts: Options, tmp: Path, script: str | None = None):
    from loaders.cluster import Cluster

    return Cluster(db_url, replicas=opts.replicas, run_dir=tmp, script=script,
                   env={"refresh_seconds": opts.refresh, "cache_ttl_seconds": CACHE_TTL_SECONDS})


def measure_floor(db_url: str, opts: Options, tmp: Path) -> st_client.LoadResult:
    app = write_floor_app(db_url, tmp, opts.refresh)
    with _cluster(db_url, opts, tmp / "floor", str(app)) as floor:
        for replica in floor.members:  # warm each: imports, the pickle, plotly
            st_client.run_sessions(replica.url, 1, 0)
        load, _ = st_client.run_sync(_drive(floor, opts, opts.floor_seconds))
        for replica in floor.members:
            for block in _tracebacks(floor.log(replica.name))[:2]:
                _say(f"  floor {replica.name} log:\n{block}")
    return load


def run_cluster(db_url: str, label: str, opts: Options, pg_pid_file: Path | None = None) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="hubspoke-cluster-") as tmpdir:
        tmp = Path(tmpdir)
        floor = None
        if opts.floor:
            _say(f"{label}: floor app on {opts.replicas} replicas, {opts.sessions} sessions x {opts.floor_seconds:g} s")
            floor = measure_floor(db_url, opts, tmp)
            _say(f"floor: {floor.summary()}")
        sim = leads = None
        with _cluster(db_url, opts, tmp / "app") as cluster:
            try:
                for replica in cluster.members:  # warm each replica's imports and caches, as a running site has
                    st_client.run_sessions(replica.url, 1, 0)
                _say(f"{label}: {opts.replicas} replicas, simulator {SIM_RATE_PER_MIN:g}/min + 2 spoke leads + "
                     f"{opts.sessions} live sessions x {opts.seconds:g} s")
                bound = opts.seconds + opts.refresh + 120  # hard stop for the helpers, whatever happens here
                sim = Simulator(db_url, SIM_RATE_PER_MIN, bound)
                leads = Leads.start(db_url, LEAD_RATE, bound)
                sim.first_batch.wait(120)
                cpu_before, t0 = cpu_use(cluster, sim, leads, pg_pid_file), time.monotonic()
                load, per_replica = st_client.run_sync(_drive(cluster, opts, opts.seconds))
                cpu_after, wall = cpu_use(cluster, sim, leads, pg_pid_file), time.monotonic() - t0
                sim.stop()
                lead_results = leads.finish()
                served = {name: int(row["stot"]) for name, row in cluster.stats().items()}
            finally:
                if sim is not None:
                    sim.stop()
                if leads is not None:
                    leads.finish(5)
                for replica in cluster.members:  # the client sees a redacted message: the reason is in the log
                    for block in _tracebacks(cluster.log(replica.name))[:2]:
                        _say(f"  {replica.name} log:\n{block}")
        _say(f"load: {load.summary()}; sessions per replica {per_replica}, served in all {served}")
        cores = {part: (cpu_after[part] - cpu_before[part]) / wall for part in cpu_after}
        cpu_line = ", ".join(f"{part} {used:.2f}" for part, used in cores.items())
        _say(f"cores busy over the load ({wall:.0f} s, {os.cpu_count()} cores): {cpu_line}; "
             f"total {sum(cores.values()):.2f}")
        for e in load.errors[:10]:
            _say(f"  client error: {e}")
        for ln in (sim.failed + sim.problems)[:10]:
            _say(f"  simulator: {ln}")
        for r in lead_results:
            for msg, count in collections.Counter(r["errors"]).most_common(5):
                _say(f"  {r['user']}: {count} x {msg}")
        problems = check_integrity(db_url, lead_results)
        for p in problems[:10]:
            _say(f"  integrity: {p}")

    ms = 1000.0
    who = f"{label}, {opts.replicas} replicas behind HAProxy, {opts.sessions} sessions, sim {SIM_RATE_PER_MIN / 60:g} items/s, 2 spoke leads"
    frag_p95 = st_client.p95(load.fragment_runs_s) * ms
    # a floor whose runs failed measured errors, not the work: no ratio then (the failure is printed above)
    floor_ok = floor is not None and bool(floor.fragment_runs_s) and not floor.errors
    floor_p95 = st_client.p95(floor.fragment_runs_s) * ms if floor_ok else None
    errors = len(load.errors)
    spread = ", ".join(f"{name} {n}" for name, n in sorted(per_replica.items()))
    figures = [
        Figure(f"cluster live fragment refresh p95 ({who}; {len(load.fragment_runs_s)} runs, {load.overruns} overruns, "
               f"every {opts.refresh:g} s, tabs opened over {opts.refresh:g} s"
               f"{', all refreshing in step' if opts.herd else ''}, {opts.seconds:g} s; cores busy: "
               f"{cpu_line} of {os.cpu_count()}"
               f"{f'; floor failed: {len(floor.errors)} errors' if floor is not None and floor.errors else ''})",
               frag_p95, "ms", floor_p95, f"<= {TARGET_P95_MS:g} ms and 0 errors",
               frag_p95 <= TARGET_P95_MS and errors == 0 and bool(load.fragment_runs_s)),
        Figure(f"cluster first page render p95 ({who}, starts spread over {opts.refresh:g} s)",
               st_client.p95(load.first_runs_s) * ms, "ms", None, "reported", True),
        Figure(f"cluster client errors ({who}; open sessions per replica: {spread})", errors, "errors", None,
               "0, every replica serving",
               errors == 0 and len(load.first_runs_s) == opts.sessions
               and len(per_replica) == opts.replicas and all(n > 0 for n in per_replica.values())),
        Figure(f"cluster simulator batches failed ({label}, {sim.batches} batches, "
               f"{'?' if sim.items_per_second is None else f'{sim.items_per_second:.0f}'} of "
               f"{SIM_RATE_PER_MIN / 60:g} new items/s written)",
               len(sim.failed), "batches", None, "0", not sim.failed and not sim.problems and sim.batches > 0),
    ]
    ok = sum(len(r["ok"]) for r in lead_results)
    conflicts = sum(len(r["conflicts"]) for r in lead_results)
    stale = sum(len(r["stale_refused"]) for r in lead_results)
    lead_errors = sum(len(r["errors"]) for r in lead_results)
    figures.append(Figure(
        f"cluster spoke-lead action errors ({label}: {ok} resolved, {conflicts} conflicts with the simulator, "
        f"{stale} stale replays refused; integrity {'ok' if not problems else f'{len(problems)} problems'})",
        lead_errors, "errors", None, "0 errors, no lost update, rollups = rebuild",
        lead_errors == 0 and not problems and len(lead_results) == len(LEADS) and ok > 0))
    return figures


def run(opts: Options | None = None) -> list[Figure]:
    from loaders.cluster import HaproxyUnavailable, haproxy_binary
    from loaders.localpg import PostgresUnavailable, pg_bin

    opts = opts or Options()
    try:
        haproxy_binary()
        pg_bin()
    except (HaproxyUnavailable, PostgresUnavailable) as exc:
        _say(f"skipped: {exc}")
        return []
    with bench_database(opts.items) as (url, label, pid_file):
        return run_cluster(url, label, opts, pid_file)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_cluster", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=SESSIONS)
    ap.add_argument("--replicas", type=int, default=REPLICAS)
    ap.add_argument("--seconds", type=float, default=SECONDS)
    ap.add_argument("--floor-seconds", type=float, default=FLOOR_SECONDS)
    ap.add_argument("--refresh", type=float, default=REFRESH_SECONDS, help="the live fragment's run_every (s)")
    ap.add_argument("--items", type=int, default=ITEMS, choices=(FALLBACK_ITEMS, ITEMS))
    ap.add_argument("--no-floor", action="store_true")
    ap.add_argument("--herd", action="store_true", help="every tab follows from the same moment: refreshes in step")
    args = ap.parse_args(argv)
    if not (1 <= args.sessions <= 200 and 1 <= args.replicas <= 8 and 1 <= args.seconds <= 3600):
        ap.error("bounded: 1..200 sessions, 1..8 replicas, 1..3600 s")
    opts = Options(sessions=args.sessions, replicas=args.replicas, seconds=args.seconds,
                   floor_seconds=args.floor_seconds, refresh=args.refresh, items=args.items, floor=not args.no_floor,
                   herd=args.herd)
    for fig in run(opts):
        print(fig.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
