"""File import on SQLite and PostgreSQL: bad files and bad rows, idempotency, rollups, quarantine, the CLI.

Every bad input checks three things: the message names the file (and the row and column where it applies),
the valid rows of the same file are in the database, and a file-level error writes nothing at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.db import (
    campaigns,
    flow_hourly,
    imports,
    kpi_hourly,
    kpi_observations,
    kpis,
    make_engine,
    migrate,
    quarantine,
    units,
    work_items,
)
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.ingest.errors import IngestError
from dashboard.services.imports import ingest
from loaders.__main__ import main
from tests.factories import tiny_org
from tests.unit.test_store import assert_rollups_match_rebuild

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "loaders" / "samples"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC
NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
DATA_TABLES = (units, kpis, campaigns, kpi_observations, work_items, flow_hourly, kpi_hourly, quarantine)
ALL_TABLES = (*DATA_TABLES, imports)
ITEM_COLUMNS = ["id", "kind", "source_unit", "target_unit", "channel", "topic", "text", "created_at", "routed_at",
                "accepted_at", "resolved_at", "status", "sla_hours", "value"]


# --- files ------------------------------------------------------------------------------------------------


def wi(id: str, **cells) -> dict[str, str]:
    """A valid work-item row as CSV cells (hub -> sales, routed); override any cell."""
    row = dict(id=id, kind="lead", source_unit="hub", target_unit="sales", channel="web", topic="pricing",
               text=f"Item {id}", created_at="2026-11-20 09:00", routed_at="2026-11-20 09:05", accepted_at="",
               resolved_at="", status="routed", sla_hours="24", value="")
    row.update(cells)
    return row


def csv_bytes(rows: list[dict], columns: list[str] | None = None, delimiter: str = ",") -> str:
    columns = columns or list(rows[0])
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return buf.getvalue()


def write_csv(tmp_path: Path, name: str, rows: list[dict], columns: list[str] | None = None, *,
              delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + csv_bytes(rows, columns, delimiter).encode(encoding))
    return path


def load(engine, path, **kw):
    return ingest(engine, path, **{"viewer": LOCAL_ADMIN, "tz": BERLIN, **kw})


# --- the database -----------------------------------------------------------------------------------------


def snapshot(engine, tables=ALL_TABLES) -> dict[str, list[dict]]:
    with engine.connect() as conn:
        return {t.name: [dict(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns)).mappings()]
                for t in tables}


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def stored_items(engine) -> dict[str, dict]:
    with engine.connect() as conn:
        return {r["id"]: dict(r) for r in conn.execute(select(work_items)).mappings()}


def import_rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(imports).order_by(imports.c.id)).mappings()]


def quarantined(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(quarantine).order_by(quarantine.c.id)).mappings()]


def assert_rollups_equal_a_rebuild(engine) -> None:
    with engine.connect() as conn:  # the rebuild is rolled back when the connection closes
        assert_rollups_match_rebuild(conn)


def assert_nothing_imported(engine, before: dict) -> None:
    """No data row, rollup or quarantine row changed; the only new import rows (if any) say failed."""
    after = snapshot(engine)
    for t in DATA_TABLES:
        assert after[t.name] == before[t.name], t.name
    new = after["imports"][len(before["imports"]):]
    assert after["imports"][:len(before["imports"])] == before["imports"]
    assert all(r["status"] == "failed" and r["rows_read"] == 0 for r in new), new


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per module; each test gets a copy (as PostgreSQL tests clone a template)."""
    path = tmp_path_factory.mktemp("template") / "hub.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    eng.dispose()
    assert not path.with_name("hub.db-wal").exists()  # checkpointed: the file alone is the database
    return path


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    """Overrides conftest's sqlite_url (which migrates from scratch for every test): a fresh copy instead."""
    shutil.copyfile(sqlite_template, tmp_path / "hub.db")
    return f"sqlite:///{tmp_path / 'hub.db'}"


# Files refused (or checked) before the database is involved: one engine is enough, as in test_store.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def org(engine):
    """hub, sales and finance with four KPIs (tests.factories.tiny_org)."""
    with engine.begin() as conn:
        tiny_org(conn)
    return engine


# --- delimiter and encoding -------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("delimiter, name", [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_a_file_with_another_delimiter_imports_with_a_warning_naming_it(org, tmp_path, delimiter, name):
    rows = [wi("WI-1", text="Quote, 40 seats; urgent"), wi("WI-2", value="12.5")]
    path = write_csv(tmp_path, "export.csv", rows, delimiter=delimiter)
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    assert any("export.csv" in w and name in w for w in report.warnings), report.warnings
    items = stored_items(org)
    assert items["WI-1"]["text"] == "Quote, 40 seats; urgent" and items["WI-2"]["value"] == 12.5


@SQLITE_ONLY
def test_utf8_with_a_bom_imports_cleanly_with_the_first_column_name_intact(org, tmp_path):
    path = write_csv(tmp_path, "bom.csv", [wi("WI-1", text="Café"), wi("WI-2"), wi("WI-3", sla_hours="abc")], bom=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid,")
    report = load(org, path)
    assert (report.inserted, report.quarantined, report.warnings) == (2, 1, [])  # no "ignored column \ufeffid"
    assert stored_items(org)["WI-1"]["text"] == "Café"
    (row,) = quarantined(org)
    assert list(json.loads(row["raw"]))[0] == "id" and row["row_key"] == "WI-3"


@SQLITE_ONLY
@pytest.mark.parametrize("encoding, text", [
    ("cp1252", "Café Müller – 20 € off"),
    ("latin-1", "Café Müller, naïve Grüße"),
])
def test_a_windows_or_latin1_file_imports_with_a_warning_and_the_text_stored_correctly(org, tmp_path, encoding, text):
    path = write_csv(tmp_path, "excel.csv", [wi("WI-1", text=text), wi("WI-2", topic="Bürozubehör")], encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    assert any("excel.csv" in w and "UTF-8" in w for w in report.warnings), report.warnings
    items = stored_items(org)
    assert items["WI-1"]["text"] == text and items["WI-2"]["topic"] == "Bürozubehör"


@SQLITE_ONLY
def test_a_german_excel_export_semicolons_cp1252_and_crlf_imports(org, tmp_path):
    text = csv_bytes([wi("WI-1", text="Grüße; bitte rückrufen"), wi("WI-2")], delimiter=";").replace("\n", "\r\n")
    path = tmp_path / "Export.csv"
    path.write_bytes(text.encode("cp1252"))
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    assert stored_items(org)["WI-1"]["text"] == "Grüße; bitte rückrufen"
    assert len(report.warnings) == 2  # encoding and delimiter


@SQLITE_ONLY
def test_a_utf8_file_whose_sample_ends_inside_a_multibyte_character_imports(org, tmp_path):
    """The first 64 KiB are sniffed for the delimiter; a character cut in two there is not an encoding error."""
    rows = [wi(f"WI-{i}", text="é" * 200) for i in range(1, 200)]
    for pad in range(200):  # pad the first text until byte 65,536 is the second half of an "é"
        rows[0]["text"] = "x" * pad + "é" * 200
        data = csv_bytes(rows).encode("utf-8")
        if data[65535:65537] == "é".encode():
            break
    path = tmp_path / "long.csv"
    path.write_bytes(data)
    assert data[65535:65537] == "é".encode()
    report = load(org, path)
    assert (report.inserted, report.quarantined, report.warnings) == (199, 0, [])
    assert stored_items(org)["WI-199"]["text"] == "é" * 200


# --- columns ----------------------------------------------------------------------------------------------


@SQLITE_ONLY
def test_a_missing_required_column_is_named_and_nothing_is_written(org, tmp_path):
    columns = [c for c in ITEM_COLUMNS if c != "created_at"]
    path = write_csv(tmp_path, "no_created.csv", [wi("WI-1"), wi("WI-2")], columns)
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path, kind="work_items")
    assert "no_created.csv" in str(err.value) and "created_at" in str(err.value)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_missing_required_column_is_named_even_when_the_kind_is_inferred(org, tmp_path):
    columns = [c for c in ITEM_COLUMNS if c != "created_at"]
    path = write_csv(tmp_path, "no_created.csv", [wi("WI-1")], columns)
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path)
    assert "no_created.csv" in str(err.value) and "created_at" in str(err.value)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_extra_columns_are_ignored_with_a_warning_naming_them(org, tmp_path):
    rows = [wi("WI-1") | {"urgency": "high", "Owner": "ana"}, wi("WI-2") | {"urgency": "low", "Owner": ""}]
    path = write_csv(tmp_path, "extra.csv", rows, [*ITEM_COLUMNS, "urgency", "Owner"])
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    (warning,) = report.warnings
    assert "extra.csv" in warning and "urgency" in warning and "Owner" in warning
    assert set(stored_items(org)) == {"WI-1", "WI-2"}


@SQLITE_ONLY
def test_headers_mapped_explicitly_or_differing_only_by_case_and_spaces_import(org, tmp_path):
    header = {"id": "Ticket ID", "created_at": "Created At", "source_unit": "SOURCE UNIT", "target_unit": "target-unit",
              "sla_hours": " Sla Hours "}
    rows = [{header.get(k, k): v for k, v in wi(f"WI-{i}").items()} for i in (1, 2)]
    path = write_csv(tmp_path, "crm.csv", rows)
    report = load(org, path, mapping={"Ticket ID": "id"})
    assert (report.inserted, report.quarantined, report.warnings) == (2, 0, [])
    item = stored_items(org)["WI-1"]
    assert item["created_at"] == dt.datetime(2026, 11, 20, 8, tzinfo=UTC) and item["sla_hours"] == 24


@SQLITE_ONLY
def test_without_the_mapping_an_unmappable_header_says_how_to_map_it(org, tmp_path):
    rows = [{("Ticket ID" if k == "id" else k): v for k, v in wi("WI-1").items()}]
    path = write_csv(tmp_path, "crm.csv", rows)
    before = snapshot(org)
    with pytest.raises(IngestError, match="crm.csv.*--map") as err:
        load(org, path, kind="work_items")
    assert " id" in str(err.value)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_mapping_to_an_unknown_contract_column_is_refused_naming_the_file(org, tmp_path):
    rows = [{("Ticket ID" if k == "id" else k): v for k, v in wi("WI-1").items()}]
    path = write_csv(tmp_path, "crm.csv", rows)
    before = snapshot(org)
    with pytest.raises(IngestError, match="unknown work_items column.*ticket") as err:
        load(org, path, mapping={"Ticket ID": "ticket"})
    assert_nothing_imported(org, before)
    assert "crm.csv" in str(err.value)


