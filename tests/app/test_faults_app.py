"""The app through faults, with AppTest on real databases: PostgreSQL stopped and started under an open app
(banner while down, the same app object shows data again after), a read failure in the middle of a page,
and writes refused by a read-only SQLite file (a clear message, the form keeps its input, nothing written)."""

from __future__ import annotations

import json

import pytest
import streamlit as st
from sqlalchemy import select, text

from dashboard.db import make_engine, scenarios, work_items
from tests.pg import postgres_with_demo


@pytest.fixture(scope="module")
def outage_pg():
    """A PostgreSQL server of this module's own, with a small migrated demo: the tests stop and restart it."""
    server = postgres_with_demo("faults", work_items=3000, kpi_observations=1500)
    try:
        yield server
    finally:
        server.cleanup()


def flows_on_map(at) -> list:
    charts = at.get("plotly_chart")
    if not charts:
        return []
    spec = json.loads(charts[0].proto.spec)
    return [t for t in spec["data"] if t.get("name") == "flows"]


def banner(at) -> str:
    return " ".join(e.value for e in at.error)


def test_postgres_stopped_and_started_under_an_open_app(outage_pg, app, use_db):
    use_db(outage_pg.url("faults"))
    overview = app().run()
    spoke = app("pages/spoke_page.py", unit="sales").run()
    assert not overview.exception and not spoke.exception
    assert flows_on_map(overview) and not overview.error
    assert [s for s in spoke.subheader if s.value.startswith("Inbox")]

    outage_pg.stop()
    try:
        for at in (overview.run(), spoke.run()):
            assert not at.exception
            assert "Cannot reach the database at `postgresql+psycopg://postgres@127.0.0.1" in banner(at)
            assert "comes back by itself" in banner(at)
            assert not flows_on_map(at) and not [s for s in at.subheader if s.value.startswith("Inbox")]
    finally:
        outage_pg.restart()

    overview.run()  # the same app objects: no restart, no new session
    spoke.run()
    assert not overview.exception and not spoke.exception
    assert not overview.error and flows_on_map(overview)
    assert not spoke.error and [s for s in spoke.subheader if s.value.startswith("Inbox")]


def test_a_read_that_fails_midway_through_a_page_shows_the_banner_not_a_traceback(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    assert not at.exception and not at.error
    with make_engine(app_db).begin() as conn:  # the page's first check passes, a later query fails
        conn.execute(text("ALTER TABLE kpi_hourly RENAME TO kpi_hourly_gone"))
    st.cache_data.clear()  # the page's figures would otherwise come from the cache
    at.run()
    assert not at.exception
    assert "Cannot use the database" in banner(at) and "no such table: kpi_hourly" in banner(at)
    assert "Reload the page to try again" in banner(at)


def read_only(url: str) -> str:
    return f"sqlite:///file:{url.removeprefix('sqlite:///')}?mode=ro&uri=true"


def test_an_inbox_action_refused_by_a_read_only_database_keeps_the_note(app, app_db, use_db):
    use_db(read_only(app_db))
    at = app("pages/spoke_page.py", unit="sales").run()
    assert not at.exception and not at.error  # reading works
    at.session_state["inbox-1-0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    next(s for s in at.selectbox if s.label == "Action").set_value("hand_back")
    next(t for t in at.text_input if t.label == "Note").input("Wrong team")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception
    assert "it is read-only (attempt to write a readonly database)" in banner(at)
    assert "Your selection and note are still here" in banner(at)
    assert next(t for t in at.text_input if t.label == "Note").value == "Wrong team"
    assert next(s for s in at.selectbox if s.label == "Action").value == "hand_back"
    eng = make_engine(app_db)
    with eng.connect() as conn:
        handed = conn.execute(select(work_items.c.id).where(work_items.c.status == "handed_back")).all()
    eng.dispose()
    assert handed == []


def test_saving_a_scenario_on_a_read_only_database_keeps_the_form(app, app_db, use_db):
    use_db(read_only(app_db))
    at = app("pages/scenarios_page.py").run()
    assert not at.exception
    next(t for t in at.text_input if t.label == "Name").input("All in the hub")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert not at.exception
    assert "Cannot write to the database" in banner(at) and "your input is still here" in banner(at)
    assert next(t for t in at.text_input if t.label == "Name").value == "All in the hub"
    eng = make_engine(app_db)
    with eng.connect() as conn:
        assert conn.execute(select(scenarios.c.id)).all() == []
    eng.dispose()


def test_signed_in_without_a_role_claim_while_the_database_is_away_sees_the_banner_not_no_access(
        outage_pg, app, use_db, monkeypatch):
    """The role comes from the users table: an outage must not read as "you have no role"."""
    from dashboard.ui import identity

    use_db(outage_pg.url("faults"))
    with make_engine(outage_pg.url("faults")).begin() as conn:
        conn.execute(text("""INSERT INTO users ("user", name, role, unit, active, updated_at, updated_by)
                             VALUES ('sam@example.com', 'Sam', 'hub_lead', NULL, true, now(), 'test')
                             ON CONFLICT DO NOTHING"""))
    outage_pg.checkpoint()
    monkeypatch.setattr(identity, "auth_configured", lambda: True)
    monkeypatch.setattr(identity, "signed_in_claims", lambda: {"sub": "s-1", "email": "sam@example.com"})
    fresh = app()
    outage_pg.stop()
    try:
        fresh.run()  # first run of a session, the database away: no role is known yet
        assert not fresh.exception and not fresh.title
        assert "Cannot reach the database" in banner(fresh) and not fresh.warning
    finally:
        outage_pg.restart()
    fresh.run()
    assert not fresh.exception and not fresh.error
    assert "Hub lead" in " ".join(c.value for c in fresh.sidebar.caption) and fresh.get("plotly_chart")

    known = app().run()  # a session that knew its role keeps it through an outage after the recheck time
    known.session_state["_viewer"] = (*known.session_state["_viewer"][:3], 0.0)  # recheck due
    outage_pg.stop()
    try:
        known.run()
        assert not known.exception
        assert not [t for t in known.title if t.value == "No access yet"]
        assert "Hub lead" in " ".join(c.value for c in known.sidebar.caption)
        assert "Cannot reach the database" in banner(known)  # the page itself still says the database is away
    finally:
        outage_pg.restart()
