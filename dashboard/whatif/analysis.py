"""Sweeps over the what-if model: the cost / lead-time trade-off curve and a sensitivity (tornado) table.

Both build many scenario variants as rows of one :class:`~dashboard.whatif.engine.Params` and evaluate them in
one vectorised :func:`~dashboard.whatif.engine.compute` call, so a 1,000-point sweep costs about as much as a
few dozen single evaluations. Staffing follows the work (docs/whatif.md), so cost moves smoothly with the share;
a point where a platform licence appears or goes says so in ``steps``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from dashboard.whatif.engine import Outcome, Params, Structure, compute
from dashboard.whatif.inputs import FIELD_LABELS, InputError, ScenarioInputs, function_label
from dashboard.whatif.model import evaluate

MAX_POINTS = 20_000


def _weighted(values: np.ndarray, weights: np.ndarray, axis: tuple[int, ...], empty: float = 0.0) -> np.ndarray:
    total = weights.sum(axis=axis)
    num = (np.where(weights > 0, values, 0.0) * weights).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / np.where(total > 0, total, 1.0), empty)


def _point_totals(st: Structure, out: Outcome) -> dict[str, np.ndarray]:
    """Organisation totals for every point of an outcome (arrays of length P)."""
    items = out.items.sum((1, 2))
    handoffs = (out.items * st.crossing[None]).sum((1, 2))
    people = out.people_cost_q.sum(-1)
    platform = out.platform_cost_f.sum(-1)
    coordination = out.coordination_cost_f.sum(-1)
    return {
        "total_cost": people + platform + coordination,
        "people_cost": people,
        "platform_cost": platform,
        "coordination_cost": coordination,
        "fte": out.fte.sum(-1),
        "hub_fte": out.fte[:, :st.F].sum(-1),
        "spoke_fte": out.fte[:, st.F:].sum(-1),
        "platform_instances": out.instances.sum((1, 2)).astype(np.float64),
        "handoffs_per_month": handoffs,
        "handoffs_per_item": np.where(items > 0, handoffs / np.where(items > 0, items, 1.0), 0.0),
        "lead_time_mean_h": _weighted(out.lead_mean, out.answered, (1, 2)),
        "sla_met_share": _weighted(out.sla_met, out.answered, (1, 2), empty=1.0),
        "unanswered_per_month": (out.items - out.answered).sum((1, 2)),
        "compliance_risk_per_month": out.noncompliant.sum((1, 2)),
    }


# --- trade-off curve -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeoffCurve:
    """Cost against lead time as the central share goes from 0 to 1.

    - ``points``: one row per share value (column ``share``) with the organisation totals (``total_cost``,
      ``lead_time_mean_h``, ``fte``, ``handoffs_per_month``, ``sla_met_share``, ``unanswered_per_month`` ...).
    - ``spoke_breach``: bool per point (rows, aligned with ``points``) and spoke (columns): some function of that
      spoke misses its SLA target at that share.
    - ``spoke_lead_time_h``: mean lead time per point and spoke.
    - ``steps``: the points where platform licences change (share, change in instances, the reason in words).
    - ``current``: where the scenario itself sits: ``share`` (the swept function's item-weighted central share,
      or all functions'), ``total_cost``, ``lead_time_mean_h``, ``on_curve`` (False when the swept functions'
      streams have different shares, so the scenario is not one of the points).
    """

    function: str | None
    points: pd.DataFrame
    spoke_breach: pd.DataFrame
    spoke_lead_time_h: pd.DataFrame
    steps: pd.DataFrame
    current: dict[str, Any]


def tradeoff_curve(inputs: ScenarioInputs, function: str | None = None, points: int = 101) -> TradeoffCurve:
    """Sweep the central share 0 → 1 of one function (``function``) or of all functions together (None)."""
    if function is not None and function not in inputs.functions:
        raise InputError([f"unknown function: {function}"])
    if not 2 <= int(points) <= MAX_POINTS:
        raise InputError([f"points must be between 2 and {MAX_POINTS}, got {points}"])
    st = Structure.from_inputs(inputs)
    shares = np.linspace(0.0, 1.0, int(points))
    base = Params.from_inputs(inputs).repeat(len(shares))
    swept = np.ones(st.J, dtype=bool) if function is None else st.fn_of == st.function_ids.index(function)
    share = base.share.copy()
    share[:, swept] = shares[:, None]
    out = compute(st, replace(base, share=share))
    totals = _point_totals(st, out)
    table = pd.DataFrame({"share": shares, **totals})
    spokes = pd.Index(st.spoke_ids, name="spoke")
    # a spoke breaches when one of its function's items fall below the target share within SLA
    target = np.broadcast_to(base.target, (len(shares), st.F))[:, st.fn_of]  # (P, J)
    F, S = st.F, st.S
    pair = st.fn_of * S + st.spoke_of
    met = np.zeros((len(shares), F * S))
    tot = np.zeros((len(shares), F * S))
    tgt = np.zeros((len(shares), F * S))
    np.add.at(met.T, pair, (out.sla_met * out.answered).sum(-1).T)
    np.add.at(tot.T, pair, out.answered.sum(-1).T)
    np.add.at(tgt.T, pair, (target * out.answered.sum(-1)).T)
    with np.errstate(invalid="ignore", divide="ignore"):
        short = (tot > 0) & (met / np.where(tot > 0, tot, 1.0) < tgt / np.where(tot > 0, tot, 1.0) - 1e-9)
    breach = pd.DataFrame(np.asarray(short.reshape(len(shares), F, S).any(1)), columns=spokes)
    lead = np.zeros((len(shares), S))
    weight = np.zeros((len(shares), S))
    np.add.at(lead.T, st.spoke_of, (out.lead_mean * out.answered).sum(-1).T)
    np.add.at(weight.T, st.spoke_of, out.answered.sum(-1).T)
    spoke_lead = pd.DataFrame(np.where(weight > 0, lead / np.where(weight > 0, weight, 1.0), 0.0), columns=spokes)

    instances = totals["platform_instances"]
    change = np.diff(instances, prepend=instances[0])
    moved = np.flatnonzero(change != 0)
    steps = pd.DataFrame({
        "share": shares[moved], "instances_change": change[moved],
        "why": [f"{'+' if c > 0 else '−'}{abs(int(c))} platform licence{'s' if abs(c) != 1 else ''} "
                f"({'a team starts' if c > 0 else 'teams stop'} doing the function)" for c in change[moved]],
    })
    result = evaluate(inputs, medians=False)
    fns = result.functions if function is None else result.functions.loc[[function]]
    items = fns["items_per_month"].to_numpy()
    share_now = float((fns["central_share"] * items).sum() / items.sum()) if items.sum() > 0 else 0.0
    now_shares = np.broadcast_to(Params.from_inputs(inputs).share, (1, st.J))[0, swept]
    on_curve = bool(now_shares.size == 0 or np.ptp(now_shares) < 1e-9)
    current = {"share": share_now, "on_curve": on_curve, "total_cost": result.totals.total_cost,
               "lead_time_mean_h": result.totals.lead_time_mean_h, "sla_met_share": result.totals.sla_met_share}
    return TradeoffCurve(function=function, points=table, spoke_breach=breach, spoke_lead_time_h=spoke_lead,
                         steps=steps, current=current)


# --- sensitivity -----------------------------------------------------------------------------------------------

# How an input moves by a relative factor: most scale; shares and rates stay within their bounds.
Mover = Callable[[np.ndarray, float], np.ndarray]


def _scale(x: np.ndarray, factor: float) -> np.ndarray:
    return x * factor


def _scale_rate(x: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(x * factor, 0.0, 1.0)


def _scale_occupancy(x: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(x * factor, 0.01, 0.99)


def _scale_miss(x: np.ndarray, factor: float) -> np.ndarray:
    """SLA target: scale the share allowed to miss (a 90 % target ±20 % becomes 88 % / 92 %)."""
    return np.clip(1.0 - (1.0 - x) * factor, 1e-6, 0.999)


# (key, Params fields it moves, axis it is indexed on, mover): "stream" fields are varied for the streams of one
# function, "function" fields for one function, "global" fields for everyone.
_SENSITIVE: tuple[tuple[str, tuple[str, ...], str, Mover], ...] = (
    ("demand_per_day", ("demand",), "stream", _scale),
    ("work_h", ("work",), "stream", _scale),
    ("in_progress_h", ("in_progress", "work"), "stream", _scale),
    ("response_h", ("response",), "stream", _scale),
    ("transfer_h", ("transfer",), "stream", _scale),
    ("sla_hours", ("sla",), "stream", _scale),
    ("patience_h", ("patience",), "stream", _scale),
    ("sla_target", ("target",), "function", _scale_miss),
    ("platform_cost", ("platform",), "function", _scale),
    ("error_rate_specialist", ("err",), "function_spec", _scale_rate),
    ("error_rate_generalist", ("err",), "function_gen", _scale_rate),
)
def _scale_inverse(x: np.ndarray, factor: float) -> np.ndarray:
    return x / factor


# Organisation-wide inputs: (key, [(Params field, mover)]). A coordination channel costs hours at the hourly cost
# of an FTE (FTE cost ÷ productive hours), so the FTE cost and the productive hours move it too.
_GLOBAL_SENSITIVE: tuple[tuple[str, tuple[tuple[str, Mover], ...]], ...] = (
    ("fte_cost", (("cost_unit", _scale), ("coord_cost", _scale))),
    ("occupancy", (("occupancy", _scale_occupancy),)),
    ("productive_hours_per_week", (("productive", _scale), ("coord_cost", _scale_inverse))),
    ("coordination_hours_per_channel_month", (("coord_cost", _scale),)),
)
_LABELS = {**FIELD_LABELS, "demand_per_day": "demand (items/day)", "fte_cost": "FTE cost per year (every unit)",
           "occupancy": "occupancy of every team", "productive_hours_per_week": "productive hours per FTE per week",
           "in_progress_h": "in-progress time (staffed hours)"}


def _base_value(inputs: ScenarioInputs, p: Params, st: Structure, key: str, f: int | None) -> float:
    """The input's value as the table shows it: per function (demand summed, times item-weighted), or global."""
    demand = np.broadcast_to(p.demand, (1, st.J))[0]
    if key == "fte_cost":
        return float(inputs.globals.fte_cost)
    if key == "occupancy":
        return float(np.mean(np.broadcast_to(p.occupancy, (1, st.Q))[0]))
    if key == "productive_hours_per_week":
        return float(inputs.globals.productive_hours_per_week)
    if key == "coordination_hours_per_channel_month":
        return float(inputs.globals.coordination_hours_per_channel_month)
    mine = st.fn_of == f
    if key == "demand_per_day":
        return float(demand[mine].sum())
    if key in ("work_h", "in_progress_h", "response_h", "transfer_h"):
        field = {"work_h": "work", "in_progress_h": "in_progress", "response_h": "response", "transfer_h": "transfer"}[key]
        values = np.broadcast_to(getattr(p, field), (1, st.J, 2))[0][mine].mean(-1)
        return float(np.average(values, weights=demand[mine])) if demand[mine].sum() > 0 else float(values.mean())
    if key == "sla_hours":
        values = np.broadcast_to(p.sla, (1, st.J))[0][mine]
        return float(np.average(values, weights=demand[mine])) if demand[mine].sum() > 0 else float(values.mean())
    if key == "patience_h":
        values = np.broadcast_to(p.patience, (1, st.J))[0][mine]
        finite = values[np.isfinite(values)]
        return float(finite.mean()) if finite.size else float("inf")
    assert f is not None, key  # every key left is a function's
    fn = list(inputs.functions.values())[f]
    if key == "sla_target":
        return float(fn.sla_target)
    if key == "platform_cost":
        return float(inputs.globals.platform_cost if fn.platform_cost is None else fn.platform_cost)
    if key == "error_rate_specialist":
        return float(fn.error_rate_specialist)
    return float(fn.error_rate_generalist)


