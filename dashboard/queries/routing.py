"""Routing rule sets as read from the database: the active set, the shared draft, the history; replay inputs.

Who: admins, hub leads and executives read rule sets (spoke leads are refused). Saving, discarding and
publishing drafts are use cases in :mod:`dashboard.services.routing`.

Life of a rule set (table ``routing_rule_sets``): a hub lead starts a *draft* (empty, or a copy of the active
set), edits and replays it, then *publishes* it: in one transaction the draft becomes *active* and the set that
was active becomes *archived*. Nothing is deleted except a discarded draft, so the history shows every
published version with who published it, when and why. There is at most one draft at a time, shared by the
team: saving it carries the ``version`` the editor started from, and a save over someone else's newer save is
refused (:class:`StaleDraft`) instead of silently overwriting it.

Stored JSON is validated with :func:`dashboard.domain.routing.parse_rule_set` whenever it is read.

Replay calibration (:func:`replay_staffing`): a spoke's service rate per FTE per day is estimated from observed
flows as the items the spoke resolved per day in the window, divided by its headcount and by an assumed
utilisation of :data:`ASSUMED_UTILISATION` (people who resolved N items a day while 80 % busy could resolve
N / 0.8 fully busy). When the unit states a capacity (``units.capacity_per_fte_day``, "leads one rep works a
day") the larger of the two is used: a stated capacity below what the spoke demonstrably resolved would put
it over capacity today, which the observed SLA contradicts. A spoke with neither gets the median rate of the
others. ``rate_source`` says which applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, String, func, select, type_coerce

from dashboard.db import flow_hourly, kpis, routing_rule_sets, units, users, work_items
from dashboard.domain.access import Viewer, require
from dashboard.domain.routing import RuleError, RuleSet, parse_rule_set
from dashboard.domain.vocabulary import UnitKind

ASSUMED_UTILISATION = 0.8  # share of a spoke's time observed throughput is assumed to have used (see module doc)
REPLAY_COLUMNS = ("id", "kind", "channel", "topic", "segment", "text", "target_unit", "status", "created_at",
                  "resolved_at", "due_at", "sla_hours")
ITEM_COLUMNS = ("id", "kind", "channel", "topic", "segment", "text", "source_unit", "target_unit", "status",
                "priority", "rule_id", "created_at")
HISTORY_COLUMNS = ("id", "status", "name", "note", "version", "based_on", "created_by", "created_at", "updated_by",
                   "updated_at", "published_by", "published_at")
ACTIONS = ("routing_save", "routing_discard", "routing_publish", "routing_route", "unit_delete")  # audit actions


@dataclass(frozen=True)
class StoredRuleSet:
    id: int
    status: str  # draft | active | archived
    name: str
    rule_set: RuleSet
    note: str | None
    version: int
    based_on: int | None
    created_by: str
    created_at: dt.datetime
    updated_by: str
    updated_at: dt.datetime
    published_by: str | None
    published_at: dt.datetime | None


def hub_ids(conn: Connection) -> list[str]:
    """The hubs' unit ids (every routing read and the system side start from them)."""
    return list(conn.execute(select(units.c.id).where(units.c.kind == UnitKind.HUB.value).order_by(units.c.id)).scalars())


def _reader(viewer) -> Viewer:
    return require(viewer, "can_see_routing", "see the routing rules")


def _stored(row) -> StoredRuleSet:
    try:
        rule_set = parse_rule_set(row["rules"] or {})
    except RuleError as exc:
        raise RuleError([f"stored rule set #{row['id']} ({row['name']}) is invalid: {p}" for p in exc.problems]) from None
    return StoredRuleSet(rule_set=rule_set, **{c: row[c] for c in HISTORY_COLUMNS})


def _one(conn: Connection, *where) -> StoredRuleSet | None:
    row = conn.execute(select(routing_rule_sets).where(*where).order_by(routing_rule_sets.c.id.desc()).limit(1)
                       ).mappings().first()
    return _stored(row) if row else None


