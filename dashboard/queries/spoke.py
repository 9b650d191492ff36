"""A spoke's own data: its inbox of routed work, and its flow with the hub over time.

Every function checks that the viewer may see the unit (deny by default) before touching the database.
The inbox is paginated in SQL (LIMIT/OFFSET on an indexed order), so a spoke with 10,000 open items ships
one page of rows to the browser, not all of them. Its default view (open statuses) and count read the partial
indexes of open items (``ix_work_items_open_inbox``, ``ix_work_items_open_target``): an item is open exactly when it has no ``resolved_at`` (the
store refuses any other combination), so the index's condition is added to the query; the index holds what that
view filters and sorts by, so its count and a page's ids are read from the index alone. Filter options come from
the hourly rollup ``mix_hourly``, plus the raw items of a partial first hour (:func:`dashboard.db.hour_parts`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, func, or_, select, union_all

from dashboard.db import flow_hourly, hour_parts, hour_start, mix_hourly, to_hour, work_items
from dashboard.domain.access import require_unit
from dashboard.domain.stats import CYCLE_BIN_COLUMNS
from dashboard.domain.vocabulary import OPEN_STATUSES, Status

INBOX_COLUMNS = ["id", "kind", "source_unit", "channel", "topic", "text", "status", "created_at", "due_at",
                 "accepted_at", "resolved_at", "sla_hours", "value", "version", "updated_by", "updated_at", "note"]
SORTABLE = {"created_at", "due_at", "status", "kind", "channel", "value"}


@dataclass(frozen=True)
class InboxFilter:
    start: dt.datetime | None = None  # created at or after
    end: dt.datetime | None = None  # created before
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    sort: str = "due_at"
    descending: bool = False
    limit: int = 50
    offset: int = 0
    direction: str = "in"  # "in": routed to the spoke; "out": handed from the spoke to the hub


@dataclass
class InboxPage:
    rows: pd.DataFrame
    total: int
    filter: InboxFilter = field(repr=False)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // max(self.filter.limit, 1)))


def _where(unit: str, f: InboxFilter):
    wi = work_items.c
    conds = [wi.target_unit == unit if f.direction == "in" else wi.source_unit == unit]
    if f.start is not None:
        conds.append(wi.created_at >= f.start)
    if f.end is not None:
        conds.append(wi.created_at < f.end)
    if f.channels:
        conds.append(wi.channel.in_(f.channels))
    if f.kinds:
        conds.append(wi.kind.in_(f.kinds))
    if f.statuses:
        conds.append(wi.status.in_(f.statuses))
        if set(f.statuses) <= OPEN:  # the same rows: lets the open items' partial index serve the query
            conds.append(wi.resolved_at.is_(None))
        elif set(f.statuses) == {Status.RESOLVED.value}:
            conds.append(wi.resolved_at.is_not(None))
    return and_(*conds)


OPEN = {s.value for s in OPEN_STATUSES}


def inbox_count(conn: Connection, viewer, unit: str, f: InboxFilter) -> int:
    """How many of the spoke's items match the filter (for the pager)."""
    require_unit(viewer, unit)
    return int(conn.execute(select(func.count()).select_from(work_items).where(_where(unit, f))).scalar_one())


def inbox(conn: Connection, viewer, unit: str, f: InboxFilter, now: dt.datetime) -> InboxPage:
    """One page of the spoke's items with age (hours), time left to SLA and a breach flag."""
    require_unit(viewer, unit)
    if f.sort not in SORTABLE:
        raise ValueError(f"cannot sort by {f.sort!r}; choose one of {', '.join(sorted(SORTABLE))}")
    if not (1 <= f.limit <= 1000) or f.offset < 0:
        raise ValueError("page size must be 1..1000 and the offset not negative")
    wi = work_items.c
    where = _where(unit, f)
    total = inbox_count(conn, viewer, unit, f)
    order = wi[f.sort].desc() if f.descending else wi[f.sort].asc()
    # the page's ids first (in the default view from the open items' index alone), then their rows
    ids = list(conn.execute(select(wi.id).where(where).order_by(order, wi.id).limit(f.limit).offset(f.offset)).scalars())
    stmt = select(*[wi[c] for c in INBOX_COLUMNS]).where(wi.id.in_(ids)).order_by(order, wi.id)
    rows = pd.DataFrame(conn.execute(stmt).mappings().all() if ids else [], columns=INBOX_COLUMNS)
    for col in ("created_at", "due_at", "accepted_at", "resolved_at", "updated_at"):
        rows[col] = pd.to_datetime(rows[col], utc=True).astype("datetime64[us, UTC]")
    now_ts = pd.Timestamp(now).as_unit("us")
    end = rows.resolved_at.fillna(now_ts)
    rows["age_h"] = (end - rows.created_at).dt.total_seconds() / 3600
    rows["due_in_h"] = (rows.due_at - now_ts).dt.total_seconds() / 3600
    rows["breached"] = np.where(rows.resolved_at.notna(), rows.resolved_at > rows.due_at, rows.due_at < now_ts)
    return InboxPage(rows=rows, total=int(total), filter=f)


