"""The audit trail: who did what, when — sign-ins, item actions, scenario saves and deletes, imports,
exports and user changes. Writers call :func:`record` in the same transaction as the change it describes
(so a rolled-back change leaves no entry); only admins can read it (:func:`search`)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, func, insert, or_, select

from dashboard.db import audit_log
from dashboard.domain.access import Viewer, require, require_viewer

ACTIONS = ("sign_in", "item_action", "scenario_save", "scenario_delete", "import", "export", "user_change",
           "routing_save", "routing_discard", "routing_publish", "routing_route", "unit_delete",
           "cycle_assessment", "cycle_promote", "cycle_change", "unit_hours")


def record(conn: Connection, viewer: Viewer, action: str, target: str | None = None, detail: str | None = None,
           at: dt.datetime | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    v = require_viewer(viewer) if viewer.role.value != "none" else viewer  # a refused sign-in is recorded too
    conn.execute(insert(audit_log).values(
        at=at or dt.datetime.now(dt.UTC), user=v.user[:320], role=v.role.value, action=action,
        target=(target or None) and target[:500], detail=detail,
    ))


def search(conn: Connection, viewer: Viewer, *, user: str | None = None, action: str | None = None,
           since: dt.datetime | None = None, until: dt.datetime | None = None, text: str | None = None,
           limit: int = 200, offset: int = 0) -> tuple[pd.DataFrame, int]:
    """Entries newest first (one page) and how many match in all. Admins only."""
    require(viewer, "is_admin", "read the audit trail")
    a = audit_log.c
    where = []
    if user:
        where.append(func.lower(a.user).contains(user.strip().lower(), autoescape=True))
    if action:
        where.append(a.action == action)
    if since:
        where.append(a.at >= since)
    if until:
        where.append(a.at < until)
    if text:
        needle = text.strip().lower()
        where.append(or_(func.lower(a.target).contains(needle, autoescape=True),
                         func.lower(a.detail).contains(needle, autoescape=True)))
    total = conn.execute(select(func.count()).select_from(audit_log).where(*where)).scalar_one()
    rows = conn.execute(select(a.at, a.user, a.role, a.action, a.target, a.detail).where(*where)
                        .order_by(a.at.desc(), a.id.desc()).limit(limit).offset(offset)).mappings().all()
    return pd.DataFrame(rows, columns=["at", "user", "role", "action", "target", "detail"]), int(total)
