"""The what-if model: queueing on staffed clocks, staffing, handoffs, abandonment, costs, presets, sweeps, inputs.

Small organisations are built explicitly (one to three spokes, one or two functions) so that every expected
number can be worked out by hand or from a textbook formula.
"""

from __future__ import annotations

import copy
import json
import math
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dashboard.whatif.analysis import sensitivity, tradeoff_curve
from dashboard.whatif.engine import _MAX_CHUNK, DAYS_PER_MONTH, Params, Structure, compute
from dashboard.whatif.inputs import (
    CURRENT_INPUTS_VERSION,
    FUNCTIONS,
    HYBRID_CENTRAL,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    StreamInputs,
    UnitInputs,
    WorkerInputs,
    default_inputs,
    dump_inputs,
    load_inputs,
    validate_inputs,
)
from dashboard.whatif.model import evaluate, presets, sla_staffing, totals_delta
from dashboard.whatif.queueing import mmc

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
OFFICE = "Mon-Fri 09:00-17:00"
SPOKES = ("north", "south", "east")
PRODUCTIVE = GlobalInputs().productive_hours_per_week  # 40 h × (1 − 30 % shrinkage) = 28 h


# --- building small organisations ------------------------------------------------------------------------------


def worker(work: float, in_progress: float | None = None, *, cv: float = 1.0, response: float = 0.0,
           transfer: float = 0.0) -> WorkerInputs:
    return WorkerInputs(work_h=work, in_progress_h=work if in_progress is None else in_progress, response_h=response,
                        cv=cv, transfer_h=transfer)


def stream(spoke: str = "north", *, kind: str = "request", origin: str = "spoke", demand: float = 24.0,
           share: float = 0.0, sla: float = 48.0, work: float = 1.0, in_progress: float | None = None,
           cv: float = 1.0, response: float = 0.0, transfer: float = 0.0, profile=None,
           patience: float | None = None, hub_work: float | None = None) -> StreamInputs:
    """One stream; the hub and the spoke take the same times unless ``hub_work`` says otherwise."""
    local = worker(work, in_progress, cv=cv, response=response, transfer=transfer)
    hub = local if hub_work is None else worker(hub_work, max(hub_work, in_progress or 0.0), cv=cv,
                                                response=response, transfer=transfer)
    return StreamInputs(spoke=spoke, kind=kind, origin=origin, demand_per_day=demand, central_share=share,
                        sla_hours=sla, profile=profile, patience_h=patience, hub=hub, local=local)


def organisation(functions: dict[str, list[StreamInputs] | FunctionInputs], *, spokes=("north",),
                 hours: str = "24/7", hub_hours: str | None = None, occupancy: float | None = None,
                 timezone: str = "UTC", **global_changes) -> ScenarioInputs:
    fns = {f: v if isinstance(v, FunctionInputs) else FunctionInputs(streams=tuple(v)) for f, v in functions.items()}
    return ScenarioInputs(
        hub=UnitInputs(id="hub", name="Hub", hours=hub_hours or hours, timezone=timezone),
        spokes=tuple(UnitInputs(id=s, hours=hours, timezone=timezone, occupancy=occupancy) for s in spokes),
        globals=GlobalInputs(**global_changes), functions=fns)


def at_hour(*hours: int) -> tuple[float, ...]:
    """An arrival profile with every item created in these hours of the week (UTC, 0 = Monday 00:00)."""
    profile = [0.0] * 168
    for h in hours:
        profile[h] = 1.0
    return tuple(profile)


def lognormal(mean: float, sd: float) -> stats.rv_continuous:
    sigma2 = math.log1p(sd * sd / (mean * mean))
    return stats.lognorm(math.sqrt(sigma2), scale=math.exp(math.log(mean) - sigma2 / 2))


def weighted_wait(result) -> float:
    s = result.streams
    return float((s["waiting_h"] * s["items_per_month"]).sum() / s["items_per_month"].sum())


def numeric_values(result) -> np.ndarray:
    tables = [result.functions, result.spokes, result.streams, result.pools]
    parts = [t.select_dtypes(include=["number", "bool"]).to_numpy(dtype=float).ravel() for t in tables]
    totals = np.array([float(v) for v in result.totals.as_dict().values()])
    return np.concatenate([*parts, totals])


@pytest.fixture(scope="module")
def typical() -> ScenarioInputs:
    """The six functions with their typical profiles, three spokes of different sizes, a mixed as-is."""
    return default_inputs(list(SPOKES), demand_scale={"north": 2.0, "east": 0.5}).with_shares(0.4)


# --- queueing: the textbook case and the staffed clock -----------------------------------------------------------


