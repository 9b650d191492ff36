"""Use case: a download is recorded in the audit trail (who took which rows out of the app, how many).

The page builds the file from rows the viewer was allowed to read; this only records that it did, in the
caller's transaction (``with engine.begin() as conn: record_export(conn, viewer, "sales inbox", "12 rows")``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from dashboard import audit
from dashboard.domain.access import Viewer, require_viewer
from dashboard.services.changes import writes


@writes()
def record_export(conn: Connection, viewer: Viewer, what: str, detail: str | None = None) -> None:
    """Audit an export as ``export``: ``what`` names the rows (``"sales inbox"``, ``"audit trail"``), ``detail``
    says how many. Needs a signed-in viewer."""
    v = require_viewer(viewer)
    audit.record(conn, v, "export", what, detail)