@SQLITE_ONLY
def test_an_explicit_mapping_wins_over_a_column_that_happens_to_have_the_contract_name(org, tmp_path):
    rows = [{"id": "row-1", **{("Ticket ID" if k == "id" else k): v for k, v in wi("WI-1").items()}}]
    path = write_csv(tmp_path, "crm.csv", rows)
    report = load(org, path, mapping={"Ticket ID": "id"})
    assert report.inserted == 1
    assert set(stored_items(org)) == {"WI-1"}


# --- wrong values in rows ---------------------------------------------------------------------------------


def assert_quarantined(engine, report, file_name: str, expected: dict[int, str], imported: set[str]) -> None:
    """Rows ``expected`` (row number -> reason start) are quarantined for this file; ``imported`` ids are stored."""
    rows = [r for r in quarantined(engine) if r["import_id"] == report.import_id]
    assert {r["row_number"]: r["reasons"] for r in rows}.keys() == expected.keys(), rows
    for r in rows:
        assert r["reasons"].startswith(expected[r["row_number"]]), r["reasons"]
    (imp,) = [i for i in import_rows(engine) if i["id"] == report.import_id]
    assert imp["file_name"] == file_name and imp["status"] == "quarantined" and imp["quarantined"] == len(expected)
    assert report.quarantined == len(expected)
    assert [p.row for p in report.problems] == sorted(expected)
    if imported:
        assert imported <= set(stored_items(engine)), stored_items(engine).keys()


def test_a_value_that_is_not_a_number_quarantines_that_row_and_imports_the_others(org, tmp_path):
    path = write_csv(tmp_path, "types.csv", [wi("WI-1"), wi("WI-2", sla_hours="abc"), wi("WI-3")])
    report = load(org, path)
    assert (report.rows_read, report.inserted, report.quarantined) == (3, 2, 1)
    assert_quarantined(org, report, "types.csv", {3: "sla_hours: not a number"}, {"WI-1", "WI-3"})
    (row,) = quarantined(org)
    assert row["reasons"] == "sla_hours: not a number"
    assert str(report.problems[0]) == "row 3: sla_hours: not a number (found sla_hours='abc')"
    assert "WI-2" not in stored_items(org)


WRONG_VALUES = [  # (cells that break a row, the reason it must be quarantined with)
    (dict(value="12,5"), "value: not a number"),
    (dict(sla_hours=""), "sla_hours: missing"),
    (dict(sla_hours="0"), "sla_hours: must be > 0"),
    (dict(created_at="yesterday"), "created_at: not an ISO 8601 timestamp"),
    (dict(status="done"), "status: not one of"),
    (dict(kind="ticket"), "kind: not one of"),
    (dict(status="resolved"), "resolved_at: missing for a resolved item"),
    (dict(resolved_at="2026-11-20 08:00", status="resolved"), "resolved_at: before created_at"),
    (dict(text="x" * 10_001), "text: longer than 10000 characters"),
]


@SQLITE_ONLY
def test_each_wrong_value_quarantines_its_row_with_the_column_named(org, tmp_path):
    rows = [wi("OK-1")] + [wi(f"BAD-{i}", **cells) for i, (cells, _) in enumerate(WRONG_VALUES)] + [wi("OK-2")]
    report = load(org, write_csv(tmp_path, "bad.csv", rows))
    assert (report.rows_read, report.inserted, report.quarantined) == (len(rows), 2, len(WRONG_VALUES))
    assert_quarantined(org, report, "bad.csv", {i + 3: reason for i, (_, reason) in enumerate(WRONG_VALUES)},
                       {"OK-1", "OK-2"})
    assert set(stored_items(org)) == {"OK-1", "OK-2"}


@SQLITE_ONLY
@pytest.mark.parametrize("kind, rows, bad_row, reason", [
    ("work_items", [wi("WI-1"), wi("WI-2", value="-5"), wi("WI-3", value="5")], 3, "value: must be ≥ 0"),
    ("campaigns", [dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="5000",
                        spend="-1", leads="3", conversions="1", revenue="100"),
                   dict(channel="email", period_start="2026-11-02", period_end="2026-11-08", budget="800",
                        spend="760", leads="95", conversions="13", revenue="12900")], 2, "spend: must be ≥ 0"),
    ("units", [dict(id="hr", name="HR", kind="spoke", headcount="-2", cost_per_fte="1"),
               dict(id="it", name="IT", kind="spoke", headcount="3", cost_per_fte="1")], 2, "headcount: must be ≥ 0"),
])
def test_negative_volumes_are_quarantined(org, tmp_path, kind, rows, bad_row, reason):
    path = write_csv(tmp_path, f"{kind}_negative.csv", rows)
    before = count(org, {"work_items": work_items, "campaigns": campaigns, "units": units}[kind])
    report = load(org, path)
    assert (report.kind, report.inserted, report.quarantined) == (kind, len(rows) - 1, 1)
    assert_quarantined(org, report, f"{kind}_negative.csv", {bad_row: reason}, set())
    (row,) = quarantined(org)
    assert (row["reasons"], row["kind"]) == (reason, kind)
    assert count(org, {"work_items": work_items, "campaigns": campaigns, "units": units}[kind]) == before + len(rows) - 1


@SQLITE_ONLY
def test_unknown_unit_ids_are_quarantined_naming_the_column(org, tmp_path):
    rows = [wi("WI-1"), wi("WI-2", target_unit="marketing"), wi("WI-3", source_unit="legal", target_unit="hub"),
            wi("WI-4", source_unit="sales", target_unit="hub")]
    report = load(org, write_csv(tmp_path, "units.csv", rows))
    assert_quarantined(org, report, "units.csv", {3: "target_unit: unknown unit", 4: "source_unit: unknown unit"},
                       {"WI-1", "WI-4"})
    assert report.problems[0].values == {"target_unit": "marketing"}


def test_a_kpi_for_an_unknown_unit_or_parent_is_quarantined(org, tmp_path):
    rows = [dict(id="nps", unit_id="sales", name="NPS", unit_of_measure="score", direction="higher", parent_id="revenue"),
            dict(id="churn", unit_id="legal", name="Churn", unit_of_measure="%", direction="lower", parent_id=""),
            dict(id="aht", unit_id="hub", name="Handling time", unit_of_measure="hours", direction="lower", parent_id="nope"),
            dict(id="child", unit_id="hub", name="Child", unit_of_measure="count", direction="higher", parent_id="parent"),
            dict(id="parent", unit_id="hub", name="Parent", unit_of_measure="count", direction="higher", parent_id="")]
    report = load(org, write_csv(tmp_path, "kpis.csv", rows))
    assert (report.inserted, report.quarantined) == (3, 2)  # a parent later in the same file is fine
    reasons = {r["row_number"]: r["reasons"] for r in quarantined(org)}
    assert reasons == {3: "unit_id: unknown unit (load it with the units first)", 4: "parent_id: unknown KPI (load the parent first or in the same file)"}
    with org.connect() as conn:
        assert dict(conn.execute(select(kpis.c.id, kpis.c.parent_id).where(kpis.c.id.in_(["child", "nps"]))).all()) == {
            "child": "parent", "nps": "revenue"}


@SQLITE_ONLY
def test_a_kpi_whose_parent_is_in_an_earlier_chunk_of_the_same_file_imports(org, tmp_path):
    rows = [dict(id=f"k{i}", unit_id="hub", name=f"K{i}", unit_of_measure="count", direction="higher",
                 parent_id=f"k{i - 1}" if i else "revenue") for i in range(4)]
    report = load(org, write_csv(tmp_path, "tree.csv", rows), chunk_rows=2)
    assert (report.inserted, report.quarantined) == (4, 0), [str(p) for p in report.problems]


def test_the_child_of_a_refused_kpi_is_quarantined_too(org, tmp_path):
    rows = [dict(id="a", unit_id="hub", name="A", unit_of_measure="count", direction="higher", parent_id="nope"),
            dict(id="b", unit_id="hub", name="B", unit_of_measure="count", direction="higher", parent_id="a"),
            dict(id="c", unit_id="hub", name="C", unit_of_measure="count", direction="higher", parent_id="revenue")]
    report = load(org, write_csv(tmp_path, "orphans.csv", rows))
    assert (report.inserted, report.quarantined) == (1, 2)
    assert [(q["row_number"], q["reasons"].split(":")[0]) for q in quarantined(org)] == [(2, "parent_id"),
                                                                                          (3, "parent_id")]


def test_formulas_in_free_text_are_stored_verbatim_with_a_warning(org, tmp_path):
    formulas = ['=HYPERLINK("http://example.com","call me")', "+49 30 1234", "-5 stars", "@brand where is my order"]
    rows = [wi(f"WI-{i}", text=t) for i, t in enumerate(formulas, 1)]
    report = load(org, write_csv(tmp_path, "social.csv", rows))
    assert (report.inserted, report.quarantined, report.formula_cells) == (4, 0, 4)
    (warning,) = report.warnings
    assert "social.csv" in warning and "4" in warning
    assert [stored_items(org)[f"WI-{i}"]["text"] for i in range(1, 5)] == formulas


@SQLITE_ONLY
def test_a_formula_in_an_id_or_code_is_quarantined(org, tmp_path):
    bad = [("id", "=cmd|' /C calc'!A0"), ("id", "@SUM(1+1)"), ("id", "+1"), ("channel", "=web"), ("source_unit", "-hub")]
    rows = [wi("WI-1")] + [wi(f"WI-{i}") | {column: cell} for i, (column, cell) in enumerate(bad, 2)]
    report = load(org, write_csv(tmp_path, "ids.csv", rows))
    assert_quarantined(org, report, "ids.csv", {n: f"{column}: only " for n, (column, _) in enumerate(bad, 3)}, {"WI-1"})
    assert [json.loads(q["raw"])[column] for q, (column, _) in zip(quarantined(org), bad)] == [c for _, c in bad]
    assert report.formula_cells == 0 and report.warnings == []  # refused, so not counted as stored formulas


