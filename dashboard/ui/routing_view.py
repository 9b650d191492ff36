"""The Routing page's parts: the rules (active set and the draft editor), "Try a rule", replay & publish, and the
history of published versions.

Who: admins and hub leads edit, replay and publish; executives see everything read-only (edit widgets are
disabled with the reason); spoke leads do not get the page (and the data layer refuses them too).

State: the draft being edited lives in ``st.session_state["rt_edit"]`` (draft id, the version it was read at,
the rules as a table, the default rule). It is refreshed only when the draft itself changes identity (started,
published, discarded) or after your own save, so a refused save (invalid rule, or someone else saved first)
keeps your edits in the table. Reads go through short-lived cached accessors, cleared after every write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts.routing_charts import per_day, replay_map, replay_table
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.routing import PRIORITIES, RuleError, RuleSet, diff, explain, parse_rule_set
from dashboard.domain.vocabulary import ItemKind
from dashboard.queries import routing as q
from dashboard.queries.kpis import list_units
from dashboard.services import routing as routing_service
from dashboard.settings import get_settings
from dashboard.ui import data, faq_view
from dashboard.ui.text import md
from dashboard.whatif.replay import UNROUTED, UNROUTED_NAME, replay

EDIT = "rt_edit"
REPLAY = "rt_replay"
FLASH = "rt_flash"
DEFAULT_DAYS = 30
COLUMNS = ["position", "enabled", "name", "target_unit", "priority", "sla_hours", "kinds", "channels", "topics",
           "segments", "keywords", "pattern", "id"]
LIST_FIELDS = ("kinds", "channels", "topics", "segments", "keywords")
NOT_EDITOR = "Only admins and hub leads change routing rules; you see them read-only."


def _url() -> str:
    return get_settings().database_url


# --- cached reads ------------------------------------------------------------------------------------------


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=16)
def _state(url: str, viewer: Viewer) -> dict:
    with data.engine().connect() as conn:
        return dict(active=q.active_rule_set(conn, viewer), draft=q.current_draft(conn, viewer),
                    units=list_units(conn, viewer)[["id", "name", "kind", "headcount"]],
                    waiting=q.waiting_count(conn, viewer))


@st.cache_data(ttl=data.ttl(), show_spinner=False, max_entries=16)
def _history(url: str, viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return q.list_rule_sets(conn, viewer, with_rules=True)


@st.cache_data(ttl=60, show_spinner=False, max_entries=2)  # a window's items can be large: keep few
def _replay_inputs(url: str, viewer: Viewer, days: int, now: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = now - dt.timedelta(days=days)
    with data.engine().connect() as conn:
        return q.replay_items(conn, viewer, start, now), q.replay_staffing(conn, viewer, start, now)


def clear_caches() -> None:
    _state.clear()
    _history.clear()


def load(viewer: Viewer) -> dict | None:
    """Active set, draft and units for this run; None (after an error message) when a stored set is unusable."""
    try:
        return _state(_url(), viewer)
    except RuleError as exc:
        st.error("A stored rule set cannot be read: " + md("; ".join(exc.problems)), icon=":material/error:")
        return None
    except NotPermitted as exc:
        st.error(md(exc), icon=":material/block:")
        return None


def _flash() -> None:
    for kind, text in st.session_state.pop(FLASH, []):
        (st.success if kind == "ok" else st.warning)(text, icon=":material/check:" if kind == "ok" else ":material/info:")


def _local(ts) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return fmt.moment(pd.Timestamp(ts), get_settings().tz)


def _names(state: dict) -> dict[str, str]:
    return dict(zip(state["units"].id, state["units"].name))


def _spokes(state: dict) -> list[str]:
    u = state["units"]
    return u[u.kind == "spoke"].id.tolist()


def _hub(state: dict) -> str:
    hubs = state["units"][state["units"].kind == "hub"].id.tolist()
    return hubs[0] if hubs else "hub"


# --- rules as a table --------------------------------------------------------------------------------------


def rules_frame(rule_set: RuleSet) -> pd.DataFrame:
    rows = [dict(position=i + 1, enabled=r.enabled, name=r.name, **{f: ", ".join(getattr(r, f)) for f in LIST_FIELDS},
                 pattern=r.pattern or "", target_unit=r.target_unit, priority=r.priority, sla_hours=r.sla_hours, id=r.id)
            for i, r in enumerate(rule_set.rules)]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"position": "Int64", "sla_hours": "float64", "enabled": "bool"})


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_-]+", "-", str(text).strip().lower()).strip("-_")[:56]
    return slug if slug and slug[0].isalnum() else f"rule-{slug}".strip("-") or "rule"


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA or str(value).strip() == ""


def table_to_rules(frame: pd.DataFrame) -> list[dict]:
    """The editor's rows as rule dicts in precedence order (by position, then table order). Wholly empty rows
    are ignored; an empty id is made from the name (unique in the set)."""
    frame = frame.reset_index(drop=True)
    rows = []
    for i, r in frame.iterrows():
        values = {c: r.get(c) for c in COLUMNS}
        if all(_blank(values[c]) for c in COLUMNS if c not in ("enabled", "position", "priority")):
            continue
        pos = values["position"]
        rows.append((float(pos) if not _blank(pos) else float("inf"), i, values))
    rows.sort(key=lambda t: (t[0], t[1]))
    taken = {str(v["id"]).strip() for _, _, v in rows if not _blank(v["id"])}
    rules = []
    for _, i, v in rows:
        rid = str(v["id"]).strip() if not _blank(v["id"]) else ""
        if not rid:
            base = _slug(v["name"] if not _blank(v["name"]) else f"rule-{i + 1}")
            rid, n = base, 2
            while rid in taken:
                rid, n = f"{base}-{n}", n + 1
            taken.add(rid)
        rule = dict(id=rid, name="" if _blank(v["name"]) else str(v["name"]).strip(),
                    enabled=True if _blank(v["enabled"]) else bool(v["enabled"]),
                    target_unit="" if _blank(v["target_unit"]) else str(v["target_unit"]),
                    priority="normal" if _blank(v["priority"]) else str(v["priority"]),
                    sla_hours=None if _blank(v["sla_hours"]) else float(v["sla_hours"]),
                    pattern=None if _blank(v["pattern"]) else str(v["pattern"]))
        for f in LIST_FIELDS:
            rule[f] = [] if _blank(v[f]) else [p.strip() for p in str(v[f]).split(",") if p.strip()]
        rules.append(rule)
    return rules


def _describe_default(rule_set: RuleSet, names: dict[str, str]) -> str:
    d = rule_set.default
    if d.target_unit is None:
        return "Items no rule matches stay **unrouted** in the hub's triage queue."
    sla = f", SLA {fmt.hours(d.sla_hours)}" if d.sla_hours else ""
    return f"Items no rule matches go to **{names.get(d.target_unit, d.target_unit)}** (priority {d.priority}{sla})."


def conditions_text(rule) -> str:
    """A rule's conditions in one line: "kind lead · segment vip · keywords buy, price · pattern /\\bhire/"."""
    parts = [f"{label} {', '.join(getattr(rule, field))}" for field, label in
             (("kinds", "kind"), ("channels", "channel"), ("topics", "topic"), ("segments", "segment"),
              ("keywords", "keywords")) if getattr(rule, field)]
    if rule.pattern:
        parts.append(f"pattern /{rule.pattern}/")
    return " · ".join(parts)


