"""Calibration: a small hand-built organisation whose rates, delays and service times are known exactly."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.whatif.calibration import (
    DEFAULT_HUB_UTILISATION,
    ITEM_COLUMNS,
    CalibrationError,
    calibrate,
)
from dashboard.whatif.engine import DAYS_PER_YEAR, HOURS_PER_DAY
from dashboard.whatif.inputs import FUNCTION_DEFAULTS, GlobalInputs
from dashboard.whatif.model import evaluate

UTC = dt.timezone.utc
START = dt.datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 10
NOW = START + dt.timedelta(days=DAYS)
HOUR = pd.Timedelta(hours=1)


def stream(kind: str, source: str, target: str, count: int, pre_h: float, service_h: float, sla: float,
           status: str = "resolved", offset_h: float = 0.0) -> list[dict]:
    """``count`` items evenly spread over the window: routed half-way to acceptance, accepted after ``pre_h``."""
    gap = DAYS * 24 / count
    rows = []
    for i in range(count):
        created = pd.Timestamp(START) + (offset_h + i * gap) * HOUR
        accepted = created + pre_h * HOUR
        rows.append({
            "id": f"{kind}-{source}-{target}-{i}", "kind": kind, "source_unit": source, "target_unit": target,
            "channel": "internal", "created_at": created, "routed_at": created + pre_h / 2 * HOUR,
            "accepted_at": accepted if status != "handed_back" else pd.NaT,
            "resolved_at": accepted + service_h * HOUR if status == "resolved" else pd.NaT,
            "status": status, "sla_hours": sla,
        })
    return rows


def half_local(rows: list[dict], spoke: str) -> list[dict]:
    """Every other item stays in ``spoke`` (spoke-local work, picked up at once): a 50 % central share."""
    for i, row in enumerate(rows):
        if i % 2:
            row.update(source_unit=spoke, target_unit=spoke, routed_at=row["created_at"],
                       accepted_at=row["created_at"], resolved_at=row["resolved_at"] - (row["accepted_at"]
                                                                                         - row["created_at"]))
    return rows


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=list(ITEM_COLUMNS))
    for col in ("created_at", "routed_at", "accepted_at", "resolved_at"):
        df[col] = pd.to_datetime(df[col], utc=True)
    return df


@pytest.fixture(scope="module")
def units() -> pd.DataFrame:
    return pd.DataFrame([
        {"id": "hub", "name": "Hub", "kind": "hub", "headcount": 12.0, "cost_per_fte": 90_000.0},
        {"id": "sales", "name": "Sales", "kind": "spoke", "headcount": 30.0, "cost_per_fte": 60_000.0},
        {"id": "hr", "name": "HR", "kind": "spoke", "headcount": 6.0, "cost_per_fte": 70_000.0},
    ])


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return frame(
        stream("request", "sales", "hub", 200, pre_h=2.0, service_h=6.0, sla=24)  # content, central
        + stream("lead", "hub", "sales", 100, pre_h=1.0, service_h=2.0, sla=8, offset_h=0.1)  # CRM, central
        # analytics: half of each spoke's reports go through the hub, half stay local
        + half_local(stream("report", "sales", "hub", 60, pre_h=4.0, service_h=12.0, sla=48, offset_h=0.2), "sales")
        + half_local(stream("report", "hr", "hub", 40, pre_h=4.0, service_h=12.0, sla=48, offset_h=0.3), "hr")
    )


@pytest.fixture(scope="module")
def calibrated(items, units):
    return calibrate(items, units, now=NOW)


def test_calibration_recovers_known_arrival_rates_and_shares(calibrated):
    result = calibrated
    fns = result.inputs.functions
    assert result.window_days == pytest.approx(DAYS)
    assert fns["content_production"].demand_per_day == pytest.approx({"sales": 20.0, "hr": 0.0})
    assert fns["content_production"].central_share == 1.0
    assert fns["crm_lead_management"].demand_per_day == pytest.approx({"sales": 10.0, "hr": 0.0})
    assert fns["analytics_reporting"].demand_per_day == pytest.approx({"sales": 6.0, "hr": 4.0})
    assert fns["analytics_reporting"].central_share == pytest.approx(0.5)
    rates = result.rates.set_index(["kind", "spoke"])["items_per_day"]
    assert rates[("request", "sales")] == pytest.approx(20.0) and rates[("report", "hr")] == pytest.approx(4.0)


def test_calibration_recovers_handoff_delays_variability_and_slas(calibrated):
    result = calibrated
    fns = result.inputs.functions
    assert fns["content_production"].handoff_delay_hours == pytest.approx(2.0)
    assert fns["crm_lead_management"].handoff_delay_hours == pytest.approx(1.0)
    assert fns["analytics_reporting"].handoff_delay_hours == pytest.approx(4.0)
    assert fns["crm_lead_management"].boundary_crossings == 1.0  # nothing handed back
    assert fns["crm_lead_management"].ca == pytest.approx(0.0, abs=1e-6)  # perfectly regular arrivals
    assert fns["crm_lead_management"].cs == pytest.approx(0.0, abs=1e-9)  # constant service
    assert fns["crm_lead_management"].sla_hours == 8 and fns["analytics_reporting"].sla_hours == 48
    estimates = result.estimates
    assert estimates.at["content_production", "routing_mean_h"] == pytest.approx(1.0)
    assert estimates.at["content_production", "pickup_mean_h"] == pytest.approx(1.0)
    spokes = {s.id: s for s in result.inputs.spokes}
    assert result.inputs.hub.fte_cost == 90_000 and spokes["sales"].fte_cost == 60_000


def test_modelled_in_progress_times_equal_the_observed_service_times(calibrated):
    result = calibrated
    queues = evaluate(result.inputs).queues.set_index(["function", "unit"])
    assert queues.at[("content_production", "hub"), "service_h"] == pytest.approx(6.0)
    assert queues.at[("analytics_reporting", "hub"), "service_h"] == pytest.approx(12.0)
    assert queues.at[("analytics_reporting", "sales"), "service_h"] == pytest.approx(12.0)  # spoke-local items
    assert queues.at[("analytics_reporting", "hub"), "handoff_h"] == pytest.approx(4.0)
    assert queues.at[("crm_lead_management", "hub"), "service_h"] == pytest.approx(2.0)


def test_work_content_shares_the_hub_headcount_in_proportion_to_in_progress_time(calibrated):
    g = GlobalInputs()
    capacity = g.productive_hours_per_day * g.working_days_per_year / DAYS_PER_YEAR
    result = calibrated
    fns = result.inputs.functions
    observed = ("content_production", "crm_lead_management", "analytics_reporting")
    default_work = sum(fns[f].central_share * sum(fns[f].demand_per_day.values())
                       * FUNCTION_DEFAULTS[f]["hours_per_item_specialist"] for f in fns if f not in observed)
    observed_work = sum(fns[f].central_share * sum(fns[f].demand_per_day.values()) * fns[f].hours_per_item_specialist
                        for f in observed)
    # the hub's 12 FTE at 80 % are exactly used up (to the rounding of the stored estimates)
    assert observed_work + default_work == pytest.approx(12.0 * capacity * DEFAULT_HUB_UTILISATION, rel=1e-6)
    flow = fns["content_production"].flow_efficiency
    assert 0 < flow < 1 and fns["analytics_reporting"].flow_efficiency == flow
    assert fns["content_production"].hours_per_item_specialist == pytest.approx(6.0 * flow * capacity / HOURS_PER_DAY)
    assert any("flow efficiency" in f for f in result.flags)


def test_without_a_hub_headcount_work_content_is_the_whole_in_progress_time(items, units):
    units = units.assign(headcount=[0.0, 30.0, 6.0])
    result = calibrate(items, units, now=NOW)
    assert result.inputs.functions["content_production"].flow_efficiency is None
    assert any("no hub headcount" in f for f in result.flags)


def test_the_calibrated_model_reproduces_observed_cycle_times(items, calibrated):
    result = calibrated
    fit = result.fit
    assert list(fit.index) == ["hr", "sales"]  # spokes in id order
    done = items.dropna(subset=["resolved_at"])
    hours = (done["resolved_at"] - done["created_at"]).dt.total_seconds() / 3600
    sales = hours[(done["source_unit"] == "sales") | (done["target_unit"] == "sales")]
    assert fit.at["sales", "items_resolved"] == len(sales) == 360
    assert fit.at["sales", "observed_median_h"] == pytest.approx(sales.median())
    assert fit.at["sales", "observed_mean_h"] == pytest.approx(sales.mean())
    # regular arrivals and constant service: no queueing, so the model's lead time is exactly the sum of its parts
    assert sales.mean() == pytest.approx((200 * (2 + 6) + 100 * (1 + 2) + 30 * (4 + 12) + 30 * 12) / 360)
    assert fit.at["sales", "modelled_mean_h"] == pytest.approx(sales.mean(), rel=1e-6)
    assert fit.at["sales", "modelled_median_h"] == pytest.approx(8.0, rel=1e-6) == sales.median()
    assert fit.at["hr", "modelled_mean_h"] == pytest.approx(14.0, rel=1e-6)
    assert abs(fit.at["sales", "mean_error"]) < 1e-6


def test_functions_without_observations_keep_flagged_defaults(calibrated):
    result = calibrated
    assert result.estimates.at["martech_platforms", "source"] == "defaults"
    assert result.estimates.at["social_listening", "items"] == 0
    assert any("Marketing technology" in f and "default" in f for f in result.flags)
    assert result.used_defaults


def test_handed_back_items_add_a_crossing(units):
    rows = (stream("lead", "hub", "sales", 90, pre_h=1.0, service_h=2.0, sla=8)
            + stream("lead", "hub", "sales", 10, pre_h=1.0, service_h=2.0, sla=8, status="handed_back",
                     offset_h=0.5))
    result = calibrate(frame(rows), units, now=NOW)
    assert result.inputs.functions["crm_lead_management"].boundary_crossings == pytest.approx(1.1)


def test_unmapped_kinds_and_unknown_units_are_ignored_with_a_flag(items, units):
    extra = frame(stream("gossip", "sales", "hub", 5, 1.0, 1.0, 8) + stream("lead", "hub", "mars", 5, 1.0, 1.0, 8))
    result = calibrate(pd.concat([items, extra], ignore_index=True), units, now=NOW)
    assert result.items_used == len(items)
    assert any("gossip" in f for f in result.flags)
    assert any("not attributable" in f for f in result.flags)


def test_out_of_order_timestamps_are_ignored_for_that_estimate_not_fatal(items, units):
    broken = items.copy()
    broken.loc[0, "resolved_at"] = broken.loc[0, "accepted_at"] - pd.Timedelta(hours=3)
    result = calibrate(broken, units, now=NOW)
    assert any("out of order" in f for f in result.flags)
    assert np.isfinite(result.fit["observed_mean_h"]).all()


def test_now_defaults_to_the_latest_timestamp(items, units):
    result = calibrate(items, units)
    latest = max(items[c].max() for c in ("created_at", "routed_at", "accepted_at", "resolved_at"))
    assert result.window_days == pytest.approx((latest - items["created_at"].min()).total_seconds() / 86_400)


@pytest.mark.parametrize("mutate, message", [
    (lambda i, u: (i.iloc[0:0], u), "no work items"),
    (lambda i, u: (i.drop(columns=["accepted_at"]), u), "lack the column"),
    (lambda i, u: (i, u[u["kind"] != "hub"]), "exactly one hub"),
    (lambda i, u: (i, u[u["kind"] != "spoke"]), "no spokes"),
    (lambda i, u: (i.assign(created_at=i["created_at"].dt.tz_localize(None)), u), "timezone-aware"),
    (lambda i, u: (i[i["created_at"] < pd.Timestamp(START) + 5 * HOUR], u), "at least 1 day"),
    (lambda i, u: (i.assign(kind="gossip"), u), "no work item could be attributed"),
    (lambda i, u: (i.assign(created_at="yesterday-ish"), u), "not timestamps"),
    (lambda i, u: ("items", u), "must be a pandas DataFrame"),
])
def test_insufficient_data_raises_a_clear_calibration_error(items, units, mutate, message):
    bad_items, bad_units = mutate(items, units)
    with pytest.raises(CalibrationError, match=message):
        calibrate(bad_items, bad_units)  # the window ends at the latest timestamp in the data


def test_naive_now_is_refused(items, units):
    with pytest.raises(CalibrationError, match="timezone-aware"):
        calibrate(items, units, now=NOW.replace(tzinfo=None))