def test_timestamps_in_mixed_iso_formats_are_stored_as_the_right_utc_instants(org, tmp_path):
    created = {
        "T-naive": ("2026-11-20T09:00:00", dt.datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "space": ("2026-11-20 09:00", dt.datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "seconds": ("2026-11-20 09:00:30", dt.datetime(2026, 11, 20, 8, 0, 30, tzinfo=UTC)),
        "offset": ("2026-11-20T09:00:00+01:00", dt.datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "west": ("2026-11-20T03:00:00-05:00", dt.datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "zulu": ("2026-11-20T08:00:00Z", dt.datetime(2026, 11, 20, 8, tzinfo=UTC)),
        "fraction": ("2026-11-20T08:00:00.250Z", dt.datetime(2026, 11, 20, 8, 0, 0, 250_000, tzinfo=UTC)),
        "date": ("2026-11-20", dt.datetime(2026, 11, 19, 23, tzinfo=UTC)),  # midnight in Berlin
        "summer": ("2026-07-01 12:00", dt.datetime(2026, 7, 1, 10, tzinfo=UTC)),  # CEST, +02:00
    }
    rows = [wi(k, created_at=v, routed_at="", status="new", sla_hours="2") for k, (v, _) in created.items()]
    rows.append(wi("dayfirst", created_at="21/11/2026", routed_at="", status="new"))
    rows.append(wi("resolved", created_at="2026-11-20 09:00", routed_at="2026-11-20T08:30:00Z",
                   resolved_at="2026-11-20T10:00:00+01:00", status="resolved"))
    report = load(org, write_csv(tmp_path, "times.csv", rows))
    assert_quarantined(org, report, "times.csv", {11: "created_at: not an ISO 8601 timestamp"},
                       set(created) | {"resolved"})
    assert report.problems[0].values == {"created_at": "21/11/2026"}
    items = stored_items(org)
    for key, (_, want) in created.items():
        assert items[key]["created_at"] == want, key
        assert items[key]["due_at"] == want + dt.timedelta(hours=2), key
    r = items["resolved"]
    assert (r["created_at"], r["routed_at"], r["resolved_at"]) == (
        dt.datetime(2026, 11, 20, 8, tzinfo=UTC), dt.datetime(2026, 11, 20, 8, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 20, 9, tzinfo=UTC))
    assert_rollups_equal_a_rebuild(org)


@SQLITE_ONLY
def test_the_import_zone_decides_what_a_naive_timestamp_means(org, tmp_path):
    path = write_csv(tmp_path, "ny.csv", [wi("WI-1", created_at="2026-11-20 09:00", routed_at="")])
    load(org, path, tz=ZoneInfo("America/New_York"))
    assert stored_items(org)["WI-1"]["created_at"] == dt.datetime(2026, 11, 20, 14, tzinfo=UTC)


@pytest.mark.parametrize("kind, rows", [
    ("work_items", [wi("WI-1"), wi("WI-2", channel="paid social retargeting campaign q4")]),
    ("campaigns", [dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="5000",
                        spend="1", leads="1", conversions="1", revenue="1"),
                   dict(channel="email", period_start="2026-11-02", period_end="2026-11-08", budget="800",
                        spend="760", leads="3000000000", conversions="13", revenue="12900")]),
])
def test_a_value_too_big_for_its_database_column_is_quarantined_not_a_crash(org, tmp_path, kind, rows):
    report = load(org, write_csv(tmp_path, "big.csv", rows))
    assert (report.inserted, report.quarantined) == (1, 1)
    (row,) = quarantined(org)
    assert row["row_number"] == 3 and row["reasons"].split(":")[0] in ("channel", "leads")


@SQLITE_ONLY
def test_an_empty_optional_sort_order_cell_imports(org, tmp_path):
    rows = [dict(id="hr", name="HR", kind="spoke", headcount="2", cost_per_fte="1", sort_order=""),
            dict(id="it", name="IT", kind="spoke", headcount="3", cost_per_fte="1", sort_order="4")]
    report = load(org, write_csv(tmp_path, "units_sorted.csv", rows))
    assert (report.inserted, report.quarantined) == (2, 0)
    with org.connect() as conn:
        assert dict(conn.execute(select(units.c.id, units.c.sort_order).where(units.c.id.in_(["hr", "it"]))).all()) == {
            "hr": 0, "it": 4}


# --- duplicates ---------------------------------------------------------------------------------------------


@SQLITE_ONLY
def test_a_repeated_key_in_a_file_is_quarantined_as_a_duplicate_and_the_first_row_wins(org, tmp_path):
    rows = [wi("WI-1", text="first"), wi("WI-2"), wi("WI-1", text="second")]
    report = load(org, write_csv(tmp_path, "dups.csv", rows))
    assert_quarantined(org, report, "dups.csv", {4: "id: duplicate of row 2"}, {"WI-1", "WI-2"})
    assert stored_items(org)["WI-1"]["text"] == "first"
    (row,) = quarantined(org)
    assert json.loads(row["raw"])["text"] == "second"


def test_duplicates_are_found_across_chunks(org, tmp_path):
    ids = ["A", "B", "C", "D", "E", "B", "F", "F", "A"]  # rows 2..10; chunks of 3: [2-4] [5-7] [8-10]
    rows = [wi(i, text=f"row {n}") for n, i in enumerate(ids, 2)]
    report = load(org, write_csv(tmp_path, "chunks.csv", rows), chunk_rows=3)
    assert (report.rows_read, report.inserted, report.quarantined) == (9, 6, 3)
    assert_quarantined(org, report, "chunks.csv", {7: "id: duplicate of row 3", 9: "id: duplicate of row 8",
                                                    10: "id: duplicate of row 2"}, set("ABCDEF"))
    assert {k: v["text"] for k, v in stored_items(org).items()} == {
        "A": "row 2", "B": "row 3", "C": "row 4", "D": "row 5", "E": "row 6", "F": "row 8"}
    assert_rollups_equal_a_rebuild(org)


@SQLITE_ONLY
def test_a_duplicate_of_a_quarantined_row_is_imported_because_the_first_never_was(org, tmp_path):
    rows = [wi("A", sla_hours="abc"), wi("B"), wi("A", text="fixed")]
    report = load(org, write_csv(tmp_path, "dups.csv", rows), chunk_rows=2)
    assert (report.inserted, report.quarantined) == (2, 1)
    assert stored_items(org)["A"]["text"] == "fixed"


@pytest.mark.parametrize("chunk_rows", [None, 2])
def test_two_spellings_of_one_instant_are_one_observation_key(org, tmp_path, chunk_rows):
    rows = [dict(kpi_id="revenue", ts="2026-11-20 09:00", value="1"),  # Berlin: 08:00 UTC
            dict(kpi_id="revenue", ts="2026-11-20 10:00", value="2"),
            dict(kpi_id="revenue", ts="2026-11-20T08:00:00Z", value="3"),
            dict(kpi_id="cost", ts="2026-11-20T08:00:00Z", value="4")]
    report = load(org, write_csv(tmp_path, "obs.csv", rows), chunk_rows=chunk_rows)
    assert (report.inserted, report.quarantined) == (3, 1)
    (row,) = quarantined(org)
    assert row["row_number"] == 4 and row["reasons"].startswith("kpi_id/ts: duplicate of row 2")
    with org.connect() as conn:
        assert conn.execute(select(kpi_observations.c.value).where(kpi_observations.c.kpi_id == "revenue")
                            .order_by(kpi_observations.c.ts)).scalars().all() == [1.0, 2.0]
    assert_rollups_equal_a_rebuild(org)


def test_campaign_periods_repeated_across_chunks_are_duplicates(org, tmp_path):
    row = dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="1", spend="1",
               leads="1", conversions="1", revenue="1")
    rows = [row, dict(row, channel="email"), dict(row, period_start="2026-11-09", period_end="2026-11-15"),
            dict(row, spend="2")]
    report = load(org, write_csv(tmp_path, "campaigns.csv", rows), chunk_rows=2)
    assert (report.inserted, report.quarantined) == (3, 1)
    (q,) = quarantined(org)
    assert q["row_number"] == 5 and q["reasons"].startswith("channel/period_start: duplicate of row 2")


# --- file-level errors: nothing written ----------------------------------------------------------------------


@SQLITE_ONLY
def test_an_empty_file_is_refused_naming_it_and_nothing_is_written(org, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    before = snapshot(org)
    with pytest.raises(IngestError, match=r"empty\.csv.*empty \(0 bytes\)"):
        load(org, path)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_0_byte_upload_is_refused_under_its_original_name(org, tmp_path):
    path = tmp_path / "tmp4f9a2c"  # what the upload page stores the file as
    path.write_bytes(b"")
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path, name="leads from crm.csv", kind="work_items")
    assert str(err.value).startswith("leads from crm.csv:") and "tmp4f9a2c" not in str(err.value)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_file_of_blank_lines_is_refused(org, tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("\n\n  \n")
    before = snapshot(org)
    with pytest.raises(IngestError, match=r"blank\.csv.*no header"):
        load(org, path)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_header_only_file_imports_0_rows_without_an_error(org, tmp_path):
    path = write_csv(tmp_path, "header.csv", [], ITEM_COLUMNS)
    report = load(org, path)
    assert (report.rows_read, report.inserted, report.quarantined, report.skipped) == (0, 0, 0, False)
    assert any("header.csv" in w and "no data rows" in w for w in report.warnings)
    (imp,) = import_rows(org)
    assert (imp["status"], imp["rows_read"], imp["id"]) == ("ok", 0, report.import_id)
    assert count(org, work_items) == 0


def _parquet_items(tmp_path: Path, name: str = "items.parquet") -> Path:
    created = pd.to_datetime(["2026-11-20 09:00", "2026-07-01 12:00", "2026-11-19 07:00"]).tz_localize(BERLIN)
    df = pd.DataFrame({
        "id": ["P-1", "P-2", "P-3"], "kind": ["lead", "complaint", "report"], "source_unit": ["hub"] * 3,
        "target_unit": ["sales", "sales", "finance"], "channel": ["web", "social", "internal"],
        "topic": ["pricing", None, "budget"], "text": ["Café ü", None, "=1+1"],
        "created_at": created, "routed_at": created + pd.Timedelta(minutes=5),
        "accepted_at": pd.Series([pd.NaT] * 3, dtype="datetime64[ns, Europe/Berlin]"),
        "resolved_at": pd.Series([created[0] + pd.Timedelta(hours=6), pd.NaT, created[2] + pd.Timedelta(hours=9)]),
        "status": ["resolved", "routed", "resolved"], "sla_hours": np.array([24, 4, 24], dtype="int64"),
        "value": [4800.5, np.nan, np.nan],
    })
    path = tmp_path / name
    df.to_parquet(path, index=False)
    return path


@SQLITE_ONLY
def test_a_truncated_parquet_file_is_refused_and_nothing_is_written(org, tmp_path):
    good = _parquet_items(tmp_path)
    data = good.read_bytes()
    before = snapshot(org)
    for cut in (len(data) // 2, len(data) - 10, 8):
        path = tmp_path / "cut.parquet"
        path.write_bytes(data[:cut])
        with pytest.raises(IngestError) as err:
            load(org, path)
        assert "cut.parquet" in str(err.value) and "Parquet" in str(err.value), cut
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_file_of_the_wrong_kind_suggests_the_kind_it_holds(org, tmp_path):
    path = tmp_path / "kpis.csv"
    path.write_bytes((SAMPLES / "kpis.csv").read_bytes())
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path, kind="work_items")
    message = str(err.value)
    assert message.startswith("kpis.csv:") and "--kind kpis" in message
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_a_column_named_twice_in_the_header_is_refused_naming_it(org, tmp_path):
    path = write_csv(tmp_path, "twice.csv", [wi("WI-1") | {"Created At": "2026-11-21 09:00"}],
                     [*ITEM_COLUMNS, "Created At"])
    before = snapshot(org)
    with pytest.raises(IngestError, match=r"twice\.csv: column\(s\) Created At appear more than once"):
        load(org, path)
    assert_nothing_imported(org, before)


@SQLITE_ONLY
def test_row_numbers_count_records_so_a_cell_with_line_breaks_does_not_shift_them(org, tmp_path):
    rows = [wi("WI-1", text="line one\nline two\nline three"), wi("WI-2", sla_hours="abc")]
    report = load(org, write_csv(tmp_path, "multiline.csv", rows))
    assert (report.inserted, report.quarantined) == (1, 1)
    assert [q["row_number"] for q in quarantined(org)] == [3]
    assert stored_items(org)["WI-1"]["text"] == "line one\nline two\nline three"


@SQLITE_ONLY
def test_a_file_whose_header_fits_no_kind_asks_for_the_kind(org, tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("foo,bar\n1,2\n")
    before = snapshot(org)
    with pytest.raises(IngestError, match=r"mystery\.csv: cannot tell .*--kind"):
        load(org, path)
    assert_nothing_imported(org, before)


def _too_many_cells(tmp_path: Path, bad_row: int) -> Path:
    """Rows 2..7; ``bad_row`` has an unquoted comma in its text, so one cell too many."""
    lines = csv_bytes([wi(f"WI-{i}") for i in range(1, 7)]).splitlines()
    lines[bad_row - 1] = lines[bad_row - 1].replace("Item WI", "Item, WI")
    path = tmp_path / "cells.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("db_url, bad_row", [
    ("sqlite", 5),  # in the second chunk: the first chunk's rows were already upserted and must be rolled back
    ("postgresql", 5),
    ("sqlite", 7),  # the last row
    ("sqlite", 2),
], indirect=["db_url"])
def test_a_line_with_too_many_cells_fails_the_whole_file_naming_the_row(org, tmp_path, bad_row):
    path = _too_many_cells(tmp_path, bad_row)
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path, chunk_rows=2)
    message = str(err.value)
    assert message.startswith("cells.csv:") and f"row {bad_row} has 15 cells" in message, message
    assert "14 columns" in message
    assert_nothing_imported(org, before)
    (failed,) = import_rows(org)
    assert failed["status"] == "failed" and failed["message"] == message and failed["file_name"] == "cells.csv"


@SQLITE_ONLY
def test_a_failed_file_can_be_imported_once_it_is_fixed(org, tmp_path):
    path = _too_many_cells(tmp_path, 5)
    with pytest.raises(IngestError):
        load(org, path)
    path.write_text(csv_bytes([wi(f"WI-{i}") for i in range(1, 7)]))
    assert load(org, path).inserted == 6


def _file_level_error(case: str, tmp_path: Path) -> tuple[Path, dict]:
    if case == "missing column":
        return write_csv(tmp_path, "f.csv", [wi("WI-1")], ITEM_COLUMNS[1:]), {"kind": "work_items"}
    if case == "wrong kind":
        path = tmp_path / "f.csv"
        path.write_bytes((SAMPLES / "kpis.csv").read_bytes())
        return path, {"kind": "work_items"}
    if case == "empty file":
        (tmp_path / "f.csv").write_bytes(b"")
        return tmp_path / "f.csv", {"kind": "work_items"}
    if case == "truncated parquet":
        data = _parquet_items(tmp_path).read_bytes()
        (tmp_path / "f.parquet").write_bytes(data[: len(data) // 2])
        return tmp_path / "f.parquet", {"kind": "work_items"}
    assert case == "too many cells"
    return _too_many_cells(tmp_path, 5), {"kind": "work_items"}


@SQLITE_ONLY
@pytest.mark.parametrize("case", [
    "too many cells", "missing column", "wrong kind", "empty file", "truncated parquet",
])
def test_every_file_level_error_is_recorded_as_a_failed_import(org, tmp_path, case):
    path, kw = _file_level_error(case, tmp_path)
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path, **kw)
    assert_nothing_imported(org, before)
    (failed,) = import_rows(org)  # the record, which the Data health page shows, has no command-line options
    assert (failed["status"], failed["file_name"], failed["message"]) == ("failed", path.name, err.value.plain)
    assert str(err.value).startswith(err.value.plain) and "--" not in err.value.plain


@SQLITE_ONLY
def test_a_dry_run_that_fails_records_nothing(org, tmp_path):
    before = snapshot(org)
    with pytest.raises(IngestError):
        load(org, _too_many_cells(tmp_path, 5), dry_run=True)
    assert snapshot(org) == before


# --- Parquet ------------------------------------------------------------------------------------------------


def test_a_parquet_file_imports_the_same_rows_as_the_equivalent_csv(org, tmp_path):
    report = load(org, _parquet_items(tmp_path))
    assert (report.kind, report.inserted, report.quarantined, report.formula_cells) == ("work_items", 3, 0, 1)
    items = stored_items(org)
    assert items["P-1"]["created_at"] == dt.datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert items["P-2"]["created_at"] == dt.datetime(2026, 7, 1, 10, tzinfo=UTC)
    assert items["P-1"]["resolved_at"] == dt.datetime(2026, 11, 20, 14, tzinfo=UTC)
    assert (items["P-1"]["value"], items["P-2"]["value"], items["P-2"]["text"], items["P-2"]["topic"]) == (
        4800.5, None, None, None)
    assert (items["P-1"]["text"], items["P-3"]["text"], items["P-2"]["sla_hours"]) == ("Café ü", "=1+1", 4.0)
    csv_rows = [
        wi("P-1", kind="lead", text="Café ü", created_at="2026-11-20 09:00", routed_at="2026-11-20 09:05",
           resolved_at="2026-11-20 15:00", status="resolved", value="4800.5"),
        wi("P-2", kind="complaint", channel="social", topic="", text="", created_at="2026-07-01 12:00",
           routed_at="2026-07-01 12:05", sla_hours="4"),
        wi("P-3", kind="report", target_unit="finance", channel="internal", topic="budget", text="=1+1",
           created_at="2026-11-19 07:00", routed_at="2026-11-19 07:05", resolved_at="2026-11-19 16:00",
           status="resolved"),
    ]
    again = load(org, write_csv(tmp_path, "items.csv", csv_rows))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert_rollups_equal_a_rebuild(org)


@SQLITE_ONLY
def test_parquet_rows_are_numbered_from_1_and_bad_ones_quarantined(org, tmp_path):
    df = pd.DataFrame({"kpi_id": ["revenue", "nope", "cost"],
                       "ts": pd.to_datetime(["2026-11-20 08:00"] * 3).tz_localize("UTC"),
                       "value": [1.5, 2.0, -3.0]})
    path = tmp_path / "obs.parquet"
    df.to_parquet(path)
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 1)
    (q,) = quarantined(org)
    assert (q["row_number"], q["reasons"]) == (2, "kpi_id: unknown KPI (load it with the KPIs first)")
    assert json.loads(q["raw"]) == {"kpi_id": "nope", "ts": "2026-11-20T08:00:00+00:00", "value": "2.0"}


# --- idempotency, versions and rollups ------------------------------------------------------------------------


def test_the_same_file_twice_is_skipped_and_with_force_every_row_is_unchanged(org, tmp_path):
    path = write_csv(tmp_path, "items.csv", [wi("WI-1"), wi("WI-2", sla_hours="abc"), wi("WI-3", value="7.25"),
                                             wi("WI-4", status="resolved", resolved_at="2026-11-20 10:00")])
    first = load(org, path)
    before = snapshot(org)
    second = load(org, path)
    assert second.skipped and second.import_id is None
    assert second.previous["id"] == first.import_id and second.previous["status"] == "quarantined"
    assert (second.inserted, second.updated, second.unchanged, second.quarantined) == (0, 0, 0, 0)
    assert f"import #{first.import_id}" in second.summary()
    assert snapshot(org) == before
    renamed = tmp_path / "copy of items.csv"  # the bytes decide, not the name
    renamed.write_bytes(path.read_bytes())
    assert load(org, renamed).skipped
    forced = load(org, path, force=True)
    assert (forced.inserted, forced.updated, forced.unchanged, forced.quarantined) == (0, 0, 3, 1)
    assert forced.import_id != first.import_id and not forced.skipped
    after = snapshot(org, (work_items, flow_hourly, kpi_hourly))
    assert after == {t: before[t] for t in after}  # versions, editors and rollups untouched
    assert [r["status"] for r in import_rows(org)] == ["quarantined", "quarantined"]


def test_an_overlapping_extract_counts_inserted_updated_and_unchanged_exactly(org, tmp_path):
    first = [wi("A"), wi("B"), wi("C", value="10"), wi("D", status="resolved", resolved_at="2026-11-20 12:00"),
             wi("E"), wi("F", target_unit="finance", kind="report")]
    load(org, write_csv(tmp_path, "monday.csv", first), now=NOW)
    assert_rollups_equal_a_rebuild(org)
    second = [
        wi("A"),  # same
        wi("B", status="resolved", accepted_at="2026-11-20 09:30", resolved_at="2026-11-20 13:00"),  # routed -> resolved
        wi("C", value="12.5"),  # value changed
        wi("D", status="handed_back"),  # resolved -> handed back: the resolution leaves the rollup
        wi("E", created_at="2026-11-19 22:00", routed_at="", target_unit="finance"),  # another hour and route
        wi("F", target_unit="finance", kind="report"),  # same
        wi("G"), wi("H", status="resolved", resolved_at="2026-11-21 09:00"),  # new
    ]
    report = load(org, write_csv(tmp_path, "tuesday.csv", second), now=NOW + dt.timedelta(days=1))
    assert (report.inserted, report.updated, report.unchanged, report.quarantined) == (2, 4, 2, 0)
    items = stored_items(org)
    assert {k: v["version"] for k, v in items.items()} == dict(A=1, B=2, C=2, D=2, E=2, F=1, G=1, H=1)
    assert items["B"]["status"] == "resolved" and items["B"]["resolved_at"] == dt.datetime(2026, 11, 20, 12, tzinfo=UTC)
    assert items["D"]["resolved_at"] is None and items["E"]["target_unit"] == "finance"
    assert items["B"]["updated_by"] == f"import #{report.import_id}"
    assert items["B"]["updated_at"] == NOW + dt.timedelta(days=1) and items["A"]["updated_at"] == NOW
    assert items["E"]["due_at"] == dt.datetime(2026, 11, 19, 21, tzinfo=UTC) + dt.timedelta(hours=24)
    with org.connect() as conn:
        resolved = conn.execute(select(func.sum(flow_hourly.c.resolved))).scalar_one()
    assert resolved == 2  # B and H; D no longer
    assert_rollups_equal_a_rebuild(org)


def test_a_changed_kpi_observation_value_is_updated_and_the_rollup_follows(org, tmp_path):
    first = [dict(kpi_id="revenue", ts="2026-11-20 09:10", value="100"),
             dict(kpi_id="revenue", ts="2026-11-20 09:40", value="200"),  # the hour's latest
             dict(kpi_id="cost", ts="2026-11-20 09:10", value="5")]
    load(org, write_csv(tmp_path, "obs1.csv", first))
    second = [dict(kpi_id="revenue", ts="2026-11-20 09:10", value="150"),  # changed, not the latest
              dict(kpi_id="revenue", ts="2026-11-20T08:40:00Z", value="250"),  # changed, the latest (other spelling)
              dict(kpi_id="cost", ts="2026-11-20 09:10", value="5"),  # same
              dict(kpi_id="cost", ts="2026-11-20 10:10", value="6")]  # new
    report = load(org, write_csv(tmp_path, "obs2.csv", second))
    assert (report.inserted, report.updated, report.unchanged) == (1, 2, 1)
    with org.connect() as conn:
        hour = conn.execute(select(kpi_hourly).where(kpi_hourly.c.kpi_id == "revenue")).mappings().one()
    assert (hour["n"], hour["sum"], hour["last_value"]) == (2, 400.0, 250.0)
    assert_rollups_equal_a_rebuild(org)


def test_kpi_observations_are_stored_at_the_instants_in_the_file(org, tmp_path):
    rows = [dict(kpi_id="revenue", ts="2026-11-16", value="38250"),
            dict(kpi_id="revenue", ts="2026-11-16T18:00:00+01:00", value="1"),
            dict(kpi_id="cost", ts="2026-07-01 12:00", value="2.5")]
    report = load(org, write_csv(tmp_path, "obs.csv", rows))
    assert report.inserted == 3
    with org.connect() as conn:
        stored = conn.execute(select(kpi_observations.c.kpi_id, kpi_observations.c.ts, kpi_observations.c.value)
                              .order_by(kpi_observations.c.kpi_id, kpi_observations.c.ts)).all()
        hours = conn.execute(select(kpi_hourly.c.kpi_id, kpi_hourly.c.hour).order_by(kpi_hourly.c.kpi_id,
                                                                                     kpi_hourly.c.hour)).all()
    want = [("cost", dt.datetime(2026, 7, 1, 10, tzinfo=UTC), 2.5),
            ("revenue", dt.datetime(2026, 11, 15, 23, tzinfo=UTC), 38250.0),
            ("revenue", dt.datetime(2026, 11, 16, 17, tzinfo=UTC), 1.0)]
    assert [tuple(r) for r in stored] == want
    assert [tuple(h) for h in hours] == [(k, int(ts.timestamp()) // 3600) for k, ts, _ in want]
    again = load(org, write_csv(tmp_path, "obs.csv", rows), force=True)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)


def test_reference_data_upserts_count_and_update_in_place(org, tmp_path):
    first = [dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="5000", spend="4820",
                  leads="210", conversions="26", revenue="31200"),
             dict(channel="email", period_start="2026-11-02", period_end="2026-11-08", budget="800", spend="760",
                  leads="95", conversions="13", revenue="12900")]
    load(org, write_csv(tmp_path, "c1.csv", first))
    second = [first[0], dict(first[1], spend="790"),
              dict(first[0], period_start="2026-11-09", period_end="2026-11-15")]
    report = load(org, write_csv(tmp_path, "c2.csv", second))
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 1)
    with org.connect() as conn:
        assert conn.execute(select(campaigns.c.spend).where(campaigns.c.channel == "email")).scalar_one() == 790
        assert conn.execute(select(func.count()).select_from(campaigns)).scalar_one() == 3
    units_file = write_csv(tmp_path, "u.csv", [dict(id="sales", name="Sales EMEA", kind="spoke", headcount="20",
                                                    cost_per_fte="70000"),
                                               dict(id="hub", name="Marketing hub", kind="hub", headcount="12",
                                                    cost_per_fte="80000")])
    report = load(org, units_file)
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    with org.connect() as conn:  # columns the file does not have (sort_order) keep their values
        assert conn.execute(select(units.c.name, units.c.sort_order).where(units.c.id == "sales")).one() == (
            "Sales EMEA", 1)


