"""Saving a scenario (hub leads and admins), opening one by link (``?scenario=<id>``), the saved list, and
comparing saved scenarios side by side."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.queries import scenarios as saved
from dashboard.settings import get_settings
from dashboard.ui import data
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
            sid = saved.save_scenario(conn, viewer, name=name, description=description, inputs=dump_inputs(inputs),
                                      inputs_version=inputs.inputs_version, results=result.as_record(), overwrite=overwrite)
    except saved.ScenarioExists as exc:
        st.warning(f"{md(exc)} Tick “Overwrite” to replace it.", icon=":material/content_copy:")
        return
    except (ValueError, NotPermitted) as exc:
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the form above keeps the name and description
        data.write_failed(exc)
        return
    st.session_state.update(sc_name=name.strip(), sc_description=description, sc_loaded=str(sid))
    st.query_params["scenario"] = str(sid)
    st.success(f"Saved “{md(name.strip())}”. Share this page's link to show it to others.", icon=":material/check:")


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
    if a.button("Open", key="open_saved", width="stretch"):
        if sv.load_saved(viewer, chosen):
            st.rerun()
    if not viewer.can_edit_scenarios:
        pass
    elif b.button("Duplicate", key="dup_saved", width="stretch"):
        try:
            with data.engine().begin() as conn:
                new_id = saved.duplicate_scenario(conn, viewer, chosen)
            st.success(f"Copied as scenario {new_id}.")
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc, "Nothing was copied.")
    if viewer.can_edit_scenarios and c.button("Delete", key="del_saved", width="stretch"):
        try:
            with data.engine().begin() as conn:
                saved.delete_scenario(conn, viewer, chosen)
            st.rerun()
        except NotPermitted as exc:
            st.warning(md(exc))
        except errors.DATABASE_ERRORS as exc:
            data.write_failed(exc, "Nothing was deleted.")
    picked = st.multiselect("Compare side by side", list(labels), format_func=labels.get, key="compare_pick",
                            max_selections=6, placeholder="Choose two or more")
    if len(picked) >= 2:
        _compare_saved(viewer, picked, labels)


def _compare_saved(viewer: Viewer, ids: list[int], labels: dict[int, str]) -> None:
    rows, refused = {}, []
    with data.engine().connect() as conn:
        for sid in ids:
            found = saved.get_scenario(conn, viewer, sid)
            if found is None:
                continue
            try:
                inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
            except (InputError, ValueError):
                refused.append(found.name)
                continue
            rows[found.name] = sv.result_of(inputs).totals.as_dict()
    if refused:
        st.warning("Cannot be opened with this version of the model: " + md(", ".join(refused)),
                   icon=":material/error:")
    if rows:
        sv.totals_table(pd.DataFrame(rows).T)
