"""Rules as a table: a rule set as the editor's rows and the editor's rows back as rule data, the columns'
looks, the read-only table of a set, and times as people read them."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.routing import PRIORITIES, RuleSet
from dashboard.domain.vocabulary import ItemKind
from dashboard.settings import get_settings

COLUMNS = ["position", "enabled", "name", "target_unit", "priority", "sla_hours", "kinds", "channels", "topics",
           "segments", "keywords", "pattern", "id"]
LIST_FIELDS = ("kinds", "channels", "topics", "segments", "keywords")


def moment(ts) -> str:
    """A stored time in the organisation's zone ("—" when there is none)."""
    if ts is None or pd.isna(ts):
        return "—"
    return fmt.moment(pd.Timestamp(ts), get_settings().tz)


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


def describe_default(rule_set: RuleSet, names: dict[str, str]) -> str:
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


def read_only_rules(rule_set: RuleSet, names: dict[str, str], key: str) -> None:
    """A rule set as a table nobody edits, and what happens to the items no rule matches."""
    if not rule_set.rules:
        st.caption("No rules yet.")
    else:
        r = rule_set.rules
        st.dataframe(pd.DataFrame({
            "position": range(1, len(r) + 1), "enabled": [x.enabled for x in r], "name": [x.name for x in r],
            "when": [conditions_text(x) for x in r], "target_unit": [names.get(x.target_unit, x.target_unit) for x in r],
            "priority": [x.priority for x in r], "sla_hours": [x.sla_hours for x in r], "id": [x.id for x in r],
        }), hide_index=True, width="stretch", key=key, placeholder="—", column_config=column_config(names, True)
            | {"when": st.column_config.TextColumn("When", width="large")})
    st.markdown(describe_default(rule_set, names))


def column_config(names: dict[str, str], read_only: bool, spokes: list[str] | None = None) -> dict:
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

