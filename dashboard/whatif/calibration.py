"""Calibration: the as-is scenario estimated from observed work items, and how well it reproduces them.

Every work item is one unit of demand of one *function* for one *spoke*:

- the function comes from the item's kind (``KIND_TO_FUNCTION``, overridable):

  ==================  ==========================  ====================================================
  kind                function                    why
  ==================  ==========================  ====================================================
  lead                crm_lead_management         leads are qualified, routed and followed up via the CRM
  escalation          crm_lead_management         key-account and customer escalations are CRM cases
  mention             social_listening            found by listening, answered as social response
  complaint           social_listening            complaints arrive through listening/care channels
  report              analytics_reporting         budget, revenue and pipeline reports
  insight             analytics_reporting         analytical findings for a spoke
  promotion_notice    campaign_planning           promotions come out of campaign planning
  request             content_production          spokes mostly ask the hub for content and briefs
  ==================  ==========================  ====================================================

  Marketing technology / platforms has no item kind; it and any function without enough items keep the
  typical profile of ``FUNCTION_DEFAULTS`` and are flagged.
- the spoke is the non-hub end of the item (the target when the hub sends it, the source when a spoke asks the
  hub); an item between a spoke and itself is spoke-local work, one between two spokes counts for the target.

Estimates (per function, over the observation window from the first item to ``now``):

- demand per spoke = items / window days (calendar days);
- central share = share of items with the hub at one end (the model applies one share to every spoke);
- in-progress time = mean accepted → resolved (elapsed hours) of resolved items, hub-touching items for the
  hub's specialists and spoke-local items for the generalists (else the default generalist/specialist ratio);
- work content by time-driven activity-based costing (Kaplan & Anderson 2004): elapsed time is not work time
  (people juggle items), so the hub's headcount × capacity × ``hub_utilisation`` work hours per day, less the
  default work of unobserved functions, are shared among the observed hub work in proportion to its
  in-progress time. That fixes the flow efficiency (work ÷ in-progress time, capped at 1) and the hours per
  item; without a hub headcount the whole in-progress time counts as work (flagged);
- handoffs per central item = 1 + share handed back (an item crosses once, twice when handed back);
  handoff delay per crossing = mean(created → accepted) / handoffs, i.e. routing and pick-up together;
- variability: cs = CV of accepted → resolved; ca² = the item-weighted mean of the per-spoke CV² of
  inter-arrival times (Whitt's QNA approximation for a superposition of streams);
- SLA = median ``sla_hours`` of the function's items (target share stays at the default 90 %);
- FTE cost per unit from ``units.cost_per_fte``; the global FTE cost is their headcount-weighted mean.

``fit`` compares, per spoke, the observed median (and mean) created → resolved time of resolved items with the
model's median (and mean) lead time for the same functions — the check that the as-is model is believable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.whatif.engine import DAYS_PER_YEAR, HOURS_PER_DAY
from dashboard.whatif.inputs import (
    FUNCTION_DEFAULTS,
    FUNCTIONS,
    FunctionInputs,
    GlobalInputs,
    InputError,
    ScenarioInputs,
    UnitInputs,
    function_label,
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
ITEM_COLUMNS = ("id", "kind", "source_unit", "target_unit", "channel", "created_at", "routed_at", "accepted_at",
                "resolved_at", "status", "sla_hours")
UNIT_COLUMNS = ("id", "name", "kind", "headcount", "cost_per_fte")
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at")

MIN_WINDOW_DAYS = 1.0  # less than a day of history says nothing about daily demand
MIN_ITEMS = 10  # items a function needs before its own service, delay and variability estimates are used
MIN_STREAM_ITEMS = 10  # arrivals a (function, spoke) stream needs for an inter-arrival CV
DEFAULT_SLA_TARGET = 0.9
DEFAULT_HUB_UTILISATION = 0.8  # share of the hub's productive time assumed to go into the observed work


class CalibrationError(ValueError):
    """The observed data cannot support an as-is scenario (the message says why and what is needed)."""


@dataclass(frozen=True)
class CalibrationResult:
    """The calibrated as-is scenario and the evidence behind it.

    - ``inputs``: as-is :class:`ScenarioInputs` (start the Scenarios page from these).
    - ``fit``: per spoke (index ``spoke``): ``items_resolved``, ``observed_median_h``, ``modelled_median_h``,
      ``median_error`` (modelled/observed − 1), ``observed_mean_h``, ``modelled_mean_h``, ``mean_error``.
    - ``estimates``: per function: items, items per day, central share, service mean (h), cs, ca, handoffs per
      item, handoff delay (h), routing and pick-up means (h), SLA (h) and ``source`` ("observed" or "defaults").
    - ``rates``: items and items/day by kind and spoke.
    - ``flags``: what was assumed or dropped, in words. ``used_defaults`` is True when any estimate fell back.
    """

    inputs: ScenarioInputs
    fit: pd.DataFrame
    estimates: pd.DataFrame
    rates: pd.DataFrame
    window_days: float
    items_used: int
    observed_hub_headcount: float
    flags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def used_defaults(self) -> bool:
        return bool((self.estimates["source"] != "observed").any()) or any("default" in f for f in self.flags)


def _hours(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    return ((later - earlier).dt.total_seconds() / 3600.0).to_numpy(dtype=np.float64, na_value=np.nan)


def _check_frames(items: pd.DataFrame, units: pd.DataFrame) -> None:
    for frame, name, columns in ((items, "work items", ITEM_COLUMNS), (units, "units", UNIT_COLUMNS)):
        if not isinstance(frame, pd.DataFrame):
            raise CalibrationError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CalibrationError(f"{name} lack the column(s) {', '.join(missing)}")


def _utc(series: pd.Series, name: str) -> pd.Series:
    try:
        converted = pd.to_datetime(series, errors="raise")
    except (ValueError, TypeError) as err:
        raise CalibrationError(f"{name} holds values that are not timestamps ({err})") from None
    if converted.dt.tz is None:
        if converted.notna().any():
            raise CalibrationError(f"{name} must be timezone-aware (UTC) timestamps")
        return converted.dt.tz_localize("UTC")
    return converted.dt.tz_convert("UTC")


def _number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) and number > 0 else None


def _prepare(items: pd.DataFrame, hub_id: str, spoke_ids: list[str], mapping: Mapping[str, str],
             now: dt.datetime | None, flags: list[str]) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Items inside the window, attributed to a spoke and a function, with their durations in hours."""
    frame = items.loc[:, list(ITEM_COLUMNS)].copy()
    for col in TIME_COLUMNS:
        frame[col] = _utc(frame[col], col)
    frame = frame[frame["created_at"].notna()]
    if frame.empty:
        raise CalibrationError("no work item has a creation time")
    if now is None:
        end = max(frame[c].max() for c in TIME_COLUMNS if frame[c].notna().any())
    else:
        if now.tzinfo is None:
            raise CalibrationError("now must be timezone-aware")
        end = pd.Timestamp(now).tz_convert("UTC")
    frame = frame[frame["created_at"] <= end]

    source, target = frame["source_unit"].astype(str), frame["target_unit"].astype(str)
    frame["spoke"] = np.where(source == hub_id, target, np.where(target == hub_id, source, target))
    frame["central"] = ((source == hub_id) | (target == hub_id)).to_numpy()
    frame["function"] = frame["kind"].astype(str).map(mapping)
    unknown_kind = frame["function"].isna()
    if unknown_kind.any():
        dropped = sorted(frame.loc[unknown_kind, "kind"].astype(str).unique())
        flags.append(f"{int(unknown_kind.sum())} items of unmapped kind(s) {', '.join(dropped)} ignored")
    unknown_unit = ~frame["spoke"].isin(spoke_ids) & ~unknown_kind
    if unknown_unit.any():
        flags.append(f"{int(unknown_unit.sum())} items not attributable to a known spoke ignored")
    frame = frame[~unknown_kind & ~unknown_unit].copy()
    if frame.empty:
        raise CalibrationError("no work item could be attributed to a known spoke and a mapped kind")

    frame["arrival_h"] = (frame["created_at"] - frame["created_at"].min()).dt.total_seconds() / 3600.0
    frame["pre_h"] = _hours(frame["accepted_at"], frame["created_at"])
    frame["routing_h"] = _hours(frame["routed_at"], frame["created_at"])
    frame["pickup_h"] = _hours(frame["accepted_at"], frame["routed_at"])
    frame["service_h"] = _hours(frame["resolved_at"], frame["accepted_at"])
    frame["cycle_h"] = _hours(frame["resolved_at"], frame["created_at"])
    for col in ("pre_h", "routing_h", "pickup_h", "service_h", "cycle_h"):
        bad = frame[col] < 0
        if bad.any():
            flags.append(f"{int(bad.sum())} items with {col.removesuffix('_h').replace('_', '-')} times out of order "
                         "ignored for that estimate")
            frame.loc[bad, col] = np.nan
    frame["handed_back"] = (frame["status"].astype(str) == "handed_back").to_numpy()
    return frame, end


