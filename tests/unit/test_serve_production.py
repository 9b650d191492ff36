"""The launcher (``python -m dashboard.ui.serve``, what ``make run`` uses) refuses to start unsafe in production:
one line on stderr per unsafe setting and exit code 2, with no server started; a safe set-up serves."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from dashboard.ui.serve import REFUSED, free_port, start_background

ROOT = Path(__file__).resolve().parents[2]


def _launch(db_url: str, args: list[str], **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DASHBOARD_", "STREAMLIT_"))}
    environ.update(PYTHONPATH=str(ROOT), DASHBOARD_DATABASE_URL=db_url, DASHBOARD_ENVIRONMENT="production", **env)
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.ui.serve", "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *args],
        cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60,
    )
    with pytest.raises(OSError):  # nothing listens on the port
        urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    return done


def _secrets(tmp_path: Path, cookie_secret: str | None) -> str:
    path = tmp_path / "secrets.toml"
    lines = ["[auth]", 'client_id = "hub"', 'redirect_uri = "http://localhost:8501/oauth2callback"']
    if cookie_secret is not None:
        lines.append(f'cookie_secret = "{cookie_secret}"')
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_local_mode_xsrf_off_full_errors_and_no_sign_in_refuse_to_start(sqlite_url, tmp_path):
    done = _launch(sqlite_url, ["--server.enableXsrfProtection", "false", "--client.showErrorDetails", "full",
                                "--secrets.files", str(tmp_path / "none.toml")], DASHBOARD_LOCAL_MODE="true")
    assert done.returncode == REFUSED == 2
    lines = done.stderr.strip().splitlines()
    assert lines[0] == ("Invalid setting: DASHBOARD_LOCAL_MODE must be off in production: every visitor would be "
                        "the local admin")
    assert lines[1].startswith("server.enableXsrfProtection: must be true in production, not False")
    assert lines[2].startswith("client.showErrorDetails: must be none in production, not 'full'")
    assert lines[3] == "[auth] in .streamlit/secrets.toml: sign-in must be configured in production"
    assert lines[4:] == ["Not started: fix the settings above."]


@pytest.mark.parametrize("cookie_secret", [None, "change-me-to-a-long-random-string", "short"])
def test_a_missing_or_placeholder_cookie_secret_refuses_to_start(sqlite_url, tmp_path, cookie_secret):
    done = _launch(sqlite_url, ["--secrets.files", _secrets(tmp_path, cookie_secret)])
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "[auth] cookie_secret: must be a random value of at least 32 characters in production (missing, short or "
        "a placeholder)", "Not started: fix the settings above."]


def test_options_from_streamlit_environment_variables_count_too(sqlite_url, tmp_path):
    done = _launch(sqlite_url, ["--secrets.files", _secrets(tmp_path, secrets.token_urlsafe(32))],
                   STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION="false", STREAMLIT_CLIENT_SHOW_ERROR_DETAILS="stacktrace")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert [line.split(":")[0] for line in lines[:2]] == ["server.enableXsrfProtection", "client.showErrorDetails"]
    assert len(lines) == 3


def test_a_safe_production_set_up_starts_and_answers(sqlite_url, tmp_path):
    server = start_background(sqlite_url, tmp_path, environment="production",
                              args=("--secrets.files", _secrets(tmp_path, secrets.token_urlsafe(32))))
    try:
        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=5) as r:
            assert r.status == 200 and r.read() == b"ok"
        assert "Not started" not in server.log.read_text()
    finally:
        server.stop()
