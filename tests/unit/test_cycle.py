"""The operating-model cycle: predicted effect of a change, planned changes between two models, and the
queries (assessments, promotion, changes, annotations) on both engines."""

from __future__ import annotations

import math

import pytest

from dashboard.domain import cycle
from dashboard.whatif.inputs import InputError, default_inputs

SPOKES = ["sales", "finance", "product"]


def test_predict_change_centralising_content_adds_handoffs_and_cuts_cost():
    inputs = default_inputs(SPOKES, central_share=0.0)
    predicted = cycle.predict_change(inputs, "content_production", 1.0)
    assert set(predicted) >= {"lead_time_h", "handoffs", "cost_per_year", "sla_share"}
    assert predicted["handoffs"] == {"before": 0.0, "after": 3.0}  # 3 hub<->spoke crossings per central item
    assert predicted["cost_per_year"]["after"] < predicted["cost_per_year"]["before"]
    assert 0 < predicted["sla_share"]["before"] <= 1
    assert all(math.isfinite(v) for pair in predicted.values() for v in pair.values())
    # the input is not changed, and the "before" is the model as given
    assert inputs.functions["content_production"].central_share == 0.0


def test_predict_change_refuses_unknown_function_and_bad_share():
    inputs = default_inputs(SPOKES)
    with pytest.raises(InputError):
        cycle.predict_change(inputs, "astrology", 1.0)
    with pytest.raises(InputError):
        cycle.predict_change(inputs, "content_production", 1.5)


def test_planned_changes_one_per_moved_function_with_labels():
    current = default_inputs(SPOKES, central_share=0.0)
    target = current.with_shares({"content_production": 1.0, "analytics_reporting": 0.6,
                                  "campaign_planning": 0.02})  # 2 points: drift, not a change
    changes = cycle.planned_changes_from(current, target)
    assert [c["function"] for c in changes] == ["content_production", "analytics_reporting"]
    content, analytics = changes
    assert content["label"] == "Content production centralised"
    assert (content["from_placement"], content["to_placement"]) == ("spokes", "hub")
    assert (content["from_share"], content["to_share"]) == (0.0, 1.0)
    assert content["units"] == ""  # every spoke has content demand
    assert content["predicted"] == cycle.predict_change(current, "content_production", 1.0)
    assert analytics["label"].startswith("Analytics & reporting made hybrid")
    assert analytics["to_placement"] == "hybrid"
    back = cycle.planned_changes_from(target, current)
    assert back[0]["label"] == "Content production decentralised"


def test_units_name_only_the_spokes_with_demand():
    inputs = default_inputs(SPOKES).with_function("content_production", demand_per_day={"sales": 2.0, "product": 1.0})
    assert cycle.units_text(inputs, "content_production") == "sales,product"
    assert cycle.touched_spokes(inputs, "content_production") == ["sales", "product"]


def test_describe_prediction_is_readable():
    lines = cycle.describe_prediction({"lead_time_h": {"before": 28.57, "after": None},
                                       "cost_per_year": {"before": 874159.1, "after": 429000.0},
                                       "sla_share": {"before": 0.95, "after": 0.99}})
    assert lines == ["Lead time (mean, h): 28.6 h → unbounded", "Cost / year: €874,159 → €429,000",
                     "Within SLA: 95% → 99%"]
