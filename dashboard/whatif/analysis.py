"""Sweeps over the what-if model: the cost / lead-time trade-off curve and a sensitivity (tornado) table.

Both build many scenario variants as rows of one :class:`~dashboard.whatif.engine.Params` and evaluate them in
a single vectorised :func:`~dashboard.whatif.engine.compute` call, so a 1,000-point sweep costs about as much as
a few dozen single evaluations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from dashboard.whatif.engine import Outcome, Params, compute
from dashboard.whatif.inputs import (
    FIELD_LABELS,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    function_label,
)
from dashboard.whatif.model import evaluate

MAX_POINTS = 20_000


def _point_totals(out: Outcome) -> dict[str, np.ndarray]:
    """Organisation totals for every point of an outcome (arrays of length P)."""
    items = out.items_fs.sum((1, 2))
    handoffs = out.handoffs_fs.sum((1, 2))
    return {
        "total_cost": out.cost_f.sum(-1),
        "people_cost": out.people_f.sum(-1),
        "platform_cost": out.platform_f.sum(-1),
        "coordination_cost": out.coordination.sum(-1),
        "fte": out.fte_f.sum(-1).astype(np.float64),
        "hub_fte": out.hub.servers.sum(-1).astype(np.float64),
        "spoke_fte": out.spoke.servers.sum((1, 2)).astype(np.float64),
        "handoffs_per_month": handoffs,
        "handoffs_per_item": np.where(items > 0, handoffs / np.where(items > 0, items, 1.0), 0.0),
        "lead_time_mean_h": out.lead_mean((1, 2)),
        "lead_time_median_h": out.lead_median("total"),
        "sla_met_share": out.sla_met_share((1, 2)),
        "sla_breaches": out.breach_fs.sum((1, 2)),
        "compliance_risk_per_month": out.noncompliant_fs.sum((1, 2)),
        "duplication_fte": out.duplication_fte.sum(-1),
        "duplication_cost": out.duplication_cost.sum(-1),
        "stable": out.hub.stable.all(-1) & out.spoke.stable.all((1, 2)),
    }


# --- trade-off curve -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeoffCurve:
    """Cost against lead time as the central share goes from 0 to 1.

    - ``points``: one row per share value (column ``share``) with the organisation totals
      (``total_cost``, ``lead_time_mean_h``, ``lead_time_median_h``, ``fte``, ``handoffs_per_month``,
      ``sla_met_share``, ``sla_breaches``, ``compliance_risk_per_month``, ``stable``, ...).
    - ``spoke_breach``: bool per point (rows, aligned with ``points``) and spoke (columns): some function of that
      spoke misses its SLA target at that share.
    - ``spoke_lead_time_h``: mean lead time per point and spoke.
    - ``current``: where the scenario itself sits: ``share`` (the swept function's share, or the item-weighted
      mean share when all functions are swept), ``total_cost``, ``lead_time_mean_h``, ``lead_time_median_h``,
      and ``on_curve`` (False when the functions' shares differ, so the scenario is not one of the points).
    """

    function: str | None
    points: pd.DataFrame
    spoke_breach: pd.DataFrame
    spoke_lead_time_h: pd.DataFrame
    current: dict[str, Any]


def tradeoff_curve(inputs: ScenarioInputs, function: str | None = None, points: int = 101) -> TradeoffCurve:
    """Sweep the central share 0 → 1 of one function (``function``) or of all functions together (None)."""
    if function is not None and function not in inputs.functions:
        raise InputError([f"unknown function: {function}"])
    if not 2 <= int(points) <= MAX_POINTS:
        raise InputError([f"points must be between 2 and {MAX_POINTS}, got {points}"])
    shares = np.linspace(0.0, 1.0, int(points))
    base = Params.from_inputs(inputs).repeat(len(shares))
    if function is None:
        base.share[:, :] = shares[:, None]
    else:
        base.share[:, list(inputs.functions).index(function)] = shares
    out = compute(base)
    table = pd.DataFrame({"share": shares, **_point_totals(out)})
    spokes = pd.Index(inputs.spoke_ids, name="spoke")
    breach = pd.DataFrame(out.breach_fs.any(1), columns=spokes)
    lead = pd.DataFrame(out.lead_mean((1,)), columns=spokes)

    result = evaluate(inputs)
    fns = result.functions
    if function is None:
        items = fns["items_per_month"].to_numpy()
        share_now = float((fns["central_share"] * items).sum() / items.sum()) if items.sum() > 0 else 0.0
        on_curve = bool(np.ptp(fns["central_share"].to_numpy()) == 0)
    else:
        share_now = float(inputs.functions[function].central_share)
        on_curve = True
    current = {"share": share_now, "on_curve": on_curve, "total_cost": result.totals.total_cost,
               "lead_time_mean_h": result.totals.lead_time_mean_h,
               "lead_time_median_h": result.totals.lead_time_median_h}
    return TradeoffCurve(function=function, points=table, spoke_breach=breach, spoke_lead_time_h=lead, current=current)


# --- sensitivity -----------------------------------------------------------------------------------------------

# How an input moves by a relative change r: most scale by (1 ± r); shares move their complement or are clipped.
Mover = Callable[[np.ndarray, float], np.ndarray]


def _scale(x: np.ndarray, factor: float) -> np.ndarray:
    return x * factor


def _scale_rate(x: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(x * factor, 0.0, 1.0)


def _scale_miss(x: np.ndarray, factor: float) -> np.ndarray:
    """SLA target: scale the share allowed to miss (a 90 % target ±20 % becomes 88 % / 92 %)."""
    return np.clip(1.0 - (1.0 - x) * factor, 1e-6, 0.999)


def _scale_cv2(x: np.ndarray, factor: float) -> np.ndarray:
    return x * factor * factor  # the CV moves by the factor, its square by the factor squared


# (key, Params fields it moves, mover) — per function unless noted.
_SENSITIVE: tuple[tuple[str, tuple[str, ...], Mover], ...] = (
    ("demand_per_day", ("demand",), _scale),
    ("hours_per_item_specialist", ("hours_spec",), _scale),
    ("hours_per_item_generalist", ("hours_gen",), _scale),
    ("productive_hours_per_day", ("capacity",), _scale),
    ("flow_efficiency", ("flow",), _scale_rate),
    ("boundary_crossings", ("crossings",), _scale),
    ("handoff_delay_hours", ("delay",), _scale),
    ("sla_hours", ("sla",), _scale),
    ("sla_target", ("target",), _scale_miss),
    ("ca", ("ca2",), _scale_cv2),
    ("cs", ("cs2",), _scale_cv2),
    ("error_rate_specialist", ("err_spec",), _scale_rate),
    ("error_rate_generalist", ("err_gen",), _scale_rate),
    ("fte_cost", ("cost_hub", "cost_spoke"), _scale),
    ("platform_cost", ("platform",), _scale),
)
_GLOBAL_SENSITIVE = (("coordination_hours_per_channel_month", ("coord_cost",), _scale),)
_GLOBAL_KEYS = {key for key, _, _ in _GLOBAL_SENSITIVE}


def _effective(inputs: ScenarioInputs, key: str, function: str) -> float:
    """The value an input has for ``function`` once unit and global fallbacks are applied."""
    fn, g = inputs.functions[function], inputs.globals
    if key == "demand_per_day":
        return float(sum(fn.demand_per_day.values()))
    if key == "fte_cost":
        return float(fn.fte_cost or inputs.hub.fte_cost or g.fte_cost)
    if key in ("ca", "cs", "flow_efficiency"):
        value = getattr(fn, key)
        return 1.0 if value is None else float(value)
    value = getattr(fn, key)
    return float(getattr(g, key) if value is None else value)


def _base_value(inputs: ScenarioInputs, key: str, function: str | None) -> float:
    """The input's value as the table shows it: per function, or over all functions (demand summed, the rest
    averaged); the FTE cost shown is the hub's (spoke FTE costs move by the same factor)."""
    if key in GlobalInputs.model_fields and key not in FunctionInputs.model_fields:
        return float(getattr(inputs.globals, key))
    if function is not None:
        return _effective(inputs, key, function)
    values = [_effective(inputs, key, f) for f in inputs.functions]
    return float(sum(values) if key == "demand_per_day" else np.mean(values))


