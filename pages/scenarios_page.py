"""Scenarios: what if a function moved to the hub, the spokes, or a hybrid split? (hub leads)
Link to a saved scenario: /scenarios?scenario=<id>"""

import streamlit as st

from dashboard.settings import get_settings
from dashboard.ui import data, scenario_view as sv
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Scenarios")
st.caption("Centralised, decentralised or hybrid: handoffs, queueing, lead time, people and platform cost, "
           "compliance risk — per function and per spoke, against the as-is organisation.")
data.require_database()
units = data.units(get_settings().database_url, viewer)
if units.empty or not (units.kind == "spoke").any():
    st.info("Load an organisation first (`python -m loaders demo` or `make run`): the model needs units.", icon=":material/inbox:")
    st.stop()

as_is, fit, notes = sv.start(viewer, st.query_params.get("scenario"))
st.subheader("Start from")
sv.preset_buttons(as_is)
st.subheader("Operating model")
inputs = sv.controls(sv.baseline())
if inputs is None:
    st.stop()

with st.spinner("Computing…"):
    result, baseline = sv.results(inputs, as_is)
st.subheader("Results vs as-is")
sv.headline(result, baseline)
sv.per_spoke(result, baseline, units)
st.subheader("Trade-offs and sensitivity")
sv.tradeoffs(inputs)
st.subheader("The pure models, the hybrid preset and this scenario")
sv.model_comparison(inputs, as_is)
left, right = st.columns(2)
with left:
    st.subheader("Save")
    sv.save_form(viewer, inputs, result)
with right:
    st.subheader("Saved scenarios")
    sv.saved_list(viewer)
sv.documentation(fit, notes)
