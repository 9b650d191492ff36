"""What only a browser shows: the map draws, a click on a spoke opens its page, live refresh and pause."""

from __future__ import annotations

import re
import time

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard.charts.hub_map import NODE_TRACE
from tests.browser.plotly_helpers import POINT_JS, wait_for_map

# the KPI tiles' sparklines are plotly charts too and come first on the page: find the map by its element key
MAP_POINT_JS = POINT_JS.replace("'.stPlotlyChart .js-plotly-plot'", "'.st-key-map .js-plotly-plot'")
assert MAP_POINT_JS != POINT_JS

UPDATED = re.compile(r"Updated (\d\d:\d\d:\d\d)")


def updated_time(page) -> str:
    text = page.get_by_text(UPDATED).first.inner_text()
    return UPDATED.search(text).group(1)


def click_point(page, trace_name: str, unit_id: str) -> None:
    pos = page.evaluate(MAP_POINT_JS, [trace_name, unit_id])
    page.mouse.move(pos["x"], pos["y"])
    page.mouse.click(pos["x"], pos["y"])


def test_clicking_a_spoke_on_the_map_opens_its_page(page, live_server):
    page.goto(live_server.url)
    wait_for_map(page)
    # the test server refreshes the live view every 2 s and a click that lands while plotly redraws is
    # lost: pause live updates first (as a person studying the map would), and click again if needed
    page.get_by_text("Live updates").click()
    page.get_by_text("Live updates paused").wait_for()
    wait_for_map(page)
    for _ in range(3):
        click_point(page, NODE_TRACE, "sales")
        try:
            page.wait_for_url(re.compile(r"/spoke\?unit=sales"), timeout=15_000)
            break
        except PlaywrightTimeout:
            wait_for_map(page)
    page.wait_for_url(re.compile(r"/spoke\?unit=sales"))
    page.get_by_role("heading", name="Sales").wait_for()
    page.get_by_role("heading", name="KPIs vs target").wait_for()
    assert "unit=sales" in page.url


def test_deep_link_opens_a_spoke(page, live_server):
    page.goto(f"{live_server.url}/spoke?unit=finance")
    page.get_by_role("heading", name="Finance").wait_for()
    assert "unit=finance" in page.url


def test_live_fragment_refreshes_by_itself_and_pause_stops_it(page, live_server):
    page.goto(live_server.url)
    wait_for_map(page)
    first = updated_time(page)
    deadline = time.time() + 15
    while updated_time(page) == first and time.time() < deadline:
        time.sleep(0.5)
    assert updated_time(page) != first, "the live view did not refresh by itself"

    page.get_by_text("Live updates").click()
    page.get_by_text("Live updates paused").wait_for()
    paused_text = page.get_by_text("Live updates paused").inner_text()
    time.sleep(5)  # more than two refresh intervals
    assert page.get_by_text("Live updates paused").inner_text() == paused_text


def test_a_deep_link_as_the_first_request_of_a_fresh_server_gets_the_whole_app(page, tmp_path, live_server):
    from tests.browser.conftest import start_server

    fresh = start_server(live_server.db_url, tmp_path)  # a new process: nothing has been requested yet
    try:
        page.goto(f"{fresh.url}/spoke?unit=sales")
        page.get_by_role("heading", name="Sales").wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("Scenarios").wait_for()
        assert nav.get_by_text("Overview").is_visible()
        assert page.get_by_text("streamlit app").count() == 0  # not the legacy file-based navigation
        assert page.get_by_text("Local mode — no sign-in").is_visible()
        assert page.get_by_text("Page not found").count() == 0
    finally:
        fresh.stop()
