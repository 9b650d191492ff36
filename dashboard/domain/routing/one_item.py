"""One item through a rule set: the decision (:func:`route_one`) and, rule by rule, why each matched or not
(:func:`explain`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.domain.routing.folding import fold, is_missing
from dashboard.domain.routing.rules import CATEGORY_FIELDS, DEFAULT_RULE_ID, FIELD_LABEL, ITEM_FIELD, Rule, RuleSet


@dataclass(frozen=True)
class Decision:
    """Where one item goes. ``rule_id`` is the rule that fired, ``"default"`` for the default rule, and None
    (with ``target_unit`` None) when the item stays unrouted in the hub's triage queue."""

    target_unit: str | None
    priority: str
    sla_hours: float | None
    rule_id: str | None
    reason: str

    @property
    def routed(self) -> bool:
        return self.target_unit is not None


@dataclass(frozen=True)
class RuleTrace:
    """Why one rule did or did not match an item; ``fired`` for the rule whose decision was taken."""

    rule_id: str
    name: str
    enabled: bool
    matched: bool
    fired: bool
    reasons: list[str]


def _quote_list(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _check_rule(rule: Rule, item: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Whether every condition of ``rule`` holds for ``item``, with one readable reason per condition."""
    ok = True
    reasons: list[str] = []
    for f in CATEGORY_FIELDS:
        wanted = getattr(rule, f)
        if not wanted:
            continue
        label = FIELD_LABEL[f]
        value = item.get(ITEM_FIELD[f])
        if is_missing(value):
            ok = False
            reasons.append(f"the item has no {label} (wanted one of {_quote_list(wanted)})")
        elif fold(value) in rule.folded_values(f):
            reasons.append(f"{label} {str(value).strip()!r} is one of {_quote_list(wanted)}")
        else:
            ok = False
            reasons.append(f"{label} {str(value).strip()!r} is not one of {_quote_list(wanted)}")
    text = item.get("text")
    folded = None if is_missing(text) else fold(text)
    if rule.keyword_regex is not None:
        found = rule.keyword_regex.search(folded) if folded is not None else None
        if folded is None:
            ok = False
            reasons.append(f"the item has no text (wanted a keyword: {_quote_list(rule.keywords)})")
        elif found:
            word = next((k for k in rule.keywords if fold(k) == " ".join(found.group(0).split())), found.group(0))
            reasons.append(f"keyword {word!r} found in the text")
        else:
            ok = False
            reasons.append(f"none of the keywords {_quote_list(rule.keywords)} is in the text as a whole word")
    if rule.pattern_regex is not None:
        hit = rule.pattern_regex.search(folded) if folded is not None else None
        if folded is None:
            ok = False
            reasons.append(f"the item has no text (wanted pattern {rule.pattern!r})")
        elif hit:
            reasons.append(f"pattern {rule.pattern!r} found {hit.group(0)!r}")
        else:
            ok = False
            reasons.append(f"pattern {rule.pattern!r} does not occur in the text")
    return ok, reasons


def _default_decision(rule_set: RuleSet) -> Decision:
    d = rule_set.default
    if d.target_unit is None:
        return Decision(None, d.priority, d.sla_hours, None,
                        "no rule matched and the default rule leaves it unrouted (hub triage queue)")
    return Decision(d.target_unit, d.priority, d.sla_hours, DEFAULT_RULE_ID,
                    f"no rule matched: the default rule sends it to {d.target_unit!r}")


def _rule_decision(rule: Rule, reasons: list[str]) -> Decision:
    because = "; ".join(reasons)
    return Decision(rule.target_unit, rule.priority, rule.sla_hours, rule.id,
                    f"rule {rule.name!r} ({rule.id}) sends it to {rule.target_unit!r}: {because}")


def explain(rule_set: RuleSet, item: Mapping[str, Any]) -> tuple[Decision, list[RuleTrace]]:
    """The decision for ``item`` and, for every rule in order, whether it matched and why (or why not).

    Rules after the one that fired are still evaluated so a hub lead sees which later rules would also have
    matched (shadowed by precedence); disabled rules are evaluated too and marked as skipped.
    """
    decision: Decision | None = None
    traces: list[RuleTrace] = []
    for rule in rule_set.rules:
        matched, reasons = _check_rule(rule, item)
        fired = False
        if not rule.enabled:
            reasons = ["disabled: skipped"] + reasons
        elif matched and decision is None:
            decision = _rule_decision(rule, reasons)
            fired = True
        elif matched:
            reasons = reasons + ["shadowed: an earlier rule already matched"]
        traces.append(RuleTrace(rule.id, rule.name, rule.enabled, matched, fired, reasons))
    return (decision or _default_decision(rule_set)), traces


def route_one(rule_set: RuleSet, item: Mapping[str, Any]) -> Decision:
    """The decision for one item (keys kind, channel, topic, segment, text; missing keys count as missing)."""
    for rule in rule_set.rules:
        if rule.enabled:
            matched, reasons = _check_rule(rule, item)
            if matched:
                return _rule_decision(rule, reasons)
    return _default_decision(rule_set)
