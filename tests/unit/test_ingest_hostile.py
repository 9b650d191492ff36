"""Hostile import files, judged row by row on SQLite and PostgreSQL alike.

Times outside what the databases store, NUL characters anywhere in a file, UTF-16/32 files without a word about
their encoding, UTF-8 files with a few damaged bytes, headers missing one column, and rows that are valid but
probably wrong. Every file is written by the test. For a bad row: that row is quarantined with its row number
and the column in the reason, and the file's valid rows are imported; for a bad file: a message that names the
file, nothing written, and a failed-import record.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import re

import pandas as pd
import pytest

from dashboard.db import campaigns, journeys, kpi_observations, work_items
from dashboard.ingest.columns import match_columns
from dashboard.ingest.contract import all_columns
from dashboard.ingest.errors import IngestError
from dashboard.ingest.preview import preview
from dashboard.ingest.source import peek_kind, sniff_encoding
from loaders.__main__ import main
from tests.unit.test_ingest import (  # noqa: F401  (fixtures: org, sqlite_template, sqlite_url)
    ITEM_COLUMNS,
    SQLITE_ONLY,
    UTC,
    _publish,
    assert_nothing_imported,
    assert_rollups_equal_a_rebuild,
    count,
    csv_bytes,
    import_rows,
    load,
    org,
    quarantined,
    snapshot,
    sqlite_template,
    sqlite_url,
    stored_items,
    wi,
    write_csv,
)

NUL_REASON = "contains a NUL character (byte 0), which cannot be stored: remove it and import the row again"
RANGE_REASON = "not between 1000-01-01 00:00 and 9999-12-31 23:59:59 UTC"


def reasons_by_row(engine, report) -> dict[int, str]:
    return {q["row_number"]: q["reasons"] for q in quarantined(engine) if q["import_id"] == report.import_id}


def rows_of(engine, table, key: str) -> dict:
    from sqlalchemy import select

    with engine.connect() as conn:
        return {r[key]: dict(r) for r in conn.execute(select(table)).mappings()}


# --- times the databases cannot store: that row, not the file ------------------------------------------------


def test_a_work_item_time_outside_the_storable_range_quarantines_that_row_and_the_rest_imports(org, tmp_path):
    rows = [
        wi("WI-1"),
        wi("WI-2", created_at="0999-12-31 23:00", routed_at=""),
        wi("WI-3", created_at="9999-12-31 23:59", routed_at=""),  # valid, but its default due time is in 10000
        wi("WI-4") | {"due_at": "9999-12-31T23:59:59-01:00"},  # 10000-01-01 00:59:59 UTC
        wi("WI-5", sla_hours="1e11"),  # eleven million years
        wi("WI-6", created_at="9999-12-31 20:00", routed_at="", sla_hours="1"),  # due 9999-12-31 20:00 UTC: fine
        wi("WI-7"),
    ]
    report = load(org, write_csv(tmp_path, "far.csv", rows, [*ITEM_COLUMNS, "due_at"]))
    assert (report.rows_read, report.inserted, report.quarantined) == (7, 3, 4)
    due = "sla_hours: created_at + sla_hours (the item's due time) passes 9999-12-31 23:59:59 UTC"
    got = reasons_by_row(org, report)
    assert got.keys() == {3, 4, 5, 6}
    assert got[3] == f"created_at: {RANGE_REASON}"
    assert got[4].startswith(due) and got[6].startswith(due)
    assert got[5] == f"due_at: {RANGE_REASON}"
    assert [(p.row, p.values) for p in report.problems][:2] == [(3, {"created_at": "0999-12-31 23:00"}),
                                                                (4, {"sla_hours": "24"})]
    items = stored_items(org)
    assert set(items) == {"WI-1", "WI-6", "WI-7"}
    assert items["WI-6"]["created_at"] == dt.datetime(9999, 12, 31, 19, tzinfo=UTC)  # 20:00 in Berlin (CET)
    assert items["WI-6"]["due_at"] == dt.datetime(9999, 12, 31, 20, tzinfo=UTC)
    assert_rollups_equal_a_rebuild(org)
    (imp,) = import_rows(org)
    assert (imp["status"], imp["quarantined"], imp["inserted"]) == ("quarantined", 4, 3)


def test_an_item_routed_by_rules_whose_due_time_passes_9999_is_quarantined_naming_due_at(org, tmp_path):
    _publish(org)  # "jobs": mentions about hiring go to finance with a 48-hour SLA
    rows = [wi("R-1", kind="mention", target_unit="", text="HIRING", status="new", routed_at="",
               created_at="9999-12-30 12:00", sla_hours="1"),  # its own SLA fits; the rule's 48 h do not
            wi("R-2", kind="mention", target_unit="", text="HIRING", status="new", routed_at="", sla_hours="1")]
    report = load(org, write_csv(tmp_path, "route.csv", rows))
    assert (report.inserted, report.quarantined, report.routed_by_rules) == (1, 1, 1)
    assert reasons_by_row(org, report) == {2: "due_at: created_at + the routing rule's SLA passes 9999-12-31 "
                                              "23:59:59 UTC, the latest time that can be stored"}
    assert stored_items(org)["R-2"]["target_unit"] == "finance"
    assert_rollups_equal_a_rebuild(org)


def test_kpi_observations_and_journeys_outside_the_storable_range_are_quarantined_by_row(org, tmp_path):
    obs = [{"kpi_id": "revenue", "ts": "2026-11-20 09:00", "value": "1"},
           {"kpi_id": "revenue", "ts": "0999-12-31", "value": "2"},
           {"kpi_id": "cost", "ts": "9999-12-31T23:59:59.5Z", "value": "3"},
           {"kpi_id": "cost", "ts": "9999-12-31T23:59:59Z", "value": "4"}]
    report = load(org, write_csv(tmp_path, "obs.csv", obs))
    assert (report.inserted, report.quarantined) == (2, 2)
    assert reasons_by_row(org, report) == {3: f"ts: {RANGE_REASON}", 4: f"ts: {RANGE_REASON}"}
    assert sorted(r["value"] for r in rows_of(org, kpi_observations, "value").values()) == [1, 4]
    assert_rollups_equal_a_rebuild(org)

    trips = [{"id": "J-1", "started_at": "2026-11-18 09:00", "converted_at": "", "revenue": ""},
             {"id": "J-2", "started_at": "0999-06-01", "converted_at": "", "revenue": ""},
             {"id": "J-3", "started_at": "2026-11-18 09:00", "converted_at": "9999-12-31T23:59:59-05:00",
              "revenue": "10"}]
    report = load(org, write_csv(tmp_path, "journeys.csv", trips))
    assert (report.inserted, report.quarantined) == (1, 2)
    assert reasons_by_row(org, report) == {3: f"started_at: {RANGE_REASON}", 4: f"converted_at: {RANGE_REASON}"}
    assert set(rows_of(org, journeys, "id")) == {"J-1"}


# --- numbers too large to add up: refused in their row, so the rollups stay right ---------------------------


def test_a_number_beyond_a_trillion_is_quarantined_and_the_hourly_sums_stay_equal_to_a_rebuild(org, tmp_path):
    first = [{"kpi_id": "revenue", "ts": "2026-11-17 04:40", "value": "1e308"},
             {"kpi_id": "revenue", "ts": "2026-11-17 04:28", "value": "1"},
             {"kpi_id": "cost", "ts": "2026-11-17 04:28", "value": "-1e12"}]
    report = load(org, write_csv(tmp_path, "obs.csv", first))
    assert (report.inserted, report.quarantined) == (2, 1)
    assert reasons_by_row(org, report) == {2: "value: more than a trillion (1,000,000,000,000) in size: sums of it "
                                              "would no longer be exact"}
    again = [{"kpi_id": "revenue", "ts": "2026-11-17 04:40", "value": "2147483648"},  # the stored value changes
             {"kpi_id": "revenue", "ts": "2026-11-17 04:28", "value": "1"}]
    report = load(org, write_csv(tmp_path, "obs2.csv", again))
    assert (report.inserted, report.unchanged, report.quarantined) == (1, 1, 0)
    assert_rollups_equal_a_rebuild(org)
    items = [wi("WI-1", value="1e13"), wi("WI-2", value="999999999999.99")]
    report = load(org, write_csv(tmp_path, "items.csv", items))
    assert (report.inserted, report.quarantined) == (1, 1)
    assert stored_items(org)["WI-2"]["value"] == 999999999999.99
    assert_rollups_equal_a_rebuild(org)


# --- keys repeated across chunks ---------------------------------------------------------------------------


def test_several_keys_of_an_earlier_chunk_repeated_among_new_ones_are_each_quarantined_as_duplicates(org, tmp_path):
    ids = ["A", "B", "C", "D", "A", "E", "B", "F"]  # chunks of 4: the second repeats A and B among new E and F
    rows = [wi(i, text=f"row {n}") for n, i in enumerate(ids, 2)]
    report = load(org, write_csv(tmp_path, "chunks.csv", rows), chunk_rows=4)
    assert (report.rows_read, report.inserted, report.quarantined) == (8, 6, 2)
    assert reasons_by_row(org, report) == {6: "id: duplicate of row 2 in the same file (the first one was imported)",
                                           8: "id: duplicate of row 3 in the same file (the first one was imported)"}
    assert {k: v["text"] for k, v in stored_items(org).items()} == {
        "A": "row 2", "B": "row 3", "C": "row 4", "D": "row 5", "E": "row 7", "F": "row 9"}
    assert_rollups_equal_a_rebuild(org)


# --- NUL characters: judged per row, the same on both databases ----------------------------------------------


def _rows_with_nul(n: int) -> list[dict]:
    rows = [wi(f"WI-{i}", text=f"Item {i} " + "x" * 80) for i in range(1, n + 1)]
    rows[0]["text"] = "early\x00NUL"  # row 2: inside the first 64 KB
    rows[-2]["text"] = "late NUL \x00 here"  # far past the first 64 KB
    rows[-1]["id"] = "WI\x00last"  # in the key
    return rows


def test_a_nul_in_a_cell_quarantines_its_row_anywhere_in_the_file_and_the_rest_imports(org, tmp_path):
    rows = _rows_with_nul(1_000)
    path = write_csv(tmp_path, "nul.csv", [r | {"note": "a\x00b" if i == 5 else ""} for i, r in enumerate(rows)],
                     [*ITEM_COLUMNS, "note"])
    assert path.stat().st_size > 2 * 64 * 1024 and path.read_bytes().index(b"late NUL \x00") > 64 * 1024
    report = load(org, path, chunk_rows=300)
    assert (report.rows_read, report.inserted, report.quarantined) == (1_000, 997, 3)
    assert reasons_by_row(org, report) == {2: f"text: {NUL_REASON}", 1_000: f"text: {NUL_REASON}",
                                           1_001: f"id: {NUL_REASON}; id: only letters, digits and _ . : / # -, "
                                                  "starting with a letter or digit"}
    by_row = {q["row_number"]: q for q in quarantined(org)}
    assert json.loads(by_row[2]["raw"])["text"] == "early\x00NUL"  # the cell kept as it was, for fixing
    assert by_row[1_001]["row_key"] is None and by_row[2]["row_key"] == "WI-1"
    items = stored_items(org)
    assert len(items) == 997 and items["WI-6"]["text"].startswith("Item 6")  # a NUL in an ignored column: no harm
    assert_rollups_equal_a_rebuild(org)


def test_a_nul_in_reference_data_and_in_parquet_is_judged_per_row_too(org, tmp_path):
    units = [{"id": "hr", "name": "People\x00", "kind": "spoke", "headcount": "3", "cost_per_fte": "1"},
             {"id": "legal", "name": "Legal", "kind": "spoke", "headcount": "2", "cost_per_fte": "1"}]
    report = load(org, write_csv(tmp_path, "units.csv", units))
    assert (report.inserted, report.quarantined) == (1, 1)
    assert reasons_by_row(org, report) == {2: f"name: {NUL_REASON}"}

    frame = pd.DataFrame([wi("P-1"), wi("P-2", topic="to\x00pic")])
    frame.to_parquet(tmp_path / "items.parquet")
    report = load(org, tmp_path / "items.parquet")
    assert (report.inserted, report.quarantined) == (1, 1)
    assert reasons_by_row(org, report) == {2: f"topic: {NUL_REASON}"}


def test_cli_imports_a_file_with_a_nul_past_64_kb_and_exits_1_naming_the_row(env, capsys, db_url, engine, tmp_path):
    main(["ingest", "--database-url", db_url, "--kind", "units", str(_units_csv(tmp_path))])
    capsys.readouterr()
    path = write_csv(tmp_path, "late.csv", _rows_with_nul(1_000))
    assert main(["ingest", "--database-url", db_url, str(path)]) == 1
    out, err = capsys.readouterr()
    assert "quarantined: late.csv row 1000: text: contains a NUL character" in err and "error:" not in err
    assert "inserted 997" in out and "quarantined 3" in out
    assert count(engine, work_items) == 997
    assert [i["status"] for i in import_rows(engine)][-1] == "quarantined"


def _units_csv(tmp_path):
    rows = [{"id": "hub", "name": "Hub", "kind": "hub", "headcount": "1", "cost_per_fte": "1"},
            {"id": "sales", "name": "Sales", "kind": "spoke", "headcount": "1", "cost_per_fte": "1"}]
    return write_csv(tmp_path, "units.csv", rows)


@SQLITE_ONLY
@pytest.mark.parametrize("content, says", [
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200, "old Excel workbook (.xls)"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 200, "gzip"),
    (b"ab\x00\x01\x02cd\x00\x00\x10,x\n1,2\n", "binary file"),  # control characters in the first line
])
def test_a_binary_file_is_refused_naming_what_it_looks_like_and_recorded_as_failed(org, tmp_path, content, says):
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    before = snapshot(org)
    with pytest.raises(IngestError, match=rf"upload\.csv: looks like .*{re.escape(says)}"):
        load(org, path)
    assert_nothing_imported(org, before)
    assert [i["status"] for i in import_rows(org)] == ["failed"]


# --- encodings: UTF-16 and UTF-32 found without being told; damaged UTF-8 judged per row -----------------------

TEXT = "Café Müller – 20 € off, 東京, 😀"


def _wide_bytes(encoding: str, bom: bytes, delimiter: str = ",") -> bytes:
    text = csv_bytes([wi("U-1", text=TEXT), wi("U-2", topic="Grüße")], delimiter=delimiter).replace("\n", "\r\n")
    return bom + text.encode(encoding)


WIDE = [
    pytest.param("utf-16-le", codecs.BOM_UTF16_LE, "UTF-16 (little-endian, with a byte-order mark)", id="utf16le-bom"),
    pytest.param("utf-16-be", codecs.BOM_UTF16_BE, "UTF-16 (big-endian, with a byte-order mark)", id="utf16be-bom"),
    pytest.param("utf-32-le", codecs.BOM_UTF32_LE, "UTF-32 (little-endian, with a byte-order mark)", id="utf32le-bom"),
    pytest.param("utf-32-be", codecs.BOM_UTF32_BE, "UTF-32 (big-endian, with a byte-order mark)", id="utf32be-bom"),
    pytest.param("utf-16-le", b"", "UTF-16 (little-endian)", id="utf16le-no-bom"),
    pytest.param("utf-16-be", b"", "UTF-16 (big-endian)", id="utf16be-no-bom"),
]


@SQLITE_ONLY
@pytest.mark.parametrize("encoding, bom, label", WIDE)
def test_utf16_and_utf32_files_are_recognised_and_imported_without_being_told(org, tmp_path, encoding, bom, label):
    path = tmp_path / "unicode.csv"
    path.write_bytes(_wide_bytes(encoding, bom, delimiter="\t"))  # as Excel saves "Unicode text"
    assert sniff_encoding(path).label == label
    assert peek_kind(path) == "work_items"  # the command line orders files by the same reading
    seen = preview(path)
    assert (seen.kind, seen.message, seen.source.encoding_label) == ("work_items", None, label)
    assert seen.rows["text"].iloc[0] == TEXT
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    items = stored_items(org)
    assert items["U-1"]["text"] == TEXT and items["U-2"]["topic"] == "Grüße"
    assert all("binary" not in w for w in report.warnings)


def test_a_utf16_file_imports_from_the_command_line_without_encoding_on_both_databases(env, capsys, db_url, engine,
                                                                                       tmp_path):
    main(["ingest", "--database-url", db_url, str(_units_csv(tmp_path))])
    path = tmp_path / "excel.csv"
    path.write_bytes(_wide_bytes("utf-16-le", codecs.BOM_UTF16_LE))
    assert main(["ingest", "--database-url", db_url, str(path)]) == 0
    assert "inserted 2" in capsys.readouterr().out
    assert stored_items(engine)["U-1"]["text"] == TEXT


def test_a_utf8_file_with_a_few_bytes_that_are_no_character_quarantines_those_rows_only(org, tmp_path):
    rows = [wi(f"WI-{i}", text=f"Café {i}") for i in range(1, 6)]
    data = csv_bytes(rows).encode("utf-8").replace("Café 3".encode(), b"Caf\xe9 3")  # one Windows-1252 "é"
    path = tmp_path / "mixed.csv"
    path.write_bytes(codecs.BOM_UTF8 + data)
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (4, 1)
    assert reasons_by_row(org, report) == {4: "text: not valid UTF-8 (bytes that are no character, shown as \ufffd)"}
    assert any("1 byte(s) are not UTF-8" in w for w in report.warnings), report.warnings
    items = stored_items(org)
    assert items["WI-1"]["text"] == "Café 1" and items["WI-5"]["text"] == "Café 5"  # not read as "CafÃ©"


@SQLITE_ONLY
def test_a_windows_1252_file_is_still_read_as_windows_1252(org, tmp_path):
    path = write_csv(tmp_path, "excel.csv", [wi("WI-1", text="Café"), wi("WI-2", text="Grüße")], encoding="cp1252")
    assert sniff_encoding(path).codec == "cp1252"
    report = load(org, path)
    assert (report.inserted, report.quarantined) == (2, 0)
    assert stored_items(org)["WI-2"]["text"] == "Grüße"
    assert not any("--" in w for w in report.warnings)  # no command-line options for the upload page


# --- column matching: keep what matched, name what is missing ------------------------------------------------


@SQLITE_ONLY
def test_a_header_missing_one_required_column_keeps_every_match_and_names_only_that_column(org, tmp_path):
    columns = [c for c in ITEM_COLUMNS if c != "created_at"]
    path = write_csv(tmp_path, "no_created.csv", [wi("WI-1")], columns)
    for kind in (None, "work_items"):
        seen = preview(path, kind=kind)
        assert seen.kind == "work_items" and seen.columns is not None
        assert seen.columns.missing == ["created_at"]
        assert seen.columns.matched == {c: c for c in columns}
        assert "created_at" in seen.message and "--" not in seen.message
    before = snapshot(org)
    with pytest.raises(IngestError) as err:
        load(org, path)
    assert "--map 'file column=contract column'" in str(err.value)  # the command line says how
    assert "--" not in err.value.plain and err.value.columns.missing == ["created_at"]
    assert_nothing_imported(org, before)


def test_match_columns_keeps_a_mapping_and_the_names_it_matched():
    header = ["Ticket ID", "Kind", "Source Unit", "target_unit", "Channel", "Status", "SLA Hours", "Owner"]
    cols = match_columns(header, mapping={"Ticket ID": "id"})
    assert cols.kind == "work_items" and cols.missing == ["created_at"]
    assert cols.matched == {"id": "Ticket ID", "kind": "Kind", "source_unit": "Source Unit",
                            "target_unit": "target_unit", "channel": "Channel", "status": "Status",
                            "sla_hours": "SLA Hours"}
    assert cols.ignored == ["Owner"]
    assert match_columns(["foo", "bar"]).kind is None
    wrong = match_columns(["id", "unit_id", "name", "unit_of_measure", "direction"], kind="work_items")
    assert wrong.fits == "kpis" and wrong.matched == {"id": "id"}
    assert set(all_columns("work_items")) >= set(cols.matched)


def test_page_messages_for_a_wrong_or_unknown_kind_have_no_command_line_options(tmp_path):
    kpis = write_csv(tmp_path, "kpis.csv", [{"id": "k", "unit_id": "hub", "name": "K", "unit_of_measure": "EUR",
                                             "direction": "higher"}])
    seen = preview(kpis, kind="work_items")
    assert "kpis" in seen.message and "--" not in seen.message
    assert seen.columns.fits == "kpis" and seen.columns.missing[:2] == ["kind", "source_unit"]
    mystery = tmp_path / "mystery.csv"
    mystery.write_text("foo,bar\n1,2\n")
    seen = preview(mystery)
    assert seen.kind is None and seen.columns is None
    assert seen.message.startswith("mystery.csv: cannot tell") and "--" not in seen.message


# --- valid but probably wrong: imported, and the summary says so ---------------------------------------------


def test_future_dates_items_to_themselves_and_times_out_of_order_import_with_a_warning_each(org, tmp_path):
    rows = [wi("WI-1"),
            wi("WI-2", created_at="2099-01-01 10:00", routed_at="2099-01-01 10:05"),
            wi("WI-3", target_unit="hub", status="new", routed_at=""),  # how an item waits unrouted: not odd
            wi("WI-4", source_unit="sales", target_unit="sales"),
            wi("WI-5", routed_at="2026-11-20 08:00"),  # routed an hour before it was created
            wi("WI-6", created_at="2099-06-01 10:00", routed_at=""),
            wi("WI-7", created_at="2026-11-26 09:00", routed_at="")]  # three days ahead of the import
    now = dt.datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    report = load(org, write_csv(tmp_path, "odd.csv", rows), now=now)
    assert (report.inserted, report.quarantined) == (7, 0)
    odd = {o.check: (o.count, o.rows) for o in report.oddities}
    assert odd == {"future": (3, [3, 7, 8]), "to_itself": (1, [5]), "out_of_order": (1, [6])}
    texts = [w for w in report.warnings if "imported as given" in w]
    assert texts == [
        "odd.csv: 3 row(s) are dated in the future (created_at, routed_at later than 24 Nov 2026 10:30 UTC, a day "
        "after the import) (rows 3, 7, 8); imported as given: check them at the source",
        "odd.csv: 1 row(s) send an item from a unit to itself (source_unit equals target_unit) (row 5); "
        "imported as given: check them at the source",
        "odd.csv: 1 row(s) have times out of order (routed or accepted before created, or resolved before routed "
        "or accepted) (row 6); imported as given: check them at the source",
    ]
    (imp,) = import_rows(org)
    assert all(t in imp["message"] for t in texts)  # the Data health page reads the import's message
    assert len(stored_items(org)) == 7


def test_campaigns_with_more_conversions_than_leads_import_with_a_warning_counting_them(org, tmp_path):
    base = dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="5000", spend="4820",
                leads="210", conversions="26", revenue="31200")
    rows = [base, base | {"channel": "social", "leads": "10", "conversions": "12"},
            base | {"channel": "email", "leads": "0", "conversions": "1"},
            base | {"channel": "events", "period_start": "2099-01-01", "period_end": "2099-01-31"}]
    report = load(org, write_csv(tmp_path, "campaigns.csv", rows), now=dt.datetime(2026, 11, 23, tzinfo=UTC))
    assert (report.inserted, report.quarantined) == (4, 0)
    odd = {o.check: (o.count, o.rows) for o in report.oddities}
    assert odd == {"conversions_over_leads": (2, [3, 4]), "future": (1, [5])}
    assert any(w.startswith("campaigns.csv: 2 row(s) have more conversions than leads (rows 3, 4)")
               for w in report.warnings)
    assert count(org, campaigns) == 4


def test_items_due_more_than_a_year_after_the_import_are_imported_with_a_warning(org, tmp_path):
    rows = [wi("WI-1", due_at=""),
            wi("WI-2", sla_hours="20000", due_at=""),  # 2.3 years: an SLA typed in minutes, say
            wi("WI-3", due_at="2028-01-01 00:00"),
            wi("WI-4", due_at="2027-06-01 00:00"),  # within the year
            wi("WI-5", created_at="2099-01-01 10:00", routed_at="", due_at="")]  # counted as dated in the future
    report = load(org, write_csv(tmp_path, "due.csv", rows), now=dt.datetime(2026, 11, 23, 10, 30, tzinfo=UTC))
    assert (report.inserted, report.quarantined) == (5, 0)
    odd = {o.check: (o.count, o.rows) for o in report.oddities}
    assert odd == {"future": (1, [6]), "due_far_ahead": (2, [3, 4])}
    assert ("due.csv: 2 row(s) are due more than a year after the import (due_at, or created_at + sla_hours, later "
            "than 23 Nov 2027 10:30 UTC) (rows 3, 4); imported as given: check them at the source") in report.warnings
    (imp,) = import_rows(org)
    assert "are due more than a year after the import" in imp["message"]
    assert len(stored_items(org)) == 5


def test_the_first_five_rows_are_named_and_the_count_is_of_every_row_across_chunks(org, tmp_path):
    rows = [wi(f"WI-{i}", source_unit="sales", target_unit="sales") for i in range(1, 13)]
    report = load(org, write_csv(tmp_path, "self.csv", rows), chunk_rows=5)
    (odd,) = report.oddities
    assert (odd.check, odd.count, odd.rows) == ("to_itself", 12, [2, 3, 4, 5, 6])
    assert "12 row(s) send an item from a unit to itself" in odd.text("self.csv")
    assert "(rows 2, 3, 4, 5, 6, …)" in odd.text("self.csv")


def test_the_command_line_prints_each_oddity_as_a_warning(env, capsys, db_url, engine, tmp_path):
    main(["ingest", "--database-url", db_url, str(_units_csv(tmp_path))])
    capsys.readouterr()
    path = write_csv(tmp_path, "odd.csv", [wi("WI-1", created_at="2099-01-01 10:00", routed_at="")])
    assert main(["ingest", "--database-url", db_url, str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: odd.csv: 1 row(s) are dated in the future" in err
    assert "dated in the future" in import_rows(engine)[-1]["message"]
