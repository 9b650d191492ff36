"""Hub & Spoke — entry point: settings, page config, navigation by role. Run with `make run`."""

import streamlit as st

from dashboard.settings import SettingsError, get_settings
from dashboard.ui.identity import identity_badge

st.set_page_config(page_title="Hub & Spoke", page_icon=":material/hub:", layout="wide")

try:
    get_settings()
except SettingsError as exc:
    st.error(str(exc), icon=":material/settings_alert:")
    st.stop()

pages = [
    st.Page("pages/overview.py", title="Overview", icon=":material/hub:", url_path="overview", default=True),
    st.Page("pages/spoke.py", title="Spokes", icon=":material/groups:", url_path="spoke"),
]
identity_badge()
st.navigation(pages).run()
