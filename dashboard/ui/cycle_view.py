"""The Operating model page: the cycle Assess → Design → Implement → Evaluate, and the shared goal's attribution.

- Assess: a maturity self-assessment per function (structure, processes, data management, technology, 1–5
  against guidance), the radar of the latest vs the previous one, the trend and the history.
- Design: the current target operating model (promoted from a saved scenario) and promoting another one, with
  the planned changes it implies and the what-if model's predicted effect of each.
- Implement: the planned changes as an editable table (owner, due date, status, done date); a change marked
  done becomes a dated annotation on the overview's and the spoke pages' trend charts.
- Evaluate / Attribution: ``dashboard.ui.evaluation_view`` / ``dashboard.ui.attribution_view``.

Reads go through the cached accessors below (cleared after each write); writing needs
``Viewer.can_edit_operating_model`` (hub leads, admins) — everyone else sees the same page read-only.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts import cycle_charts
from dashboard.domain import format as fmt
from dashboard.domain import maturity
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.vocabulary import FUNCTIONS, function_label
from dashboard.queries import cycle as q
from dashboard.queries import scenarios as saved
from dashboard.services import cycle as cycle_service
from dashboard.settings import get_settings
from dashboard.ui import data, widgets
from dashboard.ui.text import md

PLACEMENT_LABELS = {"hub": "Hub", "spokes": "Spokes", "hybrid": "Hybrid"}
STATUS_LABELS = {"planned": "Planned", "done": "Done", "dropped": "Dropped"}
READ_ONLY = "Read-only: hub leads and admins {what}."


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=32)
def _assessments(url: str, viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return q.assessments(conn, viewer)


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=32)
def _target(url: str, viewer: Viewer) -> q.TargetModel | None:
    with data.engine().connect() as conn:
        return q.target_model(conn, viewer)


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=32)
def _scenarios(url: str, viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return saved.list_scenarios(conn, viewer)


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=32)
def _preview(url: str, viewer: Viewer, scenario_id: int, target_id: int | None,
             baseline: dict | None) -> list[dict] | None:
    """What promoting a scenario would change: against the current target model, or (``baseline``) against the
    calibrated as-is when there is none. The as-is is part of the key, so a recalibrated one is never stale."""
    with data.engine().connect() as conn:
        return cycle_service.preview_promotion(conn, viewer, scenario_id, baseline=baseline)


def _baseline(url: str, viewer: Viewer) -> dict:
    """The as-is the Scenarios page starts from (calibrated from observed work, cached there)."""
    from dashboard.ui.scenario_view import as_is

    return as_is(url, viewer)[0]


def _written() -> None:
    """After a write: every cached read of this page and the charts' annotations are out of date."""
    for accessor in (_assessments, _target, _preview, widgets.recent_changes):
        accessor.clear()


def _today() -> dt.date:
    """Today in the organisation's zone (what "done today" means to the person marking it)."""
    return dt.datetime.now(get_settings().tz).date()


def _when(ts) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return fmt.moment(pd.Timestamp(ts), get_settings().tz)


def _day(value) -> str:
    return "—" if value is None or pd.isna(value) else fmt.day(pd.Timestamp(value))


def render(viewer: Viewer) -> None:
    url = get_settings().database_url
    assess_tab, design_tab, implement_tab, evaluate_tab, attribution_tab = st.tabs(
        ["Assess", "Design", "Implement", "Evaluate", "Attribution"])
    try:
        with assess_tab:
            assess(url, viewer)
        with design_tab:
            design(url, viewer)
        with implement_tab:
            implement(url, viewer)
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    with evaluate_tab:
        from dashboard.ui import evaluation_view

        evaluation_view.render(viewer)
    with attribution_tab:
        from dashboard.ui import attribution_view

        attribution_view.render(viewer)


# --- Assess ---------------------------------------------------------------------------------------------------


