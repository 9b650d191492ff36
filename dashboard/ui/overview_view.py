"""The sections of the overview: the row of controls, and the live part (the hub-and-spoke map, the shared-goal
tiles, the flows table), which refreshes itself as a fragment every ``DASHBOARD_REFRESH_SECONDS`` while live.

A click or tap on the map is handled in :mod:`dashboard.ui.map_click`; the window and the spoke filter are kept in
the URL by their widgets (:func:`dashboard.ui.widgets.window_picker`, :func:`~dashboard.ui.widgets.spoke_filter`).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import errors
from dashboard.charts.hub_map import MAP_HEIGHT, map_placeholder
from dashboard.domain.access import Viewer
from dashboard.domain.vocabulary import WINDOWS
from dashboard.queries.overview import OverviewData
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.map_click import MAP_KEY, TAP_TO_SELECT, clicked_spoke, draw_map
from dashboard.ui.tables import flows_table
from dashboard.ui.widgets import changes_caption, kpi_tile, recent_changes, updated_caption

MAP_DRAWN = "overview_map_drawn"  # session flag: the map has been drawn once
TILE_WIDTH = 196  # px: two tiles side by side beside the map; they wrap under it on a narrow screen
MAP_MIN_WIDTH = 358  # px: a phone's width, where its names and labels are checked; narrower, they run together
# the map keeps its least width (or the whole width, if less): where the tiles beside it would squeeze it below
# that, they wrap under it instead of Streamlit's default of shrinking the map down to a sliver
MAP_WIDTH_CSS = ("<style>[data-testid='stLayoutWrapper']:has(> .st-key-map_box) "
                 f"{{ min-width: min({MAP_MIN_WIDTH}px, 100%) !important; }}</style>")


@dataclass(frozen=True)
class OverviewContext:
    """What the live part draws, read from the page's controls; a refresh reruns it with the last run's values."""
    viewer: Viewer
    window: str
    focus: list[str]  # the chosen spokes, empty for all
    live: bool
    spokes: frozenset[str]  # the spokes' ids: a click on anything else opens nothing
    names: dict[str, str]


def controls():
    """The row of the page's controls (window, spokes, live updates): they wrap onto more rows on a narrow screen
    instead of being cut off."""
    return st.container(horizontal=True, vertical_alignment="bottom", gap="medium", key="overview_controls")


def live_toggle() -> bool:
    return st.toggle("Live updates", value=True, key="live", help="Refresh the map and tiles by themselves",
                     width="content")


def live_section(ctx: OverviewContext) -> None:
    """The map, the shared-goal tiles and the flows table; while live, they refresh by themselves without
    rerunning the page."""
    settings = get_settings()
    st.html(MAP_WIDTH_CSS)  # before the map: its first drawing has its final width
    st.fragment(_live_view, run_every=settings.refresh_seconds if ctx.live else None)(ctx)
    st.html(TAP_TO_SELECT, unsafe_allow_javascript=True)


def _live_view(ctx: OverviewContext) -> None:
    settings = get_settings()
    # the map and the shared-goal tiles side by side, both above the fold on a laptop; on a narrow screen the tiles
    # wrap under the map. The map is the page's first chart (the tiles' sparklines are plotly too)
    with st.container(horizontal=True, gap="medium", key="overview_row"):
        map_box = st.container(key="map_box")
        tiles_box = st.container(width=2 * TILE_WIDTH + 16, key="goal_tiles")
    with map_box:
        st.subheader(f"Flows · {WINDOWS[ctx.window][0].lower()}")
        # on the session's first paint an empty chart holds the map's place while the flows are read: plotly's
        # code (a large, lazily loaded bundle) then loads in parallel with the queries instead of after them.
        # Later runs draw the map at the same place directly (an empty slot would blank it while the queries run)
        first_paint = not st.session_state.get(MAP_DRAWN)
        map_slot = st.container(key=MAP_KEY)
        slot = map_slot.empty() if first_paint else map_slot
        if first_paint:
            slot.plotly_chart(map_placeholder(MAP_HEIGHT), config={"displayModeBar": False, "staticPlot": True},
                              key="map_placeholder")
    with tiles_box:
        st.subheader("Shared goals")
        if ctx.focus:
            st.caption(":material/info: Organisation-wide: the Spokes filter narrows the map and the flows table, "
                       "not these goals.")
    try:
        with st.spinner("Loading flows…"):  # one overview per scope and window, shared by every session
            live = data.live_overview(ctx.viewer, ctx.window)
        ov = live.data
    except errors.DATABASE_ERRORS as exc:  # the database went away between two refreshes
        if first_paint:
            slot.empty()
        st.warning(errors.explain(exc, url=settings.database_url) + " Retrying on the next refresh.",
                   icon=":material/sync_problem:")
        return
    changes = recent_changes(ctx.viewer)  # done operating-model changes (cached)
    with tiles_box:  # sent before the map: the sparklines need plotly's code too
        _goal_tiles(ov, live.series, changes)
    with map_box:
        _map(ctx, slot, live)
    updated_caption(paused=not ctx.live, as_of=ov.end)
    # a toggle, not a collapsed expander: an expander's content is sent (and its data-grid code loaded) on
    # first paint even while closed, which delays the map; the table is only built when asked for
    if st.toggle("Show flows as a table", key="flows_table"):
        flows_table(ov.flows, ctx.names, ctx.focus)


def _goal_tiles(ov: OverviewData, series: dict, changes: tuple) -> None:
    with st.container(horizontal=True, gap="small", key="goal_tile_grid"):
        for row in ov.headline.itertuples():
            # stretched: two share the box beside the map, and a phone's width between them
            with st.container(width="stretch", key=f"goal-{row.id}"):
                kpi_tile(row, series, changes)
    if ov.headline.empty:
        st.caption("No shared-goal KPIs are defined yet (KPIs with is_goal set).")
    changes_caption(changes)


def _map(ctx: OverviewContext, slot, live: data.LiveOverview) -> None:
    fig, key = live.map(tuple(ctx.focus))  # the shared overview's map: the same data as the tiles beside it
    event = draw_map(slot, fig, key)
    st.session_state[MAP_DRAWN] = True
    target = clicked_spoke(event)
    if target in ctx.spokes:  # the spoke's page, in the window the overview shows
        st.switch_page("pages/spoke_page.py", query_params={"unit": target, "window": ctx.window})
    st.caption("Click or tap a spoke or an edge to open that spoke's page. Edge width = items in the window, "
               "colour = share handled within SLA; node colour = share of the unit's KPIs on target, "
               "size = headcount.")