def _read_only_rules(rule_set: RuleSet, names: dict[str, str], key: str) -> None:
    if not rule_set.rules:
        st.caption("No rules yet.")
    else:
        r = rule_set.rules
        st.dataframe(pd.DataFrame({
            "position": range(1, len(r) + 1), "enabled": [x.enabled for x in r], "name": [x.name for x in r],
            "when": [conditions_text(x) for x in r], "target_unit": [names.get(x.target_unit, x.target_unit) for x in r],
            "priority": [x.priority for x in r], "sla_hours": [x.sla_hours for x in r], "id": [x.id for x in r],
        }), hide_index=True, width="stretch", key=key, placeholder="—", column_config=_column_config(names, True)
            | {"when": st.column_config.TextColumn("When", width="large")})
    st.markdown(_describe_default(rule_set, names))


def _column_config(names: dict[str, str], read_only: bool, spokes: list[str] | None = None) -> dict:
    cc = st.column_config
    known_kinds = ", ".join(k.value for k in ItemKind)
    return {
        "position": cc.NumberColumn("#", help="Precedence: the first enabled rule that matches wins. Change the "
                                    "numbers to reorder (ties keep the table order).", min_value=1, step=1, format="%d"),
        "enabled": cc.CheckboxColumn("On", help="Disabled rules are kept but skipped", default=True),
        "name": cc.TextColumn("Name", required=True, max_chars=200),
        "kinds": cc.TextColumn("Kinds", help=f"Comma-separated; empty = any. Known kinds: {known_kinds}"),
        "channels": cc.TextColumn("Channels", help="Comma-separated (e.g. social, web, email); empty = any"),
        "topics": cc.TextColumn("Topics", help="Comma-separated topic / intent labels; empty = any"),
        "segments": cc.TextColumn("Segments", help="Comma-separated customer segments (e.g. consumer, business); "
                                  "empty = any"),
        "keywords": cc.TextColumn("Keywords", help="Comma-separated; any of them as a whole word or phrase in the "
                                  "text, ignoring case and accents"),
        "pattern": cc.TextColumn("Pattern", help="A regular expression searched in the text (case and accents "
                                 "ignored), e.g. \\bhir(e|ing)\\b", max_chars=300),
        "target_unit": (cc.TextColumn("Send to") if read_only else
                        cc.SelectboxColumn("Send to", options=spokes or [], required=True,
                                           format_func=lambda u: names.get(u, u))),
        "priority": (cc.TextColumn("Priority") if read_only else
                     cc.SelectboxColumn("Priority", options=list(PRIORITIES), default="normal", required=True)),
        "sla_hours": cc.NumberColumn("SLA", help="Hours to resolve; empty (—): keep the item's own SLA", min_value=0.01,
                                     format=fmt.HOURS),
        "id": cc.TextColumn("Id", help="Short unique id (a-z, 0-9, - and _). Empty: made from the name. Items "
                            "remember the id of the rule that routed them.", max_chars=64),
    }