def export_rows(conn: Connection, viewer, unit: str, f: InboxFilter, now: dt.datetime, cap: int = 50_000) -> pd.DataFrame:
    """Every item matching the filter (not just one page), up to ``cap`` rows, for a CSV export."""
    frames, offset = [], 0
    while offset < cap:
        page = inbox(conn, viewer, unit, InboxFilter(**{**f.__dict__, "limit": min(1000, cap - offset), "offset": offset}), now)
        frames.append(page.rows)
        offset += len(page.rows)
        if len(page.rows) < 1000:
            break
    return pd.concat(frames, ignore_index=True)


def inbox_options(conn: Connection, viewer, unit: str, start: dt.datetime | None = None) -> dict[str, list[str]]:
    """Channels and kinds present in the spoke's items (since ``start``), for the filter widgets."""
    require_unit(viewer, unit)
    wi, mh = work_items.c, mix_hourly.c
    hours, edges = hour_parts(start, None) if start is not None else ((None, None), [])
    out = {}
    for name in ("channel", "kind"):
        parts = []
        if hours is not None:
            for side in (mh.target_unit, mh.source_unit):
                parts.append(select(mh[name].label("v")).where(side == unit, *(
                    [mh.hour >= hours[0]] if hours[0] is not None else [])))
        for lo, hi in edges:
            for side in (wi.target_unit, wi.source_unit):
                parts.append(select(wi[name].label("v")).where(side == unit, wi.created_at >= lo, wi.created_at < hi))
        found = union_all(*parts).subquery("found")
        out[name + "s"] = [r[0] for r in conn.execute(select(found.c.v).distinct().order_by(found.c.v))]
    return out


def item(conn: Connection, viewer, unit: str, item_id: str) -> dict | None:
    """One item of the spoke's (None when it does not exist or is not the spoke's)."""
    require_unit(viewer, unit)
    wi = work_items.c
    row = conn.execute(
        select(*[wi[c] for c in INBOX_COLUMNS], wi.target_unit)
        .where(wi.id == item_id, or_(wi.target_unit == unit, wi.source_unit == unit))
    ).mappings().first()
    return dict(row) if row else None


def flow_trend(conn: Connection, viewer, unit: str, start: dt.datetime, end: dt.datetime,
               bucket_hours: int = 24) -> pd.DataFrame:
    """Per time bucket and direction (in = hub → spoke, out = spoke → hub): created, resolved, SLA breaches,
    and the backlog at the end of each bucket (items created minus resolved since the beginning of time)."""
    require_unit(viewer, unit)
    fh = flow_hourly.c
    frames = []
    for label, cond in (("in", fh.target_unit == unit), ("out", fh.source_unit == unit)):
        before = conn.execute(
            select(func.coalesce(func.sum(fh.created), 0) - func.coalesce(func.sum(fh.resolved), 0))
            .where(cond, fh.hour < to_hour(start))
        ).scalar_one()
        rows = pd.DataFrame(
            conn.execute(
                select(fh.hour, func.sum(fh.created).label("created"), func.sum(fh.resolved).label("resolved"),
                       func.sum(fh.resolved_in_sla).label("in_sla"))
                .where(cond, fh.hour >= to_hour(start), fh.hour <= to_hour(end))
                .group_by(fh.hour)
            ).mappings().all(),
            columns=["hour", "created", "resolved", "in_sla"],
        )
        rows = rows.astype({"created": float, "resolved": float, "in_sla": float})
        rows["bucket"] = rows.hour // bucket_hours
        g = rows.groupby("bucket", as_index=False)[["created", "resolved", "in_sla"]].sum().sort_values("bucket")
        g["breaches"] = g.resolved - g.in_sla
        g["backlog"] = float(before or 0) + (g.created - g.resolved).cumsum()
        g["ts"] = [hour_start(int(b) * bucket_hours) for b in g.bucket]
        g["direction"] = label
        frames.append(g[["ts", "direction", "created", "resolved", "breaches", "backlog"]])
    return pd.concat(frames, ignore_index=True)


def cycle_histogram(conn: Connection, viewer, unit: str, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Cycle-time histogram of items resolved in the window, per direction (columns: direction + bins)."""
    require_unit(viewer, unit)
    fh = flow_hourly.c
    out = []
    for label, cond in (("in", fh.target_unit == unit), ("out", fh.source_unit == unit)):
        row = conn.execute(
            select(*[func.coalesce(func.sum(fh[c]), 0).label(c) for c in CYCLE_BIN_COLUMNS])
            .where(cond, fh.hour >= to_hour(start), fh.hour <= to_hour(end))
        ).mappings().one()
        out.append({"direction": label, **{c: int(row[c]) for c in CYCLE_BIN_COLUMNS}})
    return pd.DataFrame(out)
