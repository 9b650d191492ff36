"""A hub lead on the Scenarios and Operating model pages in a real browser: the as-is check first, a preset, the
simulation check with its progress, a preset after a save; and both pages on a laptop at 820 px and a phone at 390 px
(screenshots kept in the test's directory): no sideways scrolling, every tile, preset and placement whole and on
screen."""

from __future__ import annotations

import re

import pytest

from tests import known_org as ko
from tests.browser.conftest import sideways, sized_page, start_server

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
    with sized_page(browser, 390, 844, touch=True) as page:
        open_scenarios(page, live_server)
        page.get_by_text(re.compile(r"^As-is check: ")).first.wait_for()
        overflow = sideways(page)
        assert overflow <= 1, f"the page is {overflow}px wider than the phone"
        tiles = page.locator('[data-testid="stMetric"]')
        for i in range(tiles.count()):  # every headline tile fits the screen's width
            box = tiles.nth(i).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 391
        assert page.locator(EXCEPTION).count() == 0


# --- a preset after a save, and both pages at narrow widths ------------------------------------------------------

NARROW = {"laptop": (820, 1180), "phone": (390, 844)}
CUT = """(selector) => [...document.querySelectorAll(selector)]
    .filter(el => el.getBoundingClientRect().width > 0)
    .flatMap(el => [el, ...el.querySelectorAll('*')])
    .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && e.textContent.trim())
    .map(e => e.textContent.trim())"""
OFF_SCREEN = """(selector) => [...document.querySelectorAll(selector)]
    .filter(el => el.getBoundingClientRect().width > 0)
    .filter(el => { const b = el.getBoundingClientRect(); return b.left < -1 || b.right > window.innerWidth + 1 })
    .map(el => el.textContent.trim())"""


def cut_off(page, selector: str) -> list[str]:
    """Texts inside the elements matching ``selector`` that are cut off (an ellipsis) or stick out of the window."""
    return page.evaluate(CUT, selector) + page.evaluate(OFF_SCREEN, selector)


def test_a_preset_after_saving_changes_the_placements_in_the_browser(page, live_server):
    open_scenarios(page, live_server)
    page.get_by_role("button", name="Hybrid", exact=True).click()
    page.get_by_text("On screen: the Hybrid (central content + analytics) preset").wait_for()
    page.get_by_role("textbox", name="Name", exact=True).fill("Browser hybrid")
    page.get_by_role("button", name="Save scenario").click()
    page.get_by_text(re.compile(r"^On screen: saved scenario “Browser hybrid”")).wait_for()
    page.wait_for_url(re.compile(r"scenario=\d+"))
    page.get_by_role("button", name="Decentralised", exact=True).click()
    page.get_by_text("On screen: the Decentralised preset").wait_for()
    page.wait_for_url(lambda url: "scenario=" not in url)
    chosen = page.locator('[data-testid="stButtonGroup"] button[aria-pressed="true"], '
                          '[data-testid="stButtonGroup"] button[aria-checked="true"]')
    placements = [t for t in chosen.all_inner_texts() if t in ("As today", "Hub", "Hybrid", "Spokes")]
    assert len(placements) == 3 and set(placements) == {"Spokes"}, placements  # the sample's three functions
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize("device", list(NARROW))
def test_scenarios_is_usable_on_a_laptop_and_a_phone(browser, live_server, device, tmp_path):
    width, height = NARROW[device]
    with sized_page(browser, width, height, touch=width < 500) as page:
        open_scenarios(page, live_server)
        page.get_by_role("button", name="Centralised", exact=True).click()
        page.locator('[data-testid="stMetricDelta"]').first.wait_for()
        page.screenshot(path=str(tmp_path / f"scenarios-{width}.png"))
        assert sideways(page) <= 1, f"the page is {sideways(page)}px wider than the {device}"
        assert not cut_off(page, '[data-testid="stMetric"]'), "a headline tile is cut off"
        assert not cut_off(page, '[data-testid="stButtonGroup"]'), "a placement choice is cut off"
        assert not cut_off(page, '[data-testid="stBaseButton-secondary"]'), "a button's label is cut off"
        for name in ("As today", "Hub", "Hybrid", "Spokes"):  # every placement of every function on screen
            buttons = page.locator('[data-testid="stButtonGroup"] button').filter(
                has_text=re.compile(rf"^{name}$")).filter(visible=True)
            assert buttons.count() >= 3, name
        page.get_by_role("tab", name="Trade-offs and sensitivity").click()
        page.get_by_text(re.compile(r"^Each input moved 20 %")).wait_for()
        page.screenshot(path=str(tmp_path / f"scenarios-tradeoffs-{width}.png"))
        assert sideways(page) <= 1
        assert page.locator(EXCEPTION).count() == 0


@pytest.fixture(scope="module")
def known_server(tmp_path_factory):
    """The known organisation: journeys to attribute and a change marked done to evaluate."""
    tmp = tmp_path_factory.mktemp("om-browser")
    url, org = ko.known_database(tmp / "known.db")
    server = start_server(url, tmp, timezone=org.timezone, cache_ttl_seconds=30)
    yield server
    server.stop()


@pytest.mark.parametrize("device", list(NARROW))
def test_operating_model_is_usable_on_a_laptop_and_a_phone(browser, known_server, device, tmp_path):
    width, height = NARROW[device]
    with sized_page(browser, width, height, touch=width < 500) as page:
        page.goto(f"{known_server.url}/operating-model")
        page.get_by_role("heading", name="Operating model").wait_for()
        for tab in ("Assess", "Design", "Implement", "Evaluate", "Attribution"):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(1500)
            if tab == "Attribution":
                page.get_by_text("Journey revenue").first.wait_for()
                assert not cut_off(page, '[data-testid="stMetric"]'), "an attribution tile is cut off"
                assert not cut_off(page, '[data-testid="stButtonGroup"]'), "Revenue / Conversions is cut off"
            if tab == "Evaluate":
                page.get_by_text(re.compile(r"^Model check:|in line|not enough", re.I)).first.wait_for()
            page.screenshot(path=str(tmp_path / f"operating-model-{tab.lower()}-{width}.png"))
            assert sideways(page) <= 1, f"{tab}: the page is {sideways(page)}px wider than the {device}"
        assert page.locator(EXCEPTION).count() == 0