# --- Rules tab ---------------------------------------------------------------------------------------------


def _edit_state(draft) -> dict:
    """The editing state for ``draft``, (re)made when the draft itself changed identity."""
    current = st.session_state.get(EDIT)
    if current is None or current["draft_id"] != draft.id:
        current = dict(draft_id=draft.id, version=draft.version, token=(current or {}).get("token", 0) + 1,
                       rules=rules_frame(draft.rule_set), default=draft.rule_set.default.model_dump(), name=draft.name)
        st.session_state[EDIT] = current
    return current


def _reset_edit(stored) -> None:
    old = st.session_state.get(EDIT) or {}
    st.session_state[EDIT] = dict(draft_id=stored.id, version=stored.version, token=old.get("token", 0) + 1,
                                  rules=rules_frame(stored.rule_set), default=stored.rule_set.default.model_dump(),
                                  name=stored.name)


def _write(viewer: Viewer, fn, *args, **kwargs):
    """Run a write in one transaction; on a refusal show why (the form keeps its input) and return None."""
    try:
        with data.engine().begin() as conn:
            return fn(conn, viewer, *args, **kwargs)
    except RuleError as exc:
        st.error("Not saved — fix these problems (your edits are still in the table):\n"
                 + "\n".join(f"- {md(p)}" for p in exc.problems), icon=":material/error:")
    except (routing_service.StaleDraft, routing_service.DraftExists, NotPermitted, ValueError) as exc:
        st.error(md(exc), icon=":material/error:")
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was saved; your edits are still in the table, so you can try again.")
    return None


