"""Find and click plotly points in a real browser by asking plotly where it drew them."""

from __future__ import annotations

MAP = ".stPlotlyChart .js-plotly-plot"

POINT_JS = """([traceName, unitId]) => {
  const gd = document.querySelector('.stPlotlyChart .js-plotly-plot');
  const i = gd._fullData.findIndex(t => t.name === traceName);
  const trace = gd._fullData[i];
  const j = trace.customdata.findIndex(c => c[0] === unitId);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const box = gd.getBoundingClientRect();
  return {x: box.left + xa._offset + xa.l2p(trace.x[j]), y: box.top + ya._offset + ya.l2p(trace.y[j])};
}"""


def wait_for_map(page, timeout: float = 30_000) -> None:
    page.wait_for_selector(f"{MAP} .scatterlayer .trace .point", timeout=timeout)


def point_position(page, trace_name: str, unit_id: str) -> dict:
    return page.evaluate(POINT_JS, [trace_name, unit_id])


def click_point(page, trace_name: str, unit_id: str) -> None:
    pos = point_position(page, trace_name, unit_id)
    page.mouse.move(pos["x"], pos["y"])
    page.mouse.click(pos["x"], pos["y"])
