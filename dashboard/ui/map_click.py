"""Clicking or tapping a spoke on the live map opens it on the first try, at any time.

Two things stood between a click and the spoke's page:

- Streamlit derives a chart's widget id from its figure. The live map's figure changes with its data (every
  refresh, and on any rerun after the cache expired), so the rerun a click starts often draws a map with a new
  id, whose selection is empty: the click was on the previous map and got lost ("the second click works").
  Each figure is drawn under a key of its own (:func:`map_key`, from what the figure shows: a redrawn map with the
  same figures keeps its key, so the browser keeps the chart instead of replacing it under the pointer) with a
  selection *callback* bound to that key:
  the callback runs for the map that was clicked, before the page runs again, and reads that map's selection
  whatever the next figure looks like (:func:`remember_click` keeps the clicked spoke for the run it starts).
- plotly selects a point on click from the point under the pointer at the last hover. A touch screen has no
  hover before a tap, so a tap only showed the tooltip. :data:`TAP_TO_SELECT` hands plotly the finger's
  position as a hover when a touch starts on the map, so the tap that follows selects what is under it.
"""

from __future__ import annotations

import hashlib
from functools import partial

import streamlit as st

from dashboard.charts.hub_map import clicked_unit

MAP_KEY = "map"  # the container the map is drawn in (CSS class st-key-map)
_CLICKED = "_map_clicked_unit"


def map_key(figure) -> str:
    """The widget key of one map figure, a digest of what it draws (~2 ms for the map): the same figures keep
    the key and the chart, also when the cache has built the figure again; changed figures get a new one."""
    digest = hashlib.blake2b(figure.to_json().encode(), digest_size=8).hexdigest()
    return f"{MAP_KEY}-{digest}"


def draw_map(slot, figure, key: str | None = None):
    """Draw the map in ``slot`` (a container or an empty slot) as a selectable chart; returns its selection.
    ``key``: the figure's :func:`map_key`, when the caller keeps it with the figure (computed once, not per run)."""
    key = key or map_key(figure)
    return slot.plotly_chart(figure, key=key, on_select=partial(remember_click, key), selection_mode="points",
                             config={"displayModeBar": False})


def remember_click(key: str) -> None:
    """on_select callback of the map drawn under ``key``: its clicked unit, kept for the run this click starts."""
    unit = clicked_unit(st.session_state.get(key))
    if unit:
        st.session_state[_CLICKED] = unit


def clicked_spoke(event) -> str | None:
    """The unit clicked on the map: the one the callback kept, else the one in the chart's own selection."""
    return st.session_state.pop(_CLICKED, None) or clicked_unit(event)


# Runs once per page load (the element is the same on every run). A mousemove at the touch point on the map's
# drag layer makes plotly hover there, so its click handler, run at the end of the tap, selects that point.
TAP_TO_SELECT = """<script>
(() => {
  if (window.hubMapTapToSelect) return;
  window.hubMapTapToSelect = true;
  document.addEventListener("touchstart", (event) => {
    const layer = event.target.closest ? event.target.closest(".st-key-map .nsewdrag") : null;
    if (!layer || event.touches.length !== 1) return;
    const touch = event.touches[0];
    layer.dispatchEvent(new MouseEvent("mousemove", {clientX: touch.clientX, clientY: touch.clientY, bubbles: true}));
  }, {capture: true, passive: true});
})();
</script>"""