def rules_section(viewer: Viewer, state: dict) -> dict | None:
    """The Rules tab; returns the editor's current (unsaved) rule set as data, for "Try a rule"."""
    names = _names(state)
    active, draft = state["active"], state["draft"]
    _flash()
    st.subheader("Active rules")
    if active is None:
        st.info("No rule set has been published yet: every item arriving at the hub waits unrouted in its triage "
                "queue until a person routes it.", icon=":material/alt_route:")
    else:
        st.caption(f"Version #{active.id} “{md(active.name)}”, published by {md(active.published_by)} on "
                   f"{_local(active.published_at)}: {md(active.note or 'no note')}")
        _read_only_rules(active.rule_set, names, "rt_active_table")

    st.subheader("Draft")
    if draft is None:
        if not viewer.can_edit_routing:
            st.caption("No draft is being edited.")
            return None
        label = "Start a draft from the active set" if active else "Start the first draft"
        if st.button(label, icon=":material/edit_note:", key="rt_start"):
            base = active.rule_set if active else RuleSet()
            stored = _write(viewer, routing_service.save_draft, base, based_on=active.id if active else None,
                            name=f"Changes to {active.name}" if active else "First rules")
            if stored is not None:
                clear_caches()
                _reset_edit(stored)
                st.rerun()
        return None
    st.caption(f"Draft #{draft.id} “{md(draft.name)}”, version {draft.version}, last saved by {md(draft.updated_by)} on "
               f"{_local(draft.updated_at)}" + (f" · based on #{draft.based_on}" if draft.based_on else ""))
    if not viewer.can_edit_routing:
        st.caption(NOT_EDITOR)
        _read_only_rules(draft.rule_set, names, "rt_draft_table")
        return None
    edit = _edit_state(draft)
    if draft.version != edit["version"]:
        st.warning(f"{md(draft.updated_by)} saved a newer version of this draft ({_local(draft.updated_at)}); your table "
                   f"is based on version {edit['version']}. Saving will be refused: reload the draft to see their "
                   "changes (this drops your unsaved edits).", icon=":material/sync_problem:")
        if st.button("Reload the draft", key="rt_reload"):
            _reset_edit(draft)
            st.rerun()
    spokes = _spokes(state)
    token = edit["token"]
    st.caption("One row per rule, in precedence order (#). Lists are comma-separated; an empty list means any "
               "value. Add rows at the bottom; select rows and press Delete to remove them.")
    edited = st.data_editor(edit["rules"], num_rows="dynamic", hide_index=True, width="stretch", placeholder="—",
                            key=f"rt_rules_{token}", column_order=COLUMNS,
                            column_config=_column_config(names, False, spokes))
    default = edit["default"]
    options = ["", *spokes]
    target = st.selectbox("Items no rule matches (the default rule)", options,
                         index=options.index(default.get("target_unit") or "") if (default.get("target_unit") or "") in options else 0,
                         format_func=lambda u: f"Send to {names.get(u, u)}" if u else "Leave unrouted (hub triage queue)",
                         key=f"rt_default_target_{token}")
    b, c = st.columns(2)
    priority = b.selectbox("Priority of those items", list(PRIORITIES), index=list(PRIORITIES).index(default.get("priority", "normal")),
                           key=f"rt_default_priority_{token}")
    sla = c.number_input("Their SLA in hours", min_value=0.0, value=float(default.get("sla_hours") or 0.0),
                         step=1.0, format="%.1f", key=f"rt_default_sla_{token}", help="0: each item keeps its own SLA")
    name = st.text_input("Draft name", value=edit["name"], max_chars=200, key=f"rt_name_{token}")
    rule_set = dict(rules=table_to_rules(edited), default=dict(target_unit=target or None, priority=priority,
                                                               sla_hours=sla or None))
    buttons = st.container(horizontal=True)  # buttons as wide as their labels, wrapping on a phone
    if buttons.button("Save draft", type="primary", icon=":material/save:", key="rt_save"):
        stored = _write(viewer, routing_service.save_draft, rule_set, draft_id=draft.id, version=edit["version"], name=name)
        if stored is not None:
            clear_caches()
            _reset_edit(stored)
            st.session_state[FLASH] = [("ok", f"Draft saved (version {stored.version}, {len(stored.rule_set.rules)} "
                                              "rules). Replay it before publishing.")]
            st.rerun()
    if buttons.button("Discard draft", icon=":material/delete:", key="rt_discard"):
        st.session_state["rt_confirm_discard"] = True
    if st.session_state.get("rt_confirm_discard"):
        st.warning("Discard the draft and every change in it? Published versions are not affected.")
        confirm = st.container(horizontal=True)
        if confirm.button("Yes, discard", key="rt_discard_yes"):
            st.session_state.pop("rt_confirm_discard", None)
            done = _write(viewer, routing_service.discard_draft, draft.id, edit["version"])
            if done is not None:
                clear_caches()
                st.session_state.pop(EDIT, None)
                st.session_state[FLASH] = [("ok", "Draft discarded.")]
                st.rerun()
        if confirm.button("Keep it", key="rt_discard_no"):
            st.session_state.pop("rt_confirm_discard", None)
            st.rerun()
    return rule_set


# --- Try tab -----------------------------------------------------------------------------------------------


