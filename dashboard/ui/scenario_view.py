"""The Scenarios page's sections: start point, controls, results, charts, saved scenarios, documentation.

State: the baseline inputs (as-is, or a loaded scenario) live in ``st.session_state["sc_base"]`` as a dumped
dict; every control has a key (``place_<function>``, ``share_<function>``, ``g_<global>``), and the
scenario is rebuilt from the baseline and the controls on each run — so changes recompute instantly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard.charts import scenario_charts
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.queries import scenarios as saved
from dashboard.queries.kpis import list_units
from dashboard.queries.observed import calibration_items
from dashboard.settings import get_settings
from dashboard import errors
from dashboard.ui import data
from dashboard.whatif.analysis import sensitivity, tradeoff_curve
from dashboard.whatif.calibration import CalibrationError, calibrate
from dashboard.whatif.inputs import (
    InputError, ScenarioInputs, default_inputs, dump_inputs, function_label, load_inputs,
)
from dashboard.whatif.model import PRESET_LABELS, compare_models, evaluate, presets, spoke_delta, totals_delta

MODEL_DOC = Path(__file__).resolve().parents[1] / "whatif" / "MODEL.md"
PLACEMENTS = {"hub": "Hub", "hybrid": "Hybrid", "spokes": "Spokes"}
CALIBRATION_DAYS = 30
GLOBALS = {  # key: (label, min, step, format, help)
    "fte_cost": ("FTE cost (€/year)", 1.0, 1000.0, "%.0f", "Yearly cost of one FTE where no unit or function sets its own"),
    "handoff_delay_hours": ("Handoff delay (h)", 0.0, 0.5, "%.1f", "Calendar hours an item waits at each hub↔spoke handoff"),
    "platform_cost": ("Platform cost (€/instance/year)", 0.0, 1000.0, "%.0f", "Licence and running cost of one platform instance"),
}


@st.cache_data(ttl=600, show_spinner="Calibrating the as-is model from observed work…", max_entries=8)
def as_is(url: str, viewer: Viewer) -> tuple[dict, pd.DataFrame | None, list[str]]:
    """Calibrated as-is inputs (dumped), the observed-vs-modelled fit, and notes. Falls back to typed defaults."""
    now = dt.datetime.now(dt.timezone.utc)
    with data.engine().connect() as conn:
        units = list_units(conn, viewer)
        try:  # spoke leads see scenarios, but not the organisation-wide items the calibration reads
            items = calibration_items(conn, viewer, now - dt.timedelta(days=CALIBRATION_DAYS), now)
        except NotPermitted:
            items = None
    spokes = units[units.kind == "spoke"]
    try:
        if items is None:
            raise CalibrationError("your role does not see the organisation-wide work items it is calibrated from.")
        result = calibrate(items, units, now=now)
        return dump_inputs(result.inputs), result.fit, list(result.flags)
    except CalibrationError as exc:
        fallback = default_inputs([(r.id, r.name) for r in spokes.itertuples()] or ["spoke"])
        return dump_inputs(fallback), None, [f"Not calibrated: {exc} Starting from typed defaults instead."]


def _key(inputs: ScenarioInputs) -> str:
    return json.dumps(dump_inputs(inputs), sort_keys=True)


@st.cache_data(show_spinner=False, max_entries=64)
def _evaluate(key: str):
    return evaluate(load_inputs(json.loads(key)))


@st.cache_data(show_spinner=False, max_entries=32)
def _analysis(key: str, sweep: str | None):
    inputs = load_inputs(json.loads(key))
    return tradeoff_curve(inputs, function=sweep, points=101), sensitivity(inputs, rel_change=0.2)


@st.cache_data(show_spinner=False, max_entries=32)
def _models(key: str, as_is_key: str):
    return compare_models(load_inputs(json.loads(key)), as_is=load_inputs(json.loads(as_is_key)))


def results(inputs: ScenarioInputs, as_is_inputs: ScenarioInputs):
    """This scenario's and the as-is result (cached by the inputs, so reruns that change nothing are free)."""
    return _evaluate(_key(inputs)), _evaluate(_key(as_is_inputs))


def baseline() -> ScenarioInputs:
    return load_inputs(st.session_state["sc_base"])


