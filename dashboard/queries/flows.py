"""Flows between units over a window: volume, SLA health, cycle-time percentiles and backlog.

Read from the hourly rollup (``flow_hourly``) so a 30-day window over millions of items costs a few
thousand rollup rows, not a scan. Windows rarely start on the hour: the events in the partial first
(and, for windows ending in the past, last) hour are taken off using the raw rows of that hour, so
counts are exact. Percentiles come from the rollup's cycle-time histogram (error below one bin).
"""

from __future__ import annotations

import datetime as dt

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
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, N_CYCLE_BINS, cycle_bin_index, percentile_from_hist

KEY = ["source_unit", "target_unit"]
SUMS = ["created", "created_value", "resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS]


def _rollup_sums(conn: Connection, first_hour: int, last_hour: int) -> pd.DataFrame:
    fh = flow_hourly.c
    stmt = (
        select(fh.source_unit, fh.target_unit, *[func.sum(fh[c]).label(c) for c in SUMS])
        .where(fh.hour >= first_hour, fh.hour <= last_hour)
        .group_by(fh.source_unit, fh.target_unit)
    )
    return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=KEY + SUMS)


def _raw_sums(conn: Connection, lo: dt.datetime, hi: dt.datetime) -> pd.DataFrame:
    """The same sums as the rollup, from raw rows, for events in [lo, hi) (at most an hour of rows)."""
    wi = work_items.c
    created = pd.DataFrame(
        conn.execute(
            select(wi.source_unit, wi.target_unit, func.count().label("created"),
                   func.coalesce(func.sum(wi.value), 0.0).label("created_value"))
            .where(wi.created_at >= lo, wi.created_at < hi)
            .group_by(wi.source_unit, wi.target_unit)
        ).mappings().all(),
        columns=KEY + ["created", "created_value"],
    )
    res = pd.DataFrame(
        conn.execute(
            select(wi.source_unit, wi.target_unit, wi.created_at, wi.resolved_at, wi.due_at)
            .where(wi.resolved_at >= lo, wi.resolved_at < hi)
        ).mappings().all(),
        columns=KEY + ["created_at", "resolved_at", "due_at"],
    )
    if res.empty:
        resolved = pd.DataFrame(columns=KEY + ["resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS])
    else:
        hours = (pd.to_datetime(res.resolved_at, utc=True) - pd.to_datetime(res.created_at, utc=True)).dt.total_seconds() / 3600
        res = res.assign(
            resolved=1,
            resolved_in_sla=(pd.to_datetime(res.resolved_at, utc=True) <= pd.to_datetime(res.due_at, utc=True)).astype(int),
            cycle_sum_h=hours,
        )
        bins = np.eye(N_CYCLE_BINS, dtype=int)[cycle_bin_index(hours.to_numpy())]
        res[list(CYCLE_BIN_COLUMNS)] = bins
        resolved = res.groupby(KEY, as_index=False)[["resolved", "resolved_in_sla", "cycle_sum_h", *CYCLE_BIN_COLUMNS]].sum()
    out = created.merge(resolved, on=KEY, how="outer")
    return out.reindex(columns=KEY + SUMS).fillna(0)


def _window_sums(conn: Connection, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    first, last = to_hour(start), to_hour(end - dt.timedelta(microseconds=1))
    total = _rollup_sums(conn, first, last).set_index(KEY)
    for lo, hi in ((hour_start(first), start), (end, hour_start(last + 1))):
        if hi > lo:
            extra = _raw_sums(conn, lo, hi).set_index(KEY)
            total = total.sub(extra, fill_value=0)
    return total.reset_index()


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
    wi = work_items.c
    stmt = (
        select(wi.source_unit, wi.target_unit, func.count().label("backlog"),
               func.sum(case((wi.due_at < now, 1), else_=0)).label("overdue"))
        .where(wi.resolved_at.is_(None))
        .group_by(wi.source_unit, wi.target_unit)
    )
    if conn.dialect.name == "sqlite":
        stmt = _SQLITE_BACKLOG.bindparams(now=now)
    return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=KEY + ["backlog", "overdue"])


def edge_flows(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, now: dt.datetime | None = None) -> pd.DataFrame:
    """One row per directed edge (source → target) with its figures for [start, end).

    Columns: source_unit, target_unit, hub_side ('out' when the source is a hub, 'in' when the target is,
    'unrouted' for a hub's own row: items waiting in its triage queue for a rule or a person to route them —
    drawn as "N unrouted" at the hub, never as an edge), spoke, created, created_value, resolved,
    resolved_in_sla, sla_share, mean_h, median_h, p90_h, backlog, overdue. Figures with no underlying events
    are NaN ("no data"), never a made-up zero.
    """
    require_viewer(viewer)
    now = now or end
    sums = _window_sums(conn, start, end)
    open_ = backlog(conn, viewer, now)
    df = sums.merge(open_, on=KEY, how="outer")
    kinds = dict(conn.execute(select(units.c.id, units.c.kind)).all())
    df = df[df.source_unit.isin(kinds) & df.target_unit.isin(kinds)].copy()
    for col in SUMS + ["backlog", "overdue"]:
        df[col] = pd.to_numeric(df[col], errors="coerce").fillna(0)
    df[["created", "resolved", "resolved_in_sla", "backlog", "overdue", *CYCLE_BIN_COLUMNS]] = df[
        ["created", "resolved", "resolved_in_sla", "backlog", "overdue", *CYCLE_BIN_COLUMNS]
    ].round().astype(int)
    is_hub_source = df.source_unit.map(kinds) == "hub"
    df["hub_side"] = np.where(is_hub_source & (df.source_unit == df.target_unit), "unrouted",
                              np.where(is_hub_source, "out", np.where(df.target_unit.map(kinds) == "hub", "in", "none")))
    df["spoke"] = np.where(df.hub_side == "out", df.target_unit, df.source_unit)
    resolved = df.resolved.where(df.resolved > 0)
    df["sla_share"] = df.resolved_in_sla / resolved
    df["mean_h"] = df.cycle_sum_h / resolved
    hist = df[list(CYCLE_BIN_COLUMNS)].to_numpy()
    df["median_h"] = [percentile_from_hist(h, 0.5) for h in hist]
    df["p90_h"] = [percentile_from_hist(h, 0.9) for h in hist]
    df[["median_h", "p90_h"]] = df[["median_h", "p90_h"]].astype(float)
    cols = ["source_unit", "target_unit", "hub_side", "spoke", "created", "created_value", "resolved",
            "resolved_in_sla", "sla_share", "mean_h", "median_h", "p90_h", "backlog", "overdue"]
    return df[cols].sort_values(KEY).reset_index(drop=True)


def unrouted_count(flows: pd.DataFrame) -> int:
    """Items waiting in the hubs' triage queues now (open items from a hub to itself: no rule routed them),
    read from :func:`edge_flows`' result — no query of its own, so the overview costs nothing more."""
    if flows.empty or "hub_side" not in flows:
        return 0
    return int(flows.loc[flows.hub_side == "unrouted", "backlog"].sum())