def try_section(viewer: Viewer, state: dict, unsaved: dict | None = None) -> None:
    """Which rule fires for a typed or an existing item, and why; on the saved draft, the active set, or the
    editor's unsaved table (``unsaved``, from :func:`rules_section`) when it differs from the saved draft."""
    names = _names(state)
    sets = {}
    if unsaved is not None and state["draft"] is not None:
        try:
            candidate = parse_rule_set(unsaved)
        except RuleError as exc:
            candidate = exc
        if not isinstance(candidate, RuleSet) or candidate != state["draft"].rule_set:
            sets["unsaved"] = ("Your unsaved edits", candidate)
    if state["draft"] is not None:
        sets["draft"] = (f"Draft #{state['draft'].id} (saved version {state['draft'].version})", state["draft"].rule_set)
    if state["active"] is not None:
        sets["active"] = (f"Active #{state['active'].id}", state["active"].rule_set)
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
    if mode == "typed":
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
            return
    else:
        item_id = st.text_input("Item id", key="rt_try_item", max_chars=64)
        if not item_id.strip():
            st.caption("Enter the id of a work item (from a spoke's inbox or an export).")
            return
        try:
            with data.engine().connect() as conn:
                item = q.find_item(conn, viewer, item_id)
        except NotPermitted as exc:
            st.error(md(exc), icon=":material/block:")
            return
        if item is None:
            st.warning(f"There is no work item with the id “{md(item_id.strip())}”.", icon=":material/search_off:")
            return
        went = names.get(item["target_unit"], item["target_unit"])
        st.caption(md(f"{item['kind']} via {item['channel']} · topic {item['topic'] or '—'} · segment "
                      f"{item['segment'] or '—'} · now at {went} ({item['status']}"
                      + (f", routed by rule {item['rule_id']}" if item.get("rule_id") else "") + ")"))
        if item.get("text"):
            st.text(item["text"][:1000])
    decision, traces = explain(rule_set, item)
    if decision.target_unit is None:
        st.warning("**Unrouted**: " + md(decision.reason), icon=":material/inbox:")
    else:
        sla = f" · SLA {fmt.hours(decision.sla_hours)}" if decision.sla_hours else " · the item keeps its own SLA"
        st.success(f"**→ {md(names.get(decision.target_unit, decision.target_unit))}** · priority {decision.priority}{sla}",
                   icon=":material/alt_route:")
        st.caption(md(decision.reason))
    if traces:
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


# --- Replay & publish tab ----------------------------------------------------------------------------------


def _differs(unsaved: dict | None, saved: RuleSet) -> bool:
    if unsaved is None:
        return False
    try:
        return parse_rule_set(unsaved) != saved
    except RuleError:
        return True


def replay_section(viewer: Viewer, state: dict, unsaved: dict | None = None) -> None:
    """Replay the saved draft and publish it; ``unsaved`` (the editor's table) only triggers a reminder."""
    draft = state["draft"]
    _flash_publish()
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
    if right.button("Run replay", icon=":material/replay:", key="rt_run"):
        now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
        try:
            with st.spinner(f"Replaying the draft over the last {days} days of items…"):
                items, staffing = _replay_inputs(_url(), viewer, days, now)
                result = replay(draft.rule_set, items, staffing, now=now, days=days, hub_id=_hub(state))
        except (ValueError, NotPermitted) as exc:
            st.error(f"The replay failed: {md(exc)}", icon=":material/error:")
            return
        # the per-item decisions are not shown: keep the session light (they are as long as the window's items)
        result = dataclasses.replace(result, decisions=result.decisions.iloc[0:0])
        st.session_state[REPLAY] = dict(draft_id=draft.id, version=draft.version, days=days, result=result, at=now)
    done = st.session_state.get(REPLAY)
    if done and (done["draft_id"], done["version"]) != (draft.id, draft.version):
        st.info("The draft changed since the last replay: run it again.", icon=":material/sync_problem:")
        done = None
    if done:
        _show_replay(done, state)
    _publish_form(viewer, draft, replayed=bool(done), waiting=state.get("waiting", 0))


