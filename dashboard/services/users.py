"""Use cases on the users table: admins replace it with their edited table, every change audited."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, select

from dashboard import audit, store
from dashboard.db import units, users
from dashboard.domain.access import ROLE_PRECEDENCE, Role, Viewer, parse_role, require
from dashboard.queries.users import COLUMNS
from dashboard.services.changes import writes


@writes("users")
def save_users(conn: Connection, viewer: Viewer, edited: pd.DataFrame, now: dt.datetime | None = None) -> list[str]:
    """Replace the users table with ``edited`` (the admin's table). Returns the problems; nothing is written
    when there are any. Every change is audited."""
    v = require(viewer, "is_admin", "manage users")
    now = now or dt.datetime.now(dt.UTC)
    spokes = set(conn.execute(select(units.c.id).where(units.c.kind == "spoke")).scalars())
    problems, clean = [], []
    seen: set[str] = set()
    for i, r in enumerate(edited.fillna("").to_dict("records"), start=1):
        user = str(r.get("user") or "").strip().lower()
        if not user:
            if any(str(r.get(c) or "").strip() for c in ("name", "role", "unit")):
                problems.append(f"row {i}: the user (sign-in e-mail) is missing")
            continue
        role = parse_role(r.get("role"))
        unit = str(r.get("unit") or "").strip() or None
        if role is Role.NONE:
            problems.append(f"{user}: choose a role ({', '.join(x.value for x in ROLE_PRECEDENCE)})")
        if role is Role.SPOKE_LEAD and unit not in spokes:
            problems.append(f"{user}: a spoke lead needs their spoke ({', '.join(sorted(spokes))})")
        if user in seen:
            problems.append(f"{user}: listed twice")
        seen.add(user)
        clean.append(dict(user=user, name=str(r.get("name") or "").strip() or None, role=role.value,
                          unit=unit if role is Role.SPOKE_LEAD else None, active=bool(r.get("active", True)),
                          updated_at=now, updated_by=v.user))
    if problems:
        return problems
    # straight from SQL: through a DataFrame a missing spoke or name comes back as NaN, which != None
    before = {r["user"]: dict(r) for r in conn.execute(select(*[users.c[c] for c in COLUMNS])).mappings()}
    store.replace_users(conn, clean)
    for r in clean:
        old = before.pop(r["user"], None)
        if old is None or any(old[c] != r[c] for c in ("role", "unit", "active", "name")):
            what = "added" if old is None else "changed"
            audit.record(conn, v, "user_change", r["user"], f"{what}: role {r['role']}"
                         + (f", spoke {r['unit']}" if r["unit"] else "") + ("" if r["active"] else ", inactive"), at=now)
    for gone in before:
        audit.record(conn, v, "user_change", gone, "removed", at=now)
    return []
