"""Routing: the rules that send items arriving at the hub to a spoke — edit a draft, try it, replay it over the
last days' items, publish it; FAQ candidates among routed mentions; the history of versions."""

import streamlit as st

from dashboard.ui import data, routing_view
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Routing")
if not viewer.sees_everything:
    st.error("The routing rules are for admins, hub leads and executives.", icon=":material/block:")
    st.stop()
data.require_database()
state = routing_view.load(viewer)
if state is None:
    st.stop()
if state["units"].empty:
    data.no_organisation()
if not viewer.can_edit_routing:
    st.caption("Read-only: " + routing_view.NOT_EDITOR)

rules, try_, replay, faq, history = st.tabs(["Rules", "Try a rule", "Replay & publish", "FAQ candidates", "History"])
with rules:
    unsaved = routing_view.rules_section(viewer, state)  # the editor's table, so "Try" can test it before saving
with try_:
    routing_view.try_section(viewer, state, unsaved)
with replay:
    routing_view.replay_section(viewer, state, unsaved)
with faq:
    routing_view.faq_section(viewer)
with history:
    routing_view.history_section(viewer, state)
