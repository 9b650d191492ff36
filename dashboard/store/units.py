"""Writes to units people make through the app: office hours, and deleting a spoke nothing refers to any more.

The caller (:mod:`dashboard.services.units`, :mod:`dashboard.services.routing`) checks the role, validates and
audits; these only write, in the caller's transaction. Units arriving from the demo or a file go in through
:mod:`dashboard.store.reference`.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, or_, update

from dashboard.db import flow_hourly, mix_hourly, text_hourly, units


def set_unit_office_hours(conn: Connection, unit_id: str, office_hours: str | None, timezone: str | None) -> bool:
    """Store a unit's office hours and time zone as given (None: not stated, read from the data). The caller
    validates them (``dashboard.services.units.set_office_hours``). Returns whether the unit exists."""
    done = conn.execute(update(units).where(units.c.id == unit_id)
                        .values(office_hours=office_hours, timezone=timezone))
    return done.rowcount == 1


def delete_unit(conn: Connection, unit_id: str) -> None:
    """Delete a unit and its rows in ``flow_hourly``. The caller has checked that nothing else refers to it (no work
    items, so its rollup rows hold nothing a rebuild would keep; no KPIs, users or routing rules)."""
    fh = flow_hourly.c
    conn.execute(delete(flow_hourly).where(or_(fh.source_unit == unit_id, fh.target_unit == unit_id)))
    mh = mix_hourly.c
    conn.execute(delete(mix_hourly).where(or_(mh.source_unit == unit_id, mh.target_unit == unit_id)))
    conn.execute(delete(text_hourly).where(text_hourly.c.target_unit == unit_id))
    conn.execute(delete(units).where(units.c.id == unit_id))
