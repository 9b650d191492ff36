"""A spoke lead's page: KPIs, the inbox of routed work with actions, flow with the hub, the team's checks.
Deep link: /spoke?unit=<id>&window=7d&status=routed,accepted&kind=lead&channel=web&sort=-created_at&page=2"""

import streamlit as st

from dashboard.domain.urlvalues import UrlValueError, unit_id
from dashboard.settings import get_settings
from dashboard.ui import data, spoke_view, urlstate
from dashboard.ui.identity import current_viewer
from dashboard.ui.panels import render_panels
from dashboard.ui.shell import require_shell
from dashboard.ui.text import md
from dashboard.ui.widgets import window_picker

require_shell()

settings = get_settings()
viewer = current_viewer()
data.require_database()
units = data.units(viewer)
spokes = units[units.kind == "spoke"]
names = dict(zip(units.id, units.name))


def spoke_links() -> None:
    for row in spokes[[viewer.can_see_unit(u) for u in spokes.id]].itertuples():
        st.page_link("pages/spoke_page.py", label=row.name, query_params={"unit": row.id}, icon=":material/groups:")


unit = st.query_params.get("unit") or viewer.unit or settings.default_unit  # a spoke lead starts on their own
try:
    unit = unit and unit_id(unit)
except UrlValueError as exc:  # checked before anything is looked up
    st.title("No such spoke")
    urlstate.bad_value(exc)
    st.write("Choose a spoke:")
    spoke_links()
    st.stop()
if spokes.empty:
    st.title("Spokes")
    data.no_organisation()
if not unit:
    st.title("Spokes")
    st.write("Choose a spoke:")
    spoke_links()
    st.stop()
if unit not in set(spokes.id):
    st.title("No such spoke")
    st.error(f"There is no spoke called “{md(unit)}”. Choose one of these:", icon=":material/search_off:")
    spoke_links()
    st.stop()

if not viewer.can_see_unit(unit):  # a tampered or forwarded link: refuse before any query runs
    st.title("Not permitted")
    st.error(f"You may not open the “{md(names[unit])}” spoke.", icon=":material/block:")
    spoke_links()
    st.stop()
st.query_params["unit"] = unit
st.title(md(names[unit]))
ctx = spoke_view.context(viewer, unit, names, window_picker())

st.subheader("KPIs vs target")
own_kpis = spoke_view.kpi_section(ctx)
st.subheader("Inbox: work routed to this team")
spoke_view.inbox_section(ctx)
spoke_view.kpi_export(ctx, own_kpis)
st.subheader("Flow with the hub")
spoke_view.flow_section(ctx)
render_panels(ctx)
st.page_link("pages/overview_page.py", label="Back to the overview", icon=":material/arrow_back:")
