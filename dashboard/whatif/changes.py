"""The operating-model cycle's design step: what a change of placement is predicted to do, and which changes
take the current operating model to a target one. Pure: what-if inputs in, plain dicts out (no I/O).

``predict_change(inputs, function, to_share)`` evaluates the what-if model (``dashboard.whatif.model.evaluate``)
on ``inputs`` as they are and again with that one function's central share set to ``to_share`` (everything else
unchanged), and returns the figures the Evaluate step later compares with what happened::

    {"lead_time_h":   {"before": x, "after": y},   # the function's mean lead time per item, calendar hours
     "handoffs":      {"before": x, "after": y},   # hub<->spoke handoffs per item of the function
     "cost_per_year": {"before": x, "after": y},   # the function's yearly cost (people, platforms, coordination)
     "sla_share":     {"before": x, "after": y},   # share of the function's items resolved within its SLA, 0..1
     "lead_time_median_h": {"before": x, "after": y}}  # the same lead time as a median, for reference

All figures are the function's row of ``ScenarioResult.functions`` (``lead_time_mean_h``, ``handoffs_per_item``,
``total_cost``, ``sla_met_share``): a change of one function changes only that row, so the function's cost
difference equals the organisation's. The mean lead time is the one an observed before/after mean compares
with. A queue that cannot keep up (unstable) has an unbounded lead time: stored as ``None`` (JSON has no inf).

``planned_changes_from(current, target)`` lists one change per function whose central share (the share of its
items the hub works) moved by at least
``SHARE_TOLERANCE`` (a calibrated as-is share drifts a little from day to day, and 0 -> 2 % central is not a
change of the operating model either), each with its label ("Content production centralised"), the spokes
it touches and the prediction of that change alone applied to the current model.
"""

from __future__ import annotations

import math
from typing import Any

from dashboard.domain import format as fmt
from dashboard.whatif.inputs import ScenarioInputs, function_label
from dashboard.whatif.model import evaluate

SHARE_TOLERANCE = 0.05  # shares closer than this (5 percentage points) count as the same
PREDICTED_METRICS: dict[str, tuple[str, str]] = {  # key -> (column of ScenarioResult.functions, readable label)
    "lead_time_h": ("lead_time_mean_h", "Lead time (mean, h)"),
    "handoffs": ("handoffs_per_item", "Handoffs per item"),
    "cost_per_year": ("total_cost", "Cost / year"),
    "sla_share": ("sla_met_share", "Within SLA"),
    "lead_time_median_h": ("lead_time_median_h", "Lead time (median, h)"),
}


def placement_of(share: float) -> str:
    """hub (1), spokes (0) or hybrid (in between), the same rule as FunctionInputs.placement."""
    if share >= 1.0:
        return "hub"
    if share <= 0.0:
        return "spokes"
    return "hybrid"


def change_label(function: str, to_share: float) -> str:
    """"Content production centralised" / "… decentralised" / "… made hybrid (60 % central)"."""
    name = function_label(function)
    placement = placement_of(to_share)
    if placement == "hub":
        return f"{name} centralised"
    if placement == "spokes":
        return f"{name} decentralised"
    return f"{name} made hybrid ({fmt.percent(to_share)} central)"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _figures(result, function: str) -> dict[str, float | None]:
    row = result.functions.loc[function]
    return {key: _finite(row[column]) for key, (column, _label) in PREDICTED_METRICS.items()}


def predict_change(inputs: ScenarioInputs, function: str, to_share: float) -> dict[str, dict[str, float | None]]:
    """The model's figures for ``function`` before and after setting its central share to ``to_share``.

    Raises ``dashboard.whatif.inputs.InputError`` for an unknown function or a share outside 0..1.
    """
    after_inputs = inputs.with_shares({function: float(to_share)})
    before, after = _figures(evaluate(inputs), function), _figures(evaluate(after_inputs), function)
    return {key: {"before": before[key], "after": after[key]} for key in PREDICTED_METRICS}


def touched_spokes(inputs: ScenarioInputs, function: str) -> list[str]:
    """Spokes with demand for the function (the ones a change of its placement touches)."""
    demand = inputs.functions[function].demand_by_spoke()
    return [s for s in inputs.spoke_ids if demand.get(s, 0.0) > 0]


def units_text(inputs: ScenarioInputs, function: str) -> str:
    """planned_changes.units: comma-separated touched spokes, empty when the change touches every spoke."""
    touched = touched_spokes(inputs, function)
    return "" if not touched or len(touched) == len(inputs.spoke_ids) else ",".join(touched)


def planned_changes_from(current_inputs: ScenarioInputs, target_inputs: ScenarioInputs) -> list[dict[str, Any]]:
    """One planned change per function whose central share differs by ``SHARE_TOLERANCE`` or more.

    Each: function, from_placement, to_placement, from_share, to_share, label, units (see :func:`units_text`) and
    predicted (:func:`predict_change` of that change alone on the current model). Functions only the target
    knows are compared with a current share of 0 (done in the spokes); functions only the current model has are
    left out (the target says nothing about them).
    """
    changes = []
    for function, target_fn in target_inputs.functions.items():
        current_fn = current_inputs.functions.get(function)
        from_share = current_fn.mean_share if current_fn is not None else 0.0
        to_share = target_fn.mean_share
        if abs(to_share - from_share) < SHARE_TOLERANCE:
            continue
        base = current_inputs if current_fn is not None else target_inputs.with_shares({function: 0.0})
        changes.append({
            "function": function,
            "from_placement": placement_of(from_share),
            "to_placement": placement_of(to_share),
            "from_share": round(float(from_share), 4),
            "to_share": round(float(to_share), 4),
            "label": change_label(function, to_share),
            "units": units_text(base, function),
            "predicted": predict_change(base, function, to_share),
        })
    return changes


def describe_prediction(predicted: dict | None) -> list[str]:
    """Readable lines for a stored prediction: "Lead time (mean, h): 28.6 h → 21.0 h"."""
    if not predicted:
        return []
    lines = []
    for key, (_column, label) in PREDICTED_METRICS.items():
        pair = predicted.get(key) or {}
        before, after = pair.get("before"), pair.get("after")
        if before is None and after is None:
            continue
        lines.append(f"{label}: {format_metric(key, before)} → {format_metric(key, after)}")
    return lines


def format_metric(key: str, value: float | None) -> str:
    if value is None:
        return "unbounded" if key.startswith("lead_time") else "—"
    if key.startswith("lead_time"):
        return f"{value:,.1f} h"
    if key == "cost_per_year":
        return f"€{value:,.0f}"
    if key == "sla_share":
        return f"{value:.0%}"
    return f"{value:,.2f}"
