"""The calibrated as-is beside what was observed: the fit per spoke and per function, the estimates per stream, the
office hours and the teams.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif import observed
from dashboard.whatif.calibration.evidence import Evidence
from dashboard.whatif.calibration.fit import Fitted
from dashboard.whatif.calibration.result import CalibrationResult
from dashboard.whatif.inputs import ScenarioInputs, function_label
from dashboard.whatif.model import evaluate


def report(ev: Evidence, items: pd.DataFrame, mapping: Mapping[str, str], inputs: ScenarioInputs,
            occupancy: dict, flows: dict, fitted: Fitted, missing: dict, flags: list[str]) -> CalibrationResult:
    """The calibrated as-is beside what was observed, with the evidence behind it."""
    result = evaluate(inputs)
    names = {str(r["id"]): str(r["name"] or r["id"]) for _, r in ev.spokes.iterrows()}
    fit = _fit_table(observed.by_spoke(items, ev.spoke_ids, ev.prep.start, ev.prep.end), result.spokes, names)
    by_function = observed.by_function(items, mapping, ev.prep.start, ev.prep.end)
    function_fit = _fit_table(by_function.reindex(result.functions.index).dropna(how="all"), result.functions,
                              {f: function_label(f) for f in result.functions.index})
    calendars = pd.DataFrame([
        {"unit": uid, "hours": cal.format_hours(h), "timezone": tz, "source": src,
         "hours_per_week": cal.hours_per_week(h)} for uid, (h, tz, src) in ev.calendars.items()]).set_index("unit")
    rows = [{"pool": team, "headcount": ev.headcount.get(team, 0.0), "fte": ev.team_size(team, occupancy[team])[0],
             "occupancy": occupancy[team], "flow_efficiency": flows[team],
             "in_progress_load_h_per_week": ev.load[team], "observed_pickup_h": float(fitted.team_pickup[team]),
             "modelled_wait_h": fitted.team_wait[team]}
            for team in occupancy if ev.load.get(team, 0.0) > 0]
    pools = pd.DataFrame(rows).set_index("pool") if rows else pd.DataFrame()
    return CalibrationResult(
        inputs=inputs, fit=fit, function_fit=function_fit, estimates=_estimates(inputs, ev.observations),
        calendars=calendars, pools=pools, window_days=float(ev.prep.window_days),
        start=ev.prep.start.to_pydatetime(), end=ev.prep.end.to_pydatetime(), items_used=int(len(ev.frame)),
        missing_functions=dict(missing), flags=tuple(dict.fromkeys(flags)))


def _fit_table(obs: pd.DataFrame, model: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    rows = []
    key: Any  # a spoke id or function name: the stubs type index labels as Hashable
    for key, o in obs.iterrows():
        if key not in model.index:
            continue
        m = model.loc[key]
        n = int(o["items_resolved"]) if pd.notna(o["items_resolved"]) else 0
        def rel(a: float, b: float, n: int = n) -> float:
            return float(a / b - 1.0) if n and b and np.isfinite(a) and np.isfinite(b) and b > 0 else float("nan")
        rows.append({
            "key": key, "name": names.get(key, key), "items_resolved": n,
            "observed_median_h": o["median_lead_time_h"], "modelled_median_h": float(m["lead_time_median_h"]),
            "median_error": rel(float(m["lead_time_median_h"]), o["median_lead_time_h"]),
            "observed_mean_h": o["mean_lead_time_h"], "modelled_mean_h": float(m["lead_time_mean_h"]),
            "mean_error": rel(float(m["lead_time_mean_h"]), o["mean_lead_time_h"]),
            "observed_sla_share": o["sla_share"], "modelled_sla_share": float(m["sla_met_share"]),
            "sla_error_pts": (float(m["sla_met_share"]) - o["sla_share"]) * 100 if n else float("nan"),
        })
    columns = ["key", "name", "items_resolved", "observed_median_h", "modelled_median_h", "median_error",
               "observed_mean_h", "modelled_mean_h", "mean_error", "observed_sla_share", "modelled_sla_share",
               "sla_error_pts"]
    table = pd.DataFrame(rows, columns=columns).set_index("key")
    table.index.name = obs.index.name
    return table


def _estimates(inputs: ScenarioInputs, observations) -> pd.DataFrame:
    rows = []
    for fid, fn in inputs.functions.items():
        for s in fn.streams:
            for worker, figures in (("hub", s.hub), ("spoke", s.local)):
                obs = observations.get((fid, s.spoke, s.kind, s.origin), {}).get(worker)
                rows.append({
                    "function": fid, "spoke": s.spoke, "kind": s.kind, "origin": s.origin, "worker": worker,
                    "demand_per_day": s.demand_per_day, "central_share": s.central_share, "sla_hours": s.sla_hours,
                    "observed_items": 0 if obs is None else obs.n,
                    "observed_pickup_h": np.nan if obs is None else obs.pickup_mean,
                    "observed_in_progress_h": np.nan if obs is None else obs.progress_mean,
                    "response_h": figures.response_h, "in_progress_h": figures.in_progress_h,
                    "work_h": figures.work_h, "cv": figures.cv, "transfer_h": figures.transfer_h,
                    "source": figures.source,
                })
    return pd.DataFrame(rows)
