"""The "Replay & publish" tab: replay the saved draft over the items the hub routed in the last days and compare
with where they went (per spoke: volume, backlog, utilisation, waits, SLA), then publish it — and, in the same
transaction, route the items waiting in the hub's triage queue with it."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.charts.routing_charts import per_day, replay_map, replay_table
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.refusals import Refused
from dashboard.domain.routing import RuleError, RuleSet, parse_rule_set
from dashboard.queries.routing import StoredRuleSet
from dashboard.services import routing as routing_service
from dashboard.ui import flash
from dashboard.ui.routing import state
from dashboard.ui.routing.rules_table import moment
from dashboard.ui.routing.state import Replayed, RoutingData
from dashboard.ui.text import md
from dashboard.whatif.replay import UNROUTED, UNROUTED_NAME, replay

FLASH = "rt_publish"  # the message of a publish, shown once at the top of this tab
DEFAULT_DAYS = 30


def render(viewer: Viewer, current: RoutingData, unsaved: dict | None = None) -> None:
    """The tab; ``unsaved`` (the editor's table, from :func:`.rules_tab.render`) only triggers a reminder:
    replay and publish use the draft as last saved."""
    draft = current.draft
    flash.show(FLASH)
    if draft is None:
        st.info("There is no draft to replay: start one in the Rules tab.", icon=":material/edit_note:")
        return
    if _differs(unsaved, draft.rule_set):
        st.warning("You have unsaved edits in the Rules tab: replay and publish use the draft as last saved. "
                   "Save it first to include them.", icon=":material/edit_note:")
    st.caption(f"Replays draft #{draft.id} as last saved (version {draft.version}) over the items the hub routed, "
               "and compares with where they actually went. Waiting is estimated with a queueing model of each "
               "spoke, its current staff working in parallel (M/M/c).")
    left, right = st.columns(2, vertical_alignment="bottom")
    days = int(left.number_input("Days of observed items", min_value=1, max_value=90, value=DEFAULT_DAYS, step=1,
                                 key="rt_days"))
    if right.button("Run replay", icon=":material/replay:", key="rt_run") and not _run(viewer, current, draft, days):
        return
    done = state.last_replay()
    if done and not done.of(draft):
        st.info("The draft changed since the last replay: run it again.", icon=":material/sync_problem:")
        done = None
    if done:
        _show(done, current)
    _publish_form(viewer, draft, replayed=bool(done), waiting=current.waiting)


def _differs(unsaved: dict | None, saved: RuleSet) -> bool:
    if unsaved is None:
        return False
    try:
        return parse_rule_set(unsaved) != saved
    except RuleError:
        return True


def _run(viewer: Viewer, current: RoutingData, draft: StoredRuleSet, days: int) -> bool:
    """Replay the draft and keep the result in the session; False (after saying why) when it failed."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    try:
        with st.spinner(f"Replaying the draft over the last {days} days of items…"):
            items, staffing = state.replay_inputs(viewer, days, now)
            result = replay(draft.rule_set, items, staffing, now=now, days=days, hub_id=current.hub)
    except (NotPermitted, Refused) as exc:
        st.error(f"The replay failed: {md(exc)}", icon=":material/error:")
        return False
    # the per-item decisions are not shown: keep the session light (they are as long as the window's items)
    result = dataclasses.replace(result, decisions=result.decisions.iloc[0:0])
    state.keep_replay(Replayed(draft_id=draft.id, version=draft.version, days=days, result=result, at=now))
    return True


def _show(done: Replayed, current: RoutingData) -> None:
    result, days = done.result, done.days
    names = current.names
    tiles = st.container(horizontal=True)  # tiles as wide as their figures, wrapping on a phone
    tiles.metric("Items replayed", fmt.count(result.total), help=f"Items the hub routed in the last {days} days")
    tiles.metric("Would go elsewhere", fmt.count(result.changed),
                 f"{fmt.share_of(result.changed, result.total)} of them" if result.total else None,
                 delta_color="off", delta_arrow="off",
                 help="Items the draft would send to another unit than the one they went to")
    tiles.metric("Unrouted with the draft", fmt.count(result.unrouted),
                 help="Items no rule matches and the default leaves in the hub's triage queue: counted, never dropped")
    if result.total == 0:
        st.info(f"The hub routed no items in the last {days} days: nothing to compare.", icon=":material/inbox:")
        return
    labels = names | {UNROUTED: UNROUTED_NAME}
    per_spoke = result.per_spoke.copy()
    per_spoke["name"] = per_spoke.unit.map(labels).fillna(per_spoke.name)
    st.dataframe(replay_table(per_spoke, days), hide_index=True, width="stretch", key="rt_replay_table",
                 column_config=_replay_columns(), placeholder="—")
    st.plotly_chart(replay_map(current.units, per_spoke, days), key="rt_replay_map",
                    config={"displayModeBar": False})
    if not result.moves.empty:
        moves = result.moves.head(20)
        st.caption("Largest moves")
        st.dataframe(pd.DataFrame({
            "From": moves.from_unit.map(labels).fillna(moves.from_unit),
            "To": moves.to_unit.map(labels).fillna(moves.to_unit),
            "Items": moves["items"], "Per day": [per_day(n, days, signed=False) for n in moves["items"]],
        }), hide_index=True, key="rt_moves", column_config={"Items": st.column_config.NumberColumn(format=fmt.COUNT)})
    st.caption(f"Replayed at {moment(done.at)} over {days} days. Utilisation, waits and the estimated SLA "
               "shares come from the queueing model at today's headcount, for today's routing and for the draft "
               "alike; the observed SLA share is what happened.")


def _replay_columns() -> dict:
    cc = st.column_config
    pct = dict(format=fmt.PERCENT)
    wait = "Mean wait before work starts, from the queueing model; over capacity: the queue grows without bound"
    return {
        "Spoke": cc.TextColumn(pinned=True),
        "Items/day now": cc.NumberColumn(format="%,.1f"), "Items/day with draft": cc.NumberColumn(format="%,.1f"),
        "Change (items)": cc.NumberColumn(format="%+,d", help="Items over the replayed days"),
        "Backlog now": cc.NumberColumn(format=fmt.COUNT), "Backlog with draft": cc.NumberColumn(format=fmt.COUNT),
        "Within SLA now (est.)": cc.NumberColumn(
            **pct, help="The queueing model's estimate for today's routing: compare it with the draft's"),
        "Within SLA with draft (est.)": cc.NumberColumn(**pct, help="The same model's estimate with the draft"),
        "Within SLA now (observed)": cc.NumberColumn(
            **pct, help="What happened: items resolved by their due time. The estimates come from a steady-state "
                        "queueing model without office hours or backlog, so they read higher: compare estimate with "
                        "estimate"),
        "Utilisation now": cc.NumberColumn(**pct), "Utilisation with draft": cc.NumberColumn(**pct),
        "Wait now": cc.TextColumn(help=wait), "Wait with draft": cc.TextColumn(help=wait),
    }


def _publish_form(viewer: Viewer, draft: StoredRuleSet, replayed: bool, waiting: int = 0) -> None:
    st.subheader("Publish")
    if not viewer.can_edit_routing:
        st.caption(state.NOT_EDITOR)
    elif not replayed:
        st.caption("Run the replay first to see what the draft would change.")
    note = st.text_area("What changed and why (required)", key=state.NOTE, max_chars=2000,
                        disabled=not viewer.can_edit_routing)
    route = False
    if waiting:
        route = st.checkbox(f"Also route the {waiting:,} item{'s' if waiting != 1 else ''} waiting in the hub's "
                            "triage queue with the new rules (items no rule matches keep waiting)", value=True,
                            key="rt_route_waiting", disabled=not viewer.can_edit_routing)
    if st.button("Publish the draft", type="primary", icon=":material/publish:", key="rt_publish",
                 disabled=not viewer.can_edit_routing, help=None if viewer.can_edit_routing else state.NOT_EDITOR):
        _publish(viewer, draft, note, route)


def _publish(viewer: Viewer, draft: StoredRuleSet, note: str, route: bool) -> None:
    """Publish, and with ``route`` send the items waiting at the hub through the new rules: one transaction, after
    which the readers of the rules and (with ``route``) of the items — the map, the inboxes — are refreshed."""
    def publish_and_route(conn) -> tuple[StoredRuleSet, int]:
        stored = routing_service.publish(conn, viewer, draft.id, draft.version, note)
        return stored, (routing_service.route_waiting(conn, viewer) if route else 0)

    done = state.run(publish_and_route, routing_service.publish, *([routing_service.route_waiting] if route else []))
    if done is None:
        return
    stored, moved = done
    state.published()
    routed = f" {moved:,} waiting item{'s were' if moved != 1 else ' was'} routed with it." if route else ""
    flash.later("ok", f"Published: rule set #{stored.id} is active. New items arriving at the hub are routed with "
                f"it.{routed}", key=FLASH)
    st.rerun()
