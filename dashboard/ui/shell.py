"""The app shell: page config, identity badge and navigation — built once per run, whichever way the run began.

Why page files are named ``*_page.py`` while their URLs are ``/overview``, ``/spoke``, ``/scenarios``: with a
folder called ``pages/`` beside the entry script, Streamlit starts a process (and AppTest starts every run) in
its legacy multipage mode, which runs ``pages/<name>.py`` on its own for the URL ``/<name>`` — no page config,
no navigation, no identity. With file names that differ from the URL paths, legacy routing never matches a
real URL and falls back to the entry script, which routes with ``st.navigation``.

``require_shell()`` covers what is left (someone opening ``/spoke_page`` by hand): a page reached without the
entry script's mark builds the same shell itself.

The overview is the default page, served at ``/``; ``/overview`` (the URL docs/pages.md documents) leads there with
its query. A page the viewer's role may not open is registered too, hidden, so that its URL says why instead of
"Page not found": it names who may open it and sends the viewer to their start page with that note on top.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import streamlit as st

from dashboard import errors
from dashboard.domain.access import LOCAL_ADMIN, ROLE_LABELS, Role, Viewer, who_may_open
from dashboard.settings import SAFE_STREAMLIT_OPTIONS, Settings, SettingsError, get_settings, production_problems
from dashboard.ui import urlstate
from dashboard.ui.identity import current_viewer, identity_badge, take_wanted_page
from dashboard.ui.text import bullets

log = logging.getLogger(__name__)

_MARK = "_entered_via_shell"
_LANDED = "_landed"  # set after the first page of a session is chosen
_REFUSED = "_refused_page"  # the page a viewer asked for and may not open, said once on the page they get instead
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"  # served by the app: nothing from outside
SIDEBAR_WIDTH = 240  # px: the menu fits, and a tablet keeps most of its width for the page
DEFAULT_PATH = "home"  # the overview's own url path: unused in links (it is served at "/"), unique by rule


# url path -> (file, title, icon); who opens each page is dashboard.domain.access.PAGE_PERMISSIONS (Viewer.may_open)
PAGES = {
    "overview": ("pages/overview_page.py", "Overview", ":material/hub:"),
    "spoke": ("pages/spoke_page.py", "Spokes", ":material/groups:"),
    "scenarios": ("pages/scenarios_page.py", "Scenarios", ":material/tune:"),
    "routing": ("pages/routing_page.py", "Routing", ":material/alt_route:"),
    "operating-model": ("pages/operating_model_page.py", "Operating model", ":material/autorenew:"),
    "data-health": ("pages/health_page.py", "Data health", ":material/monitor_heart:"),
    "upload": ("pages/upload_page.py", "Import data", ":material/upload_file:"),
    "admin": ("pages/admin_page.py", "Users & audit", ":material/admin_panel_settings:"),
}


def app_pages(viewer: Viewer = LOCAL_ADMIN) -> list:
    """The pages this viewer's role may open, in menu order, then hidden ones: ``/overview`` (which leads to the
    overview at "/") and, for each page the role may not open, a stand-in that says so (see the module doc).
    The overview is the default page (served at "/") for every role: Streamlit serves the default page only at
    the root, so a spoke page made default would answer /spoke?unit=… links with "Page not found". A spoke lead
    is sent to their spoke by :func:`shell`."""
    pages = [
        st.Page(file, title=title, icon=icon, url_path=DEFAULT_PATH if path == "overview" else path,
                default=path == "overview")
        for path, (file, title, icon) in PAGES.items() if viewer.may_open(path)
    ]
    pages.append(st.Page(_to_overview, title="Overview", url_path="overview", visibility="hidden"))
    pages += [
        st.Page(partial(_refused, path, viewer), title=title, url_path=path, visibility="hidden")
        for path, (_file, title, _icon) in PAGES.items() if not viewer.may_open(path)
    ]
    return pages


def start_page(viewer: Viewer) -> str:
    """The page file a viewer starts on: a spoke lead's spoke, everyone else's overview."""
    return PAGES["spoke" if viewer.role is Role.SPOKE_LEAD else "overview"][0]


def _to_overview() -> None:
    """``/overview``: the overview, at its canonical address "/", with the link's query (?window=30d …)."""
    st.switch_page(PAGES["overview"][0], query_params=st.query_params.to_dict())


def _refused(path: str, viewer: Viewer) -> None:
    st.session_state[_REFUSED] = path
    st.switch_page(start_page(viewer))