@pytest.mark.parametrize("servers, occupancy", [(1, 0.8), (2, 0.75), (3, 0.5), (5, 0.9), (12, 0.85)])
def test_a_round_the_clock_team_waits_as_long_as_the_textbook_mmc_queue(servers, occupancy):
    arrivals_per_hour = 1.0
    work = occupancy * servers / arrivals_per_hour  # so that exactly `servers` people are on duty
    inputs = organisation({"content_production": [stream(demand=24.0 * arrivals_per_hour, work=work)]},
                          occupancy=occupancy)
    result = evaluate(inputs)
    textbook = mmc(arrivals_per_hour, 1.0 / work, servers)
    pool = result.pools.loc["north"]
    row = result.streams.iloc[0]
    assert pool["on_duty"] == pytest.approx(servers, rel=1e-12)
    assert pool["occupancy"] == pytest.approx(occupancy)
    assert pool["wait_h"] == pytest.approx(textbook.wq, rel=1e-6)
    assert row["waiting_h"] == pytest.approx(textbook.wq, rel=1e-6)
    assert row["lead_time_mean_h"] == pytest.approx(textbook.wq + work, rel=1e-6)  # = W of M/M/c
    assert row["out_of_hours_h"] == pytest.approx(0.0, abs=1e-9)
    assert result.totals.lead_time_mean_h == pytest.approx(textbook.w, rel=1e-6)


def test_lead_time_adds_transfer_queueing_pick_up_and_in_progress_time():
    # items from the hub worked by the spoke: they cross the boundary and pay the transfer
    inputs = organisation({"crm_lead_management": [
        stream(kind="lead", origin="hub", demand=24.0, work=1.5, in_progress=4.0, response=0.5, transfer=3.0)]},
        occupancy=0.75)
    row = evaluate(inputs).streams.iloc[0]
    wait = mmc(1.0, 1.0 / 1.5, 2).wq  # 1.5 work hours an hour at 75 %: 2 people on duty
    assert row["handoff_h"] == 3.0
    assert row["waiting_h"] == pytest.approx(wait + 0.5, rel=1e-6)
    assert row["work_h"] == 4.0 and row["hands_on_h"] == 1.5
    assert row["lead_time_mean_h"] == pytest.approx(3.0 + wait + 0.5 + 4.0, rel=1e-6)


def office_stream_result(created_at: int, *, in_progress: float = 1.0, cv: float = 0.8):
    """A spoke open Mon-Fri 09:00-17:00 UTC whose items are all created in one hour of the week; staffed so
    generously (occupancy 0.5 %) that nobody queues for a person."""
    inputs = organisation({"content_production": [stream(demand=24.0, work=in_progress / 2, in_progress=in_progress,
                                                         cv=cv, profile=at_hour(created_at), sla=200.0)]},
                          hours=OFFICE, occupancy=0.005)
    return evaluate(inputs)


def test_friday_evening_items_wait_for_monday_and_tuesday_morning_items_do_not():
    friday = office_stream_result(FRI * 24 + 19).streams.iloc[0]
    tuesday = office_stream_result(TUE * 24 + 10).streams.iloc[0]
    staffed = tuesday["waiting_h"] + tuesday["work_h"]
    # Friday 19:00-20:00 → Monday 09:00 is 61-62 hours of closure before any work starts
    assert friday["lead_time_mean_h"] > 60.0
    assert friday["out_of_hours_h"] == pytest.approx(61.5, abs=0.1)
    assert 61.0 + staffed < friday["lead_time_mean_h"] < 62.0 + staffed + 0.5
    # Tuesday 10:00: hours before closing; only the rare item that needs more than 6 staffed hours sees the night
    assert tuesday["lead_time_mean_h"] == pytest.approx(staffed, rel=0.03)
    assert tuesday["out_of_hours_h"] < 0.03


def test_a_closure_adds_its_length_times_the_chance_the_work_outlasts_the_day():
    # created Tuesday 16:00-17:00 UTC (spread over the hour), closed 17:00 → 09:00 (16 h) and again 8 staffed
    # hours later: E[lead] = E[S] + 16 · P(S > 1 − u) + 16 · P(S > 9 − u), u the position within the hour
    result = office_stream_result(TUE * 24 + 16, in_progress=1.0, cv=0.8)
    row = result.streams.iloc[0]
    assert row["waiting_h"] < 1e-9
    s = lognormal(1.0, 0.8)
    u = (np.arange(4) + 0.5) / 4  # the engine's positions within the hour
    by_hand = 1.0 + 16.0 * s.sf(1.0 - u).mean() + 16.0 * s.sf(9.0 - u).mean()
    assert row["lead_time_mean_h"] == pytest.approx(by_hand, rel=1e-3)
    assert row["out_of_hours_h"] == pytest.approx(by_hand - 1.0, rel=1e-3)
    # nearly deterministic work of 2 staffed hours: every item waits the whole night
    sure = office_stream_result(TUE * 24 + 16, in_progress=2.0, cv=0.01).streams.iloc[0]
    assert sure["lead_time_mean_h"] == pytest.approx(2.0 + 16.0, rel=1e-3)


def test_the_median_lead_time_of_friday_evening_items_lies_among_their_lead_times():
    row = office_stream_result(FRI * 24 + 19).streams.iloc[0]
    # lead = 62 h − position in the hour + S, S ≈ 1.1 h: the median is near 62.4 h, the 99.9th percentile 68 h
    assert row["lead_time_median_h"] == pytest.approx(row["lead_time_mean_h"], rel=0.05)


