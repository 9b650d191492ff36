"""Flows between units over a window: volume, SLA health, cycle-time percentiles and backlog.

Read from the hourly rollup (``flow_hourly``) so a 30-day window over millions of items costs a few
thousand rollup rows, not a scan. Windows rarely start on the hour: the events in the partial first
(and, for windows ending in the past, last) hour are taken off using the raw rows of that hour, so
counts are exact. Percentiles come from the rollup's cycle-time histogram (error below one bin).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, case, func, select, text

from dashboard.db import (
    UTCDateTime,
    flow_hourly,
    hour_start,
    to_hour,
    units,
    work_items,
)
from dashboard.domain.access import require_viewer
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, cycle_bin_index, percentile_from_hist

KEY = ["source_unit", "target_unit"]
SUMS = ["created", "created_value", "resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS]


def _vector(values) -> np.ndarray:
    """One row of sums as floats (a NULL sum, or PostgreSQL's Decimal, read as a number)."""
    return np.array([0.0 if v is None else float(v) for v in values])


# The statements are built once: SQLAlchemy then computes each one's cache key once, not on every read (for
# statements this size that walk costs about as much as SQLite answering them). Times are bound parameters.
_fh, _wi = flow_hourly.c, work_items.c
_ROLLUP = (
    select(_fh.source_unit, _fh.target_unit, *[func.sum(_fh[c]).label(c) for c in SUMS])
    .where(_fh.hour >= bindparam("first"), _fh.hour <= bindparam("last"))
    .group_by(_fh.source_unit, _fh.target_unit)
)
_RAW_CREATED = (
    select(_wi.source_unit, _wi.target_unit, func.count().label("created"),
           func.coalesce(func.sum(_wi.value), 0.0).label("created_value"))
    .where(_wi.created_at >= bindparam("lo", type_=UTCDateTime()), _wi.created_at < bindparam("hi", type_=UTCDateTime()))
    .group_by(_wi.source_unit, _wi.target_unit)
)
_RAW_RESOLVED = (
    select(_wi.source_unit, _wi.target_unit, _wi.created_at, _wi.resolved_at, _wi.due_at)
    .where(_wi.resolved_at >= bindparam("lo", type_=UTCDateTime()),
           _wi.resolved_at < bindparam("hi", type_=UTCDateTime()))
)


def _rollup_sums(conn: Connection, first_hour: int, last_hour: int) -> dict[tuple[str, str], np.ndarray]:
    """(source, target) -> the rollup's SUMS over the hours [first_hour, last_hour]."""
    return {(row[0], row[1]): _vector(row[2:])
            for row in conn.execute(_ROLLUP, {"first": first_hour, "last": last_hour})}


def _raw_sums(conn: Connection, lo: dt.datetime, hi: dt.datetime) -> dict[tuple[str, str], np.ndarray]:
    """The same sums as the rollup, from raw rows, for events in [lo, hi) (at most an hour of rows)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    for source, target, n, value in conn.execute(_RAW_CREATED, {"lo": lo, "hi": hi}):
        out[(source, target)] = np.zeros(len(SUMS))
        out[(source, target)][:2] = (float(n), float(value or 0.0))
    resolved = conn.execute(_RAW_RESOLVED, {"lo": lo, "hi": hi}).all()
    if resolved:
        hours = np.array([(r.resolved_at - r.created_at).total_seconds() / 3600 for r in resolved])
        in_sla = np.array([r.due_at is not None and r.resolved_at <= r.due_at for r in resolved], dtype=float)
        keys = [(r.source_unit, r.target_unit) for r in resolved]
        index = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        rows = np.array([index[k] for k in keys])
        block = np.zeros((len(index), len(SUMS) - 2))  # resolved, resolved_in_sla, cycle_sum_h, the bins
        np.add.at(block, (rows, 0), 1.0)
        np.add.at(block, (rows, 1), in_sla)
        np.add.at(block, (rows, 2), hours)
        np.add.at(block, (rows, 3 + cycle_bin_index(hours)), 1.0)
        for key, i in index.items():
            out.setdefault(key, np.zeros(len(SUMS)))[2:] += block[i]
    return out


def _window_sums(conn: Connection, start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str], np.ndarray]:
    """(source, target) -> SUMS over [start, end): whole hours from the rollup, less the events of the partial
    first and last hours that fall outside the window (read from raw rows)."""
    first, last = to_hour(start), to_hour(end - dt.timedelta(microseconds=1))
    total = _rollup_sums(conn, first, last)
    for lo, hi in ((hour_start(first), start), (end, hour_start(last + 1))):
        if hi > lo:
            for key, extra in _raw_sums(conn, lo, hi).items():
                total[key] = total[key] - extra if key in total else -extra
    return total


# SQLite without statistics reads open items through ix_work_items_resolved and then visits the table for
# each; the partial index of open items, already in (source, target) order, is ~5x faster at 10M items.
# SQLAlchemy renders no table hints for SQLite, hence the text; the time stays a bound parameter.
# (PostgreSQL picks the partial index by itself.)
_SQLITE_BACKLOG = text(
    "SELECT source_unit, target_unit, count(*) AS backlog, sum(CASE WHEN due_at < :now THEN 1 ELSE 0 END) AS overdue "
    "FROM work_items INDEXED BY ix_work_items_open WHERE resolved_at IS NULL GROUP BY source_unit, target_unit"
).bindparams(bindparam("now", type_=UTCDateTime()))


def backlog(conn: Connection, viewer, now: dt.datetime) -> pd.DataFrame:
    """Open items now per source → target, and how many of them are past their SLA due time."""
    require_viewer(viewer)
    return pd.DataFrame(_backlog_rows(conn, now), columns=KEY + ["backlog", "overdue"])


_BACKLOG = (
    select(_wi.source_unit, _wi.target_unit, func.count().label("backlog"),
           func.sum(case((_wi.due_at < bindparam("now", type_=UTCDateTime()), 1), else_=0)).label("overdue"))
    .where(_wi.resolved_at.is_(None))
    .group_by(_wi.source_unit, _wi.target_unit)
)


def _backlog_rows(conn: Connection, now: dt.datetime) -> list[tuple[str, str, int, int]]:
    """(source, target, open items, of which overdue) per edge with open items."""
    stmt = _SQLITE_BACKLOG if conn.dialect.name == "sqlite" else _BACKLOG
    return [(s, t, int(b or 0), int(o or 0)) for s, t, b, o in conn.execute(stmt, {"now": now})]


_KINDS = select(units.c.id, units.c.kind)
FLOW_COLUMNS = ["source_unit", "target_unit", "hub_side", "spoke", "created", "created_value", "resolved",
                "resolved_in_sla", "sla_share", "mean_h", "median_h", "p90_h", "backlog", "overdue"]
_I = {c: i for i, c in enumerate(SUMS)}  # column of each sum in a row of sums
_BINS = slice(_I[CYCLE_BIN_COLUMNS[0]], _I[CYCLE_BIN_COLUMNS[-1]] + 1)


def edge_flows(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None, *,
               kinds: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per directed edge (source → target) with its figures for [start, end).

    Columns: source_unit, target_unit, hub_side ('out' when the source is a hub, 'in' when the target is,
    'unrouted' for a hub's own row: items waiting in its triage queue for a rule or a person to route them —
    drawn as "N unrouted" at the hub, never as an edge), spoke, created, created_value, resolved,
    resolved_in_sla, sla_share, mean_h, median_h, p90_h, backlog, overdue. Figures with no underlying events
    are NaN ("no data"), never a made-up zero. ``kinds`` (unit id -> "hub" / "spoke") saves reading the units
    again when the caller has them.

    The arithmetic runs on one numpy matrix of the few dozen edges' sums; the frame is built once, at the end.
    """
    require_viewer(viewer)
    now = now or end
    sums = _window_sums(conn, start, end)
    open_ = {(s, t): (b, o) for s, t, b, o in _backlog_rows(conn, now)}
    if kinds is None:
        kinds = dict(conn.execute(_KINDS).all())
    keys = sorted(k for k in sums.keys() | open_.keys() if k[0] in kinds and k[1] in kinds)
    zero = np.zeros(len(SUMS))
    m = np.array([sums.get(k, zero) for k in keys]).reshape(len(keys), len(SUMS))
    counts = np.rint(m).astype(np.int64)  # the counted sums are whole numbers; float only on the way
    resolved = counts[:, _I["resolved"]]
    per = np.where(resolved > 0, resolved, np.nan)  # shares and means of resolved items: none resolved, no figure
    sources, targets = [k[0] for k in keys], [k[1] for k in keys]
    hub_side = [
        ("unrouted" if s == t else "out") if kinds[s] == "hub" else ("in" if kinds[t] == "hub" else "none")
        for s, t in keys
    ]
    hists = counts[:, _BINS]
    backlog = np.array([open_.get(k, (0, 0)) for k in keys], dtype=np.int64).reshape(len(keys), 2)
    return pd.DataFrame({
        "source_unit": sources,
        "target_unit": targets,
        "hub_side": hub_side,
        "spoke": [t if side == "out" else s for s, t, side in zip(sources, targets, hub_side)],
        "created": counts[:, _I["created"]],
        "created_value": m[:, _I["created_value"]],
        "resolved": resolved,
        "resolved_in_sla": counts[:, _I["resolved_in_sla"]],
        "sla_share": counts[:, _I["resolved_in_sla"]] / per,
        "mean_h": m[:, _I["cycle_sum_h"]] / per,
        "median_h": _percentiles(hists, 0.5),
        "p90_h": _percentiles(hists, 0.9),
        "backlog": backlog[:, 0],
        "overdue": backlog[:, 1],
    }, columns=FLOW_COLUMNS)


def _percentiles(hists: np.ndarray, q: float) -> np.ndarray:
    """The q-quantile of each row's cycle-time histogram (NaN for an empty one), as :func:`percentile_from_hist`."""
    out = [percentile_from_hist(h, q) for h in hists]
    return np.array([np.nan if v is None else v for v in out], dtype=float)


def unrouted_count(flows: pd.DataFrame) -> int:
    """Items waiting in the hubs' triage queues now (open items from a hub to itself: no rule routed them),
    read from :func:`edge_flows`' result — no query of its own, so the overview costs nothing more."""
    if flows.empty or "hub_side" not in flows:
        return 0
    return int(flows.loc[flows.hub_side == "unrouted", "backlog"].sum())
