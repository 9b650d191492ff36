"""A hub lead on the Scenarios page in a real browser: the as-is check first, a preset, the simulation check with
its progress, and the same page on a phone."""

from __future__ import annotations

import re

EXCEPTION = '[data-testid="stException"]'


def open_scenarios(page, live_server) -> None:
    page.goto(f"{live_server.url}/scenarios")
    page.get_by_role("heading", name="Results vs as-is").wait_for()
    page.locator('[data-testid="stMetric"]').nth(5).wait_for()  # the six headline tiles


def test_check_the_as_is_try_a_preset_and_check_it_with_the_simulation(page, live_server):
    open_scenarios(page, live_server)
    page.get_by_text(re.compile(r"^As-is check: ")).first.wait_for()
    # the sample organisation has a day of work on assumed office hours: the check says it is off and opens
    page.get_by_text("Per spoke", exact=True).wait_for()
    page.get_by_role("button", name="Centralised", exact=True).click()
    page.locator('[data-testid="stMetricDelta"]').first.wait_for()  # the preset changes the tiles against as-is

    page.get_by_role("tab", name="Check with simulation").click()
    page.get_by_role("button", name="Check with simulation").click()
    page.get_by_text(re.compile(r"^Largest difference between model and simulation: ")).wait_for(timeout=120_000)
    grid = page.locator('[data-testid="stDataFrame"]').filter(visible=True)
    assert grid.count() >= 1
    assert page.locator(EXCEPTION).count() == 0


def test_the_page_fits_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        open_scenarios(page, live_server)
        page.get_by_text(re.compile(r"^As-is check: ")).first.wait_for()
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the phone"
        tiles = page.locator('[data-testid="stMetric"]')
        for i in range(tiles.count()):  # every headline tile fits the screen's width
            box = tiles.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391
        assert page.locator(EXCEPTION).count() == 0
    finally:
        context.close()
