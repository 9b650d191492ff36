"""The customer journeys attribution reads: each journey's path of touchpoints, whether it converted, its revenue.

Decisions (see dashboard.domain.attribution for the methods):

- **Touchpoint** = the unit that handled the item, i.e. its ``target_unit``: a lead routed to Sales is a Sales
  touch; a request a spoke sends to the hub, or an item still waiting in the hub's triage queue, is a hub touch.
- **Order**: the journey's items by ``created_at`` (then id, so ties are stable), read in SQL.
- **Cohort**: journeys that *started* in [start, end), followed up to now: a journey that started in the window
  and converted later counts as converted. Items created after the conversion (a complaint about the delivery)
  did not lead to it and are not touchpoints of a converted journey.
- **Scale**: two queries bound to the window on ``journeys.started_at`` (indexed): the journeys, then their
  items through the partial index ``ix_work_items_journey`` (ordered by journey, created_at, id), of which only
  the journey id and the handling unit leave the database.
- **Access**, deny by default: every signed-in role, scoped. Executives, hub leads and admins get every
  team's touchpoints and credit. A spoke lead gets the shared goal's totals and their own team's credit; other
  teams' credit only summed together (:data:`dashboard.domain.attribution.OTHERS`), and in
  :func:`journey_paths` only their own team's touchpoints. The credit is computed from the whole paths before it
  is scoped, so a spoke lead's own figure is the one everybody else sees for that team.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, or_, select

from dashboard.db import journeys, work_items
from dashboard.domain import attribution as at_
from dashboard.domain.access import require_viewer

PATH_COLUMNS = ["journey_id", "converted", "revenue", "path"]


def journey_paths(conn: Connection, viewer, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """One row per journey started in [start, end), oldest first: journey_id, converted (bool), revenue (0 when
    not converted), path (tuple of unit ids, possibly empty). No timestamps leave the database: parsing them
    costs more than the rest at a few hundred thousand journeys. A spoke lead's paths keep only their own
    team's touchpoints."""
    v = require_viewer(viewer)
    frame = _paths(conn, start, end)
    if not v.sees_everything:
        frame["path"] = pd.Series([tuple(t for t in p if t == v.unit) for p in frame.path], dtype=object,
                                  index=frame.index)
    return frame


def _paths(conn: Connection, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Every journey's whole path (no viewer: callers scope what leaves this module)."""
    if end <= start:
        raise ValueError("the window's end must be after its start")
    j, wi = journeys.c, work_items.c
    in_window = (j.started_at >= start, j.started_at < end)
    heads = conn.execute(
        select(j.id, j.converted_at.isnot(None), j.revenue).where(*in_window).order_by(j.started_at, j.id)
    ).all()
    if not heads:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in PATH_COLUMNS}).astype(
            {"converted": bool, "revenue": float})
    touch_ok = or_(j.converted_at.is_(None), wi.created_at <= j.converted_at)
    touches = conn.execute(  # two plain columns per item: no timestamps to parse
        select(wi.journey_id, wi.target_unit)
        .select_from(journeys.join(work_items, and_(wi.journey_id == j.id, touch_ok)))
        .where(*in_window)
        .order_by(wi.journey_id, wi.created_at, wi.id)
    ).all()
    paths = {key: tuple(t for _, t in group) for key, group in groupby(touches, key=itemgetter(0))}
    ids = [h[0] for h in heads]
    converted = np.array([bool(h[1]) for h in heads], dtype=bool)
    revenue = pd.to_numeric(pd.Series([h[2] for h in heads], dtype=object), errors="coerce").fillna(0.0).to_numpy(float)
    return pd.DataFrame({
        "journey_id": ids,
        "converted": converted,
        "revenue": np.where(converted, revenue, 0.0),
        "path": pd.Series([paths.get(k, ()) for k in ids], dtype=object),
    })[PATH_COLUMNS]


@dataclass(frozen=True)
class TeamCredit:
    """The shared goal's credit per team for the journeys started in a window, as one viewer may see it."""

    summary: at_.Summary  # journeys, conversions and revenue of the whole window
    table: pd.DataFrame  # attribution.compare: team, method, conversions, revenue and shares (scoped)
    chain: at_.MarkovResult  # the Markov method's chain (scoped: no transitions, own team only)
    scoped: bool  # other teams' figures were summed into attribution.OTHERS


def team_credit(conn: Connection, viewer, start: dt.datetime, end: dt.datetime) -> TeamCredit:
    """Every method's credit per team for the journeys started in [start, end) (see journey_paths), computed from
    the whole paths and then scoped to the viewer: all teams, or for a spoke lead their own team and the others
    summed together."""
    v = require_viewer(viewer)
    journeys_ = _paths(conn, start, end)
    folded = at_.fold(journeys_)
    visible = None if v.sees_everything else {v.unit}
    return TeamCredit(at_.summary(journeys_), at_.scope_credit(at_.compare(folded), visible),
                      at_.scope_chain(at_.markov_chain(folded), visible), scoped=visible is not None)
