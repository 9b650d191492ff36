"""Routing: the rules that send items arriving at the hub to a spoke — edit a draft, try it, replay it over the
last days' items, publish it; FAQ candidates among routed mentions; the history of versions."""

import streamlit as st

from dashboard.domain.access import who_may_open
from dashboard.ui import data, faq_view
from dashboard.ui.identity import current_viewer
from dashboard.ui.routing import history_tab, replay_tab, rules_tab, state, try_tab
from dashboard.ui.shell import require_shell

require_shell()

viewer = current_viewer()
st.title("Routing")
if not viewer.may_open("routing"):
    st.error(f"The routing rules are for {who_may_open('routing')}.", icon=":material/block:")
    st.stop()
data.require_database()
current = state.load(viewer)
if current is None:
    st.stop()
if current.units.empty:
    data.no_organisation()
if not viewer.can_edit_routing:
    st.caption("Read-only: " + state.NOT_EDITOR)

rules, try_, replay, faq, history = st.tabs(["Rules", "Try a rule", "Replay & publish", "FAQ candidates", "History"])
with rules:
    unsaved = rules_tab.render(viewer, current)  # the editor's table, so "Try" can test it before saving
with try_:
    try_tab.render(viewer, current, unsaved)
with replay:
    replay_tab.render(viewer, current, unsaved)
with faq:
    faq_view.render(viewer)
with history:
    history_tab.render(viewer, current)
