"""test_access inventory for the audit-only use cases: exports (dashboard/services/exports.py) and sign-ins
(dashboard/services/sessions.py).

Argument makers must not touch the database (test_access counts statements while it calls them without a
viewer)."""

from __future__ import annotations

CALLS = {
    "services.exports.record_export": lambda c: dict(conn=c.conn, what="sales inbox", detail="3 rows"),
}
WRITERS = {"services.exports.record_export"}
NO_VIEWER = {
    "services.sessions.record_sign_in": "records who signed in, refused ones too: that person may have no role yet",
    "services.changes.writes": "a decorator that declares what a use case changes; touches no data",
    "services.changes.changed_by": "reads that declaration off a use case; touches no data",
}
