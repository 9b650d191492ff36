"""Calibration: the as-is scenario estimated from observed work items, and how well it reproduces them.

Every work item is one item of one *stream*: the function its kind belongs to (``KIND_TO_FUNCTION``), the
spoke at its non-hub end, its kind and its origin (where it was created: the hub or the spoke). Who *works*
it is who accepts and resolves it: the target unit. So a lead the hub sends to Sales is Sales' CRM work, a
content request Sales sends to the hub is the hub's content work, and the as-is central share of a function
is the share of its items the hub works.

Over a window of ``days`` ending ``now`` (docs/whatif.md, "Calibration from observed work items", gives every
formula):

1. Office hours per unit: the stored ones, else read from when the unit picked up and finished work against
   when work reached it (:func:`dashboard.whatif.calendar.infer_hours`), else the default (an assumption).
2. Per stream: demand = items created in the window ÷ days; the arrival rhythm by hour of the week (shrunk
   towards the kind's, then everything's, where items are few); central share; SLA.
3. Per stream and worker, from items *resolved* in the window, on the worker's staffed clock: the time from
   reaching the team to resolution (its mean and variance), the pick-up part (reached → accepted) and the
   in-progress part (accepted → resolved); the transfer (created → routed) of items that cross the boundary.
4. Per team (the hub's per function, each spoke's shared one): its FTE on modelled work is its headcount
   (the hub's split by in-progress load), or fewer if the in-progress load needs fewer at the occupancy; its
   occupancy is the occupancy cap, lowered where the queueing model at the cap would make items wait longer
   than they were seen to wait before pick-up. Work per item = in-progress time × the team's flow efficiency
   (occupancy × FTE × productive hours ÷ in-progress load, at most 1).
5. The pick-up delay queueing does not explain (response) = observed pick-up − modelled wait, never counted
   twice; the variability (CV) of response + in-progress = what is left of the observed variance after the
   modelled wait's.
6. Where a worker never worked a stream, its times are derived from the other worker's (× the typical
   specialist/generalist work ratio) and the team's usual response; with neither, typical defaults. Every
   stream says which (``source``).
7. Patience of social listening (abandonment): from aged items nobody picked up, where there are any;
   otherwise "none observed" or the default. Error rates: from hand-backs where there are enough,
   otherwise the typical defaults (an assumption).

``fit`` compares per spoke the observed median and mean lead time and SLA share (:mod:`observed`) with the
calibrated model's: the check that the as-is is believable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif import observed
from dashboard.whatif.engine import H, Params, Structure, compute
from dashboard.whatif.inputs import (
    ABANDONING_KINDS,
    DEFAULT_PATIENCE_H,
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
from dashboard.whatif.model import evaluate

KIND_TO_FUNCTION: dict[str, str] = {
    "lead": "crm_lead_management",
    "escalation": "crm_lead_management",
    "mention": "social_listening",
    "complaint": "social_listening",
    "report": "analytics_reporting",
    "insight": "analytics_reporting",
    "promotion_notice": "campaign_planning",
    "request": "content_production",
}
ITEM_COLUMNS = ("id", "kind", "source_unit", "target_unit", "created_at", "routed_at", "accepted_at",
                "resolved_at", "status", "sla_hours")
UNIT_COLUMNS = ("id", "name", "kind", "headcount", "cost_per_fte")
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at")

CALIBRATION_DAYS = 30  # days of observed work the as-is is calibrated from (pages, promotions, command line)
MIN_WINDOW_DAYS = 1.0  # less than a day of history says nothing about daily demand
MIN_ITEMS = 3  # resolved items a stream needs at a worker before its own times are used
PROFILE_PSEUDO_ITEMS = 8  # arrival rhythm: a stream's counts weigh against this many items of its kind's
AGED_DAYS = 3.0  # items older than this (and than 3 × their SLA) that nobody picked up count as unanswered
MIN_AGED = 50  # aged items a function needs before its patience is read from the data
MIN_UNANSWERED = 5
MIN_HANDBACKS = 20  # hand-backs a function and worker need before its error rate is read from the data
_OCC_GRID = np.linspace(0.05, 0.99, 48)


class CalibrationError(ValueError):
    """The observed data cannot support an as-is scenario (the message says why and what is needed)."""


@dataclass(frozen=True)
class CalibrationResult:
    """The calibrated as-is scenario and the evidence behind it.

    - ``inputs``: as-is :class:`ScenarioInputs` (start the Scenarios page from these).
    - ``fit``: per spoke (index ``spoke``): ``name``, ``items_resolved``, observed and modelled median and mean
      lead time with their relative errors, observed and modelled SLA share with the difference in points.
    - ``function_fit``: the same per function.
    - ``estimates``: per stream and worker: items, the observed times, what the model uses, and ``source``.
    - ``calendars``: per unit: office hours, time zone, where they come from, hours a week.
    - ``pools``: per team: headcount used, FTE on modelled work, occupancy, flow efficiency, observed pick-up
      and modelled wait.
    - ``missing_functions``: functions without observed items, in the typical version :meth:`with_missing` adds.
    - ``flags``: what was assumed or dropped, in words.
    """

    inputs: ScenarioInputs
    fit: pd.DataFrame
    function_fit: pd.DataFrame
    estimates: pd.DataFrame
    calendars: pd.DataFrame
    pools: pd.DataFrame
    window_days: float
    start: dt.datetime
    end: dt.datetime
    items_used: int
    missing_functions: dict[str, FunctionInputs] = field(default_factory=dict)
    flags: tuple[str, ...] = field(default_factory=tuple)

    def with_missing(self, function: str) -> ScenarioInputs:
        """The as-is with a function that had no observed items added in its typical version (an assumption)."""
        if function not in self.missing_functions:
            raise InputError([f"{function_label(function)} is not missing from the as-is"])
        return self.inputs.model_copy(update={"functions": {**self.inputs.functions,
                                                            function: self.missing_functions[function]}})

    @property
    def max_error(self) -> float:
        """The largest of the per-spoke relative errors of median and mean lead time (0.1 = 10 %)."""
        fit = self.fit[self.fit.items_resolved > 0]
        if fit.empty:
            return float("nan")
        return float(np.nanmax(np.abs(fit[["median_error", "mean_error"]].to_numpy())))

    @property
    def max_sla_points(self) -> float:
        fit = self.fit[self.fit.items_resolved > 0]
        return float(np.nanmax(np.abs(fit["sla_error_pts"].to_numpy()))) if not fit.empty else float("nan")


# --- preparing the rows -------------------------------------------------------------------------------------------


def _check_frames(items: pd.DataFrame, units: pd.DataFrame) -> None:
    for frame, name, columns in ((items, "work items", ITEM_COLUMNS), (units, "units", UNIT_COLUMNS)):
        if not isinstance(frame, pd.DataFrame):
            raise CalibrationError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CalibrationError(f"{name} lack the column(s) {', '.join(missing)}")


def _utc(series: pd.Series, name: str) -> pd.Series:
    try:
        converted = pd.to_datetime(series, errors="raise", utc=False)
    except (ValueError, TypeError) as err:
        raise CalibrationError(f"{name} holds values that are not timestamps ({err})") from None
    if converted.dt.tz is None:
        if converted.notna().any():
            raise CalibrationError(f"{name} must be timezone-aware (UTC) timestamps")
        return converted.dt.tz_localize("UTC")
    return converted.dt.tz_convert("UTC")


def week_hours(series: pd.Series) -> np.ndarray:
    """UTC timestamps as hours since Monday 1970-01-05 00:00 UTC less 72 h (the engine's week clock: hour 0 of
    every week is Monday 00:00 UTC); NaN where missing."""
    values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    missing = np.isnat(values)
    hours = values.view(np.int64) / 3.6e9 + 72.0
    return np.where(missing, np.nan, hours)


def _number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) and number > 0 else None


def _text(row: pd.Series, column: str) -> str | None:
    if column not in row.index:
        return None
    value = row[column]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = str(value).strip()
    return value or None


@dataclass
class _Prepared:
    frame: pd.DataFrame  # items attributed to a stream, with times on the week clock
    start: pd.Timestamp
    end: pd.Timestamp
    window_days: float


def _prepare(items: pd.DataFrame, hub_id: str, spoke_ids: list[str], mapping: Mapping[str, str],
             end: pd.Timestamp, days: float, flags: list[str]) -> _Prepared:
    frame = items.loc[:, [c for c in (*ITEM_COLUMNS, "due_at") if c in items.columns]].copy()
    for col in TIME_COLUMNS:
        frame[col] = _utc(frame[col], col)
    frame = frame[frame["created_at"].notna() & (frame["created_at"] < end)]
    if frame.empty:
        raise CalibrationError("no work item was created before the end of the window")
    start = end - pd.Timedelta(days=days)
    first = frame["created_at"].min()
    if first > start:
        start = first
    window_days = (end - start).total_seconds() / 86_400.0
    if window_days < MIN_WINDOW_DAYS:
        raise CalibrationError(f"the work items span {window_days * 24:.1f} hours; calibration needs at least "
                               f"{MIN_WINDOW_DAYS:g} day of history")
    in_window = (frame["created_at"] >= start) | (frame["resolved_at"].notna() & (frame["resolved_at"] >= start))
    frame = frame[in_window].copy()

    source, target = frame["source_unit"].astype(str), frame["target_unit"].astype(str)
    inside_hub = (source == hub_id) & (target == hub_id)
    if inside_hub.any():
        flags.append(f"{int(inside_hub.sum()):,} items that never left the hub (waiting unrouted) are not "
                     "attributed to a spoke")
    frame["spoke"] = np.where(source == hub_id, target, np.where(target == hub_id, source, target))
    frame["worker"] = np.where(target == hub_id, "hub", "spoke")
    frame["origin"] = np.where(source == hub_id, "hub", "spoke")
    frame["function"] = frame["kind"].astype(str).map(dict(mapping))
    unknown_kind = frame["function"].isna() & ~inside_hub
    if unknown_kind.any():
        kinds = sorted(frame.loc[unknown_kind, "kind"].astype(str).unique())
        flags.append(f"{int(unknown_kind.sum()):,} items of kind(s) {', '.join(kinds)} belong to no function and "
                     "are left out")
    unknown_unit = ~frame["spoke"].isin(spoke_ids) & ~unknown_kind & ~inside_hub
    if unknown_unit.any():
        flags.append(f"{int(unknown_unit.sum()):,} items whose spoke is not in the units are left out")
    frame = frame[~unknown_kind & ~unknown_unit & ~inside_hub].copy()
    if frame.empty:
        raise CalibrationError("no work item could be attributed to a known spoke and a mapped kind")
    frame["kind"] = frame["kind"].astype(str)
    frame["t_created"] = week_hours(frame["created_at"])
    routed = frame["routed_at"].where(frame["routed_at"].notna(), frame["created_at"])
    frame["t_reached"] = week_hours(routed)
    frame["t_accepted"] = week_hours(frame["accepted_at"])
    frame["t_resolved"] = week_hours(frame["resolved_at"])
    frame["created_in"] = (frame["created_at"] >= start).to_numpy()
    frame["resolved_in"] = (frame["resolved_at"].notna() & (frame["resolved_at"] >= start)
                            & (frame["resolved_at"] < end)).to_numpy()
    order_bad = (frame["t_reached"] < frame["t_created"]) | (frame["t_accepted"] < frame["t_reached"]) | (
        frame["t_resolved"] < frame["t_accepted"])
    if order_bad.any():
        flags.append(f"{int(order_bad.sum()):,} items with times out of order are left out of the duration estimates")
        frame.loc[order_bad, "resolved_in"] = False
    return _Prepared(frame=frame, start=start, end=end, window_days=window_days)


# --- office hours -------------------------------------------------------------------------------------------------


def _calendars(frame: pd.DataFrame, units: pd.DataFrame, hub_id: str, default_tz: str, at: dt.datetime,
               flags: list[str]) -> dict[str, tuple[cal.Hours, str, str]]:
    """(hours, timezone, source) per unit id."""
    out = {}
    for _, row in units.iterrows():
        uid = str(row["id"])
        tz_text = _text(row, "timezone")
        try:
            tz = cal.check_timezone(tz_text) if tz_text else cal.check_timezone(default_tz)
        except cal.CalendarError as exc:
            flags.append(f"{row['name'] or uid}: {exc}; UTC used")
            tz = "UTC"
        stored = _text(row, "office_hours")
        if stored:
            try:
                out[uid] = (cal.parse_hours(stored), tz, "stored")
                continue
            except cal.CalendarError as exc:
                flags.append(f"{row['name'] or uid}: stored office hours unreadable ({exc}); read from the data instead")
        offset = cal.utc_offset_hours(tz, at)
        mine = frame[(frame["worker"] == ("hub" if uid == hub_id else "spoke"))
                     & ((frame["spoke"] == uid) | (uid == hub_id))]
        acts = np.concatenate([mine["t_accepted"].to_numpy(), mine["t_resolved"].to_numpy()])
        acts = acts[np.isfinite(acts)]
        arrive = mine["t_reached"].to_numpy()
        bins = H * cal.BINS_PER_HOUR
        activity = np.bincount(_local_bin(acts, offset), minlength=bins).astype(np.float64)
        arrivals = np.bincount(_local_bin(arrive, offset), minlength=bins).astype(np.float64)
        hours = cal.infer_hours(activity, arrivals)
        if hours is None:
            out[uid] = (cal.DEFAULT_HOURS, tz, "default")
            flags.append(f"{row['name'] or uid}: too little observed work to read office hours; "
                         f"{cal.DEFAULT_HOURS_TEXT} ({tz}) assumed — correct them on the page or in the units file")
        else:
            out[uid] = (hours, tz, "inferred")
    return out


def _local_bin(t: np.ndarray, offset: float) -> np.ndarray:
    """Local half hour of the week (0 = Monday 00:00-00:30) of week-clock times."""
    bins = H * cal.BINS_PER_HOUR
    return (np.floor((t + offset) * cal.BINS_PER_HOUR).astype(np.int64)) % bins


# --- streams ------------------------------------------------------------------------------------------------------


def _profiles(frame: pd.DataFrame, keys: list[tuple], window_days: float) -> dict[tuple, np.ndarray]:
    """Arrival weights by UTC hour of the week per stream (mean 1), shrunk towards the kind's and everything's."""
    created = frame[frame["created_in"]]
    hours = (np.floor(created["t_created"].to_numpy()).astype(np.int64)) % H
    overall = np.bincount(hours, minlength=H).astype(np.float64) + 1.0
    overall /= overall.sum()
    by_kind: dict[str, np.ndarray] = {}
    kinds = created["kind"].to_numpy()
    for kind in np.unique(kinds):
        counts = np.bincount(hours[kinds == kind], minlength=H).astype(np.float64)
        by_kind[kind] = (counts + PROFILE_PSEUDO_ITEMS * overall) / (counts.sum() + PROFILE_PSEUDO_ITEMS)
    out = {}
    stream_key = list(zip(created["function"], created["spoke"], created["kind"], created["origin"]))
    index: dict[tuple, list[int]] = {}
    for i, k in enumerate(stream_key):
        index.setdefault(k, []).append(i)
    for key in keys:
        parent = by_kind.get(key[2], overall)
        rows = index.get(key, [])
        counts = np.bincount(hours[rows], minlength=H).astype(np.float64) if rows else np.zeros(H)
        shape = (counts + PROFILE_PSEUDO_ITEMS * parent) / (counts.sum() + PROFILE_PSEUDO_ITEMS)
        out[key] = shape * H
    return out


@dataclass
class _Observed:
    """What items of one stream worked by one worker showed (None where too few)."""

    n: int
    reach_mean: float  # staffed hours reached -> resolved
    reach_var: float
    pickup_mean: float  # staffed hours reached -> accepted
    progress_mean: float  # staffed hours accepted -> resolved
    progress_var: float
    transfer_mean: float  # calendar hours created -> routed (crossing items)


def _observe(part: pd.DataFrame, clock: cal.StaffedClock) -> _Observed | None:
    done = part[part["resolved_in"] & np.isfinite(part["t_resolved"].to_numpy())]
    if len(done) < MIN_ITEMS:
        return None
    reached = clock.to_staffed(done["t_reached"].to_numpy())
    resolved = clock.to_staffed(done["t_resolved"].to_numpy())
    accepted_t = done["t_accepted"].to_numpy()
    has_acc = np.isfinite(accepted_t)
    accepted = np.where(has_acc, clock.to_staffed(np.where(has_acc, accepted_t, 0.0)), resolved)
    total = np.maximum(resolved - reached, 0.0)
    pickup = np.clip(accepted - reached, 0.0, None)
    progress = np.clip(resolved - accepted, 0.0, None)
    transfer = np.maximum(done["t_reached"].to_numpy() - done["t_created"].to_numpy(), 0.0)
    return _Observed(n=len(done), reach_mean=float(total.mean()), reach_var=float(total.var()),
                     pickup_mean=float(pickup.mean()), progress_mean=float(max(progress.mean(), 1e-3)),
                     progress_var=float(progress.var()),
                     transfer_mean=float(transfer.mean()))


# --- the calibration -----------------------------------------------------------------------------------------------


@dataclass
class _Evidence:
    """What the window showed: units, office hours, streams and their observed times, and each team's load."""

    hub_row: pd.Series
    spokes: pd.DataFrame
    units: pd.DataFrame  # the hub, then the spokes
    spoke_ids: list[str]
    fn_names: list[str]
    prep: _Prepared
    calendars: dict[str, tuple[cal.Hours, str, str]]  # unit -> (hours, zone, source)
    clocks: dict[str, cal.StaffedClock]
    keys: list[tuple[str, str, str, str]]  # streams: (function, spoke, kind, origin)
    demand: dict[tuple, float]
    shares: dict[tuple, float]
    slas: dict[tuple, float]
    profiles: dict[tuple, np.ndarray]
    observations: dict[tuple, dict[str, _Observed | None]]  # per stream: "hub" / "spoke" -> observed times
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


