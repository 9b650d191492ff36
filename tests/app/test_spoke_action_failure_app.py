"""The spoke page says exactly which items an action changed and which it left when the database fails midway
(a real SQLite file whose write lock another program takes after the first item, or a read-only file)."""

from __future__ import annotations

import sqlite3

from sqlalchemy import event, select

from dashboard.db import audit_log, make_engine, work_items
from dashboard.settings import get_settings
from dashboard.ui import data
from tests.app.shown import shown


def inbox_ids(at) -> list[str]:
    return list(next(d for d in at.dataframe if "Item" in d.value.columns).value.Item)


def statuses(url: str, ids) -> dict[str, str]:
    eng = make_engine(url)
    with eng.connect() as conn:
        out = dict(conn.execute(select(work_items.c.id, work_items.c.status).where(work_items.c.id.in_(ids))).all())
        audited = [r.target for r in conn.execute(select(audit_log).where(audit_log.c.action == "item_action"))]
    eng.dispose()
    return {**out, "audited": audited}


def resolve_first_rows(at, n: int):
    at.session_state["inbox-1-0"] = {"selection": {"rows": list(range(n)), "columns": [], "cells": []}}
    at.run()
    next(s for s in at.selectbox if s.label == "Action").set_value("resolve")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception, at.exception


def test_a_lock_taken_after_the_first_item_is_reported_item_by_item(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    first, second, third = inbox_ids(at)[:3]
    s = get_settings()
    eng = data.engine_for(s.database_url, s.pool_size)  # the app's own engine (one per process)
    holder = sqlite3.connect(app_db.removeprefix("sqlite:///"), timeout=5, isolation_level=None,
                             check_same_thread=False)  # the app runs in AppTest's script thread
    held = []

    def short_waits(dbapi, _rec, _proxy):  # the app waits 30 s for a lock; the test 50 ms per attempt
        dbapi.execute("PRAGMA busy_timeout = 50")

    def lock_once_the_first_is_resolved(_dbapi, _rec):
        if not held and holder.execute("SELECT status FROM work_items WHERE id = ?", (first,)).fetchone()[0] == "resolved":
            holder.execute("BEGIN IMMEDIATE")
            held.append(True)

    event.listen(eng, "checkout", short_waits)
    event.listen(eng, "checkin", lock_once_the_first_is_resolved)
    try:
        resolve_first_rows(at, 3)
    finally:
        event.remove(eng, "checkout", short_waits)
        event.remove(eng, "checkin", lock_once_the_first_is_resolved)
        if held:
            holder.execute("ROLLBACK")
        holder.close()
    assert held
    assert [shown(m.value) for m in at.success] == [f"Resolve: 1 item updated. Done: {first}."]
    [error] = [shown(e.value) for e in at.error]
    assert error.startswith(f"Not resolved (2 items, left as they were): {second}, {third}.\n\n")
    assert f"- {second} was not resolved: Cannot write to the database: another program kept it locked" in error
    assert f"- {third} was not resolved: not tried after the database failed on {second}." in error
    assert statuses(app_db, [first, second, third]) == {first: "resolved", second: "routed", third: "routed",
                                                        "audited": [first]}


def test_nothing_done_keeps_the_form_and_names_every_item(app, app_db, use_db):
    read_only = f"sqlite:///file:{app_db.removeprefix('sqlite:///')}?mode=ro&uri=true"
    use_db(read_only)
    at = app("pages/spoke_page.py", unit="sales").run()
    ids = inbox_ids(at)[:2]
    resolve_first_rows(at, 2)
    assert not at.success
    [error] = [shown(e.value) for e in at.error]
    assert error.startswith(f"Not resolved (2 items, left as they were): {ids[0]}, {ids[1]}.")
    assert "it is read-only" in error and error.endswith("Your selection and note are still here, so you can try again.")
    assert next(s for s in at.selectbox if s.label == "Action").value == "resolve"  # the form kept its input
    assert statuses(app_db, ids) == {ids[0]: "routed", ids[1]: "routed", "audited": []}
