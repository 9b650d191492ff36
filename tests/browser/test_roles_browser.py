"""`make run-roles`: the launcher (python -m loaders.roles) as a real process — the mock identity provider and the app
on loopback — signing in as the people it lists, in headless Chromium; Ctrl-C (SIGINT) stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from loaders.roles import HOST, PEOPLE
from tests.browser.conftest import free_port
from tests.factories import sample_database

ROOT = Path(__file__).resolve().parents[2]
HANA = next(p for p in PEOPLE if p.role == "hub_lead")
SAM = next(p for p in PEOPLE if p.role == "spoke_lead" and p.unit == "sales")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture
def launcher(tmp_path):
    """``python -m loaders.roles`` on free ports against a small sample database; yields (app URL, provider URL)."""
    app_port, idp_port = free_port(), free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DASHBOARD_DATABASE_URL": sample_database(tmp_path / "roles.db"),
           "DASHBOARD_CACHE_TTL_SECONDS": "1"}
    log = (tmp_path / "launcher.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "loaders.roles", "--port", str(app_port), "--idp-port", str(idp_port),
                             "--secrets-dir", str(tmp_path / "secrets")], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    app, idp = f"http://{HOST}:{app_port}", f"http://{HOST}:{idp_port}"
    deadline = time.monotonic() + 90
    while not (answers(f"{app}/_stcore/health") and answers(f"{idp}/.well-known/openid-configuration")):
        assert proc.poll() is None, (tmp_path / "launcher.log").read_text()
        assert time.monotonic() < deadline, "the launcher did not start the provider and the app within 90 s"
        time.sleep(0.5)
    yield app, idp, proc, tmp_path
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def sign_in_as(page, app: str, idp: str, person) -> None:
    page.goto(app)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{idp}/oauth2/authorize*")
    page.get_by_role("button", name=person.sub).click()  # the provider lists the launcher's people
    page.wait_for_url(f"{app}/**")


def sign_out(page, idp: str) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{idp}/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()
    page.get_by_role("button", name="Sign in").wait_for()


@pytest.mark.timeout(240)
def test_run_roles_signs_in_a_hub_lead_and_a_spoke_lead_and_ctrl_c_stops_both(page, launcher):
    app, idp, proc, tmp = launcher
    secrets_file = tmp / "secrets" / "secrets.toml"
    assert f'server_metadata_url = "{idp}/.well-known/openid-configuration"' in secrets_file.read_text()
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"

    sign_in_as(page, app, idp, HANA)
    page.get_by_text(f"Signed in as {HANA.sub} (Hub lead)").wait_for()
    page.get_by_role("heading", name="Overview").wait_for()
    assert page.get_by_role("link", name="Routing").count() == 1  # a hub lead's menu has the routing page
    sign_out(page, idp)

    sign_in_as(page, app, idp, SAM)
    page.get_by_text(f"Signed in as {SAM.sub} (Spoke lead · sales)").wait_for()
    page.get_by_role("heading", name="Sales").wait_for()  # a spoke lead starts on their spoke
    assert page.get_by_role("link", name="Routing").count() == 0

    proc.send_signal(signal.SIGINT)  # Ctrl-C
    assert proc.wait(30) == 0
    assert not answers(f"{app}/_stcore/health"), "the app still answers after Ctrl-C"
    assert not answers(f"{idp}/.well-known/openid-configuration"), "the provider still answers after Ctrl-C"
