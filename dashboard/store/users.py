"""Writes to the users table. The caller (:mod:`dashboard.services.users`) checks the role, validates the rows and
audits every change, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete

from dashboard.db import users


def replace_users(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """The users table replaced by ``rows`` (every column given in each)."""
    conn.execute(delete(users))
    if rows:
        conn.execute(users.insert(), list(rows))
