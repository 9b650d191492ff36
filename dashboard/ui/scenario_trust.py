"""The Scenarios page's evidence: what earns the model trust before a hub lead uses it.

- :func:`as_is_check`: per spoke and per function, what was observed beside what the calibrated as-is model gives;
- :func:`office_hours`: each unit's hours, time zone and where they come from; hub leads and admins correct them
  (then the as-is is calibrated again);
- :func:`missing_functions`: functions with no observed work, added on request with typical defaults;
- :func:`show_working`: where the mean lead time goes (handoff, waiting, in progress, out of hours);
- :func:`staffing`: a team's week hour by hour, and the staffing that meets every SLA target;
- :func:`simulation_check`: the same scenario item by item in a discrete-event simulation, beside the model.

Every figure comes from the cached accessors of :mod:`dashboard.ui.scenario_view`; text from the data (unit
names, flags) is shown literally.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts import scenario_charts
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.refusals import Refused
from dashboard.domain.vocabulary import FUNCTIONS
from dashboard.services.units import set_office_hours
from dashboard.settings import get_settings
from dashboard.ui import cache, data
from dashboard.ui import scenario_view as sv
from dashboard.ui.text import bullets, md
from dashboard.whatif.calendar import (
    CalendarError,
    format_hours,
    hours_per_week,
    parse_hours,
    utc_offset_hours,
)
from dashboard.whatif.calibration import CalibrationResult
from dashboard.whatif.inputs import ScenarioInputs, function_label, load_inputs
from dashboard.whatif.model import sla_staffing
from dashboard.whatif.simulation import compare, max_difference, simulate

MAX_ERROR = 0.10  # the as-is check opens when a spoke's lead time is off by more than this ...
MAX_SLA_POINTS = 5.0  # ... or its share within SLA by more than this many points
SIM_DAYS = 30
NOTICE = "sc_notice"
SIMULATED = "sc_sim"
SOURCES = {"stored": "stored", "inferred": "read from the data", "default": "default (an assumption)"}
HOURS_HELP = ("Days and times in the unit's own time zone, e.g. Mon-Fri 08:00-18:00; Sat 10:00-14:00 — or 24/7. "
              "Leave empty to read them from the data again.")
ZONE_HELP = "An IANA time zone such as Europe/Berlin, America/New_York or UTC. Empty: the dashboard's zone."


def notice() -> None:
    """A message left by the run before a rerun (e.g. office hours saved)."""
    message = st.session_state.pop(NOTICE, None)
    if message:
        st.success(md(message), icon=":material/check:")


# --- 1. the as-is check -------------------------------------------------------------------------------------------


def as_is_check(calibration: CalibrationResult | None, notes: list[str]) -> None:
    """Observed vs modelled per spoke and per function; open when a spoke is off by more than 10 % or 5 points."""
    if calibration is None:
        with st.expander("As-is check: the model is not calibrated", icon=":material/info:"):
            st.markdown(bullets(notes))
        return
    error, points = calibration.max_error, calibration.max_sla_points
    off = _off(calibration)
    if not math.isfinite(error):
        title = "As-is check: nothing resolved in the window to compare the model with"
    elif off:
        title = (f"As-is check: the model is off by up to {_pct(error)} in lead time and {points:.1f} points within "
                 "SLA — read with care")
    else:
        title = (f"As-is check: the model reproduces the observed lead times within {_pct(error)} and the share "
                 f"within SLA within {points:.1f} points")
    with st.expander(title, expanded=off, icon=":material/warning:" if off else ":material/verified:"):
        days = round(calibration.window_days)
        st.caption(f"Estimated from the last {days} day{'s' if days != 1 else ''} of work items "
                   f"({calibration.items_used:,} items, {_day(calibration.start)} to {_day(calibration.end)}). "
                   "Observed is what happened; modelled is what the calibrated as-is model gives for the same "
                   "organisation. Every scenario on this page starts from this model.")
        if off:
            st.warning(f"At least one spoke is off by more than {MAX_ERROR:.0%} in lead time or {MAX_SLA_POINTS:.0f} "
                       "points within SLA: read that spoke's figures with care. Office hours that are wrong are the "
                       "usual cause; check them below.", icon=":material/warning:")
        st.markdown("**Per spoke**")
        _fit_table(calibration.fit, "Spoke")
        if not calibration.function_fit.empty:
            st.markdown("**Per function**")
            _fit_table(calibration.function_fit, "Function")
        if notes:
            st.markdown("**What was assumed or left out**\n\n" + bullets(notes))


def _off(calibration: CalibrationResult) -> bool:
    """Some spoke's modelled lead time is off by more than 10 %, or its share within SLA by more than 5 points."""
    error, points = calibration.max_error, calibration.max_sla_points
    return (math.isfinite(error) and error > MAX_ERROR) or (math.isfinite(points) and points > MAX_SLA_POINTS)