def _function_stats(frame: pd.DataFrame) -> pd.DataFrame:
    """Per function: counts, mean service (hub-touching and local), CVs, pre-work delay, handoffs, SLA."""
    by = frame.groupby("function")
    stats = pd.DataFrame({"items": by.size(), "central_items": by["central"].sum()})
    central, local = frame[frame["central"]], frame[~frame["central"]]
    for part, prefix in ((central, "c"), (local, "l")):
        svc = part.dropna(subset=["service_h"]).groupby("function")["service_h"].agg(["size", "mean"])
        stats[f"svc_{prefix}_n"], stats[f"svc_{prefix}_mean"] = svc["size"], svc["mean"]
    svc_all = frame.dropna(subset=["service_h"]).groupby("function")["service_h"].agg(["size", "mean", "std"])
    stats["svc_n"], stats["svc_mean"], stats["svc_std"] = svc_all["size"], svc_all["mean"], svc_all["std"]
    pre = central.dropna(subset=["pre_h"]).groupby("function")["pre_h"].agg(["size", "mean"])
    stats["pre_n"], stats["pre_mean"] = pre["size"], pre["mean"]
    by_c = central.groupby("function")
    stats["handed_back"] = by_c["handed_back"].mean()
    stats["routing_mean"] = by_c["routing_h"].mean()
    stats["pickup_mean"] = by_c["pickup_h"].mean()
    sla = pd.to_numeric(frame["sla_hours"], errors="coerce")
    stats["sla"] = sla.where(sla > 0).groupby(frame["function"]).median()

    # inter-arrival CV² per (function, spoke) stream, combined per function weighted by stream size
    ordered = frame.sort_values(["function", "spoke", "arrival_h"], kind="stable")
    gaps = ordered.groupby(["function", "spoke"])["arrival_h"].diff()
    streams = gaps.groupby([ordered["function"], ordered["spoke"]]).agg(["size", "mean", "std"])
    streams = streams[(streams["size"] >= MIN_STREAM_ITEMS) & (streams["mean"] > 0)]
    streams = streams.assign(cv2=(streams["std"] / streams["mean"]) ** 2)
    weighted = (streams["cv2"] * streams["size"]).groupby(level=0).sum() / streams["size"].groupby(level=0).sum()
    stats["ca"] = np.sqrt(weighted)
    return stats


