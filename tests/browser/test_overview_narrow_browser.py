"""The overview on a laptop's half screen (820 × 1180) and a phone (390 × 844) — and a small tablet held
sideways (1024 × 768), the width at which goal tiles beside the map could squeeze it to a sliver — on the demo
organisation (a long hub name, five spokes, real figures), in Chromium: the title, every option of the window
control, the live toggle's label, each goal tile's name and figure, and every unit's name on the map are read
whole (no ellipsis, nothing past the screen's edge), the map fits the screen, is never narrower than on the phone
and has no blank band above it, and the page never scrolls sideways. Screenshots of each width (the first screen
and the whole page) are kept in the test's temporary folder.

The sidebar: Streamlit's own rule ("auto", which the shell's width setting keeps) collapses it on first load at
768 px and below (its ``md`` breakpoint) and leaves it open above. So at 820 and 1024 px the 240 px menu stays
open and the overview fits in the room beside it; on the phone the menu starts collapsed and the page has the
whole width.
"""

from __future__ import annotations

import re
import time

import pytest

from dashboard.charts.hub_map import NODE_TRACE
from dashboard.domain.vocabulary import WINDOWS
from dashboard.ui.shell import SIDEBAR_WIDTH
from tests.browser.conftest import sideways, sized_page
from tests.browser.plotly_helpers import MAP, wait_for_map
from tests.browser.test_spoke_narrow_browser import (  # noqa: F401 (demo_server: the fixture)
    CHART_TEXT_JS,
    CLIPPED_JS,
    READ_WHOLE,
    demo_server,
)

EXCEPTION = '[data-testid="stException"]'
GOALS = {"Revenue", "Conversion rate", "Qualified leads", "Marketing cost"}  # the demo's shared-goal KPIs
# besides the spoke page's list: every Markdown text (the goal tiles' names, the demo badge) and the live toggle
OVERVIEW_TEXT = ['[data-testid="stMarkdownContainer"]', '[data-testid="stCheckbox"]']
DEVICES = {"tablet": (1024, 768), "laptop": (820, 1180), "phone": (390, 844)}
PHONE_MAP = 358  # px: the map's width on the phone; on a wider screen it is never narrower (the tiles wrap under it)
BLANK_ABOVE_MAP = 48  # px: most empty room between the map's heading and the first thing the map draws

# Every text the map draws (unit names, edge volumes, the hub's label, the legend): its box inside the chart and
# the screen, clear of every other text; a text of a trace (a unit's name, "9 unrouted") inside the plot area
# too, which clips it.
MAP_TEXT_JS = """(sel) => {
  const gd = document.querySelector(sel);
  const out = [], drawn = [];
  const box = gd.getBoundingClientRect();
  const size = gd._fullLayout._size;
  const area = {left: box.left + size.l, right: box.left + size.l + size.w,
                top: box.top + size.t, bottom: box.top + size.t + size.h};
  const inside = (r, b) => r.left >= b.left - 1 && r.right <= b.right + 1 && r.top >= b.top - 1 && r.bottom <= b.bottom + 1;
  const screen = {left: 0, right: document.documentElement.clientWidth, top: -1e9, bottom: 1e9};
  for (const t of gd.querySelectorAll('text')) {
    const text = t.textContent.trim();
    const r = t.getBoundingClientRect();
    if (!text || !r.width || t.closest('.hoverlayer')) continue;
    if (!inside(r, box)) out.push(`"${text}" sticks out of the map`);
    if (!inside(r, screen)) out.push(`"${text}" is past the screen's edge`);
    if (t.closest('.textpoint') && !inside(r, area)) out.push(`"${text}" is cut by the plot area`);
    drawn.push([text, r]);
  }
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (let i = 0; i < drawn.length; i++)
    for (let j = i + 1; j < drawn.length; j++)
      if (overlap(drawn[i][1], drawn[j][1])) out.push(`"${drawn[i][0]}" and "${drawn[j][0]}" run into each other`);
  return out;
}"""

# The spoke names plotly drew for the units trace, line breaks joined by a space.
DRAWN_NAMES_JS = """([sel, name]) => {
  const gd = document.querySelector(sel);
  const i = gd._fullData.findIndex(t => t.name === name);
  const layer = gd.querySelectorAll('.scatterlayer .trace')[i];
  return [...layer.querySelectorAll('.textpoint text')].map(t =>
    [...t.querySelectorAll('tspan.line')].map(s => s.textContent).join(' ') || t.textContent);
}"""

# Empty room between the map's heading and the topmost thing the map draws (node, edge, label).
BLANK_JS = """(sel) => {
  const gd = document.querySelector(sel);
  const heading = [...document.querySelectorAll('[data-testid="stHeading"]')]
    .find(h => h.innerText.trim().startsWith('Flows'));
  const drawn = [...gd.querySelectorAll('.scatterlayer .point, .scatterlayer .textpoint text, .annotation')]
    .map(e => e.getBoundingClientRect()).filter(r => r.width > 0);
  const top = Math.min(...drawn.map(r => r.top));
  return top - heading.getBoundingClientRect().bottom;
}"""


