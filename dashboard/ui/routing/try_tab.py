"""The "Try a rule" tab: which rule fires for a typed item or an existing one, and why — on the saved draft, the
active set, or the editor's unsaved table when it differs from the saved draft."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.routing import RuleError, RuleSet, explain, parse_rule_set
from dashboard.domain.vocabulary import ItemKind
from dashboard.queries import routing
from dashboard.ui import data
from dashboard.ui.routing.state import RoutingData
from dashboard.ui.text import md


def render(viewer: Viewer, current: RoutingData, unsaved: dict | None = None) -> None:
    """The tab; ``unsaved``: the editor's table as rule data (from :func:`.rules_tab.render`)."""
    names = current.names
    sets = _rule_sets(current, unsaved)
    if not sets:
        st.info("There are no rules yet: start a draft in the Rules tab.", icon=":material/alt_route:")
        return
    which = st.radio("Rule set", list(sets), format_func=lambda k: sets[k][0], horizontal=True, key="rt_try_set")
    rule_set = sets[which][1]
    if isinstance(rule_set, RuleError):
        st.warning("Your unsaved edits have problems; fix them in the Rules tab:\n"
                   + "\n".join(f"- {md(p)}" for p in rule_set.problems), icon=":material/error:")
        return
    mode = st.radio("Item", ["typed", "existing"], horizontal=True, key="rt_try_mode",
                    format_func=lambda m: "Type an item" if m == "typed" else "An existing item (by id)")
    item = _typed_item() if mode == "typed" else _existing_item(viewer, names)
    if item is None:
        return
    _explain(rule_set, item, names)


def _rule_sets(current: RoutingData, unsaved: dict | None) -> dict[str, tuple[str, RuleSet | RuleError]]:
    """The sets to try, by key: (label, the set — or why the unsaved edits are not one)."""
    sets: dict[str, tuple[str, RuleSet | RuleError]] = {}
    draft, active = current.draft, current.active
    if unsaved is not None and draft is not None:
        try:
            candidate: RuleSet | RuleError = parse_rule_set(unsaved)
        except RuleError as exc:
            candidate = exc
        if not isinstance(candidate, RuleSet) or candidate != draft.rule_set:
            sets["unsaved"] = ("Your unsaved edits", candidate)
    if draft is not None:
        sets["draft"] = (f"Draft #{draft.id} (saved version {draft.version})", draft.rule_set)
    if active is not None:
        sets["active"] = (f"Active #{active.id}", active.rule_set)
    return sets


def _typed_item() -> dict | None:
    text = st.text_area("Text", key="rt_try_text", placeholder="@shop I want to buy the new microwave, "
                        "do you deliver on Sunday?", max_chars=5000)
    a, b = st.columns(2)
    c, d = st.columns(2)
    kind = a.selectbox("Kind", ["", *[k.value for k in ItemKind]], key="rt_try_kind",
                       format_func=lambda k: k or "(none)")
    channel = b.text_input("Channel", key="rt_try_channel", placeholder="social")
    topic = c.text_input("Topic", key="rt_try_topic", placeholder="purchase_intent")
    segment = d.text_input("Segment", key="rt_try_segment", placeholder="consumer")
    item = dict(text=text or None, kind=kind or None, channel=channel.strip() or None, topic=topic.strip() or None,
                segment=segment.strip() or None)
    if not any(item.values()):
        st.caption("Type a text or pick an attribute to see which rule fires.")
        return None
    return item


def _existing_item(viewer: Viewer, names: dict[str, str]) -> dict | None:
    item_id = st.text_input("Item id", key="rt_try_item", max_chars=64)
    if not item_id.strip():
        st.caption("Enter the id of a work item (from a spoke's inbox or an export).")
        return None
    try:
        with data.engine().connect() as conn:
            item = routing.find_item(conn, viewer, item_id)
    except NotPermitted as exc:
        st.error(md(exc), icon=":material/block:")
        return None
    if item is None:
        st.warning(f"There is no work item with the id “{md(item_id.strip())}”.", icon=":material/search_off:")
        return None
    went = names.get(item["target_unit"], item["target_unit"])
    st.caption(md(f"{item['kind']} via {item['channel']} · topic {item['topic'] or '—'} · segment "
                  f"{item['segment'] or '—'} · now at {went} ({item['status']}"
                  + (f", routed by rule {item['rule_id']}" if item.get("rule_id") else "") + ")"))
    if item.get("text"):
        st.text(item["text"][:1000])
    return item


def _explain(rule_set: RuleSet, item: dict, names: dict[str, str]) -> None:
    decision, traces = explain(rule_set, item)
    if decision.target_unit is None:
        st.warning("**Unrouted**: " + md(decision.reason), icon=":material/inbox:")
    else:
        sla = f" · SLA {fmt.hours(decision.sla_hours)}" if decision.sla_hours else " · the item keeps its own SLA"
        st.success(f"**→ {md(names.get(decision.target_unit, decision.target_unit))}** · priority {decision.priority}{sla}",
                   icon=":material/alt_route:")
        st.caption(md(decision.reason))
    if not traces:
        return
    st.dataframe(pd.DataFrame({
        "#": range(1, len(traces) + 1),
        "Rule": [t.name for t in traces],
        "On": [t.enabled for t in traces],
        "Matched": [t.matched for t in traces],
        "Fired": [t.fired for t in traces],
        "Why": ["; ".join(t.reasons) for t in traces],
    }), hide_index=True, width="stretch", key="rt_try_trace",
        column_config={"#": st.column_config.NumberColumn(width="small", format="%d"),
                       "Rule": st.column_config.TextColumn(width="medium"),
                       "Why": st.column_config.TextColumn(width="large", help="Every condition of the rule, in order")})
