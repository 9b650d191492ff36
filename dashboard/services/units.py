"""Use cases on units: their office hours and time zone.

A unit's office hours say when its people work; the what-if model runs each unit's staffed clock only then.
They are stored in their canonical spelling (``Mon-Fri 08:00-18:00; Sat 10:00-14:00``, ``24/7``) with the
IANA zone they are written in; NULL means "not stated", and the what-if model reads them from the data.
Both are read and checked by :mod:`dashboard.whatif.calendar`, with the same functions the units-file import
uses (:mod:`dashboard.ingest.contract`), so a page and a file accept exactly the same text.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from dashboard import audit, store
from dashboard.db import units
from dashboard.domain.access import require
from dashboard.domain.refusals import Refused
from dashboard.services.changes import writes
from dashboard.whatif.calendar import check_timezone, format_hours, parse_hours

NOT_STATED = "read from the data"


class UnknownUnit(Refused):
    """The unit id is not in the database; nothing was written."""


def _stated(text: str | None) -> str | None:
    return text.strip() if isinstance(text, str) and text.strip() else None


def _described(office_hours: str | None, timezone: str | None) -> str:
    """"Mon-Fri 08:00-18:00 (Europe/Berlin)", or "read from the data" for hours not stated."""
    hours = office_hours or NOT_STATED
    return f"{hours} ({timezone})" if timezone else hours


@writes("units")
def set_office_hours(conn: Connection, viewer, unit_id: str, office_hours: str | None, timezone: str | None) -> None:
    """Set (or, with empty text, clear) a unit's office hours and time zone, and audit it as ``unit_hours``.

    Hub leads and admins only (:class:`~dashboard.domain.access.NotPermitted` otherwise). Refuses an unknown
    unit (:class:`UnknownUnit`) and unreadable hours or zones (:class:`~dashboard.whatif.calendar.CalendarError`
    with the reason); both are :class:`~dashboard.domain.refusals.Refused`, and nothing is written. Hours are
    stored canonical, so ``mon-fri 8-18`` is kept as ``Mon-Fri 08:00-18:00``. Runs in the caller's transaction.
    """
    v = require(viewer, "can_edit_operating_model", "set a unit's office hours")
    u = units.c
    before = conn.execute(select(u.office_hours, u.timezone).where(u.id == unit_id).with_for_update()).one_or_none()
    if before is None:
        raise UnknownUnit(f"there is no unit {unit_id!r}: load it with the units first")
    hours = _stated(office_hours)
    zone = _stated(timezone)
    hours = format_hours(parse_hours(hours)) if hours is not None else None
    zone = check_timezone(zone) if zone is not None else None
    store.set_unit_office_hours(conn, unit_id, hours, zone)
    audit.record(conn, v, "unit_hours", unit_id, f"office hours {_described(hours, zone)}, "
                                                 f"were: {_described(before.office_hours, before.timezone)}")


__all__ = ["set_office_hours", "UnknownUnit", "NOT_STATED"]
