"""What the window showed (steps 1-4 of the package docstring), gathered once: units, office hours, streams and
their observed times, each team's load and headcount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif.calibration.office_hours import unit_calendars
from dashboard.whatif.calibration.result import CalibrationError
from dashboard.whatif.calibration.rows import TIME_COLUMNS, Prepared, number, prepare
from dashboard.whatif.calibration.streams import Observed, arrival_profiles, observe
from dashboard.whatif.inputs import FUNCTION_DEFAULTS, GlobalInputs


@dataclass
class Evidence:
    """What the window showed: units, office hours, streams and their observed times, and each team's load."""

    hub_row: pd.Series
    spokes: pd.DataFrame
    units: pd.DataFrame  # the hub, then the spokes
    spoke_ids: list[str]
    fn_names: list[str]
    prep: Prepared
    calendars: dict[str, tuple[cal.Hours, str, str]]  # unit -> (hours, zone, source)
    clocks: dict[str, cal.StaffedClock]
    keys: list[tuple[str, str, str, str]]  # streams: (function, spoke, kind, origin)
    demand: dict[tuple, float]
    shares: dict[tuple, float]
    slas: dict[tuple, float]
    profiles: dict[tuple, np.ndarray]
    observations: dict[tuple, dict[str, Observed | None]]  # per stream: "hub" / "spoke" -> observed times
    transfer_fn: dict[str, float]  # mean transfer of crossing items per function
    transfer_all: float
    load: dict[str, float]  # per team: staffed in-progress hours per week
    headcount: dict[str, float]  # per team: the headcount it draws on
    productive: float  # productive hours per FTE per week

    @property
    def hub_id(self) -> str:
        return str(self.hub_row["id"])

    @property
    def frame(self) -> pd.DataFrame:
        return self.prep.frame

    @property
    def teams(self) -> list[str]:
        return [f"hub:{f}" for f in self.fn_names] + self.spoke_ids

    @staticmethod
    def team_of(key: tuple, worker: str) -> str:
        return f"hub:{key[0]}" if worker == "hub" else key[1]

    def team_size(self, team: str, occupancy: float) -> tuple[float, float]:
        """(FTE on modelled work, flow efficiency) of a team at an occupancy: its headcount, or fewer where its
        in-progress load needs fewer at that occupancy; flow efficiency = work ÷ in-progress time, at most 1."""
        load = self.load.get(team, 0.0)
        unit = self.hub_id if team.startswith("hub:") else team
        hours = min(self.productive, self.clocks[unit].open_hours)
        needed = load / (occupancy * hours) if hours > 0 else 0.0
        fte = needed if self.headcount.get(team, 0.0) <= 0 else min(self.headcount[team], needed)
        flow = 1.0 if load <= 0 else min(1.0, occupancy * fte * hours / load)
        return fte, flow


