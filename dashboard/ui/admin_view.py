"""The admin page's parts: the users table (roles for people the identity provider does not give one), the
units (deleting a spoke nothing refers to any more) and a search over the audit trail. All refuse anyone but an
admin in the data layer as well."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import audit, errors
from dashboard.domain import format as fmt
from dashboard.domain.access import ROLE_LABELS, ROLE_PRECEDENCE, Role, Viewer
from dashboard.domain.export import to_safe_csv
from dashboard.queries import routing, users
from dashboard.services import routing as routing_service
from dashboard.services import users as user_service
from dashboard.services.exports import record_export
from dashboard.settings import get_settings
from dashboard.ui import cache, data, flash
from dashboard.ui.text import md

PAGE = 100
EXPORT_CAP = 50_000  # audit entries in one CSV
ACTION_LABELS = {
    "sign_in": "Signed in", "item_action": "Acted on a work item", "scenario_save": "Saved a scenario",
    "scenario_delete": "Deleted a scenario", "import": "Imported a file", "export": "Downloaded data",
    "user_change": "Changed a user", "routing_save": "Saved routing rules", "routing_discard": "Discarded a routing draft",
    "routing_publish": "Published routing rules", "routing_route": "Routed waiting items",
    "unit_delete": "Deleted a unit", "cycle_assessment": "Assessed maturity", "cycle_promote": "Made a scenario the target model",
    "cycle_change": "Updated a planned change", "unit_hours": "Set office hours",
}
AUDIT_COLUMNS = ["at", "user", "role", "action", "target", "detail"]


def action_label(action: str) -> str:
    """An audit action in words ('routing_publish' -> 'Published routing rules'); an unknown one readable."""
    return ACTION_LABELS.get(action) or str(action).replace("_", " ").capitalize()


def role_label(role: str) -> str:
    try:
        return ROLE_LABELS[Role(role)]
    except (ValueError, KeyError):  # a role this app does not know (Role() refuses it): shown as stored
        return str(role)


def users_editor(viewer: Viewer, spokes: dict[str, str]) -> None:
    """The users table; ``spokes``: spoke id -> name (the choices of a spoke lead's spoke)."""
    with data.engine().connect() as conn:
        current = users.list_users(conn, viewer)
    st.caption("Roles from the identity provider's token win; this table serves people whose token has no role. "
               "Changes apply within a minute, without signing out.")
    edited = st.data_editor(
        current, num_rows="dynamic", hide_index=True, width="stretch", key="users_editor",
        column_config={
            "user": st.column_config.TextColumn("Sign-in (e-mail)", required=True, max_chars=320),
            "name": st.column_config.TextColumn("Name", max_chars=200),
            "role": st.column_config.SelectboxColumn("Role", options=[r.value for r in ROLE_PRECEDENCE], required=True,
                                                     format_func=role_label),
            "unit": st.column_config.SelectboxColumn("Spoke (spoke leads)", options=list(spokes),
                                                     format_func=lambda u: spokes.get(u, u)),
            "active": st.column_config.CheckboxColumn("Active", default=True),
        },
    )
    if st.button("Save users", type="primary", icon=":material/save:"):
        try:
            with data.engine().begin() as conn:
                problems = user_service.save_users(conn, viewer, edited)
        except errors.DATABASE_ERRORS as exc:  # one transaction: nothing saved, the edits stay in the table
            data.write_failed(exc, "Nothing was saved; your edits are still in the table, so you can try again.")
            return
        cache.changed(user_service.save_users)
        if problems:
            st.error("Nothing was saved: " + md("; ".join(problems)), icon=":material/error:")
        else:
            n = len(edited.dropna(how="all"))
            st.success(f"Saved {fmt.count(n)} user{'s' if n != 1 else ''}.", icon=":material/check:")


def audit_search(viewer: Viewer) -> None:
    tz = get_settings().tz
    zone = get_settings().timezone
    a, b = st.columns(2)
    who = a.text_input("User contains", key="audit_user")
    action = b.selectbox("Action", ["", *audit.ACTIONS], format_func=lambda x: action_label(x) if x else "Any",
                         key="audit_action")
    c, d = st.columns(2)
    days = c.selectbox("Period", [1, 7, 30, 365], index=1, format_func=lambda n: f"Last {n} day{'s' if n > 1 else ''}",
                       key="audit_days")
    text = d.text_input("Target or detail contains", key="audit_text")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    search = dict(user=who or None, action=action or None, since=since, text=text or None)
    with data.engine().connect() as conn:
        rows, total = audit.search(conn, viewer, limit=PAGE, **search)
    if rows.empty:
        st.info("No audit entries match.", icon=":material/search_off:")
        return
    rows["at"] = pd.to_datetime(rows["at"], utc=True).dt.tz_convert(tz)
    st.caption(f"{fmt.count(total)} entr{'ies match' if total != 1 else 'y matches'}; showing the newest "
               f"{fmt.count(min(total, PAGE))}. Times in {zone}.")
    st.dataframe(audit_view(rows), hide_index=True, width="stretch", placeholder="—", column_config={
        "When": st.column_config.DatetimeColumn(f"When ({zone})", format=fmt.MOMENT, pinned=True),
        "Detail": st.column_config.TextColumn(width="large"),
    })
    _audit_download(viewer, search, total)


def audit_view(rows: pd.DataFrame) -> pd.DataFrame:
    """Audit entries as people read them: roles and actions in words; a missing target or detail stays missing."""
    return pd.DataFrame({"When": rows["at"], "User": rows.user, "Role": rows.role.map(role_label),
                         "Action": rows.action.map(action_label), "Target": rows.target, "Detail": rows.detail})


def audit_csv(rows: pd.DataFrame, tz) -> bytes:
    """Audit entries as a CSV for a spreadsheet: times to the second in the organisation's zone (named in the
    header), roles and actions in words, missing values empty, formula-like text neutralised."""
    zone = getattr(tz, "key", str(tz))
    table = audit_view(rows).fillna("")
    table["When"] = [fmt.csv_moment(pd.Timestamp(t), tz) for t in rows["at"]]
    return to_safe_csv(table.rename(columns={"When": f"When ({zone})"}))


def _audit_download(viewer: Viewer, search: dict, total: int) -> None:
    s = get_settings()

    def entries_csv() -> bytes:  # built only when clicked; the download itself is audited
        with data.engine().connect() as conn:
            rows, _ = audit.search(conn, viewer, limit=EXPORT_CAP, **search)
        try:
            with data.engine().begin() as conn:
                record_export(conn, viewer, "audit trail", f"{fmt.count(len(rows))} entries")
        except errors.DATABASE_ERRORS:
            pass  # the entries are already in hand: the download still works, only its audit line is lost
        return audit_csv(rows, s.tz)

    shown = min(total, EXPORT_CAP)
    st.download_button(f"Download the {fmt.count(shown)} matching entr{'ies' if shown != 1 else 'y'} (CSV)",
                       entries_csv, file_name="audit-trail.csv", mime="text/csv", icon=":material/download:",
                       on_click="ignore", key="audit_download",
                       help=f"Times in {s.timezone}, to the second; formula-like cells are neutralised for spreadsheets"
                       + (f". At most the newest {fmt.count(EXPORT_CAP)}." if total > EXPORT_CAP else ""))


def units_section(viewer: Viewer) -> None:
    """The units with what refers to each, and deleting a spoke: refused, with every reason, while routing rules
    (active or draft), work items, KPIs or users still refer to it."""
    flash.show("unit_delete")
    with data.engine().connect() as conn:
        listed = routing.list_units_for_admin(conn, viewer)
    if listed.empty:
        st.caption("No units yet.")
        return
    st.dataframe(listed.rename(columns={"id": "Id", "name": "Name", "kind": "Kind", "headcount": "Headcount",
                                        "items": "Work items", "kpis": "KPIs", "users": "Users"}),
                 hide_index=True, width="stretch", placeholder="—",
                 column_order=["Name", "Kind", "Headcount", "Work items", "KPIs", "Users", "Id"],
                 column_config={"Headcount": st.column_config.NumberColumn(format=fmt.FTE, help="Full-time equivalents"),
                                **{c: st.column_config.NumberColumn(format=fmt.COUNT)
                                   for c in ("Work items", "KPIs", "Users")}})
    spokes = listed[listed.kind == "spoke"]
    names = dict(zip(spokes.id, spokes.name))
    if spokes.empty:
        return
    unit = st.selectbox("Spoke to delete", list(names), format_func=lambda u: f"{names[u]} ({u})",
                        key="unit_delete_pick")
    if st.button("Delete spoke", icon=":material/delete:", key="unit_delete"):
        st.session_state["unit_delete_confirm"] = unit
    if st.session_state.get("unit_delete_confirm") != unit:
        return
    st.warning(f"Delete {names[unit]} for good? Only a spoke nothing refers to any more can be deleted.")
    confirm = st.container(horizontal=True)
    yes = confirm.button("Yes, delete", type="primary", key="unit_delete_yes")
    if confirm.button("Keep it", key="unit_delete_no"):
        st.session_state.pop("unit_delete_confirm", None)
        st.rerun()
    if not yes:
        return
    st.session_state.pop("unit_delete_confirm", None)
    try:
        with data.engine().begin() as conn:
            deleted = routing_service.delete_unit(conn, viewer, unit)
    except routing_service.UnitInUse as exc:
        st.error(f"{md(exc.unit)} cannot be deleted yet:\n" + "\n".join(f"- {md(r)}" for r in exc.reasons),
                 icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was deleted.")
        return
    cache.changed(routing_service.delete_unit)
    flash.later("ok", f"Deleted {md(names[unit])}." if deleted else f"{md(names[unit])} was already deleted.",
                key="unit_delete")
    st.rerun()
