"""Live feed: new work items, progress on open ones and fresh KPI observations, batch by batch.

Every ~``tick`` seconds one batch is written in ONE transaction through :mod:`dashboard.store`, so the
rollups move with the rows and a batch interrupted midway (even by SIGKILL) leaves nothing behind.
Routes, kinds, channels, texts and SLA hours follow the demo (:mod:`loaders.demo`); units and KPIs are read
from the database, and KPI levels continue from each KPI's recent observations. Items the hub routes out (leads,
mentions, complaints, notices, reports, insights) arrive without a target and are routed by the ACTIVE routing
rule set (:mod:`dashboard.services.autoroute`, re-read with one small query per batch), so a newly published rule set
changes the live flows at once; items no rule matches wait unrouted at the hub (the simulator leaves them to
people), and each batch routes the waiting ones again with the active set. With no active set the demo's own
routes are kept, so a database without rules still runs. SIGINT/SIGTERM finish the
current batch and stop cleanly. While the database is unreachable (a restart, a network cut) the loop waits
and tries again with a growing delay (at most :data:`RETRY_CAP_S`), for as long as it takes; other database
errors skip the batch, and :data:`MAX_FAILED_BATCHES` of them in a row end the run.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, and_, func, not_, select
from sqlalchemy.exc import DBAPIError

from dashboard import errors, store
from dashboard.db import kpi_hourly, kpis, units, work_items
from dashboard.domain.kpi_ranges import is_share
from dashboard.domain.vocabulary import Aggregation, ItemKind, Status
from dashboard.services import autoroute
from loaders.spec import DATASET, DERIVED_KPIS, ROUTES, RouteSpec, route_attributes

UTC = dt.UTC
ACTOR = "simulator"
KPI_INTERVAL_S = 30.0  # each KPI gets an observation this often
LEVEL_WINDOW = dt.timedelta(days=7)  # recent history the KPI levels continue from
MOVES_PER_ITEM = 1.8  # accept + resolve, a few resolved straight away: keeps the open pool steady
OVERDUE_SHARE = 0.12  # share of moves spent on overdue items (these resolve outside SLA)
BACKLOG_UNIT = "customer_service"
BACKLOG_SKIP = 0.35  # moves on the backlog spoke's items are skipped this often: its backlog keeps growing
MAX_FAILED_BATCHES = 10  # consecutive failures that are not connection losses
RETRY_CAP_S = 30.0  # longest wait between tries while the database is unreachable


class NothingToSimulate(RuntimeError):
    """The database has no organisation (or not the demo's); the message says what to run."""


# --- model read from the database -----------------------------------------------------------------------


@dataclass
class KpiFeed:
    """How one KPI's observations continue: a rate per hour for sums, a level for means and lasts."""

    id: str
    aggregation: Aggregation
    unit_of_measure: str
    per_hour: float = 0.0
    level: float = 0.0
    last_us: int = 0


@dataclass(frozen=True)
class SimModel:
    routes: tuple[RouteSpec, ...]
    shares: np.ndarray
    feeds: tuple[KpiFeed, ...]
    hub: str | None = None  # the hub whose outgoing items the routing rules route
    unit_ids: frozenset[str] = frozenset()


def _us(ts: dt.datetime) -> int:
    return int(ts.timestamp() * 1_000_000)


def _kpi_feeds(conn: Connection, now: dt.datetime) -> tuple[KpiFeed, ...]:
    kh = kpi_hourly.c
    since = int((now - LEVEL_WINDOW).timestamp() // 3600)
    recent = pd.DataFrame(
        conn.execute(
            select(kh.kpi_id, func.sum(kh.n).label("n"), func.sum(kh.sum).label("sum"),
                   func.min(kh.hour).label("first_hour"), func.max(kh.last_ts).label("last_ts"))
            .where(kh.hour >= since).group_by(kh.kpi_id)
        ).mappings().all(),
        columns=["kpi_id", "n", "sum", "first_hour", "last_ts"],
    ).set_index("kpi_id")
    feeds = []
    for k in conn.execute(select(kpis.c.id, kpis.c.aggregation, kpis.c.unit_of_measure, kpis.c.target)).mappings():
        feed = _feed_for(k, recent.loc[k["id"]] if k["id"] in recent.index else None, now)
        if feed is not None:
            feeds.append(feed)
    return tuple(feeds)


def _feed_for(k, recent: pd.Series | None, now: dt.datetime) -> KpiFeed | None:
    """A KPI continues from its last week; with no history from its target; with neither it is skipped."""
    agg = Aggregation(k["aggregation"])
    feed = KpiFeed(k["id"], agg, k["unit_of_measure"], last_us=_us(now))
    if recent is not None and recent.n > 0:
        feed.last_us = _us(pd.Timestamp(recent.last_ts).to_pydatetime())
        hours = max(1.0, (now.timestamp() / 3600) - float(recent.first_hour))
        feed.per_hour = float(recent["sum"]) / hours
        feed.level = float(recent["sum"]) / float(recent.n)
        return feed
    if k["target"] is None:
        return None
    feed.per_hour = float(k["target"]) / 24
    feed.level = float(k["target"])
    return feed


def load_model(conn: Connection, *, now: dt.datetime, force: bool = False) -> SimModel:
    """Routes of the demo whose units exist, and a feed per KPI; refuses a database without the demo."""
    unit_ids = set(conn.execute(select(units.c.id)).scalars())
    if not unit_ids:
        raise NothingToSimulate("no organisation loaded yet: run `python -m loaders demo` first")
    if store.get_meta(conn, "dataset") != DATASET and not force:
        raise NothingToSimulate(
            "this database does not hold the demo, and the simulator only writes invented data into the demo; "
            "run `python -m loaders demo`, or pass --force to simulate anyway"
        )
    routes = tuple(r for r in ROUTES if r.source in unit_ids and r.target in unit_ids)
    if not routes:
        raise NothingToSimulate("none of the demo's routes fit the units in this database: run `python -m loaders demo`")
    shares = np.array([r.share for r in routes])
    hubs = autoroute.hub_ids(conn)
    return SimModel(routes=routes, shares=shares / shares.sum(), feeds=_kpi_feeds(conn, now),
                    hub=hubs[0] if hubs else None, unit_ids=frozenset(unit_ids))


# --- one batch ------------------------------------------------------------------------------------------


@dataclass
class BatchStats:
    created: int = 0
    moved: int = 0
    resolved: int = 0
    conflicts: int = 0
    observations: int = 0
    routed_by_rules: int = 0  # new items the active rule set routed ...
    unrouted: int = 0  # ... and those it left waiting at the hub
    rerouted: int = 0  # waiting items routed by the active set (e.g. after a publish)

    def add(self, other: BatchStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class IdSource:
    """Ids unique across runs (a random run id) and sequential within one."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    counter: int = 0

    def next(self, n: int) -> list[str]:
        start = self.counter
        self.counter += n
        return [f"sim-{self.run_id}-{i:08d}" for i in range(start + 1, start + n + 1)]


def _new_items(rng: np.random.Generator, model: SimModel, ids: IdSource, now: dt.datetime, seconds: float,
               rate_per_min: float, rule_set: autoroute.RuleSet | None = None) -> pd.DataFrame:
    """Poisson arrivals over the last ``seconds``, with the demo's route mix. With an active ``rule_set`` the
    hub's outgoing items arrive without a target and the rules route them (unmatched: unrouted at the hub);
    without one they keep the route's target and mentions wait for triage."""
    n = int(rng.poisson(rate_per_min / 60 * seconds))
    if n == 0:
        return pd.DataFrame()
    route_idx = rng.choice(len(model.routes), size=n, p=model.shares)
    parts = []
    for i in np.unique(route_idx):
        count = int((route_idx == i).sum())
        parts.append(pd.DataFrame(route_attributes(rng, model.routes[i], count)))
    df = pd.concat(parts, ignore_index=True)
    offsets = np.sort(rng.random(n) * seconds)[::-1]
    df["created_at"] = [now - dt.timedelta(seconds=float(s)) for s in offsets]
    mention = df.kind == ItemKind.MENTION.value
    df["status"] = np.where(mention, Status.NEW.value, Status.ROUTED.value)
    df["routed_at"] = [None if m else c for m, c in zip(mention, df.created_at)]
    df["updated_by"] = ACTOR
    df.insert(0, "id", ids.next(n))
    if rule_set is not None and model.hub is not None:
        df = _route_new(df, rule_set, model, now)
    return df


def _route_new(df: pd.DataFrame, rule_set: autoroute.RuleSet, model: SimModel, now: dt.datetime) -> pd.DataFrame:
    """The hub's outgoing items routed by the active rules; a rule pointing at a unit this database does not
    have leaves the item unrouted rather than failing the batch."""
    hub = model.hub
    outgoing = (df.source_unit == hub).to_numpy()
    df = df.assign(target_unit=np.where(outgoing, None, df.target_unit.to_numpy()),
                   status=np.where(outgoing, Status.NEW.value, df.status.to_numpy()),
                   routed_at=[None if o else r for o, r in zip(outgoing, df.routed_at)])
    routed = autoroute.apply(rule_set, df, hub, now)
    unknown = outgoing & ~routed.target_unit.isin(model.unit_ids).to_numpy()
    if unknown.any():
        routed.loc[unknown, ["target_unit", "status", "rule_id", "priority"]] = [hub, Status.NEW.value, None, None]
        routed.loc[unknown, "routed_at"] = pd.NaT
    return routed


def _candidates(conn: Connection, now: dt.datetime, k: int, overdue: bool) -> pd.DataFrame:
    """Up to ``k`` random open items. On PostgreSQL they are locked here, skipping any a person is editing:
    the batch then takes every item lock before the rollup rows its moves update, as an inbox action does
    (item, then rollup), so the two can never wait for each other in a circle (a deadlock)."""
    wi = work_items.c
    due = wi.due_at <= now if overdue else wi.due_at > now
    waiting = and_(wi.source_unit == wi.target_unit, wi.status == Status.NEW.value)  # unrouted: left to people
    stmt = (select(wi.id, wi.version, wi.status, wi.created_at, wi.due_at, wi.sla_hours, wi.target_unit)
            .where(wi.resolved_at.is_(None), due, not_(waiting)).order_by(func.random()).limit(k))
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = conn.execute(stmt).mappings().all()
    return pd.DataFrame(rows, columns=["id", "version", "status", "created_at", "due_at", "sla_hours", "target_unit"])


def _pick_moves(rng: np.random.Generator, conn: Connection, now: dt.datetime, n_moves: int) -> pd.DataFrame:
    """Open items to move on: mostly not yet due, favouring older ones (so most finish within SLA)."""
    n_overdue = int(rng.binomial(n_moves, OVERDUE_SHARE))
    fresh = _candidates(conn, now, 4 * (n_moves - n_overdue) + 10, overdue=False)
    if not fresh.empty:
        age_h = (now - pd.to_datetime(fresh.created_at, utc=True)).dt.total_seconds() / 3600
        weight = np.clip(age_h / (0.5 * fresh.sla_hours.clip(lower=0.1)), 0.02, 1.0).to_numpy()
        take = min(len(fresh), n_moves - n_overdue)
        fresh = fresh.iloc[rng.choice(len(fresh), size=take, replace=False, p=weight / weight.sum())]
    late = _candidates(conn, now, n_overdue, overdue=True)
    picked = pd.concat([fresh, late], ignore_index=True)
    keep = (picked.target_unit != BACKLOG_UNIT) | (rng.random(len(picked)) >= BACKLOG_SKIP)
    return picked[keep]


def _next_status(rng: np.random.Generator, status: str) -> Status:
    current = Status(status)
    if current is Status.NEW:
        return Status.ROUTED
    if current is Status.ACCEPTED:
        return Status.RESOLVED
    return Status.ACCEPTED if rng.random() < 0.7 else Status.RESOLVED


def _move_items(rng: np.random.Generator, conn: Connection, now: dt.datetime, n_moves: int) -> BatchStats:
    stats = BatchStats()
    for item in _pick_moves(rng, conn, now, n_moves).itertuples():
        target = _next_status(rng, item.status)
        try:
            result = store.transition_item(conn, item.id, expected_version=int(item.version), status=target,
                                           at=now, by=ACTOR)
        except store.UnknownItemError:  # deleted meanwhile (e.g. the demo was rebuilt): not ours to move
            stats.conflicts += 1
            continue
        if result.ok:
            stats.moved += 1
            stats.resolved += target is Status.RESOLVED
        else:
            stats.conflicts += 1
    return stats


def _observation(rng: np.random.Generator, feed: KpiFeed, hours: float, derived: dict[str, float]) -> float:
    if feed.id in derived:
        return derived[feed.id]
    if feed.aggregation is Aggregation.SUM:
        expected = feed.per_hour * hours
        if feed.unit_of_measure == "count":
            return float(rng.poisson(expected))
        return float(expected * rng.lognormal(-0.02, 0.2))
    value = max(0.0, feed.level * (1 + 0.03 * rng.standard_normal()))
    return min(value, 100.0) if is_share(feed.unit_of_measure, feed.level) else value


def _kpi_observations(rng: np.random.Generator, model: SimModel, now: dt.datetime,
                      derived_counts: dict[str, int]) -> list[dict]:
    """One observation per KPI whose interval has passed; sums cover the time since their last one."""
    rows = []
    now_us = _us(now)
    for feed in model.feeds:
        if now_us - feed.last_us < KPI_INTERVAL_S * 1e6:
            continue
        hours = min(now_us - feed.last_us, KPI_INTERVAL_S * 2e6) / 3.6e9
        derived = {feed.id: float(derived_counts.pop(feed.id, 0))} if feed.id in DERIVED_KPIS else {}
        rows.append({"kpi_id": feed.id, "ts": now, "value": round(_observation(rng, feed, hours, derived), 4)})
        feed.last_us = now_us
    return rows


def simulate_batch(conn: Connection, model: SimModel, rng: np.random.Generator, ids: IdSource, *,
                   now: dt.datetime, seconds: float, rate_per_min: float,
                   pending_derived: dict[str, int], rules: autoroute.ActiveRules | None = None) -> BatchStats:
    """Write one batch (waiting items routed, new items, moves, KPI observations) on ``conn``; the caller owns
    the transaction. ``rules`` keeps the active rule set between batches (a fresh one reads it now)."""
    stats = BatchStats()
    rule_set = (rules or autoroute.ActiveRules()).get(conn)
    if rule_set is not None:  # first: its item locks come before any rollup row this batch touches
        stats.rerouted = autoroute.route_waiting(conn, now, rule_set, by=ACTOR)
    items = _new_items(rng, model, ids, now, seconds, rate_per_min, rule_set)
    if not items.empty:
        if rule_set is not None and model.hub is not None:
            outgoing = items.source_unit == model.hub
            stats.unrouted = int((outgoing & (items.target_unit == model.hub)).sum())
            stats.routed_by_rules = int(outgoing.sum()) - stats.unrouted
        stats.created = store.insert_work_items(conn, items)
        for kpi_id, kind in DERIVED_KPIS.items():
            pending_derived[kpi_id] = pending_derived.get(kpi_id, 0) + int((items.kind == kind.value).sum())
    n_moves = int(rng.poisson(MOVES_PER_ITEM * rate_per_min / 60 * seconds))
    if n_moves:
        stats.add(_move_items(rng, conn, now, n_moves))
    obs = _kpi_observations(rng, model, now, pending_derived)
    if obs:
        stats.observations = store.insert_kpi_observations(conn, obs)
    return stats


# --- the loop -------------------------------------------------------------------------------------------


@dataclass
class RunTotals:
    batches: int = 0
    failed: int = 0
    seconds: float = 0.0
    stats: BatchStats = field(default_factory=BatchStats)

    def line(self) -> str:
        s = self.stats
        routed = (f" ({s.routed_by_rules:,} routed by rules, {s.unrouted:,} left unrouted)"
                  if s.routed_by_rules or s.unrouted else "")
        waiting = f", {s.rerouted:,} waiting items routed by rules" if s.rerouted else ""
        return (f"simulate: {self.batches} batches in {self.seconds:.1f} s: +{s.created:,} items{routed}, "
                f"{s.moved:,} moves ({s.resolved:,} resolved, {s.conflicts} conflicts){waiting}, "
                f"{s.observations:,} KPI observations")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM set ``stop`` (the current batch still commits); handlers are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda *_: stop.set())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(engine: Engine, *, rate_per_min: float = 120.0, duration: float | None = None, seed: int | None = None,
        tick: float = 1.0, report_every: int = 10, force: bool = False, stop: threading.Event | None = None,
        out: Callable[[str], None] = print, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC)) -> RunTotals:
    """Write a batch every ``tick`` seconds until ``duration`` passes or ``stop`` is set (or a signal)."""
    if rate_per_min < 0 or tick <= 0:
        raise ValueError("rate must be >= 0 and tick > 0")
    stop = stop or threading.Event()
    rng = np.random.default_rng(seed)
    ids = IdSource()
    rules = autoroute.ActiveRules()
    with engine.connect() as conn:
        model = load_model(conn, now=clock(), force=force)
    totals, window = RunTotals(), BatchStats()
    pending: dict[str, int] = {}
    started = time.monotonic()
    last = started - tick  # the first batch covers one tick
    failures = 0  # consecutive failed batches that were not connection losses
    outage_since: float | None = None  # monotonic time the database stopped answering
    url = engine.url.render_as_string(hide_password=False)  # only to mask its password in messages
    tries = 0
    with _stop_on_signals(stop):
        while not stop.is_set():
            begun = time.monotonic()
            saved = dict(pending), [f.last_us for f in model.feeds]
            try:
                with engine.begin() as conn:
                    stats = simulate_batch(conn, model, rng, ids, now=clock(), seconds=max(begun - last, 0.001),
                                           rate_per_min=rate_per_min, pending_derived=pending, rules=rules)
                if rules.changed:
                    if rules.problems:
                        out("simulate: the active routing rule set is not valid, so new items keep the demo's own "
                            f"routes until it is fixed: {'; '.join(rules.problems)[:300]}")
                    elif totals.batches:
                        out("simulate: a new routing rule set is active; new items follow it"
                            if rules.rule_set is not None else
                            "simulate: no routing rule set is active; new items keep the demo's own routes")
                failures = 0
                if outage_since is not None:
                    out(f"simulate: database answers again after {time.monotonic() - outage_since:.0f} s; resuming")
                    outage_since, tries = None, 0
            except DBAPIError as exc:
                pending.clear()
                pending.update(saved[0])  # the batch rolled back: so does the feed state
                for feed, last_us in zip(model.feeds, saved[1]):
                    feed.last_us = last_us
                totals.failed += 1
                if errors.is_connection_loss(exc):  # a restart or a network cut: wait for it, however long
                    outage_since = outage_since if outage_since is not None else begun
                    delay = min(RETRY_CAP_S, tick * 2 ** min(tries, 16))
                    tries += 1
                    out(f"simulate: database unreachable ({errors.reason(exc, url)}); "
                        f"retrying in {delay:.3g} s")
                    if duration is not None:
                        delay = min(delay, max(0.0, duration - (time.monotonic() - started)))
                    stop.wait(delay)
                    if duration is not None and time.monotonic() - started >= duration:
                        break
                    last = time.monotonic() - tick  # the next batch covers one tick, not the whole outage
                    continue
                failures += 1  # e.g. the demo is being rebuilt: skip this batch, try the next
                out(f"simulate: batch skipped ({errors.reason(exc, url)[:120]})")
                if failures >= MAX_FAILED_BATCHES:
                    raise
                stats = BatchStats()
            last = begun
            totals.batches += 1
            totals.stats.add(stats)
            window.add(stats)
            if report_every and totals.batches % report_every == 0:
                routed = f" ({window.unrouted} unrouted)" if window.unrouted else ""
                waiting = f", {window.rerouted} waiting routed" if window.rerouted else ""
                out(f"simulate: batch {totals.batches}: +{window.created} items{routed}, {window.moved} moves{waiting}, "
                    f"{window.observations} KPI observations")
                window = BatchStats()
            elapsed = time.monotonic() - started
            if duration is not None and elapsed >= duration:
                break
            wait = tick - (time.monotonic() - begun)
            if duration is not None:
                wait = min(wait, duration - elapsed)
            stop.wait(max(0.0, wait))
    totals.seconds = time.monotonic() - started
    out(totals.line())
    return totals