def gather(items: pd.DataFrame, units: pd.DataFrame, now: dt.datetime | None, days: float,
            mapping: Mapping[str, str], g: GlobalInputs, default_timezone: str,
            flags: list[str]) -> tuple[Evidence, GlobalInputs]:
    """Steps 1-4 of the package docstring: the window, office hours, streams and their times, team loads."""
    kinds = units["kind"].astype(str).str.lower()
    hubs = units[kinds == "hub"]
    order = ["sort_order", "id"] if "sort_order" in units.columns else ["id"]
    spokes = units[kinds == "spoke"].sort_values(order, kind="stable")
    if len(hubs) != 1:
        raise CalibrationError(f"units must contain exactly one hub, found {len(hubs)}")
    if spokes.empty:
        raise CalibrationError("units contain no spokes")
    if items.empty:
        raise CalibrationError("there are no work items to calibrate from; load data or start from typed defaults")
    hub_row = hubs.iloc[0]
    hub_id = str(hub_row["id"])
    spoke_ids = [str(s) for s in spokes["id"]]
    if now is None:
        latest = [pd.to_datetime(items[c], utc=True).max() for c in TIME_COLUMNS if items[c].notna().any()]
        end = max(latest) + pd.Timedelta(seconds=1)
    else:
        if now.tzinfo is None:
            raise CalibrationError("now must be timezone-aware")
        end = pd.Timestamp(now).tz_convert("UTC")
    prep = prepare(items, hub_id, spoke_ids, mapping, end, days, flags)
    frame = prep.frame
    at = end.to_pydatetime()
    unit_rows = pd.concat([hubs, spokes])
    calendars = unit_calendars(frame, unit_rows, hub_id, default_timezone, at, flags)
    clocks = {uid: cal.StaffedClock(cal.week_mask(h, tz, at)) for uid, (h, tz, _src) in calendars.items()}

    # costs: the organisation's FTE cost is the headcount-weighted mean of the units'
    cost = pd.to_numeric(unit_rows["cost_per_fte"], errors="coerce")
    hc = pd.to_numeric(unit_rows["headcount"], errors="coerce").fillna(0.0)
    usable = (cost > 0) & (hc > 0)
    if usable.any():
        g = g.model_copy(update={"fte_cost": float((cost[usable] * hc[usable]).sum() / hc[usable].sum())})

    # streams
    fn_names = list(dict.fromkeys([*FUNCTION_DEFAULTS, *sorted(set(mapping.values()))]))
    keys = sorted(set(zip(frame["function"], frame["spoke"], frame["kind"], frame["origin"])),
                  key=lambda k: (fn_names.index(k[0]), spoke_ids.index(k[1]), k[2], k[3]))
    groups = {k: part for k, part in frame.groupby(["function", "spoke", "kind", "origin"], sort=False)}
    demand, shares, slas, observations = {}, {}, {}, {}
    for key in keys:
        part = groups[key]
        created = part[part["created_in"]]
        basis = created if len(created) else part
        demand[key] = len(created) / prep.window_days
        shares[key] = float((basis["worker"] == "hub").mean())
        sla = pd.to_numeric(part["sla_hours"], errors="coerce")
        slas[key] = (float(sla[sla > 0].median()) if (sla > 0).any()
                     else float(FUNCTION_DEFAULTS.get(key[0], {}).get("sla_hours", 24.0)))
        observations[key] = {"hub": observe(part[part["worker"] == "hub"], clocks[hub_id]),
                             "spoke": observe(part[part["worker"] == "spoke"], clocks[key[1]])}

    # transfer times of crossing items, for workers that never worked a stream
    crossing = frame[frame["origin"] != frame["worker"]]
    transfer = (crossing["t_reached"] - crossing["t_created"]).clip(lower=0.0)
    transfer_all = float(np.nanmean(transfer)) if len(crossing) else 0.0
    transfer_fn = {f: float(np.nanmean(t)) for f, t in transfer.groupby(crossing["function"])}

    # teams: in-progress load, and the headcount each draws on (the hub's split by load)
    unit_headcount = {str(r["id"]): number(r["headcount"]) or 0.0 for _, r in unit_rows.iterrows()}
    load = dict.fromkeys([f"hub:{f}" for f in fn_names] + spoke_ids, 0.0)
    for key in keys:
        for worker in ("hub", "spoke"):
            obs = observations[key][worker]
            share = shares[key] if worker == "hub" else 1.0 - shares[key]
            if obs is not None and share > 0:
                load[Evidence.team_of(key, worker)] += demand[key] * 7.0 * share * obs.progress_mean
    hub_load = sum(v for team, v in load.items() if team.startswith("hub:"))
    headcount = {team: (unit_headcount[hub_id] * v / hub_load if hub_load > 0 else 0.0) if team.startswith("hub:")
                 else unit_headcount.get(team, 0.0) for team, v in load.items()}
    if unit_headcount[hub_id] <= 0 and hub_load > 0:
        flags.append("the hub has no headcount in the units: its teams are sized from the observed in-progress "
                     "time at the occupancy cap")
    for uid in spoke_ids:
        if unit_headcount.get(uid, 0.0) <= 0 and load[uid] > 0:
            flags.append(f"{uid}: no headcount in the units: its team is sized from the observed in-progress time")
    ev = Evidence(hub_row=hub_row, spokes=spokes, units=unit_rows, spoke_ids=spoke_ids, fn_names=fn_names,
                   prep=prep, calendars=calendars, clocks=clocks, keys=keys, demand=demand, shares=shares, slas=slas,
                   profiles=arrival_profiles(frame, keys, prep.window_days), observations=observations,
                   transfer_fn=transfer_fn, transfer_all=transfer_all, load=load, headcount=headcount,
                   productive=g.productive_hours_per_week)
    return ev, g
