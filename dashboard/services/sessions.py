"""Use case: a sign-in is recorded in the audit trail, refused ones too (with the reason)."""

from __future__ import annotations

from sqlalchemy import Connection

from dashboard import audit
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.services.changes import writes


@writes()
def record_sign_in(conn: Connection, who: Viewer, refused: str | None = None) -> None:
    """Audit a sign-in as ``sign_in``. ``who`` is the person as the identity provider named them: a refused one
    has no role, and ``refused`` says why they have no access (None for a sign-in that was let in)."""
    if not isinstance(who, Viewer):
        raise NotPermitted("no one to record: a sign-in names the person who signed in")
    audit.record(conn, who, "sign_in", None, refused and f"no access: {refused}")