def calibrate(items: pd.DataFrame, units: pd.DataFrame, now: dt.datetime | None = None, *,
              days: float = CALIBRATION_DAYS, kind_to_function: Mapping[str, str] | None = None,
              globals_: GlobalInputs | None = None, default_timezone: str = "UTC") -> CalibrationResult:
    """Estimate the as-is scenario from observed work items and units (see the module docstring).

    ``now`` ends the observation window (default: the latest timestamp in the data); it must be timezone-aware.
    Raises :class:`CalibrationError` when the data cannot support any estimate (no items, no hub, no spokes,
    less than a day of history, missing columns); weaker gaps fall back to documented defaults and are listed
    in ``flags``.
    """
    _check_frames(items, units)
    mapping = dict(KIND_TO_FUNCTION if kind_to_function is None else kind_to_function)
    flags: list[str] = []
    ev, g = _gather(items, units, now, days, mapping, globals_ or GlobalInputs(), default_timezone, flags)
    missing: dict[str, FunctionInputs] = {}

    def build(flows: Mapping[str, float], occupancy: Mapping[str, float], response=None, variability=None):
        return _assemble(ev, g, flows, occupancy, response, variability, flags, missing)

    occupancy, flows, fitted = _fit_occupancy(ev, g.occupancy_cap, build, flags)
    response, variability = _residuals(ev, fitted)
    inputs = build(flows, occupancy, response, variability)
    return _report(ev, items, mapping, inputs, occupancy, flows, fitted, missing, flags)