def _delta(values) -> np.ndarray:
    """Differences rounded to the one decimal shown, without a "-0.0"."""
    return np.round(np.asarray(values, dtype=float), 1) + 0.0


def _columns(reference: str, short: str) -> dict:
    """Column formats and help of a "reference beside the model" table; ``short`` abbreviates ``reference``."""
    hours, pct = fmt.HOURS, fmt.PERCENT
    spec = {
        "Items": (fmt.COUNT, f"Items resolved ({reference})"),
        f"Median {short}": (hours, f"Median lead time, {reference}"), "Median model": (hours, "Median lead time, model"),
        "Δ median": ("%+.1f %%", f"Model against {reference}, in % of {reference}"),
        f"Mean {short}": (hours, f"Mean lead time, {reference}"), "Mean model": (hours, "Mean lead time, model"),
        "Δ mean": ("%+.1f %%", f"Model against {reference}, in % of {reference}"),
        f"SLA {short}": (pct, f"Share resolved within SLA, {reference}"), "SLA model": (pct, "Share within SLA, model"),
        "Δ SLA": ("%+.1f pts", f"Model minus {reference}, in percentage points"),
    }
    return {c: st.column_config.NumberColumn(format=f, help=h) for c, (f, h) in spec.items()}


def _fit_table(fit: pd.DataFrame, label: str) -> None:
    view = pd.DataFrame({
        label: fit["name"], "Items": fit.items_resolved,
        "Median obs.": fit.observed_median_h, "Median model": fit.modelled_median_h,
        "Δ median": _delta(fit.median_error * 100),
        "Mean obs.": fit.observed_mean_h, "Mean model": fit.modelled_mean_h, "Δ mean": _delta(fit.mean_error * 100),
        "SLA obs.": fit.observed_sla_share * 100, "SLA model": fit.modelled_sla_share * 100,
        "Δ SLA": _delta(fit.sla_error_pts),
    })

    def too_far(limit: float):
        return lambda v: "color: #D64545; font-weight: 600" if isinstance(v, float) and abs(v) > limit else ""

    styled = (view.style.map(too_far(MAX_ERROR * 100), subset=["Δ median", "Δ mean"])
              .map(too_far(MAX_SLA_POINTS), subset=["Δ SLA"]))
    st.dataframe(styled, hide_index=True, column_config=_columns("observed", "obs."))


def _pct(share: float) -> str:
    return fmt.percent(share, 1)


def _day(when) -> str:
    return pd.Timestamp(when).tz_convert(get_settings().tz).strftime("%d %b")


# --- 2. office hours -------------------------------------------------------------------------------------------