def test_a_file_without_the_text_column_does_not_blank_stored_text(org, tmp_path):
    load(org, write_csv(tmp_path, "full.csv", [wi("WI-1", text="keep me"), wi("WI-2", text="me too")]))
    columns = [c for c in ITEM_COLUMNS if c not in ("text", "topic")]
    report = load(org, write_csv(tmp_path, "slim.csv",
                                 [wi("WI-1"), wi("WI-2", status="resolved", resolved_at="2026-11-20 11:00")], columns))
    assert (report.updated, report.unchanged) == (1, 1)
    items = stored_items(org)
    assert (items["WI-1"]["text"], items["WI-2"]["text"]) == ("keep me", "me too")
    assert (items["WI-1"]["topic"], items["WI-2"]["topic"]) == ("pricing", "pricing")
    assert (items["WI-1"]["version"], items["WI-2"]["version"], items["WI-2"]["status"]) == (1, 2, "resolved")
    assert_rollups_equal_a_rebuild(org)


def test_a_dry_run_writes_nothing_and_reports_what_the_real_run_then_does(org, tmp_path):
    load(org, write_csv(tmp_path, "base.csv", [wi("A"), wi("B"), wi("C")]))
    path = write_csv(tmp_path, "next.csv", [wi("A"), wi("B", value="5"), wi("D"), wi("E", sla_hours="abc"), wi("D")])
    before = snapshot(org)
    dry = load(org, path, dry_run=True)
    assert dry.dry_run and dry.import_id is None and "nothing was written" in dry.summary()
    assert snapshot(org) == before
    real = load(org, path)
    counts = lambda r: (r.rows_read, r.inserted, r.updated, r.unchanged, r.quarantined, r.formula_cells)  # noqa: E731
    assert counts(dry) == counts(real) == (5, 1, 1, 1, 2, 0)
    assert [str(p) for p in dry.problems] == [str(p) for p in real.problems]
    assert dry.warnings == real.warnings


