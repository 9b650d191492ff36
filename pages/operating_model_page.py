"""Operating model: the cycle assess → design → implement → evaluate, and the shared goal's attribution.
Every role sees it; hub leads and admins record assessments, promote scenarios and update planned changes."""

import streamlit as st

from dashboard.settings import get_settings
from dashboard.ui import cycle_view, data
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Operating model")
st.caption("Assess where each function stands, design the target model from a scenario, implement its changes, "
           "then evaluate what they did.")
data.require_database()
if data.units(get_settings().database_url, viewer).empty:
    data.no_organisation()
cycle_view.flash()
cycle_view.render(viewer)