def _moved_value(key: str, value: float, factor: float) -> float:
    if key == "sla_target":
        return float(_scale_miss(np.array(value), factor))
    if key.startswith("error_rate"):
        return float(np.clip(value * factor, 0.0, 1.0))
    if key == "occupancy":
        return float(np.clip(value * factor, 0.01, 0.99))
    return value * factor


def sensitivity(inputs: ScenarioInputs, rel_change: float = 0.2,
                sort_by: Literal["cost", "lead_time", "compliance"] = "cost") -> pd.DataFrame:
    """Tornado data: each input moved down and up by ``rel_change`` (0.2 = ±20 %), everything else fixed.

    Per function: demand, hands-on work, in-progress time (hands-on work moves with it), pick-up delay, transfer
    time, SLA, patience, SLA target, platform cost, error rates; organisation-wide: FTE cost, occupancy,
    productive hours, coordination hours. Columns: the total cost per year (``cost_low``/``cost_high``), the
    item-weighted mean lead time in hours (``lead_low``/``lead_high``) and items at compliance risk per month at
    each end, their swings (|high − low|) and the base values. Sorted by the swing of ``sort_by``; inputs that
    move nothing (a function without patience, say) are left out.
    """
    if not 0.0 < float(rel_change) < 1.0:
        raise InputError([f"rel_change must be between 0 and 1 (exclusive), got {rel_change}"])
    if sort_by not in ("cost", "lead_time", "compliance"):
        raise InputError([f"sort_by must be cost, lead_time or compliance, got {sort_by!r}"])
    st = Structure.from_inputs(inputs)
    base = Params.from_inputs(inputs)
    fn_ids = list(st.function_ids)
    targets: list[tuple[str, tuple[tuple[str, Mover], ...], str, int | None]] = []
    for key, names, axis, mover in _SENSITIVE:
        targets += [(key, tuple((name, mover) for name in names), axis, f) for f in range(st.F)]
    targets += [(key, moves, "global", None) for key, moves in _GLOBAL_SENSITIVE]
    n = len(targets)
    p = base.repeat(2 * n + 1)  # the last row is the base itself
    for row, (_key, moves, axis, f) in enumerate(targets):
        for side, factor in ((0, 1.0 - rel_change), (1, 1.0 + rel_change)):
            r = 2 * row + side
            for name, mover in moves:
                arr = getattr(p, name)
                if axis == "global":
                    arr[r] = mover(arr[r], factor)
                elif axis == "stream":
                    mine = st.fn_of == f
                    arr[r, mine] = mover(arr[r, mine], factor)
                elif axis == "function":
                    arr[r, f] = mover(arr[r, f], factor)
                else:  # error rates: specialists (0) or generalists (1) of one function
                    arr[r, f, 0 if axis == "function_spec" else 1] = mover(arr[r, f, 0 if axis == "function_spec" else 1],
                                                                            factor)
    p = replace(p, work=np.minimum(p.work, p.in_progress))
    totals = _point_totals(st, compute(st, p))
    cost, lead, risk = totals["total_cost"], totals["lead_time_mean_h"], totals["compliance_risk_per_month"]

    def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(a == b, 0.0, np.abs(a - b))

    low, high = slice(0, 2 * n, 2), slice(1, 2 * n, 2)
    base_values = np.array([_base_value(inputs, base, st, k, f) for k, _, _, f in targets])
    table = pd.DataFrame({
        "parameter": [t[0] for t in targets],
        "function": ["" if t[3] is None else fn_ids[t[3]] for t in targets],
        "label": [_label(t[0], None if t[3] is None else fn_ids[t[3]]) for t in targets],
        "base_value": base_values,
        "low_value": [_moved_value(t[0], v, 1.0 - rel_change) for t, v in zip(targets, base_values)],
        "high_value": [_moved_value(t[0], v, 1.0 + rel_change) for t, v in zip(targets, base_values)],
        "cost_low": cost[low], "cost_high": cost[high], "cost_swing": swing(cost[low], cost[high]),
        "lead_low": lead[low], "lead_high": lead[high], "lead_swing": swing(lead[low], lead[high]),
        "compliance_low": risk[low], "compliance_high": risk[high], "compliance_swing": swing(risk[low], risk[high]),
        "cost_base": cost[-1], "lead_base": lead[-1], "compliance_base": risk[-1],
    })
    moved = (table[["cost_swing", "lead_swing", "compliance_swing"]].to_numpy() > 1e-9).any(1)
    table = table[moved & np.isfinite(table["base_value"].to_numpy())]
    column = {"cost": "cost_swing", "lead_time": "lead_swing", "compliance": "compliance_swing"}[sort_by]
    table = table.sort_values(column, ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["base"] = {"total_cost": float(cost[-1]), "lead_time_mean_h": float(lead[-1]),
                           "compliance_risk_per_month": float(risk[-1]), "rel_change": float(rel_change)}
    return table


def _label(key: str, function: str | None) -> str:
    name = _LABELS.get(key, key.replace("_", " "))
    if function is None:
        return name[:1].upper() + name[1:]
    return f"{function_label(function)}: {name}"
