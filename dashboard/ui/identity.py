"""The current user: the app reads who is looking through ``current_viewer()`` and nothing else.

With OpenID Connect configured (an ``[auth]`` section in ``.streamlit/secrets.toml``), people sign in with
``st.login``; their role and spoke come from ID-token claims (names set by ``DASHBOARD_AUTH_*_CLAIM``) or,
when the token has no role, from the ``users`` table an admin edits. Without sign-in configured the app runs
as one local admin — only where ``DASHBOARD_LOCAL_MODE`` allows it (by default in development, never in
production) — and says so in the sidebar.

Tests replace :func:`auth_configured` and :func:`signed_in_claims` (the only two places that read
Streamlit's auth state) to act as any role.
"""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from dashboard import errors
from dashboard.domain.access import LOCAL_ADMIN, ROLE_LABELS, Role, Viewer, viewer_from_claims
from dashboard.queries import users
from dashboard.services.sessions import record_sign_in
from dashboard.settings import get_settings

_KEY = "_viewer"
RECHECK_SECONDS = 60.0  # a role an admin changed applies within a minute, without signing out


def auth_configured() -> bool:
    """Whether sign-in is set up (an [auth] section in secrets.toml)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def signed_in_claims() -> dict | None:
    """The signed-in person's ID-token claims, or None when nobody is signed in."""
    if not st.user.is_logged_in:
        return None
    return dict(st.user)


def _resolve(claims: dict) -> tuple[Viewer, str | None]:
    from dashboard.ui import data

    s = get_settings()

    def lookup(user: str):
        try:
            with data.engine().connect() as conn:
                return users.lookup(conn, user)
        except Exception as exc:
            if errors.is_connection_loss(exc):  # the database is away: not the same as "not in the table"
                raise
            return None  # no database (or no users table) yet: the claims alone decide

    return viewer_from_claims(claims, user_claim=s.auth_user_claim, role_claim=s.auth_role_claim,
                              unit_claim=s.auth_unit_claim, lookup=lookup)


def _record_sign_in(viewer: Viewer, why: str | None) -> None:
    from dashboard.ui import data

    try:
        with data.engine().begin() as conn:
            record_sign_in(conn, viewer, why)
    except Exception:  # the audit must not lock people out when the database is down; the page says why
        pass


WANTED_FOR_SECONDS = 900.0  # a sign-in that takes longer than this starts on the start page


# Not data, so not in dashboard.ui.cache: one mutable dict of process memory, shared by every session (the
# database holds nothing of it, so no write can make it stale and no lifetime applies).
@st.cache_resource(show_spinner=False)
def _wanted_pages() -> dict[str, tuple[float, str, dict]]:
    """Per browser: the page (url path, query) someone asked for while signed out. Streamlit's sign-in
    returns to the app's root; the first page of the signed-in session goes on to the page they wanted.
    Process memory is enough: sessions are sticky, and losing it only means landing on the start page."""
    return {}


def _browser_key() -> str | None:
    """A stable, private key for this browser: a hash of the token in Streamlit's XSRF cookie (the
    cookie's text is re-masked on every response; the token inside it is not)."""
    raw = st.context.cookies.get("_streamlit_xsrf")
    if not raw:
        return None
    try:
        from streamlit.web.server.starlette.starlette_app_utils import decode_xsrf_token_string

        token = decode_xsrf_token_string(raw)[0]
    except Exception:  # another server or version: the raw cookie still identifies the browser
        token = None
    return hashlib.sha256(token if isinstance(token, bytes) and token else str(raw).encode()).hexdigest()


def remember_wanted_page() -> None:
    key, url = _browser_key(), st.context.url
    if not key or not url:
        return
    path = url.rstrip("/").rsplit("/", 1)[-1] if url.count("/") > 2 else ""
    wanted = _wanted_pages()
    now = time.time()
    for k in [k for k, (t, _, _) in wanted.items() if now - t > WANTED_FOR_SECONDS]:
        wanted.pop(k, None)
    wanted[key] = (now, path, st.query_params.to_dict())


def take_wanted_page() -> tuple[str, dict] | None:
    """The page this browser asked for before signing in (once), if recent."""
    wanted = _wanted_pages()
    if not wanted:  # nobody is waiting (always so in local mode)
        return None
    key = _browser_key()
    found = wanted.pop(key, None) if key else None
    if found is None or time.time() - found[0] > WANTED_FOR_SECONDS:
        return None
    return found[1], found[2]


def sign_in_screen() -> None:
    remember_wanted_page()
    st.title("Hub & Spoke")
    st.write("Sign in with your company account to see the dashboard.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        provider = get_settings().auth_provider
        st.login(provider) if provider else st.login()
    st.caption("Your session lasts 30 days on this browser; after signing in you go on to the page you asked for.")


def current_viewer() -> Viewer:
    """Who is looking. Stops the page with a sign-in screen or a message when there is nobody to serve."""
    if not auth_configured():
        if get_settings().local_mode_allowed:
            return LOCAL_ADMIN
        st.error("Sign-in is not configured and local mode is off (DASHBOARD_LOCAL_MODE=false or production). "
                 "Add an [auth] section to .streamlit/secrets.toml — see docs/auth-and-roles.md.",
                 icon=":material/lock:")
        st.stop()
    claims = signed_in_claims()
    if claims is None:
        st.session_state.pop(_KEY, None)
        sign_in_screen()
        st.stop()
    cached = st.session_state.get(_KEY)
    if cached and cached[0] == claims.get("sub", claims.get("email")) and time.monotonic() - cached[3] < RECHECK_SECONDS:
        viewer, why = cached[1], cached[2]
    else:
        try:
            viewer, why = _resolve(claims)
        except errors.DATABASE_ERRORS as exc:
            if not (cached and cached[0] == claims.get("sub", claims.get("email"))):
                from dashboard.ui import data

                data.database_unavailable(exc)  # the banner, never "no access" for an outage
            viewer, why = cached[1], cached[2]  # the role we knew, until the database answers (rechecked next run)
        else:
            if not cached or cached[1] != viewer:
                _record_sign_in(viewer, why)
            st.session_state[_KEY] = (claims.get("sub", claims.get("email")), viewer, why, time.monotonic())
    if viewer.role is Role.NONE:
        st.title("No access yet")
        st.warning(f"You are signed in as **{viewer.user}**, but {why}. Ask an admin to give you a role.",
                   icon=":material/person_off:")
        if st.button("Sign out", icon=":material/logout:"):
            st.logout()
        st.stop()
    return viewer


def identity_badge() -> None:
    viewer = current_viewer()
    if viewer is LOCAL_ADMIN:
        st.sidebar.badge("Local mode — no sign-in", icon=":material/lock_open:", color="orange")
        st.sidebar.caption(f"Signed in as **{viewer.user}**")
        return
    where = f" · {viewer.unit}" if viewer.unit else ""
    st.sidebar.caption(f"Signed in as **{viewer.user}** ({ROLE_LABELS[viewer.role]}{where})")
    if st.sidebar.button("Sign out", icon=":material/logout:", key="sign_out"):
        st.session_state.pop(_KEY, None)
        st.logout()