# --- staffing ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("hours, open_hours", [("24/7", 168.0), (OFFICE, 40.0), ("Mon-Fri 09:00-12:00", 15.0)])
def test_staffing_follows_the_work_at_the_teams_occupancy(hours, open_hours):
    def org(scale: float) -> ScenarioInputs:
        fn = FunctionInputs(hub_occupancy=0.6, streams=(
            stream("north", demand=6.0 * scale, share=0.5, work=2.0, in_progress=5.0, hub_work=1.5),
            stream("south", demand=3.0 * scale, share=0.5, work=2.0, in_progress=5.0, hub_work=1.5)))
        return organisation({"content_production": fn}, spokes=("north", "south"), hours=hours, occupancy=0.7,
                            fte_cost=80_000.0)

    one, two = evaluate(org(1.0)), evaluate(org(2.0))
    pools = one.pools
    hub_work_week = (6.0 + 3.0) * 7 * 0.5 * 1.5
    north_work_week = 6.0 * 7 * 0.5 * 2.0
    assert pools.loc["hub:content_production", "work_hours_per_week"] == pytest.approx(hub_work_week)
    assert pools.loc["north", "work_hours_per_week"] == pytest.approx(north_work_week)
    available = min(PRODUCTIVE, open_hours)
    assert pools.loc["hub:content_production", "fte"] == pytest.approx(hub_work_week / (0.6 * available))
    assert pools.loc["north", "fte"] == pytest.approx(north_work_week / (0.7 * available))
    assert pools.loc["north", "on_duty"] == pytest.approx(north_work_week / (0.7 * open_hours))
    assert pools.loc["hub:content_production", "occupancy"] == pytest.approx(0.6)
    assert pools.loc[["north", "south"], "occupancy"].tolist() == pytest.approx([0.7, 0.7])
    assert two.pools["fte"].to_numpy() == pytest.approx(2 * pools["fte"].to_numpy())
    assert two.totals.fte == pytest.approx(2 * one.totals.fte)
    assert two.totals.people_cost == pytest.approx(2 * one.totals.people_cost)
    assert one.totals.people_cost == pytest.approx(80_000.0 * one.totals.fte)


def test_one_hub_queue_waits_less_than_a_queue_in_every_spoke_with_the_same_people():
    # the same work per item in the hub and the spokes, no transfer, round the clock, the same occupancy
    inputs = organisation({"content_production": [stream(s, demand=6.0, share=0.5, work=2.0, in_progress=4.0)
                                                  for s in SPOKES]}, spokes=SPOKES)
    chosen = presets(inputs)
    central, local = evaluate(chosen["centralised"]), evaluate(chosen["decentralised"])
    assert central.totals.fte == pytest.approx(local.totals.fte)  # the same work, the same occupancy
    assert central.pools["occupancy"].tolist() == pytest.approx([0.85])
    assert local.pools["occupancy"].tolist() == pytest.approx([0.85] * 3)
    assert weighted_wait(central) < 0.5 * weighted_wait(local)
    assert central.totals.lead_time_mean_h < local.totals.lead_time_mean_h
    assert central.totals.sla_met_share > local.totals.sla_met_share


# --- handoffs --------------------------------------------------------------------------------------------------


def test_an_item_crosses_the_boundary_when_it_is_worked_away_from_where_it_comes_from():
    fn = FunctionInputs(streams=(
        stream(kind="request", origin="spoke", demand=10.0, share=0.3, transfer=2.0),
        stream(kind="notice", origin="hub", demand=4.0, share=0.8, transfer=2.0)))
    result = evaluate(organisation({"campaign_planning": fn}))
    month = DAYS_PER_MONTH
    crossing = 10.0 * 0.3 * month + 4.0 * 0.2 * month  # spoke items the hub works + hub items the spoke works
    assert result.totals.handoffs_per_month == pytest.approx(crossing)
    assert result.spokes.loc["north", "handoffs_per_month"] == pytest.approx(crossing)
    assert result.totals.handoffs_per_item == pytest.approx(crossing / (14.0 * month))
    rows = result.streams.set_index(["kind", "worker"])
    assert rows.loc[("request", "hub"), "handoff_h"] == 2.0 and rows.loc[("request", "spoke"), "handoff_h"] == 0.0
    assert rows.loc[("notice", "spoke"), "handoff_h"] == 2.0 and rows.loc[("notice", "hub"), "handoff_h"] == 0.0


def test_work_done_where_it_originates_makes_no_handoffs():
    fn = FunctionInputs(streams=(stream(kind="request", origin="spoke", share=0.0, transfer=5.0),
                                 stream(kind="notice", origin="hub", share=1.0, transfer=5.0)))
    result = evaluate(organisation({"campaign_planning": fn}))
    assert result.totals.handoffs_per_month == 0.0
    assert (result.streams["handoff_h"] == 0.0).all()
    flipped = evaluate(organisation({"campaign_planning": fn.model_copy(update={"central_share": None})})
                       .with_shares({"campaign_planning": 0.5}))
    assert flipped.totals.handoffs_per_month == pytest.approx(0.5 * 48.0 * DAYS_PER_MONTH)


# --- abandonment -----------------------------------------------------------------------------------------------


def mentions(patience: float | None, hours: str = OFFICE):
    return evaluate(organisation({"social_listening": [
        stream(kind="mention", demand=20.0, work=0.3, in_progress=0.6, sla=12.0, patience=patience)]}, hours=hours))


