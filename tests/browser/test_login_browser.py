"""The real sign-in: st.login against a mock OpenID provider (oidc-provider-mock), in headless Chromium.

The provider runs in a thread of this process; the app reads a secrets.toml written here (``--secrets.files``),
so a developer's own ``.streamlit/secrets.toml`` plays no part. The spoke lead's role and spoke come from the
ID-token claims ``role`` and ``unit`` (the defaults of DASHBOARD_AUTH_ROLE_CLAIM / DASHBOARD_AUTH_UNIT_CLAIM).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import quote

import httpx
import oidc_provider_mock  # requirements-dev.txt
import pytest
import sqlalchemy as sa

from tests.browser.conftest import free_port, start_server
from tests.factories import sample_database

SAM = "sam@example.com"


@pytest.fixture
def provider():
    """A mock OpenID provider on a free localhost port; yields its base URL."""
    with oidc_provider_mock.run_server_in_thread(port=free_port()) as server:
        base = f"http://127.0.0.1:{server.server_port}"
        # the claims the provider puts in Sam's ID token (custom claims are always included; email with scope email)
        r = httpx.put(f"{base}/users/{quote(SAM)}", json={"email": SAM, "name": "Sam", "role": "spoke_lead",
                                                          "unit": "sales"})
        assert r.status_code == 204, r.text
        yield base


@pytest.fixture
def signed_in_server(provider, tmp_path):
    port = free_port()
    secrets_file = tmp_path / "secrets.toml"
    auth = {
        "redirect_uri": f"http://127.0.0.1:{port}/oauth2callback",
        "cookie_secret": secrets.token_urlsafe(32),
        "client_id": "hub-and-spoke",
        "client_secret": secrets.token_urlsafe(16),
        "server_metadata_url": f"{provider}/.well-known/openid-configuration",
    }
    secrets_file.write_text("[auth]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in auth.items()))
    server = start_server(sample_database(tmp_path / "login.db"), tmp_path, port=port,
                          args=("--secrets.files", str(secrets_file)), cache_ttl_seconds=1)
    yield server
    server.stop()


def sign_in_rows(db_url: str) -> list[dict]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(sa.text(
                "SELECT user, role, action, detail FROM audit_log WHERE action = 'sign_in'")).mappings()]
    finally:
        engine.dispose()


def test_spoke_lead_signs_in_is_limited_to_their_spoke_and_signs_out(page, signed_in_server, provider):
    app = signed_in_server.url
    page.goto(f"{app}/spoke?unit=sales&window=30d")  # a deep link opened while signed out
    page.get_by_role("button", name="Sign in").click()

    # the provider's authorize form: type the subject whose claims were set above
    page.wait_for_url(f"{provider}/oauth2/authorize*")
    page.get_by_placeholder("sub").fill(SAM)
    page.get_by_role("button", name="Authorize").click()

    # back in the app (the callback redirects to "/"), on the page that was asked for, with its filters
    page.wait_for_url(f"{app}/**")
    page.get_by_role("heading", name="Sales").wait_for()
    page.wait_for_url(f"{app}/spoke?unit=sales&window=30d")
    page.get_by_text(f"Signed in as {SAM} (Spoke lead · sales)").wait_for()
    page.get_by_text("Inbox: work routed to this team").wait_for()  # drawn after the header: wait, do not sample

    # another spoke by a hand-edited link: refused, and no inbox
    page.goto(f"{app}/spoke?unit=finance")
    page.get_by_role("heading", name="Not permitted").wait_for()
    page.get_by_text("You may not open the “Finance” spoke.").wait_for()
    assert page.get_by_text("Inbox: work routed to this team").count() == 0
    assert page.get_by_role("heading", name="Finance").count() == 0
    assert page.get_by_text("Page not found").count() == 0  # /spoke is a page of its own, not the root

    rows = sign_in_rows(signed_in_server.db_url)
    assert {"user": SAM, "role": "spoke_lead", "action": "sign_in", "detail": None} in rows, rows

    # sign out: Streamlit sends the browser to the provider's end-session page, which returns to the app
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{provider}/oauth2/end_session*")
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app}/**")
    page.get_by_role("button", name="Sign in").wait_for()
    page.get_by_text("Sign in with your company account to see the dashboard.").wait_for()
    assert page.get_by_text(f"Signed in as {SAM}").count() == 0

    # the sign-out really ended the session: a reload still shows the sign-in screen, not the spoke
    page.goto(f"{app}/spoke?unit=sales")
    page.get_by_role("button", name="Sign in").wait_for()
    assert page.get_by_role("heading", name="Sales").count() == 0
