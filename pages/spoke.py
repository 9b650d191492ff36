"""A spoke's page: its KPIs and its flows with the hub. Deep link: /spoke?unit=<id>."""

import datetime as dt

import streamlit as st

from dashboard.domain.vocabulary import WINDOWS, window_bounds
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.identity import current_viewer
from dashboard.ui.tables import flows_table, kpi_table
from dashboard.ui.widgets import window_picker

settings = get_settings()
viewer = current_viewer()
data.require_database()
units = data.units(settings.database_url, viewer)
spokes = units[units.kind == "spoke"]
names = dict(zip(units.id, units.name))


def spoke_links() -> None:
    for row in spokes.itertuples():
        st.page_link("pages/spoke.py", label=row.name, query_params={"unit": row.id}, icon=":material/groups:")


unit = st.query_params.get("unit") or settings.default_unit
if spokes.empty:
    st.title("Spokes")
    st.info("No spokes loaded yet. Load the demo with `python -m loaders demo` (or `make run`).", icon=":material/inbox:")
    st.stop()
if not unit:
    st.title("Spokes")
    st.write("Choose a spoke:")
    spoke_links()
    st.stop()
if unit not in set(spokes.id):
    st.title("No such spoke")
    st.error(f"There is no spoke called “{unit}”. Choose one of these:", icon=":material/search_off:")
    spoke_links()
    st.stop()

st.title(names[unit])
st.query_params["unit"] = unit
window = window_picker()
start, end = window_bounds(window, dt.datetime.now(dt.timezone.utc), settings.tz)
kpis = data.kpis_for_window(settings.database_url, viewer, start, end)
st.subheader(f"KPIs vs target · {WINDOWS[window][0].lower()}")
kpi_table(kpis[kpis.unit_id == unit])
st.subheader("Flows with the hub")
ov = data.overview(settings.database_url, viewer, window)
flows_table(ov.flows, names, [unit])
st.page_link("pages/overview.py", label="Back to the overview", icon=":material/arrow_back:")
