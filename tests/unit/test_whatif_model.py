"""The what-if model: handoffs, staffing, cost, presets, sweeps, validation and versioned inputs (no database)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from dashboard.whatif.analysis import sensitivity, tradeoff_curve
from dashboard.whatif.inputs import FUNCTIONS, HYBRID_CENTRAL, InputError, dump_inputs, load_inputs
from dashboard.whatif.model import (
    ScenarioInputs,
    compare_models,
    default_inputs,
    evaluate,
    presets,
    spoke_delta,
    totals_delta,
)

SPOKES = ["sales", "finance", "customer_service", "product", "hr"]
LINEAR = ("handoffs_per_month", "compliance_risk_per_month", "central_items_per_month")


@pytest.fixture(scope="module")
def org() -> ScenarioInputs:
    return default_inputs(SPOKES, demand_scale={"sales": 2.0, "hr": 0.3})


@pytest.fixture(scope="module")
def models(org) -> dict:
    return {name: evaluate(inputs) for name, inputs in presets(org.with_shares(0.4)).items()}


def numeric_values(result) -> np.ndarray:
    tables = [result.functions, result.spokes, result.queues]
    parts = [t.select_dtypes(include=["number", "bool"]).to_numpy(dtype=float).ravel() for t in tables]
    totals = np.array([float(v) for v in result.totals.as_dict().values()])
    return np.concatenate([*parts, totals])


@st.composite
def scenarios(draw) -> ScenarioInputs:
    n = draw(st.integers(min_value=1, max_value=4))
    spokes = [f"s{i}" for i in range(n)]
    scale = {s: draw(st.floats(min_value=0.0, max_value=3.0)) for s in spokes}
    inputs = default_inputs(spokes, demand_scale=scale)
    shares = {f: draw(st.sampled_from([0.0, 0.25, 0.5, 0.8, 1.0])) for f in FUNCTIONS}
    return inputs.with_shares(shares)


# --- handoffs, duplication, coordination ----------------------------------------------------------------------


def test_everything_in_the_spokes_makes_no_hub_spoke_handoffs(models):
    local = models["decentralised"]
    assert local.totals.handoffs_per_month == 0
    assert (local.spokes["handoffs_per_month"] == 0).all()
    assert local.totals.hub_fte == 0
    # five spokes doing each function: 10 coordination channels per function
    assert local.totals.coordination_channels == len(FUNCTIONS) * 10


def test_fully_central_model_has_one_team_per_function_and_no_duplication(models):
    central = models["centralised"]
    assert central.totals.spoke_fte == 0
    assert central.totals.platform_instances == len(FUNCTIONS)
    assert central.totals.coordination_channels == 0
    assert central.totals.duplication_fte == 0 and central.totals.duplication_cost == 0
    assert central.totals.handoffs_per_month > 0


def test_splitting_work_duplicates_platforms_and_people(models):
    local = models["decentralised"]
    assert local.totals.duplication_platforms == len(FUNCTIONS) * (len(SPOKES) - 1)
    assert local.totals.duplication_fte == local.totals.fte - models["centralised"].totals.fte
    assert local.totals.duplication_fte > 0


def test_pooling_in_the_hub_needs_fewer_people_at_equal_work_content(org):
    same = org
    for f in FUNCTIONS:  # specialists no faster than generalists, no handoffs: only pooling differs
        same = same.with_function(f, hours_per_item_generalist=same.functions[f].hours_per_item_specialist,
                                  boundary_crossings=0)
    central, local = evaluate(same.with_shares(1.0)), evaluate(same.with_shares(0.0))
    assert central.totals.fte < local.totals.fte
    for f in FUNCTIONS:
        assert central.functions.at[f, "fte"] <= local.functions.at[f, "fte"]


@given(inputs=scenarios(), function=st.sampled_from(FUNCTIONS), crossings=st.floats(min_value=0.0, max_value=4.0))
@settings(max_examples=12, deadline=None)
def test_handoffs_are_monotone_in_the_central_share(inputs, function, crossings):
    inputs = inputs.with_function(function, boundary_crossings=crossings, stages=4)
    curve = tradeoff_curve(inputs, function=function, points=11).points
    handoffs = curve["handoffs_per_month"].to_numpy()
    assert np.all(np.diff(handoffs) >= -1e-9)
    assert handoffs[0] == pytest.approx(evaluate(inputs.with_shares({function: 0.0})).totals.handoffs_per_month)


# --- hybrid between the pure models ----------------------------------------------------------------------------


def test_hybrid_preset_functions_equal_the_pure_models(org):
    chosen = presets(org)
    central, local, hybrid = (evaluate(chosen[k]).functions for k in ("centralised", "decentralised", "hybrid"))
    for f in FUNCTIONS:
        expected = central.loc[f] if f in HYBRID_CENTRAL else local.loc[f]
        pd.testing.assert_series_equal(hybrid.loc[f], expected)


def test_hybrid_preset_totals_lie_between_the_pure_models_function_by_function(org):
    chosen = presets(org)
    res = {k: evaluate(chosen[k]).functions for k in ("centralised", "decentralised", "hybrid")}
    for column in ("total_cost", "fte", "handoffs_per_month", "compliance_risk_per_month", "lead_time_mean_h",
                   "platform_cost", "coordination_channels", "duplication_cost"):
        low = np.minimum(res["centralised"][column], res["decentralised"][column]).sum()
        high = np.maximum(res["centralised"][column], res["decentralised"][column]).sum()
        assert low - 1e-9 <= res["hybrid"][column].sum() <= high + 1e-9, column


@given(inputs=scenarios(), function=st.sampled_from(FUNCTIONS), share=st.floats(min_value=0.0, max_value=1.0))
@settings(max_examples=15, deadline=None)
def test_partial_shares_lie_between_the_pure_models(inputs, function, share):
    rows = {x: evaluate(inputs.with_shares({function: x})).functions.loc[function] for x in (0.0, share, 1.0)}
    for column in LINEAR:
        low, high = sorted((rows[0.0][column], rows[1.0][column]))
        assert low - 1e-9 <= rows[share][column] <= high + 1e-9, column


# --- staffing, SLA, stability -----------------------------------------------------------------------------------


def test_every_queue_is_staffed_to_meet_its_sla_when_feasible(models):
    for result in models.values():
        q = result.queues
        feasible = q[~q["sla_infeasible"]]
        targets = result.functions.loc[feasible["function"], "sla_target"].to_numpy()
        assert (feasible["sla_met_share"].to_numpy() >= targets - 1e-9).all()
        assert (q["utilisation"] < 1).all()
        assert (q["servers"] == q["servers_for_sla"]).all()  # nothing fixed: staffed = needed


def test_fixed_staff_too_small_for_the_work_is_flagged_unstable_never_nan(org):
    inputs = org.with_shares({"social_listening": 1.0}).with_function("social_listening", fixed_fte={"hub": 1})
    result = evaluate(inputs)
    row = result.functions.loc["social_listening"]
    assert not row["stable"] and not result.totals.stable
    assert math.isinf(row["lead_time_mean_h"]) and math.isinf(row["hub_wait_h"])
    assert row["sla_met_share"] == 0 and row["sla_breach"]
    assert any("unstable" in flag and "Social listening" in flag for flag in result.flags)
    values = numeric_values(result)
    assert not np.isnan(values).any()
    assert (values[np.isfinite(values)] >= 0).all()
    assert not result.spokes["stable"].any()  # every spoke sends social listening to the hub
    assert row["hub_fte"] == 1 and row["fte_for_sla"] > 1  # what the SLA would need, beside what is fixed
    assert result.totals.fte_for_sla - result.totals.fte == row["fte_for_sla"] - 1
    json.dumps(result.as_record(), allow_nan=False)  # inf is stored as null, never as NaN


@given(inputs=scenarios(), function=st.sampled_from(FUNCTIONS), hub_fte=st.integers(min_value=0, max_value=4),
       spoke_fte=st.integers(min_value=0, max_value=2), ca=st.floats(min_value=0.0, max_value=3.0))
@settings(max_examples=20, deadline=None)
def test_results_are_never_nan_or_negative_whatever_the_staffing(inputs, function, hub_fte, spoke_fte, ca):
    inputs = inputs.with_function(function, fixed_fte={"hub": hub_fte, "s0": spoke_fte}, ca=ca, cs=ca / 2)
    result = evaluate(inputs)
    values = numeric_values(result)
    assert not np.isnan(values).any()
    assert (values >= 0).all()
    assert result.totals.stable == bool(result.queues["stable"].all())
    json.dumps(result.as_record(), allow_nan=False)


def test_an_sla_that_handoffs_alone_exceed_is_flagged_infeasible(org):
    inputs = org.with_shares({"crm_lead_management": 1.0}).with_function(
        "crm_lead_management", sla_hours=4, handoff_delay_hours=3, boundary_crossings=2)
    result = evaluate(inputs)
    row = result.functions.loc["crm_lead_management"]
    assert row["sla_infeasible"] and row["sla_breach"] and row["sla_met_share"] == 0
    assert result.spokes["sla_breach"].all()
    assert any("no staffing can meet it" in flag for flag in result.flags)
    assert row["hub_fte"] > 0 and row["stable"]  # still staffed sensibly and stable


def test_a_spoke_without_demand_has_zero_lead_time_and_no_cost():
    inputs = default_inputs(["busy", "idle"], demand_scale={"busy": 1.0, "idle": 0.0}).with_shares(0.5)
    result = evaluate(inputs)
    idle = result.spokes.loc["idle"]
    assert idle["items_per_month"] == 0 and idle["lead_time_mean_h"] == 0 and idle["total_cost"] == 0
    assert not np.isnan(numeric_values(result)).any()


def test_per_spoke_costs_add_up_to_the_total_without_coordination(models):
    for result in models.values():
        assert result.spokes["total_cost"].sum() + result.totals.coordination_cost == pytest.approx(
            result.totals.total_cost, rel=1e-12)
        assert result.functions["total_cost"].sum() == pytest.approx(result.totals.total_cost, rel=1e-12)


def test_lead_time_of_central_work_includes_the_handoff_delays(org):
    base = org.with_shares({"analytics_reporting": 1.0})
    slower = base.with_function("analytics_reporting", handoff_delay_hours=10.0)
    q0 = evaluate(base).queues.set_index(["function", "unit"]).loc[("analytics_reporting", "hub")]
    q1 = evaluate(slower).queues.set_index(["function", "unit"]).loc[("analytics_reporting", "hub")]
    crossings = base.functions["analytics_reporting"].boundary_crossings
    assert q1["handoff_h"] == pytest.approx(10.0 * crossings)
    assert q1["lead_time_h"] - q1["wait_h"] == pytest.approx(q1["service_h"] + 10.0 * crossings)
    assert q1["lead_time_h"] > q0["lead_time_h"]


def test_lower_flow_efficiency_lengthens_lead_time_and_staffs_only_for_the_sla(org):
    generous = org.with_function("content_production", sla_hours=2_000)
    base = evaluate(generous).functions.loc["content_production"]
    slower = evaluate(generous.with_function("content_production", flow_efficiency=0.25)).functions.loc[
        "content_production"]
    assert slower["fte"] == base["fte"]  # the same work content: the same people, with the SLA far away
    assert slower["lead_time_mean_h"] > base["lead_time_mean_h"]
    tight = evaluate(org.with_function("content_production", flow_efficiency=0.25)).functions.loc["content_production"]
    assert tight["fte"] >= evaluate(org).functions.at["content_production", "fte"]  # less SLA left for waiting


def test_median_lead_time_of_a_single_queue_matches_its_distribution(org):
    # one function, one spoke, all local: median solves 1 − C·exp(−θ(m − a)) = ½ (or sits on the atom at a)
    inputs = default_inputs(["only"]).with_shares(0.0)
    result = evaluate(inputs)
    q = result.queues.set_index("function").loc["social_listening"]
    fn = result.functions.loc["social_listening"]
    a = q["service_h"]
    theta = q["p_wait"] / q["wait_h"] if q["wait_h"] > 0 else math.inf
    expected = a if q["p_wait"] <= 0.5 else a + math.log(2 * q["p_wait"]) / theta
    assert fn["lead_time_median_h"] == pytest.approx(expected, rel=1e-6)


# --- presets, comparisons, sweeps ---------------------------------------------------------------------------------


def test_presets_are_the_as_is_and_the_three_designed_models(org):
    chosen = presets(org.with_shares(0.3))
    assert list(chosen) == ["as_is", "centralised", "decentralised", "hybrid"]
    assert {f.central_share for f in chosen["as_is"].functions.values()} == {0.3}
    assert {f.central_share for f in chosen["centralised"].functions.values()} == {1.0}
    assert {f.central_share for f in chosen["decentralised"].functions.values()} == {0.0}
    assert {f for f, fn in chosen["hybrid"].functions.items() if fn.placement == "hub"} == set(HYBRID_CENTRAL)


def test_presets_drop_fixed_staffing_but_the_as_is_keeps_it(org):
    fixed = org.with_function("content_production", fixed_fte={"hub": 2})
    chosen = presets(fixed)
    assert chosen["as_is"].functions["content_production"].fixed_fte == {"hub": 2}
    assert chosen["centralised"].functions["content_production"].fixed_fte == {}


def test_comparison_lists_the_pure_models_the_hybrid_and_the_scenario(org):
    table = compare_models(org.with_shares(0.5), as_is=org)
    assert list(table.index) == ["as_is", "centralised", "decentralised", "hybrid", "scenario"]
    assert table.loc["decentralised", "handoffs_per_month"] == 0
    assert table.loc["centralised", "coordination_channels"] == 0


def test_deltas_against_the_as_is_know_which_way_is_better(models):
    delta = totals_delta(models["centralised"], models["decentralised"])
    assert delta.loc["total_cost", "delta"] < 0 and delta.loc["total_cost", "improved"]
    assert delta.loc["handoffs_per_month", "delta"] > 0 and not delta.loc["handoffs_per_month", "improved"]
    edges = spoke_delta(models["centralised"], models["decentralised"])
    assert (edges["handoffs_per_month_delta"] > 0).all()


def test_tradeoff_points_equal_single_evaluations_at_the_same_share(org):
    curve = tradeoff_curve(org, function="content_production", points=5)
    for _, point in curve.points.iterrows():
        single = evaluate(org.with_shares({"content_production": point["share"]})).totals
        assert point["total_cost"] == pytest.approx(single.total_cost, rel=1e-12)
        assert point["lead_time_mean_h"] == pytest.approx(single.lead_time_mean_h, rel=1e-12)
        assert point["lead_time_median_h"] == pytest.approx(single.lead_time_median_h, rel=1e-9)
        assert point["fte"] == single.fte


def test_tradeoff_curve_marks_spokes_whose_sla_breaks(org):
    inputs = org.with_function("social_listening", sla_hours=6, handoff_delay_hours=3)
    curve = tradeoff_curve(inputs, function="social_listening", points=11)
    assert not curve.spoke_breach.iloc[0].any()  # all local: no handoffs, SLA met
    assert curve.spoke_breach.iloc[-1].all()  # all central: 2 × 3 h of handoffs alone exceed 6 h
    assert list(curve.spoke_breach.columns) == SPOKES
    assert curve.current["on_curve"] and curve.current["share"] == inputs.functions["social_listening"].central_share


def test_tradeoff_over_all_functions_reports_where_the_scenario_sits(org):
    mixed = org.with_shares({"content_production": 1.0, "social_listening": 0.0})
    curve = tradeoff_curve(mixed, points=3)
    assert not curve.current["on_curve"]
    assert 0.0 < curve.current["share"] < 1.0
    assert curve.current["total_cost"] == pytest.approx(evaluate(mixed).totals.total_cost)


def test_sensitivity_is_sorted_by_swing_and_matches_direct_evaluation(org):
    table = sensitivity(org, rel_change=0.2)
    swings = table["cost_swing"].to_numpy()
    assert np.all(np.diff(swings) <= 0)
    assert len(table) == 15 * len(FUNCTIONS) + 1
    row = table[(table["parameter"] == "fte_cost") & (table["function"] == "content_production")].iloc[0]
    cost = org.functions["content_production"].fte_cost or org.globals.fte_cost
    direct = evaluate(org.with_function("content_production", fte_cost=cost * 1.2)).totals.total_cost
    assert row["cost_high"] == pytest.approx(direct, rel=1e-12)
    row = table[(table["parameter"] == "handoff_delay_hours") & (table["function"] == "analytics_reporting")].iloc[0]
    delay = org.globals.handoff_delay_hours * 0.8
    direct = evaluate(org.with_function("analytics_reporting", handoff_delay_hours=delay))
    assert row["lead_low"] == pytest.approx(direct.totals.lead_time_mean_h, rel=1e-12)
    by_lead = sensitivity(org.with_shares(0.5), by_function=False, sort_by="lead_time")
    assert np.all(np.diff(by_lead["lead_swing"].to_numpy()) <= 0)
    errors = by_lead.set_index("parameter").loc["error_rate_generalist"]
    assert errors["cost_swing"] == 0 and errors["compliance_swing"] > 0


# --- validation and versions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, words", [
    ({"hours_per_item_specialist": -1.0}, "work hours per item (specialist, hub): Input should be greater than 0"),
    ({"hours_per_item_generalist": 0.0}, "greater than 0"),
    ({"central_share": 1.5}, "central share: Input should be less than or equal to 1"),
    ({"central_share": -0.1}, "central share"),
    ({"error_rate_generalist": 2.0}, "compliance error rate (generalist)"),
    ({"sla_target": 1.0}, "SLA target share"),
    ({"sla_hours": 0.0}, "SLA (hours)"),
    ({"demand_per_day": {"sales": -3.0}}, "demand per spoke"),
    ({"demand_per_day": {"mars": 1.0}}, "unknown spoke(s) mars"),
    ({"boundary_crossings": 9.0, "stages": 3}, "cannot exceed stages + 1"),
    ({"fixed_fte": {"moon": 2}}, "unknown unit(s) moon"),
    ({"productive_hours_per_day": float("nan")}, "finite number"),
])
def test_bad_inputs_are_refused_with_a_readable_message(org, change, words):
    with pytest.raises(InputError) as err:
        org.with_function("content_production", **change)
    assert words in str(err.value)
    assert all("\n" not in line for line in err.value.problems)


def test_bad_global_and_structural_inputs_are_refused(org):
    with pytest.raises(InputError, match="FTE cost per year"):
        org.with_globals(fte_cost=0)
    with pytest.raises(InputError, match="handoff delay"):
        org.with_globals(handoff_delay_hours=-2)
    data = dump_inputs(org)
    data["spokes"].append(dict(data["spokes"][0]))
    with pytest.raises(InputError, match="spoke ids must be unique"):
        load_inputs(data)
    with pytest.raises(InputError, match="unknown function"):
        org.with_shares({"astrology": 1.0})
    with pytest.raises(InputError, match="mapping"):
        load_inputs(["not", "a", "dict"])


def test_inputs_round_trip_through_their_saved_form(org):
    saved = json.loads(json.dumps(dump_inputs(org.with_shares(0.7))))
    assert saved["inputs_version"] == 2
    assert load_inputs(saved) == org.with_shares(0.7)


def test_inputs_saved_by_version_1_still_load():
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
    assert inputs.inputs_version == 2
    assert inputs.spoke_ids == ("sales", "hr")
    assert inputs.globals.fte_cost == 65_000 and inputs.globals.working_days_per_year == 220
    shares = {f: fn.central_share for f, fn in inputs.functions.items()}
    assert shares == {"content_production": 1.0, "social_listening": 0.4, "analytics_reporting": 0.0}
    assert inputs.functions["content_production"].boundary_crossings == 3
    assert evaluate(inputs).totals.fte > 0
    del v1["version"]  # no version at all: the first format
    assert load_inputs(v1) == inputs


def test_inputs_from_a_newer_version_are_refused_not_guessed(org):
    data = dump_inputs(org)
    data["inputs_version"] = 99
    with pytest.raises(InputError, match="newer version"):
        load_inputs(data)


def test_placement_follows_the_share(org):
    assert org.with_placement("content_production", "spokes").functions["content_production"].placement == "spokes"
    hybrid = org.with_placement("content_production", "hybrid", 0.3).functions["content_production"]
    assert hybrid.placement == "hybrid" and hybrid.central_share == 0.3
    assert org.with_placement("content_production", "hub").functions["content_production"].central_share == 1.0
