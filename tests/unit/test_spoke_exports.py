"""What a spoke's CSV exports carry, read from a real SQLite file: times to the minute in the organisation's zone
(named in the header), hours with one decimal, whole euros, empty cells rather than "None", KPI values with the
decimals of their unit, and formula-like text still neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import store
from dashboard.db import make_engine, migrate
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.domain.export import to_safe_csv
from dashboard.queries.spoke import InboxFilter, export_rows
from dashboard.ui.spoke_view import inbox_export, kpi_export_frame
from tests.factories import NOW, at, item, tiny_org

ZONE = "Europe/Berlin"
NAMES = {"hub": "Marketing hub", "sales": "Sales", "finance": "Finance"}


def read_csv(frame: pd.DataFrame) -> list[dict]:
    return list(csv.DictReader(io.StringIO(to_safe_csv(frame).decode("utf-8-sig"))))


def test_inbox_export_reads_like_the_page(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    created = NOW - dt.timedelta(hours=7, minutes=13, seconds=27, microseconds=123456)
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            item("open", "hub", "sales", created, sla_hours=4, value=1234.56),
            item("done", "hub", "sales", at(30), resolved=at(29.25), sla_hours=2) | {"topic": "refund"},
            item("formula", "hub", "sales", at(2)) | {"text": "=HYPERLINK(\"http://x\",\"y\")"},
        ])
    with engine.connect() as conn:
        rows = export_rows(conn, LOCAL_ADMIN, "sales", InboxFilter(), NOW)
    engine.dispose()
    out = {r["Item"]: r for r in read_csv(inbox_export(rows, NAMES, ZoneInfo(ZONE), ZONE))}

    assert f"Created ({ZONE})" in out["open"] and f"Resolved ({ZONE})" in out["open"]
    local = created.astimezone(ZoneInfo(ZONE))
    assert out["open"][f"Created ({ZONE})"] == local.strftime("%Y-%m-%d %H:%M")  # to the minute, local
    for r in out.values():
        for column, value in r.items():
            assert value != "None" and value != "nan", (column, value)
            assert not re.search(r"\d{2}:\d{2}:\d{2}", value), (column, value)  # never seconds or microseconds
            if column.endswith("(h)") and value:
                assert re.fullmatch(r"-?\d+\.\d", value), (column, value)  # one decimal, never 16
    assert out["open"]["Age (h)"] == f"{(NOW - created).total_seconds() / 3600:.1f}"
    assert out["open"]["Due in (h)"] == f"{(created + dt.timedelta(hours=4) - NOW).total_seconds() / 3600:.1f}"
    assert out["open"]["Value (EUR)"] == "1235" and out["open"]["Breached"] == "yes"
    assert out["done"]["Due in (h)"] == "" and out["done"]["Age (h)"] == "0.8" and out["done"]["Breached"] == "no"
    assert out["done"]["Topic"] == "refund" and out["open"]["Topic"] == "" and out["open"][f"Resolved ({ZONE})"] == ""
    assert out["formula"]["Text"].startswith("'=HYPERLINK")  # still neutralised
    assert out["open"]["From"] == "Marketing hub" and out["open"]["Status"] == "routed"


def test_an_inbox_export_where_no_item_has_a_value_still_downloads(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate(engine)
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [item("a", "hub", "sales", at(3)), item("b", "hub", "sales", at(5))])
    with engine.connect() as conn:
        rows = export_rows(conn, LOCAL_ADMIN, "sales", InboxFilter(), NOW)
    engine.dispose()
    out = read_csv(inbox_export(rows, NAMES, ZoneInfo(ZONE), ZONE))
    assert sorted(r["Item"] for r in out) == ["a", "b"] and all(r["Value (EUR)"] == "" for r in out)


def test_kpi_export_rounds_each_value_to_its_unit():
    own = pd.DataFrame({
        "id": ["revenue", "conversion", "leads", "response"], "name": ["Revenue", "Conversion", "Leads", "Response"],
        "unit_of_measure": ["EUR", "%", "count", "hours"], "value": [899767.391, 3.248, 3497.4, 3.019],
        "window_target": [840000.0, 3.5, 3080.0, 4.0], "direction": ["higher", "higher", "higher", "lower"],
        "on_target": [True, False, True, None], "previous": [912345.678, 3.2061, 3324.6, 3.0612],
        "change": [-0.013784, 0.01307, 0.052, -0.0138],
    })
    rows = {r["KPI id"]: r for r in read_csv(kpi_export_frame(own))}
    assert [rows[k]["Value"] for k in own.id] == ["899767", "3.2", "3497", "3.0"]
    assert [rows[k]["Previous period"] for k in own.id] == ["912346", "3.2", "3325", "3.1"]
    assert [rows[k]["Change (%)"] for k in own.id] == ["-1.4", "1.3", "5.2", "-1.4"]
    assert rows["response"]["On target"] == "" and rows["revenue"]["On target"] == "yes"
