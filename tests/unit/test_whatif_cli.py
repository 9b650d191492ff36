"""``python -m dashboard.whatif``: the command line analysts use, run as a real process against a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.db import make_engine, migrate, work_items
from dashboard.whatif.inputs import default_inputs, dump_inputs
from loaders import demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}"
    engine = make_engine(url)
    migrate(engine)
    demo.load_demo(engine, work_items=40_000, kpi_observations=2_000, days=40)
    with engine.connect() as conn:
        rows = pd.DataFrame(conn.execute(select(work_items)).mappings().all())
    engine.dispose()
    return url, rows


def run(*args: str, url: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if url:
        env["DASHBOARD_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "dashboard.whatif", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)


def test_as_is_json_gives_each_spoke_beside_what_was_observed(demo_db):
    url, rows = demo_db
    done = run("as-is", "--json", "--days", "30", url=url)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["window_days"] == pytest.approx(30.0)
    assert 0.2 < out["central_share_mean"] < 0.5
    spokes = {s["unit_id"]: s for s in out["spokes"]}
    assert set(spokes) == {"sales", "finance", "customer_service", "product", "hr"}
    end = pd.Timestamp(out["end"])
    start = end - pd.Timedelta(days=30)
    resolved = pd.to_datetime(rows.resolved_at, utc=True)
    created = pd.to_datetime(rows.created_at, utc=True)
    for spoke, s in spokes.items():
        assert {"median_lead_time_h", "mean_lead_time_h", "sla_share", "fte", "cost"} <= set(s)
        mine = (resolved >= start) & (resolved < end) & ((rows.source_unit == spoke) | (rows.target_unit == spoke))
        lead = (resolved[mine] - created[mine]).dt.total_seconds() / 3600
        assert s["observed"]["items_resolved"] == int(mine.sum())
        assert s["observed"]["median_lead_time_h"] == pytest.approx(lead.median(), rel=1e-3)
        assert s["median_lead_time_h"] == pytest.approx(lead.median(), rel=0.10)
        assert s["mean_lead_time_h"] == pytest.approx(lead.mean(), rel=0.10)
        assert s["fte"] > 0 and s["cost"] > 0
    assert out["max_error_vs_observed"] <= 0.10
    assert {f["function"] for f in out["functions"]} >= {"content_production", "crm_lead_management"}
    assert "martech_platforms" in out["missing_functions"]


def test_as_is_text_is_a_readable_table(demo_db):
    url, _rows = demo_db
    done = run("as-is", url=url)
    assert done.returncode == 0, done.stderr
    assert "Central share" in done.stdout and "Customer service" in done.stdout
    assert "Largest difference from observed" in done.stdout


def test_scenario_evaluates_saved_inputs_from_a_file(tmp_path):
    path = tmp_path / "typed.json"
    path.write_text(json.dumps(dump_inputs(default_inputs(["north", "south"], central_share=0.0))), encoding="utf-8")
    done = run("scenario", str(path), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [s["unit_id"] for s in out["spokes"]] == ["north", "south"]
    assert out["totals"]["central_share_mean"] == 0.0 and out["totals"]["handoffs_per_month"] == pytest.approx(
        sum(f["items_per_month"] for f in out["functions"]
            if f["function"] in ("campaign_planning", "social_listening", "crm_lead_management")), rel=1e-3)


def test_simulate_runs_the_discrete_event_check_of_a_preset(demo_db):
    url, _rows = demo_db
    done = run("simulate", "--preset", "hybrid", "--days", "3", "--seed", "2", "--json", url=url)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["items"] > 1000 and out["days"] == 3.0
    assert {s["unit_id"] for s in out["spokes"]} == {"sales", "finance", "customer_service", "product", "hr"}
    assert all(s["simulated_items"] > 0 for s in out["spokes"])


@pytest.mark.parametrize("args, words", [
    (("scenario", "/no/such/file.json"), "cannot read"),
    (("scenario", "{bad}"), "cannot read"),
])
def test_bad_input_ends_with_one_error_line(tmp_path, args, words):
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error:") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_file_that_is_not_inputs_says_why(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"inputs_version": 3, "spokes": []}), encoding="utf-8")
    done = run("scenario", str(path))
    assert done.returncode == 2 and "holds inputs the model cannot use" in done.stderr
    path.write_text("not json", encoding="utf-8")
    done = run("scenario", str(path))
    assert done.returncode == 2 and "is not JSON" in done.stderr


def test_an_empty_database_cannot_be_calibrated_and_says_so(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    done = run("as-is", url=url)
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot calibrate the as-is:") and "Traceback" not in done.stderr


def test_the_window_ends_now(demo_db):
    url, _rows = demo_db
    done = run("as-is", "--json", "--days", "7", url=url)
    out = json.loads(done.stdout)
    end = dt.datetime.fromisoformat(out["end"])
    assert abs((dt.datetime.now(dt.UTC) - end).total_seconds()) < 600
    assert out["window_days"] == pytest.approx(7.0)
