"""Reliability under concurrent writers: imports, inbox actions and the live simulator on the same items at once.

``python -m bench.bench_writers [--seconds 40] [--backend sqlite|postgresql|both]`` or, inside ``make bench``,
:func:`run`. Localhost only, bounded in time, and everything it starts (a throwaway PostgreSQL, the importer
and simulator processes, the spoke leads) is stopped and removed again, also on failure.

Set-up per engine: the demo organisation at ``ITEMS`` work items (a SQLite file in a temporary folder; a
database on a throwaway PostgreSQL server). For ``--seconds`` these write at once:

- ``IMPORTERS`` importers, each a loop of ``python -m loaders ingest FILE --force`` (the real command line, its
  own process and engine) on a work-items file of ``SHARED`` items every importer writes (open items of the two
  spoke leads' inboxes, so imports and actions meet on the same rows) and ``NEW`` new ids that two importers
  share; every round changes the text, so every run updates rows another writer may hold;
- the simulator (``python -m loaders simulate``, 50 new items/s plus its moves on open items);
- two spoke leads (sales, finance; :func:`bench.bench_load.lead_worker`): resolve an open item of their inbox
  twice a second with the version they read, every 5th a replay of a stale version that must be refused.

Figures per engine (targets: nothing lost, nothing drifts, nothing surfaces to people):
- errors surfaced: import runs that ended with a database error (exit 2), lead actions that raised, simulator
  batches skipped; target 0.
- lost updates: a lead's resolve reported done whose row later holds an older version, or that version with
  another writer's content; a stale replay accepted; audit entries not matching the resolves; target 0.
  (A later import or simulator move on the same item is a newer write, not a lost one.)
- rollup drift: cells of the rollup tables (flow, KPI, mix and text per hour) that differ from ``store.rebuild_rollups``; target 0.
- conflicts survived by retry (context): PostgreSQL's own count of deadlocks it broke in this database
  (``pg_stat_database.deadlocks``); each was rolled back and run again by ``dashboard.db.write_transaction``
  or the simulator's next batch.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.bench_load import Leads, Simulator
from bench.common import Figure

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 20_000
IMPORTERS = 4
SHARED = 600
NEW = 200
SECONDS = 40.0
SIM_RATE_PER_MIN = 3000.0
LEAD_RATE = 2.0


@contextlib.contextmanager
def sqlite_database():
    from dashboard.db import make_engine, migrate
    from loaders import demo

    with tempfile.TemporaryDirectory(prefix="hubspoke-writers-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'writers.db'}"
        engine = make_engine(url)
        migrate(engine)
        demo.load_demo(engine, work_items=ITEMS, kpi_observations=ITEMS // 5)
        engine.dispose()
        yield url


@contextlib.contextmanager
def postgres_database():
    from dashboard.db import make_engine, migrate
    from loaders import demo
    from tests.pg import TempPostgres

    server = TempPostgres().start()
    try:
        url = server.create_database("writers")
        engine = make_engine(url)
        migrate(engine)
        demo.load_demo(engine, work_items=ITEMS, kpi_observations=ITEMS // 5)
        engine.dispose()
        yield url
    finally:
        server.stop()
        server.cleanup()


def shared_items(db_url: str) -> list[dict]:
    """Open hub items of the two leads' spokes: the rows imports, actions and the simulator all touch."""
    from sqlalchemy import select

    from dashboard.db import make_engine, work_items

    engine = make_engine(db_url)
    wi = work_items.c
    with engine.connect() as conn:
        rows = conn.execute(select(wi.id, wi.kind, wi.source_unit, wi.target_unit, wi.channel, wi.created_at,
                                   wi.sla_hours)
                            .where(wi.source_unit == "hub", wi.target_unit.in_(["sales", "finance"]),
                                   wi.status.in_(["routed", "accepted"]))
                            .order_by(wi.created_at.desc()).limit(SHARED)).mappings().all()
    engine.dispose()
    return [dict(r) for r in rows]


def write_file(path: Path, shared: list[dict], importer: int, round_: int, now: dt.datetime) -> None:
    rng = random.Random(importer * 1000 + round_)
    lines = ["id,kind,source_unit,target_unit,channel,created_at,status,sla_hours,text"]
    rows = list(shared)
    rng.shuffle(rows)  # every importer in its own order: the store must lock in one order regardless
    for r in rows:
        lines.append(f"{r['id']},{r['kind']},{r['source_unit']},{r['target_unit']},{r['channel']},"
                     f"{r['created_at'].isoformat()},routed,{r['sla_hours']},importer {importer} round {round_}")
    pair = importer // 2  # importers 0+1 and 2+3 share their new ids
    created = (now - dt.timedelta(hours=1)).isoformat()
    for i in range(NEW):
        lines.append(f"bw-{pair}-{i},lead,hub,sales,web,{created},routed,24,importer {importer} round {round_}")
    path.write_text("\n".join(lines) + "\n")


