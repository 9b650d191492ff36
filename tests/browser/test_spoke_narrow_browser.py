"""A spoke page on a laptop's half screen (820 px) and a phone (390 px), on the demo organisation (long names, real
figures): the header, the KPI tiles, the inbox filters and the capacity figures fit the screen and no text is cut
off with an ellipsis. Screenshots of both widths are kept in the test's temporary folder."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys

import pytest

from dashboard import store
from dashboard.db import make_engine
from tests.browser.conftest import ROOT, sideways, sized_page, start_server
from tests.factories import item

EXCEPTION = '[data-testid="stException"]'

# Text that must be read whole: a clipped one is cut by its own box (ellipsis or hidden overflow) or pushed past
# the screen's edge.
READ_WHOLE = [
    "h1", '[data-testid="stHeading"]', '[data-testid="stMetricLabel"]', '[data-testid="stMetricValue"]',
    '[data-testid="stMetricDelta"]', '[data-testid="stButtonGroup"] button', '[data-testid="stWidgetLabel"]',
    '[data-testid="stCaptionContainer"]', '[data-testid="stSelectbox"]', '[data-testid="stAlert"]',
]

CLIPPED_JS = """(selectors) => {
  const found = [];
  const width = document.documentElement.clientWidth;
  for (const sel of selectors) {
    for (const root of document.querySelectorAll(sel)) {
      const box = root.getBoundingClientRect();
      if (box.width === 0 || box.height === 0 || root.closest('[data-testid="stExpanderDetails"]') && !root.offsetParent) continue;
      if (root.closest('[data-testid="stSidebar"]')) continue;
      const what = `${sel}: ${root.innerText.trim().slice(0, 60)}`;
      if (box.left < -1 || box.right > width + 1) found.push(`off screen (${Math.round(box.left)}..${Math.round(box.right)} of ${width}) ${what}`);
      for (const el of [root, ...root.querySelectorAll('*')]) {
        if (el.closest('svg, canvas, .js-plotly-plot')) continue;
        const cs = getComputedStyle(el);
        const cuts = ['hidden', 'clip'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis';
        if (cuts && el.scrollWidth > el.clientWidth + 1 && el.innerText.trim()) {
          found.push(`cut (${el.scrollWidth} > ${el.clientWidth}) ${what}`);
          break;
        }
      }
    }
  }
  return found;
}"""


# In every drawn chart: tick labels of an axis do not run into each other, and the legend covers no title or tick label.
CHART_TEXT_JS = """() => {
  const bad = [];
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const boxes = (gd, sel) => [...gd.querySelectorAll(sel)].map(t => t.getBoundingClientRect()).filter(r => r.width > 0);
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    if (!gd.getBoundingClientRect().width) continue;
    const title = (gd.querySelector('.gtitle') || {}).textContent || '(untitled)';
    for (const axis of ['.xtick text', '.ytick text', '.y2tick text']) {
      const ticks = boxes(gd, axis);
      for (let i = 0; i < ticks.length; i++)
        for (let j = i + 1; j < ticks.length; j++)
          if (overlap(ticks[i], ticks[j])) bad.push(`${title}: ${axis} labels overlap`);
    }
    const legend = gd.querySelector('.legend');
    if (!legend) continue;
    const box = legend.getBoundingClientRect();
    for (const r of boxes(gd, '.xtick text, .ytick text, .y2tick text, .g-xtitle, .g-ytitle, .g-y2title, .gtitle'))
      if (overlap(box, r)) bad.push(`${title}: the legend covers a title or tick label`);
  }
  return [...new Set(bad)];
}"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spoke-narrow")
    url = f"sqlite:///{tmp / 'demo.db'}"
    env = {**os.environ, "DASHBOARD_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    for args in (["init"], ["demo", "--work-items", "20000", "--kpi-observations", "20000"]):
        subprocess.run([sys.executable, "-m", "loaders", *args], env=env, cwd=ROOT, check=True, capture_output=True)
    # open work in every inbox whatever the hour: the demo's teams work office hours, and at night a small
    # demo can have resolved all of a spoke's items, leaving an inbox without the list these checks measure
    now = dt.datetime.now(dt.UTC)
    engine = make_engine(url)
    with engine.begin() as conn:
        store.insert_work_items(conn, [
            item(f"open-{unit}-{i}", "hub", unit, now - dt.timedelta(minutes=5 + i), kind=kind)
            for unit, kind in (("sales", "lead"), ("finance", "report"), ("customer_service", "complaint"))
            for i in range(3)])
    engine.dispose()
    server = start_server(url, tmp, timezone="Europe/Berlin")
    yield server
    server.stop()


@pytest.mark.parametrize("width, mobile", [(820, False), (390, True)], ids=["laptop-820", "phone-390"])
@pytest.mark.parametrize("unit", ["sales", "finance", "customer_service"])
def test_the_spoke_page_fits_the_screen(browser, demo_server, tmp_path, width, mobile, unit):
    with sized_page(browser, width, 900, touch=mobile) as page:
        page.goto(f"{demo_server.url}/spoke?unit={unit}")
        page.get_by_text("Inbox: work routed to this team").wait_for()
        page.get_by_text(re.compile(r"\d items? · page ")).first.wait_for()
        page.locator('[data-testid="stMetric"]').first.wait_for()
        if unit == "sales":
            page.get_by_text("Sales capacity a day").wait_for()
        page.wait_for_timeout(1_500)  # fonts and the last layout pass

        overflow = sideways(page)
        assert overflow <= 1, f"the page is {overflow}px wider than the screen"
        assert page.evaluate(CLIPPED_JS, READ_WHOLE) == []
        assert page.evaluate(CHART_TEXT_JS) == []
        # no raw number anywhere in the text the page draws (captions, figures, alerts, chart labels): more than
        # two decimals, or an amount of money without thousands separators
        text = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').innerText + ' ' + "
                             "[...document.querySelectorAll('.js-plotly-plot text')].map(t => t.textContent).join(' ')")
        assert not re.findall(r"\d\.\d{3,}", text)
        assert not re.findall(r"[€$£]\d{4,}", text)
        statuses = page.locator('[data-testid="stButtonGroup"]').filter(has_text="handed back")
        for status in ("new", "routed", "accepted", "resolved", "handed back"):  # each can be seen and chosen
            assert statuses.get_by_role("button", name=status, exact=True).is_visible()
        assert page.locator(EXCEPTION).count() == 0
        # the whole page in one picture (the app scrolls inside its main block, so grow the window to it)
        tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": width, "height": min(int(tall), 12_000)})
        page.wait_for_timeout(500)
        page.screenshot(path=str(tmp_path / f"{unit}-{width}.png"))
