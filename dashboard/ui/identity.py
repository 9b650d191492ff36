"""The current user: the app reads who is looking through ``current_viewer()`` and nothing else.

Sign-in and roles arrive with the access-control issue; until then the app runs in local mode as a single
local admin, and says so in the sidebar.
"""

from __future__ import annotations

import streamlit as st

from dashboard.domain.access import LOCAL_ADMIN, Viewer


def current_viewer() -> Viewer:
    return LOCAL_ADMIN


def identity_badge() -> None:
    st.sidebar.badge("Local mode — no sign-in", icon=":material/lock_open:", color="orange")
    st.sidebar.caption(f"Signed in as **{current_viewer().user}**")