def test_senders_who_give_up_at_night_leave_items_unanswered_and_shorter_patience_leaves_more():
    unanswered = {p: mentions(p).totals.unanswered_per_month for p in (None, 96.0, 24.0, 6.0, 1.0)}
    assert unanswered[None] == 0.0
    assert 0.0 < unanswered[96.0] < unanswered[24.0] < unanswered[6.0] < unanswered[1.0] < 20.0 * DAYS_PER_MONTH
    result = mentions(24.0)
    row = result.streams.iloc[0]
    assert row["items_per_month"] == pytest.approx(20.0 * DAYS_PER_MONTH)
    assert row["answered_per_month"] + result.totals.unanswered_per_month == pytest.approx(row["items_per_month"])
    assert result.functions.at["social_listening", "unanswered_per_month"] == pytest.approx(
        result.totals.unanswered_per_month)
    assert any("go unanswered" in flag for flag in result.flags)
    assert not any("go unanswered" in flag for flag in mentions(None).flags)


def test_answered_items_of_impatient_senders_waited_less_than_their_patience():
    patient, impatient = mentions(None, "24/7").streams.iloc[0], mentions(1.0, "24/7").streams.iloc[0]
    assert impatient["answered_per_month"] < 0.5 * impatient["items_per_month"]
    # an answered item waited less than its sender's patience: with a mean patience of 1 h its lead time is well
    # under the lead time with the 5.8 h wait everybody has when nobody gives up
    assert impatient["lead_time_mean_h"] < patient["lead_time_mean_h"] - 0.5 * patient["waiting_h"]


# --- presets ---------------------------------------------------------------------------------------------------


def test_presets_are_the_as_is_and_the_three_designed_models(typical):
    chosen = presets(typical)
    assert list(chosen) == ["as_is", "centralised", "decentralised", "hybrid"]
    assert chosen["as_is"] == typical
    assert {fn.central_share for fn in chosen["centralised"].functions.values()} == {1.0}
    assert {fn.central_share for fn in chosen["decentralised"].functions.values()} == {0.0}
    hybrid = {f: fn.central_share for f, fn in chosen["hybrid"].functions.items()}
    assert hybrid == {f: (1.0 if f in HYBRID_CENTRAL else 0.0) for f in FUNCTIONS}
    assert {f for f, fn in chosen["hybrid"].functions.items() if fn.placement == "hub"} == set(HYBRID_CENTRAL)
    centralised = evaluate(chosen["centralised"]).totals
    assert centralised.spoke_fte == 0.0 and centralised.central_share_mean == pytest.approx(1.0)
    decentralised = evaluate(chosen["decentralised"]).totals
    assert decentralised.hub_fte == 0.0 and decentralised.central_share_mean == 0.0


def test_a_function_without_a_share_keeps_each_streams_own_and_reports_the_demand_weighted_mean():
    fn = FunctionInputs(central_share=None, streams=(stream("north", demand=3.0, share=1.0),
                                                     stream("south", demand=1.0, share=0.2)))
    assert fn.share_of(fn.streams[0]) == 1.0 and fn.share_of(fn.streams[1]) == 0.2
    assert fn.mean_share == pytest.approx((3.0 * 1.0 + 1.0 * 0.2) / 4.0)
    assert fn.placement == "hybrid"
    inputs = organisation({"content_production": fn}, spokes=("north", "south"))
    result = evaluate(inputs)
    assert result.functions.at["content_production", "central_share"] == pytest.approx(0.8)
    assert result.spokes.loc["north", "central_items_per_month"] == pytest.approx(3.0 * DAYS_PER_MONTH)
    assert result.spokes.loc["south", "central_items_per_month"] == pytest.approx(0.2 * DAYS_PER_MONTH)
    one_share = fn.model_copy(update={"central_share": 0.5})
    assert one_share.share_of(fn.streams[0]) == 0.5 and one_share.mean_share == 0.5
    assert inputs.with_shares(None) == inputs


# --- comparisons -----------------------------------------------------------------------------------------------


def test_deltas_know_which_way_is_better():
    inputs = organisation({"content_production": [stream(s, demand=6.0, share=0.5, work=2.0, in_progress=4.0,
                                                         transfer=1.0, sla=24.0) for s in SPOKES]}, spokes=SPOKES)
    chosen = presets(inputs)
    central, local = evaluate(chosen["centralised"]), evaluate(chosen["decentralised"])
    metrics = ("total_cost", "fte", "handoffs_per_month", "lead_time_mean_h", "sla_met_share", "unanswered_per_month")
    delta = totals_delta(central, local, metrics=metrics)
    # pooled: fewer platforms and no coordination, shorter waits, more items within SLA, but every item crosses
    assert delta.loc["total_cost", "delta"] < 0 and delta.loc["total_cost", "better"] is True
    assert delta.loc["lead_time_mean_h", "delta"] < 0 and delta.loc["lead_time_mean_h", "better"] is True
    assert delta.loc["sla_met_share", "delta"] > 0 and delta.loc["sla_met_share", "better"] is True
    assert delta.loc["handoffs_per_month", "delta"] > 0 and delta.loc["handoffs_per_month", "better"] is False
    for unchanged in ("fte", "unanswered_per_month"):  # the same work at the same occupancy; nobody gives up
        assert delta.loc[unchanged, "delta"] == 0.0 and delta.loc[unchanged, "better"] is None
    back = totals_delta(local, central, metrics=metrics)
    assert back.loc["sla_met_share", "better"] is False and back.loc["total_cost", "better"] is False
    same = totals_delta(central, central, metrics=metrics)
    assert (same["delta"] == 0.0).all() and same["better"].isna().all()
    assert delta.loc["total_cost", "pct_change"] == pytest.approx(
        central.totals.total_cost / local.totals.total_cost - 1.0)


