"""The what-if model: evaluate an operating model, build the presets, compare scenarios.

    inputs = default_inputs(["sales", "finance", "customer_service", "product", "hr"])
    result = evaluate(inputs)
    result.totals.total_cost, result.functions, result.spokes, result.flags

Formulas, units and sources are in ``MODEL.md`` (next to this file); the computation is in ``engine.py``.
Tables are pandas DataFrames without NaN: unstable queues show ``inf`` waits and ``stable`` = False.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard.whatif.engine import Outcome, Params, compute
from dashboard.whatif.inputs import (  # noqa: F401 - re-exported: the page imports the model from here
    CURRENT_INPUTS_VERSION,
    FUNCTION_DEFAULTS,
    FUNCTION_LABELS,
    FUNCTIONS,
    HYBRID_CENTRAL,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    UnitInputs,
    default_inputs,
    dump_inputs,
    function_label,
    load_inputs,
    validate_inputs,
)

PRESETS = ("as_is", "centralised", "decentralised", "hybrid")
PRESET_LABELS = {"as_is": "As-is", "centralised": "Centralised", "decentralised": "Decentralised",
                 "hybrid": "Hybrid (central content + analytics)", "scenario": "This scenario"}


@dataclass(frozen=True)
class Totals:
    """Organisation-wide figures of one scenario. Costs per year, items and handoffs per month, times in hours."""

    fte: float
    fte_for_sla: float  # FTE the SLAs need (differs from ``fte`` only where staff is fixed)
    hub_fte: float
    spoke_fte: float
    people_cost: float
    platform_cost: float
    coordination_cost: float
    total_cost: float
    platform_instances: float
    items_per_month: float
    handoffs_per_month: float
    handoffs_per_item: float
    lead_time_mean_h: float
    lead_time_median_h: float
    sla_met_share: float
    sla_breaches: int  # (function, spoke) pairs below their SLA target
    compliance_risk_per_month: float  # expected non-compliant items
    duplication_fte: float
    duplication_platforms: float
    duplication_cost: float
    coordination_channels: float
    stable: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Which way is better, for deltas against a baseline ("lower" for nearly everything).
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
    "lead_time_median_h": "Median lead time (h)",
    "lead_time_mean_h": "Mean lead time (h)",
    "sla_met_share": "Items within SLA",
    "compliance_risk_per_month": "Non-compliant items / month",
    "duplication_fte": "Duplicated FTE",
    "duplication_platforms": "Duplicated platforms",
    "coordination_channels": "Coordination channels",
}


@dataclass(frozen=True)
class ScenarioResult:
    """Results of one scenario.

    - ``totals``: :class:`Totals`.
    - ``functions``: one row per function (index ``function``).
    - ``spokes``: one row per spoke (index ``spoke``); ``total_cost`` = local cost + the hub's cost allocated
      by the spoke's share of central items (coordination cost stays in the totals).
    - ``queues``: one row per queue with demand (function × unit).
    - ``flags``: readable warnings (unstable queues, SLAs no staffing can meet, SLA breaches).
    """

    inputs: ScenarioInputs
    totals: Totals
    functions: pd.DataFrame
    spokes: pd.DataFrame
    queues: pd.DataFrame
    flags: tuple[str, ...]

    @property
    def stable(self) -> bool:
        return self.totals.stable

    def as_record(self) -> dict[str, Any]:
        """JSON-safe summary for saving with a scenario: totals and per-spoke/per-function rows, inf → None."""
        return {
            "inputs_version": self.inputs.inputs_version,
            "totals": _json_safe(self.totals.as_dict()),
            "functions": _json_safe(self.functions.reset_index().to_dict(orient="records")),
            "spokes": _json_safe(self.spokes.reset_index().to_dict(orient="records")),
            "flags": list(self.flags),
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _fmt_h(hours: float) -> str:
    return "unbounded" if not math.isfinite(hours) else f"{hours:.1f} h"


def evaluate(inputs: ScenarioInputs) -> ScenarioResult:
    """All outputs of one operating model (see MODEL.md). Pure and deterministic; a few milliseconds."""
    if not isinstance(inputs, ScenarioInputs):
        raise TypeError("evaluate takes ScenarioInputs; build them with load_inputs(dict) or default_inputs(...)")
    out = compute(Params.from_inputs(inputs))
    return _result(inputs, out)


def _result(inputs: ScenarioInputs, out: Outcome) -> ScenarioResult:
    fn_ids = list(inputs.functions)
    spokes = inputs.spokes
    spoke_ids = [s.id for s in spokes]
    p = out.params
    hub, spk = out.hub, out.spoke
    i = 0  # the single point

    items_f = out.items_fs[i].sum(-1)
    fte_f = out.fte_f[i]
    people_f = out.people_f[i]
    platform_f = out.platform_f[i]
    lead_f = out.lead_mean((2,))[i]
    median_total, median_f, median_s = (m[i] for m in out.lead_medians())
    sla_f = out.sla_met_share((2,))[i]
    handoffs_f = out.handoffs_fs[i].sum(-1)
    central_items_f = out.central_items_fs[i].sum(-1)
    local_fte_f = spk.servers[i].sum(-1)
    local_load_f = (spk.arrival[i] * spk.service_h[i] * np.broadcast_to(p.flow, p.share.shape)[0][:, None]).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):  # offered work (in FTE) over local staff
        spoke_util = np.where(local_fte_f > 0, local_load_f / np.where(local_fte_f > 0, local_fte_f, 1),
                              np.where(local_load_f > 0, np.inf, 0.0))
    stable_f = hub.stable[i] & spk.stable[i].all(-1)
    infeasible_hub = hub.sla_infeasible[i] & (hub.arrival[i] > 0)
    infeasible_spk = (spk.sla_infeasible[i] & (spk.arrival[i] > 0)).any(-1)
    breach_f = out.breach_fs[i].any(-1)

    functions = pd.DataFrame({
        "label": [function_label(f) for f in fn_ids],
        "placement": [inputs.functions[f].placement for f in fn_ids],
        "central_share": p.share[0],
        "demand_per_day": p.demand[0].sum(-1),
        "items_per_month": items_f,
        "central_items_per_month": central_items_f,
        "hub_fte": hub.servers[i].astype(float),
        "spoke_fte": local_fte_f.astype(float),
        "fte": fte_f.astype(float),
        "fte_for_sla": (hub.servers_for_sla[i] + spk.servers_for_sla[i].sum(-1)).astype(float),
        "hub_utilisation": hub.utilisation[i],
        "spoke_utilisation": spoke_util,
        "hub_wait_h": hub.wait_h[i],
        "lead_time_mean_h": lead_f,
        "lead_time_median_h": median_f,
        "sla_hours": p.sla[0],
        "sla_target": p.target[0],
        "sla_met_share": sla_f,
        "sla_breach": breach_f,
        "sla_infeasible": infeasible_hub | infeasible_spk,
        "handoffs_per_item": np.where(items_f > 0, handoffs_f / np.where(items_f > 0, items_f, 1), 0.0),
        "handoffs_per_month": handoffs_f,
        "people_cost": people_f,
        "platform_instances": out.instances[i],
        "platform_cost": platform_f,
        "coordination_teams": out.instances[i],
        "coordination_channels": out.channels[i],
        "coordination_cost": out.coordination[i],
        "central_fte": out.central_fte[i].astype(float),
        "duplication_fte": out.duplication_fte[i],
        "duplication_platforms": out.duplication_platforms[i],
        "duplication_cost": out.duplication_cost[i],
        "compliance_risk_per_month": out.noncompliant_fs[i].sum(-1),
        "total_cost": out.cost_f[i],
        "stable": stable_f,
    }, index=pd.Index(fn_ids, name="function"))

    # per spoke: local cost plus the hub's people + platform cost allocated by central items
    hub_cost_f = out.people_hub[i] + out.platform_hub[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        alloc_share = np.where(central_items_f[:, None] > 0,
                               out.central_items_fs[i] / np.where(central_items_f[:, None] > 0,
                                                                  central_items_f[:, None], 1), 0.0)
    allocated = (alloc_share * hub_cost_f[:, None]).sum(0)
    items_s = out.items_fs[i].sum(0)
    handoffs_s = out.handoffs_fs[i].sum(0)
    local_people = out.people_spoke[i].sum(0)
    local_platform = out.platform_spoke[i].sum(0)
    uses_hub = out.central_items_fs[i] > 0
    stable_s = (spk.stable[i] & (hub.stable[i][:, None] | ~uses_hub)).all(0)
    breached = [", ".join(function_label(f) for f, b in zip(fn_ids, out.breach_fs[i][:, s]) if b)
                for s in range(len(spoke_ids))]
    spokes_df = pd.DataFrame({
        "name": [s.label for s in spokes],
        "demand_per_day": p.demand[0].sum(0),
        "items_per_month": items_s,
        "central_items_per_month": out.central_items_fs[i].sum(0),
        "local_items_per_month": items_s - out.central_items_fs[i].sum(0),
        "handoffs_per_month": handoffs_s,
        "handoffs_per_item": np.where(items_s > 0, handoffs_s / np.where(items_s > 0, items_s, 1), 0.0),
        "lead_time_mean_h": out.lead_mean((1,))[i],
        "lead_time_median_h": median_s,
        "sla_met_share": out.sla_met_share((1,))[i],
        "sla_breach": out.breach_fs[i].any(0),
        "breached_functions": breached,
        "local_fte": spk.servers[i].sum(0).astype(float),
        "local_people_cost": local_people,
        "local_platform_cost": local_platform,
        "hub_cost_allocated": allocated,
        "total_cost": local_people + local_platform + allocated,
        "compliance_risk_per_month": out.noncompliant_fs[i].sum(0),
        "stable": stable_s,
    }, index=pd.Index(spoke_ids, name="spoke"))

    queue_columns = _queue_columns(inputs, out)
    totals = Totals(
        fte=float(fte_f.sum()),
        fte_for_sla=float(hub.servers_for_sla[i].sum() + spk.servers_for_sla[i].sum()),
        hub_fte=float(hub.servers[i].sum()),
        spoke_fte=float(spk.servers[i].sum()),
        people_cost=float(people_f.sum()),
        platform_cost=float(platform_f.sum()),
        coordination_cost=float(out.coordination[i].sum()),
        total_cost=float(out.cost_f[i].sum()),
        platform_instances=float(out.instances[i].sum()),
        items_per_month=float(items_f.sum()),
        handoffs_per_month=float(handoffs_f.sum()),
        handoffs_per_item=float(handoffs_f.sum() / items_f.sum()) if items_f.sum() > 0 else 0.0,
        lead_time_mean_h=float(out.lead_mean((1, 2))[i]),
        lead_time_median_h=float(median_total),
        sla_met_share=float(out.sla_met_share((1, 2))[i]),
        sla_breaches=int(out.breach_fs[i].sum()),
        compliance_risk_per_month=float(out.noncompliant_fs[i].sum()),
        duplication_fte=float(out.duplication_fte[i].sum()),
        duplication_platforms=float(out.duplication_platforms[i].sum()),
        duplication_cost=float(out.duplication_cost[i].sum()),
        coordination_channels=float(out.channels[i].sum()),
        stable=bool(stable_f.all()),
    )
    return ScenarioResult(inputs=inputs, totals=totals, functions=functions, spokes=spokes_df,
                          queues=pd.DataFrame(queue_columns), flags=tuple(_flags(inputs, out, queue_columns)))


def _queue_columns(inputs: ScenarioInputs, out: Outcome) -> dict[str, np.ndarray]:
    """Columns of the queue table: the hub's queue per function, then each spoke's; only queues with demand."""
    fn_ids = list(inputs.functions)
    F, S = len(fn_ids), len(inputs.spokes)
    hub, spk = out.hub, out.spoke
    handoff = (np.broadcast_to(out.params.crossings, out.params.share.shape)[0]
               * np.broadcast_to(out.params.delay, out.params.share.shape)[0])

    def both(hub_values: np.ndarray, spoke_values: np.ndarray) -> np.ndarray:
        return np.concatenate([hub_values[:, None], spoke_values], axis=1).ravel()  # (F, 1+S) row-major

    units = [inputs.hub.id, *inputs.spoke_ids]
    fixed = [[u in inputs.functions[f].fixed_fte for u in units] for f in fn_ids]
    arrival = both(hub.arrival[0], spk.arrival[0])
    columns = {
        "function": np.repeat(np.array(fn_ids, dtype=object), 1 + S),
        "unit": np.tile(np.array(units, dtype=object), F),
        "unit_kind": np.tile(np.array(["hub"] + ["spoke"] * S, dtype=object), F),
        "arrivals_per_day": arrival * 24.0,
        "service_h": both(hub.service_h[0], spk.service_h[0]),
        "handoff_h": both(handoff, np.zeros((F, S))),
        "servers": both(hub.servers[0], spk.servers[0]),
        "servers_for_sla": both(hub.servers_for_sla[0], spk.servers_for_sla[0]),
        "staffing": np.where(np.ravel(fixed), "fixed", "sla").astype(object),
        "utilisation": both(hub.utilisation[0], spk.utilisation[0]),
        "p_wait": both(hub.p_wait[0], spk.p_wait[0]),
        "wait_h": both(hub.wait_h[0], spk.wait_h[0]),
        "lead_time_h": both(hub.lead_h[0], spk.lead_h[0]),
        "sla_met_share": both(hub.sla_met[0], spk.sla_met[0]),
        "sla_infeasible": both(hub.sla_infeasible[0], spk.sla_infeasible[0]),
        "stable": both(hub.stable[0], spk.stable[0]),
    }
    keep = arrival > 0
    return {k: v[keep] for k, v in columns.items()}


def _flags(inputs: ScenarioInputs, out: Outcome, q: dict[str, np.ndarray]) -> list[str]:
    flags = []
    names = {inputs.hub.id: inputs.hub.label, **{s.id: s.label for s in inputs.spokes}}
    for r in np.flatnonzero(~q["stable"] | q["sla_infeasible"]):
        function, unit = q["function"][r], q["unit"][r]
        label = f"{function_label(function)} at {names[unit]}"
        service, handoff = q["service_h"][r], q["handoff_h"][r]
        if not q["stable"][r]:
            work = q["arrivals_per_day"][r] / 24.0 * service
            flags.append(f"{label}: unstable — {q['servers'][r]} FTE for {work:.1f} FTE of work; the queue grows "
                         "without bound (wait unbounded)")
        else:
            sla = inputs.functions[function].sla_hours
            what = (f"service ({service:.1f} h) plus handoffs ({handoff:.1f} h)" if handoff
                    else f"service alone ({service:.1f} h)")
            flags.append(f"{label}: {what} exceed the {sla:g} h SLA — no staffing can meet it")
    fn_ids = list(inputs.functions)
    target = np.broadcast_to(out.params.target, out.params.share.shape)[0]
    for f, j in zip(*np.nonzero(out.breach_fs[0])):
        flags.append(f"{inputs.spokes[j].label}: {function_label(fn_ids[f])} meets its SLA for "
                     f"{out.sla_met_fs[0, f, j]:.0%} of items (target {target[f]:.0%})")
    return flags


# --- presets and comparisons ---------------------------------------------------------------------------------


def presets(base_inputs: ScenarioInputs) -> dict[str, ScenarioInputs]:
    """The starting points of the Scenarios page: 'as_is' (the inputs given, e.g. calibrated), and the pure
    'centralised' (every function in the hub), 'decentralised' (every function in the spokes) and 'hybrid'
    (content production and analytics & reporting in the hub, everything else delivered locally).

    The three designed presets are staffed to their SLAs (fixed as-is headcounts are dropped): a headcount
    sized for one model says nothing about another.
    """
    base = base_inputs.without_fixed_staffing()
    hybrid = {f: (1.0 if f in HYBRID_CENTRAL else 0.0) for f in base.functions}
    return {
        "as_is": base_inputs,
        "centralised": base.with_shares(1.0),
        "decentralised": base.with_shares(0.0),
        "hybrid": base.with_shares(hybrid),
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
                                             "compliance_risk_per_month", "sla_met_share")) -> pd.DataFrame:
    """Headline totals against a baseline (e.g. the as-is): value, baseline, delta, relative change and whether
    the change is an improvement. Infinite values (unstable set-ups) give an infinite or undefined delta,
    reported as inf with ``improved`` False, never NaN."""
    rows = []
    for m in metrics:
        value, base = getattr(result.totals, m), getattr(baseline.totals, m)
        if math.isinf(value) or math.isinf(base):
            delta = 0.0 if value == base else (math.inf if value > base else -math.inf)
        else:
            delta = value - base
        pct = delta / abs(base) if base not in (0, math.inf, -math.inf) and math.isfinite(delta) else 0.0
        better = delta > 0 if m in HIGHER_IS_BETTER else delta < 0
        rows.append({"metric": m, "label": TOTAL_LABELS.get(m, m), "value": value, "baseline": base,
                     "delta": delta, "pct_change": pct, "improved": bool(better)})
    return pd.DataFrame(rows).set_index("metric")


def spoke_delta(result: ScenarioResult, baseline: ScenarioResult) -> pd.DataFrame:
    """Per spoke: handoffs per month and median lead time against a baseline (for the map's edges)."""
    cols = ["handoffs_per_month", "lead_time_median_h", "lead_time_mean_h", "total_cost", "sla_met_share"]
    now, before = result.spokes[cols], baseline.spokes.reindex(result.spokes.index)[cols]
    out = now.join(before.add_suffix("_baseline"))
    for c in cols:
        a, b = out[c].to_numpy(dtype=float), out[f"{c}_baseline"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            d = np.where(a == b, 0.0, a - b)
        out[f"{c}_delta"] = np.where(np.isnan(d), 0.0, d)
    return out