# --- quarantine -----------------------------------------------------------------------------------------------


def test_quarantine_rows_keep_the_row_number_the_original_cells_and_the_reasons(org, tmp_path):
    header = {"id": "Ticket ID", "created_at": "Created At", "sla_hours": "SLA hours"}
    rows = [{header.get(k, k): v for k, v in r.items()} for r in
            [wi("T-1"), wi("T-2", sla_hours="abc", target_unit="nowhere"), wi("T-3")]]
    path = write_csv(tmp_path, "crm export.csv", rows)
    report = load(org, path, mapping={"Ticket ID": "id"})
    (q,) = quarantined(org)
    assert (q["import_id"], q["kind"], q["row_number"], q["row_key"], q["status"], q["fixed_by_import"]) == (
        report.import_id, "work_items", 3, "T-2", "open", None)
    raw = json.loads(q["raw"])
    assert list(raw) == list(rows[1])  # the file's own column names, in the file's order
    assert raw == rows[1]
    assert q["reasons"] == "sla_hours: not a number; target_unit: unknown unit (load it with the units first)"
    assert report.problems[0].values == {"target_unit": "nowhere", "SLA hours": "abc"}


def test_reimporting_a_fixed_row_marks_its_quarantine_row_fixed(org, tmp_path):
    first = load(org, write_csv(tmp_path, "mon.csv", [wi("WI-1"), wi("WI-2", sla_hours="abc"),
                                                      wi("WI-3", target_unit="nowhere")]))
    second = load(org, write_csv(tmp_path, "tue.csv", [wi("WI-2"), wi("WI-4", value="-1")]))
    assert (second.inserted, second.quarantined) == (1, 1)
    rows = {(r["import_id"], r["row_key"]): r for r in quarantined(org)}
    assert (rows[first.import_id, "WI-2"]["status"], rows[first.import_id, "WI-2"]["fixed_by_import"]) == (
        "fixed", second.import_id)
    assert (rows[first.import_id, "WI-3"]["status"], rows[first.import_id, "WI-3"]["fixed_by_import"]) == ("open", None)
    assert (rows[second.import_id, "WI-4"]["status"], rows[second.import_id, "WI-4"]["fixed_by_import"]) == ("open", None)
    assert "WI-2" in stored_items(org)


