"""The Import data page: upload, preview, map columns, check (dry run), import — through AppTest."""

from __future__ import annotations

import io
import re

import pandas as pd
from sqlalchemy import func, select

from dashboard.db import imports, make_engine, quarantine, work_items
from tests.app.numbers import column_config, raw_numbers_on_page
from tests.app.shown import shown

HEADER = "id,kind,source_unit,target_unit,channel,text,created_at,status,sla_hours,value\n"
GOOD = ("UP-1,lead,hub,sales,web,Quote for 10 seats,2026-11-20 10:00,routed,24,500\n"
        "UP-2,lead,hub,sales,web,\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",2026-11-20 11:00,routed,24,\n")
BAD = ("UP-3,lead,hub,nowhere,web,Unknown unit,2026-11-20 12:00,routed,24,\n"
       "UP-4,lead,hub,sales,web,Bad time,20/11/2026,routed,24,\n")


def counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = tuple(conn.execute(select(func.count()).select_from(t)).scalar_one() for t in (work_items, quarantine, imports))
    engine.dispose()
    return out


def open_upload(app):
    at = app("pages/upload_page.py")
    at.run()
    assert not at.exception
    return at


def upload(at, name: str, content: bytes):
    at.file_uploader[0].set_value((name, content, "text/csv"))
    at.run()
    assert not at.exception
    return at


def click(at, prefix: str):
    button = next(b for b in at.button if b.label.startswith(prefix))
    button.click().run()
    assert not at.exception
    return at


def select_box(at, label: str):
    found = [s for s in at.selectbox if s.label == label]
    assert found, f"no select box {label!r}; errors: {[e.value for e in at.error]}"
    return found[0]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_without_a_file_the_page_explains_what_to_do(app, app_db):
    at = open_upload(app)
    assert any("Nothing is written until you press Import" in i.value for i in at.info)


def test_check_writes_nothing_then_import_loads_valid_rows_and_quarantines_the_rest(app, app_db):
    before = counts(app_db)
    at = upload(open_upload(app), "mine.csv", (HEADER + GOOD + BAD).encode())
    assert select_box(at, "What does the file hold?").value == "work_items"
    click(at, "Check file")
    assert metrics(at) == {"Rows read": "4", "New": "2", "Changed": "0", "Unchanged": "0", "Quarantined": "2"}
    assert counts(app_db) == before  # the check is a dry run
    problems = at.dataframe[-1].value
    assert list(problems["row"]) == [4, 5]  # spreadsheet rows: the header is row 1
    assert "target_unit: unknown unit" in problems["reasons"].iloc[0]
    assert "created_at: not an ISO 8601 timestamp" in problems["reasons"].iloc[1]
    assert any("free-text cell" in w.value for w in at.warning)  # the formula-like text is flagged, kept

    click(at, "Import 2 rows")
    items, quarantined, imported = counts(app_db)
    assert (items - before[0], quarantined - before[1], imported - before[2]) == (2, 2, 1)
    assert any(shown(s.value).startswith("Imported mine.csv into work items (import #") and "2 new" in s.value
               and "2 quarantined" in s.value for s in at.success)


def test_the_same_file_again_is_recognised_and_can_be_forced(app, app_db):
    content = (HEADER + GOOD).encode()
    at = upload(open_upload(app), "mine.csv", content)
    click(at, "Check file")
    click(at, "Import 2 rows")
    at = upload(open_upload(app), "again.csv", content)
    click(at, "Check file")
    assert any("already imported" in i.value for i in at.info)
    before = counts(app_db)
    click(at, "Import again")
    assert counts(app_db)[0] == before[0]  # nothing new: every row unchanged
    assert metrics(at)["Unchanged"] == "2"


def test_headers_that_differ_from_the_contract_are_mapped_by_hand(app, app_db):
    content = (HEADER.replace("id,", "Ticket ID,", 1) + GOOD).encode()
    at = upload(open_upload(app), "crm.csv", content)
    assert any("missing required work_items column(s) id" in shown(e.value) for e in at.error)
    assert not [b for b in at.button if b.label == "Check file"]  # no import before the mapping is complete
    select_box(at, "id *").set_value("Ticket ID").run()
    assert not at.exception and not at.error
    click(at, "Check file")
    assert metrics(at)["New"] == "2"


def test_an_empty_upload_gets_a_message_and_writes_nothing(app, app_db):
    before = counts(app_db)
    at = upload(open_upload(app), "empty.csv", b"")
    assert any("empty.csv" in e.value and "empty" in e.value for e in at.error)
    assert counts(app_db) == before


def test_a_truncated_parquet_file_gets_a_message(app, app_db):
    buf = io.BytesIO()
    pd.read_csv(io.StringIO(HEADER + GOOD), dtype=str).to_parquet(buf)
    at = upload(open_upload(app), "cut.parquet", buf.getvalue()[:300])
    assert any("cut.parquet" in e.value and "Parquet" in e.value for e in at.error)


def test_the_intro_names_every_kind_of_file_the_importer_accepts(app, app_db):
    from dashboard.ingest.contract import KINDS

    at = open_upload(app)
    intro = shown(at.caption[0].value)
    nouns = {"units": "units", "kpis": "KPIs", "campaigns": "campaigns", "kpi_observations": "KPI observations",
             "journeys": "customer journeys", "work_items": "work items"}
    assert set(nouns) == set(KINDS)  # a new kind of file needs its word here and on the page
    assert all(noun in intro for noun in nouns.values()), intro


def test_items_routed_by_the_rules_are_good_news_not_a_warning(app, app_db):
    """Four hub items without a target: the active rules route three (leads to sales, a report to finance), one
    mention matches no rule. The page says so as news, with the counts taken from the file's rows."""
    from dashboard.domain.access import Role, Viewer
    from dashboard.services import routing as routing_service

    with make_engine(app_db).begin() as conn:
        hub = Viewer("hal@example.com", Role.HUB_LEAD)
        rules = {"rules": [{"id": "leads", "name": "Leads", "kinds": ["lead"], "target_unit": "sales"},
                           {"id": "reports", "name": "Reports", "kinds": ["report"], "target_unit": "finance"}],
                 "default": {"target_unit": None}}
        draft = routing_service.save_draft(conn, hub, rules, name="Rules")
        routing_service.publish(conn, hub, draft.id, draft.version, "rules")
    rows = [("RT-1", "lead"), ("RT-2", "lead"), ("RT-3", "report"), ("RT-4", "mention")]
    content = HEADER + "".join(f"{i},{k},hub,,web,hello,2026-11-20 10:00,new,24,\n" for i, k in rows)
    at = upload(open_upload(app), "to_route.csv", content.encode())
    click(at, "Check file")
    routed = sum(k in ("lead", "report") for _, k in rows)
    waiting = len(rows) - routed
    assert not [w for w in at.warning if "routed by rules" in w.value or "routed by the" in w.value]
    assert [shown(i.value) for i in at.info] == [
        f"{routed} items without a target would be routed by the active rules; {waiting} matches no rule and would "
        "wait in the hub's triage queue until someone routes it."]
    click(at, f"Import {len(rows)} rows")
    assert any(f"{routed} items without a target were routed by the active rules" in shown(i.value) for i in at.info)


def test_a_file_imported_before_says_when_to_the_minute(app, app_db):
    content = (HEADER + GOOD).encode()
    at = upload(open_upload(app), "mine.csv", content)
    click(at, "Check file")
    click(at, "Import 2 rows")
    at = upload(open_upload(app), "again.csv", content)
    click(at, "Check file")
    [info] = [shown(i.value) for i in at.info if "already imported" in i.value]
    assert info.startswith("again.csv was already imported as work items (import #")
    assert not re.search(r"\d\d:\d\d:\d\d|\+00:00|--force", info), info  # to the minute, no offset, no CLI option
    assert re.search(r"\d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d UTC\)", info), info


def test_every_number_on_the_page_is_formatted(app, app_db):
    at = upload(open_upload(app), "mine.csv", (HEADER + GOOD + BAD).encode())
    click(at, "Check file")
    assert not raw_numbers_on_page(at), raw_numbers_on_page(at)
    assert column_config(at.dataframe[-1])["row"]["type_config"]["format"] == "%d"  # a spreadsheet row number
