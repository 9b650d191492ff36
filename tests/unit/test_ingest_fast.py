"""The file import's bulk paths give what the row by row path gives, on a real SQLite file and a real PostgreSQL.

A big file of work items goes through the engine's bulk path (dashboard.services.imports): on PostgreSQL a COPY into
a temporary table and set-based statements (store.upsert_staged_work_items), on SQLite indexes built once when the
file is large relative to the table and no stored-row lookups into an empty table. The same files are imported twice,
into two databases of the same engine: once with the bulk paths forced (every file counts as big) and once with
them off (every file counts as small). Both must end with the same work items, rollups, quarantine, import log and
report, for a first import, an overlapping extract (unchanged, changed, new rows, rows without a target, bad rows,
duplicates across chunks) and a file lacking optional columns; a failure in the middle leaves nothing written.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect, select

from dashboard import store
from dashboard.db import flow_hourly, imports, make_engine, quarantine, work_items
from dashboard.services import imports as ingest_module
from tests.conftest import new_pg_database
from tests.factories import tiny_org
from tests.unit.test_ingest import (  # noqa: F401  (fixtures: sqlite_template, sqlite_url)
    ITEM_COLUMNS,
    _publish,
    assert_nothing_imported,
    load,
    snapshot,
    sqlite_template,
    sqlite_url,
    wi,
    write_csv,
)
from tests.unit.test_store import FLOAT_COLUMNS, assert_rollups_match_rebuild

NOW = dt.datetime(2026, 11, 23, 10, 30, tzinfo=dt.UTC)
COLUMNS = [*ITEM_COLUMNS, "segment", "priority", "journey_id"]
CHUNK = 7  # rows per chunk: every file spans several


@pytest.fixture
def twin(request, engine, tmp_path, sqlite_template):
    """A second database of the engine under test, holding the same organisation as ``engine``."""
    if engine.dialect.name == "sqlite":
        import shutil

        path = tmp_path / "twin.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = new_pg_database(request.getfixturevalue("pg_server"), request.getfixturevalue("pg_template"))
    other = make_engine(url)
    for e in (engine, other):
        with e.begin() as conn:
            tiny_org(conn)
    yield other
    other.dispose()


def bulk(monkeypatch, on: bool) -> None:
    """Every file counts as big (``on``) or as small: the bulk paths forced or left out."""
    monkeypatch.setattr(ingest_module, "BYTES_PER_ROW", 1 if on else 10**9)
    monkeypatch.setattr(ingest_module, "STAGED_ROWS", 1 if on else 10**12)
    monkeypatch.setattr(store.bulk, "BULK_INDEX_ROWS", 2 if on else 10**12)


def rows_first() -> list[dict]:
    rows = [wi(f"w{i:02d}", created_at=f"2026-11-{10 + i % 9:02d} {8 + i % 10:02d}:{i % 60:02d}",
               routed_at=f"2026-11-{10 + i % 9:02d} {9 + i % 10:02d}:00", value=str(100 + i) if i % 3 else "",
               target_unit="sales" if i % 4 else "finance", kind="lead" if i % 4 else "report")
            for i in range(24)]
    for i in range(0, 24, 5):  # resolved ones, some within their SLA and some not, in several histogram bins
        rows[i] |= dict(status="resolved", accepted_at=rows[i]["routed_at"],
                        resolved_at=f"2026-11-{10 + i % 9:02d} {20 + i % 4:02d}:{i:02d}:30+02:00")
    rows[3] |= dict(created_at="2026-11-12T09:00:00Z", routed_at="2026-11-12 10:00")  # naive and aware mixed
    rows += [wi("bad1", sla_hours="-1"), wi("bad2", target_unit="nowhere"), wi("w05", text="a repeat")]
    return rows


def rows_second() -> list[dict]:
    rows = rows_first()[:24]
    rows[1] |= dict(text="changed text")  # changed
    rows[2] |= dict(status="resolved", accepted_at="2026-11-12 12:00", resolved_at="2026-11-13 01:00")  # resolved
    rows[4] |= dict(value="999.5")  # a changed value moves created_value
    rows[5] |= dict(status="routed", accepted_at="", resolved_at="")  # reopened: its resolution is taken back
    rows[6] |= dict(target_unit="finance")  # moved to another route
    rows[7] |= dict(created_at="2026-11-01 08:00", routed_at="2026-11-01 08:30")  # to another hour
    rows += [wi(f"n{i}", created_at=f"2026-11-2{i % 3} 0{i % 9}:15", value=str(i)) for i in range(9)]
    rows += [wi("r1", target_unit="", routed_at="", status="new", kind="lead"),  # routed by the rules
             wi("r2", target_unit="", routed_at="", status="new", kind="mention", text="hiring now"),
             wi("r3", target_unit="", routed_at="", status="new", kind="complaint"),  # no rule: unrouted
             wi("n3", text="a repeat across chunks"), wi("bad3", created_at="yesterday")]
    return rows


def rows_without_optional_columns() -> list[dict]:
    """Columns value, text and topic absent: the stored ones stay (and the rollups keep the stored value)."""
    rows = [{c: v for c, v in r.items() if c not in ("value", "text", "topic")} for r in rows_second()[:30]]
    rows[8] |= dict(status="resolved", accepted_at="2026-11-19 12:00", resolved_at="2026-11-19 13:00")
    rows[9] |= dict(status="accepted", accepted_at="2026-11-19 12:00")
    return rows


def table(engine, t) -> pd.DataFrame:
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(select(t)).mappings().all(), columns=list(t.c.keys()))
    key = [c.name for c in t.primary_key.columns]
    return df.sort_values(key).reset_index(drop=True)


def plain(values: pd.Series) -> list:
    return values.astype(object).where(values.notna(), None).tolist()


def assert_same_database(a, b) -> None:
    for t in (work_items, flow_hourly, quarantine, imports):
        got, want = table(a, t), table(b, t)
        assert len(got) == len(want), t.name
        for col in got.columns:
            if t is imports and col in ("started_at", "finished_at"):
                continue
            if col in FLOAT_COLUMNS:
                np.testing.assert_allclose(got[col].astype(float), want[col].astype(float), rtol=1e-9, atol=1e-6,
                                           err_msg=f"{t.name}.{col}")
            else:
                assert plain(got[col]) == plain(want[col]), f"{t.name}.{col}"
    for e in (a, b):
        with e.connect() as conn:
            assert_rollups_match_rebuild(conn)
            assert {"ix_work_items_open", "ix_work_items_created", "ix_work_items_resolved",
                    "ix_work_items_target_created", "ix_work_items_source_created"} <= {
                ix["name"] for ix in inspect(conn).get_indexes("work_items")}


def report_facts(report) -> tuple:
    return (report.rows_read, report.inserted, report.updated, report.unchanged, report.quarantined,
            report.routed_by_rules, report.unrouted, report.status, report.warnings,
            [(p.row, p.reasons, p.values) for p in report.problems], report.oddities)


def import_both(monkeypatch, fast, slow, path: Path, **kw):
    bulk(monkeypatch, True)
    got = load(fast, path, chunk_rows=CHUNK, now=NOW, **kw)
    bulk(monkeypatch, False)
    want = load(slow, path, chunk_rows=CHUNK, now=NOW, **kw)
    assert report_facts(got) == report_facts(want)
    assert got.rows_read == got.inserted + got.updated + got.unchanged + got.quarantined  # no row dropped
    return got


def test_the_bulk_paths_import_updates_and_quarantine_exactly_like_the_row_path(engine, twin, monkeypatch, tmp_path):
    for e in (engine, twin):
        _publish(e)
    first = import_both(monkeypatch, engine, twin, write_csv(tmp_path, "first.csv", rows_first(), COLUMNS))
    assert (first.inserted, first.quarantined) == (24, 3)
    assert_same_database(engine, twin)

    second = import_both(monkeypatch, engine, twin, write_csv(tmp_path, "second.csv", rows_second(), COLUMNS))
    assert (second.inserted, second.updated, second.unchanged, second.quarantined) == (12, 6, 18, 2)
    assert (second.routed_by_rules, second.unrouted) == (2, 1)
    assert_same_database(engine, twin)

    third = import_both(monkeypatch, engine, twin, write_csv(tmp_path, "third.csv", rows_without_optional_columns(),
                                                               [c for c in COLUMNS if c not in ("value", "text", "topic")]))
    assert (third.updated, third.quarantined) == (2, 0)
    assert_same_database(engine, twin)
    again = import_both(monkeypatch, engine, twin, write_csv(tmp_path, "second.csv", rows_second(), COLUMNS),
                        force=True)
    assert again.inserted == 0 and again.updated >= 1
    assert_same_database(engine, twin)


def test_a_bulk_import_that_fails_in_its_third_chunk_leaves_nothing_written(engine, twin, monkeypatch, tmp_path):
    """Into an empty table (indexes dropped, on PostgreSQL foreign keys too) and into a loaded one: the error
    rolls the whole file back, indexes and all, and the attempt is recorded as failed."""
    load(engine, write_csv(tmp_path, "first.csv", rows_first()[:10], COLUMNS), now=NOW)
    for loaded in (False, True):
        target = engine if loaded else twin
        before = snapshot(target)
        bulk(monkeypatch, True)
        upsert = "upsert_staged_work_items" if target.dialect.name == "postgresql" else "upsert_work_items"
        real, calls = getattr(store, upsert), []

        def failing(*args, _real=real, calls=calls, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise store.StoreError("the disk is full")
            return _real(*args, **kwargs)

        monkeypatch.setattr(store, upsert, failing)
        with pytest.raises(Exception, match="the disk is full"):
            load(target, write_csv(tmp_path, "second.csv", rows_second(), COLUMNS), chunk_rows=CHUNK, now=NOW)
        monkeypatch.setattr(store, upsert, real)
        assert len(calls) == 3
        assert_nothing_imported(target, before)
        with target.connect() as conn:
            names = {ix["name"] for ix in inspect(conn).get_indexes("work_items")}
            assert {"ix_work_items_open", "ix_work_items_created", "ix_work_items_resolved"} <= names
            assert {fk["referred_table"] for fk in inspect(conn).get_foreign_keys("work_items")} == {"units"}
        # and the same file then imports in full
        report = load(target, write_csv(tmp_path, "second.csv", rows_second(), COLUMNS), chunk_rows=CHUNK, now=NOW)
        assert report.rows_read == report.inserted + report.updated + report.unchanged + report.quarantined
        with target.connect() as conn:
            assert_rollups_match_rebuild(conn)



def test_cells_that_look_like_numbers_or_booleans_are_read_as_the_text_in_the_file(tmp_path):
    """The reader lets the CSV parser infer column types (far cheaper than asking for text everywhere) and reads
    again, with that column as text, wherever a column came out as numbers: every cell stays the file's text,
    whichever chunk first holds only digits (ids with leading zeros, 1.50, TRUE)."""
    from dashboard.ingest.source import open_source, read_chunks

    lines = ["id,flag,amount,note"]
    lines += [f"a{i},yes,x{i},text {i}" for i in range(6)]  # chunk 1: nothing numeric-looking
    lines += [f"00{i},TRUE,1.50,{i}" for i in range(6)]  # chunk 2: all digits / booleans
    lines += ["7,False,+5,", "08,true,1e3,"]
    path = tmp_path / "looks.csv"
    path.write_text("\n".join(lines) + "\n")
    got = pd.concat(list(read_chunks(open_source(path), 6)))
    want = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    assert got["id"].tolist() == want["id"].tolist() == [*(f"a{i}" for i in range(6)), *(f"00{i}" for i in range(6)),
                                                         "7", "08"]
    for column in want.columns:
        assert got[column].tolist() == want[column].tolist(), column
        assert isinstance(got[column].dtype, pd.StringDtype), column


def test_a_big_chunk_judged_per_distinct_cell_gives_what_small_chunks_judged_cell_by_cell_give():
    """validate_frame judges a column that repeats itself once per distinct cell in a big chunk (kinds, units,
    SLAs ...); every row must come out as the same rows do in chunks too small for that (typed values, each row's
    reasons in order, keys, formula cells), good and bad cells alike."""
    from zoneinfo import ZoneInfo

    from dashboard.ingest import validate

    rng = np.random.default_rng(7)
    cells = {"id": ["a1", "=x", "", " b2 ", "c\x00", "d" * 70, "e_3"], "kind": ["lead", "LEAD", "", "mention", "x"],
             "source_unit": ["hub", "sales", "nowhere", "", "Hub"], "target_unit": ["sales", "", "hub", "bad unit"],
             "channel": ["web", "", "=cmd", "a" * 40, "social"], "topic": ["", "x", "=SUM(A1)", "-5"],
             "text": ["", "=1+1", "hi", "@me"], "created_at": ["2026-11-20 09:00", "2026-11-20T09:00:00+01:00", "bad",
                                                          "", "0999-01-01", "9999-12-31 23:59"],
             "resolved_at": ["", "2026-11-21 09:00", "2026-11-19 09:00"], "status": ["routed", "resolved", "new", "x"],
             "sla_hours": ["24", "-1", "0", "1e13", "inf", "abc", "", "1_0", "2.5"], "value": ["", "10", "-3", "nan"],
             "segment": ["", "vip", "v i p"], "priority": ["", "high", "urgent"], "journey_id": ["", "J-1", "#"]}
    n = 3 * validate.DISTINCT_MIN_ROWS
    frame = pd.DataFrame({c: np.asarray(v, dtype=object)[rng.integers(0, len(v), n)] for c, v in cells.items()},
                         dtype="str")
    frame["kind"] = "lead"  # mostly one value, a few others
    frame.loc[::97, "kind"] = "mention"
    frame.loc[::89, "kind"] = "LEAD"
    frame.index = pd.RangeIndex(2, 2 + n)
    units = {"hub", "sales", "finance"}
    tz = ZoneInfo("Europe/Berlin")
    whole = validate.validate_frame("work_items", frame, tz, known_units=units)
    step = validate.DISTINCT_MIN_ROWS // 4
    parts = [validate.validate_frame("work_items", frame.iloc[i:i + step], tz, known_units=units)
             for i in range(0, n, step)]
    assert validate._distinct(frame["kind"])[1] is not None and validate._distinct(frame["kind"].iloc[:step])[1] is None
    pd.testing.assert_frame_equal(whole.valid, pd.concat([p.valid for p in parts]))
    pd.testing.assert_series_equal(whole.errors, pd.concat([p.errors for p in parts]))
    pd.testing.assert_series_equal(whole.keys, pd.concat([p.keys for p in parts]))
    assert whole.formula_cells == sum(p.formula_cells for p in parts) > 0
    assert len(whole.valid) > 0 and len(whole.errors) > 0


# --- the staged upsert among other writers (PostgreSQL: row locks in id order) -------------------------------

from tests.unit.test_writer_races import (  # noqa: E402
    finished,
    imported_row,
    in_thread,
    pg_org,  # noqa: F401  (fixture)
    waiting_on_a_lock,
)
from tests.unit.test_writer_races import stored as stored_item  # noqa: E402


def staged_upsert(engine, rows: list[dict], by: str, **kw):
    from dashboard.db import write_transaction

    return write_transaction(engine, lambda conn: store.upsert_staged_work_items(
        conn, store.stage_work_items(rows, written_by=by, at=NOW)), also=ingest_module._inserted_meanwhile, **kw)


def test_a_staged_import_waits_for_an_inbox_action_and_compares_with_the_row_it_wrote(pg_org):  # noqa: F811
    with pg_org.begin() as lead:
        assert store.transition_item(lead, "x", expected_version=1, status="resolved", at=NOW, by="lead").ok
        thread, outcome = in_thread(lambda: staged_upsert(pg_org, [imported_row(text="from the file")], "import"))
        waiting_on_a_lock(pg_org, outcome)
    assert finished(thread, outcome).updated == 1
    assert tuple(stored_item(pg_org, "x")) == ("routed", 3, "from the file")  # the action, then the import
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)


def test_an_inbox_action_that_waits_for_a_staged_import_is_refused_not_applied(pg_org):  # noqa: F811
    with pg_org.begin() as importing:
        store.upsert_staged_work_items(importing, store.stage_work_items([imported_row(text="from the file")],
                                                                        written_by="import", at=NOW))
        thread, outcome = in_thread(lambda: _transition_in_own_transaction(pg_org))
        waiting_on_a_lock(pg_org, outcome)
    result = finished(thread, outcome)
    assert result.conflict and result.item["version"] == 2
    assert tuple(stored_item(pg_org, "x")) == ("routed", 2, "from the file")
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)


def _transition_in_own_transaction(engine):
    from dashboard.db import write_transaction

    return write_transaction(engine, lambda conn: store.transition_item(
        conn, "x", expected_version=1, status="resolved", at=NOW, by="lead"))


def test_a_staged_import_of_an_id_another_import_is_inserting_runs_again_and_updates_it(pg_org):  # noqa: F811
    """The plain INSERT waits on the unique index, fails once the other commits, and the whole upsert runs
    again: the second time it finds the row, compares and updates it (no merge into a row it did not lock)."""
    new = dict(imported_row(), id="n1", text="first")
    with pg_org.begin() as other:
        store.upsert_staged_work_items(other, store.stage_work_items([new], written_by="import-1", at=NOW))
        thread, outcome = in_thread(lambda: staged_upsert(pg_org, [new | {"text": "second"}], "import-2"))
        waiting_on_a_lock(pg_org, outcome)
    counts = finished(thread, outcome)
    assert (counts.inserted, counts.updated) == (0, 1)
    assert tuple(stored_item(pg_org, "n1")) == ("routed", 2, "second")
    with pg_org.begin() as conn:
        assert_rollups_match_rebuild(conn)