@SQLITE_ONLY
def test_a_fixed_kpi_observation_marks_its_quarantine_row_fixed_whatever_the_spelling(org, tmp_path):
    first = load(org, write_csv(tmp_path, "o1.csv", [dict(kpi_id="revenue", ts="2026-11-20 09:00", value="n/a")]))
    second = load(org, write_csv(tmp_path, "o2.csv", [dict(kpi_id="revenue", ts="2026-11-20T08:00:00Z", value="7")]))
    (q,) = quarantined(org)
    assert (q["import_id"], q["status"], q["fixed_by_import"]) == (first.import_id, "fixed", second.import_id)


@SQLITE_ONLY
def test_a_dry_run_does_not_mark_quarantine_rows_fixed(org, tmp_path):
    load(org, write_csv(tmp_path, "mon.csv", [wi("WI-1", sla_hours="abc")]))
    load(org, write_csv(tmp_path, "tue.csv", [wi("WI-1")]), dry_run=True)
    assert [r["status"] for r in quarantined(org)] == ["open"]


@SQLITE_ONLY
def test_the_errors_sample_quarantines_exactly_its_bad_rows(org, tmp_path):
    with org.begin() as conn:  # the sample also routes to customer service
        conn.execute(units.insert().values(id="customer_service", name="CS", kind="spoke", headcount=1,
                                           cost_per_fte=1, sort_order=3))
    report = load(org, SAMPLES / "work_items_with_errors.csv")
    assert (report.rows_read, report.inserted, report.quarantined) == (9, 2, 7)
    assert_quarantined(org, report, "work_items_with_errors.csv", {
        3: "target_unit: unknown unit", 4: "created_at: not an ISO 8601", 5: "resolved_at: before created_at",
        6: "value: must be ≥ 0", 7: "kind: not one of", 8: "id: duplicate of row 2", 9: "id: only letters",
    }, {"WI-2001", "WI-2009"})


# --- who may import -----------------------------------------------------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize("viewer", [
    Viewer("sam", Role.SPOKE_LEAD, unit="sales"), Viewer("eve", Role.EXECUTIVE), Viewer("nobody", Role.NONE), None,
], ids=["spoke_lead", "executive", "no_role", "no_viewer"])
def test_only_hub_leads_and_admins_may_import(org, tmp_path, viewer):
    path = write_csv(tmp_path, "items.csv", [wi("WI-1")])
    before = snapshot(org)
    with pytest.raises(NotPermitted):
        ingest(org, path, viewer=viewer, tz=BERLIN)
    with pytest.raises(NotPermitted):
        ingest(org, path, viewer=viewer, tz=BERLIN, dry_run=True)
    assert snapshot(org) == before
    report = ingest(org, path, viewer=Viewer("hana", Role.HUB_LEAD), tz=BERLIN)
    assert report.inserted == 1 and import_rows(org)[0]["imported_by"] == "hana"


# --- the command line ------------------------------------------------------------------------------------------------