def set_controls(inputs: ScenarioInputs) -> None:
    """Put a scenario's values into the controls (call from a callback, or before the controls render)."""
    for fid, fn in inputs.functions.items():
        st.session_state[f"place_{fid}"] = fn.placement
        st.session_state[f"share_{fid}"] = int(round(fn.central_share * 100))
    for key in GLOBALS:
        st.session_state[f"g_{key}"] = float(getattr(inputs.globals, key))


def start(viewer: Viewer, scenario_id: str | None) -> tuple[ScenarioInputs, pd.DataFrame | None, list[str]]:
    """Initialise the session from the as-is model, or from ``?scenario=<id>`` once."""
    url = get_settings().database_url
    base, fit, notes = as_is(url, viewer)
    st.session_state.setdefault("sc_asis", base)
    if scenario_id and st.session_state.get("sc_loaded") != scenario_id:
        st.session_state["sc_loaded"] = scenario_id
        if not load_saved(viewer, scenario_id):
            st.warning(f"There is no saved scenario {scenario_id!r}; starting from the as-is model.", icon=":material/search_off:")
    if "sc_base" not in st.session_state:
        st.session_state["sc_base"] = base
        set_controls(load_inputs(base))
    return load_inputs(st.session_state["sc_asis"]), fit, notes


def load_saved(viewer: Viewer, scenario_id) -> bool:
    try:
        sid = int(scenario_id)
    except (TypeError, ValueError):
        return False
    with data.engine().connect() as conn:
        found = saved.get_scenario(conn, viewer, sid)
    if found is None:
        return False
    try:
        inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
    except (InputError, ValueError) as exc:
        st.error(f"“{found.name}” cannot be opened: {exc}", icon=":material/error:")
        return False
    st.session_state["sc_base"] = dump_inputs(inputs)
    st.session_state["sc_name"] = found.name
    st.session_state["sc_description"] = found.description or ""
    set_controls(inputs)
    st.query_params["scenario"] = str(sid)
    return True


def preset_buttons(as_is_inputs: ScenarioInputs) -> None:
    options = presets(as_is_inputs)
    cols = st.columns(len(options))
    for col, (key, inputs) in zip(cols, options.items()):
        col.button(PRESET_LABELS[key], key=f"preset_{key}", on_click=_use_preset, args=(dump_inputs(inputs),),
                   use_container_width=True, help=f"Set every control to the {PRESET_LABELS[key].lower()} model")


def _use_preset(dumped: dict) -> None:
    st.session_state["sc_base"] = dumped
    st.session_state.pop("sc_loaded", None)
    st.session_state.pop("scenario_id", None)
    set_controls(load_inputs(dumped))


def controls(base: ScenarioInputs) -> ScenarioInputs | None:
    """One row per function (placement, central share) and the global inputs; returns the scenario or None
    (with the reason shown) when a value is refused."""
    shares: dict[str, float] = {}
    st.caption("Where each function is done. Hybrid splits the work: the slider is the share done centrally by the hub.")
    for fid in base.functions:
        a, b, c = st.columns([3, 3, 4], vertical_alignment="center")
        a.markdown(f"**{function_label(fid)}**")
        place = b.segmented_control(f"Placement of {function_label(fid)}", list(PLACEMENTS), key=f"place_{fid}",
                                    format_func=PLACEMENTS.get, label_visibility="collapsed", required=True)
        share = c.slider(f"Central share of {function_label(fid)}", 0, 100, key=f"share_{fid}", step=5, format="%d %%",
                         disabled=place != "hybrid", label_visibility="collapsed")
        shares[fid] = {"hub": 1.0, "spokes": 0.0}.get(place or "hybrid", share / 100)
    g = st.columns(len(GLOBALS))
    changes = {}
    for col, (key, (label, lo, step, form, help_)) in zip(g, GLOBALS.items()):
        changes[key] = col.number_input(label, min_value=lo, step=step, format=form, key=f"g_{key}", help=help_)
    try:
        return base.with_shares(shares).with_globals(**changes)
    except InputError as exc:
        st.warning("This scenario cannot be computed: " + "; ".join(exc.problems), icon=":material/block:")
        return None


def headline(result, baseline_result) -> None:
    delta = totals_delta(result, baseline_result)
    cols = st.columns(len(delta))
    for col, (metric, row) in zip(cols, delta.iterrows()):
        value = _fmt_metric(metric, row.value)
        change = None if row.delta == 0 else _fmt_delta(metric, row.delta)
        col.metric(row.label, value, delta=change, delta_color="normal" if row.improved else "inverse",
                   delta_arrow="up" if row.delta > 0 else "down", border=True,
                   delta_description="vs as-is" if change else None)
    for flag in result.flags:
        st.warning(flag, icon=":material/warning:")


