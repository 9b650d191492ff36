"""Calibration: a small organisation simulated by hand, whose demand, shares, times and office hours are known.

The organisation (``simulate``): a hub open Mon-Fri 09:00-17:00 UTC with a content team and an analytics team,
Sales open Mon-Fri 08:00-16:00 (not stored: calibration has to read it from the data) and HR open Mon-Fri
09:00-17:00. Every team is a few people who work first come, first served, one item at a time, only in their
office hours (work left at closing continues at the next opening). The simulation keeps its own staffed clock
(``Office``), written independently of ``dashboard.whatif.calendar``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.whatif import observed
from dashboard.whatif.calibration import (
    ITEM_COLUMNS,
    MIN_HANDBACKS,
    CalibrationError,
    CalibrationResult,
    calibrate,
)
from dashboard.whatif.inputs import DEFAULT_PATIENCE_H, FUNCTION_DEFAULTS, InputError, dump_inputs, load_inputs
from dashboard.whatif.model import evaluate

ORIGIN = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday
WEEKS = 6
NOW = ORIGIN + pd.Timedelta(weeks=WEEKS)
DAYS = 28
HOUR = pd.Timedelta(hours=1)
SCALE = 2.0  # demand and people of the simulated organisation


class Office:
    """Whole-hour office hours, the same on each of ``days`` (0 = Monday) in UTC: calendar hours since ORIGIN <->
    open hours since ORIGIN."""

    def __init__(self, opens: float, closes: float, days=range(5), weeks: int = WEEKS + 10):
        self.starts = np.array([w * 168.0 + d * 24.0 + opens for w in range(weeks) for d in days])
        self.length = closes - opens
        self.before = np.arange(len(self.starts)) * self.length  # open hours before each window

    def staffed(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        i = np.searchsorted(self.starts, t, side="right") - 1
        inside = np.clip(t - self.starts[np.maximum(i, 0)], 0.0, self.length)
        return np.where(i < 0, 0.0, self.before[np.maximum(i, 0)] + inside)

    def calendar(self, s: np.ndarray, *, opening: bool = False) -> np.ndarray:
        """When ``s`` open hours have passed; at a window's edge, the next opening (``opening``) or the closing."""
        s = np.asarray(s, dtype=float)
        k = np.floor(s / self.length) if opening else np.ceil(s / self.length) - 1
        k = np.maximum(k, 0).astype(int)
        return self.starts[k] + (s - self.before[k])


HUB_HOURS, SALES_HOURS, HR_HOURS = Office(9, 17), Office(8, 16), Office(9, 17)


def at(hours: np.ndarray) -> pd.Series:
    return ORIGIN + pd.to_timedelta(np.asarray(hours, dtype=float), unit="h")


def created_times(rng: np.random.Generator, per_day: float) -> np.ndarray:
    """Poisson arrivals over the weeks, five times as many per hour on weekdays 08:00-18:00 as otherwise."""
    weights = np.full(168, 0.2)
    for day in range(5):
        weights[day * 24 + 8:day * 24 + 18] = 1.0
    n = rng.poisson(per_day * 7 * WEEKS)
    hours = rng.choice(168, n, p=weights / weights.sum())
    return np.sort(rng.integers(0, WEEKS, n) * 168.0 + hours + rng.random(n))