def office_hours(viewer: Viewer, calibration: CalibrationResult | None, units: pd.DataFrame) -> None:
    """Each unit's office hours and zone, where they come from; a form for hub leads and admins to correct them."""
    names = dict(zip(units.id, units.name.fillna(units.id)))
    table = _hours_table(calibration, units)
    stated = int((table["Where from"] == "stored").sum())
    defaults = bool((table["Where from"] == SOURCES["default"]).any())
    with st.expander(f"Office hours: {stated} of {len(table)} units stated", icon=":material/schedule:",
                     expanded=calibration is not None and defaults and _off(calibration)):
        st.caption("The model runs each team's clock only during its office hours: an item arriving after closing "
                   "waits for the morning. Hours are in the unit's own time zone.")
        st.dataframe(table.drop(columns="unit_id"), hide_index=True, placeholder="—", column_config={
            "Hours / week": st.column_config.NumberColumn(format=fmt.HOURS)})
        if not viewer.can_edit_operating_model:
            st.caption("Read-only: hub leads and admins correct office hours.")
            return
        unit = st.selectbox("Correct the office hours of", list(units.id), key="oh_unit",
                            format_func=lambda u: str(names.get(u, u)))
        now = table.set_index("unit_id").loc[unit] if unit in set(table.unit_id) else None
        with st.form("oh_form"):
            hours = st.text_input("Office hours", value="" if now is None else now["Office hours"],
                                  key=f"oh_hours_{unit}", help=HOURS_HELP)
            zone = st.text_input("Time zone", value="" if now is None else now["Time zone"],
                                 key=f"oh_zone_{unit}", help=ZONE_HELP)
            if not st.form_submit_button("Save office hours", type="primary"):
                return
        _save_hours(viewer, unit, str(names.get(unit, unit)), hours, zone)


def _hours_table(calibration: CalibrationResult | None, units: pd.DataFrame) -> pd.DataFrame:
    names = dict(zip(units.id, units.name.fillna(units.id)))
    if calibration is not None:
        cal = calibration.calendars
        return pd.DataFrame({
            "unit_id": cal.index, "Unit": [str(names.get(u, u)) for u in cal.index],
            "Office hours": cal.hours.to_numpy(),
            "Time zone": cal.timezone.to_numpy(), "Hours / week": cal.hours_per_week.to_numpy(),
            "Where from": [SOURCES.get(s, s) for s in cal.source],
        })
    stated = units.office_hours.notna()
    return pd.DataFrame({
        "unit_id": units.id, "Unit": units.id.map(names).astype(str),
        "Office hours": units.office_hours.where(stated, "not stated"),
        "Time zone": units.timezone.where(units.timezone.notna(), ""),
        "Hours / week": [_week_hours(h) for h in units.office_hours.where(stated, None)],
        "Where from": np.where(stated, "stored", "read from the data"),
    })


def _week_hours(text: str | None) -> float:
    try:
        return hours_per_week(parse_hours(text)) if text else float("nan")
    except CalendarError:
        return float("nan")


def _save_hours(viewer: Viewer, unit: str, name: str, hours: str, zone: str) -> None:
    try:
        with data.engine().begin() as conn:
            set_office_hours(conn, viewer, unit, hours, zone)
    except (NotPermitted, Refused) as exc:  # unknown unit, unreadable hours or zone: nothing was written
        st.error(f"Not saved: {md(exc)}", icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc)
        return
    cache.changed(set_office_hours)  # the as-is and the units lists read "units"
    stated = format_hours(parse_hours(hours)) if hours.strip() else "read from the data again"
    where = f" ({zone.strip() or get_settings().timezone})" if hours.strip() else ""
    sv.recalibrate()
    st.session_state[NOTICE] = (f"Saved the office hours of {name}: {stated}{where}. The as-is model was calibrated "
                                "again with them.")
    st.rerun()


# --- 3. functions without data ----------------------------------------------------------------------------------