def test_the_spokes_costs_add_up_to_the_people_and_platforms_of_the_organisation(typical):
    for name, inputs in presets(typical).items():
        result = evaluate(inputs, medians=False)
        totals = result.totals
        assert result.spokes["total_cost"].sum() == pytest.approx(totals.people_cost + totals.platform_cost,
                                                                  rel=1e-12), name
        assert totals.total_cost == pytest.approx(totals.people_cost + totals.platform_cost
                                                  + totals.coordination_cost, rel=1e-12)
        assert result.functions["total_cost"].sum() == pytest.approx(totals.total_cost, rel=1e-12), name
        assert result.functions["fte"].sum() == pytest.approx(totals.fte, rel=1e-12), name


# --- sweeps ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [None, "content_production", "social_listening"])
def test_each_point_of_the_tradeoff_curve_is_the_scenario_at_that_share(typical, function):
    curve = tradeoff_curve(typical, function=function, points=5)
    for _, point in curve.points.iterrows():
        shares = point["share"] if function is None else {function: point["share"]}
        single = evaluate(typical.with_shares(shares), medians=False).totals
        assert point["total_cost"] == pytest.approx(single.total_cost, rel=1e-9)
        assert point["lead_time_mean_h"] == pytest.approx(single.lead_time_mean_h, rel=1e-9)
        assert point["handoffs_per_month"] == pytest.approx(single.handoffs_per_month, rel=1e-9)
        assert point["fte"] == pytest.approx(single.fte, rel=1e-9)


@pytest.mark.parametrize("function", [None, "content_production", "crm_lead_management"])
def test_cost_moves_smoothly_along_the_curve_except_where_platform_licences_change(typical, function):
    curve = tradeoff_curve(typical, function=function, points=21)
    points = curve.points
    assert points["share"].to_numpy() == pytest.approx(np.linspace(0.0, 1.0, 21))
    cost = points["total_cost"].to_numpy()
    jumps = np.abs(np.diff(cost)) / np.minimum(cost[1:], cost[:-1])
    listed = set(np.round(curve.steps["share"].to_numpy(), 9))
    for share, jump in zip(points["share"].to_numpy()[1:], jumps):
        assert jump <= 0.10 or round(share, 9) in listed, (share, jump)
    assert listed == {0.05, 1.0}  # the hub starts doing the function(s); the spokes stop
    assert (curve.steps["instances_change"].to_numpy() != 0).all()


def test_the_curve_says_where_the_scenario_sits(typical):
    curve = tradeoff_curve(typical, function="content_production", points=11)
    now = evaluate(typical, medians=False).totals
    assert curve.current["on_curve"] and curve.current["share"] == pytest.approx(0.4)
    assert curve.current["total_cost"] == pytest.approx(now.total_cost)
    assert curve.current["lead_time_mean_h"] == pytest.approx(now.lead_time_mean_h)
    at_04 = curve.points.set_index(curve.points["share"].round(9)).loc[0.4]
    assert at_04["total_cost"] == pytest.approx(now.total_cost, rel=1e-9)
    mixed = typical.with_shares({"content_production": 1.0, "social_listening": 0.0})
    over_all = tradeoff_curve(mixed, points=3)
    assert not over_all.current["on_curve"] and 0.0 < over_all.current["share"] < 1.0
    assert list(over_all.spoke_breach.columns) == list(SPOKES)


@pytest.mark.slow
def test_sensitivity_is_sorted_by_swing_and_a_row_is_the_moved_scenario(typical):
    table = sensitivity(typical, rel_change=0.2)
    assert np.all(np.diff(table["cost_swing"].to_numpy()) <= 0)
    assert table.attrs["base"]["total_cost"] == pytest.approx(evaluate(typical, medians=False).totals.total_cost)
    row = table[(table["parameter"] == "demand_per_day") & (table["function"] == "content_production")].iloc[0]
    fn = typical.functions["content_production"]
    busier = typical.updated({"functions": {"content_production": {"streams": [
        s.model_copy(update={"demand_per_day": s.demand_per_day * 1.2}).model_dump() for s in fn.streams]}}})
    direct = evaluate(busier, medians=False).totals
    assert row["base_value"] == pytest.approx(fn.demand_per_day)
    assert row["high_value"] == pytest.approx(1.2 * fn.demand_per_day)
    assert row["cost_high"] == pytest.approx(direct.total_cost, rel=1e-9)
    assert row["lead_high"] == pytest.approx(direct.lead_time_mean_h, rel=1e-9)
    row = table[(table["parameter"] == "coordination_hours_per_channel_month")].iloc[0]
    hours = typical.globals.coordination_hours_per_channel_month
    direct = evaluate(typical.with_globals(coordination_hours_per_channel_month=hours * 1.2), medians=False).totals
    assert row["cost_high"] == pytest.approx(direct.total_cost, rel=1e-9)
    by_lead = sensitivity(typical, sort_by="lead_time")
    assert np.all(np.diff(by_lead["lead_swing"].to_numpy()) <= 0)
    with pytest.raises(InputError, match="rel_change"):
        sensitivity(typical, rel_change=1.5)


