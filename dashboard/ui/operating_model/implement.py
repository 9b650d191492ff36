"""The Implement tab: the target model's planned changes — marking one done (today unless another day is picked),
and owners, due dates and status as an editable table. A change marked done is dated and appears as a dashed line
on the overview's and the touched spokes' trend charts. A change a colleague updated meanwhile is never
overwritten: the save is refused with who changed it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.services import cycle as cycle_service
from dashboard.ui import cache, data, flash
from dashboard.ui.operating_model import common
from dashboard.ui.text import md

GENERATION = "om_editor_generation"  # part of the table's widget key: a new one shows the saved values


def _next_table() -> None:
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def render(viewer: Viewer) -> None:
    current = common.target(viewer)
    if current is None:
        st.info("Nothing to implement yet: promote a scenario to the target model on the Design tab.",
                icon=":material/construction:")
        return
    if current.changes.empty:
        st.info(f"“{md(current.scenario_name)}” plans no change.", icon=":material/construction:")
        return
    st.caption(f"Changes planned by “{md(current.scenario_name)}”. A change marked done is dated (today unless you "
               "pick a day) and appears as a dashed line on the overview's and the touched spokes' trend charts.")
    changes = current.changes
    names = common.unit_names(viewer)
    view = pd.DataFrame({
        "id": changes.id.astype(int), "version": changes.version.astype(int), "Change": changes.label,
        "Spokes": [common.spokes_text(u, names) for u in changes.units],
        "Owner": changes.owner.fillna(""), "Due": pd.to_datetime(changes.due_on).dt.date,
        "Status": changes.status, "Done on": pd.to_datetime(changes.done_on).dt.date,
    })
    done = int((changes.status == "done").sum())
    st.progress(done / len(changes), text=f"{done} of {len(changes)} change{'s' if len(changes) != 1 else ''} done")
    if not viewer.can_edit_operating_model:
        st.dataframe(view.drop(columns=["id", "version"]).assign(Status=view.Status.map(common.STATUS_LABELS)),
                     hide_index=True, key="om_changes_read", placeholder="—", column_config={
                         "Due": st.column_config.DateColumn(format=fmt.DAY),
                         "Done on": st.column_config.DateColumn(format=fmt.DAY)})
        st.caption(common.READ_ONLY.format(what="update planned changes"))
        return
    _mark_done_form(viewer, changes)
    st.markdown("**Owners, due dates and status**")
    edited = st.data_editor(
        view, hide_index=True, key=f"om_changes_{current.id}_{st.session_state.get(GENERATION, 0)}",
        num_rows="fixed", placeholder="—", disabled=["id", "version", "Change", "Spokes"],
        column_order=["Change", "Spokes", "Owner", "Due", "Status", "Done on"],
        column_config={
            "Owner": st.column_config.TextColumn(max_chars=320, help="Who makes the change happen"),
            "Due": st.column_config.DateColumn(format=fmt.DAY),
            "Status": st.column_config.SelectboxColumn(options=list(common.STATUS_LABELS), required=True,
                                                       help="planned → done (or dropped)"),
            "Done on": st.column_config.DateColumn(format=fmt.DAY, max_value=common.today(),
                                                   help="Left empty when marked done: today"),
        })
    if st.button("Save changes", type="primary", key="om_save_changes"):
        _save_changes(viewer, view, edited)


def _mark_done_form(viewer: Viewer, changes: pd.DataFrame) -> None:
    """The common step in one go: pick a planned change, say when it was done (today by default)."""
    open_ = changes[changes.status == "planned"]
    if open_.empty:
        return
    now = common.today()
    labels = {int(r.id): r.label for r in open_.itertuples()}
    versions = {int(r.id): int(r.version) for r in open_.itertuples()}
    with st.form("om_mark_done"):
        left, mid, right = st.columns([5, 3, 2], vertical_alignment="bottom")
        chosen = left.selectbox("Mark a change done", list(labels), format_func=labels.get, key="om_done_pick")
        day = mid.date_input("Done on", value=now, max_value=now, key="om_done_day", format="DD/MM/YYYY")
        if not right.form_submit_button("Mark done", type="primary"):
            return
    try:
        with data.engine().begin() as conn:
            result = cycle_service.update_change(conn, viewer, int(chosen), version=versions[int(chosen)],
                                                 status="done", done_on=day, today=now)
    except (cycle_service.StaleChange, cycle_service.CycleError, NotPermitted) as exc:
        if isinstance(exc, cycle_service.StaleChange):
            cache.changed(cycle_service.update_change)  # the next run reads the colleague's version
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was marked done.")
        return
    if result is None:
        st.warning("That change no longer exists (a newer target model replaced it).", icon=":material/search_off:")
        return
    cache.changed(cycle_service.update_change)
    _next_table()
    flash.later("ok", f"“{labels[int(chosen)]}” done on {fmt.day(day)}: it now shows as a dashed line on the trend "
                "charts of the spokes it touches.", key=common.FLASH)
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
                result = cycle_service.update_change(conn, viewer, change_id, version=version, today=common.today(),
                                                     **fields)
        except (cycle_service.StaleChange, cycle_service.CycleError, NotPermitted) as exc:
            problems.append(f"{label}: {exc}")
            if isinstance(exc, cycle_service.StaleChange):
                cache.changed(cycle_service.update_change)  # the next run reads the colleague's version
            continue
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc)
            if saved_labels:  # the changes before this one are saved
                cache.changed(cycle_service.update_change)
            return
        if result is None:
            problems.append(f"{label}: it no longer exists (a newer target model replaced it).")
        else:
            saved_labels.append(label)
    if saved_labels:
        cache.changed(cycle_service.update_change)
    if problems:
        for problem in problems:
            st.warning(problem, icon=":material/block:")
        if saved_labels:
            st.success("Saved: " + "; ".join(saved_labels), icon=":material/check:")
        return
    _next_table()
    flash.later("ok", "Saved: " + "; ".join(saved_labels) + ".", key=common.FLASH)
    st.rerun()
