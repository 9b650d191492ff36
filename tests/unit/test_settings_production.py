"""Production refuses unsafe settings with one line naming each (dashboard.settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.settings import SettingsError, load_settings, production_problems

SAFE_OPTIONS = {"server.enableXsrfProtection": True, "client.showErrorDetails": "none"}
SAFE_AUTH = {"cookie_secret": "q7Vt2kP9xW4mZ8rB1nC6hJ3sD0fG5yL2", "client_id": "hub"}


def test_local_mode_in_production_stops_loading_the_settings(monkeypatch):
    monkeypatch.setenv("DASHBOARD_ENVIRONMENT", "production")
    monkeypatch.setenv("DASHBOARD_LOCAL_MODE", "true")
    with pytest.raises(SettingsError, match="DASHBOARD_LOCAL_MODE must be off in production"):
        load_settings()


def test_development_allows_local_mode_and_any_options(monkeypatch):
    monkeypatch.setenv("DASHBOARD_LOCAL_MODE", "true")
    settings = load_settings(environment="development")
    assert settings.local_mode_allowed
    assert production_problems(settings, {"server.enableXsrfProtection": False}, None) == []


def test_a_safe_production_set_up_has_no_problem():
    assert production_problems(load_settings(environment="production"), SAFE_OPTIONS, SAFE_AUTH) == []


@pytest.mark.parametrize("options, auth, named", [
    ({**SAFE_OPTIONS, "server.enableXsrfProtection": False}, SAFE_AUTH, "server.enableXsrfProtection"),
    ({**SAFE_OPTIONS, "client.showErrorDetails": "full"}, SAFE_AUTH, "client.showErrorDetails"),
    ({**SAFE_OPTIONS, "client.showErrorDetails": True}, SAFE_AUTH, "client.showErrorDetails"),
    (SAFE_OPTIONS, None, "[auth] in .streamlit/secrets.toml"),
    (SAFE_OPTIONS, {"client_id": "hub"}, "[auth] cookie_secret"),
    (SAFE_OPTIONS, {"cookie_secret": "change-me-to-something-long-and-random-please"}, "[auth] cookie_secret"),
    (SAFE_OPTIONS, {"cookie_secret": "short"}, "[auth] cookie_secret"),
])
def test_each_unsafe_production_setting_is_named_on_one_line(options, auth, named):
    problems = production_problems(load_settings(environment="production"), options, auth)
    assert len(problems) == 1 and problems[0].startswith(named) and "\n" not in problems[0]


def test_the_env_file_is_read_beside_the_repository_whatever_the_working_directory():
    from dashboard.settings import DEFAULT_SQLITE, ROOT, Settings

    env_file = Path(Settings.model_config["env_file"])
    assert env_file.is_absolute() and env_file == ROOT / ".env" and DEFAULT_SQLITE.is_relative_to(ROOT)