@pytest.mark.slow
def test_the_fte_cost_row_of_the_sensitivity_is_the_scenario_with_that_fte_cost(typical):
    row = sensitivity(typical).set_index("parameter").loc["fte_cost"]
    cheaper = evaluate(typical.with_globals(fte_cost=typical.globals.fte_cost * 0.8), medians=False).totals
    assert row["cost_low"] == pytest.approx(cheaper.total_cost, rel=1e-9)


# --- staffing for the SLA --------------------------------------------------------------------------------------


def test_fte_for_the_sla_is_what_the_targets_need():
    generous = organisation({"content_production": [stream(s, demand=6.0, share=0.5, work=2.0, in_progress=4.0,
                                                           sla=2_000.0) for s in SPOKES]}, spokes=SPOKES)
    table = sla_staffing(generous)
    assert set(table.index) == {"hub:content_production", *SPOKES}
    assert (table["fte_for_sla"] > 0).all() and table["reachable"].all()
    assert (table["fte_for_sla"] <= table["fte"] + 1e-9).all()  # the targets need no more people than today
    tight = sla_staffing(generous.with_function("content_production", streams=[
        s.model_copy(update={"sla_hours": 12.0}).model_dump() for s in generous.functions["content_production"].streams]))
    assert (tight["fte_for_sla"] > table["fte_for_sla"]).all()
    assert (tight.loc[tight["reachable"], "sla_share_at_sla_fte"]
            >= tight.loc[tight["reachable"], "sla_target"] - 1e-9).all()


def test_an_sla_that_office_hours_alone_break_is_not_reachable():
    # items created round the clock, a 4-hour SLA and a team open 40 hours a week: night items can never make it
    inputs = organisation({"content_production": [stream(demand=12.0, work=0.5, in_progress=1.0, sla=4.0)]},
                          hours=OFFICE)
    table = sla_staffing(inputs)
    row = table.loc["north"]
    assert not row["reachable"]
    assert row["best_sla_share"] < 0.5 < row["sla_target"]
    assert row["fte_for_sla"] > 0


# --- robustness ------------------------------------------------------------------------------------------------


@st.composite
def organisations(draw) -> ScenarioInputs:
    n = draw(st.integers(min_value=1, max_value=3))
    spokes = [f"s{i}" for i in range(n)]
    scale = {s: draw(st.sampled_from([0.0, 0.05, 0.7, 1.0, 3.0])) for s in spokes}
    hours = draw(st.sampled_from(["24/7", OFFICE, "Mon-Sat 07:30-19:00", "Mon,Wed 10:00-12:00"]))
    inputs = default_inputs(spokes, demand_scale=scale, hours=hours)
    zone = draw(st.sampled_from(["UTC", "Asia/Kolkata", "America/Los_Angeles"]))
    inputs = inputs.with_units({s: {"timezone": zone} for s in spokes})
    shares = {f: draw(st.sampled_from([0.0, 0.25, 0.5, 1.0])) for f in FUNCTIONS}
    return inputs.with_shares(shares).with_globals(occupancy_cap=draw(st.sampled_from([0.3, 0.85, 0.98])))


@given(inputs=organisations())
@settings(max_examples=8, deadline=None)
def test_results_are_never_nan_or_negative(inputs):
    result = evaluate(inputs)
    values = numeric_values(result)
    assert not np.isnan(values).any()
    assert (values >= 0).all()
    assert (result.totals.total_cost > 0) == (result.totals.items_per_month > 0)
    json.dumps(result.as_record(), allow_nan=False)


@pytest.mark.slow
def test_many_points_computed_together_equal_the_points_one_at_a_time(typical):
    st_ = Structure.from_inputs(typical)
    n = 2 * _MAX_CHUNK + 3
    params = Params.from_inputs(typical).repeat(n)
    params = replace(params, share=np.linspace(0.0, 1.0, n)[:, None] * np.ones((1, st_.J)),
                     demand=params.demand * np.linspace(0.5, 1.5, n)[:, None])
    together = compute(st_, params, medians=True)
    for row in (0, 1, _MAX_CHUNK - 1, _MAX_CHUNK, _MAX_CHUNK + 1, 2 * _MAX_CHUNK, n - 1):
        alone = compute(st_, params.take(slice(row, row + 1)), medians=True)
        for f in fields(together):
            a, b = getattr(together, f.name), getattr(alone, f.name)
            if a is None:
                assert b is None, f.name
                continue
            np.testing.assert_allclose(a[row], b[0], rtol=1e-12, atol=1e-12, err_msg=f"{f.name} at point {row}")


