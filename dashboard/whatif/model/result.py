"""One scenario evaluated: :func:`evaluate` runs the engine on the inputs and gathers its outcome into a
:class:`ScenarioResult` (totals, and tables per function, spoke, stream and team, with flags).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard.whatif.engine import WEEKS_PER_MONTH, Outcome, Params, Structure, compute, median_of
from dashboard.whatif.inputs import ScenarioInputs, function_label

WORKERS = ("hub", "spoke")


@dataclass(frozen=True)
class Totals:
    """Organisation-wide figures of one scenario. Costs per year, items and handoffs per month, times in hours."""

    fte: float
    hub_fte: float
    spoke_fte: float
    people_cost: float
    platform_cost: float
    coordination_cost: float
    total_cost: float
    platform_instances: int
    items_per_month: float
    unanswered_per_month: float
    handoffs_per_month: float
    handoffs_per_item: float
    lead_time_mean_h: float
    lead_time_median_h: float
    sla_met_share: float
    sla_breaches: int  # (function, spoke) pairs below their SLA target
    compliance_risk_per_month: float  # expected non-compliant items
    duplication_fte: float  # FTE beyond the fully central need that are not generalists' longer work
    slowdown_fte: float  # FTE because generalists take longer per item than specialists
    duplication_platforms: int
    coordination_channels: int
    central_share_mean: float  # share of items worked in the hub
    stable: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScenarioResult:
    """Results of one scenario.

    - ``totals``: :class:`Totals`.
    - ``functions``: one row per function (index ``function``).
    - ``spokes``: one row per spoke (index ``spoke``); ``total_cost`` = the spoke's own people and platforms +
      the hub's people and platform cost allocated by the hub work done for the spoke.
    - ``streams``: one row per stream and worker with items: where the lead time goes (``handoff_h``,
      ``waiting_h``, ``work_h``, ``out_of_hours_h``).
    - ``pools``: one row per team (the hub's per function, each spoke's shared one) with work.
    - ``flags``: readable warnings.
    """

    inputs: ScenarioInputs
    totals: Totals
    functions: pd.DataFrame
    spokes: pd.DataFrame
    streams: pd.DataFrame
    pools: pd.DataFrame
    flags: tuple[str, ...]
    outcome: Outcome
    structure: Structure

    @property
    def stable(self) -> bool:
        return self.totals.stable

    @property
    def queues(self) -> pd.DataFrame:
        return self.pools

    def staffing(self, pool: str) -> pd.DataFrame:
        """Hour by hour over the week (UTC) for one pool id (``hub:content_production`` or a spoke id): items
        arriving, people on duty and the backlog at the start of the hour."""
        ids = list(self.pools.index)
        if pool not in ids:
            raise KeyError(f"no pool {pool!r}; pools: {', '.join(ids)}")
        q = pool_ids(self.structure).index(pool)
        return pd.DataFrame({
            "hour": np.arange(168),
            "arrivals": self.outcome.arrivals_h[0, q],
            "on_duty": self.outcome.on_duty[0, q] * self.structure.pool_mask[q],
            "backlog": self.outcome.backlog_h[0, q],
        })

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


def pool_ids(st: Structure) -> list[str]:
    return [f"hub:{f}" for f in st.function_ids] + list(st.spoke_ids)


def evaluate(inputs: ScenarioInputs, *, medians: bool = True) -> ScenarioResult:
    """All outputs of one operating model (see docs/whatif.md). Pure and deterministic; a few milliseconds."""
    if not isinstance(inputs, ScenarioInputs):
        raise TypeError("evaluate takes ScenarioInputs; build them with load_inputs(dict) or default_inputs(...)")
    st = Structure.from_inputs(inputs)
    params = Params.from_inputs(inputs)
    return _result(inputs, st, params, compute(st, params, medians=medians))


def _group(values: np.ndarray, weights: np.ndarray, index: np.ndarray, n: int, empty: float = 0.0) -> np.ndarray:
    """Weighted means of ``values`` (J, 2) grouped by ``index`` (J,) into n groups."""
    num = np.zeros(n)
    den = np.zeros(n)
    np.add.at(num, index, (np.where(weights > 0, values, 0.0) * weights).sum(-1))
    np.add.at(den, index, weights.sum(-1))
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)


def _sums(values: np.ndarray, index: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n)
    np.add.at(out, index, values.sum(-1) if values.ndim == 2 else values)
    return out


def _medians(cdf: np.ndarray | None, weights: np.ndarray, index: np.ndarray | None, n: int) -> np.ndarray:
    """Medians of the lead-time mixture per group (index None: one group of everything)."""
    if cdf is None:
        return np.full(n, np.nan)
    groups = np.zeros((n, cdf.shape[-1]))
    total = np.zeros(n)
    idx = np.zeros(len(weights), dtype=np.int64) if index is None else index
    np.add.at(groups, idx, np.einsum("jw,jwg->jg", weights, cdf))
    np.add.at(total, idx, weights.sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        mixed = groups / np.where(total > 0, total, 1.0)[:, None]
    return np.where(total > 0, median_of(mixed), 0.0)


def _result(inputs: ScenarioInputs, st: Structure, params: Params, out: Outcome) -> ScenarioResult:
    fn_ids, spoke_ids = list(st.function_ids), list(st.spoke_ids)
    F, S, J = st.F, st.S, st.J
    i = 0
    items, answered = out.items[i], out.answered[i]
    lead, sla = out.lead_mean[i], out.sla_met[i]
    cdf = None if out.cdf is None else out.cdf[i]
    handoffs = items * st.crossing
    central_items = items[:, 0]
    noncompliant = out.noncompliant[i]
    unanswered = items - answered
    fte_q = out.fte[i]
    people_q = out.people_cost_q[i]
    platform_f = out.platform_cost_f[i]
    coordination_f = out.coordination_cost_f[i]
    instances = out.instances[i]
    target = np.array([inputs.functions[f].sla_target for f in fn_ids])
    work = np.broadcast_to(params.work, (1, J, 2))[0]

    # function × spoke attainment, for breaches
    pair = st.fn_of * S + st.spoke_of
    pair_sla = _group(sla, answered, pair, F * S, empty=1.0).reshape(F, S)
    pair_items = _sums(answered, pair, F * S).reshape(F, S)
    breach = (pair_items > 0) & (pair_sla < target[:, None] - 1e-9)

    # FTE per function: the hub team, plus each spoke team's FTE in proportion to its work for the function
    work_local = out.pool_work[i][F:]  # (S,)
    local_work_js = (out.items[i][:, 1] / WEEKS_PER_MONTH) * work[:, 1]
    share_in_pool = np.where(work_local[st.spoke_of] > 0,
                             local_work_js / np.where(work_local[st.spoke_of] > 0, work_local[st.spoke_of], 1.0), 0.0)
    spoke_fte_j = share_in_pool * fte_q[F + st.spoke_of]
    spoke_cost_j = share_in_pool * people_q[F + st.spoke_of]
    spoke_fte_f = _sums(spoke_fte_j, st.fn_of, F)
    hub_fte_f = fte_q[:F]
    fte_f = hub_fte_f + spoke_fte_f
    people_f = people_q[:F] + _sums(spoke_cost_j, st.fn_of, F)
    items_f = _sums(items, st.fn_of, F)
    central_f = _sums(central_items, st.fn_of, F)
    handoffs_f = _sums(handoffs, st.fn_of, F)
    duplication_total = fte_f - out.central_fte_f[i]
    slowdown_f = out.slowdown_fte_f[i]
    duplication_f = np.maximum(duplication_total - slowdown_f, 0.0)

    def safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), 0.0)

    functions = pd.DataFrame({
        "label": [function_label(f) for f in fn_ids],
        "placement": [inputs.functions[f].placement for f in fn_ids],
        "central_share": safe_div(central_f, items_f),
        "demand_per_day": items_f / (WEEKS_PER_MONTH * 7.0),
        "items_per_month": items_f,
        "central_items_per_month": central_f,
        "unanswered_per_month": _sums(unanswered, st.fn_of, F),
        "hub_fte": hub_fte_f,
        "spoke_fte": spoke_fte_f,
        "fte": fte_f,
        "lead_time_mean_h": _group(lead, answered, st.fn_of, F),
        "lead_time_median_h": _medians(cdf, answered, st.fn_of, F),
        "sla_target": target,
        "sla_met_share": _group(sla, answered, st.fn_of, F, empty=1.0),
        "sla_breach": breach.any(-1),
        "handoffs_per_item": safe_div(handoffs_f, items_f),
        "handoffs_per_month": handoffs_f,
        "people_cost": people_f,
        "platform_instances": instances.sum(-1),
        "platform_cost": platform_f,
        "coordination_channels": out.channels[i],
        "coordination_cost": coordination_f,
        "central_fte": out.central_fte_f[i],
        "duplication_fte": duplication_f,
        "slowdown_fte": slowdown_f,
        "duplication_platforms": np.maximum(instances.sum(-1) - 1, 0),
        "compliance_risk_per_month": _sums(noncompliant, st.fn_of, F),
        "total_cost": people_f + platform_f + coordination_f,
    }, index=pd.Index(fn_ids, name="function"))
    functions["stable"] = True

    # per spoke: its own team, its platforms, and the hub's cost allocated by the hub work done for it
    hub_work_j = (out.items[i][:, 0] / WEEKS_PER_MONTH) * work[:, 0]
    hub_work_f = _sums(hub_work_j, st.fn_of, F)
    platform_each = np.broadcast_to(params.platform, (1, F))[0]
    alloc_j = safe_div(hub_work_j, hub_work_f[st.fn_of]) * (people_q[st.fn_of] + platform_each[st.fn_of]
                                                            * instances[st.fn_of, 0])
    local_platform = (instances[:, 1:] * platform_f[:, None] / np.maximum(instances.sum(-1), 1)[:, None]).sum(0)
    allocated = _sums(alloc_j, st.spoke_of, S)
    spokes_items = _sums(items, st.spoke_of, S)
    spokes_handoffs = _sums(handoffs, st.spoke_of, S)
    breached = [", ".join(function_label(fn_ids[f]) for f in range(F) if breach[f, s]) for s in range(S)]
    spokes = pd.DataFrame({
        "name": [u.label for u in inputs.spokes],
        "demand_per_day": spokes_items / (WEEKS_PER_MONTH * 7.0),
        "items_per_month": spokes_items,
        "central_items_per_month": _sums(central_items, st.spoke_of, S),
        "local_items_per_month": _sums(items[:, 1], st.spoke_of, S),
        "unanswered_per_month": _sums(unanswered, st.spoke_of, S),
        "handoffs_per_month": spokes_handoffs,
        "handoffs_per_item": safe_div(spokes_handoffs, spokes_items),
        "lead_time_mean_h": _group(lead, answered, st.spoke_of, S),
        "lead_time_median_h": _medians(cdf, answered, st.spoke_of, S),
        "sla_met_share": _group(sla, answered, st.spoke_of, S, empty=1.0),
        "sla_breach": breach.any(0),
        "breached_functions": breached,
        "local_fte": fte_q[F:],
        "local_people_cost": people_q[F:],
        "local_platform_cost": local_platform,
        "hub_cost_allocated": allocated,
        "total_cost": people_q[F:] + local_platform + allocated,
        "compliance_risk_per_month": _sums(noncompliant, st.spoke_of, S),
    }, index=pd.Index(spoke_ids, name="spoke"))
    spokes["stable"] = True

    streams = _stream_table(inputs, st, out)
    pools = _pool_table(inputs, st, out)
    total_items = float(items.sum())
    totals = Totals(
        fte=float(fte_q.sum()),
        hub_fte=float(fte_q[:F].sum()),
        spoke_fte=float(fte_q[F:].sum()),
        people_cost=float(people_q.sum()),
        platform_cost=float(platform_f.sum()),
        coordination_cost=float(coordination_f.sum()),
        total_cost=float(people_q.sum() + platform_f.sum() + coordination_f.sum()),
        platform_instances=int(instances.sum()),
        items_per_month=total_items,
        unanswered_per_month=float(unanswered.sum()),
        handoffs_per_month=float(handoffs.sum()),
        handoffs_per_item=float(handoffs.sum() / total_items) if total_items > 0 else 0.0,
        lead_time_mean_h=float(_group(lead, answered, np.zeros(J, dtype=np.int64), 1)[0]) if J else 0.0,
        lead_time_median_h=float(_medians(cdf, answered, None, 1)[0]) if J else 0.0,
        sla_met_share=float(_group(sla, answered, np.zeros(J, dtype=np.int64), 1, empty=1.0)[0]) if J else 1.0,
        sla_breaches=int(breach.sum()),
        compliance_risk_per_month=float(noncompliant.sum()),
        duplication_fte=float(duplication_f.sum()),
        slowdown_fte=float(slowdown_f.sum()),
        duplication_platforms=int(np.maximum(instances.sum(-1) - 1, 0).sum()),
        coordination_channels=int(round(float(out.channels[i].sum()))),
        central_share_mean=float(central_items.sum() / total_items) if total_items > 0 else 0.0,
        stable=True,
    )
    return ScenarioResult(inputs=inputs, totals=totals, functions=functions, spokes=spokes, streams=streams,
                          pools=pools, flags=tuple(_flags(inputs, functions, pools, breach, st)), outcome=out,
                          structure=st)


def _stream_table(inputs: ScenarioInputs, st: Structure, out: Outcome) -> pd.DataFrame:
    i = 0
    rows = []
    medians = median_of(out.cdf[i]) if out.cdf is not None else np.full((st.J, 2), np.nan)
    for j, (fid, spoke, kind, origin) in enumerate(st.stream_keys):
        stream = inputs.functions[fid].streams[[s.key for s in inputs.functions[fid].streams].index((spoke, kind, origin))]
        for w, worker in enumerate(WORKERS):
            n = float(out.items[i, j, w])
            if n <= 0:
                continue
            figures = stream.worker("hub" if w == 0 else "spoke")
            rows.append({
                "function": fid, "spoke": spoke, "kind": kind, "origin": origin, "worker": worker,
                "items_per_month": n, "answered_per_month": float(out.answered[i, j, w]),
                "lead_time_mean_h": float(out.lead_mean[i, j, w]), "lead_time_median_h": float(medians[j, w]),
                "sla_hours": stream.sla_hours,
                "sla_met_share": float(out.sla_met[i, j, w]),
                "handoff_h": float(out.handoff[i, j, w]),
                "waiting_h": float(out.wait[i, j, w]) + figures.response_h,
                "work_h": figures.in_progress_h,
                "out_of_hours_h": float(out.ooh[i, j, w]),
                "hands_on_h": figures.work_h,
                "source": figures.source,
            })
    columns = ["function", "spoke", "kind", "origin", "worker", "items_per_month", "answered_per_month",
               "lead_time_mean_h", "lead_time_median_h", "sla_hours", "sla_met_share", "handoff_h", "waiting_h", "work_h", "out_of_hours_h",
               "hands_on_h", "source"]
    return pd.DataFrame(rows, columns=columns)


def _pool_table(inputs: ScenarioInputs, st: Structure, out: Outcome) -> pd.DataFrame:
    i = 0
    units = inputs.units
    rows = []
    for q, pid in enumerate(pool_ids(st)):
        unit = units[int(st.pool_unit[q])]
        rows.append({
            "pool": pid, "unit": unit.id, "function": st.function_ids[q] if q < st.F else "shared",
            "hours": unit.hours, "timezone": unit.timezone, "open_hours_per_week": float(st.open_hours[q]),
            "items_per_day": float(out.pool_items[i, q]) / 7.0,
            "work_hours_per_week": float(out.pool_work[i, q]), "fte": float(out.fte[i, q]),
            "on_duty": float(out.on_duty[i, q]), "occupancy": float(out.occupancy[i, q]),
            "wait_h": float(out.pool_wait[i, q]), "backlog_peak": float(out.backlog_peak[i, q]),
        })
    table = pd.DataFrame(rows).set_index("pool")
    return table[table.items_per_day > 0]


def _flags(inputs: ScenarioInputs, functions: pd.DataFrame, pools: pd.DataFrame, breach: np.ndarray,
           st: Structure) -> list[str]:
    flags = []
    names = {u.id: u.label for u in inputs.units}
    row: Any  # a named tuple of the pools table's columns
    for row in pools.itertuples():
        if row.backlog_peak >= 1.0 and row.open_hours_per_week < 168:
            who = names[row.unit] + ("" if row.function == "shared" else f" ({function_label(row.function)})")
            flags.append(f"{who}: up to {row.backlog_peak:,.0f} items wait for the team's office hours "
                         f"({row.hours}, {row.timezone})")
    for f, s in zip(*np.nonzero(breach)):
        fid = st.function_ids[f]
        flags.append(f"{names[st.spoke_ids[s]]}: {function_label(fid)} misses its SLA target "
                     f"({inputs.functions[fid].sla_target * 100:.1f} %)")
    for row in functions[functions.unanswered_per_month >= 0.5].itertuples():
        flags.append(f"{row.label}: about {row.unanswered_per_month:,.0f} items a month go unanswered "
                     "(nobody picks them up before the sender gives up)")
    return flags
