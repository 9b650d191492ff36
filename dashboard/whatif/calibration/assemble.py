"""Scenario inputs from the estimates (steps 6 and 7 of the package docstring): observed workers as observed, the
others derived, functions without items in their typical version.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif.calibration.evidence import Evidence
from dashboard.whatif.calibration.rates import error_rates, stream_patience
from dashboard.whatif.calibration.result import CalibrationError
from dashboard.whatif.calibration.rows import number
from dashboard.whatif.inputs import (
    FUNCTION_DEFAULTS,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    StreamInputs,
    UnitInputs,
    WorkerInputs,
    default_worker,
    function_label,
    specialist_ratio,
)


def _observed_worker(ev: Evidence, key: tuple, worker: str, flows: Mapping[str, float],
                     response: Mapping[tuple, float] | None, variability: Mapping[tuple, float] | None
                     ) -> WorkerInputs | None:
    """The times a worker was seen to take over a stream (None where it worked too few of its items)."""
    obs = ev.observations[key][worker]
    if obs is None:
        return None
    flow = flows.get(Evidence.team_of(key, worker), 1.0)
    return WorkerInputs(work_h=max(obs.progress_mean * flow, 1e-6), in_progress_h=obs.progress_mean,
                        response_h=0.0 if response is None else response.get((key, worker), 0.0),
                        cv=1.0 if variability is None else variability.get((key, worker), 1.0),
                        transfer_h=obs.transfer_mean if key[3] != worker else 0.0, source=f"observed ({obs.n:,} items)")


def assemble(ev: Evidence, g: GlobalInputs, flows: Mapping[str, float], occupancy: Mapping[str, float],
              response: Mapping[tuple, float] | None, variability: Mapping[tuple, float] | None, flags: list[str],
              missing: dict) -> ScenarioInputs:
    """Inputs from the estimates (step 6 and 7 of the package docstring): observed workers as observed, the others
    derived. Functions without observed items are left out; ``missing`` receives their typical version."""
    seen = {key: {w: fig for w in ("hub", "spoke")
                  if (fig := _observed_worker(ev, key, w, flows, response, variability)) is not None}
            for key in ev.keys}
    # the usual response of each team (item-weighted over its observed streams), for streams that move into it
    usual: dict[str, list[tuple[float, float]]] = {}
    for key in ev.keys:
        for worker, figures in seen[key].items():
            for name in (Evidence.team_of(key, worker), "hub" if worker == "hub" else "spokes"):
                usual.setdefault(name, []).append((figures.response_h, ev.demand[key]))

    def usual_response(team: str, side: str) -> float:
        for name in (team, side):
            values = usual.get(name) or []
            total = sum(w for _, w in values)
            if total > 0:
                return sum(v * w for v, w in values) / total
        return 0.0

    by_fn: dict[str, list[StreamInputs]] = {f: [] for f in ev.fn_names}
    for key in ev.keys:
        fid, spoke, kind, origin = key
        ratio = specialist_ratio(fid)
        transfer = ev.transfer_fn.get(fid, ev.transfer_all)
        hub_w, local_w = seen[key].get("hub"), seen[key].get("spoke")
        if hub_w is None and local_w is not None:
            hub_w = _derived(local_w, ratio, usual_response(f"hub:{fid}", "hub"), transfer if origin != "hub" else 0.0,
                             f"derived from the spoke's times × {ratio:.2f} (specialists' typical speed)")
        elif local_w is None and hub_w is not None:
            local_w = _derived(hub_w, 1.0 / ratio, usual_response(spoke, "spokes"),
                               transfer if origin != "spoke" else 0.0,
                               f"derived from the hub's times ÷ {ratio:.2f} (generalists' typical speed)")
        elif hub_w is None and local_w is None:
            profile = FUNCTION_DEFAULTS.get(fid, FUNCTION_DEFAULTS["content_production"])
            hub_w = default_worker(float(profile["work_specialist"]), transfer_h=transfer if origin != "hub" else 0.0)
            local_w = default_worker(float(profile["work_generalist"]), transfer_h=transfer if origin != "spoke" else 0.0)
        patience, patience_source = stream_patience(ev.frame, key, ev.prep.end)
        by_fn[fid].append(StreamInputs(
            spoke=spoke, kind=kind, origin=origin, demand_per_day=ev.demand[key], central_share=round(ev.shares[key], 6),
            sla_hours=ev.slas[key], profile=tuple(float(v) for v in ev.profiles[key]), patience_h=patience,
            patience_source=patience_source, hub=hub_w, local=local_w))

    functions: dict[str, FunctionInputs] = {}
    missing.clear()
    average = _average_workers(ev, seen)
    for fid in ev.fn_names:
        typical = FUNCTION_DEFAULTS.get(fid)
        if not by_fn[fid]:
            if typical is None:
                continue
            flags.append(f"{function_label(fid)}: no work items in the window, so it is not in the as-is; import its "
                         f"items, or add it on the page with typical demand ({typical['demand']:g} items per spoke per "
                         "day, an assumption) and this organisation's average observed times")
            missing[fid] = _unobserved_function(fid, typical, ev.spoke_ids, average, ev.transfer_all, occupancy)
            continue
        errors = error_rates(ev.frame, fid, typical)
        functions[fid] = FunctionInputs(
            central_share=None, streams=tuple(by_fn[fid]), sla_target=0.9,
            platform_cost=float(typical["platform_cost"]) if typical else None,
            error_rate_specialist=errors[0], error_rate_generalist=errors[1], error_source=errors[2],
            hub_occupancy=_occ(occupancy.get(f"hub:{fid}")))

    def unit(row: pd.Series, spoke: bool) -> UnitInputs:
        uid = str(row["id"])
        hours, tz, source = ev.calendars[uid]
        return UnitInputs(id=uid, name=str(row["name"] or ""), fte_cost=number(row["cost_per_fte"]),
                          headcount=number(row["headcount"]), hours=cal.format_hours(hours), timezone=tz,
                          hours_source=source, occupancy=_occ(occupancy.get(uid)) if spoke else None)

    try:
        return ScenarioInputs(hub=unit(ev.hub_row, False), spokes=tuple(unit(r, True) for _, r in ev.spokes.iterrows()),
                              globals=g, functions=functions, window_days=ev.prep.window_days)
    except (ValueError, InputError) as err:
        raise CalibrationError(f"the estimates do not form valid inputs: {err}") from None


def _average_workers(ev: Evidence, seen: Mapping[tuple, Mapping[str, WorkerInputs]]) -> dict[str, WorkerInputs]:
    """Item-weighted average observed figures of the hub ("hub"), of each spoke (its id) and of all spokes
    ("spokes"), for functions that have no items of their own."""
    sums: dict[str, list[tuple[WorkerInputs, float]]] = {}
    for key in ev.keys:
        for worker, figures in seen[key].items():
            weight = ev.demand[key] * (ev.shares[key] if worker == "hub" else 1.0 - ev.shares[key])
            if weight > 0:
                sums.setdefault("hub" if worker == "hub" else key[1], []).append((figures, weight))
                if worker != "hub":
                    sums.setdefault("spokes", []).append((figures, weight))
    out = {}
    for name, parts in sums.items():
        total = sum(w for _, w in parts)
        # a weighted mean lies within its parts; capped so float rounding cannot carry it past a bound (cv <= 20)
        mean = {attr: min(sum(getattr(f, attr) * w for f, w in parts) / total, max(getattr(f, attr) for f, _ in parts))
                for attr in ("work_h", "in_progress_h", "response_h", "cv")}
        out[name] = WorkerInputs(work_h=min(mean["work_h"], mean["in_progress_h"]), in_progress_h=mean["in_progress_h"],
                                 response_h=mean["response_h"], cv=mean["cv"], transfer_h=0.0,
                                 source="this organisation's average observed times (an assumption)")
    return out


def _unobserved_function(fid: str, typical: Mapping, spoke_ids: list[str], average: Mapping[str, WorkerInputs],
                         transfer: float, occupancy: Mapping[str, float]) -> FunctionInputs:
    """A function without observed items: typical demand and SLA, this organisation's average times."""
    from dashboard.whatif.inputs import default_function

    base = default_function(fid, spoke_ids, central_share=None)
    fallback_hub = average.get("hub") or default_worker(float(typical["work_specialist"]))
    streams = []
    for stream in base.streams:
        local = average.get(stream.spoke) or average.get("spokes") or default_worker(float(typical["work_generalist"]))
        hub_w = fallback_hub.model_copy(update={"transfer_h": transfer if stream.origin != "hub" else 0.0})
        local_w = local.model_copy(update={"transfer_h": transfer if stream.origin != "spoke" else 0.0})
        streams.append(stream.model_copy(update={"hub": hub_w, "local": local_w}))
    return base.model_copy(update={"streams": tuple(streams), "hub_occupancy": _occ(occupancy.get(f"hub:{fid}"))})


def _occ(value: float | None) -> float | None:
    return None if value is None else float(min(max(value, 0.01), 0.99))


def _derived(other: WorkerInputs, ratio: float, response: float, transfer: float, source: str) -> WorkerInputs:
    progress = other.in_progress_h * ratio
    return WorkerInputs(work_h=max(other.work_h * ratio, 1e-6), in_progress_h=max(progress, 1e-3), response_h=response,
                        cv=other.cv, transfer_h=transfer, source=source)