def _gather(items: pd.DataFrame, units: pd.DataFrame, now: dt.datetime | None, days: float,
            mapping: Mapping[str, str], g: GlobalInputs, default_timezone: str,
            flags: list[str]) -> tuple[_Evidence, GlobalInputs]:
    """Steps 1-4 of the module docstring: the window, office hours, streams and their times, team loads."""
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
    prep = _prepare(items, hub_id, spoke_ids, mapping, end, days, flags)
    frame = prep.frame
    at = end.to_pydatetime()
    unit_rows = pd.concat([hubs, spokes])
    calendars = _calendars(frame, unit_rows, hub_id, default_timezone, at, flags)
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
        observations[key] = {"hub": _observe(part[part["worker"] == "hub"], clocks[hub_id]),
                             "spoke": _observe(part[part["worker"] == "spoke"], clocks[key[1]])}

    # transfer times of crossing items, for workers that never worked a stream
    crossing = frame[frame["origin"] != frame["worker"]]
    transfer = np.maximum(crossing["t_reached"] - crossing["t_created"], 0.0)
    transfer_all = float(np.nanmean(transfer)) if len(crossing) else 0.0
    transfer_fn = {f: float(np.nanmean(t)) for f, t in transfer.groupby(crossing["function"])}

    # teams: in-progress load, and the headcount each draws on (the hub's split by load)
    unit_headcount = {str(r["id"]): _number(r["headcount"]) or 0.0 for _, r in unit_rows.iterrows()}
    load = dict.fromkeys([f"hub:{f}" for f in fn_names] + spoke_ids, 0.0)
    for key in keys:
        for worker in ("hub", "spoke"):
            obs = observations[key][worker]
            share = shares[key] if worker == "hub" else 1.0 - shares[key]
            if obs is not None and share > 0:
                load[_Evidence.team_of(key, worker)] += demand[key] * 7.0 * share * obs.progress_mean
    hub_load = sum(v for team, v in load.items() if team.startswith("hub:"))
    headcount = {team: (unit_headcount[hub_id] * v / hub_load if hub_load > 0 else 0.0) if team.startswith("hub:")
                 else unit_headcount.get(team, 0.0) for team, v in load.items()}
    if unit_headcount[hub_id] <= 0 and hub_load > 0:
        flags.append("the hub has no headcount in the units: its teams are sized from the observed in-progress "
                     "time at the occupancy cap")
    for uid in spoke_ids:
        if unit_headcount.get(uid, 0.0) <= 0 and load[uid] > 0:
            flags.append(f"{uid}: no headcount in the units: its team is sized from the observed in-progress time")
    ev = _Evidence(hub_row=hub_row, spokes=spokes, units=unit_rows, spoke_ids=spoke_ids, fn_names=fn_names,
                   prep=prep, calendars=calendars, clocks=clocks, keys=keys, demand=demand, shares=shares, slas=slas,
                   profiles=_profiles(frame, keys, prep.window_days), observations=observations,
                   transfer_fn=transfer_fn, transfer_all=transfer_all, load=load, headcount=headcount,
                   productive=g.productive_hours_per_week)
    return ev, g


