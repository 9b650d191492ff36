"""Overview: the live hub-and-spoke map and the shared-goal tiles (executives' landing page)."""

import streamlit as st

from dashboard import errors
from dashboard.charts.hub_map import clicked_unit
from dashboard.domain.vocabulary import WINDOWS
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.identity import current_viewer
from dashboard.ui.tables import flows_table
from dashboard.ui.widgets import kpi_tile, spoke_filter, updated_caption, window_picker
from dashboard.ui.shell import require_shell

require_shell()

settings = get_settings()
viewer = current_viewer()
st.title("Overview")
data.require_database()

units = data.units(settings.database_url, viewer)
if units.empty:
    st.info(
        "No organisation loaded yet. Load the demo with `python -m loaders demo` (or `make run`), "
        "or import your own units, KPIs and work items.", icon=":material/inbox:",
    )
    st.stop()

spokes = units[units.kind == "spoke"]
names = dict(zip(units.id, units.name))
left, mid, right = st.columns([4, 4, 2], vertical_alignment="bottom")
with left:
    window = window_picker()
with mid:
    focus = spoke_filter(spokes.id.tolist(), names)
with right:
    live = st.toggle("Live updates", value=True, key="live", help="Refresh the map and tiles by themselves")


@st.fragment(run_every=settings.refresh_seconds if live else None)
def live_view() -> None:
    try:
        with st.spinner("Loading flows…"):
            ov = data.overview(settings.database_url, viewer, window)
    except errors.DATABASE_ERRORS as exc:  # the database went away between two refreshes
        st.warning(errors.explain(exc, url=settings.database_url) + " Retrying on the next refresh.",
                   icon=":material/sync_problem:")
        return
    tiles = st.columns(max(len(ov.headline), 1))
    for col, row in zip(tiles, ov.headline.itertuples()):
        with col:
            kpi_tile(row, ov.trends)
    if ov.headline.empty:
        st.caption("No shared-goal KPIs are defined yet (KPIs with is_goal set).")
    st.subheader(f"Flows · {WINDOWS[window][0].lower()}")
    fig = data.overview_map(settings.database_url, viewer, window, tuple(focus))
    event = st.plotly_chart(fig, key="map", on_select="rerun", selection_mode="points",
                            config={"displayModeBar": False})
    target = clicked_unit(event)
    if target in set(spokes.id):
        st.switch_page("pages/spoke_page.py", query_params={"unit": target})
    st.caption("Click a spoke or an edge to open that spoke's page. Edge width = volume, colour = share handled within SLA; "
               "node colour = share of the unit's KPIs on target, size = headcount.")
    updated_caption(paused=not live)
    with st.expander("Flows as a table"):
        flows_table(ov.flows, names, focus)


live_view()
