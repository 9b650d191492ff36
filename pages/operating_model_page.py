"""Operating model: the cycle assess → design → implement → evaluate, and the shared goal's attribution.
Every role sees it; hub leads and admins record assessments, promote scenarios and update planned changes."""

import streamlit as st

from dashboard import errors
from dashboard.ui import attribution_view, data, evaluation_view, flash
from dashboard.ui.identity import current_viewer
from dashboard.ui.operating_model import assess, common, design, implement
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Operating model")
st.caption("Assess where each function stands, design the target model from a scenario, implement its changes, "
           "then evaluate what they did.")
data.require_database()
if data.units(viewer).empty:
    data.no_organisation()
flash.show(common.FLASH)  # what the write that led to this run did

assess_tab, design_tab, implement_tab, evaluate_tab, attribution_tab = st.tabs(
    ["Assess", "Design", "Implement", "Evaluate", "Attribution"])
try:
    with assess_tab:
        assess.render(viewer)
    with design_tab:
        design.render(viewer)
    with implement_tab:
        implement.render(viewer)
except errors.DATABASE_ERRORS as exc:
    data.database_unavailable(exc)
with evaluate_tab:
    evaluation_view.render(viewer)
with attribution_tab:
    attribution_view.render(viewer)
