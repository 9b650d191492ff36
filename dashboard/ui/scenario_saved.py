"""Which scenario is on screen (and deleting it), saving a scenario (hub leads and admins), opening one by link
(``?scenario=<id>``), the saved list, and comparing saved scenarios side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.refusals import Refused
from dashboard.queries import scenarios
from dashboard.services import scenarios as scenario_service
from dashboard.settings import get_settings
from dashboard.ui import cache, data, flash
from dashboard.ui import scenario_view as sv
from dashboard.ui.text import md
from dashboard.whatif.inputs import InputError, ScenarioInputs, dump_inputs, load_inputs


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
            sid = scenario_service.save_scenario(conn, viewer, name=name, description=description, inputs=dump_inputs(inputs),
                                      inputs_version=inputs.inputs_version, results=result.as_record(), overwrite=overwrite)
    except scenario_service.ScenarioExists as exc:
        st.warning(f"{md(exc)} Tick “Overwrite” to replace it.", icon=":material/content_copy:")
        return
    except (NotPermitted, Refused) as exc:  # no name, a name too long, someone else's scenario
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the form above keeps the name and description
        data.write_failed(exc)
        return
    cache.changed(scenario_service.save_scenario)
    st.session_state.update(sc_name=name.strip(), sc_description=description, sc_loaded=str(sid),
                            sc_base=dump_inputs(inputs), saved_pick=sid)
    sv.mark_saved(sid, name.strip(), viewer.user, pd.Timestamp.now(tz="UTC"))
    st.query_params["scenario"] = str(sid)
    flash.later("ok", f"Saved “{md(name.strip())}”. Share this page's link to show it to others.", key=FLASH)
    st.rerun()  # the line naming the scenario on screen, above, says so at once


FLASH = "sc_saved"  # what the last save, delete or open did, shown once on the line naming the scenario on screen
CONFIRM = "sc_confirm_delete"


def on_screen(viewer: Viewer, inputs: ScenarioInputs) -> None:
    """One line naming the scenario on screen — the as-is, a preset, or a saved scenario (owner, when saved) —
    and whether the controls changed it since; a saved one can be deleted here, and only here, so Delete always
    removes the scenario on screen."""
    flash.show(FLASH)
    origin = st.session_state.get(sv.ORIGIN) or {"kind": "as_is"}
    changed = sv.inputs_key(inputs) != sv.inputs_key(sv.baseline())
    kind = origin.get("kind")
    if kind == "saved":
        when = fmt.moment(pd.Timestamp(origin["updated_at"]).tz_localize("UTC")
                          if pd.Timestamp(origin["updated_at"]).tzinfo is None else pd.Timestamp(origin["updated_at"]),
                          get_settings().tz)
        text = (f"**On screen: saved scenario “{md(origin['name'])}”** · by {md(origin['owner'])} · saved {when}"
                + (" · **changed since it was saved** (save to keep the changes)" if changed else ""))
    elif kind == "preset":
        text = f"**On screen: the {md(origin['name'])} preset**" + (", changed" if changed else "") + " · not saved"
    elif kind == "deleted":
        text = f"**On screen: “{md(origin['name'])}”, which was deleted** · not saved"
    else:
        text = "**On screen: the as-is organisation**" + (", changed · not saved" if changed else "")
    left, right = st.columns([5, 1.3], vertical_alignment="center")
    left.markdown(text)
    if kind != "saved" or not viewer.can_edit_scenarios:
        return
    sid = int(origin["id"])
    if st.session_state.get(CONFIRM) != sid:
        right.button("Delete", key="del_open", icon=":material/delete:", width="stretch",
                     on_click=lambda: st.session_state.update({CONFIRM: sid}),
                     help=f"Delete “{origin['name']}”, the scenario on screen, for everyone")
        return
    with st.container(border=True):
        st.warning(f"Delete “{md(origin['name'])}” for everyone? Links to it stop working.", icon=":material/delete:")
        yes, no = st.columns(2)
        if no.button("Keep it", key="del_cancel", width="stretch"):
            st.session_state.pop(CONFIRM, None)
            st.rerun()
        if yes.button(f"Delete “{origin['name']}”", key="del_confirm", type="primary", width="stretch"):
            _delete_open(viewer, sid, origin["name"])


def _delete_open(viewer: Viewer, sid: int, name: str) -> None:
    st.session_state.pop(CONFIRM, None)
    try:
        with data.engine().begin() as conn:
            scenario_service.delete_scenario(conn, viewer, sid)
    except NotPermitted as exc:
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was deleted.")
        return
    cache.changed(scenario_service.delete_scenario)
    sv.forget_saved()
    st.session_state.pop("saved_pick", None)
    st.session_state[sv.ORIGIN] = {"kind": "deleted", "name": name}
    flash.later("ok", f"Deleted “{md(name)}”. Its figures stay on screen until you change them.", key=FLASH)
    st.rerun()


def saved_list(viewer: Viewer) -> None:
    with data.engine().connect() as conn:
        listing = scenarios.list_scenarios(conn, viewer)
    if listing.empty:
        st.caption("No saved scenarios yet.")
        return
    tz = get_settings().tz
    labels = {int(r.id): f"{r.name} · {r.owner} · {fmt.moment(_utc(r.updated_at), tz)}" for r in listing.itertuples()}
    if st.session_state.get("saved_pick") not in labels:
        st.session_state.pop("saved_pick", None)
    chosen = st.selectbox("Saved scenario", list(labels), format_func=labels.get, key="saved_pick")
    a, b = st.columns(2)
    a.button("Open", key="open_saved", width="stretch", on_click=_open, args=(viewer, chosen),
             help="Show this scenario on the page (its link too)")
    if viewer.can_edit_scenarios and b.button("Duplicate", key="dup_saved", width="stretch",
                                              help="Save a copy of it under a new name"):
        try:
            with data.engine().begin() as conn:
                new_id = scenario_service.duplicate_scenario(conn, viewer, chosen)
            cache.changed(scenario_service.duplicate_scenario)
            st.success(f"Copied as scenario {new_id}.")
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc, "Nothing was copied.")
    picked = st.multiselect("Compare side by side", list(labels), format_func=labels.get, key="compare_pick",
                            max_selections=6, placeholder="Choose two or more")
    if len(picked) >= 2:
        _compare_saved(viewer, picked, labels)


def _utc(when) -> pd.Timestamp:
    ts = pd.Timestamp(when)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts


def _open(viewer: Viewer, sid: int) -> None:
    """Callback: the chosen saved scenario on screen (before any control renders, so they all take its values)."""
    st.session_state.pop(CONFIRM, None)
    if not sv.load_saved(viewer, sid):
        flash.later("warning", "That scenario no longer exists.", key=FLASH)


def _compare_saved(viewer: Viewer, ids: list[int], labels: dict[int, str]) -> None:
    rows, refused = {}, []
    with data.engine().connect() as conn:
        for sid in ids:
            found = scenarios.get_scenario(conn, viewer, sid)
            if found is None:
                continue
            try:
                inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
            except InputError:
                refused.append(found.name)
                continue
            rows[f"{found.name} (#{found.id})"] = sv.result_of(inputs).totals.as_dict()
    if refused:
        st.warning("Cannot be opened with this version of the model: " + md(", ".join(refused)),
                   icon=":material/error:")
    if rows:
        sv.totals_table(pd.DataFrame(rows).T.rename_axis("Scenario").reset_index(), first="Scenario")
