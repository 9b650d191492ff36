"""The Scenarios page's sections: start point, controls, results, trade-offs, documentation. (The sections that
earn the model trust — the as-is check, office hours, functions without data, where the lead time goes, staffing
hour by hour, the simulation check — are in :mod:`dashboard.ui.scenario_trust`; saving, sharing and comparing
saved scenarios in :mod:`dashboard.ui.scenario_saved`.)

State, in ``st.session_state``: ``sc_asis`` is the as-is the results are compared with (the calibrated one, plus
the functions without data the viewer added with typical defaults, listed in ``sc_added``); ``sc_base`` is the
baseline the controls start from (the as-is, a preset, or a loaded scenario), both as dumped dicts. Every control
has a key (``place_<function>``, ``share_<function>``, ``g_<global>``) and the scenario is rebuilt from the
baseline and the controls on each run, so changes recompute instantly. After someone corrects office hours,
``sc_recalibrate`` asks the next run to start again from the recalibrated as-is.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.charts import scenario_charts
from dashboard.charts.palette import GREEN, RED
from dashboard.domain import format as fmt
from dashboard.domain.access import Viewer
from dashboard.domain.urlvalues import ROW_ID_MAX, UrlValueError, row_id
from dashboard.queries import scenarios as saved
from dashboard.services import cycle
from dashboard.ui import cache, data, urlstate
from dashboard.ui.text import bullets, md
from dashboard.whatif.analysis import sensitivity, tradeoff_curve
from dashboard.whatif.calibration import CalibrationResult
from dashboard.whatif.inputs import (
    InputError,
    ScenarioInputs,
    dump_inputs,
    function_label,
    load_inputs,
)
from dashboard.whatif.model import (
    PRESET_LABELS,
    TOTAL_LABELS,
    compare_models,
    evaluate,
    presets,
    spoke_delta,
    totals_delta,
)

MODEL_DOC = Path(__file__).with_name("scenario_help.md")  # the model for its readers (no code names)
PLACEMENTS = {"as_is": "As today", "hub": "Hub", "hybrid": "Hybrid", "spokes": "Spokes"}
GLOBALS = {  # key: (label, min, max, step, format, help)
    "fte_cost": ("FTE cost (€/year)", 1.0, None, 1000.0, "%.0f", "Yearly cost of one FTE where no unit sets its own"),
    "platform_cost": ("Platform cost (€/year)", 0.0, None, 1000.0, "%.0f",
                      "Licence and running cost of one platform instance a year, where no function sets its own"),
    "shrinkage": ("Shrinkage", 0.0, 0.9, 0.01, "%.2f",
                  "Share of paid hours not available for work: leave, sickness, training, meetings (0.30 = 30 %)"),
}
# One label per quantity on this page (the model's, shortened where a column is narrow).
LABELS = {**TOTAL_LABELS, "unanswered_per_month": "Unanswered / month", "sla_met_share": "Within SLA"}
COUNTS = {"handoffs_per_month", "unanswered_per_month", "items_per_month", "compliance_risk_per_month",
          "coordination_channels", "duplication_platforms"}
RECALIBRATE = "sc_recalibrate"
ADDED = "sc_added"
ORIGIN = "sc_origin"  # what the scenario on screen started from: the as-is, a preset, a saved scenario


@cache.reads("items", "units", lifetime="calibration", spinner="Calibrating the as-is model from observed work…",
             max_entries=8)
def as_is(viewer: Viewer) -> tuple[dict, CalibrationResult | None, list[str]]:
    """The calibrated as-is inputs (dumped), the calibration with its evidence (``fit``, ``calendars``, ...;
    None when not calibrated) and notes (:func:`dashboard.services.cycle.as_is`: typed defaults, saying why, when
    this viewer's role or the data cannot support a calibration)."""
    with data.engine().connect() as conn:
        found = cycle.as_is(conn, viewer)
    return dump_inputs(found.inputs), found.calibration, found.notes


def recalibrate() -> None:
    """After office hours changed (the write cleared the as-is, a reader of "units"): let the page start again
    from the new as-is."""
    st.session_state[RECALIBRATE] = True


def with_functions(inputs: ScenarioInputs, calibration: CalibrationResult | None, functions) -> ScenarioInputs:
    """``inputs`` plus the functions without observed items the viewer added, each in the typical version
    :meth:`CalibrationResult.with_missing` adds (an assumption); functions it has already are kept as they are."""
    if calibration is None:
        return inputs
    for fid in functions:
        if fid in calibration.missing_functions and fid not in inputs.functions:
            typical = calibration.with_missing(fid).functions[fid]
            inputs = inputs.updated({"functions": {fid: typical.model_dump()}})
    return inputs


def inputs_key(inputs: ScenarioInputs) -> str:
    """The cache key of a scenario: its inputs as sorted JSON."""
    return json.dumps(dump_inputs(inputs), sort_keys=True)


@cache.computed(max_entries=64)
def _evaluate(key: str):
    return evaluate(load_inputs(json.loads(key)))


@cache.computed(max_entries=32)
def _analysis(key: str, sweep: str | None):
    inputs = load_inputs(json.loads(key))
    return tradeoff_curve(inputs, function=sweep, points=101), sensitivity(inputs, rel_change=0.2)


@cache.computed(max_entries=32)
def _models(key: str, as_is_key: str):
    return compare_models(load_inputs(json.loads(key)), as_is=load_inputs(json.loads(as_is_key)))


def result_of(inputs: ScenarioInputs):
    """A scenario's result, cached by its inputs (reruns that change nothing are free)."""
    return _evaluate(inputs_key(inputs))


def results(inputs: ScenarioInputs, as_is_inputs: ScenarioInputs):
    """This scenario's and the as-is result."""
    return result_of(inputs), result_of(as_is_inputs)


def baseline() -> ScenarioInputs:
    return load_inputs(st.session_state["sc_base"])


def set_controls(inputs: ScenarioInputs) -> None:
    """Put a scenario's values into the controls (call from a callback, or before the controls render)."""
    for fid, fn in inputs.functions.items():
        st.session_state[f"place_{fid}"] = "as_is" if fn.central_share is None else fn.placement
        st.session_state[f"share_{fid}"] = int(round(fn.mean_share * 100))
    for key in GLOBALS:
        st.session_state[f"g_{key}"] = float(getattr(inputs.globals, key))


def start(viewer: Viewer, scenario_id: str | None) -> tuple[ScenarioInputs, CalibrationResult | None, list[str]]:
    """Initialise the session from the as-is model, or from ``?scenario=<id>`` once; after a recalibration
    start again from the new as-is (a loaded scenario stays as it was saved; the controls keep their values)."""
    base, calibration, notes = as_is(viewer)
    if st.session_state.pop(RECALIBRATE, False) or "sc_asis" not in st.session_state:
        fresh = dump_inputs(with_functions(load_inputs(base), calibration, st.session_state.get(ADDED, [])))
        st.session_state["sc_asis"] = fresh
        if "sc_base" in st.session_state and "sc_loaded" not in st.session_state:
            st.session_state["sc_base"] = fresh
    if scenario_id and st.session_state.get("sc_loaded") != scenario_id:
        st.session_state["sc_loaded"] = scenario_id
        try:
            sid = row_id(scenario_id, "scenario", "a saved scenario's number")
        except UrlValueError as exc:  # checked before any query: the as-is model stays on screen
            urlstate.bad_value(exc)
        else:
            if not load_saved(viewer, sid):
                st.warning(f"There is no saved scenario {md(scenario_id)!r}; starting from the as-is model.",
                           icon=":material/search_off:")
    if "sc_base" not in st.session_state:
        st.session_state["sc_base"] = st.session_state["sc_asis"]
        st.session_state[ORIGIN] = {"kind": "as_is"}
        set_controls(load_inputs(st.session_state["sc_base"]))
    return load_inputs(st.session_state["sc_asis"]), calibration, notes


def add_function(fid: str, calibration: CalibrationResult) -> None:
    """Callback: add a function without observed items to the as-is and the baseline, with typical defaults."""
    added = [*st.session_state.get(ADDED, []), fid]
    st.session_state[ADDED] = added
    for key in ("sc_asis", "sc_base"):
        st.session_state[key] = dump_inputs(with_functions(load_inputs(st.session_state[key]), calibration, [fid]))
    typical = load_inputs(st.session_state["sc_base"]).functions[fid]
    st.session_state[f"place_{fid}"] = "as_is" if typical.central_share is None else typical.placement
    st.session_state[f"share_{fid}"] = int(round(typical.mean_share * 100))


def load_saved(viewer: Viewer, scenario_id) -> bool:
    """Put a saved scenario on screen (controls, name, description, the link); False when there is none."""
    try:
        sid = int(scenario_id)
    except (TypeError, ValueError):  # the id as given (a link, a session value): not a number, no scenario
        return False
    if not 0 < sid <= ROW_ID_MAX:  # no stored id is that large (and the database cannot even compare it)
        return False
    with data.engine().connect() as conn:
        found = saved.get_scenario(conn, viewer, sid)
    if found is None:
        return False
    try:
        inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
    except InputError as exc:  # load_inputs refuses with InputError only
        st.error(f"“{md(found.name)}” cannot be opened: {md(exc)}", icon=":material/error:")
        return False
    st.session_state["sc_base"] = dump_inputs(inputs)
    st.session_state["sc_name"] = found.name
    st.session_state["sc_description"] = found.description or ""
    st.session_state["sc_loaded"] = str(sid)
    mark_saved(sid, found.name, found.owner, found.updated_at)
    set_controls(inputs)
    st.query_params["scenario"] = str(sid)
    return True


def mark_saved(sid: int, name: str, owner: str, updated_at) -> None:
    """The scenario on screen is the saved scenario ``sid`` (opened, or just saved)."""
    st.session_state[ORIGIN] = {"kind": "saved", "id": int(sid), "name": name, "owner": owner,
                                "updated_at": updated_at}


def forget_saved() -> None:
    """The scenario on screen is no longer a saved one: no name, description or link of one."""
    for key in ("sc_loaded", "sc_name", "sc_description"):
        st.session_state.pop(key, None)
    st.query_params.pop("scenario", None)


PRESET_BUTTONS = {"hybrid": "Hybrid"}  # the button's short name; its help says what the preset is
PRESET_HELP = {
    "as_is": "Every function where it is today",
    "centralised": "Every function in the hub",
    "decentralised": "Every function in the spokes",
    "hybrid": "Content production and analytics & reporting in the hub, everything else in the spokes",
}


def preset_buttons(as_is_inputs: ScenarioInputs) -> None:
    """The four starting points in a row that wraps two by two on a phone (whole labels at any width)."""
    with st.container(horizontal=True, gap="small"):
        for key, inputs in presets(as_is_inputs).items():
            st.button(PRESET_BUTTONS.get(key, PRESET_LABELS[key]), key=f"preset_{key}", on_click=_use_preset,
                      args=(key, dump_inputs(inputs)), width="stretch",
                      help=f"{PRESET_HELP[key]}: set every control to it")


def _use_preset(key: str, dumped: dict) -> None:
    """Callback: every control to the preset; the page then shows an unsaved scenario (not the one saved before)."""
    st.session_state["sc_base"] = dumped
    forget_saved()
    st.session_state[ORIGIN] = {"kind": "as_is"} if key == "as_is" else {"kind": "preset", "name": PRESET_LABELS[key]}
    set_controls(load_inputs(dumped))


def _placement_changed(fid: str) -> None:
    """Callback: a placement moves its (disabled) slider to what it means — 100 % for the hub, 0 % for the spokes,
    today's share for As today — and Hybrid to a split: today's share when that is one, else 50 %."""
    place = st.session_state.get(f"place_{fid}")
    today = load_inputs(st.session_state["sc_asis"]).functions.get(fid)
    now = int(round(today.mean_share * 100)) if today is not None else 50
    if place == "hub":
        share = 100
    elif place == "spokes":
        share = 0
    elif place == "hybrid":
        share = now if 0 < now < 100 else 50
        current = st.session_state.get(f"share_{fid}", share)
        share = current if 0 < current < 100 else share
    else:
        share = now
    st.session_state[f"share_{fid}"] = int(5 * round(share / 5)) if place == "hybrid" else share


def controls(base: ScenarioInputs) -> ScenarioInputs | None:
    """One row per function (placement, central share) and the global inputs; returns the scenario or None
    (with the reason shown) when a value is refused."""
    shares: dict[str, float | None] = {}
    st.caption("Where each function is done. As today keeps each stream of work where it is now; Hybrid splits the "
               "work: the slider is the share the hub does.")
    for fid in base.functions:  # the name above its placement, so all four choices show at any width
        b, c = st.columns([5, 3], vertical_alignment="bottom")
        place = b.segmented_control(f"**{function_label(fid)}**", list(PLACEMENTS), key=f"place_{fid}",
                                    format_func=PLACEMENTS.get, required=True, on_change=_placement_changed,
                                    args=(fid,))
        share = c.slider(f"Central share of {function_label(fid)}", 0, 100, key=f"share_{fid}", step=5, format="%d %%",
                         disabled=place != "hybrid", label_visibility="collapsed")
        shares[fid] = {"hub": 1.0, "spokes": 0.0, "as_is": None}.get(place or "hybrid", share / 100)
    g = st.columns(len(GLOBALS), vertical_alignment="bottom")
    changes = {}
    for col, (key, (label, lo, hi, step, form, help_)) in zip(g, GLOBALS.items()):
        changes[key] = col.number_input(label, min_value=lo, max_value=hi, step=step, format=form, key=f"g_{key}",
                                        help=help_)
    # only what the controls change: an untouched baseline stays exactly itself (and its cached results)
    shares = {f: s for f, s in shares.items() if s != base.functions[f].central_share}
    changes = {k: v for k, v in changes.items() if v != getattr(base.globals, k)}
    try:
        scenario = base.with_shares(shares) if shares else base
        return scenario.with_globals(**changes) if changes else scenario
    except InputError as exc:
        st.warning("This scenario cannot be computed: " + md("; ".join(exc.problems)), icon=":material/block:")
        return None


def headline(result, baseline_result) -> None:
    """The organisation's totals against the as-is, coloured by whether the change is better (lower cost, lead
    time, handoffs and unanswered items; a higher share within SLA) or worse."""
    delta = totals_delta(result, baseline_result)
    with st.container(horizontal=True, gap="small"):  # six in a row, or wrapped: whole labels and values
        for metric, row in delta.iterrows():
            shown = row.better is not None and not _too_small(metric, row.delta)
            change = fmt_delta(metric, row.delta) if shown else None
            colour = ("green" if row.better else "red") if shown else "off"
            st.metric(LABELS.get(metric, row.label), fmt_metric(metric, row.value), delta=change, delta_color=colour,
                      delta_arrow="up" if row.delta > 0 else "down", border=True,
                      delta_description="vs as-is" if change else None)
    if result.flags:
        st.warning(bullets(result.flags), icon=":material/warning:")


def _too_small(metric: str, d: float) -> bool:
    """A change that rounds to nothing at the precision the tile shows (no "+0.0 h" in colour)."""
    if metric.endswith("cost") or metric in COUNTS:
        return abs(d) < 0.5
    if metric.endswith("share"):
        return abs(d) < 0.0005
    return abs(d) < 0.05


def fmt_metric(metric: str, v: float) -> str:
    """A total as a tile shows it: money compact with €, counts whole, hours with a unit, shares in %, FTE."""
    if metric.endswith("cost"):
        return fmt.money(v, compact_form=True)
    if metric.endswith("_h"):
        return fmt.hours(v)
    if metric.endswith("share"):
        return fmt.percent(v, 1)
    if metric in COUNTS:
        return fmt.count(v)
    return fmt.fte(v).removesuffix(" FTE")  # the tile's label says FTE; its value stays whole in a narrow tile


def fmt_delta(metric: str, d: float) -> str:
    """A change against the as-is in the tile's unit, with its sign."""
    if metric.endswith("cost"):
        return fmt.signed_money(d, compact_form=True)
    if metric.endswith("_h"):
        return fmt.signed_hours(d)
    if metric.endswith("share"):
        return fmt.points(d)
    if metric in COUNTS:
        return fmt.signed_count(d)
    return ("+" if d > 0 else "") + fmt.fte(d)


BETTER_CSS, WORSE_CSS = f"color: {GREEN}; font-weight: 600", f"color: {RED}; font-weight: 600"


def better_worse(lower_is_better: bool = True, tolerance: float = 0.05):
    """A Styler cell function: a change coloured green when better, red when worse, plain when it rounds to
    nothing (``tolerance``): the same rule as the tiles' deltas."""
    def css(value) -> str:
        if not isinstance(value, (int, float)) or value != value or abs(value) < tolerance:
            return ""
        return BETTER_CSS if (value < 0) == lower_is_better else WORSE_CSS
    return css


def per_spoke(result, baseline_result, units: pd.DataFrame) -> None:
    """Per spoke: whole items, handoffs and unanswered items a month, lead times (with the change of the median,
    green when faster, red when slower), SLA, FTE and cost; then the map."""
    delta = spoke_delta(result, baseline_result)
    sp = result.spokes
    view = pd.DataFrame({
        "Spoke": sp.name, "Items / month": sp.items_per_month.round(), "Handoffs / month": sp.handoffs_per_month.round(),
        "Unanswered / month": sp.unanswered_per_month.round(), "Median lead time": sp.lead_time_median_h,
        "Δ median": (delta.lead_time_median_h_delta.round(1) + 0.0), "Mean lead time": sp.lead_time_mean_h,
        "Within SLA": sp.sla_met_share * 100, "Local FTE": sp.local_fte, "Cost / year": sp.total_cost.round(),
        "SLA missed by": sp.breached_functions,
    })
    styled = view.style.map(better_worse(lower_is_better=True), subset=["Δ median"])
    st.dataframe(styled, hide_index=True, column_config={
        "Items / month": st.column_config.NumberColumn(format=fmt.COUNT),
        "Handoffs / month": st.column_config.NumberColumn(format=fmt.COUNT, help="Hub↔spoke handoffs"),
        "Unanswered / month": st.column_config.NumberColumn(
            format=fmt.COUNT, help="Items nobody picks up before the sender gives up"),
        "Median lead time": st.column_config.NumberColumn(format=fmt.HOURS),
        "Δ median": st.column_config.NumberColumn(format="%+.1f h", help="Against the as-is: green is faster, "
                                                                          "red slower"),
        "Mean lead time": st.column_config.NumberColumn(format=fmt.HOURS),
        "Within SLA": st.column_config.ProgressColumn(format=fmt.PERCENT, min_value=0, max_value=100),
        "Local FTE": st.column_config.NumberColumn(format=fmt.FTE),
        "Cost / year": st.column_config.NumberColumn(format=fmt.MONEY, help="The spoke's own people and platforms "
                                                                           "and the hub's cost of its work"),
    })
    st.plotly_chart(scenario_charts.scenario_map(units, delta), config={"displayModeBar": False})


def tradeoffs(inputs: ScenarioInputs) -> None:
    fids = list(inputs.functions)
    choice = st.selectbox("Sweep the central share of", [None, *fids], key="sweep_fn",
                          format_func=lambda f: "all functions together" if f is None else function_label(f))
    curve, sens = _analysis(inputs_key(inputs), choice)
    names = {u.id: u.label for u in inputs.units}
    st.plotly_chart(scenario_charts.tradeoff(curve, names=names), config={"displayModeBar": False})
    if len(curve.steps):
        steps = zip(curve.steps.share, curve.steps.why)
        st.caption("Where the curve steps: " + "; ".join(f"at {fmt.percent(share)} central, {md(why)}"
                                                         for share, why in steps) + ".")
    left, right = st.columns(2)
    left.plotly_chart(scenario_charts.tornado(sens, "cost"), config={"displayModeBar": False})
    right.plotly_chart(scenario_charts.tornado(sens, "lead"), config={"displayModeBar": False})
    st.caption("Each input moved 20 % down and up with everything else fixed; the longest bars matter most. Lead "
               "time here is the **mean** over items (it responds to every input); the tiles above show the "
               "median.")


TOTALS_COLUMNS = {  # totals column: (label on the page, column format)
    "total_cost": ("Cost / year", fmt.MONEY), "fte": ("FTE", fmt.FTE), "handoffs_per_month": ("Handoffs / month", fmt.COUNT),
    "lead_time_median_h": ("Median lead time", fmt.HOURS), "lead_time_mean_h": ("Mean lead time", fmt.HOURS),
    "sla_met_share": ("Within SLA", fmt.PERCENT), "unanswered_per_month": ("Unanswered / month", fmt.COUNT),
    "compliance_risk_per_month": ("Non-compliant / month", fmt.COUNT), "duplication_fte": ("Duplicated FTE", fmt.FTE),
    "coordination_channels": ("Coordination channels", fmt.COUNT),
}


def totals_table(table: pd.DataFrame, first: str | None = None) -> None:
    """Scenarios' totals side by side (one row each), in the page's units: whole counts, € and %, hours."""
    view = pd.DataFrame(index=table.index)
    if first:
        view[first] = table[first]
    for col, (label, form) in TOTALS_COLUMNS.items():
        if col in table:
            values = table[col].astype(float)
            whole = form in (fmt.COUNT, fmt.MONEY)
            view[label] = values * 100 if col == "sla_met_share" else values.round() if whole else values
    st.dataframe(view, hide_index=first is not None, column_config={
        label: st.column_config.NumberColumn(format=form) for label, form in TOTALS_COLUMNS.values()})


def model_comparison(inputs: ScenarioInputs, as_is_inputs: ScenarioInputs) -> None:
    table = _models(inputs_key(inputs), inputs_key(as_is_inputs)).rename(columns={"label": "Model"})
    totals_table(table, first="Model")


def documentation() -> None:
    with st.expander("How the model works: formulas and sources"):
        st.markdown(MODEL_DOC.read_text(encoding="utf-8"))
