"""The Operating model page's Attribution tab (being built for issue 9)."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.access import Viewer


def render(viewer: Viewer) -> None:
    st.info("No customer journeys recorded yet: attribution needs journeys with their work items.", icon=":material/info:")
