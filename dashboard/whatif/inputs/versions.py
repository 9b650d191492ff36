"""Saved inputs across versions: :func:`dump_inputs` writes the current one, :func:`load_inputs` upgrades any
earlier ``inputs_version`` step by step (``_UPGRADES``) and refuses newer ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dashboard.whatif.inputs.defaults import FUNCTION_DEFAULTS
from dashboard.whatif.inputs.models import CURRENT_INPUTS_VERSION, HUB_ID, InputError, ScenarioInputs, validate_inputs


def _v1_to_v2(data: dict) -> dict:
    """Version 1 (the first draft of the schema) to 2.

    v1 stored ``version`` instead of ``inputs_version``, spokes as plain ids, globals under ``global``, and per
    function a ``placement`` ("hub" | "spokes" | "hybrid") with ``central_share`` read only for hybrids, plus
    the short names ``hours_specialist``, ``hours_generalist`` and ``crossings``.
    """
    out = {k: v for k, v in data.items() if k not in ("version", "global", "spokes", "functions")}
    out["inputs_version"] = 2
    if "global" in data:
        out["globals"] = dict(data["global"])
    out["spokes"] = [s if isinstance(s, Mapping) else {"id": s, "name": ""} for s in data.get("spokes", [])]
    functions = {}
    for name, fn in (data.get("functions") or {}).items():
        fn = dict(fn)
        placement = fn.pop("placement", None)
        share = fn.pop("central_share", None)
        if placement == "hub":
            share = 1.0
        elif placement == "spokes":
            share = 0.0
        elif share is None:
            share = 0.5
        fn["central_share"] = share
        for old, new in (("hours_specialist", "hours_per_item_specialist"),
                         ("hours_generalist", "hours_per_item_generalist"),
                         ("crossings", "boundary_crossings")):
            if old in fn:
                fn[new] = fn.pop(old)
        functions[name] = fn
    out["functions"] = functions
    return out


def _v2_to_v3(data: dict) -> dict:
    """Version 2 (one queue per function and unit, round-the-clock capacity) to 3 (streams, office hours).

    Version 2 had per function a demand per spoke, work hours of specialists and generalists, a flow
    efficiency, handoffs per central item × a handoff delay, and an FTE's productive hours spread over the
    whole week. It becomes one stream per spoke whose items come from the spoke, worked in the same hours with
    the same in-progress times (work ÷ flow efficiency) and the handoffs' delay as the transfer time; units
    are open round the clock (as version 2 computed), and the productive hours become the shrinkage of a
    40-hour week.
    """
    g2 = dict(data.get("globals") or {})
    productive = float(g2.get("productive_hours_per_day", 6.4)) * float(g2.get("working_days_per_year", 220.0)) / 52.0
    g3 = {k: g2[k] for k in ("fte_cost", "platform_cost", "coordination_hours_per_channel_month") if k in g2}
    g3["shrinkage"] = min(max(1.0 - productive / 40.0, 0.0), 0.9)
    default_delay = float(g2.get("handoff_delay_hours", 4.0))
    spokes = [dict(s, hours="24/7") for s in data.get("spokes", [])]
    hub = dict(data.get("hub") or {"id": HUB_ID, "name": "Hub"}, hours="24/7")
    functions = {}
    for name, fn in (data.get("functions") or {}).items():
        fn = dict(fn)
        flow = float(fn.get("flow_efficiency") or 1.0)
        cv = fn.get("cs")
        delay = fn.get("handoff_delay_hours")
        transfer = float(fn.get("boundary_crossings", 2.0)) * float(default_delay if delay is None else delay)
        typical = FUNCTION_DEFAULTS.get(name, {})
        streams = []
        for spoke, demand in (fn.get("demand_per_day") or {}).items():
            def worker(hours: float, flow: float = flow, cv: Any = cv, transfer: float = transfer) -> dict:
                return {"work_h": hours, "in_progress_h": hours / flow, "response_h": 0.0,
                        "cv": 1.0 if cv is None else float(cv), "transfer_h": transfer,
                        "source": "saved scenario (version 2)"}
            streams.append({"spoke": spoke, "kind": typical.get("kind", ""), "origin": "spoke",
                            "demand_per_day": demand, "central_share": fn.get("central_share", 1.0),
                            "sla_hours": fn.get("sla_hours", 24.0),
                            "hub": worker(float(fn.get("hours_per_item_specialist", 1.0))),
                            "local": worker(float(fn.get("hours_per_item_generalist", 1.0)))})
        functions[name] = {
            "central_share": fn.get("central_share", 1.0), "streams": streams,
            **{k: fn[k] for k in ("sla_target", "platform_cost", "error_rate_specialist", "error_rate_generalist")
               if k in fn and fn[k] is not None},
        }
    return {"inputs_version": 3, "hub": hub, "spokes": spokes, "globals": g3, "functions": functions}


_UPGRADES = {1: _v1_to_v2, 2: _v2_to_v3}


def load_inputs(data: Mapping[str, Any]) -> ScenarioInputs:
    """Inputs from a saved dict of any version up to the current one (upgraded step by step).

    A dict without a version field is read as version 1. Raises :class:`InputError` for unreadable data,
    a version newer than this code, or values the current model refuses.
    """
    if not isinstance(data, Mapping):
        raise InputError([f"saved inputs must be a mapping, got {type(data).__name__}"])
    version = data.get("inputs_version", data.get("version", 1))
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError([f"inputs_version must be a whole number, got {version!r}"])
    if version > CURRENT_INPUTS_VERSION:
        raise InputError([f"these inputs were saved by a newer version (inputs_version {version}); "
                          f"this app reads up to {CURRENT_INPUTS_VERSION}"])
    if version < 1:
        raise InputError([f"unknown inputs_version {version}"])
    upgraded = dict(data)
    try:
        while version < CURRENT_INPUTS_VERSION:
            upgraded = _UPGRADES[version](upgraded)
            version += 1
    except (TypeError, ValueError, AttributeError) as exc:
        raise InputError([f"these saved inputs (version {data.get('inputs_version', data.get('version', 1))}) "
                          f"cannot be upgraded: {exc}"]) from None
    return validate_inputs(upgraded)


def dump_inputs(inputs: ScenarioInputs) -> dict[str, Any]:
    """JSON-ready dict of the inputs (what a saved scenario stores); :func:`load_inputs` reads it back."""
    return inputs.model_dump(mode="json")