@dataclass
class _Fitted:
    """The queueing model evaluated at the grid of occupancies, and the row chosen per team."""

    structure: Structure
    outcome: object  # engine.Outcome over the grid rows
    grid: np.ndarray
    row_of: dict[str, int]  # team -> chosen grid row
    observed: np.ndarray  # (J, 2) True where the stream's times at that worker are observed
    pickup: np.ndarray  # (J, 2) observed mean pick-up, staffed hours (NaN where not observed)
    team_pickup: dict[str, float]
    team_wait: dict[str, float]


def _fit_occupancy(ev: _Evidence, cap: float, build, flags: list[str]) -> tuple[dict, dict, _Fitted]:
    """Step 4: each team's occupancy is the cap, lowered until no observed stream of the team waits longer in the
    queueing model than it was seen to wait before pick-up (work per item follows from the occupancy)."""
    grid = _OCC_GRID[_OCC_GRID <= cap]
    grid = np.append(grid, cap) if grid[-1] < cap else grid
    base = build({t: ev.team_size(t, cap)[1] for t in ev.teams}, dict.fromkeys(ev.teams, cap))
    st = Structure.from_inputs(base, ev.prep.end.to_pydatetime())
    params = Params.from_inputs(base)
    teams = [f"hub:{f}" for f in base.functions] + list(base.spoke_ids)
    rows = params.repeat(len(grid))
    occupancy = np.repeat(grid[:, None], st.Q, axis=1)
    observed = _observed_mask(base, ev.observations)
    flow = np.array([[ev.team_size(t, rho)[1] if t in ev.load else 1.0 for t in teams] for rho in grid])  # (G, Q)
    progress = np.broadcast_to(params.in_progress, (1, st.J, 2))
    work = np.where(observed[None], np.maximum(progress * flow[:, st.pool_of], 1e-6), rows.work)
    out = compute(st, replace(rows, occupancy=occupancy, work=work), spread=True)

    onehot = np.zeros((st.J, 2, st.Q))
    onehot[np.arange(st.J)[:, None], np.arange(2)[None, :], st.pool_of] = 1.0
    pickup = np.array([[getattr(ev.observations.get(k, {}).get(w), "pickup_mean", np.nan) for w in ("hub", "spoke")]
                       for k in st.stream_keys]).reshape(-1, 2)
    reach = np.array([[getattr(ev.observations.get(k, {}).get(w), "reach_mean", 0.0) for w in ("hub", "spoke")]
                      for k in st.stream_keys]).reshape(-1, 2)
    tolerance = np.maximum(0.02, 0.02 * reach)
    too_long = observed[None] & (out.wait > np.nan_to_num(pickup, nan=np.inf)[None] + tolerance[None])
    bad = np.einsum("rjw,jwq->rq", too_long.astype(np.float64), onehot) > 0
    weight = np.where(observed, out.answered[0], 0.0)
    team_pickup = np.einsum("jw,jwq->q", weight * np.nan_to_num(pickup), onehot) / np.maximum(
        np.einsum("jw,jwq->q", weight, onehot), 1e-12)
    team_wait = np.einsum("rjw,jwq->rq", out.answered * out.wait * observed, onehot) / np.maximum(
        np.einsum("rjw,jwq->rq", out.answered * observed, onehot), 1e-12)
    chosen, row_of = {}, {}
    for q, team in enumerate(teams):
        fits = np.flatnonzero(~bad[:, q])
        row_of[team] = int(fits[-1]) if len(fits) else 0
        chosen[team] = float(grid[row_of[team]])
        if not len(fits) and ev.load.get(team, 0.0) > 0:
            flags.append(f"{_team_label(team, ev.units)}: even at {grid[0]:.0%} occupancy the queue model waits longer "
                         "than items were seen to wait before pick-up; check its office hours")
    flows = {t: ev.team_size(t, chosen[t])[1] if t in ev.load else 1.0 for t in teams}
    fitted = _Fitted(structure=st, outcome=out, grid=grid, row_of=row_of, observed=observed, pickup=pickup,
                     team_pickup=dict(zip(teams, team_pickup)),
                     team_wait={t: float(team_wait[row_of[t], q]) for q, t in enumerate(teams)})
    return chosen, flows, fitted


