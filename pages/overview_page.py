"""Overview: the live hub-and-spoke map and the shared-goal tiles (executives' landing page)."""

import streamlit as st

from dashboard import errors
from dashboard.charts.hub_map import MAP_HEIGHT, clicked_unit, map_placeholder
from dashboard.domain.vocabulary import WINDOWS
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.identity import current_viewer
from dashboard.ui.tables import flows_table
from dashboard.ui.widgets import changes_caption, kpi_tile, recent_changes, spoke_filter, updated_caption, window_picker
from dashboard.ui.shell import require_shell

require_shell()

MAP_DRAWN = "overview_map_drawn"  # session flag: the map has been drawn once

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
    # the map on the left, the shared-goal tiles two by two on its right: both above the fold, and the map is
    # the page's first chart (the tiles' sparklines are plotly too)
    map_col, tiles_col = st.columns([3, 2], gap="medium")
    with map_col:
        st.subheader(f"Flows · {WINDOWS[window][0].lower()}")
        # on the session's first paint an empty chart holds the map's place while the flows are read: plotly's
        # code (a large, lazily loaded bundle) then loads in parallel with the queries instead of after them.
        # Later runs draw over the map in place (an empty slot would blank it for the queries' duration).
        first_paint = not st.session_state.get(MAP_DRAWN)
        slot = st.empty() if first_paint else map_col
        if first_paint:
            slot.plotly_chart(map_placeholder(MAP_HEIGHT), config={"displayModeBar": False, "staticPlot": True},
                              key="map_placeholder")
    with tiles_col:
        st.subheader("Shared goals")
    try:
        with st.spinner("Loading flows…"):
            ov = data.overview(settings.database_url, viewer, window)
    except errors.DATABASE_ERRORS as exc:  # the database went away between two refreshes
        if first_paint:
            slot.empty()
        st.warning(errors.explain(exc, url=settings.database_url) + " Retrying on the next refresh.",
                   icon=":material/sync_problem:")
        return
    changes = recent_changes(settings.database_url, viewer)  # done operating-model changes (cached)
    with tiles_col:  # sent before the map: the sparklines need plotly's code too
        for start in range(0, len(ov.headline), 2):
            for col, row in zip(st.columns(2), ov.headline.iloc[start:start + 2].itertuples()):
                with col:
                    kpi_tile(row, ov.trends, changes)
        if ov.headline.empty:
            st.caption("No shared-goal KPIs are defined yet (KPIs with is_goal set).")
        changes_caption(changes)
    with map_col:
        fig = data.overview_map(settings.database_url, viewer, window, tuple(focus))
        event = slot.plotly_chart(fig, key="map", on_select="rerun", selection_mode="points",
                                  config={"displayModeBar": False})
        st.session_state[MAP_DRAWN] = True
        target = clicked_unit(event)
        if target in set(spokes.id):
            st.switch_page("pages/spoke_page.py", query_params={"unit": target})
        st.caption("Click a spoke or an edge to open that spoke's page. Edge width = volume, colour = share handled "
                   "within SLA; node colour = share of the unit's KPIs on target, size = headcount.")
    updated_caption(paused=not live)
    # a toggle, not a collapsed expander: an expander's content is sent (and its data-grid code loaded) on
    # first paint even while closed, which delays the map; the table is only built when asked for
    if st.toggle("Show flows as a table", key="flows_table"):
        flows_table(ov.flows, names, focus)


live_view()