def sensitivity(inputs: ScenarioInputs, rel_change: float = 0.2, by_function: bool = True,
                sort_by: Literal["cost", "lead_time", "compliance"] = "cost") -> pd.DataFrame:
    """Tornado data: each numeric input moved down and up by ``rel_change`` (0.2 = ±20 %), all else fixed.

    One row per input (per function when ``by_function``, else each input moved for all functions at once),
    with the total cost per year (``cost_low``/``cost_high``), the item-weighted mean lead time in hours
    (``lead_low``/``lead_high``) and non-compliant items per month at each end, their swings
    (|high − low|), and the base values (``cost_base``, ``lead_base``, ``compliance_base``). Sorted by the
    swing of ``sort_by``, largest first. Shares move within 0..1 (the SLA target moves its miss share);
    coefficients of variation default to 1 when not given, so they can be varied too.
    """
    if not 0.0 < float(rel_change) < 1.0:
        raise InputError([f"rel_change must be between 0 and 1 (exclusive), got {rel_change}"])
    if sort_by not in ("cost", "lead_time", "compliance"):
        raise InputError([f"sort_by must be cost, lead_time or compliance, got {sort_by!r}"])
    base = Params.from_inputs(inputs)
    fn_ids = list(inputs.functions)
    targets: list[tuple[str, tuple[str, ...], Mover, int | None]] = []
    for key, fields, mover in _SENSITIVE:
        if by_function:
            targets += [(key, fields, mover, f) for f in range(len(fn_ids))]
        else:
            targets.append((key, fields, mover, None))
    targets += [(key, fields, mover, None) for key, fields, mover in _GLOBAL_SENSITIVE]

    n = len(targets)
    p = base.repeat(2 * n + 1)  # the last row is the base itself
    for row, (_key, fields, mover, f) in enumerate(targets):
        for side, factor in ((0, 1.0 - rel_change), (1, 1.0 + rel_change)):
            r = 2 * row + side
            for name in fields:
                arr = getattr(p, name)
                if name == "coord_cost":
                    arr[r] = mover(arr[r], factor)
                elif f is None:
                    arr[r] = mover(arr[r], factor)
                else:
                    arr[r, f] = mover(arr[r, f], factor)
    totals = _point_totals(compute(p))
    cost, lead, risk = totals["total_cost"], totals["lead_time_mean_h"], totals["compliance_risk_per_month"]

    def swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(a == b, 0.0, np.abs(a - b))

    low, high = slice(0, 2 * n, 2), slice(1, 2 * n, 2)
    base_values = np.array([_base_value(inputs, k, None if f is None else fn_ids[f]) for k, _, _, f in targets])
    lows = np.array([_moved_value(k, v, 1.0 - rel_change) for (k, *_), v in zip(targets, base_values)])
    highs = np.array([_moved_value(k, v, 1.0 + rel_change) for (k, *_), v in zip(targets, base_values)])
    table = pd.DataFrame({
        "parameter": [t[0] for t in targets],
        "function": ["" if t[3] is None else fn_ids[t[3]] for t in targets],
        "label": [_label(t[0], None if t[3] is None else fn_ids[t[3]], t[0] in _GLOBAL_KEYS) for t in targets],
        "base_value": base_values,
        "low_value": lows,
        "high_value": highs,
        "cost_low": cost[low], "cost_high": cost[high], "cost_swing": swing(cost[low], cost[high]),
        "lead_low": lead[low], "lead_high": lead[high], "lead_swing": swing(lead[low], lead[high]),
        "compliance_low": risk[low], "compliance_high": risk[high],
        "compliance_swing": swing(risk[low], risk[high]),
        "cost_base": cost[-1], "lead_base": lead[-1], "compliance_base": risk[-1],
    })
    column = {"cost": "cost_swing", "lead_time": "lead_swing", "compliance": "compliance_swing"}[sort_by]
    table = table.sort_values(column, ascending=False, kind="stable").reset_index(drop=True)
    table.attrs["base"] = {"total_cost": float(cost[-1]), "lead_time_mean_h": float(lead[-1]),
                           "compliance_risk_per_month": float(risk[-1]), "rel_change": float(rel_change)}
    return table


def _moved_value(key: str, value: float, factor: float) -> float:
    if key == "sla_target":
        return float(np.clip(1.0 - (1.0 - value) * factor, 1e-6, 0.999))
    if key.startswith("error_rate") or key == "flow_efficiency":
        return float(np.clip(value * factor, 0.0, 1.0))
    return value * factor


_LABELS = {**FIELD_LABELS, "demand_per_day": "demand (items/day, all spokes)",
           "fte_cost": "FTE cost per year (hub and spokes)"}


def _label(key: str, function: str | None, is_global: bool) -> str:
    name = _LABELS.get(key, key.replace("_", " "))
    if is_global:
        return name[:1].upper() + name[1:]
    where = "all functions" if function is None else function_label(function)
    return f"{where}: {name}"