def refusal_note(path: str, viewer: Viewer) -> str:
    """Why a viewer is on this page rather than the one they asked for."""
    title, who = PAGES[path][1], who_may_open(path)
    role = ROLE_LABELS[viewer.role].lower()
    here = "your spoke's page" if viewer.role is Role.SPOKE_LEAD else "the overview"
    return (f"{title} is open to {who} only. You are signed in as {'an' if role[0] in 'aeiou' else 'a'} {role}, "
            f"so you are on {here} instead.")


BUG_MESSAGE = ("Something went wrong on this page: a fault in the app, not in what you did. Nothing was saved. "
               "Reload the page; if it happens again, tell an admin (the server log has the details).")


class GuardedPage:
    """The navigation's page, run so that a database failure anywhere in it becomes a banner at the page's top
    (with automatic recovery, see :func:`dashboard.ui.data.database_unavailable`) instead of a traceback, and any
    other exception (a bug: refusals meant for people are caught by the pages) one sentence, logged in full."""

    def __init__(self, page) -> None:
        self.page = page

    def __getattr__(self, name: str):
        return getattr(self.page, name)

    def run(self) -> None:
        from dashboard.ui import data

        top = st.empty()
        try:
            self.page.run()
        except errors.DATABASE_ERRORS as exc:
            data.database_unavailable(exc, top)
        except Exception:  # st.stop and st.rerun are BaseExceptions and pass through
            log.exception("unexpected error on page %s", getattr(self.page, "url_path", "?"))
            top.error(BUG_MESSAGE, icon=":material/bug_report:")


def shell():
    """Page config, settings check, identity badge; returns the navigation's current page (guarded)."""
    st.set_page_config(page_title="Hub & Spoke", page_icon=str(FAVICON), layout="wide",
                       initial_sidebar_state=SIDEBAR_WIDTH)
    try:
        settings = get_settings()
    except SettingsError as exc:
        st.error(str(exc), icon=":material/settings_alert:")
        st.stop()
    refuse_unsafe_production(settings)
    identity_badge()
    st.session_state[_MARK] = True
    viewer = current_viewer()
    page = st.navigation(app_pages(viewer))
    if not st.session_state.get(_LANDED):  # the session's first page, usually "/" straight after signing in
        st.session_state[_LANDED] = True
        if page.url_path == "" and not st.query_params:
            wanted = take_wanted_page()  # the page asked for while signed out
            if wanted and wanted[0] in PAGES and viewer.may_open(wanted[0]):
                st.switch_page(PAGES[wanted[0]][0], query_params=wanted[1])
            if viewer.role is Role.SPOKE_LEAD:  # a spoke lead starts on their spoke
                st.switch_page(PAGES["spoke"][0])
    st.session_state[urlstate.CURRENT_PAGE] = page.url_path
    demo_badge(viewer)
    refused = st.session_state.pop(_REFUSED, None)
    if refused in PAGES:
        st.info(refusal_note(refused, viewer), icon=":material/lock:")
    return GuardedPage(page)


def _auth_secrets() -> dict | None:
    """The ``[auth]`` section of the secrets, or None when there is none (or no secrets file at all)."""
    try:
        auth = st.secrets.to_dict().get("auth")
    except Exception:  # no secrets file, or one Streamlit cannot parse
        return None
    return auth if isinstance(auth, dict) else None


def refuse_unsafe_production(settings: Settings) -> None:
    """In production with unsafe settings, one error naming each and nothing else: the launcher refuses to start
    such a server (``dashboard.ui.serve``); this covers ``streamlit run streamlit_app.py`` started by hand."""
    if settings.environment != "production":
        return
    options = {name: st.get_option(name) for name, _wanted, _why in SAFE_STREAMLIT_OPTIONS}
    problems = production_problems(settings, options, _auth_secrets())
    if problems:
        st.error("This server is not safe to run in production, so it shows no data. Fix these settings and "
                 "restart it:\n\n" + bullets(problems), icon=":material/gpp_bad:")
        st.stop()


def demo_badge(viewer: Viewer) -> None:
    """A badge on every page while the generated demo organisation is loaded, so nobody takes it for real data."""
    from dashboard.ui import data

    if data.is_demo(viewer):
        st.badge("Demo data", icon=":material/science:", color="violet",
                 help="A generated demo organisation (`python -m loaders demo`): its people, items and figures are "
                      "made up. Importing your own units, KPIs and work items replaces it.")


def require_shell() -> None:
    """First line of every page: build the shell when the page was run on its own (see the module doc)."""
    if not st.session_state.pop(_MARK, False):
        shell()
        st.session_state.pop(_MARK, None)
