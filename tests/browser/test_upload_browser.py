"""Import data in a real browser: the file goes through Streamlit's real upload endpoint (XSRF, size limit),
is checked without writing, then imported; the database holds the valid rows and the quarantined one."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from dashboard.db import make_engine, quarantine, work_items

CSV = ("id,kind,source_unit,target_unit,channel,text,created_at,status,sla_hours\n"
       "BR-1,lead,hub,sales,web,From the browser,2026-11-20 10:00,routed,24\n"
       "BR-2,lead,hub,sales,web,Also fine,2026-11-20T11:00:00+01:00,routed,24\n"
       "BR-3,lead,hub,atlantis,web,Unknown unit,2026-11-20 12:00,routed,24\n")


def stored(db_url: str) -> tuple[int, int]:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        items = conn.execute(select(func.count()).where(work_items.c.id.in_(["BR-1", "BR-2", "BR-3"]))).scalar_one()
        held = conn.execute(select(func.count()).select_from(quarantine).where(quarantine.c.row_key == "BR-3")).scalar_one()
    engine.dispose()
    return items, held


def test_upload_check_and_import(page, live_server, tmp_path):
    path = tmp_path / "browser-upload.csv"
    path.write_text(CSV, encoding="utf-8")
    page.goto(f"{live_server.url}/upload")
    page.get_by_role("heading", name="Import data").wait_for()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    page.get_by_text("browser-upload.csv").first.wait_for()
    page.get_by_role("button", name="Check file").click()
    page.get_by_text("Rows that would be quarantined").wait_for()
    page.get_by_text("target_unit: unknown unit").first.wait_for(state="attached")  # a grid cell (drawn on canvas)
    assert stored(live_server.db_url) == (0, 0)  # checking writes nothing
    page.get_by_role("button", name="Import 2 rows").click()
    page.get_by_text(re.compile(r"^Imported browser-upload\.csv into work items \(import #\d+\): 3 rows read, 2 new"))\
        .first.wait_for()
    assert stored(live_server.db_url) == (2, 1)
