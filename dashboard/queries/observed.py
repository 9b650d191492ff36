"""Observed work items for calibrating the what-if model (hub leads and executives: organisation-wide)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.db import work_items
from dashboard.domain.access import NotPermitted, require_viewer

CALIBRATION_COLUMNS = ("id", "kind", "source_unit", "target_unit", "channel", "created_at", "routed_at",
                       "accepted_at", "resolved_at", "status", "sla_hours")


def calibration_items(conn: Connection, viewer, start: dt.datetime, end: dt.datetime, cap: int = 250_000) -> pd.DataFrame:
    """Items created in [start, end), newest first, at most ``cap`` rows (bounded memory at any scale)."""
    v = require_viewer(viewer)
    if not v.sees_everything:
        raise NotPermitted("calibrating the organisation-wide model needs an organisation-wide view")
    wi = work_items.c
    stmt = (select(*[wi[c] for c in CALIBRATION_COLUMNS]).where(wi.created_at >= start, wi.created_at < end)
            .order_by(wi.created_at.desc()).limit(cap))
    frame = pd.DataFrame(conn.execute(stmt).all(), columns=list(CALIBRATION_COLUMNS))
    for col in ("created_at", "routed_at", "accepted_at", "resolved_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame
