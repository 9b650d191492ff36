"""The data-health page through the real app: freshness flags, the imports' empty state, quarantine, checks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import imports, kpi_observations, make_engine, quarantine, work_items
from dashboard.domain.access import Role, Viewer
from dashboard.ui import identity
from tests.app.numbers import raw_numbers_on_page, unformatted_columns
from tests.app.shown import shown

PAGE = "pages/health_page.py"


def table_with(at, column):
    return next(d.value for d in at.dataframe if column in d.value.columns)


@pytest.fixture
def with_quarantine(app_db):
    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        import_id = conn.execute(insert(imports).values(
            source="crm", file_name="leads.csv", kind="work_items", content_hash="abc", size_bytes=120,
            started_at=now - dt.timedelta(hours=1), finished_at=now, status="quarantined", rows_read=4,
            inserted=2, updated=0, unchanged=0, quarantined=2, imported_by="test",
        ).returning(imports.c.id)).scalar_one()
        conn.execute(insert(quarantine), [
            dict(import_id=import_id, kind="work_items", row_number=3, row_key="l-3", status="open",
                 raw=json.dumps({"id": "l-3", "created_at": "soon", "text": "=1+1"}), reasons="created_at: not a date"),
            dict(import_id=import_id, kind="work_items", row_number=4, row_key="l-4", status="open",
                 raw=json.dumps({"id": "l-4", "created_at": "", "text": "hi"}),
                 reasons="created_at: missing; status: not one of new, routed"),
        ])
    return app_db, import_id


def test_page_renders_on_the_sample_database_with_no_imports(app, app_db):
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Data health"
    fresh = table_with(at, "Expected every").set_index("Table")
    assert fresh.Rows.to_dict() == {"Work items": 22, "KPI observations": 72, "KPIs": 4, "Units": 3, "Campaigns": 0,
                                    "Customer journeys": 0}
    assert fresh.Status.to_dict() == {"Work items": "fresh", "KPI observations": "fresh", "KPIs": "not judged",
                                      "Units": "not judged", "Campaigns": "empty", "Customer journeys": "empty"}
    assert fresh.at["Work items", "Age"] == "1.0 h ago" and fresh.at["Work items", "Expected every"] == "2.0 h"
    assert any("No files imported yet" in i.value for i in at.info)
    assert any("Nothing in quarantine" in s.value for s in at.success)
    assert any("No stale tables" in s.value for s in at.success)  # the sample data is minutes old
    checks = table_with(at, "Failing rows")
    assert (checks["Failing rows"] == 0).all()  # the sample data passes every consistency check


def test_a_table_older_than_its_cadence_is_flagged_stale(app, app_db, use_db):
    use_db(app_db, freshness_hours='{"work_items": 0.5}')  # the newest sample item is an hour old
    at = app(PAGE).run()
    assert not at.exception, at.exception
    stale = [w.value for w in at.warning if "Stale" in w.value]
    assert len(stale) == 1 and "Work items" in stale[0] and "KPI observations" not in stale[0]
    fresh = table_with(at, "Expected every").set_index("Table")
    assert fresh.at["Work items", "Status"] == "STALE" and fresh.at["Work items", "Expected every"] == "30 min"
    assert fresh.at["KPI observations", "Status"] == "fresh"


def test_quarantined_rows_reasons_and_last_import_are_shown(app, with_quarantine):
    _, import_id = with_quarantine
    at = app(PAGE).run()
    assert not at.exception, at.exception
    last = table_with(at, "Imports")
    assert last[["Source", "File", "Status", "Quarantined", "Imports"]].values.tolist() == [
        ["crm", "leads.csv", "quarantined", 2, 1]]
    reasons = table_with(at, "Problem")
    assert sorted(zip(reasons.Column, reasons.Problem, reasons.Rows)) == [
        ("created_at", "missing", 1), ("created_at", "not a date", 1), ("status", "not one of new, routed", 1)]
    rows = table_with(at, "Reasons")
    assert rows.Row.tolist() == [3, 4] and rows.Import.tolist() == [import_id, import_id]
    assert ("Work items", "2 open") in [(m.label, m.value) for m in at.metric]
    assert not at.get("download_button")  # offered once one import is chosen


def test_choosing_an_import_offers_its_rows_as_csv(app, with_quarantine):
    _, import_id = with_quarantine
    at = app(PAGE).run()
    at.selectbox(key="health_import_all").set_value(import_id).run()
    assert not at.exception, at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Download open rows of leads.csv (CSV)"]
    at.selectbox(key="health_kind").set_value("work_items").run()
    assert len(table_with(at, "Reasons")) == 2


def test_a_viewer_without_a_hub_role_is_not_permitted(app, app_db, monkeypatch):
    monkeypatch.setattr(identity, "current_viewer", lambda: Viewer("sam", Role.SPOKE_LEAD, unit="sales"))
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert "Not permitted" in at.error[0].value
    assert not at.metric and not at.dataframe



def test_rerunning_the_checks_finds_a_row_written_since(app, app_db):
    at = app(PAGE).run()
    assert any("Every consistency check passes" in s.value for s in at.success)
    with make_engine(app_db).begin() as conn:  # a resolved item with no resolved_at, written around the store
        now = dt.datetime.now(dt.UTC)
        conn.execute(insert(work_items).values(
            id="odd", kind="lead", source_unit="hub", target_unit="sales", channel="web", created_at=now,
            due_at=now, status="resolved", sla_hours=1.0, version=1))
    at.button(key="health_recheck").click().run()
    assert not at.exception, at.exception
    assert any("1 consistency check found 1 problem row." in w.value for w in at.warning)
    checks = table_with(at, "Failing rows").set_index("Check")
    assert checks.at["Work items · resolved_at: status resolved but no resolved_at", "Failing rows"] == 1


def test_a_campaign_roi_above_100_percent_is_no_problem_but_a_share_above_100_is(app, app_db):
    """A percentage KPI aiming above 100 % (ROI) may pass 100; the page says which KPIs it does not range-check.
    A share (conversion rate, target 5 %) at 140 % is still a problem."""
    now = dt.datetime.now(dt.UTC)
    with make_engine(app_db).begin() as conn:
        store.upsert_kpis(conn, [dict(id="roi", unit_id="hub", name="Campaign ROI", unit_of_measure="%", target=250.0,
                                      direction="higher", aggregation="mean", parent_id="cost", is_goal=False,
                                      sort_order=9)])
        conn.execute(insert(kpi_observations), [dict(kpi_id="roi", ts=now - dt.timedelta(hours=h), value=v)
                                                for h, v in ((1, 310.0), (2, 275.5), (3, 90.0))])
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert any("Every consistency check passes" in s.value for s in at.success)
    assert any(shown(c.value).startswith("Not range-checked: Campaign ROI (target 250.0 %)") for c in at.caption)

    with make_engine(app_db).begin() as conn:
        conn.execute(insert(kpi_observations).values(kpi_id="conversion", ts=now - dt.timedelta(minutes=5), value=140.0))
    at.button(key="health_recheck").click().run()
    checks = table_with(at, "Failing rows").set_index("Check")
    check = "KPI observations · value: % KPI value outside 0–100 (Conversion rate: 1)"
    assert checks.at[check, "Failing rows"] == 1
    share, checked = checks.at[check, "Share"], checks.at[check, "Rows checked"]
    assert checked == 25 and share == f"{1 / checked * 100:.1f} %"  # 24 sample conversion rows + this one


def test_every_number_on_the_page_is_formatted(app, with_quarantine):
    at = app(PAGE).run()
    at.selectbox(key="health_import_all").set_value(with_quarantine[1]).run()
    assert not at.exception, at.exception
    assert not unformatted_columns(at), unformatted_columns(at)
    assert not raw_numbers_on_page(at), raw_numbers_on_page(at)
    started = next(d for d in at.dataframe if "Imports" in d.value.columns)
    config = json.loads(started.proto.columns)
    assert config["Started"]["type_config"]["format"] == "D MMM YYYY, HH:mm"  # to the minute
    assert config["Started"]["label"] == "Started (UTC)"
    assert not [c.value for c in at.caption if "DASHBOARD_" in c.value]  # settings are named in help, not in text