def team_items(rng: np.random.Generator, kind: str, source: str, target: str, per_day: float, mean_h: float,
               office: Office, people: int, sla: float, transfer: float = 0.0, cv: float = 0.8) -> pd.DataFrame:
    """Items of one kind from ``source`` worked by ``target``'s team of ``people``: routed ``transfer`` hours after
    creation, then first come first served in office hours, lognormal in-progress times (staffed hours)."""
    created = created_times(rng, per_day)
    reached = created + transfer
    sigma2 = np.log1p(cv * cv)
    size = np.exp(np.log(mean_h) - sigma2 / 2 + np.sqrt(sigma2) * rng.standard_normal(len(created)))
    arrive = office.staffed(reached)
    free = np.zeros(people)
    start, end = np.empty_like(arrive), np.empty_like(arrive)
    for i in np.argsort(arrive, kind="stable"):
        k = int(np.argmin(free))
        start[i] = max(arrive[i], free[k])
        end[i] = free[k] = start[i] + size[i]
    frame = pd.DataFrame({
        "id": [f"{kind}-{source}-{target}-{i}" for i in range(len(created))], "kind": kind, "source_unit": source,
        "target_unit": target, "created_at": at(created), "routed_at": at(reached),
        "accepted_at": at(office.calendar(start, opening=True)), "resolved_at": at(office.calendar(end)),
        "status": "resolved", "sla_hours": float(sla)})
    frame["due_at"] = frame["created_at"] + pd.to_timedelta(frame["sla_hours"], unit="h")
    return frame


def as_of(frame: pd.DataFrame, now: pd.Timestamp = NOW) -> pd.DataFrame:
    """What the table shows at ``now``: later acceptances and resolutions have not happened yet."""
    frame = frame[frame["created_at"] < now].copy()
    later = frame["resolved_at"] >= now
    frame.loc[later, "resolved_at"] = pd.NaT
    frame.loc[later, "status"] = "accepted"
    later = frame["accepted_at"] >= now
    frame.loc[later, "accepted_at"] = pd.NaT
    frame.loc[later, "status"] = "routed"
    return frame.reset_index(drop=True)


