"""Rows an import keeps but warns about (due more than a year ahead, sent from a spoke to itself, more conversions
than leads) are listed on the Data health page: counted by the consistency checks and named in the import's
message. The files go through the real import into a real SQLite file."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from dashboard.db import make_engine
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.services.imports import ingest

PAGE = "pages/health_page.py"
pytestmark = pytest.mark.slow  # two imports and a whole page


def write(path, rows: list[dict]) -> str:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def test_kept_but_doubtful_rows_are_counted_and_named_on_data_health(app, app_db, tmp_path):
    created = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")
    item = dict(kind="lead", source_unit="hub", target_unit="sales", channel="web", topic="pricing", text="x",
                created_at=created, routed_at=created, status="routed", sla_hours="24")
    items = write(tmp_path / "items.csv", [item | {"id": "N-1"}, item | {"id": "N-2", "sla_hours": "20000"},
                                           item | {"id": "N-3", "source_unit": "finance", "target_unit": "finance"}])
    campaign = dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="100", spend="90",
                    leads="10", conversions="3", revenue="500")
    camps = write(tmp_path / "campaigns.csv", [campaign, campaign | {"channel": "social", "conversions": "12"}])
    engine = make_engine(app_db)
    reports = [ingest(engine, path, viewer=LOCAL_ADMIN) for path in (items, camps)]
    engine.dispose()
    assert [(r.inserted, r.quarantined) for r in reports] == [(3, 0), (2, 0)]  # kept, with warnings

    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert any("3 consistency checks found 3 problem rows." in w.value for w in at.warning)
    checks = next(d.value for d in at.dataframe if "Failing rows" in d.value.columns).set_index("Check")
    assert checks.at["Work items · due_at: due more than a year ahead", "Failing rows"] == 1
    assert checks.at["Work items · target_unit: sent from a spoke to itself", "Failing rows"] == 1
    assert checks.at["Campaigns · conversions: more conversions than leads", "Failing rows"] == 1
    recent = next(d.value for d in at.dataframe if "Message" in d.value.columns)
    messages = " ".join(recent.Message)
    for said in ("items.csv: 1 row(s) are due more than a year after the import",
                 "items.csv: 1 row(s) send an item from a unit to itself",
                 "campaigns.csv: 1 row(s) have more conversions than leads"):
        assert said in messages
