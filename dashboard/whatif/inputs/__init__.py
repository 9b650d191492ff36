"""Typed, validated and versioned inputs of the what-if model (docs/whatif.md says what each number means).

An organisation is a hub and its spokes, each with a headcount, a cost per FTE and office hours, and a set of
*functions* (campaign planning, content production ...). A function's work arrives as *streams*: one per
spoke, item kind and origin (the unit the items come from), each with its demand, weekly arrival rhythm, SLA
and the times the hub and the spoke take over it (:class:`WorkerInputs`). The operating model says, per
stream, which share of its items the hub works (the *central share*); a function's ``central_share`` set to a
number applies to every stream of the function, ``None`` keeps each stream's own (the as-is as observed).

Units: demand in items per calendar day; work, pick-up and in-progress times in *staffed* hours (hours the
working unit is open); transfers and SLAs in calendar hours; costs per year in the organisation's currency;
shares and rates in 0..1.

Saved scenarios store ``dump_inputs(inputs)``; :func:`load_inputs` reads any earlier ``inputs_version`` by
upgrading it step by step (``_UPGRADES``) and refuses newer ones with a message instead of guessing.
"""

from __future__ import annotations

from dashboard.domain.vocabulary import FUNCTION_LABELS, FUNCTIONS, function_label
from dashboard.whatif.inputs.defaults import (
    DEFAULT_FLOW_EFFICIENCY,
    DEFAULT_PATIENCE_H,
    DEFAULT_RESPONSE_H,
    DEFAULT_TRANSFER_H,
    FUNCTION_DEFAULTS,
    default_function,
    default_inputs,
    default_worker,
    specialist_ratio,
)
from dashboard.whatif.inputs.models import (
    ABANDONING_KINDS,
    CURRENT_INPUTS_VERSION,
    FIELD_LABELS,
    HUB_ID,
    HYBRID_CENTRAL,
    WEEK_HOURS,
    FunctionInputs,
    GlobalInputs,
    InputError,
    NonNegative,
    Placement,
    ScenarioInputs,
    Share,
    StreamInputs,
    UnitId,
    UnitInputs,
    Worker,
    WorkerInputs,
    explain,
    validate_inputs,
)
from dashboard.whatif.inputs.versions import dump_inputs, load_inputs

__all__ = [
    "ABANDONING_KINDS", "CURRENT_INPUTS_VERSION", "DEFAULT_FLOW_EFFICIENCY", "DEFAULT_PATIENCE_H", "DEFAULT_RESPONSE_H",
    "DEFAULT_TRANSFER_H", "FIELD_LABELS", "FUNCTIONS", "FUNCTION_DEFAULTS", "FUNCTION_LABELS", "HUB_ID", "HYBRID_CENTRAL",
    "WEEK_HOURS", "FunctionInputs", "GlobalInputs", "InputError", "NonNegative", "Placement", "ScenarioInputs", "Share",
    "StreamInputs", "UnitId", "UnitInputs", "Worker", "WorkerInputs", "default_function", "default_inputs",
    "default_worker", "dump_inputs", "explain", "function_label", "load_inputs", "specialist_ratio", "validate_inputs",
]