def _fmt_metric(metric: str, v: float) -> str:
    if metric.endswith("cost"):
        return f"€{fmt.compact(v)}"
    if metric.endswith("_h"):
        return fmt.hours(v)
    if metric.endswith("share"):
        return fmt.percent(v)
    return fmt.compact(round(v, 1))


def _fmt_delta(metric: str, d: float) -> str:
    if metric.endswith("cost"):
        return f"{'+' if d > 0 else '-'}€{fmt.compact(abs(d))}"
    if metric.endswith("_h"):
        return f"{d:+.1f} h"
    if metric.endswith("share"):
        return f"{d * 100:+.1f} pts"
    return f"{d:+,.1f}"


def per_spoke(result, baseline_result, units: pd.DataFrame) -> None:
    delta = spoke_delta(result, baseline_result)
    left, right = st.columns([5, 4])
    with left:
        view = pd.DataFrame({
            "Spoke": result.spokes.name, "Items / month": result.spokes.items_per_month,
            "Handoffs / month": result.spokes.handoffs_per_month, "Median lead time (h)": result.spokes.lead_time_median_h,
            "Δ lead time (h)": delta.lead_time_median_h_delta, "Within SLA": result.spokes.sla_met_share * 100,
            "Local FTE": result.spokes.local_fte, "Cost / year": result.spokes.total_cost,
            "SLA missed by": result.spokes.breached_functions,
        })
        st.dataframe(view, hide_index=True, column_config={
            "Items / month": st.column_config.NumberColumn(format="localized"),
            "Handoffs / month": st.column_config.NumberColumn(format="localized"),
            "Median lead time (h)": st.column_config.NumberColumn(format="%.1f"),
            "Δ lead time (h)": st.column_config.NumberColumn(format="%+.1f"),
            "Within SLA": st.column_config.ProgressColumn(format="%.0f %%", min_value=0, max_value=100),
            "Local FTE": st.column_config.NumberColumn(format="%.0f"),
            "Cost / year": st.column_config.NumberColumn(format="€%.0f"),
        })
    with right:
        st.plotly_chart(scenario_charts.scenario_map(units, delta), config={"displayModeBar": False})


def tradeoffs(inputs: ScenarioInputs) -> None:
    fids = list(inputs.functions)
    choice = st.selectbox("Sweep the central share of", [None, *fids], key="sweep_fn",
                          format_func=lambda f: "all functions together" if f is None else function_label(f))
    curve, sens = _analysis(_key(inputs), choice)
    st.plotly_chart(scenario_charts.tradeoff(curve), config={"displayModeBar": False})
    left, right = st.columns(2)
    left.plotly_chart(scenario_charts.tornado(sens, "cost"), config={"displayModeBar": False})
    right.plotly_chart(scenario_charts.tornado(sens, "lead"), config={"displayModeBar": False})
    st.caption("Each input moved 20 % down and up with everything else fixed; the longest bars matter most.")


def model_comparison(inputs: ScenarioInputs, as_is_inputs: ScenarioInputs) -> None:
    table = _models(_key(inputs), _key(as_is_inputs))
    view = table[["label", "total_cost", "fte", "handoffs_per_month", "lead_time_median_h", "sla_met_share",
                  "compliance_risk_per_month", "duplication_fte", "coordination_channels"]]
    view.columns = ["Model", "Cost / year", "FTE", "Handoffs / month", "Median lead time (h)", "Within SLA",
                    "Non-compliant / month", "Duplicated FTE", "Coordination channels"]
    st.dataframe(view.assign(**{"Within SLA": view["Within SLA"] * 100}), hide_index=True, column_config={
        "Cost / year": st.column_config.NumberColumn(format="€%.0f"),
        "Median lead time (h)": st.column_config.NumberColumn(format="%.1f"),
        "Within SLA": st.column_config.NumberColumn(format="%.0f %%"),
        "Non-compliant / month": st.column_config.NumberColumn(format="%.1f"),
        "Handoffs / month": st.column_config.NumberColumn(format="localized"),
    })


