"""Overview: the live hub-and-spoke map and the shared-goal tiles (executives' landing page).
Deep link: /overview?window=7d&units=sales,finance"""

import streamlit as st

from dashboard.ui import data, overview_view
from dashboard.ui.identity import current_viewer
from dashboard.ui.shell import require_shell
from dashboard.ui.widgets import spoke_filter, window_picker

require_shell()

viewer = current_viewer()
st.title("Overview")
data.require_database()

units = data.units(viewer)
if units.empty:
    data.no_organisation()

spokes = units[units.kind == "spoke"]
names = dict(zip(units.id, units.name))
with overview_view.controls():
    window = window_picker()
    focus = spoke_filter(spokes.id.tolist(), names, width=320)
    live = overview_view.live_toggle()

overview_view.live_section(overview_view.OverviewContext(viewer, window, focus, live, frozenset(spokes.id), names))
