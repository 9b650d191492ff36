"""AppTest fixtures: the real app script against a real SQLite file (settings via environment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.settings import get_settings
from dashboard.ui import identity
from tests.factories import sample_database

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "streamlit_app.py")


@pytest.fixture
def use_db(monkeypatch):
    """Point the app at a database URL for this test (settings are re-read)."""
    def _use(url: str, **env):
        monkeypatch.setenv("DASHBOARD_DATABASE_URL", url)
        for key, value in env.items():
            monkeypatch.setenv(f"DASHBOARD_{key.upper()}", str(value))
        get_settings.cache_clear()
        return url
    yield _use
    get_settings.cache_clear()


@pytest.fixture
def app_db(tmp_path, use_db):
    return use_db(sample_database(tmp_path / "app.db"))


@pytest.fixture
def app():
    def _app(page: str | None = None, **query) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        if page:  # run once first, so switch_page resolves the page st.navigation registered (its url_path)
            at.run()
            at.switch_page(page)
        at.query_params.update(query)
        return at
    return _app


@pytest.fixture
def sign_in(monkeypatch):
    """``sign_in(claims)``: from the next run on, the app sees these ID-token claims (None: signed out)."""
    current = {}

    def _as(claims: dict | None) -> None:
        current["claims"] = claims
        monkeypatch.setattr(identity, "auth_configured", lambda: True)
        monkeypatch.setattr(identity, "signed_in_claims", lambda: None if current["claims"] is None
                            else dict(current["claims"]))
    return _as