def missing_functions(calibration: CalibrationResult | None, base: ScenarioInputs) -> None:
    """One line per function with no observed work: not in the as-is, unless added with typical defaults."""
    if calibration is None or not calibration.missing_functions:
        return
    for fid in calibration.missing_functions:
        left, right = st.columns([3, 2], vertical_alignment="center")
        if fid in base.functions:
            left.caption(f"{function_label(fid)} had no work items in the window; it is in this scenario with "
                         "typical defaults (an assumption).")
            continue
        left.info(f"{function_label(fid)} had no work items in the window, so it is not in the as-is.",
                  icon=":material/help:")
        right.button("Add with typical values", key=f"add_{fid}", on_click=sv.add_function, width="stretch",
                     args=(fid, calibration), help=f"Add {function_label(fid)} to the as-is and this scenario with "
                     "typical demand and this organisation's average observed times (an assumption)")


# --- 4. where the lead time goes -----------------------------------------------------------------------------------


def show_working(result, baseline_result) -> None:
    """Mean lead time per function or spoke split into handoff, waiting, in-progress and out-of-hours time."""
    by = st.segmented_control("Split by", ["function", "spoke"], format_func={"function": "Function",
                              "spoke": "Spoke"}.get, key="work_by", default="function", required=True)
    used = {*baseline_result.inputs.functions, *result.inputs.functions}
    names = ({f: function_label(f) for f in (*FUNCTIONS, *sorted(used)) if f in used}
             if by == "function" else {u.id: u.label for u in result.inputs.spokes})
    splits = {"As-is": scenario_charts.lead_time_split(baseline_result.streams, by, names),
              "This scenario": scenario_charts.lead_time_split(result.streams, by, names)}
    st.plotly_chart(scenario_charts.lead_time_breakdown(splits), config={"displayModeBar": False})
    st.caption("Handoff: handing an item across the hub↔spoke boundary. Waiting: queueing for a free person and the "
               "usual pick-up delay. In progress: from pick-up to done, in open hours. Out of hours: time the team "
               "is closed. Each is the mean over answered items, weighted by items per month.")
    parts = {c: label for c, (label, _colour) in scenario_charts.LEAD_PARTS.items()}
    table = pd.concat(splits, names=["Scenario", by.capitalize()]).reset_index()
    table = table.rename(columns={**parts, "lead_time_mean_h": "Mean lead time"})
    columns = [by.capitalize(), "Scenario", *parts.values(), "Mean lead time"]
    with st.expander("The numbers"):
        st.dataframe(table[columns].sort_values(by.capitalize(), kind="stable", key=_order(list(names.values()))),
                     hide_index=True, column_config={c: st.column_config.NumberColumn(format=fmt.HOURS)
                                                     for c in [*parts.values(), "Mean lead time"]})


def _order(labels: list[str]):
    rank = {label: i for i, label in enumerate(labels)}
    return lambda s: s.map(lambda v: rank.get(v, len(rank)))


# --- 5. staffing per interval and for the SLA -------------------------------------------------------------------


@cache.computed(max_entries=32)
def _sla_staffing(key: str) -> pd.DataFrame:
    return sla_staffing(load_inputs(json.loads(key)))


