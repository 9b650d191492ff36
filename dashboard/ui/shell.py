"""The app shell: page config, identity badge and navigation — built once per run, whichever way the run began.

Why page files are named ``*_page.py`` while their URLs are ``/overview``, ``/spoke``, ``/scenarios``: with a
folder called ``pages/`` beside the entry script, Streamlit starts a process (and AppTest starts every run) in
its legacy multipage mode, which runs ``pages/<name>.py`` on its own for the URL ``/<name>`` — no page config,
no navigation, no identity. With file names that differ from the URL paths, legacy routing never matches a
real URL and falls back to the entry script, which routes with ``st.navigation``.

``require_shell()`` covers what is left (someone opening ``/spoke_page`` by hand): a page reached without the
entry script's mark builds the same shell itself.
"""

from __future__ import annotations

import streamlit as st

from dashboard import errors
from dashboard.settings import SettingsError, get_settings
from dashboard.domain.access import LOCAL_ADMIN, Role, Viewer
from dashboard.ui.identity import current_viewer, identity_badge, take_wanted_page

_MARK = "_entered_via_shell"
_LANDED = "_landed"  # set after the first page of a session is chosen


PAGES = {  # url path -> (file, title, icon, roles that see it)
    "overview": ("pages/overview_page.py", "Overview", ":material/hub:", set(Role) - {Role.NONE}),
    "spoke": ("pages/spoke_page.py", "Spokes", ":material/groups:", set(Role) - {Role.NONE}),
    "scenarios": ("pages/scenarios_page.py", "Scenarios", ":material/tune:", set(Role) - {Role.NONE}),
    "routing": ("pages/routing_page.py", "Routing", ":material/alt_route:",
                {Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE}),
    "operating-model": ("pages/operating_model_page.py", "Operating model", ":material/autorenew:",
                        set(Role) - {Role.NONE}),
    "data-health": ("pages/health_page.py", "Data health", ":material/monitor_heart:",
                    {Role.ADMIN, Role.HUB_LEAD, Role.EXECUTIVE}),
    "upload": ("pages/upload_page.py", "Import data", ":material/upload_file:", {Role.ADMIN, Role.HUB_LEAD}),
    "admin": ("pages/admin_page.py", "Users & audit", ":material/admin_panel_settings:", {Role.ADMIN}),
}


def app_pages(viewer: Viewer = LOCAL_ADMIN) -> list:
    """The pages this viewer's role may open, in menu order. The overview is the default page (served at "/")
    for every role: Streamlit serves the default page only at the root, so a spoke page made default would
    answer /spoke?unit=… links with "Page not found". A spoke lead is sent to their spoke by :func:`shell`."""
    return [
        st.Page(file, title=title, icon=icon, url_path=path, default=path == "overview")
        for path, (file, title, icon, roles) in PAGES.items() if viewer.role in roles
    ]


class GuardedPage:
    """The navigation's page, run so that a database failure anywhere in it becomes a banner at the page's top
    (with automatic recovery, see :func:`dashboard.ui.data.database_unavailable`) instead of a traceback."""

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


def shell():
    """Page config, settings check, identity badge; returns the navigation's current page (guarded)."""
    st.set_page_config(page_title="Hub & Spoke", page_icon=":material/hub:", layout="wide")
    try:
        get_settings()
    except SettingsError as exc:
        st.error(str(exc), icon=":material/settings_alert:")
        st.stop()
    identity_badge()
    st.session_state[_MARK] = True
    viewer = current_viewer()
    page = st.navigation(app_pages(viewer))
    if not st.session_state.get(_LANDED):  # the session's first page, usually "/" straight after signing in
        st.session_state[_LANDED] = True
        if page.url_path == "" and not st.query_params:
            wanted = take_wanted_page()  # the page asked for while signed out
            if wanted and wanted[0] in PAGES and viewer.role in PAGES[wanted[0]][3]:
                st.switch_page(PAGES[wanted[0]][0], query_params=wanted[1])
            if viewer.role is Role.SPOKE_LEAD:  # a spoke lead starts on their spoke
                st.switch_page(PAGES["spoke"][0])
    return GuardedPage(page)


def require_shell() -> None:
    """First line of every page: build the shell when the page was run on its own (see the module doc)."""
    if not st.session_state.pop(_MARK, False):
        shell()
        st.session_state.pop(_MARK, None)
