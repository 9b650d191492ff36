"""Observed work items for calibrating the what-if model, and the one calibrated as-is every page and the CLI use.

Organisation-wide: hub leads, executives and admins. Spoke leads see scenarios but not every team's items.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, and_, select

from dashboard.db import work_items
from dashboard.domain.access import NotPermitted, require_viewer
from dashboard.queries.kpis import list_units
from dashboard.whatif.calibration import CALIBRATION_DAYS, CalibrationResult, calibrate

CALIBRATION_COLUMNS = ("id", "kind", "source_unit", "target_unit", "channel", "created_at", "routed_at",
                       "accepted_at", "resolved_at", "due_at", "status", "sla_hours")
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at", "due_at")
DEFAULT_CAP = 400_000


def calibration_items(conn: Connection, viewer, start: dt.datetime, end: dt.datetime,
                      cap: int = DEFAULT_CAP) -> pd.DataFrame:
    """Items created in [start, end), and items created earlier but resolved in it (their lead times count for the
    window too); newest first, at most ``cap`` of each (bounded memory at any scale)."""
    v = require_viewer(viewer)
    if not v.sees_everything:
        raise NotPermitted("calibrating the organisation-wide model needs an organisation-wide view")
    wi = work_items.c
    columns = [wi[c] for c in CALIBRATION_COLUMNS]
    created = (select(*columns).where(wi.created_at >= start, wi.created_at < end)
               .order_by(wi.created_at.desc()).limit(cap))
    earlier = (select(*columns).where(and_(wi.resolved_at >= start, wi.resolved_at < end, wi.created_at < start))
               .order_by(wi.resolved_at.desc()).limit(cap))
    rows = [*conn.execute(created).all(), *conn.execute(earlier).all()]
    frame = pd.DataFrame(rows, columns=list(CALIBRATION_COLUMNS))
    for col in TIME_COLUMNS:
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def calibrated_as_is(conn: Connection, viewer, *, now: dt.datetime | None = None, days: float = CALIBRATION_DAYS,
                     default_timezone: str = "UTC") -> CalibrationResult:
    """The as-is organisation calibrated from the last ``days`` of work items and the units table.

    Raises :class:`~dashboard.domain.access.NotPermitted` for a viewer without an organisation-wide view and
    :class:`~dashboard.whatif.calibration.CalibrationError` when the data cannot support a model (the message
    says what is missing). ``default_timezone`` is the zone of units without one (the app's display zone).
    """
    now = now or dt.datetime.now(dt.UTC)
    units = list_units(conn, viewer)
    items = calibration_items(conn, viewer, now - dt.timedelta(days=days), now)
    return calibrate(items, units, now=now, days=days, default_timezone=default_timezone)
