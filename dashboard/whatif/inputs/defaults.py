"""Typical inputs: the profile of each function, the defaults every typed scenario and every gap in calibration
start from (each an assumption, docs/whatif.md "Defaults and assumptions").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.domain.vocabulary import FUNCTIONS
from dashboard.whatif import calendar as cal
from dashboard.whatif.inputs.models import (
    ABANDONING_KINDS,
    HUB_ID,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    StreamInputs,
    UnitInputs,
    WorkerInputs,
)

# Typical profiles per function, for typed scenarios and for what calibration cannot observe. Every number is an
# assumption (docs/whatif.md, "Defaults and assumptions"): demand per spoke per calendar day; work hours per item
# of a specialist (hub) and a generalist (spoke); SLA in calendar hours; platform cost per instance per year; the
# kind and origin of a typical item.
FUNCTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "campaign_planning": dict(demand=0.8, kind="promotion_notice", origin="hub", work_specialist=6.0,
                              work_generalist=9.0, sla_hours=120, error_rate_specialist=0.02,
                              error_rate_generalist=0.06, platform_cost=15_000),
    "content_production": dict(demand=3.0, kind="request", origin="spoke", work_specialist=2.0, work_generalist=3.5,
                               sla_hours=72, error_rate_specialist=0.02, error_rate_generalist=0.07,
                               platform_cost=9_000),
    "analytics_reporting": dict(demand=1.5, kind="report", origin="spoke", work_specialist=3.0, work_generalist=6.0,
                                sla_hours=48, error_rate_specialist=0.01, error_rate_generalist=0.05,
                                platform_cost=20_000),
    "social_listening": dict(demand=12.0, kind="mention", origin="hub", work_specialist=0.2, work_generalist=0.35,
                             sla_hours=12, error_rate_specialist=0.01, error_rate_generalist=0.04,
                             platform_cost=24_000),
    "crm_lead_management": dict(demand=8.0, kind="lead", origin="hub", work_specialist=0.4, work_generalist=0.6,
                                sla_hours=24, error_rate_specialist=0.01, error_rate_generalist=0.03,
                                platform_cost=30_000),
    "martech_platforms": dict(demand=0.6, kind="request", origin="spoke", work_specialist=4.0, work_generalist=8.0,
                              sla_hours=72, error_rate_specialist=0.02, error_rate_generalist=0.08,
                              platform_cost=18_000),
}
DEFAULT_FLOW_EFFICIENCY = 0.4  # assumption: share of an item's in-progress time someone works on it
DEFAULT_RESPONSE_H = 1.0  # assumption: staffed hours before a free person picks an item up
DEFAULT_TRANSFER_H = 1.0  # assumption: calendar hours to hand an item across the hub-spoke boundary
DEFAULT_PATIENCE_H = 24.0  # assumption: a social mention nobody answered within a day is rarely worth answering


def specialist_ratio(function: str) -> float:
    """Work of a hub specialist per item ÷ a spoke generalist's, from the typical profile (0.5 when unknown)."""
    profile = FUNCTION_DEFAULTS.get(function)
    if profile is None:
        return 0.5
    return float(profile["work_specialist"]) / float(profile["work_generalist"])


def default_worker(work_h: float, *, transfer_h: float = DEFAULT_TRANSFER_H, source: str = "typical default",
                   flow_efficiency: float = DEFAULT_FLOW_EFFICIENCY) -> WorkerInputs:
    return WorkerInputs(work_h=work_h, in_progress_h=work_h / flow_efficiency, response_h=DEFAULT_RESPONSE_H,
                        cv=1.0, transfer_h=transfer_h, source=source)


def default_function(name: str, spokes: Sequence[str], *, central_share: float | None = 1.0,
                     demand_scale: float | Mapping[str, float] = 1.0) -> FunctionInputs:
    """A function with the typical profile of ``FUNCTION_DEFAULTS``: one stream per spoke (scaled demand)."""
    if name not in FUNCTION_DEFAULTS:
        raise InputError([f"no default profile for function {name!r}; known: {', '.join(FUNCTION_DEFAULTS)}"])
    p = FUNCTION_DEFAULTS[name]
    scale = demand_scale if isinstance(demand_scale, Mapping) else {s: demand_scale for s in spokes}
    share = 1.0 if central_share is None else central_share
    gives_up = p["kind"] in ABANDONING_KINDS
    streams = tuple(
        StreamInputs(spoke=s, kind=p["kind"], origin=p["origin"], demand_per_day=float(p["demand"]) * float(scale.get(s, 1.0)),
                     central_share=share, sla_hours=float(p["sla_hours"]),
                     patience_h=DEFAULT_PATIENCE_H if gives_up else None,
                     patience_source=f"assumption ({DEFAULT_PATIENCE_H:g} h)" if gives_up else "",
                     hub=default_worker(float(p["work_specialist"])), local=default_worker(float(p["work_generalist"])))
        for s in spokes)
    return FunctionInputs(central_share=central_share, streams=streams, platform_cost=float(p["platform_cost"]),
                          error_rate_specialist=p["error_rate_specialist"],
                          error_rate_generalist=p["error_rate_generalist"])


def default_inputs(spokes: Sequence[str | tuple[str, str]], *, central_share: float | None = 1.0,
                   demand_scale: float | Mapping[str, float] = 1.0, hours: str = cal.DEFAULT_HOURS_TEXT,
                   **global_changes: Any) -> ScenarioInputs:
    """Typed inputs for an organisation with these spokes (ids or (id, name) pairs) and the six functions."""
    units = [UnitInputs(id=s, name="", hours=hours) if isinstance(s, str) else UnitInputs(id=s[0], name=s[1], hours=hours)
             for s in spokes]
    ids = [u.id for u in units]
    return ScenarioInputs(
        hub=UnitInputs(id=HUB_ID, name="Hub", hours=hours),
        spokes=tuple(units),
        globals=GlobalInputs(**global_changes),
        functions={f: default_function(f, ids, central_share=central_share, demand_scale=demand_scale)
                   for f in FUNCTIONS},
    )