def assess(url: str, viewer: Viewer) -> None:
    st.caption("Score each function from 1 (ad hoc) to 5 (optimised) on the four components of an operating "
               "model; repeat every quarter or so and watch the trend.")
    function = st.selectbox("Function", list(FUNCTIONS), format_func=function_label, key="om_function")
    every = _assessments(url, viewer)
    history = every[every.function == function]
    latest, previous = maturity.latest_two(history)
    left, right = st.columns(2)
    with left:
        if latest is None:
            st.info(f"{function_label(function)} has not been assessed yet."
                    + (" Score it below." if viewer.can_edit_operating_model else ""), icon=":material/radar:")
        else:
            st.plotly_chart(cycle_charts.radar(latest, previous, latest_label=f"Latest ({_day(latest.assessed_at)})",
                                               previous_label=f"Previous ({_day(previous.assessed_at)})"
                                               if previous is not None else "Previous"),
                            config={"displayModeBar": False}, key="om_radar")
            st.caption(maturity.summary(latest, previous) + f" · by {md(latest.author)}, {_when(latest.assessed_at)}")
    with right:
        if len(history) >= 2:
            st.plotly_chart(cycle_charts.trend(maturity.trend(history)), config={"displayModeBar": False},
                            key="om_trend")
        elif latest is not None:
            st.caption("The trend appears after the second assessment.")
    if viewer.can_edit_operating_model:
        _assessment_form(viewer, function, latest)
    else:
        st.caption(READ_ONLY.format(what="record assessments"))
    _assessment_table(history)
    _functions_summary(every)


def _functions_summary(every: pd.DataFrame) -> None:
    """Every function's latest overall score beside its change since the previous assessment."""
    if every.empty:
        return
    rows = []
    for function in FUNCTIONS:
        latest, previous = maturity.latest_two(every[every.function == function])
        rows.append({"Function": function_label(function),
                     "Overall": None if latest is None else maturity.overall(latest),
                     "Since previous": None if latest is None or previous is None
                     else maturity.overall(latest) - maturity.overall(previous),
                     "Last assessed": "not yet" if latest is None else _when(latest.assessed_at)})
    with st.expander("All functions: latest overall maturity"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="om_all_functions", column_config={
            "Overall": st.column_config.ProgressColumn(format="%.1f / 5", min_value=0, max_value=5),
            "Since previous": st.column_config.NumberColumn(format="%+.2f", help="Change of the overall score"),
        })


def _assessment_form(viewer: Viewer, function: str, latest) -> None:
    with st.form(f"om_assess_{function}"):
        st.markdown(f"**New assessment of {function_label(function)}**")
        scores = {}
        for component in maturity.COMPONENTS:
            default = int(latest[component]) if latest is not None else 1
            scores[component] = st.radio(
                maturity.COMPONENT_LABELS[component], list(maturity.LEVELS), index=default - 1,
                format_func=lambda level, c=component: maturity.level_text(c, level), key=f"om_{function}_{component}")
        note = st.text_area("Note (optional)", key=f"om_{function}_note", max_chars=2000, height=68,
                            placeholder="What changed, what is planned next")
        if not st.form_submit_button("Save assessment", type="primary"):
            return
    try:
        with data.engine().begin() as conn:
            cycle_service.save_assessment(conn, viewer, {"function": function, "note": note, **scores})
    except maturity.AssessmentError as exc:
        st.warning("Not saved: " + "; ".join(exc.problems), icon=":material/block:")
        return
    except NotPermitted as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the form keeps the scores and the note
        data.write_failed(exc)
        return
    _written()
    st.session_state["om_flash"] = f"Saved the assessment of {function_label(function)}."
    st.rerun()


def _assessment_table(history: pd.DataFrame) -> None:
    if history.empty:
        return
    st.markdown("**Past assessments**")
    view = history.sort_values("assessed_at", ascending=False)
    table = pd.DataFrame({
        "Date": [_when(t) for t in view.assessed_at], "Author": view.author,
        **{maturity.COMPONENT_LABELS[c]: view[c] for c in maturity.COMPONENTS},
        "Overall": view.overall, "Note": view.note.fillna(""),
    })
    st.dataframe(table, hide_index=True, key="om_history", column_config={
        "Overall": st.column_config.NumberColumn(format="%.1f"),
        **{maturity.COMPONENT_LABELS[c]: st.column_config.NumberColumn(format="%d") for c in maturity.COMPONENTS},
    })


# --- Design ---------------------------------------------------------------------------------------------------


def _shares(share) -> str:
    return "—" if share is None or pd.isna(share) else f"{fmt.percent(float(share))} central"


def _move(row) -> str:
    return (f"{PLACEMENT_LABELS.get(row['from_placement'], row['from_placement'])} ({_shares(row['from_share'])}) → "
            f"{PLACEMENT_LABELS.get(row['to_placement'], row['to_placement'])} ({_shares(row['to_share'])})")


def _spokes(units, names: dict[str, str]) -> str:
    listed = [u for u in (units.split(",") if isinstance(units, str) else units or []) if u]
    return ", ".join(names.get(u, u) for u in listed) if listed else "All spokes"


PREDICTED = {  # key of a stored prediction: (column, lower is better), the same looks as the Evaluate tab's
    "lead_time_h": ("Lead time (mean)", True), "handoffs": ("Handoffs per item", True),
    "cost_per_year": ("Cost / year", True), "sla_share": ("Within SLA", False),
}


