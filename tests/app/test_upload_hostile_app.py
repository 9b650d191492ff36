"""The Import data page with hostile files, through AppTest: a UTF-16 export, a header missing one column, and
rows the databases cannot store or that are probably wrong. The page is the real one on a real SQLite file."""

from __future__ import annotations

import codecs

from tests.app.shown import shown
from tests.app.test_upload_page import click, open_upload, upload

HEADER = "id,kind,source_unit,target_unit,channel,text,created_at,status,sla_hours,value\n"
ROWS = ("UP-1,lead,hub,sales,web,Café for 10 seats,2026-11-20 10:00,routed,24,500\n"
        "UP-2,lead,hub,sales,web,Grüße,2026-11-20 11:00,routed,24,\n")


def texts(elements) -> list[str]:
    """What the page shows: Markdown escapes removed."""
    return [shown(e.value) for e in elements]


def test_a_utf16_export_is_read_without_being_told_and_imports(app, app_db):
    content = codecs.BOM_UTF16_LE + (HEADER + ROWS).replace(",", "\t").encode("utf-16-le")
    at = upload(open_upload(app), "excel.txt", content)
    assert not at.error, texts(at.error)
    assert next(s for s in at.selectbox if s.label == "What does the file hold?").value == "work_items"
    assert at.dataframe[0].value["text"].tolist() == ["Café for 10 seats", "Grüße"]
    click(at, "Check file")
    assert {m.label: m.value for m in at.metric}["New"] == "2"
    click(at, "Import 2 rows")
    assert any("2 new" in s.value or "inserted 2" in s.value for s in at.success), texts(at.success)


def test_a_header_missing_one_column_keeps_every_match_and_asks_only_for_that_column(app, app_db):
    header = HEADER.replace("created_at,", "")
    rows = "".join(",".join(c for i, c in enumerate(line.split(",")) if i != 6) + "\n" for line in ROWS.splitlines())
    at = upload(open_upload(app), "no_created.csv", (header + rows).encode())
    boxes = {s.label: s.value for s in at.selectbox}
    for column in header.strip().split(","):
        required = column in ("id", "kind", "source_unit", "channel", "status", "sla_hours")
        assert boxes[f"{column}{' *' if required else ''}"] == column  # matched by name, kept
    assert boxes["created_at *"] == "— not in the file —"
    asked = [i for i in texts(at.info) if i.startswith("Choose the file columns for")]
    assert asked == ["Choose the file columns for: created_at."]
    (error,) = texts(at.error)
    assert "created_at" in error and "--" not in error and "kind" not in error.split("column(s)")[1]
    assert not [b for b in at.button if b.label == "Check file"]


def test_rows_the_database_cannot_store_are_listed_by_row_and_odd_rows_are_warned_about(app, app_db):
    content = (HEADER + ROWS
               + "UP-3,lead,hub,sales,web,bad \x00 byte,2026-11-20 12:00,routed,24,\n"
               + "UP-4,lead,hub,sales,web,too early,0999-12-31 10:00,routed,24,\n"
               + "UP-5,lead,hub,sales,web,far ahead,2099-01-01 10:00,routed,24,\n").encode()
    at = upload(open_upload(app), "hostile.csv", content)
    assert not at.error, texts(at.error)
    click(at, "Check file")
    assert {m.label: m.value for m in at.metric}["Quarantined"] == "2"
    problems = at.dataframe[-1].value
    assert list(problems["row"]) == [4, 5]
    assert problems["reasons"].iloc[0].startswith("text: contains a NUL character")
    assert problems["reasons"].iloc[1].startswith("created_at: not between 1000-01-01")
    assert any("dated in the future" in w and "row 6" in w for w in texts(at.warning)), texts(at.warning)
