"""test_access inventory for the units use cases (dashboard/services/units.py): office hours and time zone.

Argument makers must not touch the database (test_access counts statements while it calls them without a
viewer)."""

from __future__ import annotations

CALLS = {
    "services.units.set_office_hours": lambda c: dict(conn=c.conn, unit_id="sales", office_hours="Mon-Fri 08:00-18:00",
                                                      timezone="Europe/Berlin"),
}
WRITERS = {"services.units.set_office_hours"}