def _predicted_value(key: str, value) -> str:
    if value is None:
        return "unbounded" if key == "lead_time_h" else "—"
    if key == "lead_time_h":
        return fmt.hours(value)
    if key == "cost_per_year":
        return fmt.money(value, compact_form=True)  # as the Evaluate tab shows the same prediction
    if key == "sla_share":
        return fmt.percent(value, 1)
    return f"{value:,.2f}"


def _predicted_columns(predicted: dict | None) -> dict[str, str]:
    out = {}
    for key, (label, _lower) in PREDICTED.items():
        pair = (predicted or {}).get(key) or {}
        out[label] = (f"{_predicted_value(key, pair.get('before'))} → {_predicted_value(key, pair.get('after'))}"
                      if pair else "—")
    return out


def _predicted_direction(predicted: dict | None) -> dict[str, bool | None]:
    """Per predicted column: True when the change makes it better, False worse, None unchanged or unknown."""
    out = {}
    for key, (label, lower) in PREDICTED.items():
        pair = (predicted or {}).get(key) or {}
        before, after = pair.get("before"), pair.get("after")
        if key == "lead_time_h" and (before is None) != (after is None) and pair:  # None: an unbounded queue
            out[label] = after is not None
        elif before is None or after is None or abs(after - before) <= 1e-9 * max(1.0, abs(before)):
            out[label] = None
        else:
            out[label] = (after < before) == lower
    return out


def styled_changes(table: pd.DataFrame, directions: list[dict[str, bool | None]]):
    """The changes table with each predicted before → after green when the change makes it better, red when
    worse (the Scenarios page's rule)."""
    from dashboard.ui.scenario_view import BETTER_CSS, WORSE_CSS

    def paint(frame: pd.DataFrame) -> pd.DataFrame:
        css = pd.DataFrame("", index=frame.index, columns=frame.columns)
        for i, direction in zip(frame.index, directions):
            for label, better in direction.items():
                if label in css.columns and better is not None:
                    css.at[i, label] = BETTER_CSS if better else WORSE_CSS
        return css
    return table.style.apply(paint, axis=None)


def changes_table(changes, names: dict[str, str], *, status: bool = True):
    """The planned changes, one row each, the predicted effects coloured by better or worse (a pandas Styler;
    its ``.data`` is the table)."""
    rows, directions = [], []
    for row in (changes.to_dict("records") if isinstance(changes, pd.DataFrame) else changes):
        rows.append({"Change": row["label"], "From → to": _move(row), "Spokes": _spokes(row.get("units"), names),
                     **_predicted_columns(row.get("predicted")),
                     **({"Status": STATUS_LABELS.get(row.get("status"), row.get("status"))} if status else {})})
        directions.append(_predicted_direction(row.get("predicted")))
    return styled_changes(pd.DataFrame(rows).reset_index(drop=True), directions)


def design(url: str, viewer: Viewer) -> None:
    st.page_link("pages/scenarios_page.py", label="Design and save scenarios on the Scenarios page",
                 icon=":material/tune:")
    units = data.units(url, viewer)
    names = dict(zip(units.id, units.name))
    target = _target(url, viewer)
    st.markdown("**Current target operating model**")
    if target is None:
        st.info("No target operating model yet: promote a saved scenario below.", icon=":material/flag:")
    else:
        source = f" (scenario #{target.scenario_id})" if target.scenario_id is not None else ""
        st.markdown(f"“{md(target.scenario_name)}”{source}, promoted by {md(target.promoted_by)} "
                    f"on {_when(target.promoted_at)}." + (f" Note: {md(target.note)}" if target.note else ""))
        if target.changes.empty:
            st.caption("It needs no change: every function is already where this model puts it.")
        else:
            st.dataframe(changes_table(target.changes, names), hide_index=True, key="om_target_changes")
            st.caption("Predicted effect of each change on its function, from the what-if model (before → after, "
                       "green when better, red when worse): mean lead time per item, hub↔spoke handoffs per item, "
                       "the function's cost per year and its share of items within SLA.")
    st.markdown("**Promote a scenario to the target model**")
    scenarios = _scenarios(url, viewer)
    if scenarios.empty:
        st.caption("No saved scenarios yet: save one on the Scenarios page first.")
        return
    labels = {int(r.id): f"{r.name} · {r.owner} · {_when(r.updated_at)}" for r in scenarios.itertuples()}
    chosen = st.selectbox("Saved scenario", list(labels), format_func=labels.get, key="om_scenario")
    with st.spinner("Comparing the scenario with the current operating model…"):
        try:
            preview = _preview(url, viewer, int(chosen), target.id if target is not None else None,
                               None if target is not None else _baseline(url, viewer))
        except cycle_service.CycleError as exc:
            st.warning(str(exc), icon=":material/block:")
            return
    if preview is None:
        st.warning("That scenario no longer exists: choose another one.", icon=":material/search_off:")
        return
    basis = "the current target model (with its changes not yet done)" if target is not None else \
        "the as-is organisation (the model the Scenarios page starts from, calibrated from observed work)"
    if preview:
        st.caption(f"Promoting it plans these changes, compared with {basis}:")
        st.dataframe(changes_table(preview, names, status=False), hide_index=True, key="om_preview")
    else:
        st.caption(f"It moves no function compared with {basis}: promoting it plans no change.")
    if not viewer.can_edit_operating_model:
        st.caption(READ_ONLY.format(what="promote scenarios"))
        return
    note = st.text_input("Note (optional)", key="om_promote_note", max_chars=500,
                         placeholder="Why this model, agreed where")
    if st.button("Promote to target model", type="primary", key="om_promote"):
        _promote(url, viewer, int(chosen), labels[int(chosen)].split(" · ")[0], note, target)


