"""Time to first map in Chromium: navigation → first plotly point drawn, overview at 1M on SQLite.

Figure (see docs/benchmarks.md):
- time to first map in Chromium (overview, 1M SQLite): the real app served by ``dashboard.ui.serve`` on the
  shared 1M work items + 1M KPI observations database, opened in Debian's headless Chromium.
  Floor: a one-page Streamlit app that draws one plotly scatter of 6 points, served the same way and
  measured in the same run. Target <= 1.25 x floor.

Both are served as ``make run`` and the replicas serve them: without Streamlit's file watcher
(.streamlit/config.toml). The app is also measured with the watcher on, as a developer serves it
(``STREAMLIT_SERVER_FILE_WATCHER_TYPE=auto``; a context figure, same run, same floor).

Method: the servers are started once and visited once unmeasured (warm server). Each sample is a new
browser context (cold client: no cache, no cookies, a new websocket session), samples interleaved floor, app,
app with file watcher, floor, app… so all share the machine's noise; the figure is the median. The time is measured inside the
page: an init script polls on every animation frame for the first drawn plotly point
(``.js-plotly-plot .scatterlayer .trace .point``, the selector the browser tests wait for) and records
``performance.now()``, i.e. milliseconds since the navigation started (the page's time origin). The wall time
from before ``page.goto`` is recorded as well, as a check. Also noted per sample (not figures): when the
Streamlit app root and the plotly container first appear, to tell server/websocket time from plotly render.

``python -m bench.bench_browser`` runs it on its own. Between samples more than the 5 s query-cache ttl
passes, so each app sample finds the shared overview due (dashboard/ui/data.py ``live_overview``): it is served
the last one while a background thread reads the flows again and rebuilds the map, as the first visitor after a
refresh would be.

Where the time goes (single profiled visits on 2 shared cores, load average 0.5-3: Playwright's request
events, the websocket's messages decoded, the page's long tasks; ms after the visit's start, app vs floor):

- Streamlit's file watcher (Streamlit's default; off in .streamlit/config.toml, on for development): each new session costs
  the server 0.3-0.5 s. The first run spans 400-570 ms from its new_session message to script_finished with
  it, 70-200 ms without, and the static files asked for meanwhile (plotly's chunk among them) come late. This
  is the context figure (1.62-1.66 x floor in two runs, against 1.33-1.43 x as deployed).
- As deployed the server is off the path: the app's session starts when the floor's does, and its first run
  sends the sidebar, navigation, title, controls, an empty map-sized chart, the tiles and the map (a 95 KB
  figure) within 70-200 ms. The shared overview comes from memory; a refresh that is due runs in the background.
- Plotly's chunk (4.7 MB) is asked for 150-200 ms after new_session (floor 40-60 ms: the browser first renders
  the sidebar, navigation and controls) and takes 430-510 ms to arrive (floor 120-160 ms). It downloads and
  compiles beside the ~30 smaller chunks of the controls and tiles (multiselect, segmented control, toggle,
  html, metric, and markdown's emoji plugin: Streamlit's markdown takes a clock time such as "03:10:23" in a
  caption for an emoji shortcode and loads 264 KB for it) and the render of ~60 elements, on cores shared
  with the server.
- Evaluating the chunk is one 680-730 ms main-thread task in both, so it is not part of the gap.
- The first plot takes 140-165 ms (floor 65-110 ms): the map and the four sparklines are drawn in one task.

Tried (the bench runs once each; two runs of the page as it is gave 1.33 and 1.43 x):
- an invisible chart at the page's top on a session's first paint, so that plotly's code is asked for before
  the controls' code: no gain in profiled visits (the request came at most 50 ms earlier, because the browser
  renders the first messages as one batch);
- the page without its goal tiles: 2.71 s, floor 1.81 s, 1.50 x (the page as it is: 1.33-1.43 x), so the
  tiles are not the gap;
- the page without its controls (window, spokes, live toggle: fixed values instead): 3.35 s, floor 2.67 s,
  1.26 x, on a busier machine. Their code (the multiselect brings ~15 small chunks) competes with plotly's.
What is left is the browser's work for the rest of the page, the controls first, while plotly's code downloads
and compiles. Cutting it means the controls arriving after the map is drawn, i.e. a second round trip started
by the browser, which the page does not have.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Figure

BENCH_DIR = Path(os.environ.get("HUBSPOKE_BENCH_DIR", tempfile.gettempdir())) / "hubspoke-bench"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [  # the browser tests' list (tests/browser/conftest.py)
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
VIEWPORT = {"width": 1400, "height": 1000}
SAMPLES = 5
TARGET_RATIO = 1.25
POINT = ".js-plotly-plot .scatterlayer .trace .point"
# served as deployed (docs/deployment.md): without Streamlit's file watcher, which costs every new session
# 0.3-0.5 s of server time on this machine (it sets up watches on every module of the app it imported)
DEPLOYED = ("--server.fileWatcherType", "none")

FLOOR_PAGE = """
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
fig = go.Figure(go.Scatter(x=[0, 1, 2, 3, 4, 5], y=[3, 1, 4, 1, 5, 9], mode="markers"))
st.plotly_chart(fig)
"""

# Runs in the page before any of its scripts: note when milestones first appear, on every animation frame.
MARKS_JS = """
(() => {
  const marks = {};
  window.__benchMarks = marks;
  const probes = {app: '[data-testid="stApp"]', chart: '.stPlotlyChart', point: %r};
  const tick = () => {
    for (const [k, sel] of Object.entries(probes)) {
      if (marks[k] === undefined && document.querySelector(sel)) marks[k] = performance.now();
    }
    if (marks.point === undefined) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();
""" % POINT  # noqa: UP031 (the script is JavaScript: its braces rule out str.format)


def _sample(browser, url: str, timeout_ms: float = 120_000) -> dict:
    """One cold-client visit: seconds from navigation start to the first drawn point, plus milestones."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        context.add_init_script(MARKS_JS)
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        t0 = time.perf_counter()
        page.goto(url)
        page.wait_for_function("() => window.__benchMarks && window.__benchMarks.point !== undefined",
                               polling="raf")
        wall = time.perf_counter() - t0
        marks = page.evaluate("() => window.__benchMarks")
        return {"point": marks["point"] / 1000, "app": marks.get("app", 0) / 1000,
                "chart": marks.get("chart", 0) / 1000, "wall": wall}
    finally:
        context.close()


def measure(urls: dict[str, str], samples: int = SAMPLES) -> dict[str, list[dict]]:
    """Interleaved samples of each page (name -> URL; the floor first) in one headless Chromium, after one
    warm-up visit each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            for url in urls.values():  # warm server: imports, first script run, caches
                _sample(browser, url)
            rows: dict[str, list[dict]] = {name: [] for name in urls}
            for _ in range(samples):
                for name, url in urls.items():
                    rows[name].append(_sample(browser, url))
            return rows
        finally:
            browser.close()


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _describe(rows: list[dict]) -> str:
    return (f"app root {_median(rows, 'app'):.2f} s, chart box {_median(rows, 'chart'):.2f} s, "
            f"wall {_median(rows, 'wall'):.2f} s; samples " + " ".join(f"{r['point']:.2f}" for r in rows))


def run() -> list[Figure]:
    from bench.bench_demo import build_bench_db
    from dashboard.ui.serve import start_background

    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    url = build_bench_db(BENCH_DIR / "bench-1m.db", work_items=1_000_000, kpi_observations=1_000_000)
    scratch = Path(tempfile.mkdtemp(prefix="bench-browser-", dir=BENCH_DIR))
    servers = []
    try:
        floor_script = scratch / "floor_page.py"
        floor_script.write_text(FLOOR_PAGE)
        servers.append(start_background(url, scratch, script=str(floor_script), args=DEPLOYED))
        servers.append(start_background(url, scratch, args=DEPLOYED))
        servers.append(start_background(url, scratch, args=("--server.fileWatcherType", "auto")))  # development
        floor_server, app_server, dev_server = servers
        rows = measure({"floor": floor_server.url, "app": app_server.url, "dev": dev_server.url})
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    floor, app, dev = rows["floor"], rows["app"], rows["dev"]
    value, floor_value, dev_value = _median(app, "point"), _median(floor, "point"), _median(dev, "point")
    print(f"  overview:              {_describe(app)}")
    print(f"  overview, file watcher: {_describe(dev)}")
    print(f"  floor:                 {_describe(floor)}")
    return [
        Figure(f"time to first map in Chromium (overview, 1M SQLite; median of {SAMPLES}, cold client, warm server)",
               value, "s", floor_value, f"<= {TARGET_RATIO} x floor (one-page app, one 6-point scatter)",
               value <= TARGET_RATIO * floor_value),
        Figure("time to first map in Chromium, served with Streamlit's file watcher (development; context)", dev_value,
               "s", floor_value, "- (context)", True),
        Figure("time to first plotly point in Chromium, floor page (one 6-point scatter)", floor_value, "s", None,
               "- (context)", True),
    ]


if __name__ == "__main__":
    for fig in run():
        print(fig.line())