def staffing(result, baseline_result) -> None:
    """A team's week hour by hour (as-is dashed, this scenario solid), then the staffing every SLA target needs."""
    names = {u.id: u.label for u in result.inputs.units}
    pools = list(dict.fromkeys([*baseline_result.pools.index, *result.pools.index]))
    if not pools:
        st.caption("No team has work in this scenario.")
        return

    def label(pool: str) -> str:
        if pool.startswith("hub:"):
            return f"Hub · {function_label(pool[4:])}"
        return f"{names.get(pool, pool)} (shared team)"

    pick = st.selectbox("Team", pools, format_func=label, key="staff_pool")
    weeks = {name: r.staffing(pick) for name, r in (("As-is", baseline_result), ("This scenario", result))
             if pick in r.pools.index}
    zone = get_settings().timezone
    st.plotly_chart(scenario_charts.staffing_week(weeks, utc_offset_hours(zone), zone,
                                                  title=f"{label(pick)}: a week hour by hour"),
                    config={"displayModeBar": False})
    rows = {name: r.pools.loc[pick] for name, r in (("As-is", baseline_result), ("This scenario", result))
            if pick in r.pools.index}
    view = pd.DataFrame({
        "Scenario": list(rows), "Office hours": [f"{r.hours} ({r.timezone})" for r in rows.values()],
        "Items / day": [round(r.items_per_day) for r in rows.values()], "FTE": [r.fte for r in rows.values()],
        "On duty": [r.on_duty for r in rows.values()], "Occupancy": [r.occupancy * 100 for r in rows.values()],
        "Mean wait": [r.wait_h for r in rows.values()],
        "Largest backlog": [round(r.backlog_peak) for r in rows.values()],
    })
    st.dataframe(view, hide_index=True, column_config={
        "Items / day": st.column_config.NumberColumn(format=fmt.COUNT),
        "FTE": st.column_config.NumberColumn(format=fmt.FTE),
        "On duty": st.column_config.NumberColumn(format=fmt.FTE, help="People at work in each open hour"),
        "Occupancy": st.column_config.NumberColumn(format=fmt.PERCENT),
        "Mean wait": st.column_config.NumberColumn(format=fmt.HOURS, help="Waiting for a free person, in open hours"),
        "Largest backlog": st.column_config.NumberColumn(format=fmt.COUNT, help="Items waiting at the busiest hour")})
    st.caption(f"The model's week runs in UTC; shown here in {md(zone)}. The backlog builds while the team is "
               "closed or busier than its people can serve, and is cleared when they are back.")
    sla_summary(result)


def sla_summary(result) -> None:
    """To meet every SLA target: the FTE and people cost per team, and the teams staffing alone cannot bring there."""
    inputs = result.inputs
    table = _sla_staffing(sv.inputs_key(inputs))
    if table.empty:
        return
    names = {u.id: u.label for u in inputs.units}
    cost = {u.id: u.fte_cost or inputs.globals.fte_cost for u in inputs.units}
    label = pd.Series([f"Hub · {function_label(p[4:])}" if p.startswith("hub:") else str(names.get(p, p))
                       for p in table.index], index=table.index)
    money = sum(f * cost[inputs.hub.id if p.startswith("hub:") else p] for p, f in table.fte_for_sla.items())
    fte, need = float(table.fte.sum()), float(table.fte_for_sla.sum())
    st.markdown(f"**To meet every SLA target: {fmt.fte(need)} (±{_resolution(table):.1f}), "
                f"{fmt.money(money)} a year in people** — this scenario has {fmt.fte(fte)} "
                f"({fmt.money(result.totals.people_cost)}).")
    short = table[~table.reachable]
    if len(short):
        teams = "; ".join(f"{label[p]} (at best {fmt.percent(r.best_sla_share, 1)} within SLA, target "
                          f"{fmt.percent(r.sla_target, 1)})" for p, r in short.iterrows())
        st.warning(f"Staffing alone cannot reach the target of: {md(teams)}. Their office hours or pick-up times "
                   "limit them; the figure above staffs them to their best.", icon=":material/schedule:")
    view = pd.DataFrame({
        "Team": label.to_numpy(), "FTE": table.fte.to_numpy(), "FTE for SLA": table.fte_for_sla.to_numpy(),
        "Within SLA": table.sla_share.to_numpy() * 100,
        "At that staffing": table.sla_share_at_sla_fte.to_numpy() * 100,
        "Target": table.sla_target.to_numpy() * 100, "Reachable": table.reachable.to_numpy(),
    })
    with st.expander("Per team"):
        st.caption("Each team is given more people (a lower occupancy) until its items meet their SLA target; ± is "
                   "how finely that search steps.")
        st.dataframe(view, hide_index=True, column_config={
            "FTE": st.column_config.NumberColumn(format=fmt.FTE),
            "FTE for SLA": st.column_config.NumberColumn(format=fmt.FTE),
            **{c: st.column_config.NumberColumn(format=fmt.PERCENT)
               for c in ("Within SLA", "At that staffing", "Target")},
            "Reachable": st.column_config.CheckboxColumn(help="Can staffing alone reach the target?")})


