"""The customer journeys attribution reads: each journey's path of touchpoints, whether it converted, its revenue.

Decisions (see dashboard.domain.attribution for the methods):

- **Touchpoint** = the unit that handled the item, i.e. its ``target_unit``: a lead routed to Sales is a Sales
  touch; a request a spoke sends to the hub, or an item still waiting in the hub's triage queue, is a hub touch.
- **Order**: the journey's items by ``created_at`` (then id, so ties are stable), read in SQL.
- **Cohort**: journeys that *started* in [start, end), followed up to now: a journey that started in the window
  and converted later counts as converted. Items created after the conversion (a complaint about the delivery)
  did not lead to it and are not touchpoints of a converted journey.
- **Scale**: one query bound to the window on ``journeys.started_at`` (indexed), joined to the journey's items
  through the partial index ``ix_work_items_journey``; only three small columns per item leave the database.
- **Access**: every signed-in role. Attribution is an aggregate of the shared goal over teams (like the
  overview's flows): the rows carry unit ids, times and revenue, never an item's content, and the page shows
  only the per-team totals.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, and_, or_, select

from dashboard.db import journeys, work_items
from dashboard.domain.access import require_viewer

PATH_COLUMNS = ["journey_id", "started_at", "converted_at", "converted", "revenue", "path"]


def journey_paths(conn: Connection, viewer, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """One row per journey started in [start, end): journey_id, started_at, converted_at, converted (bool),
    revenue (0 when not converted), path (tuple of unit ids, possibly empty)."""
    require_viewer(viewer)
    if end <= start:
        raise ValueError("the window's end must be after its start")
    j, wi = journeys.c, work_items.c
    touch_ok = or_(j.converted_at.is_(None), wi.created_at <= j.converted_at)
    stmt = (
        select(j.id.label("journey_id"), j.started_at, j.converted_at, j.revenue, wi.target_unit)
        .select_from(journeys.outerjoin(work_items, and_(wi.journey_id == j.id, touch_ok)))
        .where(j.started_at >= start, j.started_at < end)
        .order_by(j.started_at, j.id, wi.created_at, wi.id)
    )
    rows = pd.DataFrame(conn.execute(stmt).all(),
                        columns=["journey_id", "started_at", "converted_at", "revenue", "target_unit"])
    if rows.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PATH_COLUMNS}).astype(
            {"converted": bool, "revenue": float})
    rows["started_at"] = pd.to_datetime(rows.started_at, utc=True)
    rows["converted_at"] = pd.to_datetime(rows.converted_at, utc=True)
    order = pd.unique(rows.journey_id)
    paths = rows.dropna(subset=["target_unit"]).groupby("journey_id", sort=False).target_unit.agg(tuple)
    head = rows.drop_duplicates("journey_id").set_index("journey_id").loc[order]
    out = pd.DataFrame({
        "journey_id": order,
        "started_at": head.started_at.to_numpy(),
        "converted_at": head.converted_at.to_numpy(),
        "converted": head.converted_at.notna().to_numpy(),
        "revenue": pd.to_numeric(head.revenue, errors="coerce").fillna(0.0).astype(float).to_numpy(),
        "path": [paths.get(k, ()) for k in order],
    })
    out["started_at"] = pd.to_datetime(out.started_at, utc=True)
    out["converted_at"] = pd.to_datetime(out.converted_at, utc=True)
    out.loc[~out.converted, "revenue"] = 0.0
    return out[PATH_COLUMNS]
