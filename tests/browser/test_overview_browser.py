"""What only a browser shows: the map draws, a click or a tap on a spoke opens its page on the first try — also
after live refreshes that redraw the map with new data and on a paused map — in the overview's window; live
refresh and pause; /overview; nothing fetched from outside."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time

import pytest

from dashboard.charts.hub_map import NODE_TRACE, OFFSET
from tests.browser.conftest import ROOT, start_server
from tests.browser.plotly_helpers import MAP, click_point, node_positions, pixel, tap_point, wait_for_map
from tests.factories import sample_database

UPDATED = re.compile(r"Updated (\d\d:\d\d:\d\d)")
SALES_PAGE = re.compile(r"/spoke\?unit=sales")


def updated_time(page) -> str:
    text = page.get_by_text(UPDATED).first.inner_text()
    return UPDATED.search(text).group(1)


def wait_for_refreshes(page, count: int, timeout: float = 30.0) -> None:
    """Until the live view has refreshed ``count`` times by itself (its "Updated" time moved on)."""
    deadline = time.time() + timeout
    for _ in range(count):
        before = updated_time(page)
        while updated_time(page) == before:
            assert time.time() < deadline, "the live view did not refresh by itself"
            time.sleep(0.2)


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    """The app with the live simulator writing new items every second, so each refresh redraws the map with new
    figures (a new chart as far as Streamlit is concerned), as in production."""
    tmp = tmp_path_factory.mktemp("busy")
    url = sample_database(tmp / "busy.db")
    simulator = subprocess.Popen([sys.executable, "-m", "loaders", "simulate", "--database-url", url, "--rate", "120",
                                  "--force"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    server = start_server(url, tmp, refresh_seconds=2, cache_ttl_seconds=1)
    yield server
    server.stop()
    simulator.terminate()
    simulator.wait(10)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    context.close()


def test_clicking_a_spoke_on_the_map_opens_its_page(page, live_server):
    page.goto(live_server.url)
    wait_for_map(page)
    click_point(page, NODE_TRACE, "sales")
    page.wait_for_url(SALES_PAGE, timeout=30_000)
    page.get_by_role("heading", name="Sales").wait_for()
    page.get_by_role("heading", name="KPIs vs target").wait_for()


def test_a_click_after_two_live_refreshes_opens_the_spoke_on_the_first_try(page, busy_server):
    page.goto(busy_server.url)
    wait_for_map(page)
    wait_for_refreshes(page, 2)  # the map has been redrawn with new data twice
    time.sleep(1.3)  # past the 1 s cache, before the next refresh: the click's own rerun reads new figures
    click_point(page, NODE_TRACE, "sales")  # once: no second try
    page.wait_for_url(SALES_PAGE, timeout=30_000)
    page.get_by_role("heading", name="Sales").wait_for()


def test_hover_and_click_anywhere_along_an_edge(page, busy_server):
    """Not only at a dot in the middle: a fifth of the way from the hub to Finance, on the hub → Finance edge."""
    page.goto(busy_server.url)
    wait_for_map(page)
    wait_for_refreshes(page, 1)
    nodes = node_positions(page, NODE_TRACE)
    (hx, hy), (fx, fy) = nodes["hub"], nodes["finance"]
    length = math.hypot(fx - hx, fy - hy)
    left = (-(fy - hy) / length * OFFSET, (fx - hx) / length * OFFSET)  # hub → spoke runs left of the line
    pos = pixel(page, hx + 0.2 * (fx - hx) + left[0], hy + 0.2 * (fy - hy) + left[1])
    page.mouse.move(pos["x"], pos["y"])
    page.locator(f"{MAP} .hoverlayer .hovertext").filter(has_text="Finance").first.wait_for()
    page.mouse.click(pos["x"], pos["y"])
    page.wait_for_url(re.compile(r"/spoke\?unit=finance"), timeout=30_000)


def test_a_click_on_the_paused_map_opens_the_spoke_on_the_first_try(page, busy_server):
    page.goto(busy_server.url)
    wait_for_map(page)
    page.get_by_text("Live updates").click()
    page.get_by_text("Live updates paused").wait_for()
    time.sleep(3)  # new items arrive meanwhile: the click's rerun reads new figures
    click_point(page, NODE_TRACE, "sales")
    page.wait_for_url(SALES_PAGE, timeout=30_000)
    page.get_by_role("heading", name="Sales").wait_for()


def test_a_tap_at_phone_width_opens_the_spoke_on_the_first_try(phone, busy_server):
    phone.goto(busy_server.url)
    wait_for_map(phone)
    wait_for_refreshes(phone, 2)
    time.sleep(1.3)
    tap_point(phone, NODE_TRACE, "sales")
    phone.wait_for_url(SALES_PAGE, timeout=30_000)
    phone.get_by_role("heading", name="Sales").wait_for()


def test_the_spoke_opened_from_the_map_shows_the_overviews_window(page, live_server):
    page.goto(f"{live_server.url}/?window=30d")
    wait_for_map(page)
    page.get_by_text("Flows · last 30 days").wait_for()
    click_point(page, NODE_TRACE, "finance")
    page.wait_for_url(re.compile(r"/spoke\?unit=finance&window=30d"), timeout=30_000)
    page.get_by_role("heading", name="Finance").wait_for()
    window = page.get_by_test_id("stButtonGroup").filter(has_text="Last hour")
    window.locator("button[aria-checked='true']").first.wait_for()
    assert window.locator("button[aria-checked='true']").all_inner_texts() == ["Last 30 days"]


def test_the_overview_url_the_readme_documents_opens_the_overview(page, live_server):
    page.goto(f"{live_server.url}/overview?window=30d")
    page.get_by_text("Flows · last 30 days").wait_for()
    wait_for_map(page)
    assert page.get_by_role("heading", name="Overview").is_visible()
    assert page.get_by_text("Page not found").count() == 0
    page.goto(live_server.url)  # the root still is the overview
    page.get_by_role("heading", name="Overview").wait_for()
    wait_for_map(page)


def test_no_page_fetches_anything_from_outside_the_app(page, live_server):
    """The favicon was a font CDN's icon: offline, every page asked for it in vain."""
    outside = []
    page.on("request", lambda r: r.url.startswith(("http://", "https://")) and not r.url.startswith(live_server.url)
            and outside.append(r.url))
    for path in ("/", "/spoke?unit=sales", "/scenarios"):
        page.goto(f"{live_server.url}{path}")
        page.locator("h1").first.wait_for()
        time.sleep(2)
        icons = page.evaluate("() => [...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
        assert icons and all(href.startswith(live_server.url) for href in icons), (path, icons)
    assert outside == []


def test_deep_link_opens_a_spoke(page, live_server):
    page.goto(f"{live_server.url}/spoke?unit=finance")
    page.get_by_role("heading", name="Finance").wait_for()
    assert "unit=finance" in page.url


def test_live_fragment_refreshes_by_itself_and_pause_stops_it(page, live_server):
    page.goto(live_server.url)
    wait_for_map(page)
    wait_for_refreshes(page, 1, timeout=15)

    page.get_by_text("Live updates").click()
    page.get_by_text("Live updates paused").wait_for()
    paused_text = page.get_by_text("Live updates paused").inner_text()
    time.sleep(5)  # more than two refresh intervals
    assert page.get_by_text("Live updates paused").inner_text() == paused_text


def test_a_deep_link_as_the_first_request_of_a_fresh_server_gets_the_whole_app(page, tmp_path, live_server):
    fresh = start_server(live_server.db_url, tmp_path)  # a new process: nothing has been requested yet
    try:
        page.goto(f"{fresh.url}/spoke?unit=sales")
        page.get_by_role("heading", name="Sales").wait_for()
        nav = page.get_by_test_id("stSidebarNav")
        nav.get_by_text("Scenarios").wait_for()
        nav.get_by_text("Overview").wait_for()
        assert page.get_by_text("streamlit app").count() == 0  # not the legacy file-based navigation
        page.get_by_text("Local mode — no sign-in").wait_for()
        assert page.get_by_text("Page not found").count() == 0
    finally:
        fresh.stop()
