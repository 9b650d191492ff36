"""The routing rules on the system side: the simulator and the file import route new items with the ACTIVE set.

No viewer here: these run as the system (the simulator, an import already authorised by its caller). People
read and replay rule sets through :mod:`dashboard.queries.routing` and edit and publish them through
:mod:`dashboard.services.routing`; the rules themselves and their evaluation are pure
(:mod:`dashboard.domain.routing`).

- :func:`active_rule_set` reads the published set (``None`` when none is active).
- :func:`apply` fills target, priority, rule, SLA, due time and status for new items that arrive without a
  target. An item no rule matches is **unrouted**: it stays at the hub (``target_unit`` = the hub, status
  ``new``) where the hub triages it; it is never dropped.
- :func:`route_waiting` routes the unrouted items already waiting at the hub with the active set (after a
  new set is published, say), moving their rollup contributions in the same transaction.
- :class:`ActiveRules` re-reads the active set cheaply (one small query; parsed again only when it changed),
  for a loop that routes every second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, select

from dashboard import store
from dashboard.db import routing_rule_sets, work_items
from dashboard.domain.routing import RuleError, RuleSet, parse_rule_set, route_frame
from dashboard.domain.vocabulary import Status
from dashboard.queries.routing import hub_ids

UTC = dt.UTC
ACTOR = "routing rules"
WAITING_LIMIT = 5_000  # unrouted items routed per call of route_waiting (the oldest first)
ROUTE_INPUTS = ("kind", "channel", "topic", "segment", "text")
ROUTED_COLUMNS = ("target_unit", "priority", "rule_id", "sla_hours", "due_at", "status", "routed_at")  # what apply sets
LATER = (Status.ACCEPTED.value, Status.RESOLVED.value, Status.HANDED_BACK.value)  # a status routing keeps


class InvalidActiveRules(RuleError):
    """The active rule set stored in the database does not validate (it was written around the app)."""


def _active_row(conn: Connection):
    r = routing_rule_sets.c
    return conn.execute(
        select(r.id, r.name, r.version, r.updated_at, r.published_at, r.rules)
        .where(r.status == "active").order_by(r.published_at.desc().nulls_last(), r.id.desc()).limit(1)
    ).mappings().first()


def active_rule_set(conn: Connection) -> RuleSet | None:
    """The active (published) rule set, validated; ``None`` when no set is active.

    Raises :class:`InvalidActiveRules` (a :class:`~dashboard.domain.routing.RuleError` with every problem) when
    the stored set does not validate.
    """
    row = _active_row(conn)
    return None if row is None else _parse(row)


def _parse(row) -> RuleSet:
    try:
        return parse_rule_set(row["rules"])
    except RuleError as exc:
        raise InvalidActiveRules([f"active rule set {row['name']!r} (#{row['id']}): {p}" for p in exc.problems]) from None


@dataclass
class ActiveRules:
    """The active set, re-read cheaply: one small query (id, version, times) per :meth:`get`; the JSON is read
    and parsed again only when another set was published or the active one changed. An invalid stored set is
    reported once (through ``problems``) and treated as no set, so a loop keeps running."""

    key: tuple | None = ("not read yet",)
    rule_set: RuleSet | None = None
    problems: list[str] = field(default_factory=list)
    changed: bool = False  # whether the last get() saw a different set than the one before

    def get(self, conn: Connection) -> RuleSet | None:
        r = routing_rule_sets.c
        head = conn.execute(
            select(r.id, r.version, r.updated_at, r.published_at).where(r.status == "active")
            .order_by(r.published_at.desc().nulls_last(), r.id.desc()).limit(1)
        ).first()
        key = tuple(head) if head is not None else None
        self.changed = key != self.key
        if not self.changed:
            return self.rule_set
        self.key, self.problems = key, []
        if head is None:
            self.rule_set = None
            return None
        try:
            self.rule_set = active_rule_set(conn)
        except InvalidActiveRules as exc:
            self.rule_set, self.problems = None, list(exc.problems)
        return self.rule_set


# --- routing new items -------------------------------------------------------------------------------


def _missing(values: pd.Series) -> np.ndarray:
    s = values.astype(object)
    return (s.isna() | (s.astype(str).str.strip() == "")).to_numpy()


def needs_routing(frame: pd.DataFrame) -> np.ndarray:
    """Rows without a target (missing or empty ``target_unit``)."""
    if "target_unit" not in frame.columns:
        return np.ones(len(frame), dtype=bool)
    return _missing(frame["target_unit"])


def _times(values: Any, n: int) -> pd.Series:
    if values is None:
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[us, UTC]")
    return pd.to_datetime(pd.Series(values).reset_index(drop=True), utc=True).astype("datetime64[us, UTC]")


def apply(rule_set: RuleSet | None, frame: pd.DataFrame, hub_id: str, now: dt.datetime | None) -> pd.DataFrame:
    """``frame`` with its items from ``hub_id`` that have no target routed by ``rule_set`` (a copy; same index).

    A matched item gets the rule's target and priority (an item that already names a priority keeps it), its
    ``rule_id`` (``"default"`` when the default rule sent it), the rule's SLA when the rule sets one (else its
    own ``sla_hours``), ``due_at`` = created + SLA (a given ``due_at`` stays unless the rule sets the SLA),
    status ``routed`` and ``routed_at`` = ``now`` (not before it was created, nor after it was accepted or
    resolved; ``now=None``: at creation, which keeps a re-imported file identical). An item no rule
    matches (or every item when ``rule_set`` is None) is unrouted: target = the hub, status ``new``, no
    ``routed_at``. Items whose status is already later (accepted, resolved, handed back: history being
    imported) keep their status and times; they only get the target. Rows with a target, and rows from other
    units, are returned unchanged.
    """
    out = frame.copy()
    if out.empty:
        return out
    todo = needs_routing(out) & (out["source_unit"].astype(object).to_numpy() == hub_id)
    if not todo.any():
        return out
    for c in ("target_unit", "priority", "rule_id", "segment", "topic", "text", "routed_at", "due_at"):
        if c not in out.columns:
            out[c] = None
    sub = out.loc[todo]
    n = len(sub)
    if rule_set is None:
        decided = pd.DataFrame({"target_unit": [None] * n, "priority": [None] * n, "sla_hours": np.nan,
                                "rule_id": [None] * n}, index=sub.index)
    else:
        inputs = pd.DataFrame({c: sub[c].astype(object).where(sub[c].notna(), None) for c in ROUTE_INPUTS},
                              index=sub.index)
        decided = route_frame(rule_set, inputs)
    target = decided["target_unit"].astype(object)
    matched = target.notna().to_numpy()
    created = _times(sub["created_at"], n)
    sla = pd.to_numeric(sub["sla_hours"], errors="coerce").to_numpy(dtype=float)
    rule_sla = pd.to_numeric(decided["sla_hours"], errors="coerce").to_numpy(dtype=float)
    sla = np.where(matched & ~np.isnan(rule_sla), rule_sla, sla)
    status = sub["status"].astype(object).where(sub["status"].notna(), Status.NEW.value).to_numpy() \
        if "status" in sub.columns else np.full(n, Status.NEW.value, dtype=object)
    later = np.isin(status, LATER)
    given_priority = sub["priority"].astype(object).where(~pd.Series(_missing(sub["priority"]), index=sub.index), None)

    routed_at = _times(sub["routed_at"], n)
    when = created
    if now is not None:  # routed now, but never before the item was created
        at = pd.Series(pd.Timestamp(now).tz_convert(UTC), index=created.index).astype(created.dtype)
        when = at.where(at >= created, created)
    for limit in ("accepted_at", "resolved_at"):  # never routed after it was taken on or resolved
        if limit in sub.columns:
            bound = _times(sub[limit], n)
            when = when.where(bound.isna() | (when <= bound), bound)
    routed_at = routed_at.where(routed_at.notna(), when)
    routed_at = routed_at.where(matched | later, pd.NaT)

    out.loc[todo, "target_unit"] = np.where(matched, target.to_numpy(), hub_id)
    out.loc[todo, "priority"] = np.where(given_priority.notna().to_numpy(), given_priority.to_numpy(),
                                         np.where(matched, decided["priority"].astype(object).to_numpy(), None))
    out.loc[todo, "rule_id"] = np.where(matched, decided["rule_id"].astype(object).to_numpy(), None)
    out.loc[todo, "sla_hours"] = sla
    given_due = _times(sub["due_at"], n)
    new_due = created + pd.to_timedelta(np.round(sla * 3_600e6), unit="us")
    rule_set_sla = pd.Series(matched & ~np.isnan(rule_sla))
    # kept in microseconds throughout: a due time past the year 2262 would wrap round in nanoseconds
    due = _times(out["due_at"], len(out))
    due.iloc[np.flatnonzero(todo)] = new_due.where(rule_set_sla | given_due.isna(), given_due).array
    out["due_at"] = pd.Series(due.array, index=out.index)
    out.loc[todo, "status"] = np.where(later, status, np.where(matched, Status.ROUTED.value, Status.NEW.value))
    out.loc[todo, "routed_at"] = routed_at.to_numpy()
    out["routed_at"] = pd.to_datetime(out["routed_at"], utc=True)
    return out


@dataclass(frozen=True)
class Outcome:
    """How many of a frame's items the rules routed, and how many they left waiting at the hub."""

    routed: int
    unrouted: int

    def line(self) -> str:
        return f"{self.routed:,} routed by rules, {self.unrouted:,} left unrouted"