def calibrate(items: pd.DataFrame, units: pd.DataFrame, now: dt.datetime | None = None,
              kind_to_function: Mapping[str, str] | None = None, globals_: GlobalInputs | None = None,
              hub_utilisation: float = DEFAULT_HUB_UTILISATION) -> CalibrationResult:
    """Estimate the as-is scenario from observed work items and units (see the module docstring).

    ``now`` ends the observation window (default: the latest timestamp in the data); it must be timezone-aware.
    ``hub_utilisation`` is the share of the hub's productive time assumed to go into the observed work when
    work content is derived from its headcount. Raises :class:`CalibrationError` when the data cannot support
    any estimate (no items, no hub, no spokes, less than a day of history, missing columns); weaker gaps fall
    back to documented defaults and are listed in ``flags``.
    """
    _check_frames(items, units)
    if not 0.0 < hub_utilisation <= 1.0:
        raise CalibrationError(f"hub_utilisation must be in (0, 1], got {hub_utilisation}")
    mapping = dict(KIND_TO_FUNCTION if kind_to_function is None else kind_to_function)
    g = globals_ or GlobalInputs()
    flags: list[str] = []

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

    frame, end = _prepare(items, hub_id, spoke_ids, mapping, now, flags)
    window_days = (end - frame["created_at"].min()).total_seconds() / 86_400.0
    if window_days < MIN_WINDOW_DAYS:
        raise CalibrationError(f"the work items span {window_days * 24:.1f} hours; calibration needs at least "
                               f"{MIN_WINDOW_DAYS:g} day of history")
    stats = _function_stats(frame)
    demand = (frame.groupby(["function", "spoke"]).size() / window_days)
    rates = frame.groupby(["kind", "spoke"]).size().rename("items").reset_index()
    rates["items_per_day"] = rates["items"] / window_days

    capacity = g.productive_hours_per_day * g.working_days_per_year / DAYS_PER_YEAR  # work hours per calendar day
    stretch = HOURS_PER_DAY / capacity  # calendar hours an FTE needs per work hour

    # organisation-wide fallbacks
    overall_share = float(frame["central"].mean())
    central = frame[frame["central"]]
    pre_all = central["pre_h"].dropna()
    crossings_all = 1.0 + float(central["handed_back"].mean()) if len(central) else 1.0
    if len(pre_all) >= MIN_ITEMS:
        global_delay = float(pre_all.mean()) / crossings_all
    else:
        global_delay = g.handoff_delay_hours
        flags.append(f"too few hub-touching items with pick-up times: default handoff delay {global_delay:g} h used")
    unit_cost = pd.to_numeric(units["cost_per_fte"], errors="coerce")
    headcount = pd.to_numeric(units["headcount"], errors="coerce").fillna(0.0)
    usable = (unit_cost > 0) & (headcount > 0)
    global_cost = (float((unit_cost[usable] * headcount[usable]).sum() / headcount[usable].sum())
                   if usable.any() else g.fte_cost)
    hub_headcount = _number(hub_row["headcount"]) or 0.0

    # which functions are observed well enough to estimate their own service time
    names = list(dict.fromkeys([*FUNCTIONS, *sorted(set(mapping.values()))]))
    observed = [f for f in names if f in stats.index]
    svc_central = {f: stats.at[f, "svc_c_mean"] for f in observed if stats.at[f, "svc_c_n"] >= MIN_ITEMS}
    svc_local = {f: stats.at[f, "svc_l_mean"] for f in observed if stats.at[f, "svc_l_n"] >= MIN_ITEMS}

    # flow efficiency from the hub's headcount (time-driven activity-based costing, Kaplan & Anderson 2004):
    # the hub's available work hours are shared by its observed work in proportion to in-progress time
    profiles = {f: dict(FUNCTION_DEFAULTS.get(f, FUNCTION_DEFAULTS["content_production"])) for f in names}
    fixed_work = sum(  # work hours/day of functions kept at their default work content
        (stats.at[f, "central_items"] / window_days if f in stats.index else
         overall_share * profiles[f]["demand"] * len(spoke_ids)) * profiles[f]["hours_per_item_specialist"]
        for f in names if f not in svc_central and (f in stats.index or f in FUNCTION_DEFAULTS))
    in_progress = sum(stats.at[f, "central_items"] / window_days * svc_central[f] for f in svc_central)
    available = hub_headcount * capacity * hub_utilisation - fixed_work
    flow = 1.0
    if not svc_central:
        pass
    elif hub_headcount <= 0:
        flags.append("no hub headcount in units: work content taken as the whole in-progress time (flow "
                     "efficiency 1), which overstates the FTE needed if people work on several items at once")
    elif available <= 0:
        flags.append("the hub's headcount does not cover even the default work content of unobserved functions; "
                     "flow efficiency 1 assumed")
    elif in_progress / stretch > available:
        flow = available / (in_progress / stretch)
        flags.append(f"the hub's {hub_headcount:g} FTE handle the observed volume only if {flow:.1%} of an item's "
                     "in-progress time is worked on (flow efficiency); work content per item set accordingly")
    else:
        flags.append(f"the hub's {hub_headcount:g} FTE exceed the work implied by the observed in-progress times; "
                     "flow efficiency 1 assumed (the hub has spare capacity or unobserved work)")

    hub = UnitInputs(id=hub_id, name=str(hub_row["name"] or ""), fte_cost=_number(hub_row["cost_per_fte"]))
    spoke_units = tuple(UnitInputs(id=str(r["id"]), name=str(r["name"] or ""), fte_cost=_number(r["cost_per_fte"]))
                        for _, r in spokes.iterrows())
    globals_in = g.model_copy(update={"fte_cost": global_cost, "handoff_delay_hours": round(global_delay, 6)})

    functions: dict[str, FunctionInputs] = {}
    estimates = []
    for name in names:
        profile = profiles[name]
        default_demand = float(profile.pop("demand"))
        ratio = profile["hours_per_item_generalist"] / profile["hours_per_item_specialist"]
        if name not in stats.index:
            if name not in FUNCTION_DEFAULTS:
                continue
            functions[name] = FunctionInputs(central_share=round(overall_share, 6),
                                             demand_per_day={s: default_demand for s in spoke_ids},
                                             sla_target=DEFAULT_SLA_TARGET, **profile)
            flags.append(f"{function_label(name)}: no observed items — typical default demand and work content used; "
                         "edit them on the page")
            estimates.append(_estimate_row(name, 0, default_demand * len(spoke_ids), overall_share,
                                           profile["hours_per_item_specialist"] * stretch, None, None,
                                           profile["boundary_crossings"], global_delay, None, None,
                                           profile["sla_hours"], 1.0, "defaults"))
            continue
        st = stats.loc[name]
        share = float(st["central_items"] / st["items"])
        source, fn_flow = "observed", flow
        if name in svc_central:
            spec = svc_central[name] / stretch * flow
            gen = svc_local[name] / stretch * flow if name in svc_local else spec * ratio
            if name not in svc_local and share < 1.0:
                flags.append(f"{function_label(name)}: generalist work content assumed {ratio:.2g}× the hub's "
                             "(too few spoke-local items observed)")
        elif name in svc_local:
            gen = svc_local[name] / stretch * flow
            spec = gen / ratio
            flags.append(f"{function_label(name)}: specialist work content assumed 1/{ratio:.2g} of the spokes' "
                         "(too few hub-touching items observed)")
        else:
            spec, gen, source, fn_flow = (profile["hours_per_item_specialist"], profile["hours_per_item_generalist"],
                                          "defaults", 1.0)
            flags.append(f"{function_label(name)}: fewer than {MIN_ITEMS} resolved items — default work content used")
        cs = float(st["svc_std"] / st["svc_mean"]) if st["svc_n"] >= MIN_ITEMS and st["svc_mean"] > 0 else None
        ca = float(st["ca"]) if pd.notna(st["ca"]) else None
        crossings = 1.0 + (float(st["handed_back"]) if pd.notna(st["handed_back"]) else 0.0)
        delay = float(st["pre_mean"]) / crossings if st["pre_n"] >= MIN_ITEMS else None
        sla = float(st["sla"]) if pd.notna(st["sla"]) else float(profile["sla_hours"])
        extra = {k: v for k, v in profile.items() if k in ("error_rate_specialist", "error_rate_generalist",
                                                           "platform_cost")}
        functions[name] = FunctionInputs(
            central_share=round(share, 6),
            demand_per_day={s: float(demand.get((name, s), 0.0)) for s in spoke_ids},
            hours_per_item_specialist=float(spec), hours_per_item_generalist=float(gen),
            stages=max(int(profile["stages"]), int(np.ceil(crossings)) - 1),
            boundary_crossings=round(crossings, 6),
            handoff_delay_hours=None if delay is None else round(delay, 6),
            sla_hours=sla, sla_target=DEFAULT_SLA_TARGET,
            ca=None if ca is None else round(min(ca, 20.0), 6), cs=None if cs is None else round(min(cs, 20.0), 6),
            flow_efficiency=None if fn_flow >= 1.0 else round(fn_flow, 6), **extra)
        estimates.append(_estimate_row(name, int(st["items"]), st["items"] / window_days, share,
                                       float(st["svc_mean"]) if st["svc_n"] > 0 else spec * stretch, cs, ca,
                                       crossings, global_delay if delay is None else delay,
                                       st["routing_mean"], st["pickup_mean"], sla, fn_flow, source))

    try:
        inputs = ScenarioInputs(hub=hub, spokes=spoke_units, globals=globals_in, functions=functions)
    except ValueError as err:  # pydantic's ValidationError is a ValueError
        raise CalibrationError(f"the estimates do not form valid inputs: {err}") from None
    fit = _fit(inputs, frame, [f for f in observed if f in functions], flags)
    return CalibrationResult(
        inputs=inputs, fit=fit, estimates=pd.DataFrame(estimates).set_index("function"), rates=rates,
        window_days=float(window_days), items_used=int(len(frame)), observed_hub_headcount=hub_headcount,
        flags=tuple(flags))