def settled(page, script: str, arg=None, seconds: float = 5.0):
    """What ``script`` finds once the map has settled: a live refresh redraws it every few seconds, and in the
    moment plotly lays it out again (its margins grow to the legend after the first pass) texts may touch. A real
    fault is there on every look; the last look's findings are returned."""
    deadline = time.time() + seconds
    while True:
        found = page.evaluate(script, arg)
        if not found or time.time() > deadline:
            return found
        page.wait_for_timeout(250)


@pytest.mark.parametrize("device", list(DEVICES))
def test_the_overview_fits_the_screen(browser, demo_server, tmp_path, device):  # noqa: F811 (fixture)
    width, height = DEVICES[device]
    phone = device == "phone"
    with sized_page(browser, width, height, touch=phone) as page:
        page.goto(demo_server.url)
        page.get_by_role("heading", name="Overview").wait_for()
        wait_for_map(page)
        page.locator('[data-testid="stMetric"]').nth(3).wait_for()  # the four goal tiles
        page.wait_for_timeout(1_500)  # fonts and the last layout pass
        page.screenshot(path=str(tmp_path / f"overview-{width}.png"))

        # the menu: open beside the page at 820 and 1024 px, collapsed on the phone; never over the page's content
        sidebar = page.get_by_test_id("stSidebar")
        expanded = sidebar.get_attribute("data-collapsed") == "false"
        assert expanded is not phone, f"the menu is {'open' if expanded else 'collapsed'} at {width} px"
        main = page.get_by_test_id("stMain").bounding_box()
        if expanded:
            menu = sidebar.bounding_box()
            assert menu["width"] <= SIDEBAR_WIDTH + 1
            assert main["x"] >= menu["x"] + menu["width"] - 1, "the page runs under the menu"
        assert sideways(page) <= 1, f"the page is {sideways(page)}px wider than the screen"

        assert page.evaluate(CLIPPED_JS, READ_WHOLE + OVERVIEW_TEXT) == []
        window = page.get_by_test_id("stButtonGroup").filter(has_text="Last hour")
        for label, _hours in WINDOWS.values():  # every window can be seen and chosen
            option = window.locator("button").filter(has_text=re.compile(rf"^{label}$"))
            assert option.count() == 1 and option.is_visible(), label
        toggle = page.get_by_test_id("stCheckbox").filter(has_text="Live updates")
        assert toggle.inner_text().strip() == "Live updates"
        tiles = page.locator('.st-key-goal_tile_grid [class*="st-key-goal-"]')
        assert tiles.count() == 4
        for i in range(tiles.count()):  # each tile on screen, its name and figure as they are in the data
            box = tiles.nth(i).bounding_box()
            assert box["x"] >= main["x"] - 1 and box["x"] + box["width"] <= width + 1, "a goal tile is off screen"
            name = tiles.nth(i).get_by_test_id("stMarkdownContainer").first.inner_text().strip()
            value = tiles.nth(i).get_by_test_id("stMetricValue").inner_text().strip()
            assert name in GOALS and re.fullmatch(r"€?[\d,.]+[kM]?( %)?", value), (name, value)

        gd = page.locator(MAP)
        box = gd.bounding_box()
        assert box["x"] >= main["x"] - 1 and box["x"] + box["width"] <= width + 1, "the map is wider than the screen"
        row = page.locator(".st-key-overview_row").bounding_box()
        assert box["width"] >= min(PHONE_MAP, row["width"]) - 1, f"the map is squeezed to {box['width']:.0f}px"
        assert settled(page, MAP_TEXT_JS, MAP) == []
        assert settled(page, CHART_TEXT_JS) == []  # the sparklines
        names = page.evaluate(DRAWN_NAMES_JS, [MAP, NODE_TRACE])
        for spoke in ("Sales", "Finance", "Customer service", "Product", "HR"):
            assert spoke in names, f"{spoke} is not drawn whole on the map: {names}"
        blank = page.evaluate(BLANK_JS, MAP)
        assert blank <= BLANK_ABOVE_MAP, f"{blank:.0f}px of blank room above the map"
        assert page.locator(EXCEPTION).count() == 0

        tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": width, "height": min(int(tall), 12_000)})
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / f"overview-{width}-whole.png"))


# A page opened by its own address (/spoke?unit=…) makes Streamlit's frontend look for its server at two base
# paths at once, the page's path and the root (index.js: the candidates are the URL's path and its parent; the
# one that answers wins). The app is served at the root, so the probe of the page's path gets a 404 from
# Streamlit's own server; no setting changes the candidates (only a host page that embeds the app can, through
# window.__streamlit.BACKEND_BASE_URL, set before the frontend loads). Any other failed request is the app's.
PROBES = ("_stcore/health", "_stcore/host-config")


@pytest.mark.parametrize("path", ["/", "/overview?window=30d", "/spoke?unit=sales", "/scenarios", "/operating-model"])
def test_a_deep_link_requests_nothing_that_fails_but_streamlits_own_probe(page, demo_server, path):  # noqa: F811
    failed = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}"))
    page.goto(f"{demo_server.url}{path}")
    page.locator("h1").first.wait_for()
    page.wait_for_timeout(3_000)  # the page's own requests: fonts, icons, the favicon, plotly's code
    base = path.split("?")[0].rstrip("/")
    probes = {f"404 {demo_server.url}{base}/{probe}" for probe in PROBES} if base else set()
    assert [f for f in failed if f not in probes] == []
