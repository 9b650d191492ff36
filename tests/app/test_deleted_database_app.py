"""The SQLite file deleted under a running app: every page says so, nothing is written into the unlinked file
and no empty file is created in its place (dashboard.db.make_engine)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tests.app.test_faults_app import banner


def test_a_deleted_database_file_is_a_banner_not_old_data_or_a_silent_write(app, app_db):
    at = app("pages/spoke_page.py", unit="sales").run()
    assert not at.exception and not at.error
    path = Path(app_db.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):  # what `rm data/hubspoke.db*` removes
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    st.cache_data.clear()  # the page's figures would otherwise come from the cache for a few seconds
    at.run()
    assert not at.exception
    assert "Cannot open the database" in banner(at) and "was deleted or replaced" in banner(at)
    assert not path.exists()  # not re-created empty
    at.run()  # and it stays refused
    assert "was deleted or replaced" in banner(at) and not path.exists()