def _promote(url: str, viewer: Viewer, scenario_id: int, name: str, note: str, target) -> None:
    baseline = None if target is not None else _baseline(url, viewer)
    try:
        with st.spinner("Promoting…"):
            with data.engine().begin() as conn:
                new_id = cycle_service.promote_scenario(conn, viewer, scenario_id, baseline=baseline, note=note)
    except (cycle_service.CycleError, NotPermitted) as exc:
        st.warning(str(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was promoted.")
        return
    if new_id is None:
        st.warning("That scenario no longer exists: choose another one.", icon=":material/search_off:")
        return
    _written()
    st.session_state["om_flash"] = f"“{md(name)}” is now the target operating model (#{new_id})."
    st.rerun()


# --- Implement ------------------------------------------------------------------------------------------------


def implement(url: str, viewer: Viewer) -> None:
    target = _target(url, viewer)
    if target is None:
        st.info("Nothing to implement yet: promote a scenario to the target model on the Design tab.",
                icon=":material/construction:")
        return
    if target.changes.empty:
        st.info(f"“{md(target.scenario_name)}” plans no change.", icon=":material/construction:")
        return
    st.caption(f"Changes planned by “{md(target.scenario_name)}”. A change marked done is dated (today unless you "
               "pick a day) and appears as a dashed line on the overview's and the touched spokes' trend charts.")
    changes = target.changes
    units = data.units(url, viewer)
    names = dict(zip(units.id, units.name))
    view = pd.DataFrame({
        "id": changes.id.astype(int), "version": changes.version.astype(int), "Change": changes.label,
        "Spokes": [_spokes(u, names) for u in changes.units],
        "Owner": changes.owner.fillna(""), "Due": pd.to_datetime(changes.due_on).dt.date,
        "Status": changes.status, "Done on": pd.to_datetime(changes.done_on).dt.date,
    })
    done = int((changes.status == "done").sum())
    st.progress(done / len(changes), text=f"{done} of {len(changes)} change{'s' if len(changes) != 1 else ''} done")
    if not viewer.can_edit_operating_model:
        st.dataframe(view.drop(columns=["id", "version"]).assign(Status=view.Status.map(STATUS_LABELS)),
                     hide_index=True, key="om_changes_read", placeholder="—", column_config={
                         "Due": st.column_config.DateColumn(format=fmt.DAY),
                         "Done on": st.column_config.DateColumn(format=fmt.DAY)})
        st.caption(READ_ONLY.format(what="update planned changes"))
        return
    _mark_done_form(viewer, changes)
    st.markdown("**Owners, due dates and status**")
    generation = st.session_state.get("om_editor_generation", 0)
    edited = st.data_editor(
        view, hide_index=True, key=f"om_changes_{target.id}_{generation}", num_rows="fixed", placeholder="—",
        disabled=["id", "version", "Change", "Spokes"], column_order=["Change", "Spokes", "Owner", "Due", "Status", "Done on"],
        column_config={
            "Owner": st.column_config.TextColumn(max_chars=320, help="Who makes the change happen"),
            "Due": st.column_config.DateColumn(format=fmt.DAY),
            "Status": st.column_config.SelectboxColumn(options=list(STATUS_LABELS), required=True,
                                                       help="planned → done (or dropped)"),
            "Done on": st.column_config.DateColumn(format=fmt.DAY, max_value=_today(),
                                                   help="Left empty when marked done: today"),
        })
    if st.button("Save changes", type="primary", key="om_save_changes"):
        _save_changes(viewer, view, edited)


def _mark_done_form(viewer: Viewer, changes: pd.DataFrame) -> None:
    """The common step in one go: pick a planned change, say when it was done (today by default)."""
    open_ = changes[changes.status == "planned"]
    if open_.empty:
        return
    today = _today()
    labels = {int(r.id): r.label for r in open_.itertuples()}
    versions = {int(r.id): int(r.version) for r in open_.itertuples()}
    with st.form("om_mark_done"):
        left, mid, right = st.columns([5, 3, 2], vertical_alignment="bottom")
        chosen = left.selectbox("Mark a change done", list(labels), format_func=labels.get, key="om_done_pick")
        day = mid.date_input("Done on", value=today, max_value=today, key="om_done_day", format="DD/MM/YYYY")
        if not right.form_submit_button("Mark done", type="primary"):
            return
    try:
        with data.engine().begin() as conn:
            result = cycle_service.update_change(conn, viewer, int(chosen), version=versions[int(chosen)], status="done",
                                     done_on=day, today=today)
    except (cycle_service.StaleChange, cycle_service.CycleError, NotPermitted) as exc:
        if isinstance(exc, cycle_service.StaleChange):
            _written()  # the next run reads the colleague's version
        st.warning(str(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was marked done.")
        return
    if result is None:
        st.warning("That change no longer exists (a newer target model replaced it).", icon=":material/search_off:")
        return
    _written()
    st.session_state["om_editor_generation"] = st.session_state.get("om_editor_generation", 0) + 1
    st.session_state["om_flash"] = (f"“{labels[int(chosen)]}” done on {fmt.day(day)}: it now shows as a dashed line "
                                    "on the trend charts of the spokes it touches.")
    st.rerun()


def _cell(value):
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def edits(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[int, int, str, dict]]:
    """What the person changed in the Implement table: (change id, version read, label, fields for
    services.cycle.update_change) per edited row. A done date typed on a planned change marks it done."""
    updates = []
    for (_, old), (_, new) in zip(before.iterrows(), after.iterrows()):
        fields = {}
        if (_cell(new.Owner) or "").strip() != (_cell(old.Owner) or ""):
            fields["owner"] = _cell(new.Owner)
        if _cell(new.Due) != _cell(old.Due):
            fields["due_on"] = _cell(new.Due)
        status = new.Status or old.Status
        if _cell(new["Done on"]) is not None and _cell(old["Done on"]) is None and status == old.Status == "planned":
            status = "done"
        if status != old.Status:
            fields["status"] = status
        if _cell(new["Done on"]) != _cell(old["Done on"]) or "status" in fields:
            fields["done_on"] = _cell(new["Done on"])
            fields["status"] = status
        if fields:
            updates.append((int(old.id), int(old.version), str(old.Change), fields))
    return updates


def _save_changes(viewer: Viewer, before: pd.DataFrame, after: pd.DataFrame) -> None:
    updates = edits(before, after)
    if not updates:
        st.info("Nothing changed.", icon=":material/info:")
        return
    problems, saved_labels = [], []
    for change_id, version, label, fields in updates:
        try:  # one transaction per change: a refused one does not undo the others
            with data.engine().begin() as conn:
                result = cycle_service.update_change(conn, viewer, change_id, version=version, today=_today(), **fields)
        except (cycle_service.StaleChange, cycle_service.CycleError, NotPermitted) as exc:
            problems.append(f"{label}: {exc}")
            if isinstance(exc, cycle_service.StaleChange):
                _written()  # the next run reads the colleague's version
            continue
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc)
            return
        if result is None:
            problems.append(f"{label}: it no longer exists (a newer target model replaced it).")
        else:
            saved_labels.append(label)
    if saved_labels:
        _written()
    if problems:
        for problem in problems:
            st.warning(problem, icon=":material/block:")
        if saved_labels:
            st.success("Saved: " + "; ".join(saved_labels), icon=":material/check:")
        return
    st.session_state["om_editor_generation"] = st.session_state.get("om_editor_generation", 0) + 1
    st.session_state["om_flash"] = "Saved: " + "; ".join(saved_labels) + "."
    st.rerun()


def flash() -> None:
    """The message of the write that led to this run (kept across st.rerun)."""
    message = st.session_state.pop("om_flash", None)
    if message:
        st.success(message, icon=":material/check:")