def _estimate_row(name: str, items: int, per_day: float, share: float, service_h: float, cs: float | None,
                  ca: float | None, crossings: float, delay: float, routing: float | None, pickup: float | None,
                  sla: float, flow: float, source: str) -> dict[str, object]:
    def num(x: float | None) -> float:
        return float("nan") if x is None or pd.isna(x) else float(x)

    return {"function": name, "items": items, "items_per_day": float(per_day), "central_share": share,
            "service_mean_h": float(service_h), "cs": num(cs), "ca": num(ca), "handoffs_per_item": float(crossings),
            "handoff_delay_h": float(delay), "routing_mean_h": num(routing), "pickup_mean_h": num(pickup),
            "sla_hours": float(sla), "flow_efficiency": float(flow), "source": source}


def _fit(inputs: ScenarioInputs, frame: pd.DataFrame, observed: list[str], flags: list[str]) -> pd.DataFrame:
    """Observed vs modelled cycle time per spoke, over the functions that have observations."""
    columns = ["name", "items_resolved", "observed_median_h", "modelled_median_h", "median_error",
               "observed_mean_h", "modelled_mean_h", "mean_error"]
    if not observed:
        return pd.DataFrame(columns=columns).rename_axis("spoke")
    try:
        model = evaluate(inputs.model_copy(update={"functions": {f: inputs.functions[f] for f in observed}})).spokes
    except InputError as err:  # pragma: no cover - the inputs were validated just before
        raise CalibrationError(str(err)) from None
    done = frame[frame["function"].isin(observed) & np.isfinite(frame["cycle_h"])]
    stats = done.groupby("spoke")["cycle_h"].agg(["size", "median", "mean"])
    rows = []
    for spoke in inputs.spokes:
        if spoke.id not in stats.index:
            flags.append(f"{spoke.label}: no resolved items — no observed cycle time to compare")
            continue
        n, med, mean = stats.loc[spoke.id]
        m_med, m_mean = float(model.at[spoke.id, "lead_time_median_h"]), float(model.at[spoke.id, "lead_time_mean_h"])
        rows.append({"spoke": spoke.id, "name": spoke.label, "items_resolved": int(n),
                     "observed_median_h": float(med), "modelled_median_h": m_med,
                     "median_error": m_med / med - 1.0 if med > 0 else 0.0,
                     "observed_mean_h": float(mean), "modelled_mean_h": m_mean,
                     "mean_error": m_mean / mean - 1.0 if mean > 0 else 0.0})
    return pd.DataFrame(rows, columns=["spoke", *columns]).set_index("spoke")
