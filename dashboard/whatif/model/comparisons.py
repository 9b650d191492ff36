"""Presets and comparisons: the starting points of the Scenarios page and scenarios set side by side or
against a baseline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from dashboard.whatif.inputs import HYBRID_CENTRAL, ScenarioInputs
from dashboard.whatif.model.result import ScenarioResult, evaluate

PRESETS = ("as_is", "centralised", "decentralised", "hybrid")
PRESET_LABELS = {"as_is": "As-is", "centralised": "Centralised", "decentralised": "Decentralised",
                 "hybrid": "Hybrid (central content + analytics)", "scenario": "This scenario"}


# Which way is better, for deltas against a baseline (lower for nearly everything).
HIGHER_IS_BETTER = {"sla_met_share"}
TOTAL_LABELS: dict[str, str] = {
    "total_cost": "Total cost / year",
    "people_cost": "People cost / year",
    "platform_cost": "Platform cost / year",
    "coordination_cost": "Coordination cost / year",
    "fte": "FTE",
    "hub_fte": "Hub FTE",
    "spoke_fte": "Spoke FTE",
    "handoffs_per_month": "Handoffs / month",
    "lead_time_median_h": "Median lead time",
    "lead_time_mean_h": "Mean lead time",
    "sla_met_share": "Items within SLA",
    "unanswered_per_month": "Unanswered items / month",
    "compliance_risk_per_month": "Items at compliance risk / month",
    "duplication_fte": "Duplicated FTE",
    "slowdown_fte": "Generalist slowdown FTE",
    "duplication_platforms": "Duplicated platforms",
    "coordination_channels": "Coordination channels",
}


def presets(base_inputs: ScenarioInputs) -> dict[str, ScenarioInputs]:
    """The starting points of the Scenarios page: 'as_is' (the inputs given, e.g. calibrated), and the pure
    'centralised' (every function in the hub), 'decentralised' (every function in the spokes) and 'hybrid'
    (content production and analytics & reporting in the hub, everything else delivered locally).

    Every preset keeps the organisation's demand, times and office hours; its teams are staffed for the work
    they get at the occupancy they run at today (docs/whatif.md, "Staffing follows the work").
    """
    hybrid = {f: (1.0 if f in HYBRID_CENTRAL else 0.0) for f in base_inputs.functions}
    return {
        "as_is": base_inputs,
        "centralised": base_inputs.with_shares(1.0),
        "decentralised": base_inputs.with_shares(0.0),
        "hybrid": base_inputs.with_shares(hybrid),
    }


def compare(results: Mapping[str, ScenarioResult]) -> pd.DataFrame:
    """Totals of several scenarios side by side: one row per scenario (index = the mapping's keys)."""
    return pd.DataFrame([r.totals.as_dict() for r in results.values()], index=pd.Index(list(results), name="scenario"))


def compare_models(inputs: ScenarioInputs, as_is: ScenarioInputs | None = None) -> pd.DataFrame:
    """The three pure models, the hybrid preset and the user's scenario (and the as-is, if given) compared."""
    models = presets(as_is if as_is is not None else inputs)
    chosen = {k: v for k, v in models.items() if k != "as_is" or as_is is not None}
    chosen["scenario"] = inputs
    table = compare({k: evaluate(v) for k, v in chosen.items()})
    table.insert(0, "label", [PRESET_LABELS[k] for k in table.index])
    return table


def totals_delta(result: ScenarioResult, baseline: ScenarioResult,
                 metrics: tuple[str, ...] = ("total_cost", "fte", "handoffs_per_month", "lead_time_median_h",
                                             "sla_met_share", "unanswered_per_month")) -> pd.DataFrame:
    """Headline totals against a baseline (e.g. the as-is): value, baseline, delta, relative change and whether
    the change is an improvement (``better``: True, False, or None when unchanged). Infinite values give an
    infinite delta, never NaN."""
    rows = []
    for m in metrics:
        value, base = float(getattr(result.totals, m)), float(getattr(baseline.totals, m))
        if math.isinf(value) or math.isinf(base):
            delta = 0.0 if value == base else (math.inf if value > base else -math.inf)
        else:
            delta = value - base
        pct = delta / abs(base) if base not in (0, math.inf, -math.inf) and math.isfinite(delta) else 0.0
        small = abs(delta) <= 1e-9 * max(1.0, abs(base))
        better = None if small else (delta > 0 if m in HIGHER_IS_BETTER else delta < 0)
        rows.append({"metric": m, "label": TOTAL_LABELS.get(m, m), "value": value, "baseline": base,
                     "delta": 0.0 if small else delta, "pct_change": 0.0 if small else pct, "better": better,
                     "improved": bool(better)})
    return pd.DataFrame(rows).set_index("metric")


def spoke_delta(result: ScenarioResult, baseline: ScenarioResult) -> pd.DataFrame:
    """Per spoke: handoffs per month, lead times, cost and SLA share against a baseline (for the map's edges)."""
    cols = ["handoffs_per_month", "lead_time_median_h", "lead_time_mean_h", "total_cost", "sla_met_share"]
    now, before = result.spokes[cols], baseline.spokes.reindex(result.spokes.index)[cols]
    out = now.join(before.add_suffix("_baseline"))
    for c in cols:
        a, b = out[c].to_numpy(dtype=float), out[f"{c}_baseline"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            d = np.where(a == b, 0.0, a - b)
        out[f"{c}_delta"] = np.where(np.isnan(d), 0.0, d)
    return out