def save_form(viewer: Viewer, inputs: ScenarioInputs, result) -> None:
    if not viewer.can_edit_scenarios:
        st.caption("Read-only: you can explore and compare scenarios; hub leads save them.")
        return
    with st.form("save_scenario"):
        name = st.text_input("Name", value=st.session_state.get("sc_name", ""), max_chars=200)
        description = st.text_area("Description", value=st.session_state.get("sc_description", ""), height=68)
        overwrite = st.checkbox("Overwrite a scenario with the same name")
        if not st.form_submit_button("Save scenario", type="primary"):
            return
    try:
        with data.engine().begin() as conn:
            sid = saved.save_scenario(conn, viewer, name=name, description=description, inputs=dump_inputs(inputs),
                                      inputs_version=inputs.inputs_version, results=result.as_record(), overwrite=overwrite)
    except saved.ScenarioExists as exc:
        st.warning(f"{exc} Tick “Overwrite” to replace it.", icon=":material/content_copy:")
        return
    except (ValueError, NotPermitted) as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the form above keeps the name and description
        data.write_failed(exc)
        return
    st.session_state.update(sc_name=name.strip(), sc_description=description, sc_loaded=str(sid))
    st.query_params["scenario"] = str(sid)
    st.success(f"Saved “{name.strip()}”. Share this page's link to show it to others.", icon=":material/check:")


def saved_list(viewer: Viewer) -> None:
    with data.engine().connect() as conn:
        listing = saved.list_scenarios(conn, viewer)
    if listing.empty:
        st.caption("No saved scenarios yet.")
        return
    tz = get_settings().tz
    labels = {int(r.id): f"{r.name} · {r.owner} · {pd.Timestamp(r.updated_at).tz_convert(tz):%d %b %H:%M}" for r in listing.itertuples()}
    chosen = st.selectbox("Saved scenario", list(labels), format_func=labels.get, key="saved_pick")
    a, b, c = st.columns(3)
    if a.button("Open", key="open_saved", use_container_width=True):
        if load_saved(viewer, chosen):
            st.rerun()
    if not viewer.can_edit_scenarios:
        pass
    elif b.button("Duplicate", key="dup_saved", use_container_width=True):
        try:
            with data.engine().begin() as conn:
                new_id = saved.duplicate_scenario(conn, viewer, chosen)
            st.success(f"Copied as scenario {new_id}.")
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc, "Nothing was copied.")
    if viewer.can_edit_scenarios and c.button("Delete", key="del_saved", use_container_width=True):
        try:
            with data.engine().begin() as conn:
                saved.delete_scenario(conn, viewer, chosen)
            st.rerun()
        except NotPermitted as exc:
            st.warning(str(exc))
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc, "Nothing was deleted.")
    picked = st.multiselect("Compare side by side", list(labels), format_func=labels.get, key="compare_pick",
                            max_selections=6, placeholder="Choose two or more")
    if len(picked) >= 2:
        _compare_saved(viewer, picked, labels)


def _compare_saved(viewer: Viewer, ids: list[int], labels: dict[int, str]) -> None:
    rows = {}
    with data.engine().connect() as conn:
        for sid in ids:
            found = saved.get_scenario(conn, viewer, sid)
            if found is not None:
                inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
                rows[found.name] = evaluate(inputs).totals.as_dict()
    table = pd.DataFrame(rows).T[["total_cost", "fte", "handoffs_per_month", "lead_time_median_h", "sla_met_share",
                                  "compliance_risk_per_month"]]
    table.columns = ["Cost / year", "FTE", "Handoffs / month", "Median lead time (h)", "Within SLA", "Non-compliant / month"]
    st.dataframe(table, column_config={"Cost / year": st.column_config.NumberColumn(format="€%.0f"),
                                       "Within SLA": st.column_config.NumberColumn(format="percent")})


def documentation(fit: pd.DataFrame | None, notes: list[str]) -> None:
    with st.expander("How the model works: formulas and sources"):
        st.markdown(MODEL_DOC.read_text(encoding="utf-8") if MODEL_DOC.exists() else "See the README.")
    with st.expander("Calibration: observed vs modelled cycle times"):
        st.caption(f"The as-is model is estimated from the last {CALIBRATION_DAYS} days of work items.")
        for note in notes:
            st.write(f"- {note}")
        if fit is not None and not fit.empty:
            st.dataframe(fit, column_config={c: st.column_config.NumberColumn(format="%.2f") for c in fit.columns})