def _resolution(table: pd.DataFrame) -> float:
    """How finely the search found the FTE: the fewest people that meet each target lie between
    ``fte_for_sla_low`` and ``fte_for_sla`` (:func:`dashboard.whatif.model.sla_staffing`)."""
    return float((table.fte_for_sla - table.fte_for_sla_low).clip(lower=0).sum())


# --- 6. check with simulation ------------------------------------------------------------------------------------


def simulation_check(inputs: ScenarioInputs) -> None:
    """Simulate the scenario item by item on request and put the simulated lead times beside the model's."""
    key = hashlib.sha256(sv.inputs_key(inputs).encode()).hexdigest()
    st.caption(f"The model computes queueing analytically (Erlang C and a backlog carried hour by hour): fast, but an "
               f"approximation. The simulation follows {SIM_DAYS} days of single items through the same teams, office "
               "hours and times. Where the model is weakest — very variable work, small teams — the simulation is "
               "the better guide.")
    if st.button("Check with simulation", key="sim_run", icon=":material/play_arrow:"):
        bar = st.progress(0.0, text=f"Simulating {SIM_DAYS} days of work…")
        try:
            simulated = simulate(inputs, days=SIM_DAYS,
                                 progress=lambda done: bar.progress(min(max(done, 0.0), 1.0),
                                                                    text=f"Simulating {SIM_DAYS} days of work…"))
            table = compare(inputs, simulated)
        except Exception as exc:  # noqa: BLE001 - a failed check is a message on the page, never a traceback
            bar.empty()
            st.error(f"The simulation could not run: {md(exc) or type(exc).__name__}. The model's figures above stand "
                     "unchecked.", icon=":material/error:")
            return
        bar.empty()
        st.session_state[SIMULATED] = {"key": key, "table": table, "seconds": simulated.seconds,
                                       "items": len(simulated.items)}
    last = st.session_state.get(SIMULATED)
    if last is None:
        return
    if last["key"] != key:
        st.caption("The last simulation was of other inputs; run it again for this scenario.")
        return
    _simulation_result(last)


def _simulation_result(last: dict) -> None:
    table = last["table"]
    lead, points = max_difference(table)
    close = math.isfinite(lead) and lead <= MAX_ERROR and (not math.isfinite(points) or points <= MAX_SLA_POINTS)
    message = (f"Largest difference between model and simulation: {_pct(lead) if math.isfinite(lead) else 'none'} in "
               f"lead time, {points:.1f} points within SLA ({fmt.count(last['items'])} simulated items, "
               f"{last['seconds']:.1f} s).")
    if close:
        st.success(message + " The model holds for this scenario.", icon=":material/verified:")
    else:
        st.warning(message + " Where they differ, trust the simulation more.", icon=":material/warning:")
    view = pd.DataFrame({
        "Spoke": table["name"], "Items": table.simulated_items, "Unanswered": table.simulated_unanswered,
        "Median sim.": table.simulated_median_h, "Median model": table.model_median_h,
        "Δ median": _delta(table.median_difference * 100),
        "Mean sim.": table.simulated_mean_h, "Mean model": table.model_mean_h,
        "Δ mean": _delta(table.mean_difference * 100),
        "SLA sim.": table.simulated_sla_share * 100, "SLA model": table.model_sla_share * 100,
        "Δ SLA": _delta(table.sla_difference_pts),
    })
    st.dataframe(view, hide_index=True, column_config={
        **_columns("simulated", "sim."),
        "Unanswered": st.column_config.NumberColumn(format=fmt.COUNT, help="Items nobody picked up before the sender gave up")})
    st.caption("Differences are the model's against the simulation (the simulation as the reference).")
