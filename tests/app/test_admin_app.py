"""Users & audit through the real app: the audit trail reads in words (actions, roles), times to the minute in
the organisation's zone, no "None" in empty cells, counts with separators; its CSV has times to the second in
that zone, named in the header, and neutralised formula-like text."""

from __future__ import annotations

import datetime as dt
import io
import re

import pandas as pd
import pytest

from dashboard import audit
from dashboard.db import make_engine
from dashboard.domain import format as fmt
from dashboard.domain.access import LOCAL_ADMIN, Role, Viewer
from dashboard.settings import get_settings
from dashboard.ui import admin_view
from tests.app.numbers import column_config, raw_numbers, raw_numbers_on_page, unformatted_columns

PAGE = "pages/admin_page.py"
WHEN = dt.datetime.now(dt.UTC).replace(microsecond=362_362) - dt.timedelta(hours=2)


@pytest.fixture
def audited(app_db, use_db):
    """The sample organisation in Berlin time, with audit entries: one without target or detail, one whose
    detail looks like a formula."""
    use_db(app_db, timezone="Europe/Berlin")
    with make_engine(app_db).begin() as conn:
        hal = Viewer("hal@example.com", Role.HUB_LEAD)
        audit.record(conn, hal, "routing_publish", "rule set #2", "reports go to sales", at=WHEN)
        audit.record(conn, hal, "sign_in", at=WHEN + dt.timedelta(minutes=1))
        audit.record(conn, LOCAL_ADMIN, "export", "audit trail", '=HYPERLINK("http://x","y")',
                     at=WHEN + dt.timedelta(minutes=2))
    return app_db


def open_admin(app):
    at = app(PAGE).run()
    assert not at.exception, at.exception
    return at


def audit_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Action" in d.value.columns)


def test_the_audit_trail_reads_in_words_with_no_none_and_times_to_the_minute(app, audited):
    at = open_admin(app)
    table = audit_table(at)
    assert table.Action.tolist() == ["Downloaded data", "Signed in", "Published routing rules"]
    assert table.Role.tolist() == ["Admin", "Hub lead", "Hub lead"]
    assert table.Target.isna().tolist() == [False, True, False]  # a sign-in has no target: shown as "—"
    element = next(d for d in at.dataframe if "Action" in d.value.columns)
    assert element.proto.placeholder == "—"
    config = column_config(element)
    assert config["When"]["type_config"]["format"] == fmt.MOMENT  # to the minute, never seconds
    assert config["When"]["label"] == "When (Europe/Berlin)"
    assert any(c.value.startswith("3 entries match; showing the newest 3. Times in Europe/Berlin") for c in at.caption)
    assert not unformatted_columns(at), unformatted_columns(at)
    assert not raw_numbers_on_page(at), raw_numbers_on_page(at)


def test_one_entry_is_singular(app, audited):
    at = open_admin(app)
    at.text_input(key="audit_text").input("reports go to").run()
    assert any(c.value.startswith("1 entry matches; showing the newest 1.") for c in at.caption)
    assert [b.proto.label for b in at.get("download_button")] == ["Download the 1 matching entry (CSV)"]


def test_every_audit_action_has_words():
    assert set(admin_view.ACTION_LABELS) == set(audit.ACTIONS)
    assert all("_" not in label for label in admin_view.ACTION_LABELS.values())


def test_the_audit_csv_has_times_to_the_second_in_the_zone_and_safe_cells(audited):
    settings = get_settings()
    with make_engine(audited).connect() as conn:
        rows, total = audit.search(conn, LOCAL_ADMIN, limit=10)
    back = pd.read_csv(io.BytesIO(admin_view.audit_csv(rows, settings.tz)), encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert list(back.columns) == ["When (Europe/Berlin)", "User", "Role", "Action", "Target", "Detail"]
    berlin = WHEN.astimezone(settings.tz)
    expected = [(berlin + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S") for m in (2, 1, 0)]
    assert back["When (Europe/Berlin)"].tolist() == expected  # no microseconds, no offset, the zone's clock
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", t) for t in back["When (Europe/Berlin)"])
    assert back.Detail[0] == "'=HYPERLINK(\"http://x\",\"y\")"  # neutralised for spreadsheets
    assert back.Target[1] == "" and back.Detail[1] == ""  # missing stays empty, never "None"
    assert back.Action.tolist() == ["Downloaded data", "Signed in", "Published routing rules"]


def test_units_show_headcount_as_fte_and_counts_with_separators(app, audited):
    at = open_admin(app)
    units = next(d for d in at.dataframe if "Headcount" in d.value.columns)
    config = column_config(units)
    assert config["Headcount"]["type_config"]["format"] == fmt.FTE
    assert config["Work items"]["type_config"]["format"] == fmt.COUNT


def test_the_number_scan_catches_raw_numbers():
    """The scan this file relies on: it finds what a reader must not see, and passes what they should."""
    assert raw_numbers("€1836000 and 53,548.414 items, KPI 35.541") == ["53,548.414", "35.541", "1836000"]
    assert raw_numbers("Share 7.1968; 1373 open") == ["7.1968", "1373"]
    assert raw_numbers("€1,836,000, 53,548 items, 3.3 %, 12.25 h on 07 Dec 2026 14:05, import #12345") == []