def _residuals(ev: _Evidence, fitted: _Fitted) -> tuple[dict, dict]:
    """Step 5: per stream and worker, the pick-up delay queueing does not explain (observed pick-up − the modelled
    wait, never below 0) and the variability of pick-up + in-progress left after the modelled wait's."""
    st, out = fitted.structure, fitted.outcome
    teams = [f"hub:{f}" for f in st.function_ids] + list(st.spoke_ids)
    response, variability = {}, {}
    for j, key in enumerate(st.stream_keys):
        for w, worker in enumerate(("hub", "spoke")):
            obs = ev.observations.get(key, {}).get(worker)
            if obs is None or not fitted.observed[j, w]:
                continue
            r = fitted.row_of[teams[st.pool_of[j, w]]]
            wait, wait_var = float(out.wait[r, j, w]), float(out.wait_var[r, j, w])
            response[(key, worker)] = max(obs.pickup_mean - wait, 0.0)
            rest_mean = max(obs.reach_mean - wait, obs.progress_mean)
            rest_var = max(obs.reach_var - wait_var, obs.progress_var)
            variability[(key, worker)] = float(min(np.sqrt(rest_var) / rest_mean, 20.0)) if rest_mean > 0 else 1.0
    return response, variability


def _report(ev: _Evidence, items: pd.DataFrame, mapping: Mapping[str, str], inputs: ScenarioInputs,
            occupancy: dict, flows: dict, fitted: _Fitted, missing: dict, flags: list[str]) -> CalibrationResult:
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


