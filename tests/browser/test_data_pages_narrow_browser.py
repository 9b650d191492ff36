"""The pages hub leads and admins work on — Routing (the draft and its replay), Data health, Import data, Users & audit — on a laptop
(820 px) and a phone (390 px) in Chromium: the page never scrolls sideways, no tile, button or widget label is cut
off, and a screenshot of each is kept for a reader to look at (in the test's temporary folder)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from dashboard import audit
from dashboard.db import imports, make_engine, quarantine
from dashboard.domain.access import Role, Viewer
from dashboard.services import routing as routing_service
from tests.browser.conftest import sized_page, start_server
from tests.factories import sample_database

HUB = Viewer("hal@example.com", Role.HUB_LEAD)
RULES = {"rules": [{"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales"},
                   {"id": "reports", "name": "Reports to finance", "kinds": ["report"], "target_unit": "finance"}],
         "default": {"target_unit": None}}
EXCEPTION = '[data-testid="stException"]'
CUT_OFF = """() => {
  const out = [];
  const wider = document.documentElement.scrollWidth - window.innerWidth;
  if (wider > 1) out.push(`the page is ${wider}px wider than the window`);
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const texts = main.querySelectorAll('[data-testid="stMetric"] *, [data-testid="stButton"] *, '
    + '[data-testid="stDownloadButton"] *, [data-testid="stWidgetLabel"] *, [data-testid="stHeading"] *');
  for (const el of texts) {
    if (!el.offsetParent || !el.textContent.trim()) continue;  // hidden or empty
    const text = el.textContent.trim().slice(0, 60);
    const clips = getComputedStyle(el).overflowX !== 'visible';  // ellipsis or hidden: text past the box is lost
    if (clips && el.scrollWidth > el.clientWidth + 1) out.push(`cut off: "${text}"`);
    if (!el.children.length && el.getBoundingClientRect().right > window.innerWidth + 1) {
      out.push(`past the right edge: "${text}"`);
    }
  }
  return [...new Set(out)];
}"""
WIDTHS = {"laptop": dict(width=820, height=1000), "phone": dict(width=390, height=844)}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The sample organisation with a published rule set and a draft, one import with quarantined rows and a few
    audit entries."""
    tmp = tmp_path_factory.mktemp("narrow")
    url = sample_database(tmp / "narrow.db")
    now = dt.datetime.now(dt.UTC)
    with make_engine(url).begin() as conn:
        draft = routing_service.save_draft(conn, HUB, RULES, name="Standard routing")
        routing_service.publish(conn, HUB, draft.id, draft.version, "first rules")
        routing_service.save_draft(conn, HUB, dict(RULES, default={"target_unit": "finance"}), name="Send the rest to Finance")
        import_id = conn.execute(insert(imports).values(
            source="crm", file_name="leads-from-the-crm-export.csv", kind="work_items", content_hash="x",
            size_bytes=120, started_at=now - dt.timedelta(hours=1), finished_at=now, status="quarantined",
            rows_read=4, inserted=2, updated=0, unchanged=0, quarantined=2, imported_by="hal@example.com",
        ).returning(imports.c.id)).scalar_one()
        conn.execute(insert(quarantine), [
            dict(import_id=import_id, kind=kind, row_number=3, row_key="l-3", status="open", reasons="created_at: missing",
                 raw=json.dumps({"id": "l-3", "created_at": ""})) for kind in ("work_items", "kpi_observations")])
        audit.record(conn, HUB, "routing_publish", f"rule set #{draft.id}", "first rules")
    srv = start_server(url, tmp, refresh_seconds=60, cache_ttl_seconds=1)
    yield srv
    srv.stop()


def rules(page, url):
    page.goto(f"{url}/routing")
    page.get_by_role("heading", name="Draft").wait_for()
    page.get_by_role("button", name="Discard draft").wait_for()


def replay(page, url):
    page.goto(f"{url}/routing")
    page.get_by_role("heading", name="Routing").wait_for()
    page.get_by_role("tab", name="Replay & publish").click()
    page.get_by_role("button", name="Run replay").click()
    page.get_by_text("Replayed at").wait_for()
    page.locator('[data-testid="stMetric"]').nth(2).wait_for()


def health(page, url):
    page.goto(f"{url}/data-health")
    page.get_by_role("heading", name="Quality checks").wait_for()
    page.locator('[data-testid="stMetric"]').nth(1).wait_for()  # open quarantined rows per table
    page.get_by_role("button", name="Run the checks again").wait_for()


def upload(page, url, tmp_path):
    sample = tmp_path / "a-file-with-a-long-name-from-the-crm.csv"
    sample.write_text("id,kind,source_unit,target_unit,channel,text,created_at,status,sla_hours\n"
                      "N-1,lead,hub,sales,web,Fine,2026-11-20 10:00,routed,24\n"
                      "N-2,lead,hub,atlantis,web,Unknown unit,2026-11-20 12:00,routed,24\n", encoding="utf-8")
    page.goto(f"{url}/upload")
    page.get_by_role("heading", name="Import data").wait_for()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(sample))
    page.get_by_role("button", name="Check file").click()
    page.get_by_text("Rows that would be quarantined").wait_for()
    page.locator('[data-testid="stMetric"]').nth(4).wait_for()


def admin(page, url):
    page.goto(f"{url}/admin")
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.get_by_role("button", name="Delete spoke").wait_for()


@pytest.mark.parametrize("device", list(WIDTHS))
@pytest.mark.parametrize("name", ["routing-rules", "routing-replay", "data-health", "upload", "admin"])
def test_the_page_fits_and_nothing_is_cut_off(browser, server, tmp_path, device, name):
    with sized_page(browser, WIDTHS[device]["width"], WIDTHS[device]["height"], touch=device == "phone") as page:
        if name == "routing-rules":
            rules(page, server.url)
        elif name == "routing-replay":
            replay(page, server.url)
        elif name == "data-health":
            health(page, server.url)
        elif name == "upload":
            upload(page, server.url, tmp_path)
        else:
            admin(page, server.url)
        page.wait_for_timeout(500)  # let the last layout settle
        page.screenshot(path=str(tmp_path / f"{name}-{WIDTHS[device]['width']}.png"), full_page=True)
        assert page.locator(EXCEPTION).count() == 0
        problems = page.evaluate(CUT_OFF)
        assert not problems, f"{name} at {WIDTHS[device]['width']} px: " + "; ".join(problems)