def simulate(seed: int = 1, *, extra: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    s = SCALE
    parts = [
        team_items(rng, "request", "sales", "hub", 5.0 * s, 3.0, HUB_HOURS, int(4 * s), 72, transfer=0.5),  # content
        team_items(rng, "lead", "hub", "sales", 12.0 * s, 1.0, SALES_HOURS, int(3 * s), 24, transfer=0.25),  # CRM
        team_items(rng, "report", "hr", "hub", 1.5 * s, 4.0, HUB_HOURS, int(2 * s), 48, transfer=0.5),  # analytics
        team_items(rng, "report", "hr", "hr", 1.5 * s, 6.0, HR_HOURS, int(3 * s), 48),  # analytics done in HR
    ]
    return as_of(pd.concat(parts + (extra or []), ignore_index=True))


def units_table(**changes) -> pd.DataFrame:
    rows = [
        {"id": "hub", "name": "Hub", "kind": "hub", "headcount": 8.6 * SCALE, "cost_per_fte": 90_000.0,
         "timezone": "UTC", "office_hours": "Mon-Fri 09:00-17:00"},
        {"id": "sales", "name": "Sales", "kind": "spoke", "headcount": 4.3 * SCALE, "cost_per_fte": 60_000.0,
         "timezone": "UTC", "office_hours": None},
        {"id": "hr", "name": "HR", "kind": "spoke", "headcount": 2.9 * SCALE, "cost_per_fte": 70_000.0,
         "timezone": None, "office_hours": None},
    ]
    for row in rows:
        row.update(changes.get(row["id"], {}))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    return simulate()


@pytest.fixture(scope="module")
def result(items) -> CalibrationResult:
    return calibrate(items, units_table(), NOW.to_pydatetime(), days=DAYS)


def in_window(items: pd.DataFrame, column: str, start=NOW - pd.Timedelta(days=DAYS), end=NOW) -> pd.DataFrame:
    return items[(items[column] >= start) & (items[column] < end)]


def stream_of(result: CalibrationResult, function: str, spoke: str):
    (stream,) = [s for s in result.inputs.functions[function].streams if s.spoke == spoke]
    return stream


def estimate(result: CalibrationResult, function: str, worker: str) -> pd.Series:
    table = result.estimates
    return table[(table["function"] == function) & (table["worker"] == worker)].iloc[0]


# --- streams: demand, share, SLA, who works what ------------------------------------------------------------------


def test_streams_are_function_spoke_kind_and_origin_and_demand_is_items_created_per_day(items, result):
    assert result.window_days == pytest.approx(DAYS)
    keys = {fid: {(s.spoke, s.kind, s.origin) for s in fn.streams} for fid, fn in result.inputs.functions.items()}
    assert keys == {"content_production": {("sales", "request", "spoke")},
                    "crm_lead_management": {("sales", "lead", "hub")},
                    "analytics_reporting": {("hr", "report", "spoke")}}
    created = in_window(items, "created_at")
    requests = created[created["kind"] == "request"]
    leads = created[created["kind"] == "lead"]
    reports = created[created["kind"] == "report"]
    assert stream_of(result, "content_production", "sales").demand_per_day == pytest.approx(len(requests) / DAYS)
    assert stream_of(result, "crm_lead_management", "sales").demand_per_day == pytest.approx(len(leads) / DAYS)
    assert stream_of(result, "analytics_reporting", "hr").demand_per_day == pytest.approx(len(reports) / DAYS)
    assert result.items_used == len(items[(items["created_at"] >= NOW - pd.Timedelta(days=DAYS))
                                          | (items["resolved_at"] >= NOW - pd.Timedelta(days=DAYS))])


def test_the_central_share_is_the_share_the_hub_works(items, result):
    created = in_window(items, "created_at")
    reports = created[created["kind"] == "report"]
    # requests go to the hub, leads from the hub are worked by Sales, HR works some of its own reports
    assert stream_of(result, "content_production", "sales").central_share == 1.0
    assert stream_of(result, "crm_lead_management", "sales").central_share == 0.0
    assert stream_of(result, "analytics_reporting", "hr").central_share == pytest.approx(
        (reports["target_unit"] == "hub").mean(), abs=1e-6)
    assert {f: fn.central_share for f, fn in result.inputs.functions.items()} == dict.fromkeys(
        result.inputs.functions)  # None: each stream keeps its observed share
    # who works an item is its target: the hub's observed times come from items the hub resolved
    resolved = in_window(items, "resolved_at")
    assert estimate(result, "content_production", "hub")["observed_items"] == (resolved["kind"] == "request").sum()
    assert estimate(result, "crm_lead_management", "spoke")["observed_items"] == (resolved["kind"] == "lead").sum()
    assert estimate(result, "analytics_reporting", "hub")["observed_items"] == (
        (resolved["kind"] == "report") & (resolved["target_unit"] == "hub")).sum()
    assert estimate(result, "crm_lead_management", "hub")["observed_items"] == 0
    assert estimate(result, "crm_lead_management", "hub")["source"].startswith("derived from the spoke's times")


def test_sla_and_transfer_come_from_the_items(result):
    assert stream_of(result, "content_production", "sales").sla_hours == 72.0
    assert stream_of(result, "crm_lead_management", "sales").sla_hours == 24.0
    assert stream_of(result, "analytics_reporting", "hr").sla_hours == 48.0
    # created → routed of the items that cross the boundary; none for work done where it comes from
    assert stream_of(result, "content_production", "sales").hub.transfer_h == pytest.approx(0.5)
    assert stream_of(result, "crm_lead_management", "sales").local.transfer_h == pytest.approx(0.25)
    assert stream_of(result, "analytics_reporting", "hr").hub.transfer_h == pytest.approx(0.5)
    assert stream_of(result, "analytics_reporting", "hr").local.transfer_h == 0.0
    assert stream_of(result, "content_production", "sales").local.transfer_h == 0.0


def test_in_progress_time_runs_on_the_workers_staffed_clock():
    # 12 requests to the hub (open Mon-Fri 09:00-17:00), each created Friday 15:00, routed 15:30, accepted 16:00
    # and resolved on Monday 10:00: 0.5 h transfer, 0.5 staffed hours to pick up, 2 staffed hours in progress
    fridays = [ORIGIN + pd.Timedelta(days=4 + 7 * w, hours=15) for w in range(4)]
    rows = []
    for w, friday in enumerate(fridays):
        for i in range(3):
            rows.append({"id": f"r{w}-{i}", "kind": "request", "source_unit": "sales", "target_unit": "hub",
                         "created_at": friday, "routed_at": friday + 0.5 * HOUR, "accepted_at": friday + HOUR,
                         "resolved_at": friday + pd.Timedelta(days=3, hours=-5), "status": "resolved",
                         "sla_hours": 72.0})
    frame = pd.DataFrame(rows)
    now = fridays[-1] + pd.Timedelta(days=3, hours=-3)  # Monday 12:00
    result = calibrate(frame, units_table(), now.to_pydatetime(), days=DAYS)
    row = estimate(result, "content_production", "hub")
    assert row["observed_items"] == 12
    assert row["observed_in_progress_h"] == pytest.approx(2.0)
    assert row["observed_pickup_h"] == pytest.approx(0.5)
    assert row["transfer_h"] == pytest.approx(0.5)
    stream = stream_of(result, "content_production", "sales")
    assert stream.hub.in_progress_h == pytest.approx(2.0)
    assert stream.demand_per_day == pytest.approx(12 / result.window_days)
    assert result.window_days == pytest.approx((now - fridays[0]).total_seconds() / 86_400)  # from the first item
    # Sales never worked anything: its office hours are the default, and a flag says so
    assert result.calendars.loc["sales", "source"] == "default"
    assert result.calendars.loc["sales", "hours"] == "Mon-Fri 09:00-17:00"
    assert any(f.startswith("Sales: too little observed work to read office hours") for f in result.flags)


# --- office hours --------------------------------------------------------------------------------------------------


def test_office_hours_are_the_stored_ones_else_read_from_the_data(result):
    calendars = result.calendars
    assert calendars.loc["hub", "source"] == "stored" and calendars.loc["hub", "hours"] == "Mon-Fri 09:00-17:00"
    assert calendars.loc["sales", "source"] == "inferred" and calendars.loc["sales", "hours"] == "Mon-Fri 08:00-16:00"
    assert calendars.loc["hr", "source"] == "inferred" and calendars.loc["hr", "timezone"] == "UTC"
    units = {u.id: u for u in result.inputs.units}
    assert units["hub"].hours_source == "stored" and units["sales"].hours_source == "inferred"
    assert units["sales"].hours == "Mon-Fri 08:00-16:00"
    assert not any("office hours" in f for f in result.flags)


def test_stored_office_hours_and_time_zones_win_over_the_data(items):
    result = calibrate(items, units_table(sales={"office_hours": "Mon-Sat 07:00-19:00", "timezone": "Europe/Berlin"}),
                       NOW.to_pydatetime(), days=DAYS)
    assert result.calendars.loc["sales", ["hours", "timezone", "source"]].tolist() == [
        "Mon-Sat 07:00-19:00", "Europe/Berlin", "stored"]
    assert result.calendars.loc["sales", "hours_per_week"] == 72.0


# --- teams -------------------------------------------------------------------------------------------------------


def test_the_hub_headcount_is_split_across_its_teams_by_in_progress_load(result):
    pools = result.pools
    hub_pools = [p for p in pools.index if p.startswith("hub:")]
    assert sorted(hub_pools) == ["hub:analytics_reporting", "hub:content_production"]
    assert pools.loc[hub_pools, "headcount"].sum() == pytest.approx(8.6 * SCALE)
    load = {}
    for function in ("content_production", "analytics_reporting"):
        row = estimate(result, function, "hub")
        load[f"hub:{function}"] = row["demand_per_day"] * 7 * row["central_share"] * row["observed_in_progress_h"]
        assert pools.loc[f"hub:{function}", "in_progress_load_h_per_week"] == pytest.approx(load[f"hub:{function}"])
    total = sum(load.values())
    for pool, value in load.items():
        assert pools.loc[pool, "headcount"] == pytest.approx(8.6 * SCALE * value / total)
    assert pools.loc["sales", "headcount"] == 4.3 * SCALE and pools.loc["hr", "headcount"] == 2.9 * SCALE
    assert (pools["fte"] <= pools["headcount"] + 1e-9).all()
    assert ((pools["flow_efficiency"] > 0) & (pools["flow_efficiency"] <= 1.0)).all()
    assert ((pools["occupancy"] > 0) & (pools["occupancy"] <= 0.85)).all()
    # the occupancy is lowered until the modelled wait before pick-up is no longer than items were seen to wait
    # (within 2 % of their staffed time from reaching the team to resolution)
    for pool, worker, function in (("hub:content_production", "hub", "content_production"),
                                   ("hub:analytics_reporting", "hub", "analytics_reporting"),
                                   ("sales", "spoke", "crm_lead_management"), ("hr", "spoke", "analytics_reporting")):
        row = estimate(result, function, worker)
        tolerance = max(0.02, 0.02 * (row["observed_pickup_h"] + row["observed_in_progress_h"]))
        assert pools.loc[pool, "observed_pickup_h"] == pytest.approx(row["observed_pickup_h"])
        assert pools.loc[pool, "modelled_wait_h"] <= row["observed_pickup_h"] + tolerance, pool
        assert pools.loc[pool, "occupancy"] < 0.85  # the cap would make them wait longer than they did


def test_the_calibrated_inputs_carry_the_window_and_the_units_costs(result):
    assert result.inputs.window_days == pytest.approx(DAYS)
    assert {u.id: u.fte_cost for u in result.inputs.units} == {"hub": 90_000.0, "sales": 60_000.0, "hr": 70_000.0}
    assert {u.id: u.headcount for u in result.inputs.units} == {"hub": 8.6 * SCALE, "sales": 4.3 * SCALE,
                                                                 "hr": 2.9 * SCALE}
    saved = load_inputs(dump_inputs(result.inputs))
    assert evaluate(saved).totals.total_cost == pytest.approx(evaluate(result.inputs).totals.total_cost, rel=1e-6)


def test_the_calibrated_inputs_survive_saving_unchanged(result):
    assert load_inputs(dump_inputs(result.inputs)) == result.inputs


# --- the fit ---------------------------------------------------------------------------------------------------


def observed_by_hand(items: pd.DataFrame, spoke: str) -> dict[str, float]:
    done = in_window(items, "resolved_at")
    mine = done[(done["source_unit"] == spoke) | (done["target_unit"] == spoke)]
    lead = (mine["resolved_at"] - mine["created_at"]).dt.total_seconds().to_numpy() / 3600.0
    return {"n": len(mine), "median": float(np.median(lead)), "mean": float(lead.mean()),
            "sla": float((mine["resolved_at"] <= mine["due_at"]).mean())}


def test_the_calibrated_as_is_reproduces_what_was_observed(items, result):
    fit = result.fit
    assert set(fit.index) == {"sales", "hr"}
    for spoke in ("sales", "hr"):
        seen = observed_by_hand(items, spoke)
        row = fit.loc[spoke]
        assert row["items_resolved"] == seen["n"] > 100
        assert row["observed_median_h"] == pytest.approx(seen["median"], rel=1e-9)
        assert row["observed_mean_h"] == pytest.approx(seen["mean"], rel=1e-9)
        assert row["observed_sla_share"] == pytest.approx(seen["sla"], rel=1e-9)
        assert row["modelled_median_h"] == pytest.approx(seen["median"], rel=0.10), spoke
        assert row["modelled_mean_h"] == pytest.approx(seen["mean"], rel=0.10), spoke
        assert abs(row["modelled_sla_share"] - seen["sla"]) < 0.05, spoke
    assert result.max_error < 0.10 and result.max_sla_points < 5.0
    modelled = evaluate(result.inputs).spokes
    assert fit["modelled_mean_h"].to_numpy() == pytest.approx(modelled.loc[fit.index, "lead_time_mean_h"].to_numpy())


def test_a_handful_of_rare_items_does_not_spoil_the_fit():
    # about six escalations a month from Sales to the hub's CRM people, who pick them up within the hour
    rng = np.random.default_rng(11)
    rare = team_items(rng, "escalation", "sales", "hub", 0.2, 0.5, HUB_HOURS, 1, 24, transfer=0.5)
    items = simulate(extra=[rare])
    result = calibrate(items, units_table(), NOW.to_pydatetime(), days=DAYS)
    assert 0 < result.fit.loc["sales", "items_resolved"]
    assert abs(result.fit.loc["sales", "mean_error"]) < 0.10


# --- functions without items, data that is left out, refusals -----------------------------------------------------------


def test_a_function_without_items_is_left_out_and_can_be_added_in_its_typical_version(result):
    assert set(result.inputs.functions) == {"content_production", "crm_lead_management", "analytics_reporting"}
    assert set(result.missing_functions) == {"campaign_planning", "social_listening", "martech_platforms"}
    assert any(f.startswith("Social listening & response: no work items in the window") for f in result.flags)
    added = result.with_missing("social_listening")
    social = added.functions["social_listening"]
    assert {s.spoke for s in social.streams} == {"sales", "hr"}
    assert social.demand_per_day == pytest.approx(2 * FUNCTION_DEFAULTS["social_listening"]["demand"])
    assert evaluate(added).functions.at["social_listening", "items_per_month"] > 0
    assert set(added.functions) - set(result.inputs.functions) == {"social_listening"}
    with pytest.raises(InputError, match="is not missing"):
        result.with_missing("content_production")


def test_unmapped_kinds_unknown_units_and_disordered_times_are_left_out_with_a_flag(items):
    base = items[items["created_at"] >= NOW - pd.Timedelta(days=7)].iloc[0]  # well inside the window
    odd = [
        dict(base, id="x1", kind="horoscope"),
        dict(base, id="x2", kind="horoscope"),
        dict(base, id="x3", source_unit="legal"),  # a unit the units table does not know
        dict(base, id="x4", accepted_at=base["resolved_at"], resolved_at=base["accepted_at"]),  # out of order
    ]
    clean = calibrate(items, units_table(), NOW.to_pydatetime(), days=DAYS)
    result = calibrate(pd.concat([items, pd.DataFrame(odd)], ignore_index=True), units_table(), NOW.to_pydatetime(),
                       days=DAYS)
    assert "2 items of kind(s) horoscope belong to no function and are left out" in result.flags
    assert "1 items whose spoke is not in the units are left out" in result.flags
    assert "1 items with times out of order are left out of the duration estimates" in result.flags
    assert result.items_used == clean.items_used + 1  # only the disordered item stays (for demand)
    assert "legal" not in result.inputs.spoke_ids
    assert estimate(result, "content_production", "hub")["observed_items"] == estimate(
        clean, "content_production", "hub")["observed_items"]


def test_too_little_data_is_refused_with_the_reason(items):
    now = NOW.to_pydatetime()
    cases = [
        (items.iloc[:0], units_table(), "there are no work items to calibrate from"),
        (items, units_table()[lambda u: u["kind"] != "hub"], "units must contain exactly one hub, found 0"),
        (items, units_table()[lambda u: u["kind"] == "hub"], "units contain no spokes"),
        (items.drop(columns=["routed_at"]), units_table(), "work items lack the column(s) routed_at"),
        (items.assign(kind="horoscope"), units_table(), "no work item could be attributed"),
    ]
    for frame, units, reason in cases:
        with pytest.raises(CalibrationError) as err:
            calibrate(frame, units, now, days=DAYS)
        assert reason in str(err.value)
    last_hours = items[items["created_at"] >= NOW - 10 * HOUR]
    with pytest.raises(CalibrationError, match="calibration needs at least 1 day of history"):
        calibrate(last_hours, units_table(), now, days=DAYS)
    with pytest.raises(CalibrationError, match="now must be timezone-aware"):
        calibrate(items, units_table(), now.replace(tzinfo=None), days=DAYS)
    naive = items.assign(created_at=items["created_at"].dt.tz_localize(None))
    with pytest.raises(CalibrationError, match="timezone-aware"):
        calibrate(naive, units_table(), now, days=DAYS)


# --- patience and error rates ----------------------------------------------------------------------------------


def mentions(seed: int, per_day: float, patience: float | None) -> pd.DataFrame:
    """Mentions routed from the hub to Sales (open Mon-Fri 09:00-17:00, one person) round the clock; a sender
    gives up after an exponential patience with this mean, and nobody ever picks up a mention whose sender has
    given up (it stays routed)."""
    rng = np.random.default_rng(seed)
    created = np.sort(rng.uniform(0.0, WEEKS * 168.0, rng.poisson(per_day * 7 * WEEKS)))
    reached = created + 0.1
    office = Office(9, 17)
    arrive = office.staffed(reached)
    gives_up = rng.exponential(patience, len(created)) if patience else np.full(len(created), np.inf)
    size = rng.exponential(0.3, len(created))
    accepted = np.full(len(created), np.nan)
    resolved = np.full(len(created), np.nan)
    free = 0.0
    for i in range(len(created)):
        start = max(arrive[i], free)
        opening = float(office.calendar(start, opening=True))
        if opening - reached[i] > gives_up[i]:
            continue
        accepted[i], free = opening, start + size[i]
        resolved[i] = office.calendar(free)
    frame = pd.DataFrame({
        "id": [f"m{i}" for i in range(len(created))], "kind": "mention", "source_unit": "hub", "target_unit": "sales",
        "created_at": at(created), "routed_at": at(reached), "accepted_at": at(accepted), "resolved_at": at(resolved),
        "status": np.where(np.isnan(accepted), "routed", "resolved"), "sla_hours": 12.0})
    return as_of(frame)


MENTION_UNITS = {"sales": {"office_hours": "Mon-Fri 09:00-17:00"}}


@pytest.mark.parametrize("patience", [6.0, 12.0])
def test_mentions_nobody_picked_up_give_an_observed_patience(patience):
    frame = mentions(1, 8.0, patience)
    result = calibrate(frame, units_table(**MENTION_UNITS), NOW.to_pydatetime(), days=DAYS)
    stream = stream_of(result, "social_listening", "sales")
    assert stream.patience_source.startswith("observed: ")
    assert "aged items never picked up" in stream.patience_source
    assert patience / 1.5 < stream.patience_h < patience * 1.5
    assert evaluate(result.inputs).totals.unanswered_per_month > 0


def test_patience_is_none_when_every_aged_mention_was_picked_up():
    frame = mentions(1, 8.0, None)
    aged = frame[frame["created_at"] <= NOW - pd.Timedelta(days=3)]
    assert len(aged) >= 50 and aged["accepted_at"].notna().all()
    result = calibrate(frame, units_table(**MENTION_UNITS), NOW.to_pydatetime(), days=DAYS)
    stream = stream_of(result, "social_listening", "sales")
    assert stream.patience_h is None
    assert stream.patience_source.startswith("none observed")
    assert evaluate(result.inputs).totals.unanswered_per_month == 0.0


def test_patience_is_the_default_assumption_when_few_mentions_are_old_enough():
    frame = mentions(1, 0.5, 6.0)
    assert len(frame[frame["created_at"] <= NOW - pd.Timedelta(days=3)]) < 50
    result = calibrate(frame, units_table(**MENTION_UNITS), NOW.to_pydatetime(), days=DAYS)
    stream = stream_of(result, "social_listening", "sales")
    assert stream.patience_h == DEFAULT_PATIENCE_H
    assert stream.patience_source.startswith("assumption")
    assert stream_of(result, "social_listening", "sales").kind == "mention"


def handed_back(items: pd.DataFrame, count: int) -> pd.DataFrame:
    """``count`` of the hub's resolved content requests were handed back instead."""
    frame = items.copy()
    picked = frame.index[(frame["kind"] == "request") & (frame["status"] == "resolved")][-count:]
    frame.loc[picked, ["accepted_at", "resolved_at"]] = pd.NaT
    frame.loc[picked, "status"] = "handed_back"
    return frame


def test_error_rates_come_from_hand_backs_when_there_are_enough(items):
    frame = handed_back(items, 25)
    result = calibrate(frame, units_table(), NOW.to_pydatetime(), days=DAYS)
    content = result.inputs.functions["content_production"]
    window = frame[(frame["created_at"] >= NOW - pd.Timedelta(days=DAYS))
                   | (frame["resolved_at"] >= NOW - pd.Timedelta(days=DAYS))]
    mine = window[window["kind"] == "request"]
    back = int((mine["status"] == "handed_back").sum())
    done = int(mine["status"].isin(["resolved", "handed_back"]).sum())
    assert back >= MIN_HANDBACKS
    assert content.error_rate_specialist == pytest.approx(back / done)
    assert content.error_rate_generalist == FUNCTION_DEFAULTS["content_production"]["error_rate_generalist"]
    assert content.error_source == "partly observed hand-backs, partly typical rates (assumption)"
    crm = result.inputs.functions["crm_lead_management"]
    assert crm.error_source == "typical rates (assumption)"
    assert crm.error_rate_generalist == FUNCTION_DEFAULTS["crm_lead_management"]["error_rate_generalist"]


def test_a_few_hand_backs_keep_the_typical_rates(items):
    result = calibrate(handed_back(items, 5), units_table(), NOW.to_pydatetime(), days=DAYS)
    content = result.inputs.functions["content_production"]
    assert content.error_rate_specialist == FUNCTION_DEFAULTS["content_production"]["error_rate_specialist"]
    assert content.error_source == "typical rates (assumption)"


# --- observed figures --------------------------------------------------------------------------------------------


def test_observed_figures_count_items_resolved_in_the_window_at_either_end_of_the_spoke():
    start, end = ORIGIN, ORIGIN + pd.Timedelta(days=7)
    rows = [
        # id, source, target, created (h), resolved (h), sla, due (h or None)
        ("a", "sales", "hub", 0.0, 10.0, 24.0, None),  # 10 h, within SLA
        ("b", "hub", "sales", 5.0, 45.0, 24.0, None),  # 40 h, late
        ("c", "sales", "sales", 20.0, 26.0, 4.0, 30.0),  # 6 h, late by its SLA but on time by its due date
        ("d", "hr", "hub", 1.0, 3.0, 24.0, None),  # HR's
        ("e", "sales", "hub", -50.0, 2.0, 24.0, None),  # created before the window, resolved in it: 52 h, late
        ("f", "sales", "hub", 100.0, 200.0, 24.0, None),  # resolved after the window: not counted
        ("g", "sales", "hub", 100.0, None, 24.0, None),  # open: not counted
    ]
    frame = pd.DataFrame([{
        "id": i, "kind": "request", "source_unit": s, "target_unit": t, "created_at": ORIGIN + c * HOUR,
        "routed_at": ORIGIN + c * HOUR, "accepted_at": ORIGIN + c * HOUR,
        "resolved_at": pd.NaT if r is None else ORIGIN + r * HOUR, "status": "resolved", "sla_hours": sla,
        "due_at": pd.NaT if due is None else ORIGIN + due * HOUR} for i, s, t, c, r, sla, due in rows])
    for column in ("accepted_at", "resolved_at", "due_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    table = observed.by_spoke(frame, ["sales", "hr", "legal"], start.to_pydatetime(), end.to_pydatetime())
    sales = table.loc["sales"]
    assert sales["items_resolved"] == 4  # a, b, c, e
    assert sales["median_lead_time_h"] == pytest.approx(np.median([10.0, 40.0, 6.0, 52.0]))
    assert sales["mean_lead_time_h"] == pytest.approx(np.mean([10.0, 40.0, 6.0, 52.0]))
    assert sales["sla_share"] == pytest.approx(2 / 4)  # a by its SLA, c by its due date
    assert table.loc["hr", "items_resolved"] == 1 and table.loc["hr", "mean_lead_time_h"] == pytest.approx(2.0)
    assert table.loc["legal", "items_resolved"] == 0 and np.isnan(table.loc["legal", "mean_lead_time_h"])
    assert set(ITEM_COLUMNS) <= set(frame.columns)