# --- inputs: validation and versions ---------------------------------------------------------------------------


def test_inputs_round_trip_through_their_saved_form():
    fn = FunctionInputs(central_share=None, sla_target=0.8, hub_occupancy=0.6, streams=(
        stream("north", kind="mention", demand=7.5, share=0.3, patience=12.0,
               profile=tuple(float(1 + (h % 24 > 8)) for h in range(168))),
        stream("north", kind="mention", origin="hub", demand=2.0, share=1.0, transfer=2.5)))
    inputs = organisation({"social_listening": fn}, hours="Mon-Fri 08:30-18:00; Sat 10:00-14:00",
                          timezone="Europe/Berlin", occupancy=0.7)
    saved = json.loads(json.dumps(dump_inputs(inputs)))
    assert saved["inputs_version"] == CURRENT_INPUTS_VERSION == 3
    assert load_inputs(saved) == inputs
    assert evaluate(load_inputs(saved)).totals == evaluate(inputs).totals


def version_2() -> dict:
    """A scenario as version 2 saved it (the previous default-inputs shape): demand per spoke, work per item of
    specialists and generalists, handoffs as crossings × delay, productive hours per day."""
    return {
        "inputs_version": 2,
        "hub": {"id": "hub", "name": "Hub"},
        "spokes": [{"id": "sales", "name": "Sales"}, {"id": "hr", "name": "", "fte_cost": 60_000.0}],
        "globals": {"fte_cost": 65_000.0, "handoff_delay_hours": 3.0, "platform_cost": 10_000.0,
                    "productive_hours_per_day": 6.4, "working_days_per_year": 220.0,
                    "coordination_hours_per_channel_month": 4.0},
        "functions": {
            "content_production": {
                "central_share": 1.0, "demand_per_day": {"sales": 3.0, "hr": 1.5}, "hours_per_item_specialist": 2.0,
                "hours_per_item_generalist": 3.5, "stages": 3, "boundary_crossings": 2.0, "handoff_delay_hours": None,
                "fte_cost": None, "platform_cost": 9_000.0, "error_rate_specialist": 0.02,
                "error_rate_generalist": 0.07, "sla_hours": 72.0, "sla_target": 0.9, "ca": None, "cs": 1.5,
                "productive_hours_per_day": None, "flow_efficiency": 0.5, "fixed_fte": {}},
            "social_listening": {
                "central_share": 0.4, "demand_per_day": {"sales": 12.0}, "hours_per_item_specialist": 0.2,
                "hours_per_item_generalist": 0.35, "stages": 2, "boundary_crossings": 1.0,
                "handoff_delay_hours": 0.5, "sla_hours": 12.0, "sla_target": 0.8, "fixed_fte": {"hub": 2}},
            "analytics_reporting": {
                "central_share": 0.0, "demand_per_day": {"hr": 1.0}, "hours_per_item_specialist": 3.0,
                "hours_per_item_generalist": 6.0, "sla_hours": 48.0},
        },
    }


def test_inputs_saved_by_version_2_still_load_with_their_placements():
    inputs = load_inputs(version_2())
    assert inputs.inputs_version == 3 and inputs.spoke_ids == ("sales", "hr")
    shares = {f: fn.mean_share for f, fn in inputs.functions.items()}
    assert shares == pytest.approx({"content_production": 1.0, "social_listening": 0.4, "analytics_reporting": 0.0})
    assert {f: fn.placement for f, fn in inputs.functions.items()} == {
        "content_production": "hub", "social_listening": "hybrid", "analytics_reporting": "spokes"}
    content = inputs.functions["content_production"]
    sales = content.streams[0]
    assert (sales.spoke, sales.origin, sales.demand_per_day, sales.sla_hours) == ("sales", "spoke", 3.0, 72.0)
    assert sales.hub.work_h == 2.0 and sales.hub.in_progress_h == 4.0  # work ÷ flow efficiency
    assert sales.local.work_h == 3.5 and sales.hub.cv == 1.5
    assert sales.hub.transfer_h == 6.0  # 2 crossings × the global 3 h delay
    assert inputs.functions["social_listening"].streams[0].hub.transfer_h == 0.5  # 1 × its own 0.5 h
    assert content.platform_cost == 9_000.0 and inputs.functions["social_listening"].sla_target == 0.8
    assert inputs.globals.fte_cost == 65_000.0 and inputs.spokes[1].fte_cost == 60_000.0
    assert inputs.globals.productive_hours_per_week == pytest.approx(6.4 * 220 / 52)
    assert {u.hours for u in inputs.units} == {"24/7"}  # version 2 computed round the clock
    result = evaluate(inputs)
    assert result.functions.loc[["content_production", "social_listening", "analytics_reporting"],
                                "central_share"].tolist() == pytest.approx([1.0, 0.4, 0.0])
    assert result.totals.fte > 0


