"""A spoke lead in a real browser: deep link, tick an item, resolve it, see the inbox update; download the CSV."""

from __future__ import annotations

import csv
import datetime as dt
import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

ITEMS = re.compile(r"([\d,]+) items? · page")


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
        ".some(e => e.innerText.startsWith(`${n} item`))", arg=before - 1)
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


def test_inbox_export_reads_as_the_page_does(page, live_server):
    page.goto(f"{live_server.url}/spoke?unit=sales&window=30d&status=routed,resolved")
    page.get_by_role("heading", name="Sales").wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download filtered inbox (CSV)").click()
    rows = list(csv.DictReader(open(info.value.path(), encoding="utf-8-sig")))
    assert rows and "Created (UTC)" in rows[0] and "Age (h)" in rows[0]
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["Created (UTC)"])  # to the minute, no microseconds
        assert re.fullmatch(r"\d+\.\d", row["Age (h)"])  # one decimal, never sixteen
        assert "None" not in row.values() and "nan" not in row.values()


def mark_done_today(db_url: str, label: str) -> None:
    from sqlalchemy import insert

    from dashboard.db import make_engine, planned_changes, target_models

    now = dt.datetime.now(dt.UTC)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        model = conn.execute(insert(target_models).values(scenario_name="Target", inputs={}, status="current",
                                                          promoted_by="hal", promoted_at=now)).inserted_primary_key[0]
        conn.execute(insert(planned_changes).values(
            target_model_id=model, function="content_production", from_placement="spokes", to_placement="hub",
            label=label, units="sales", status="done", done_on=now.date(), updated_by="hal", updated_at=now))
    engine.dispose()


CHART_JS = """(title) => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => (g.querySelector('.gtitle') || {}).textContent === title);
  const plot = gd.querySelector('.main-svg').getBoundingClientRect();
  const notes = [...gd.querySelectorAll('.annotation')].map(a => a.getBoundingClientRect());
  return {range: gd._fullLayout.xaxis.range, plot: [plot.left, plot.right],
          notes: notes.map(r => [r.left, r.right]),
          y2: [...gd.querySelectorAll('.y2tick text')].map(t => t.textContent)};
}"""


def test_a_change_done_today_stays_inside_the_window_and_its_label_inside_the_chart(page, live_server):
    mark_done_today(live_server.db_url, "Content production centralised")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for window, bucket_hours in (("7d", 6), ("30d", 24)):  # 6-hour bars, daily bars
        page.goto(f"{live_server.url}/spoke?unit=sales&window={window}")
        page.get_by_role("heading", name="Sales").wait_for()
        page.locator(".js-plotly-plot .annotation").first.wait_for()
        for title in ("Volume", "Backlog and SLA breaches"):
            page.locator(".js-plotly-plot .gtitle", has_text=title).first.wait_for()  # drawn, on a slow machine too
            drawn = page.evaluate(CHART_JS, title)
            end = dt.datetime.fromisoformat(drawn["range"][1][:19])
            # the axis ends with the bar now falls in: no empty days after today
            assert now <= end <= now + dt.timedelta(hours=bucket_hours), (window, title, drawn["range"])
            left, right = drawn["plot"]
            assert drawn["notes"] and all(left <= a and b <= right for a, b in drawn["notes"]), (window, title, drawn)
    breaches = page.evaluate(CHART_JS, "Backlog and SLA breaches")["y2"]
    assert breaches and all(re.fullmatch(r"\d[\d,]*", t) for t in breaches), breaches  # whole breaches only