def spokes(conn: Connection, viewer) -> list[str]:
    """Spoke ids (rule targets must be one of them), in the organisation's order."""
    _reader(viewer)
    return list(conn.execute(select(units.c.id).where(units.c.kind == "spoke")
                             .order_by(units.c.sort_order, units.c.id)).scalars())


def active_rule_set(conn: Connection, viewer) -> StoredRuleSet | None:
    """The rule set new items are routed with, or None when none was ever published."""
    _reader(viewer)
    return _one(conn, routing_rule_sets.c.status == "active")


def current_draft(conn: Connection, viewer) -> StoredRuleSet | None:
    """The team's draft, if one is being edited."""
    _reader(viewer)
    return _one(conn, routing_rule_sets.c.status == "draft")


def get_rule_set(conn: Connection, viewer, rule_set_id: int) -> StoredRuleSet | None:
    _reader(viewer)
    return _one(conn, routing_rule_sets.c.id == rule_set_id)


def list_rule_sets(conn: Connection, viewer, *, with_rules: bool = False, limit: int = 200) -> pd.DataFrame:
    """The history, newest first: one row per set (draft, active, archived) with who/when/why; ``with_rules``
    adds a ``rule_set`` column (the parsed :class:`RuleSet`) for diffs between versions."""
    _reader(viewer)
    r = routing_rule_sets.c
    cols = [r[c] for c in HISTORY_COLUMNS] + ([r.rules] if with_rules else [])
    rows = conn.execute(select(*cols).order_by(func.coalesce(r.published_at, r.updated_at).desc(), r.id.desc())
                        .limit(limit)).mappings().all()
    frame = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS) + (["rules"] if with_rules else []))
    if with_rules:
        frame["rule_set"] = [_stored(row).rule_set for row in rows]
        frame = frame.drop(columns="rules")
    return frame


def waiting_count(conn: Connection, viewer) -> int:
    """Unrouted items waiting in the hubs' triage queues now (from a hub to itself, status new, open)."""
    _reader(viewer)
    wi = work_items.c
    return int(conn.execute(select(func.count()).select_from(work_items).where(
        wi.source_unit.in_(hub_ids(conn)), wi.target_unit == wi.source_unit, wi.status == "new",
        wi.resolved_at.is_(None))).scalar_one())


# --- replay and "try" --------------------------------------------------------------------------------------


def replay_items(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, cap: int = 2_000_000) -> pd.DataFrame:
    """Items the hub routed out (source is a hub) created in [start, end), with what replay needs
    (``REPLAY_COLUMNS``; ``target_unit`` is where they actually went, the hub itself for unrouted ones)."""
    _reader(viewer)
    wi = work_items.c
    # timestamps as the driver gives them (SQLite: ISO text), converted once per column by pandas: SQLAlchemy's
    # per-value datetime parsing cost ~2/3 of the read at 36k rows
    stamps = {"created_at", "resolved_at", "due_at"}
    cols = [type_coerce(wi[c], String()).label(c) if c in stamps else wi[c] for c in REPLAY_COLUMNS]
    stmt = (select(*cols).where(wi.source_unit.in_(hub_ids(conn)), wi.created_at >= start, wi.created_at < end)
            .order_by(wi.created_at).limit(cap))
    rows = conn.execute(stmt).all()
    # column by column: pandas probing each SQLAlchemy Row for namedtuple fields cost 2 s at 36k rows
    frame = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in
                          zip(REPLAY_COLUMNS, zip(*rows) if rows else [()] * len(REPLAY_COLUMNS))})
    for col in stamps:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    frame["sla_hours"] = frame["sla_hours"].astype(float)
    return frame


