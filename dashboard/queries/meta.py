"""What the database says about itself: which dataset owns the data (the demo generator marks its own)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from dashboard.db import app_meta
from dashboard.domain.access import require_viewer

DEMO = "demo"  # the value loaders.demo writes under app_meta "dataset" when the demo organisation is loaded


def dataset(conn: Connection, viewer) -> str | None:
    """The ``app_meta`` "dataset" marker: "demo" while the generated demo organisation is loaded, else None (an
    organisation's own data carries no marker)."""
    require_viewer(viewer)
    return conn.execute(select(app_meta.c.value).where(app_meta.c.key == "dataset")).scalar_one_or_none()
