"""test_access inventory for the what-if model's one calibrated as-is (dashboard/queries/observed.py).

Argument makers must not touch the database (test_access counts statements while it calls them without a
viewer)."""

from __future__ import annotations

import datetime as dt


def _now():
    from tests.factories import NOW  # the tiny organisation's clock; a day later its items span enough history

    return NOW + dt.timedelta(days=1)


CALLS = {
    "observed.calibrated_as_is": lambda c: dict(conn=c.conn, now=_now()),
}