def replay_staffing(conn: Connection, viewer, start: dt.datetime, end: dt.datetime,
                    utilisation: float = ASSUMED_UTILISATION) -> pd.DataFrame:
    """One row per spoke: unit, name, headcount, service_rate_per_fte_day (items one FTE completes a day),
    rate_source ('capacity' | 'observed' | 'median of the others' | 'none'), resolved_per_day. See the module doc
    (the capacity a unit states, unless it demonstrably resolved more; else observed throughput at 80 %)."""
    _reader(viewer)
    if not 0 < utilisation <= 1:
        raise ValueError("utilisation must be in (0, 1]")
    u, wi = units.c, work_items.c
    spokes_ = pd.DataFrame(conn.execute(select(u.id, u.name, u.headcount, u.capacity_per_fte_day)
                                        .where(u.kind == "spoke").order_by(u.sort_order, u.id)).all(),
                           columns=["unit", "name", "headcount", "capacity_per_fte_day"])
    resolved = dict(conn.execute(select(wi.target_unit, func.count()).where(
        wi.resolved_at >= start, wi.resolved_at < end, wi.target_unit.in_(spokes_.unit.tolist()))
        .group_by(wi.target_unit)).all())
    days = max((end - start).total_seconds() / 86400, 1 / 24)
    spokes_["headcount"] = pd.to_numeric(spokes_.headcount, errors="coerce").fillna(0.0).astype(float)
    spokes_["resolved_per_day"] = spokes_.unit.map(resolved).fillna(0).astype(float) / days
    capacity = pd.to_numeric(spokes_.capacity_per_fte_day, errors="coerce")
    observed = (spokes_.resolved_per_day / spokes_.headcount.where(spokes_.headcount > 0) / utilisation)
    observed = observed.where(observed > 0)
    capacity = capacity.where(capacity > 0)
    use_capacity = capacity.notna() & ~(observed > capacity)
    rate = capacity.where(use_capacity, observed)
    source = pd.Series("none", index=spokes_.index, dtype=object)
    source[observed.notna()] = "observed"
    source[use_capacity] = "capacity"
    fallback = rate.median() if rate.notna().any() else float("nan")
    missing = rate.isna() & pd.notna(fallback)
    rate[missing] = fallback
    source[missing] = "median of the others"
    spokes_["service_rate_per_fte_day"] = rate.astype(float)
    spokes_["rate_source"] = source
    return spokes_[["unit", "name", "headcount", "service_rate_per_fte_day", "rate_source", "resolved_per_day"]]


def find_item(conn: Connection, viewer, item_id: str) -> dict | None:
    """One item's routable attributes (kind, channel, topic, segment, text) and where it went, for "Try"."""
    _reader(viewer)
    item_id = (item_id or "").strip()
    if not item_id:
        return None
    wi = work_items.c
    row = conn.execute(select(*[wi[c] for c in ITEM_COLUMNS]).where(wi.id == item_id)).mappings().first()
    return dict(row) if row else None


# --- units -------------------------------------------------------------------------------------------------


def list_units_for_admin(conn: Connection, viewer) -> pd.DataFrame:
    """Units with how much refers to each (items, KPIs, users), for the admin page's delete section."""
    require(viewer, "is_admin", "manage units")
    u = units.c
    frame = pd.DataFrame(conn.execute(select(u.id, u.name, u.kind, u.headcount).order_by(u.sort_order, u.id)).all(),
                         columns=["id", "name", "kind", "headcount"])
    n_kpis = dict(conn.execute(select(kpis.c.unit_id, func.count()).group_by(kpis.c.unit_id)).all())
    n_users = dict(conn.execute(select(users.c.unit, func.count()).where(users.c.unit.isnot(None))
                                .group_by(users.c.unit)).all())
    # items from the rollup (cheap at any scale): created counts per unit at either end
    fh = flow_hourly.c
    by_source = dict(conn.execute(select(fh.source_unit, func.sum(fh.created)).group_by(fh.source_unit)).all())
    by_target = dict(conn.execute(select(fh.target_unit, func.sum(fh.created))
                                  .where(fh.source_unit != fh.target_unit).group_by(fh.target_unit)).all())
    frame["items"] = [int(by_source.get(i, 0) or 0) + int(by_target.get(i, 0) or 0) for i in frame.id]
    frame["kpis"] = frame.id.map(n_kpis).fillna(0).astype(int)
    frame["users"] = frame.id.map(n_users).fillna(0).astype(int)
    return frame
