"""Find, click and tap plotly points in a real browser by asking plotly where it drew them."""

from __future__ import annotations

import time

MAP = ".st-key-map .js-plotly-plot"  # the overview map (the goal tiles' sparklines are plotly charts too)

POINT_JS = """([traceName, unitId, nth]) => {
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullLayout || !gd._fullLayout.xaxis) return null;
  const trace = gd._fullData.find(t => t.name === traceName);
  if (!trace) return null;
  const matches = [];
  trace.customdata.forEach((c, j) => { if (c[0] === unitId) matches.push(j); });
  if (!matches.length) return null;
  const j = matches[Math.min(Math.floor((nth || 0) * matches.length), matches.length - 1)];
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(trace.x[j]), y: box.top + ya._offset + ya.l2p(trace.y[j])};
}"""


NODES_JS = """(traceName) => {
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  const trace = gd && gd._fullData && gd._fullData.find(t => t.name === traceName);
  if (!trace) return null;
  const out = {};
  trace.customdata.forEach((c, j) => { out[c[0]] = [trace.x[j], trace.y[j]]; });
  return out;
}"""

PIXEL_JS = """([x, y]) => {
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(x), y: box.top + ya._offset + ya.l2p(y)};
}"""


def node_positions(page, trace_name: str) -> dict[str, tuple[float, float]]:
    """unit id -> (x, y) of the map's nodes, in data units."""
    return {k: tuple(v) for k, v in page.evaluate(NODES_JS, trace_name).items()}


def pixel(page, x: float, y: float) -> dict:
    """Where the data point (x, y) is on the page."""
    return page.evaluate(PIXEL_JS, [x, y])


def wait_for_map(page, timeout: float = 60_000) -> None:  # generous: CI machines are shared and slow
    page.wait_for_selector(f"{MAP} .scatterlayer .trace .point", timeout=timeout)


def point_position(page, trace_name: str, unit_id: str, nth: float = 0.0, timeout: float = 20.0) -> dict:
    """Where plotly drew a point of ``trace_name`` whose customdata names ``unit_id`` (``nth``: how far along the
    matching points, 0 to 1). While a live refresh redraws the map there is no map for a moment: wait for it."""
    deadline = time.time() + timeout
    while True:
        pos = page.evaluate(POINT_JS, [trace_name, unit_id, nth])
        if pos or time.time() > deadline:
            assert pos, f"no point of {trace_name} for {unit_id} on the map"
            return pos
        time.sleep(0.05)


def click_point(page, trace_name: str, unit_id: str, nth: float = 0.0) -> None:
    pos = point_position(page, trace_name, unit_id, nth)
    page.mouse.move(pos["x"], pos["y"])
    page.mouse.click(pos["x"], pos["y"])


def tap_point(page, trace_name: str, unit_id: str, nth: float = 0.0) -> None:
    """A finger's tap (touch events, no mouse hover before it) on the point."""
    page.locator(MAP).scroll_into_view_if_needed()
    pos = point_position(page, trace_name, unit_id, nth)
    page.touchscreen.tap(pos["x"], pos["y"])
