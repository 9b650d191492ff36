"""The History tab: every saved rule set (who published it, when and why), and what each version changed
against the one before it — the draft against the active set."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain.access import Viewer
from dashboard.domain.routing import RuleError, RuleSet, diff
from dashboard.settings import get_settings
from dashboard.ui.routing import state
from dashboard.ui.routing.rules_table import moment
from dashboard.ui.routing.state import RoutingData
from dashboard.ui.text import md

SHOWN = 20  # versions with their changes


def render(viewer: Viewer, current: RoutingData) -> None:
    try:
        history = state.history(viewer)
    except RuleError as exc:
        st.error("A stored rule set cannot be read: " + md("; ".join(exc.problems)), icon=":material/error:")
        return
    if history.empty:
        st.info("No rule set has been saved yet.", icon=":material/history:")
        return
    st.dataframe(pd.DataFrame({
        "#": history.id, "Status": history.status, "Name": history.name,
        "Published by": history.published_by.fillna("—"), "Published": [moment(t) for t in history.published_at],
        "Last saved by": history.updated_by, "Note": history.note.fillna(""),
    }), hide_index=True, width="stretch", key="rt_history",
        column_config={"#": st.column_config.NumberColumn(format="%d", width="small"),
                       "Published": st.column_config.TextColumn(f"Published ({get_settings().timezone})")})
    previous = _previous_versions(history)
    active = current.active
    for row in history.head(SHOWN).itertuples():
        if row.status == "draft":
            title = f"Draft #{row.id} (not published) — changes against the active set"
            base = active.rule_set if active else None
        else:
            title = f"#{row.id} {row.status} — published by {md(row.published_by)} on {moment(row.published_at)}"
            base = previous.get(row.id)
        with st.expander(title):
            if row.note:
                st.markdown(f"**Note:** {md(row.note)}")
            changes = diff(base, row.rule_set, current.names)
            if changes:
                st.markdown("\n".join(f"- {md(c)}" for c in changes))
            else:
                st.caption("No change to the rules.")


def _previous_versions(history: pd.DataFrame) -> dict[int, RuleSet | None]:
    """Published set id -> the rules published before it (None for the first)."""
    published = history[history.status != "draft"].sort_values("published_at", na_position="first")
    previous: dict[int, RuleSet | None] = {}
    before = None
    for row in published.itertuples():
        previous[row.id] = before
        before = row.rule_set
    return previous