def outcome(before: pd.DataFrame, after: pd.DataFrame, hub_ids: list[str]) -> Outcome:
    todo = needs_routing(before) & before["source_unit"].isin(hub_ids).to_numpy()
    unrouted = todo & after["target_unit"].isin(hub_ids).to_numpy()
    return Outcome(routed=int((todo & ~unrouted).sum()), unrouted=int(unrouted.sum()))


# --- routing the items already waiting ---------------------------------------------------------------

_UNSET = object()


def waiting_items(conn: Connection, hub_id: str, *, limit: int = WAITING_LIMIT, lock: bool = True) -> pd.DataFrame:
    """Unrouted items waiting at the hub (source = target = hub, status new, open), oldest first. On PostgreSQL
    they are locked, skipping any a person holds (the hub lead triaging it wins)."""
    wi = work_items.c
    stmt = (select(wi.id, wi.version, *[wi[c] for c in ROUTE_INPUTS], wi.source_unit, wi.created_at,
                   wi.sla_hours, wi.status, wi.priority)
            .where(and_(wi.source_unit == hub_id, wi.target_unit == hub_id, wi.status == Status.NEW.value,
                        wi.resolved_at.is_(None)))
            .order_by(wi.created_at, wi.id).limit(limit))
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return pd.DataFrame(conn.execute(stmt).mappings().all(),
                        columns=["id", "version", *ROUTE_INPUTS, "source_unit", "created_at", "sla_hours", "status",
                                 "priority"])


def route_waiting(conn: Connection, now: dt.datetime, rule_set: Any = _UNSET, *, by: str = ACTOR) -> int:
    """Route the unrouted items waiting at the hub with the active rule set (or ``rule_set`` when given);
    returns how many left the hub. Items no rule matches keep waiting. Their rollup contributions move to the
    new route in the caller's transaction (:func:`dashboard.store.reroute_work_items`)."""
    if rule_set is _UNSET:
        rule_set = active_rule_set(conn)
    if rule_set is None:
        return 0
    moved = 0
    for hub in hub_ids(conn):
        waiting = waiting_items(conn, hub)
        if waiting.empty:
            continue
        routed = apply(rule_set, waiting.assign(target_unit=None), hub, now)
        go = routed["target_unit"].to_numpy() != hub
        if not go.any():
            continue
        changes = routed.loc[go, ["id", "version", "target_unit", "priority", "rule_id", "sla_hours", "status",
                                  "routed_at"]]
        moved += store.reroute_work_items(conn, changes, by=by, at=now)
    return moved


__all__ = ["active_rule_set", "apply", "route_waiting", "ActiveRules", "InvalidActiveRules", "Outcome", "outcome",
           "needs_routing", "hub_ids", "waiting_items"]
