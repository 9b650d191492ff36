"""The Design tab: the current target operating model with its planned changes, and promoting a saved scenario
to be the next one — the changes it would plan, against the current target model (or the calibrated as-is when
there is none), each with the what-if model's predicted effect, green when better and red when worse."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.queries import scenarios
from dashboard.queries.cycle import TargetModel
from dashboard.services import cycle as cycle_service
from dashboard.ui import cache, data, flash
from dashboard.ui.operating_model import common
from dashboard.ui.text import md

PREDICTED = {  # key of a stored prediction: (column, lower is better), the same looks as the Evaluate tab's
    "lead_time_h": ("Lead time (mean)", True), "handoffs": ("Handoffs per item", True),
    "cost_per_year": ("Cost / year", True), "sla_share": ("Within SLA", False),
}


@cache.reads("scenarios", max_entries=32)
def _scenarios(viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return scenarios.list_scenarios(conn, viewer)


@cache.reads("cycle", "scenarios", max_entries=32)
def _preview(viewer: Viewer, scenario_id: int, target_id: int | None, baseline: dict | None) -> list[dict] | None:
    """What promoting a scenario would change: against the current target model, or (``baseline``) against the
    calibrated as-is when there is none. The as-is is part of the key, so a recalibrated one is never stale."""
    with data.engine().connect() as conn:
        return cycle_service.preview_promotion(conn, viewer, scenario_id, baseline=baseline)


def _baseline(viewer: Viewer) -> dict:
    """The as-is the Scenarios page starts from (calibrated from observed work, cached there)."""
    from dashboard.ui.scenario_view import as_is

    return as_is(viewer)[0]


def render(viewer: Viewer) -> None:
    st.page_link("pages/scenarios_page.py", label="Design and save scenarios on the Scenarios page",
                 icon=":material/tune:")
    names = common.unit_names(viewer)
    current = common.target(viewer)
    _current_target(current, names)
    st.markdown("**Promote a scenario to the target model**")
    saved = _scenarios(viewer)
    if saved.empty:
        st.caption("No saved scenarios yet: save one on the Scenarios page first.")
        return
    labels = {int(r.id): f"{r.name} · {r.owner} · {common.when(r.updated_at)}" for r in saved.itertuples()}
    chosen = st.selectbox("Saved scenario", list(labels), format_func=labels.get, key="om_scenario")
    with st.spinner("Comparing the scenario with the current operating model…"):
        try:
            preview = _preview(viewer, int(chosen), current.id if current is not None else None,
                               None if current is not None else _baseline(viewer))
        except cycle_service.CycleError as exc:
            st.warning(md(exc), icon=":material/block:")
            return
    if preview is None:
        st.warning("That scenario no longer exists: choose another one.", icon=":material/search_off:")
        return
    basis = "the current target model (with its changes not yet done)" if current is not None else \
        "the as-is organisation (the model the Scenarios page starts from, calibrated from observed work)"
    if preview:
        st.caption(f"Promoting it plans these changes, compared with {basis}:")
        st.dataframe(changes_table(preview, names, status=False), hide_index=True, key="om_preview")
    else:
        st.caption(f"It moves no function compared with {basis}: promoting it plans no change.")
    if not viewer.can_edit_operating_model:
        st.caption(common.READ_ONLY.format(what="promote scenarios"))
        return
    note = st.text_input("Note (optional)", key="om_promote_note", max_chars=500,
                         placeholder="Why this model, agreed where")
    if st.button("Promote to target model", type="primary", key="om_promote"):
        _promote(viewer, int(chosen), labels[int(chosen)].split(" · ")[0], note, current)


def _current_target(current: TargetModel | None, names: dict[str, str]) -> None:
    st.markdown("**Current target operating model**")
    if current is None:
        st.info("No target operating model yet: promote a saved scenario below.", icon=":material/flag:")
        return
    source = f" (scenario #{current.scenario_id})" if current.scenario_id is not None else ""
    st.markdown(f"“{md(current.scenario_name)}”{source}, promoted by {md(current.promoted_by)} "
                f"on {common.when(current.promoted_at)}." + (f" Note: {md(current.note)}" if current.note else ""))
    if current.changes.empty:
        st.caption("It needs no change: every function is already where this model puts it.")
        return
    st.dataframe(changes_table(current.changes, names), hide_index=True, key="om_target_changes")
    st.caption("Predicted effect of each change on its function, from the what-if model (before → after, "
               "green when better, red when worse): mean lead time per item, hub↔spoke handoffs per item, "
               "the function's cost per year and its share of items within SLA.")


def _promote(viewer: Viewer, scenario_id: int, name: str, note: str, current: TargetModel | None) -> None:
    baseline = None if current is not None else _baseline(viewer)
    try:
        with st.spinner("Promoting…"):
            with data.engine().begin() as conn:
                new_id = cycle_service.promote_scenario(conn, viewer, scenario_id, baseline=baseline, note=note)
    except (cycle_service.CycleError, NotPermitted) as exc:
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was promoted.")
        return
    if new_id is None:
        st.warning("That scenario no longer exists: choose another one.", icon=":material/search_off:")
        return
    cache.changed(cycle_service.promote_scenario)
    flash.later("ok", f"“{md(name)}” is now the target operating model (#{new_id}).", key=common.FLASH)
    st.rerun()


# --- the changes table ----------------------------------------------------------------------------------------


def _shares(share) -> str:
    return "—" if share is None or pd.isna(share) else f"{fmt.percent(float(share))} central"


def _move(row) -> str:
    def placement(side: str) -> str:
        return common.PLACEMENT_LABELS.get(row[f"{side}_placement"], row[f"{side}_placement"])

    return f"{placement('from')} ({_shares(row['from_share'])}) → {placement('to')} ({_shares(row['to_share'])})"


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
    """Per predicted column: True when the change makes it better, False worse, None unchanged or unknown, or
    when before and after read the same as shown (a change that rounds to nothing is not painted)."""
    out = {}
    for key, (label, lower) in PREDICTED.items():
        pair = (predicted or {}).get(key) or {}
        before, after = pair.get("before"), pair.get("after")
        if key == "lead_time_h" and (before is None) != (after is None) and pair:  # None: an unbounded queue
            out[label] = after is not None
        elif before is None or after is None or _predicted_value(key, before) == _predicted_value(key, after):
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
        rows.append({"Change": row["label"], "From → to": _move(row),
                     "Spokes": common.spokes_text(row.get("units"), names),
                     **_predicted_columns(row.get("predicted")),
                     **({"Status": common.STATUS_LABELS.get(row.get("status"), row.get("status"))} if status else {})})
        directions.append(_predicted_direction(row.get("predicted")))
    return styled_changes(pd.DataFrame(rows).reset_index(drop=True), directions)