def _team_label(team: str, units: pd.DataFrame) -> str:
    names = {str(r["id"]): str(r["name"] or r["id"]) for _, r in units.iterrows()}
    if team.startswith("hub:"):
        return f"Hub ({function_label(team[4:])})"
    return names.get(team, team)


def _observed_mask(inputs: ScenarioInputs, observations: Mapping[tuple, Mapping[str, _Observed | None]]) -> np.ndarray:
    rows = []
    for fid, fn in inputs.functions.items():
        for s in fn.streams:
            obs = observations.get((fid, s.spoke, s.kind, s.origin), {})
            rows.append((obs.get("hub") is not None, obs.get("spoke") is not None))
    return np.asarray(rows, dtype=bool).reshape(-1, 2)


def _observed_worker(ev: _Evidence, key: tuple, worker: str, flows: Mapping[str, float],
                     response: Mapping[tuple, float] | None, variability: Mapping[tuple, float] | None
                     ) -> WorkerInputs | None:
    """The times a worker was seen to take over a stream (None where it worked too few of its items)."""
    obs = ev.observations[key][worker]
    if obs is None:
        return None
    flow = flows.get(_Evidence.team_of(key, worker), 1.0)
    return WorkerInputs(work_h=max(obs.progress_mean * flow, 1e-6), in_progress_h=obs.progress_mean,
                        response_h=0.0 if response is None else response.get((key, worker), 0.0),
                        cv=1.0 if variability is None else variability.get((key, worker), 1.0),
                        transfer_h=obs.transfer_mean if key[3] != worker else 0.0, source=f"observed ({obs.n:,} items)")