def _show_replay(done: dict, state: dict) -> None:
    result, days = done["result"], done["days"]
    names = _names(state)
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
    per_spoke = result.per_spoke.copy()
    per_spoke["name"] = per_spoke.unit.map(names | {UNROUTED: UNROUTED_NAME}).fillna(per_spoke.name)
    st.dataframe(replay_table(per_spoke, days), hide_index=True, width="stretch", key="rt_replay_table",
                 column_config=_replay_columns(), placeholder="—")
    st.plotly_chart(replay_map(state["units"], per_spoke, days), key="rt_replay_map",
                    config={"displayModeBar": False})
    if not result.moves.empty:
        moves = result.moves.head(20)
        st.caption("Largest moves")
        labels = names | {UNROUTED: UNROUTED_NAME}
        st.dataframe(pd.DataFrame({
            "From": moves.from_unit.map(labels).fillna(moves.from_unit),
            "To": moves.to_unit.map(labels).fillna(moves.to_unit),
            "Items": moves["items"], "Per day": [per_day(n, days, signed=False) for n in moves["items"]],
        }), hide_index=True, key="rt_moves", column_config={"Items": st.column_config.NumberColumn(format=fmt.COUNT)})
    st.caption(f"Replayed at {_local(done['at'])} over {days} days. Utilisation, waits and the estimated SLA "
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


def _flash_publish() -> None:
    for _kind, text in st.session_state.pop("rt_publish_flash", []):
        st.success(text, icon=":material/check:")


def _publish_and_route(conn, viewer: Viewer, draft_id: int, version: int, note: str, route: bool):
    """Publish, and with ``route`` send the items waiting at the hub through the new rules: one transaction."""
    stored = routing_service.publish(conn, viewer, draft_id, version, note)
    return stored, (routing_service.route_waiting(conn, viewer) if route else 0)


def _publish_form(viewer: Viewer, draft, replayed: bool, waiting: int = 0) -> None:
    st.subheader("Publish")
    if not viewer.can_edit_routing:
        st.caption(NOT_EDITOR)
    elif not replayed:
        st.caption("Run the replay first to see what the draft would change.")
    note = st.text_area("What changed and why (required)", key="rt_note", max_chars=2000,
                        disabled=not viewer.can_edit_routing)
    route = False
    if waiting:
        route = st.checkbox(f"Also route the {waiting:,} item{'s' if waiting != 1 else ''} waiting in the hub's "
                            "triage queue with the new rules (items no rule matches keep waiting)", value=True,
                            key="rt_route_waiting", disabled=not viewer.can_edit_routing)
    if st.button("Publish the draft", type="primary", icon=":material/publish:", key="rt_publish",
                 disabled=not viewer.can_edit_routing, help=None if viewer.can_edit_routing else NOT_EDITOR):
        done = _write(viewer, _publish_and_route, draft.id, draft.version, note, route)
        if done is not None:
            stored, moved = done
            clear_caches()
            for key in (EDIT, REPLAY, "rt_note"):
                st.session_state.pop(key, None)
            routed = f" {moved:,} waiting item{'s were' if moved != 1 else ' was'} routed with it." if route else ""
            st.session_state["rt_publish_flash"] = [("ok", f"Published: rule set #{stored.id} is active. New items "
                                                           f"arriving at the hub are routed with it.{routed}")]
            st.rerun()


# --- FAQ and History tabs -----------------------------------------------------------------------------------


def faq_section(viewer: Viewer) -> None:
    """Recurring questions among routed mentions (helper view: :mod:`dashboard.ui.faq_view`)."""
    faq_view.render(viewer)


def history_section(viewer: Viewer, state: dict) -> None:
    try:
        history = _history(_url(), viewer)
    except RuleError as exc:
        st.error("A stored rule set cannot be read: " + md("; ".join(exc.problems)), icon=":material/error:")
        return
    if history.empty:
        st.info("No rule set has been saved yet.", icon=":material/history:")
        return
    st.dataframe(pd.DataFrame({
        "#": history.id, "Status": history.status, "Name": history.name,
        "Published by": history.published_by.fillna("—"), "Published": [_local(t) for t in history.published_at],
        "Last saved by": history.updated_by, "Note": history.note.fillna(""),
    }), hide_index=True, width="stretch", key="rt_history",
        column_config={"#": st.column_config.NumberColumn(format="%d", width="small"),
                       "Published": st.column_config.TextColumn(f"Published ({get_settings().timezone})")})
    published = history[history.status != "draft"].sort_values("published_at", na_position="first")
    previous: dict[int, RuleSet | None] = {}
    before = None
    for row in published.itertuples():
        previous[row.id] = before
        before = row.rule_set
    active = state["active"]
    for row in history.head(20).itertuples():
        if row.status == "draft":
            title = f"Draft #{row.id} (not published) — changes against the active set"
            base = active.rule_set if active else None
        else:
            title = f"#{row.id} {row.status} — published by {md(row.published_by)} on {_local(row.published_at)}"
            base = previous.get(row.id)
        with st.expander(title):
            if row.note:
                st.markdown(f"**Note:** {md(row.note)}")
            changes = diff(base, row.rule_set, _names(state))
            if changes:
                st.markdown("\n".join(f"- {md(c)}" for c in changes))
            else:
                st.caption("No change to the rules.")