def test_cli_imports_the_clean_samples_in_kind_order_whatever_order_they_are_given(env, capsys, db_url, engine):
    names = ["work_items.csv", "kpi_observations.csv", "campaigns.csv", "kpis.csv", "units.csv"]
    assert main(["ingest", "--database-url", db_url, *[str(SAMPLES / n) for n in names]]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [ln.split(" ")[0] for ln in lines] == ["units.csv", "kpis.csv", "campaigns.csv", "kpi_observations.csv",
                                                  "work_items.csv"]
    assert all("quarantined 0" in ln for ln in lines), out
    assert "warning: work_items.csv: 2 free-text cell(s)" in err  # =HYPERLINK(...) and @brand
    assert [count(engine, t) for t in (units, kpis, campaigns, kpi_observations, work_items, quarantine)] == [
        4, 5, 6, 15, 10, 0]
    assert [(r["kind"], r["status"]) for r in import_rows(engine)] == [
        ("units", "ok"), ("kpis", "ok"), ("campaigns", "ok"), ("kpi_observations", "ok"), ("work_items", "ok")]
    assert_rollups_equal_a_rebuild(engine)
    # run again: every file is skipped, exit 0
    assert main(["ingest", "--database-url", db_url, *[str(SAMPLES / n) for n in names]]) == 0
    assert capsys.readouterr().out.count("already imported") == 5


def test_cli_exit_code_1_for_quarantined_rows_unless_allowed(env, capsys, db_url, engine):
    assert main(["ingest", "--database-url", db_url, str(SAMPLES / "units.csv")]) == 0
    errors = str(SAMPLES / "work_items_with_errors.csv")
    assert main(["ingest", "--database-url", db_url, "--allow-quarantine", errors]) == 0
    out, err = capsys.readouterr()
    assert "quarantined 7" in out
    assert "quarantined: work_items_with_errors.csv row 3: target_unit: unknown unit" in err
    assert main(["ingest", "--database-url", db_url, "--force", "--show", "2", errors]) == 1
    out, err = capsys.readouterr()
    assert "quarantined 7" in out and err.count("quarantined: work_items_with_errors.csv row") == 2
    assert "5 more" in err
    assert count(engine, work_items) == 2


@SQLITE_ONLY
def test_cli_exit_code_2_with_one_error_line_for_an_empty_file(env, capsys, db_url, engine, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(["ingest", "--database-url", db_url, str(empty)]) == 2
    out, err = capsys.readouterr()
    assert err.startswith("error: empty.csv:") and err.count("\n") == 1 and out == ""
    # the other files of the same run are still imported
    assert main(["ingest", "--database-url", db_url, str(empty), str(SAMPLES / "units.csv")]) == 2
    assert count(engine, units) == 4


@SQLITE_ONLY
def test_cli_dry_run_prints_dry_run_and_writes_nothing(env, capsys, db_url, engine):
    before = snapshot(engine)
    assert main(["ingest", "--database-url", db_url, "--dry-run", str(SAMPLES / "units.csv")]) == 0
    out = capsys.readouterr().out
    assert "dry run" in out and "would import" in out and "inserted 4" in out
    assert snapshot(engine) == before


@SQLITE_ONLY
def test_cli_maps_columns_and_reads_the_given_delimiter_and_kind(env, capsys, db_url, engine, tmp_path):
    path = tmp_path / "obs.txt"
    path.write_text("KPI;when;amount\nrevenue;2026-11-20T08:00:00Z;5\n")
    with engine.begin() as conn:
        tiny_org(conn)
    args = ["ingest", "--database-url", db_url, "--kind", "kpi_observations", "--delimiter", ";",
            "--map", "KPI=kpi_id", "--map", "when=ts", "--map", "amount=value", str(path)]
    assert main(args) == 0, capsys.readouterr().err
    assert count(engine, kpi_observations) == 1
    assert main(["ingest", "--database-url", db_url, "--map", "no-equals-sign", str(path)]) == 2
    assert "error: --map 'no-equals-sign'" in capsys.readouterr().err


@SQLITE_ONLY
def test_cli_takes_every_kind_of_the_contract(env, capsys, db_url, engine, tmp_path):
    from dashboard.ingest.contract import KINDS
    from loaders import __main__ as cli

    assert set(cli.KINDS) == set(KINDS)
    path = tmp_path / "conversions.txt"  # a name that says nothing: the kind comes from --kind
    path.write_text("id,started_at,converted_at,revenue\nJ-1,2026-11-20T08:00:00Z,2026-11-21T09:00:00Z,120\n")
    with engine.begin() as conn:
        tiny_org(conn)
    assert main(["ingest", "--database-url", db_url, "--kind", "journeys", str(path)]) == 0, capsys.readouterr().err
    assert count(engine, journeys) == 1


def test_a_big_first_import_builds_the_indexes_afterwards_and_quarantines_as_usual(org, engine, tmp_path, monkeypatch):
    from dashboard import store
    from dashboard.services import imports as ingest_module

    monkeypatch.setattr(store.bulk, "BULK_INDEX_ROWS", 2)
    monkeypatch.setattr(ingest_module, "BYTES_PER_ROW", 1)  # every file counts as big
    deferred = []
    real = store.deferred_indexes

    def spy(conn, table, rows):
        cm = real(conn, table, rows)
        deferred.append(table.name)
        return cm

    monkeypatch.setattr(store, "deferred_indexes", spy)
    rows = [wi(f"w{i}") for i in range(30)] + [wi("bad", sla_hours="-1"), wi("w3", text="repeat")]
    report = load(engine, write_csv(tmp_path, "big.csv", rows), chunk_rows=7)
    assert deferred == ["work_items"]
    assert (report.inserted, report.quarantined) == (30, 2)
    with engine.connect() as conn:
        from sqlalchemy import inspect

        assert {"ix_work_items_open", "ix_work_items_created", "ix_work_items_resolved"} <= {
            ix["name"] for ix in inspect(conn).get_indexes("work_items")}
        assert_rollups_match_rebuild(conn)
    assert set(stored_items(engine)) == {f"w{i}" for i in range(30)}


# --- routing rules: items without a target -----------------------------------------------------------------

INGEST_RULES = {
    "rules": [
        {"id": "jobs", "name": "Jobs to finance", "kinds": ["mention"], "keywords": ["hiring"],
         "target_unit": "finance", "priority": "low", "sla_hours": 48},
        {"id": "leads", "name": "Leads to sales", "kinds": ["lead"], "target_unit": "sales", "priority": "high"},
    ],
    "default": {"target_unit": None},
}


def _publish(engine, rules=INGEST_RULES):
    from dashboard.db import routing_rule_sets

    with engine.begin() as conn:
        conn.execute(routing_rule_sets.insert().values(
            status="active", name="Ingest rules", rules=rules, version=1, created_by="t", created_at=NOW,
            updated_by="t", updated_at=NOW, published_by="t", published_at=NOW))


def _unrouted_file(tmp_path, name="routing.csv"):
    rows = [
        wi("R-1", kind="mention", target_unit="", text="Are you HIRING?", status="new", routed_at=""),
        wi("R-2", target_unit="", routed_at="", status="new", priority="low", segment="vip", journey_id="J-1"),
        wi("R-3", kind="mention", target_unit="", text="Love the ad", status="new", routed_at=""),
        wi("R-4", kind="lead", target_unit="", status="resolved", routed_at="", resolved_at="2026-11-20 12:00"),
        wi("R-5", source_unit="sales", target_unit="", kind="request"),  # from a spoke: it must say where
        wi("R-6"),  # a target given: as before
    ]
    return write_csv(tmp_path, name, rows, [*ITEM_COLUMNS, "segment", "priority", "journey_id"])


def test_items_without_a_target_are_routed_by_the_active_rules_and_counted(org, tmp_path):
    _publish(org)
    report = load(org, _unrouted_file(tmp_path))
    assert (report.inserted, report.quarantined, report.routed_by_rules, report.unrouted) == (5, 1, 3, 1)
    assert "3 routed by rules, 1 left unrouted" in report.summary()
    assert not any("routed by rules" in w for w in report.warnings)  # news in the summary, not a warning
    (bad,) = quarantined(org)
    assert bad["row_number"] == 6 and bad["reasons"].startswith("target_unit: missing; only items from the hub")
    items = stored_items(org)
    created = dt.datetime(2026, 11, 20, 8, tzinfo=UTC)  # 09:00 in Berlin
    r1 = items["R-1"]
    assert (r1["target_unit"], r1["rule_id"], r1["priority"], r1["status"], r1["sla_hours"]) == (
        "finance", "jobs", "low", "routed", 48)
    assert r1["routed_at"] == created and r1["due_at"] == created + dt.timedelta(hours=48)
    r2 = items["R-2"]
    assert (r2["target_unit"], r2["rule_id"], r2["priority"], r2["segment"], r2["journey_id"]) == (
        "sales", "leads", "low", "vip", "J-1")  # the file's priority wins over the rule's
    r3 = items["R-3"]
    assert (r3["target_unit"], r3["status"], r3["rule_id"], r3["routed_at"]) == ("hub", "new", None, None)
    assert (items["R-4"]["target_unit"], items["R-4"]["status"]) == ("sales", "resolved")
    assert (items["R-6"]["target_unit"], items["R-6"]["rule_id"]) == ("sales", None)
    assert_rollups_equal_a_rebuild(org)
    again = load(org, _unrouted_file(tmp_path), force=True)  # routed at creation: the same rows again
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)


def test_without_an_active_rule_set_items_without_a_target_wait_unrouted_at_the_hub(org, tmp_path):
    report = load(org, _unrouted_file(tmp_path))
    assert (report.inserted, report.quarantined, report.routed_by_rules, report.unrouted) == (5, 1, 0, 4)
    assert any("no routing rule set is active: 4 item(s)" in w for w in report.warnings)
    items = stored_items(org)
    assert {i: items[i]["target_unit"] for i in ("R-1", "R-2", "R-3", "R-4")} == dict.fromkeys(
        ("R-1", "R-2", "R-3", "R-4"), "hub")
    assert items["R-1"]["status"] == "new" and items["R-4"]["status"] == "resolved"
    assert_rollups_equal_a_rebuild(org)
    # once a rule set is published, the waiting ones are routed (the simulator does this every batch)
    from dashboard.services import autoroute

    _publish(org)
    with org.begin() as conn:
        assert autoroute.route_waiting(conn, NOW) == 2  # R-1 (jobs) and R-2 (lead); R-3 matches nothing
    items = stored_items(org)
    assert (items["R-1"]["target_unit"], items["R-2"]["target_unit"], items["R-3"]["target_unit"]) == (
        "finance", "sales", "hub")
    assert_rollups_equal_a_rebuild(org)


@SQLITE_ONLY
def test_a_file_without_a_target_column_is_routed_and_bad_optional_values_are_quarantined(org, tmp_path):
    _publish(org)
    columns = [c for c in ITEM_COLUMNS if c != "target_unit"] + ["priority", "segment"]
    rows = [wi("T-1", status="new", routed_at=""), wi("T-2", priority="urgent"), wi("T-3", segment="=vip")]
    report = load(org, write_csv(tmp_path, "no_target.csv", rows, columns))
    assert (report.inserted, report.quarantined, report.routed_by_rules) == (1, 2, 1)
    reasons = sorted(q["reasons"] for q in quarantined(org))
    assert reasons[0].startswith("priority: not one of high, normal, low") and reasons[1].startswith("segment:")
    assert stored_items(org)["T-1"]["target_unit"] == "sales"


def test_the_routing_sample_waits_unrouted_without_rules_and_is_routed_by_the_demos_rules(org, tmp_path):
    from loaders.demo import STANDARD_RULES

    assert load(org, SAMPLES / "units.csv").inserted >= 1
    sample = SAMPLES / "work_items_to_route.csv"
    report = load(org, sample, dry_run=True)
    assert (report.inserted, report.routed_by_rules, report.unrouted, report.quarantined) == (7, 0, 6, 0)
    _publish(org, STANDARD_RULES)
    report = load(org, sample)
    assert (report.inserted, report.routed_by_rules, report.unrouted, report.quarantined) == (7, 4, 2, 0)
    items = stored_items(org)
    assert {i: (items[i]["target_unit"], items[i]["rule_id"], items[i]["priority"]) for i in (
        "WI-3001", "WI-3002", "WI-3003", "WI-3004", "WI-3005", "WI-3006")} == {
        "WI-3001": ("sales", "purchase-intent", "high"),
        "WI-3002": ("sales", "leads", "normal"),
        "WI-3003": ("customer_service", "complaint-mentions", "high"),
        "WI-3004": ("customer_service", "complaints", "normal"),
        "WI-3005": ("hub", None, "low"),  # the jobs rule sends it to HR, which this organisation does not have
        "WI-3006": ("hub", None, None),  # no rule matches
    }
    assert items["WI-3001"]["journey_id"] == items["WI-3002"]["journey_id"] == "J-501"
    assert_rollups_equal_a_rebuild(org)


@SQLITE_ONLY
def test_an_invalid_active_rule_set_leaves_items_unrouted_with_a_warning_naming_the_problem(org, tmp_path):
    _publish(org, {"rules": [{"id": "x", "name": "broken", "pattern": "(a+)+", "target_unit": "sales"}]})
    report = load(org, _unrouted_file(tmp_path))
    assert (report.inserted, report.routed_by_rules, report.unrouted) == (5, 0, 4)
    assert any("the active routing rule set is not valid" in w and "rule 'x': pattern" in w for w in report.warnings)
    assert stored_items(org)["R-2"]["target_unit"] == "hub"


# --- customer journeys --------------------------------------------------------------------------------------------

from dashboard.db import journeys  # noqa: E402
from dashboard.queries.attribution import journey_paths  # noqa: E402

JOURNEY_COLUMNS = ["id", "started_at", "converted_at", "revenue"]


def jr(id: str, **cells) -> dict[str, str]:
    """A valid journey row as CSV cells (started, not converted); override any cell."""
    return {"id": id, "started_at": "2026-11-19 09:00", "converted_at": "", "revenue": "", **cells}


def stored_journeys(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        return {r.id: (r.started_at, r.converted_at, r.revenue) for r in conn.execute(select(journeys))}


def test_journeys_import_then_reimport_unchanged_then_changed_rows_updated(org, tmp_path):
    rows = [jr("J-1", converted_at="2026-11-21 15:30", revenue="4800"), jr("J-2"),
            jr("J-3", started_at="2026-11-20T08:00:00Z", converted_at="2026-11-20T10:00:00+01:00", revenue="0")]
    first = load(org, write_csv(tmp_path, "journeys.csv", rows))
    assert (first.kind, first.rows_read, first.inserted, first.updated, first.unchanged, first.quarantined) == (
        "journeys", 3, 3, 0, 0, 0)
    assert "journeys.csv (journeys): imported — rows read 3, inserted 3, updated 0, unchanged 0, quarantined 0" in (
        first.summary())
    assert stored_journeys(org) == {
        "J-1": (dt.datetime(2026, 11, 19, 8, tzinfo=UTC), dt.datetime(2026, 11, 21, 14, 30, tzinfo=UTC), 4800.0),
        "J-2": (dt.datetime(2026, 11, 19, 8, tzinfo=UTC), None, 0.0),  # not converted: revenue 0
        "J-3": (dt.datetime(2026, 11, 20, 8, tzinfo=UTC), dt.datetime(2026, 11, 20, 9, tzinfo=UTC), 0.0),
    }
    before = snapshot(org, (journeys,))
    again = load(org, write_csv(tmp_path, "journeys.csv", rows), force=True)
    assert (again.inserted, again.updated, again.unchanged, again.quarantined) == (0, 0, 3, 0)
    assert snapshot(org, (journeys,)) == before
    # the next extract: J-2 converted since, J-1's revenue corrected, J-3 the same (other spellings), J-4 new
    later = [jr("J-1", converted_at="2026-11-21 15:30", revenue="5100.5"),
             jr("J-2", converted_at="2026-11-22 11:00", revenue="900"),
             jr("J-3", started_at="2026-11-20 09:00", converted_at="2026-11-20 10:00", revenue=""),
             jr("J-4", started_at="2026-11-22 18:00")]
    report = load(org, write_csv(tmp_path, "journeys-2.csv", later))
    assert (report.inserted, report.updated, report.unchanged, report.quarantined) == (1, 2, 1, 0)
    got = stored_journeys(org)
    assert got["J-1"][2] == 5100.5 and got["J-2"][1:] == (dt.datetime(2026, 11, 22, 10, tzinfo=UTC), 900.0)
    assert got["J-4"] == (dt.datetime(2026, 11, 22, 17, tzinfo=UTC), None, 0.0)
    assert [(r["kind"], r["status"], r["inserted"], r["updated"], r["unchanged"]) for r in import_rows(org)] == [
        ("journeys", "ok", 3, 0, 0), ("journeys", "ok", 0, 0, 3), ("journeys", "ok", 1, 2, 1)]


def test_bad_journeys_are_quarantined_with_their_reasons_and_the_good_ones_imported(org, tmp_path):
    rows = [jr("J-1", converted_at="2026-11-21 15:30", revenue="4800"),
            jr("J-2", converted_at="2026-11-18 09:00"),  # converted before it started
            jr("J-3", converted_at="2026-11-21 15:30", revenue="-20"),
            jr("J-4", revenue="300"),  # revenue without a conversion
            jr("J-5", started_at="19/11/2026"),
            jr("J-1", revenue="0"),  # a repeated id
            jr("J-6")]
    report = load(org, write_csv(tmp_path, "bad journeys.csv", rows))
    assert (report.rows_read, report.inserted, report.quarantined, report.status) == (7, 2, 5, "quarantined")
    assert set(stored_journeys(org)) == {"J-1", "J-6"}
    got = {q["row_number"]: (q["kind"], q["row_key"], q["reasons"]) for q in quarantined(org)}
    assert got == {
        3: ("journeys", "J-2", "converted_at: before started_at"),
        4: ("journeys", "J-3", "revenue: must be ≥ 0"),
        5: ("journeys", "J-4", "converted_at: missing for a journey with revenue (only a converted journey has "
                               "revenue: give converted_at, or leave revenue empty or 0)"),
        6: ("journeys", "J-5", "started_at: not an ISO 8601 timestamp such as 2026-11-23 10:30 or "
                               "2026-11-23T10:30:00+01:00"),
        7: ("journeys", "J-1", "id: duplicate of row 2 in the same file (the first one was imported)"),
    }
    assert str(report.problems[2]).startswith("row 5: converted_at: missing for a journey with revenue")
    assert report.problems[2].values == {"converted_at": ""}
    # the fixed rows, imported again, mark their quarantine rows fixed
    fixed = load(org, write_csv(tmp_path, "fixed.csv", [jr("J-2", converted_at="2026-11-20 09:00"),
                                                        jr("J-4", converted_at="2026-11-20 12:00", revenue="300")]))
    assert (fixed.inserted, fixed.quarantined) == (2, 0)
    assert {q["row_key"]: q["status"] for q in quarantined(org)} == {
        "J-2": "fixed", "J-3": "open", "J-4": "fixed", "J-5": "open", "J-1": "open"}


@SQLITE_ONLY
def test_a_journeys_file_without_revenue_keeps_the_stored_revenue_and_a_dry_run_writes_nothing(org, tmp_path):
    load(org, write_csv(tmp_path, "full.csv", [jr("J-1", converted_at="2026-11-21 15:30", revenue="4800")]))
    slim = write_csv(tmp_path, "slim.csv", [jr("J-1", converted_at="2026-11-21 16:00"), jr("J-2")],
                     ["id", "started_at", "converted_at"])
    before = snapshot(org, (journeys, quarantine))
    dry = load(org, slim, dry_run=True)
    assert (dry.inserted, dry.updated, dry.unchanged, dry.import_id) == (1, 1, 0, None)
    assert snapshot(org, (journeys, quarantine)) == before
    report = load(org, slim)
    assert (report.inserted, report.updated, report.unchanged) == (1, 1, 0)
    assert stored_journeys(org)["J-1"] == (dt.datetime(2026, 11, 19, 8, tzinfo=UTC),
                                           dt.datetime(2026, 11, 21, 15, tzinfo=UTC), 4800.0)


def test_journeys_across_chunks_and_batches_count_exactly_and_find_duplicates(org, tmp_path, monkeypatch):
    import dashboard.services.imports as ingest_module

    monkeypatch.setattr(ingest_module, "JOURNEY_BATCH", 2)  # several compare / write batches per chunk
    rows = [jr(f"J-{i}", converted_at="2026-11-20 09:00" if i % 2 else "", revenue=str(100 * i) if i % 2 else "")
            for i in range(1, 8)]
    first = load(org, write_csv(tmp_path, "j1.csv", rows), chunk_rows=3)
    assert (first.inserted, first.quarantined) == (7, 0)
    changed = [dict(r) for r in rows] + [jr("J-2", revenue="0")]  # the repeat is in a later chunk
    changed[3]["revenue"] = "450"  # J-4: not converted, so quarantined ...
    changed[3]["converted_at"] = "2026-11-21 09:00"  # ... unless it converted: an update
    changed[5]["started_at"] = "2026-11-19 08:00"  # J-6 started an hour earlier
    report = load(org, write_csv(tmp_path, "j2.csv", changed), chunk_rows=3)
    assert (report.rows_read, report.inserted, report.updated, report.unchanged, report.quarantined) == (8, 0, 2, 5, 1)
    assert [q["reasons"] for q in quarantined(org)] == ["id: duplicate of row 3 in the same file (the first one was imported)"]
    got = stored_journeys(org)
    assert got["J-4"] == (dt.datetime(2026, 11, 19, 8, tzinfo=UTC), dt.datetime(2026, 11, 21, 8, tzinfo=UTC), 450.0)
    assert got["J-6"][0] == dt.datetime(2026, 11, 19, 7, tzinfo=UTC) and got["J-7"][2] == 700.0


@SQLITE_ONLY
def test_journeys_are_found_by_their_header_and_an_id_alone_does_not_make_a_journeys_file(org, tmp_path):
    path = write_csv(tmp_path, "crm.csv", [{"Journey": "J-1", "Started At": "2026-11-19 09:00", "Won At": ""}])
    report = load(org, path, mapping={"Journey": "id", "Won At": "converted_at"})
    assert (report.kind, report.inserted) == ("journeys", 1)
    mystery = tmp_path / "ids.csv"
    mystery.write_text("id,colour\nJ-1,red\n")
    with pytest.raises(IngestError, match=r"ids\.csv: cannot tell .*--kind"):
        load(org, mystery)


def _journey_items(tmp_path: Path) -> Path:
    """Items of journey J-1 (hub -> sales -> finance, then a complaint after the conversion), of J-2 (sales)
    and of J-9, a journey whose file never comes."""
    rows = [wi("A-1", target_unit="hub", status="new", routed_at="", created_at="2026-11-19 10:00", journey_id="J-1"),
            wi("A-2", created_at="2026-11-19 12:00", journey_id="J-1"),
            wi("A-3", source_unit="sales", target_unit="finance", kind="request", created_at="2026-11-20 09:00",
               journey_id="J-1"),
            wi("A-4", kind="complaint", created_at="2026-11-22 09:00", journey_id="J-1"),
            wi("B-1", created_at="2026-11-19 11:00", journey_id="J-2"),
            wi("C-1", created_at="2026-11-19 11:00", journey_id="J-9"),
            wi("D-1", created_at="2026-11-19 11:00")]
    return write_csv(tmp_path, "items.csv", rows, [*ITEM_COLUMNS, "journey_id"])


def test_items_and_journeys_imported_in_either_order_feed_attribution(org, tmp_path):
    start, end = dt.datetime(2026, 11, 18, tzinfo=UTC), dt.datetime(2026, 11, 23, tzinfo=UTC)
    items = load(org, _journey_items(tmp_path))
    assert (items.inserted, items.quarantined) == (7, 0)  # journeys not loaded yet: the items are kept
    assert any("items.csv: work items name 3 journey(s) that are not loaded (yet)" in w for w in items.warnings)
    with org.connect() as conn:
        assert journey_paths(conn, LOCAL_ADMIN, start, end).empty  # no journeys: nothing to attribute
    rows = [jr("J-1", converted_at="2026-11-21 15:30", revenue="4800"), jr("J-2", started_at="2026-11-19 10:30")]
    assert load(org, write_csv(tmp_path, "journeys.csv", rows)).inserted == 2
    with org.connect() as conn:
        paths = journey_paths(conn, LOCAL_ADMIN, start, end)
    assert paths.to_dict("records") == [
        {"journey_id": "J-1", "converted": True, "revenue": 4800.0, "path": ("hub", "sales", "finance")},
        {"journey_id": "J-2", "converted": False, "revenue": 0.0, "path": ("sales",)},
    ]  # J-9 has items but no journey row: left out; A-4 came after the conversion
    from dashboard.domain import attribution

    credit = attribution.last_touch(paths).set_index("team")
    assert credit.loc["finance", "revenue"] == 4800.0
    again = load(org, _journey_items(tmp_path), force=True)  # items again, after their journeys
    assert (again.unchanged, again.quarantined) == (7, 0)
    assert any("name 1 journey(s) that are not loaded" in w for w in again.warnings)  # J-9 only


@SQLITE_ONLY
def test_cli_loads_journeys_with_the_work_items_after_the_reference_data(env, capsys, db_url, engine):
    names = ["work_items_to_route.csv", "journeys.csv", "units.csv"]
    assert main(["ingest", "--database-url", db_url, *[str(SAMPLES / n) for n in names]]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(" ")[0] for ln in lines] == ["units.csv", "journeys.csv", "work_items_to_route.csv"]
    assert "journeys.csv (journeys): imported — rows read 4, inserted 4, updated 0, unchanged 0, quarantined 0" in lines[1]
    with engine.connect() as conn:
        paths = journey_paths(conn, LOCAL_ADMIN, dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2026, 12, 1, tzinfo=UTC))
    j501 = paths.set_index("journey_id").loc["J-501"]
    assert (j501.converted, j501.revenue, j501.path) == (True, 1400.0, ("hub", "hub"))  # both wait unrouted at the hub
