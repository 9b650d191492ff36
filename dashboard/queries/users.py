"""The users table as read: roles and spokes for people the identity provider gives no role (admins edit it
through :mod:`dashboard.services.users`)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.db import users
from dashboard.domain.access import Viewer, require

COLUMNS = ["user", "name", "role", "unit", "active"]


def lookup(conn: Connection, user: str) -> tuple[str, str | None] | None:
    """(role, unit) of an active user, for sign-in (who is asking is not known yet: this is how we find out)."""
    row = conn.execute(select(users.c.role, users.c.unit).where(users.c.user == user.strip().lower(),
                                                                 users.c.active.is_(True))).first()
    return (row.role, row.unit) if row else None


def list_users(conn: Connection, viewer: Viewer) -> pd.DataFrame:
    require(viewer, "is_admin", "manage users")
    rows = conn.execute(select(*[users.c[c] for c in COLUMNS]).order_by(users.c.user)).mappings().all()
    return pd.DataFrame(rows, columns=COLUMNS)
