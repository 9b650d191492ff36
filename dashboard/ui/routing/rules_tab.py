"""The Rules tab: the active set, and the shared draft — started from the active set, edited as a table (rules,
the default rule, the name), saved or discarded. Returns the editor's unsaved rule set, so "Try a rule" can test
it before it is saved."""

from __future__ import annotations

import streamlit as st

from dashboard.domain.access import Viewer
from dashboard.domain.routing import PRIORITIES, RuleSet
from dashboard.queries.routing import StoredRuleSet
from dashboard.services import routing as routing_service
from dashboard.ui import flash
from dashboard.ui.routing import state
from dashboard.ui.routing.rules_table import COLUMNS, column_config, moment, read_only_rules, table_to_rules
from dashboard.ui.routing.state import RoutingData
from dashboard.ui.text import md

FLASH = "rt_rules"  # the message of a save or a discard, shown once at the top of this tab


def render(viewer: Viewer, current: RoutingData) -> dict | None:
    """The tab; returns the editor's current (unsaved) rule set as data, or None when nothing is being edited."""
    flash.show(FLASH)
    _active(current)
    st.subheader("Draft")
    draft = current.draft
    if draft is None:
        _start(viewer, current.active)
        return None
    st.caption(f"Draft #{draft.id} “{md(draft.name)}”, version {draft.version}, last saved by {md(draft.updated_by)} on "
               f"{moment(draft.updated_at)}" + (f" · based on #{draft.based_on}" if draft.based_on else ""))
    if not viewer.can_edit_routing:
        st.caption(state.NOT_EDITOR)
        read_only_rules(draft.rule_set, current.names, "rt_draft_table")
        return None
    return _editor(viewer, current, draft)


def _active(current: RoutingData) -> None:
    st.subheader("Active rules")
    active = current.active
    if active is None:
        st.info("No rule set has been published yet: every item arriving at the hub waits unrouted in its triage "
                "queue until a person routes it.", icon=":material/alt_route:")
        return
    st.caption(f"Version #{active.id} “{md(active.name)}”, published by {md(active.published_by)} on "
               f"{moment(active.published_at)}: {md(active.note or 'no note')}")
    read_only_rules(active.rule_set, current.names, "rt_active_table")


def _start(viewer: Viewer, active: StoredRuleSet | None) -> None:
    """No draft yet: an editor may start one (a copy of the active set, or empty)."""
    if not viewer.can_edit_routing:
        st.caption("No draft is being edited.")
        return
    label = "Start a draft from the active set" if active else "Start the first draft"
    if not st.button(label, icon=":material/edit_note:", key="rt_start"):
        return
    stored = state.write(viewer, routing_service.save_draft, active.rule_set if active else RuleSet(),
                         based_on=active.id if active else None,
                         name=f"Changes to {active.name}" if active else "First rules")
    if stored is not None:
        state.restart_editing(stored)
        st.rerun()


def _editor(viewer: Viewer, current: RoutingData, draft: StoredRuleSet) -> dict:
    edit = state.editing(draft)
    if draft.version != edit.version:
        st.warning(f"{md(draft.updated_by)} saved a newer version of this draft ({moment(draft.updated_at)}); your "
                   f"table is based on version {edit.version}. Saving will be refused: reload the draft to see their "
                   "changes (this drops your unsaved edits).", icon=":material/sync_problem:")
        if st.button("Reload the draft", key="rt_reload"):
            state.restart_editing(draft)
            st.rerun()
    names, spokes, token = current.names, current.spokes, edit.token
    st.caption("One row per rule, in precedence order (#). Lists are comma-separated; an empty list means any "
               "value. Add rows at the bottom; select rows and press Delete to remove them.")
    edited = st.data_editor(edit.rules, num_rows="dynamic", hide_index=True, width="stretch", placeholder="—",
                            key=f"rt_rules_{token}", column_order=COLUMNS,
                            column_config=column_config(names, False, spokes))
    default = edit.default
    options = ["", *spokes]
    target = st.selectbox("Items no rule matches (the default rule)", options,
                          index=options.index(default.get("target_unit") or "")
                          if (default.get("target_unit") or "") in options else 0,
                          format_func=lambda u: f"Send to {names.get(u, u)}" if u else "Leave unrouted (hub triage queue)",
                          key=f"rt_default_target_{token}")
    b, c = st.columns(2)
    priority = b.selectbox("Priority of those items", list(PRIORITIES),
                           index=list(PRIORITIES).index(default.get("priority", "normal")),
                           key=f"rt_default_priority_{token}")
    sla = c.number_input("Their SLA in hours", min_value=0.0, value=float(default.get("sla_hours") or 0.0),
                         step=1.0, format="%.1f", key=f"rt_default_sla_{token}", help="0: each item keeps its own SLA")
    name = st.text_input("Draft name", value=edit.name, max_chars=200, key=f"rt_name_{token}")
    rule_set = dict(rules=table_to_rules(edited), default=dict(target_unit=target or None, priority=priority,
                                                               sla_hours=sla or None))
    buttons = st.container(horizontal=True)  # buttons as wide as their labels, wrapping on a phone
    if buttons.button("Save draft", type="primary", icon=":material/save:", key="rt_save"):
        _save(viewer, draft, edit, rule_set, name)
    if buttons.button("Discard draft", icon=":material/delete:", key="rt_discard"):
        state.ask_discard()
    if state.discard_asked():
        _confirm_discard(viewer, draft, edit)
    return rule_set


def _save(viewer: Viewer, draft: StoredRuleSet, edit: state.DraftEdit, rule_set: dict, name: str) -> None:
    stored = state.write(viewer, routing_service.save_draft, rule_set, draft_id=draft.id, version=edit.version,
                         name=name)
    if stored is None:
        return
    state.restart_editing(stored)
    flash.later("ok", f"Draft saved (version {stored.version}, {len(stored.rule_set.rules)} rules). Replay it before "
                "publishing.", key=FLASH)
    st.rerun()


def _confirm_discard(viewer: Viewer, draft: StoredRuleSet, edit: state.DraftEdit) -> None:
    st.warning("Discard the draft and every change in it? Published versions are not affected.")
    confirm = st.container(horizontal=True)
    if confirm.button("Yes, discard", key="rt_discard_yes"):
        state.ask_discard(False)
        if state.write(viewer, routing_service.discard_draft, draft.id, edit.version) is not None:
            state.stop_editing()
            flash.later("ok", "Draft discarded.", key=FLASH)
            st.rerun()
    if confirm.button("Keep it", key="rt_discard_no"):
        state.ask_discard(False)
        st.rerun()
