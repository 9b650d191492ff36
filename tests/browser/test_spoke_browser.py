"""A spoke lead in a real browser: deep link, tick an item, resolve it, see the inbox update; download the CSV."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ITEMS = re.compile(r"([\d,]+) items · page")


def inbox_count(page) -> int:
    return int(ITEMS.search(page.get_by_text(ITEMS).first.inner_text()).group(1).replace(",", ""))


def tick_first_row(page) -> None:
    # the inbox is the first *visible* table (the KPI table sits in a collapsed expander above it)
    grid = page.locator('[data-testid="stDataFrame"]').filter(has=page.locator("canvas")).filter(visible=True).first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 + 17)  # the row-selection checkbox of the first row


def test_resolving_an_item_updates_the_inbox(page, live_server):
    page.goto(f"{live_server.url}/spoke?unit=sales")
    page.get_by_role("heading", name="Sales").wait_for()
    before = inbox_count(page)
    page.get_by_text(ITEMS).first.wait_for()
    for _ in range(3):  # the grid can still be settling after the first render: tick again if it did not take
        tick_first_row(page)
        try:
            page.get_by_text("Act on 1 selected item").wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            pass
    page.get_by_text("Act on 1 selected item").wait_for()
    action = page.get_by_role("combobox", name="Action")
    action.click()
    action.fill("Resolve")
    action.press("Enter")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("Resolve: 1 item updated.").wait_for()
    page.wait_for_function(
        "n => [...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
        ".some(e => e.innerText.startsWith(`${n} items`))", arg=before - 1)
    assert inbox_count(page) == before - 1


def test_inbox_export_neutralises_formula_injection(page, live_server):
    page.goto(f"{live_server.url}/spoke?unit=sales&window=30d")
    page.get_by_role("heading", name="Sales").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download filtered inbox (CSV)").click()
    text = open(info.value.path(), encoding="utf-8-sig").read()
    assert "hyperlink" in text
    assert '\'=HYPERLINK(""http://x"",""y"")' in text
    assert ',=HYPERLINK' not in text
