"""The admin page's parts: the users table (roles for people the identity provider does not give one), the
units (deleting a spoke nothing refers to any more) and a search over the audit trail. All refuse anyone but an
admin in the data layer as well."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import audit, errors
from dashboard.domain.access import ROLE_PRECEDENCE, Viewer
from dashboard.queries import routing, users
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.text import md

PAGE = 100


def users_editor(viewer: Viewer, spokes: list[str]) -> None:
    with data.engine().connect() as conn:
        current = users.list_users(conn, viewer)
    st.caption("Roles from the identity provider's token win; this table serves people whose token has no role. "
               "Changes apply within a minute, without signing out.")
    edited = st.data_editor(
        current, num_rows="dynamic", hide_index=True, width="stretch", key="users_editor",
        column_config={
            "user": st.column_config.TextColumn("Sign-in (e-mail)", required=True, max_chars=320),
            "name": st.column_config.TextColumn("Name", max_chars=200),
            "role": st.column_config.SelectboxColumn("Role", options=[r.value for r in ROLE_PRECEDENCE], required=True),
            "unit": st.column_config.SelectboxColumn("Spoke (spoke leads)", options=spokes),
            "active": st.column_config.CheckboxColumn("Active", default=True),
        },
    )
    if st.button("Save users", type="primary", icon=":material/save:"):
        try:
            with data.engine().begin() as conn:
                problems = users.save_users(conn, viewer, edited)
        except errors.DATABASE_ERRORS as exc:  # one transaction: nothing saved, the edits stay in the table
            data.write_failed(exc, "Nothing was saved; your edits are still in the table, so you can try again.")
            return
        if problems:
            st.error("Nothing was saved: " + "; ".join(problems), icon=":material/error:")
        else:
            st.success(f"Saved {len(edited.dropna(how='all')):,} users.", icon=":material/check:")


def audit_search(viewer: Viewer) -> None:
    tz = get_settings().tz
    a, b, c, d = st.columns([2, 2, 2, 3])
    who = a.text_input("User contains", key="audit_user")
    action = b.selectbox("Action", ["", *audit.ACTIONS], format_func=lambda x: x or "any", key="audit_action")
    days = c.selectbox("Period", [1, 7, 30, 365], index=1, format_func=lambda n: f"last {n} day{'s' if n > 1 else ''}",
                       key="audit_days")
    text = d.text_input("Target or detail contains", key="audit_text")
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
    with data.engine().connect() as conn:
        rows, total = audit.search(conn, viewer, user=who or None, action=action or None, since=since,
                                   text=text or None, limit=PAGE)
    if rows.empty:
        st.info("No audit entries match.", icon=":material/search_off:")
        return
    rows["at"] = pd.to_datetime(rows["at"], utc=True).dt.tz_convert(tz)
    st.caption(f"{total:,} entries match; showing the newest {min(total, PAGE):,}. Times in {get_settings().timezone}.")
    st.dataframe(rows, hide_index=True, width="stretch",
                 column_config={"at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm:ss")})


def units_section(viewer: Viewer) -> None:
    """The units with what refers to each, and deleting a spoke: refused, with every reason, while routing rules
    (active or draft), work items, KPIs or users still refer to it."""
    done = st.session_state.pop("unit_delete_done", None)
    if done:
        st.success(done, icon=":material/check:")
    with data.engine().connect() as conn:
        listed = routing.list_units_for_admin(conn, viewer)
    if listed.empty:
        st.caption("No units yet.")
        return
    st.dataframe(listed.rename(columns={"id": "Id", "name": "Name", "kind": "Kind", "headcount": "Headcount",
                                        "items": "Work items", "kpis": "KPIs", "users": "Users"}),
                 hide_index=True, width="stretch",
                 column_config={"Work items": st.column_config.NumberColumn(format="localized")})
    spokes = listed[listed.kind == "spoke"]
    names = dict(zip(spokes.id, spokes.name))
    if spokes.empty:
        return
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    unit = left.selectbox("Spoke to delete", list(names), format_func=lambda u: f"{names[u]} ({u})",
                          key="unit_delete_pick")
    if right.button("Delete spoke", icon=":material/delete:", key="unit_delete"):
        st.session_state["unit_delete_confirm"] = unit
    if st.session_state.get("unit_delete_confirm") != unit:
        return
    st.warning(f"Delete {names[unit]} for good? Only a spoke nothing refers to any more can be deleted.")
    yes, no, _ = st.columns([1, 1, 4])
    if no.button("Keep it", key="unit_delete_no"):
        st.session_state.pop("unit_delete_confirm", None)
        st.rerun()
    if not yes.button("Yes, delete", type="primary", key="unit_delete_yes"):
        return
    st.session_state.pop("unit_delete_confirm", None)
    try:
        with data.engine().begin() as conn:
            deleted = routing.delete_unit(conn, viewer, unit)
    except routing.UnitInUse as exc:
        st.error(f"{md(exc.unit)} cannot be deleted yet:\n" + "\n".join(f"- {md(r)}" for r in exc.reasons),
                 icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was deleted.")
        return
    data.units.clear()
    st.session_state["unit_delete_done"] = (f"Deleted {names[unit]}." if deleted
                                            else f"{names[unit]} was already deleted.")
    st.rerun()