def _assemble(ev: _Evidence, g: GlobalInputs, flows: Mapping[str, float], occupancy: Mapping[str, float],
              response: Mapping[tuple, float] | None, variability: Mapping[tuple, float] | None, flags: list[str],
              missing: dict) -> ScenarioInputs:
    """Inputs from the estimates (step 6 and 7 of the module docstring): observed workers as observed, the others
    derived. Functions without observed items are left out; ``missing`` receives their typical version."""
    seen = {key: {w: fig for w in ("hub", "spoke")
                  if (fig := _observed_worker(ev, key, w, flows, response, variability)) is not None}
            for key in ev.keys}
    # the usual response of each team (item-weighted over its observed streams), for streams that move into it
    usual: dict[str, list[tuple[float, float]]] = {}
    for key in ev.keys:
        for worker, figures in seen[key].items():
            for name in (_Evidence.team_of(key, worker), "hub" if worker == "hub" else "spokes"):
                usual.setdefault(name, []).append((figures.response_h, ev.demand[key]))

    def usual_response(team: str, side: str) -> float:
        for name in (team, side):
            values = usual.get(name)
            total = sum(w for _, w in values) if values else 0.0
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
            typical = FUNCTION_DEFAULTS.get(fid, FUNCTION_DEFAULTS["content_production"])
            hub_w = default_worker(float(typical["work_specialist"]), transfer_h=transfer if origin != "hub" else 0.0)
            local_w = default_worker(float(typical["work_generalist"]), transfer_h=transfer if origin != "spoke" else 0.0)
        patience, patience_source = _patience(ev.frame, key, ev.prep.end)
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
        errors = _error_rates(ev.frame, fid, typical)
        functions[fid] = FunctionInputs(
            central_share=None, streams=tuple(by_fn[fid]), sla_target=0.9,
            platform_cost=float(typical["platform_cost"]) if typical else None,
            error_rate_specialist=errors[0], error_rate_generalist=errors[1], error_source=errors[2],
            hub_occupancy=_occ(occupancy.get(f"hub:{fid}")))

    def unit(row: pd.Series, spoke: bool) -> UnitInputs:
        uid = str(row["id"])
        hours, tz, source = ev.calendars[uid]
        return UnitInputs(id=uid, name=str(row["name"] or ""), fte_cost=_number(row["cost_per_fte"]),
                          headcount=_number(row["headcount"]), hours=cal.format_hours(hours), timezone=tz,
                          hours_source=source, occupancy=_occ(occupancy.get(uid)) if spoke else None)

    try:
        return ScenarioInputs(hub=unit(ev.hub_row, False), spokes=tuple(unit(r, True) for _, r in ev.spokes.iterrows()),
                              globals=g, functions=functions, window_days=ev.prep.window_days)
    except (ValueError, InputError) as err:
        raise CalibrationError(f"the estimates do not form valid inputs: {err}") from None