class Importer(threading.Thread):
    """One importer: its own file, re-imported with new text until told to stop."""

    def __init__(self, db_url: str, number: int, shared: list[dict], folder: Path, stop: threading.Event):
        super().__init__(daemon=True, name=f"importer-{number}")
        self.db_url, self.number, self.shared, self.folder, self.stop_event = db_url, number, shared, folder, stop
        self.runs = 0
        self.errors: list[str] = []

    def run(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DASHBOARD_DATABASE_URL": self.db_url}
        path = self.folder / f"import-{self.number}.csv"
        now = dt.datetime.now(dt.UTC)
        while not self.stop_event.is_set():
            write_file(path, self.shared, self.number, self.runs, now)
            done = subprocess.run([sys.executable, "-m", "loaders", "ingest", str(path), "--force", "--source",
                                   f"bench-{self.number}", "--database-url", self.db_url],
                                  cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
            self.runs += 1
            if done.returncode not in (0, 1):  # 1: some rows quarantined (not a writer error)
                self.errors.append((done.stderr or done.stdout).strip().splitlines()[-1][:300])


def lost_updates(db_url: str, leads: list[dict]) -> list[str]:
    """A resolve reported done that a stale writer overwrote (see the module doc), a stale replay accepted, or
    audit entries that do not match the resolves."""
    from sqlalchemy import func, select

    from bench.bench_load import item_rows
    from dashboard.db import audit_log, make_engine

    problems = []
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for r in leads:
                user = r["user"]
                rows = item_rows(conn, sorted({i for i, _, _ in r["ok"]}))
                for item_id, _, version in r["ok"]:
                    row = rows.get(item_id)
                    if row is None or row["version"] < version or (
                            row["version"] == version and (row["status"], row["updated_by"]) != ("resolved", user)):
                        problems.append(f"{user}: resolve of {item_id} (v{version}) lost: {row and dict(row)}")
                problems += [f"{user}: stale v{seen} of {item_id} accepted" for item_id, seen, _ in r["stale_accepted"]]
                audited = conn.execute(select(func.count()).select_from(audit_log).where(
                    audit_log.c.user == user, audit_log.c.action == "item_action")).scalar_one()
                if audited != len(r["ok"]):
                    problems.append(f"{user}: {audited} audit entries for {len(r['ok'])} resolves done")
    finally:
        engine.dispose()
    return problems


def rollup_drift(db_url: str) -> list[str]:
    from bench.bench_load import rollup_drift as drift_on
    from dashboard.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [f"{label}: {', '.join(cols)}" for label, cols in drift_on(conn)]
    finally:
        engine.dispose()


def deadlocks(db_url: str) -> int | None:
    if not db_url.startswith("postgresql"):
        return None
    from sqlalchemy import text

    from dashboard.db import make_engine

    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar_one())
    finally:
        engine.dispose()


def run_backend(db_url: str, label: str, seconds: float, say=print) -> list[Figure]:
    shared = shared_items(db_url)
    before = deadlocks(db_url)
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="hubspoke-writers-files-") as tmp:
        importers = [Importer(db_url, i, shared, Path(tmp), stop) for i in range(IMPORTERS)]
        sim = Simulator(db_url, SIM_RATE_PER_MIN, seconds + 30)
        leads = Leads.start(db_url, LEAD_RATE, seconds + 30)
        try:
            sim.first_batch.wait(60)
            for imp in importers:
                imp.start()
            time.sleep(seconds)
        finally:
            stop.set()
            results = leads.finish()
            for imp in importers:
                imp.join(300)
            sim.stop()
    after = deadlocks(db_url)
    import_errors = [e for imp in importers for e in imp.errors]
    lead_errors = [e for r in results for e in r["errors"]]
    lost = lost_updates(db_url, results)
    drift = rollup_drift(db_url)
    runs = sum(imp.runs for imp in importers)
    resolves = sum(len(r["ok"]) for r in results)
    refused = sum(len(r["conflicts"]) + len(r["stale_refused"]) for r in results)
    context = (f"{label}, {seconds:.0f} s: {runs} imports of {SHARED + NEW:,} rows by {IMPORTERS} importers, "
               f"{resolves} resolves and {refused} refused stale versions by 2 leads, {sim.batches} simulator batches")
    for line in (import_errors + lead_errors + sim.failed + lost + drift)[:10]:
        say(f"  {label}: {line}")
    surfaced = len(import_errors) + len(lead_errors) + len(sim.failed)
    figures = [
        Figure(f"writers: errors surfaced ({context})", surfaced, "errors", None, "0", surfaced == 0),
        Figure(f"writers: lost updates ({label})", len(lost), "updates", None, "0", not lost),
        Figure(f"writers: rollup drift ({label}; cells differing from a rebuild)", len(drift), "tables", None, "0",
               not drift),
    ]
    if before is not None and after is not None:
        figures.append(Figure(f"writers: deadlocks broken by the server and run again ({label})", after - before,
                              "deadlocks", None, "- (context)", True))
    return figures


def run(backends: tuple[str, ...] = ("sqlite", "postgresql"), seconds: float = SECONDS) -> list[Figure]:
    figures: list[Figure] = []
    for backend in backends:
        database = sqlite_database if backend == "sqlite" else postgres_database
        label = f"SQLite {ITEMS // 1000}k" if backend == "sqlite" else f"PostgreSQL {ITEMS // 1000}k"
        with database() as url:
            figures += run_backend(url, label, seconds)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_writers", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args(argv)
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for fig in run(backends, args.seconds):
        print(fig.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
