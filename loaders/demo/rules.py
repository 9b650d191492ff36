"""Routing rules of the demo.

The hub's active rule set reproduces the hub -> spoke routes of :data:`loaders.spec.ROUTES` (a test runs
route_frame over the demo's items): job questions before complaint words before purchase intent, VIP leads and
complaints first, every other hub item by kind; a mention no rule matches waits unrouted in the hub's triage queue.
SLAs are the routes' own. The archived first version shows on the History tab what publishing the current one
changed. Each generated hub -> spoke item carries the rule and priority of the active set that routes it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loaders.demo.clock import HOUR_US, datetime_at, midnight_us
from loaders.spec import RouteSpec, const


def _rule(id: str, name: str, target: str, priority: str, sla: float, **conditions) -> dict:
    return {"id": id, "name": name, "enabled": True, **conditions, "target_unit": target, "priority": priority,
            "sla_hours": sla}


JOB_WORDS = ["hiring", "apply", "internship", "role", "job", "jobs", "career", "careers", "work on your"]
COMPLAINT_WORDS = ["stopped working", "refund", "late", "damaged", "disappointed", "broken", "nobody answers"]
PURCHASE_WORDS = ["buy", "in stock", "worth it", "discount", "price"]
STANDARD_RULES: dict = {
    "rules": [
        _rule("jobs", "Job questions to HR", "hr", "low", 24, kinds=["mention"], keywords=JOB_WORDS),
        _rule("complaint-mentions", "Complaints in mentions to Customer service", "customer_service", "high", 4,
              kinds=["mention"], keywords=COMPLAINT_WORDS),
        _rule("purchase-intent", "Purchase intent to Sales", "sales", "high", 2, kinds=["mention"],
              keywords=PURCHASE_WORDS),
        _rule("vip-leads", "VIP leads first", "sales", "high", 4, kinds=["lead"], segments=["vip"]),
        _rule("leads", "Leads to Sales", "sales", "normal", 4, kinds=["lead"]),
        _rule("vip-complaints", "VIP complaints first", "customer_service", "high", 8, kinds=["complaint"],
              segments=["vip"]),
        _rule("complaints", "Complaints to Customer service", "customer_service", "normal", 8, kinds=["complaint"]),
        _rule("promotion-notices", "Promotion notices to Customer service", "customer_service", "low", 24,
              kinds=["promotion_notice"]),
        _rule("reports", "Reports to Finance", "finance", "normal", 48, kinds=["report"]),
        _rule("insights", "Insights to Product", "product", "low", 72, kinds=["insight"]),
    ],
    "default": {"target_unit": None, "priority": "normal", "sla_hours": None},
}
EARLIER_RULES: dict = {  # the first version: purchase intent before complaint words, no VIP rules, fewer job words
    "rules": [
        _rule("jobs", "Job questions to HR", "hr", "low", 24, kinds=["mention"],
              keywords=["hiring", "apply", "internship", "job", "jobs"]),
        _rule("purchase-intent", "Purchase intent to Sales", "sales", "normal", 2, kinds=["mention"],
              keywords=PURCHASE_WORDS),
        _rule("complaint-mentions", "Complaints in mentions to Customer service", "customer_service", "high", 4,
              kinds=["mention"], keywords=["refund", "late", "damaged", "broken"]),
        _rule("leads", "Leads to Sales", "sales", "normal", 4, kinds=["lead"]),
        _rule("complaints", "Complaints to Customer service", "customer_service", "normal", 12, kinds=["complaint"]),
        _rule("promotion-notices", "Promotion notices to Customer service", "customer_service", "low", 24,
              kinds=["promotion_notice"]),
        _rule("reports", "Reports to Finance", "finance", "normal", 48, kinds=["report"]),
        _rule("insights", "Insights to Product", "product", "low", 72, kinds=["insight"]),
    ],
    "default": {"target_unit": None, "priority": "normal", "sla_hours": None},
}
VIP_RULES = {"leads": "vip-leads", "complaints": "vip-complaints"}  # the rule a VIP item of the route gets
RULE_PRIORITY = {r["id"]: r["priority"] for r in STANDARD_RULES["rules"]}
RULES_PUBLISHED_DAYS = (120, 60)  # the earlier version was published this many days ago, the current one ...
UNROUTED_TEXTS = (
    "Love the new ad!",
    "Who sings the song in your TV spot?",
    "Great stand at the home fair yesterday",
    "Your newsletter made my day",
    "Red or silver, which colour should I pick?",
    "Happy holidays to the whole team!",
)
UNROUTED_WAITING = 9  # mentions no rule matches, waiting in the hub's triage queue (fewer in tiny demos)


def route_rules(spec: RouteSpec, segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rule of STANDARD_RULES that routes each of a route's items, and that rule's priority."""
    n = len(segment)
    if spec.rule_id is None:
        return const(None, n), const(None, n)
    rule = const(spec.rule_id, n)
    if spec.rule_id in VIP_RULES:
        rule[segment == "vip"] = VIP_RULES[spec.rule_id]
    return rule, _priorities(rule)


def _priorities(rule: np.ndarray) -> np.ndarray:
    out = np.empty(len(rule), dtype=object)
    for rule_id in pd.unique(rule):
        out[rule == rule_id] = RULE_PRIORITY.get(rule_id)
    return out


def rule_set_rows(now_us: int) -> list[dict]:
    """The archived first version and the active "Standard routing" (published by "demo" 60 days ago)."""
    first, current = (datetime_at(midnight_us(now_us, d) + 9 * HOUR_US) for d in RULES_PUBLISHED_DAYS)
    common = dict(name="Standard routing", version=1, created_by="demo", updated_by="demo", published_by="demo")
    return [
        common | dict(status="archived", rules=EARLIER_RULES, created_at=first, updated_at=first,
                      published_at=first, note="First rule set, written from the hub's triage notes"),
        common | dict(status="active", rules=STANDARD_RULES, created_at=current, updated_at=current,
                      published_at=current,
                      note="Complaint words before purchase intent; VIP leads and complaints first; more job words"),
    ]
