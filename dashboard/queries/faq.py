"""Texts of the mentions the hub routed, counted per wording and spoke: the input of FAQ candidates
(``dashboard.domain.faq``).

Only hub-sourced items count (the hub receives mentions and routes them out; a spoke's own requests are not
questions from the public), including those still waiting in the hub's triage queue (target = the hub).
Who may read them: admins, hub leads and executives see every spoke's; a spoke lead only the items routed to
their own spoke: without ``unit`` the query is scoped to it, and asking for another unit is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection, func, select

from dashboard.db import units, work_items
from dashboard.domain.access import require_unit, require_viewer

TEXT_LIMIT = 5000  # (text, spoke) rows read at most: the most frequent ones; the clustering caps at 2,000 wordings
COLUMNS = ["text", "target_unit", "items"]


def _scope(viewer, unit: str | None) -> str | None:
    """The unit the rows are limited to (None: every unit), after the viewer's check."""
    if unit is not None:
        require_unit(viewer, unit)
        return unit
    v = require_viewer(viewer)
    if v.sees_everything:
        return None
    require_unit(v, v.unit or "")  # a spoke lead: their own spoke (refused when they have none)
    return v.unit


def _where(scope: str | None, start: dt.datetime, end: dt.datetime, kinds: Sequence[str]) -> list:
    wi = work_items.c
    hubs = select(units.c.id).where(units.c.kind == "hub").scalar_subquery()
    conditions = [wi.source_unit.in_(hubs), wi.created_at >= start, wi.created_at < end, wi.kind.in_(list(kinds)),
                  wi.text.is_not(None), func.trim(wi.text) != ""]
    if scope is not None:
        conditions.append(wi.target_unit == scope)
    return conditions


def mention_texts(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, *, unit: str | None = None,
                  kinds: Sequence[str] = ("mention",), limit: int = TEXT_LIMIT) -> pd.DataFrame:
    """Hub-sourced items of ``kinds`` created in [start, end) with a non-empty text, counted per (text,
    target unit): columns text, target_unit, items; the ``limit`` most frequent rows, most items first."""
    scope = _scope(viewer, unit)
    if not kinds or limit < 1:
        return pd.DataFrame(columns=COLUMNS)
    wi = work_items.c
    n = func.count().label("items")
    rows = conn.execute(
        select(wi.text, wi.target_unit, n).where(*_where(scope, start, end, kinds))
        .group_by(wi.text, wi.target_unit).order_by(n.desc(), wi.text, wi.target_unit).limit(int(limit))
    ).all()
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["items"] = frame["items"].astype("int64")
    return frame


def mention_count(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, *, unit: str | None = None,
                  kinds: Sequence[str] = ("mention",)) -> int:
    """How many items :func:`mention_texts` counts in all (beyond its row limit too): what shares are of."""
    scope = _scope(viewer, unit)
    if not kinds:
        return 0
    return int(conn.execute(select(func.count()).select_from(work_items)
                            .where(*_where(scope, start, end, kinds))).scalar_one())