def _average_workers(ev: _Evidence, seen: Mapping[tuple, Mapping[str, WorkerInputs]]) -> dict[str, WorkerInputs]:
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


def _patience(frame: pd.DataFrame, key: tuple, end: pd.Timestamp) -> tuple[float | None, str]:
    """Mean patience (hours) of a stream's senders, by maximum likelihood on aged items (exponential patience):
    an item picked up after waiting w says patience > w; one never picked up says patience < the wait it would
    have had: until its team picked up the first item that reached it later (first come, first served)."""
    if key[2] not in ABANDONING_KINDS:
        return None, ""
    part = frame[(frame["function"] == key[0]) & (frame["spoke"] == key[1]) & (frame["kind"] == key[2])
                 & (frame["origin"] == key[3])]
    sla = pd.to_numeric(part["sla_hours"], errors="coerce").fillna(0.0)
    age_h = (end - part["created_at"]).dt.total_seconds() / 3600.0
    aged = part[(age_h >= AGED_DAYS * 24) & (age_h >= 3 * sla)]
    if len(aged) < MIN_AGED:
        return DEFAULT_PATIENCE_H, f"assumption ({DEFAULT_PATIENCE_H:g} h): too few aged items to read it"
    unanswered = (aged["accepted_at"].isna() & aged["resolved_at"].isna()
                  & aged["status"].astype(str).isin(["new", "routed"])).to_numpy()
    n_un = int(unanswered.sum())
    if n_un < MIN_UNANSWERED:
        return None, f"none observed: {len(aged) - n_un:,} of {len(aged):,} aged items were picked up"
    wait = np.maximum(aged["t_accepted"].to_numpy() - aged["t_reached"].to_numpy(), 0.0)
    picked = ~unanswered & np.isfinite(wait)
    if not picked.any():
        return DEFAULT_PATIENCE_H, f"assumption ({DEFAULT_PATIENCE_H:g} h): nothing was picked up to compare with"
    # the wait an unanswered item would have had: until its team picked up the first item that arrived after it
    # (first come, first served: it would have been taken before that one)
    team = frame[(frame["worker"] == aged["worker"].iloc[0]) & ((frame["spoke"] == key[1]) | (aged["worker"].iloc[0] == "hub"))]
    order = np.argsort(team["t_reached"].to_numpy(), kind="stable")
    reached_sorted = team["t_reached"].to_numpy()[order]
    accepted_sorted = np.where(np.isfinite(team["t_accepted"].to_numpy()[order]), team["t_accepted"].to_numpy()[order],
                               np.inf)
    next_pickup = np.minimum.accumulate(accepted_sorted[::-1])[::-1]
    position = np.searchsorted(reached_sorted, aged["t_reached"].to_numpy(), side="right")
    would_wait = np.where(position < len(next_pickup),
                          next_pickup[np.minimum(position, len(next_pickup) - 1)] - aged["t_reached"].to_numpy(), np.nan)
    usable = unanswered & np.isfinite(would_wait) & (would_wait > 0)
    exposure = np.where(unanswered, would_wait, wait)
    keep = usable | picked
    exposure, gave_up = exposure[keep], unanswered[keep]
    if not gave_up.any():
        return None, f"none observed: {len(aged) - n_un:,} of {len(aged):,} aged items were picked up"
    thetas = np.geomspace(0.05, 10_000.0, 400)
    with np.errstate(divide="ignore"):
        loglik = (np.log(-np.expm1(-exposure[gave_up][None, :] / thetas[:, None])).sum(1)
                  - (exposure[~gave_up][None, :] / thetas[:, None]).sum(1))
    theta = float(thetas[int(np.argmax(loglik))])
    return theta, f"observed: {n_un:,} of {len(aged):,} aged items never picked up"


def _error_rates(frame: pd.DataFrame, fid: str, typical: Mapping | None) -> tuple[float, float, str]:
    spec = float(typical["error_rate_specialist"]) if typical else 0.02
    gen = float(typical["error_rate_generalist"]) if typical else 0.05
    part = frame[frame["function"] == fid]
    status = part["status"].astype(str)
    rates, sources = [spec, gen], []
    for i, worker in enumerate(("hub", "spoke")):
        mine = status[part["worker"] == worker]
        back = int((mine == "handed_back").sum())
        done = int(mine.isin(["resolved", "handed_back"]).sum())
        if back >= MIN_HANDBACKS and done > 0:
            rates[i] = back / done
            sources.append("observed hand-backs")
    source = "observed hand-backs" if len(sources) == 2 else (
        "partly observed hand-backs, partly typical rates (assumption)" if sources else "typical rates (assumption)")
    return rates[0], rates[1], source


def _fit_table(obs: pd.DataFrame, model: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    rows = []
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
    return pd.DataFrame(rows, columns=columns).set_index("key").rename_axis(obs.index.name)


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
