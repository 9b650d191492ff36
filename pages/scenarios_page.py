"""Scenarios: what if a function moved to the hub, the spokes, or a hybrid split? (hub leads)
Link to a saved scenario: /scenarios?scenario=<id>"""

import streamlit as st

from dashboard.ui import data
from dashboard.ui import scenario_saved as saving
from dashboard.ui import scenario_trust as trust
from dashboard.ui import scenario_view as sv
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Scenarios")
st.caption("Centralised, decentralised or hybrid: handoffs, queueing, lead time, people and platform cost, "
           "compliance risk — per function and per spoke, against the as-is organisation.")
data.require_database()
units = data.units(viewer)
if units.empty or not (units.kind == "spoke").any():
    data.no_organisation()

as_is, calibration, notes = sv.start(viewer, st.query_params.get("scenario"))
trust.notice()
trust.as_is_check(calibration, notes)
trust.office_hours(viewer, calibration, units)
trust.missing_functions(calibration, sv.baseline())

st.subheader("Start from")
showing = st.container()  # which scenario is on screen: known once the controls have been read
sv.preset_buttons(as_is)
st.subheader("Operating model")
inputs = sv.controls(sv.baseline())
if inputs is None:
    st.stop()
with showing:
    saving.on_screen(viewer, inputs)

with st.spinner("Computing…"):
    result, baseline = sv.results(inputs, as_is)
st.subheader("Results vs as-is")
sv.headline(result, baseline)
sv.per_spoke(result, baseline, units)

working, staffing, check, tradeoffs, models = st.tabs(
    ["Where the lead time goes", "Staffing", "Check with simulation", "Trade-offs and sensitivity", "Pure models"])
with working:
    trust.show_working(result, baseline)
with staffing:
    trust.staffing(result, baseline)
with check:
    trust.simulation_check(inputs)
with tradeoffs:
    sv.tradeoffs(inputs)
with models:
    st.caption("The pure models, the hybrid preset and this scenario, side by side.")
    sv.model_comparison(inputs, as_is)

left, right = st.columns(2)
with left:
    st.subheader("Save")
    saving.save_form(viewer, inputs, result)
with right:
    st.subheader("Saved scenarios")
    saving.saved_list(viewer)
sv.documentation()
