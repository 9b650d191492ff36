"""``streamlit run streamlit_app.py`` started by hand in production with unsafe settings: the app shows one error
naming each problem and nothing else (no data, no menu); with safe settings it goes on to sign-in."""

from __future__ import annotations

import secrets

import pytest
from streamlit import config

from tests.app.shown import shown

SAFE_AUTH = {"cookie_secret": secrets.token_urlsafe(32), "client_id": "hub",
             "redirect_uri": "http://localhost:8501/oauth2callback"}


@pytest.fixture
def error_details():
    """Set ``client.showErrorDetails`` for one test (as a config.toml or flag would) and put it back after."""
    before = config.get_option("client.showErrorDetails")
    yield lambda value: config.set_option("client.showErrorDetails", value)
    config.set_option("client.showErrorDetails", before)


def _only_the_refusal(at) -> str:
    assert not at.exception
    assert len(at.error) == 1
    assert not (at.metric or at.dataframe or at.title or at.button or at.sidebar.children)
    return shown(at.error[0].value)


def test_production_without_sign_in_shows_only_the_refusal(app_db, use_db, app):
    use_db(app_db, environment="production")
    at = app()
    at.run()
    text = _only_the_refusal(at)
    assert text.startswith("This server is not safe to run in production, so it shows no data.")
    assert "\n- [auth] in .streamlit/secrets.toml: sign-in must be configured in production" in text


def test_production_with_full_error_details_and_a_placeholder_secret_names_both(app_db, use_db, app, error_details):
    use_db(app_db, environment="production")
    error_details("full")
    at = app()
    at.secrets["auth"] = {**SAFE_AUTH, "cookie_secret": "change-me-to-a-long-random-string"}
    at.run()
    text = _only_the_refusal(at)
    assert "- client.showErrorDetails: must be none in production, not 'full'" in text
    assert "- [auth] cookie_secret: must be a random value of at least 32 characters" in text


def test_a_safe_production_set_up_asks_people_to_sign_in(app_db, use_db, app, sign_in):
    use_db(app_db, environment="production")
    sign_in(None)  # nobody signed in yet
    at = app()
    at.secrets["auth"] = SAFE_AUTH
    at.run()
    assert not at.exception and not at.error
    assert [b.label for b in at.button] == ["Sign in"]


def test_development_ignores_the_production_checks(app_db, use_db, app, error_details):
    use_db(app_db, environment="development")
    error_details("full")
    at = app()
    at.run()
    assert not at.exception and not at.error
    assert at.metric  # the overview's tiles
