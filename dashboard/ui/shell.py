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

from dashboard.settings import SettingsError, get_settings
from dashboard.ui.identity import identity_badge

_MARK = "_entered_via_shell"


def app_pages() -> list:
    return [
        st.Page("pages/overview_page.py", title="Overview", icon=":material/hub:", url_path="overview", default=True),
        st.Page("pages/spoke_page.py", title="Spokes", icon=":material/groups:", url_path="spoke"),
        st.Page("pages/scenarios_page.py", title="Scenarios", icon=":material/tune:", url_path="scenarios"),
        st.Page("pages/health_page.py", title="Data health", icon=":material/monitor_heart:", url_path="data-health"),
        st.Page("pages/upload_page.py", title="Import data", icon=":material/upload_file:", url_path="upload"),
    ]


def shell():
    """Page config, settings check, identity badge; returns the navigation's current page."""
    st.set_page_config(page_title="Hub & Spoke", page_icon=":material/hub:", layout="wide")
    try:
        get_settings()
    except SettingsError as exc:
        st.error(str(exc), icon=":material/settings_alert:")
        st.stop()
    identity_badge()
    st.session_state[_MARK] = True
    return st.navigation(app_pages())


def require_shell() -> None:
    """First line of every page: build the shell when the page was run on its own (see the module doc)."""
    if not st.session_state.pop(_MARK, False):
        shell()
        st.session_state.pop(_MARK, None)
