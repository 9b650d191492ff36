"""The Operating model page's Evaluate tab (being built for issue 9)."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.access import Viewer


def render(viewer: Viewer) -> None:
    st.info("No change has been marked done yet: mark one done on the Implement tab.", icon=":material/info:")