def test_inputs_saved_by_version_1_still_load_with_their_placements():
    v1 = {
        "version": 1,
        "global": {"fte_cost": 65_000, "handoff_delay_hours": 3.0, "platform_cost": 10_000,
                   "productive_hours_per_day": 6.0},
        "spokes": ["sales", "hr"],
        "functions": {
            "content_production": {"placement": "hub", "central_share": 0.2, "demand_per_day": {"sales": 2, "hr": 1},
                                   "hours_specialist": 2.0, "hours_generalist": 3.0, "stages": 4, "crossings": 3,
                                   "sla_hours": 72, "sla_target": 0.9},
            "social_listening": {"placement": "hybrid", "central_share": 0.4, "demand_per_day": {"sales": 5},
                                 "hours_specialist": 0.2, "hours_generalist": 0.3, "stages": 2, "crossings": 2,
                                 "sla_hours": 12},
            "analytics_reporting": {"placement": "spokes", "demand_per_day": {"hr": 1}, "hours_specialist": 3.0,
                                    "hours_generalist": 5.0, "sla_hours": 48},
        },
    }
    inputs = load_inputs(v1)
    assert inputs.inputs_version == 3 and inputs.spoke_ids == ("sales", "hr")
    shares = {f: fn.mean_share for f, fn in inputs.functions.items()}
    assert shares == pytest.approx({"content_production": 1.0, "social_listening": 0.4, "analytics_reporting": 0.0})
    assert inputs.functions["content_production"].streams[0].hub.transfer_h == 9.0  # 3 crossings × 3 h
    assert inputs.functions["content_production"].streams[0].hub.work_h == 2.0
    assert inputs.globals.fte_cost == 65_000
    del v1["version"]  # no version at all: the first format
    assert load_inputs(v1) == inputs


def test_inputs_from_a_newer_version_are_refused_not_guessed(typical):
    data = dump_inputs(typical)
    data["inputs_version"] = 4
    with pytest.raises(InputError, match=r"saved by a newer version \(inputs_version 4\); this app reads up to 3"):
        load_inputs(data)
    with pytest.raises(InputError, match="whole number"):
        load_inputs({**data, "inputs_version": "3"})
    with pytest.raises(InputError, match="must be a mapping"):
        load_inputs(["not", "a", "dict"])


def _first_stream(data: dict) -> dict:
    return data["functions"]["content_production"]["streams"][0]


@pytest.mark.parametrize("change, words", [
    (lambda d: _first_stream(d).update(demand_per_day=-1.0),
     "functions › content_production › streams › 0 › demand (items/day): Input should be greater than or equal to 0"),
    (lambda d: _first_stream(d).update(demand_per_day=float("nan")), "demand (items/day): Input should be a finite"),
    (lambda d: _first_stream(d).update(central_share=1.5), "central share: Input should be less than or equal to 1"),
    (lambda d: _first_stream(d)["hub"].update(work_h=9.0), "work per item (9 h) cannot exceed the in-progress time"),
    (lambda d: _first_stream(d).update(spoke="mars"), "content_production: streams for unknown spoke(s) mars"),
    (lambda d: _first_stream(d).update(profile=[1.0] * 24), "arrival profile: an arrival profile has 168"),
    (lambda d: _first_stream(d).update(patience_h=0.0), "patience before a sender gives up (hours): Input should be"),
    (lambda d: d["functions"]["content_production"]["streams"].append(dict(_first_stream(d))),
     "streams must be unique per spoke, kind and origin; repeated: sales/request/spoke"),
    (lambda d: d["functions"]["content_production"].update(sla_target=1.0), "SLA target share"),
    (lambda d: d["spokes"][0].update(hours="Mon-Fri 18:00-08:00"),
     "spokes › 0 › office hours: 'Mon-Fri 18:00-08:00': the window must open before it closes"),
    (lambda d: d["spokes"][0].update(timezone="Mars/Olympus"), "time zone: 'Mars/Olympus' is not a time zone"),
    (lambda d: d["spokes"][0].update(occupancy=1.0), "occupancy: Input should be less than 1"),
    (lambda d: d["spokes"].append(dict(d["spokes"][0])), "spoke ids must be unique; repeated: sales"),
    (lambda d: d["globals"].update(shrinkage=1.0), "shrinkage (leave, sickness, training, meetings)"),
])
def test_bad_values_are_refused_with_a_readable_message(change, words):
    data = copy.deepcopy(dump_inputs(default_inputs(["sales", "hr"])))
    change(data)
    with pytest.raises(InputError) as err:
        validate_inputs(data)
    assert any(words in line for line in err.value.problems), err.value.problems
    assert all("\n" not in line for line in err.value.problems)


def test_changes_by_name_refuse_unknown_names(typical):
    with pytest.raises(InputError, match="unknown function"):
        typical.with_shares({"astrology": 1.0})
    with pytest.raises(InputError, match=r"unknown unit\(s\): moon"):
        typical.with_units({"moon": {"hours": "24/7"}})
    with pytest.raises(InputError, match="'25' is not a time of day"):
        typical.with_units({"north": {"hours": "Mon-Fri 9-25"}})
    assert typical.with_units({"north": {"hours": "mon-fri 8-18"}}).spokes[0].hours == "Mon-Fri 08:00-18:00"
    with pytest.raises(InputError, match="placement must be hub, spokes or hybrid"):
        typical.with_placement("content_production", "moon")
