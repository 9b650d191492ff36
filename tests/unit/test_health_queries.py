"""Data health: freshness, imports, quarantine and quality checks, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import imports, kpi_observations, quarantine, work_items
from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries import health
from tests.factories import NOW, at, item, tiny_org

SAMPLES = Path(__file__).resolve().parents[2] / "loaders" / "samples"

CADENCE = {"work_items": 2.0, "kpi_observations": 26.0, "campaigns": 192.0}
HUB_LEAD = Viewer("hana", Role.HUB_LEAD)


def add_import(conn, *, source="crm", file_name="crm.csv", kind="work_items", started=NOW, status="ok",
               quarantined=0, **counts) -> int:
    row = dict(source=source, file_name=file_name, kind=kind, content_hash=f"{file_name}-{started.isoformat()}",
               size_bytes=100, started_at=started, finished_at=started + dt.timedelta(seconds=3), status=status,
               rows_read=counts.get("rows_read", 10), inserted=counts.get("inserted", 10 - quarantined),
               updated=counts.get("updated", 0), unchanged=counts.get("unchanged", 0), quarantined=quarantined,
               imported_by="test")
    return conn.execute(insert(imports).values(**row).returning(imports.c.id)).scalar_one()


def add_quarantine(conn, import_id, rows, *, kind="work_items", status="open"):
    conn.execute(insert(quarantine), [
        dict(import_id=import_id, kind=kind, row_number=n, row_key=raw.get("id"), raw=json.dumps(raw),
             reasons=reasons, status=status)
        for n, raw, reasons in rows
    ])


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            item("a", "hub", "sales", at(1.5), value=10.0) | {"topic": "pricing", "text": "call me"},
            item("b", "hub", "sales", at(5), resolved=at(4)),
            item("c", "sales", "hub", at(8), kind="request"),
        ])
        store.insert_kpi_observations(conn, [dict(kpi_id="revenue", ts=at(30), value=100.0),
                                             dict(kpi_id="conversion", ts=at(40), value=5.0)])
    return engine


def test_freshness_counts_rows_and_flags_tables_older_than_their_cadence(org):
    with org.connect() as conn:
        f = health.freshness(conn, LOCAL_ADMIN, NOW, CADENCE).set_index("table")
    assert f.rows.to_dict() == {"work_items": 3, "kpi_observations": 2, "kpis": 4, "units": 3, "campaigns": 0,
                                "journeys": 0}
    assert f.at["work_items", "newest"] == pd.Timestamp(at(1.5))
    assert f.at["work_items", "age_h"] == pytest.approx(1.5)
    assert f.at["work_items", "stale"] is False  # 1.5 h against 2 h
    assert f.at["kpi_observations", "age_h"] == pytest.approx(30)
    assert f.at["kpi_observations", "stale"] is True  # 30 h against 26 h
    assert f.at["campaigns", "stale"] is None  # empty: nothing to judge
    assert f.at["kpis", "stale"] is None and pd.isna(f.at["kpis", "newest"])  # no time column


def test_freshness_follows_the_clock_and_the_cadence(org):
    with org.connect() as conn:
        later = health.freshness(conn, LOCAL_ADMIN, NOW + dt.timedelta(hours=1), CADENCE).set_index("table")
        lenient = health.freshness(conn, LOCAL_ADMIN, NOW, {"kpi_observations": 48.0}).set_index("table")
    assert later.at["work_items", "stale"] is True  # 2.5 h against 2 h
    assert lenient.at["kpi_observations", "stale"] is False
    assert lenient.at["work_items", "stale"] is None  # no cadence configured: not judged


def test_campaigns_freshness_counts_from_the_last_periods_end(org):
    with org.begin() as conn:
        store.upsert_campaigns(conn, [dict(channel="web", period_start=dt.date(2026, 11, 9), period_end=dt.date(2026, 11, 15),
                                           budget=100, spend=90, leads=5, conversions=1, revenue=300)])
    with org.connect() as conn:
        f = health.freshness(conn, LOCAL_ADMIN, NOW, CADENCE).set_index("table")
    assert f.at["campaigns", "rows"] == 1
    assert f.at["campaigns", "age_h"] == pytest.approx(8 * 24 + 10.5)  # since 15 Nov 00:00 UTC
    assert f.at["campaigns", "stale"] is True


def test_last_import_per_source_and_table_and_recent_imports_newest_first(org):
    with org.begin() as conn:
        add_import(conn, started=at(50), file_name="crm-old.csv")
        add_import(conn, started=at(2), file_name="crm-new.csv", status="quarantined", quarantined=3, rows_read=12,
                   inserted=5, updated=2, unchanged=2)
        add_import(conn, source="kpi-feed", kind="kpi_observations", started=at(20), file_name="kpis.parquet")
    with org.connect() as conn:
        last = health.last_imports(conn, LOCAL_ADMIN)
        recent = health.recent_imports(conn, LOCAL_ADMIN)
        two = health.recent_imports(conn, LOCAL_ADMIN, limit=2)
    assert list(zip(last.source, last.kind, last.file_name, last.imports)) == [
        ("crm", "work_items", "crm-new.csv", 2), ("kpi-feed", "kpi_observations", "kpis.parquet", 1)]
    crm = last.iloc[0]
    assert (crm.status, crm.rows_read, crm.inserted, crm.updated, crm.unchanged, crm.quarantined) == (
        "quarantined", 12, 5, 2, 2, 3)
    assert crm.started_at == pd.Timestamp(at(2))
    assert list(recent.file_name) == ["crm-new.csv", "kpis.parquet", "crm-old.csv"]
    assert list(two.file_name) == ["crm-new.csv", "kpis.parquet"]


def test_no_imports_means_empty_frames(org):
    with org.connect() as conn:
        assert health.last_imports(conn, LOCAL_ADMIN).empty
        assert health.recent_imports(conn, LOCAL_ADMIN).empty
        assert health.quarantine_counts(conn, LOCAL_ADMIN).empty
        assert health.quarantine_reasons(conn, LOCAL_ADMIN).empty
        assert health.quarantined_rows(conn, LOCAL_ADMIN).total == 0


@pytest.fixture
def quarantined(org):
    with org.begin() as conn:
        first = add_import(conn, started=at(3), status="quarantined", quarantined=3)
        add_quarantine(conn, first, [
            (2, {"id": "x1", "created_at": "yesterday", "value": "-3.5"}, "created_at: not a date; value: below 0"),
            (5, {"id": "x2", "created_at": "2026-11-22", "value": "abc"}, "value: not a number"),
            (7, {"id": "x3", "created_at": "", "value": "1"}, "created_at: missing"),
        ])
        add_quarantine(conn, first, [(9, {"id": "x4", "created_at": "", "value": ""}, "created_at: missing")],
                       status="fixed")
        second = add_import(conn, source="kpi-feed", kind="kpi_observations", started=at(1), status="quarantined",
                            quarantined=2, file_name="kpis.csv")
        add_quarantine(conn, second, [
            (2, {"kpi_id": "revenue", "ts": "2026-11-20", "value": "=HYPERLINK(\"http://x\",\"y\")"},
             "value: not a number"),
            (3, {"kpi_id": "nope", "ts": "2026-11-20", "value": "-2+3"}, "kpi_id: unknown KPI; value: not a number"),
        ], kind="kpi_observations")
    return org, first, second


def test_quarantine_counts_open_and_fixed_rows_per_kind(quarantined):
    engine, *_ = quarantined
    with engine.connect() as conn:
        counts = health.quarantine_counts(conn, LOCAL_ADMIN).set_index("kind")
    assert counts.open.to_dict() == {"kpi_observations": 2, "work_items": 3}
    assert counts.fixed.to_dict() == {"kpi_observations": 0, "work_items": 1}


def test_reasons_are_split_and_grouped_over_open_rows(quarantined):
    engine, first, _ = quarantined
    with engine.connect() as conn:
        reasons = health.quarantine_reasons(conn, LOCAL_ADMIN)
        items_only = health.quarantine_reasons(conn, LOCAL_ADMIN, kind="work_items")
        one_import = health.quarantine_reasons(conn, LOCAL_ADMIN, import_id=first)
    got = {(r.kind, r.column, r.problem): r.rows for r in reasons.itertuples()}
    assert got == {
        ("work_items", "created_at", "missing"): 1,  # the fixed row is not counted
        ("work_items", "created_at", "not a date"): 1,
        ("work_items", "value", "below 0"): 1,
        ("work_items", "value", "not a number"): 1,
        ("kpi_observations", "value", "not a number"): 2,
        ("kpi_observations", "kpi_id", "unknown KPI"): 1,
    }
    assert reasons.rows.iloc[0] == 2  # most frequent first
    assert set(items_only.kind) == {"work_items"} and items_only.rows.sum() == 4
    assert one_import.equals(items_only)


def test_quarantined_rows_are_filtered_and_limited_in_sql(quarantined):
    engine, first, second = quarantined
    with engine.connect() as conn:
        page = health.quarantined_rows(conn, LOCAL_ADMIN, limit=2)
        kpi_rows = health.quarantined_rows(conn, LOCAL_ADMIN, kind="kpi_observations")
        by_import = health.quarantined_rows(conn, LOCAL_ADMIN, import_id=first)
        with_open = health.imports_with_open_rows(conn, LOCAL_ADMIN)
    assert page.total == 5 and len(page.rows) == 2
    assert list(page.rows.row_number) == [2, 3]  # newest import first, then file order
    assert set(kpi_rows.rows.import_id) == {second} and kpi_rows.total == 2
    assert list(by_import.rows.row_number) == [2, 5, 7]  # open only: row 9 was fixed
    assert by_import.rows["values"].iloc[0] == "id: x1 · created_at: yesterday · value: -3.5"
    assert list(zip(with_open.id, with_open.open)) == [(second, 2), (first, 3)]


def test_quarantine_csv_gives_back_the_files_columns_with_formulas_neutralised(quarantined):
    engine, first, second = quarantined
    with engine.connect() as conn:
        items_csv = health.quarantine_csv(conn, LOCAL_ADMIN, first)
        kpi_csv = health.quarantine_csv(conn, LOCAL_ADMIN, second)
    items = pd.read_csv(io.BytesIO(items_csv), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(items.columns) == ["id", "created_at", "value"]
    assert items.values.tolist() == [["x1", "yesterday", "-3.5"], ["x2", "2026-11-22", "abc"], ["x3", "", "1"]]
    kpis = pd.read_csv(io.BytesIO(kpi_csv), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(kpis.columns) == ["kpi_id", "ts", "value"]
    assert kpis.value.tolist() == ["'=HYPERLINK(\"http://x\",\"y\")", "'-2+3"]


def test_an_ingested_files_refused_rows_come_back_fixable_and_a_fixed_row_imports(engine, tmp_path):
    from dashboard.services.imports import ingest

    with engine.begin() as conn:
        tiny_org(conn)  # no customer_service or marketing unit: those rows are refused too
    sample = SAMPLES / "work_items_with_errors.csv"
    first = ingest(engine, sample, viewer=LOCAL_ADMIN, now=NOW)
    with engine.connect() as conn:
        back = pd.read_csv(io.BytesIO(health.quarantine_csv(conn, LOCAL_ADMIN, first.import_id)),
                           encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == sample.read_text().splitlines()[0].split(",")
    assert len(back) == first.quarantined > 0
    assert "'=cmd|' /C calc'!A0" in set(back.id)  # the formula id, neutralised
    assert back.set_index("id").at["WI-2005", "value"] == "-50"  # a negative number is no formula

    fixed = tmp_path / "fixed.csv"
    back[back.id == "WI-2003"].assign(created_at="2026-11-21 10:20").to_csv(fixed, index=False)
    again = ingest(engine, fixed, viewer=LOCAL_ADMIN, now=NOW)
    assert (again.inserted, again.quarantined) == (1, 0)
    with engine.connect() as conn:
        counts = health.quarantine_counts(conn, LOCAL_ADMIN).set_index("kind")
        still_open = health.quarantined_rows(conn, LOCAL_ADMIN, import_id=first.import_id).rows
    assert (counts.at["work_items", "open"], counts.at["work_items", "fixed"]) == (first.quarantined - 1, 1)
    assert "WI-2003" not in set(still_open.row_key)


def test_quality_checks_count_problems_in_sql(org):
    with org.begin() as conn:
        bad = [item(i, "hub", "sales", at(3)) for i in ("backwards", "no-time", "not-resolved")]
        bad[0] |= dict(status="resolved", resolved_at=at(4))  # resolved an hour before it was created
        bad[1] |= dict(status="resolved")  # resolved without resolved_at
        bad[2] |= dict(status="accepted", resolved_at=at(2))  # resolved_at while still open
        # written with Core: the store refuses such rows, an older loader or a hand edit may not have
        conn.execute(insert(work_items), [r | {"due_at": r["created_at"] + dt.timedelta(hours=4), "version": 1}
                                          for r in bad])
        conn.execute(insert(kpi_observations), [
            dict(kpi_id="conversion", ts=at(1), value=150.0), dict(kpi_id="conversion", ts=at(2), value=-1.0),
            dict(kpi_id="revenue", ts=at(1), value=-5.0), dict(kpi_id="close_days", ts=at(1), value=-1.0),
            dict(kpi_id="cost", ts=NOW + dt.timedelta(hours=2), value=3.0),
        ])
    with org.connect() as conn:
        checks = health.quality_checks(conn, LOCAL_ADMIN, NOW)
    by = {(r.table, r.check): (r.problems, r.checked) for r in checks.itertuples()}
    assert by[("work_items", "resolved before created")] == (1, 3)  # b, backwards, not-resolved have resolved_at
    assert by[("work_items", "status resolved but no resolved_at")] == (1, 3)  # b, backwards, no-time
    assert by[("work_items", "resolved_at set but status not resolved")] == (1, 3)
    assert by[("work_items", "created in the future")] == (0, 6)
    assert by[("kpi_observations", "% KPI value outside 0–100")] == (2, 3)
    assert checks.set_index("check").at["% KPI value outside 0–100", "detail"] == "Conversion rate: 2"
    assert by[("kpi_observations", "EUR KPI value below 0")] == (1, 3)  # revenue twice, cost once
    assert by[("kpi_observations", "count KPI value below 0")] == (1, 1)
    assert by[("kpi_observations", "hours KPI value below 0")] == (0, 0)
    assert by[("kpi_observations", "observed in the future")] == (1, 7)
    missing = checks[checks.kind == "missing"].set_index("column")
    assert missing.at["topic", "problems"] == 5 and missing.at["value", "problems"] == 5  # only "a" has both
    assert missing.at["accepted_at", "share"] == pytest.approx(1.0)
    assert missing.at["target", "problems"] == 0  # every tiny_org KPI has a target
    assert checks.loc[checks.checked == 0, "share"].isna().all()


def test_blank_text_counts_as_missing(org):
    with org.begin() as conn:
        store.insert_work_items(conn, [item("blank", "hub", "sales", at(1)) | {"topic": "  ", "text": ""}])
    with org.connect() as conn:
        checks = health.quality_checks(conn, LOCAL_ADMIN, NOW).set_index("column")
    assert checks.at["topic", "problems"] == 3 and checks.at["text", "problems"] == 3


@pytest.mark.parametrize("viewer", [Viewer("sam", Role.SPOKE_LEAD, unit="sales"), Viewer("nina", Role.NONE), None])
def test_only_hub_leads_admins_and_executives_see_data_health(org, viewer):
    calls = [
        lambda c, v: health.freshness(c, v, NOW, CADENCE), health.recent_imports, health.last_imports,
        health.quarantine_counts, health.quarantine_reasons, health.quarantined_rows, health.imports_with_open_rows,
        lambda c, v: health.quarantine_csv(c, v, 1), lambda c, v: health.quality_checks(c, v, NOW),
    ]
    with org.connect() as conn:
        for call in calls:
            with pytest.raises(NotPermitted):
                call(conn, viewer)
        for allowed in (HUB_LEAD, Viewer("eve", Role.EXECUTIVE), LOCAL_ADMIN):
            assert health.freshness(conn, allowed, NOW, CADENCE).rows.sum() == 12


def test_freshness_counts_journeys_by_their_start(org):
    with org.begin() as conn:
        store.insert_journeys(conn, [dict(id="j1", started_at=at(5), converted_at=None, revenue=0.0),
                                     dict(id="j2", started_at=at(3), converted_at=at(1), revenue=250.0)])
    with org.connect() as conn:
        f = health.freshness(conn, LOCAL_ADMIN, NOW, CADENCE | {"journeys": 24.0}).set_index("table")
    assert f.at["journeys", "rows"] == 2
    assert f.at["journeys", "age_h"] == pytest.approx(3)
    assert f.at["journeys", "stale"] is False
