"""What the demo organisation's work looks like, shared by the demo generator (:mod:`loaders.demo`) and the live
simulator (:mod:`loaders.simulate`), so new items look like the demo's: the routes work takes between the hub
and its spokes, their channels, topics, segments and texts, and the KPIs counted from the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from dashboard.domain.vocabulary import ItemKind

DATASET = "demo"  # app_meta "dataset" of a database the demo loaded

PRODUCTS = ("X200 microwave", "AirPure 3 purifier", "Nova S blender", "K9 kettle", "Breeze tower fan")
MENTION_TEMPLATES: dict[str, tuple[str, ...]] = {
    "purchase_intent": (
        "Does anyone know where to buy the {p}?",
        "Is the {p} in stock anywhere near me?",
        "Thinking about getting the {p} - is it worth it?",
        "Any discount codes for the {p}?",
    ),
    "complaint": (
        "My {p} stopped working after two weeks.",
        "Still waiting for a refund on my {p}.",
        "Delivery of my {p} is a week late and nobody answers.",
        "The {p} arrived damaged, really disappointed.",
    ),
    "jobs": (
        "Are you hiring data analysts this year?",
        "How do I apply for the marketing internship?",
        "Is the customer service role still open?",
        "What is it like to work on your product team?",
    ),
}


@dataclass(frozen=True)
class RouteSpec:
    """One kind of work moving from ``source`` to ``target``.

    ``share`` is its share of all items; cycle times are log-normal with median ``cycle_frac`` x SLA, so
    ``cycle_frac`` sets how often the SLA is breached (0.4 -> ~6 %, 0.75 -> ~32 %).
    """

    source: str
    target: str
    kind: ItemKind
    share: float
    sla_hours: float
    cycle_frac: float
    profile: Literal["office", "consumer"]
    channels: tuple[tuple[str, float], ...]
    topics: tuple[str, ...]
    value_eur: float | None = None  # mean value per item (log-normal), e.g. expected deal size of a lead
    mention_topic: str | None = None  # mentions: topic and text templates from MENTION_TEMPLATES
    rule_id: str | None = None  # the rule of STANDARD_RULES that routes it (hub -> spoke routes only)
    segments: tuple[tuple[str, float], ...] | None = None  # customer segments of inbound customer items


INTERNAL = (("internal", 1.0),)
LEAD_SEGMENTS = (("consumer", 0.7), ("business", 0.25), ("vip", 0.05))
COMPLAINT_SEGMENTS = (("consumer", 0.78), ("business", 0.17), ("vip", 0.05))
MENTION_SEGMENTS = (("consumer", 0.9), ("business", 0.06), ("vip", 0.04))
ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("hub", "sales", ItemKind.LEAD, 0.28, 4, 0.40, "consumer",
              (("social", 0.4), ("web", 0.4), ("email", 0.2)), ("kitchen", "cleaning", "climate", "small_appliances"), 1500,
              rule_id="leads", segments=LEAD_SEGMENTS),
    RouteSpec("hub", "sales", ItemKind.MENTION, 0.06, 2, 0.40, "consumer", (("social", 1.0),),
              ("purchase_intent",), 300, mention_topic="purchase_intent", rule_id="purchase-intent",
              segments=MENTION_SEGMENTS),
    RouteSpec("hub", "customer_service", ItemKind.COMPLAINT, 0.12, 8, 0.55, "consumer",
              (("email", 0.45), ("web", 0.3), ("social", 0.25)), ("delivery", "billing", "product_defect", "refund"),
              rule_id="complaints", segments=COMPLAINT_SEGMENTS),
    RouteSpec("hub", "customer_service", ItemKind.MENTION, 0.05, 4, 0.50, "consumer", (("social", 1.0),),
              ("complaint",), mention_topic="complaint", rule_id="complaint-mentions", segments=MENTION_SEGMENTS),
    RouteSpec("hub", "customer_service", ItemKind.PROMOTION_NOTICE, 0.05, 24, 0.35, "office", INTERNAL,
              ("spring_sale", "newsletter", "price_change", "product_launch"), rule_id="promotion-notices"),
    RouteSpec("hub", "hr", ItemKind.MENTION, 0.03, 24, 0.40, "consumer", (("social", 1.0),), ("jobs",),
              mention_topic="jobs", rule_id="jobs", segments=MENTION_SEGMENTS),
    RouteSpec("hub", "finance", ItemKind.REPORT, 0.025, 48, 0.45, "office", INTERNAL, ("budget", "revenue"),
              rule_id="reports"),
    RouteSpec("hub", "product", ItemKind.INSIGHT, 0.045, 72, 0.75, "office", (("analytics", 1.0),),
              ("feature_usage", "churn_signals", "search_trends", "reviews"), rule_id="insights"),
    RouteSpec("sales", "hub", ItemKind.REQUEST, 0.06, 24, 0.45, "office", INTERNAL,
              ("campaign_brief", "lead_scoring", "dashboard", "content")),
    RouteSpec("sales", "hub", ItemKind.ESCALATION, 0.02, 4, 0.45, "office", INTERNAL, ("key_account", "pricing_issue")),
    RouteSpec("sales", "hub", ItemKind.REPORT, 0.02, 48, 0.40, "office", INTERNAL, ("crm_export", "pipeline_data")),
    RouteSpec("customer_service", "hub", ItemKind.ESCALATION, 0.03, 4, 0.60, "office", INTERNAL,
              ("viral_complaint", "press", "product_safety")),
    RouteSpec("customer_service", "hub", ItemKind.REQUEST, 0.03, 24, 0.40, "office", INTERNAL, ("faq_content", "promo_details")),
    RouteSpec("finance", "hub", ItemKind.REPORT, 0.03, 48, 0.40, "office", INTERNAL, ("budget_actuals", "cost_allocation")),
    RouteSpec("finance", "hub", ItemKind.REQUEST, 0.02, 24, 0.45, "office", INTERNAL, ("roi_analysis", "forecast_input")),
    RouteSpec("product", "hub", ItemKind.REQUEST, 0.04, 24, 0.45, "office", INTERNAL,
              ("launch_campaign", "user_research", "ab_test")),
    RouteSpec("product", "hub", ItemKind.REPORT, 0.03, 48, 0.40, "office", INTERNAL, ("usage_data", "release_notes")),
    RouteSpec("hr", "hub", ItemKind.REQUEST, 0.025, 48, 0.40, "office", INTERNAL, ("employer_branding", "job_ads")),
    RouteSpec("hr", "hub", ItemKind.REPORT, 0.01, 72, 0.40, "office", INTERNAL, ("headcount_data",)),
)

# KPIs counted from the work-item flow rather than drawn at random (the simulator keeps doing so)
DERIVED_KPIS: dict[str, ItemKind] = {"leads": ItemKind.LEAD}


def const(value: object, n: int) -> np.ndarray:
    return np.repeat(np.array([value], dtype=object), n)


def pick(rng: np.random.Generator, options: tuple[tuple[str, float], ...], n: int) -> np.ndarray:
    names = np.array([o[0] for o in options], dtype=object)
    p = np.array([o[1] for o in options])
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _mention_texts(rng: np.random.Generator, topic: str, n: int) -> np.ndarray:
    texts = np.array(sorted({t.format(p=p) for t in MENTION_TEMPLATES[topic] for p in PRODUCTS}), dtype=object)
    return texts[rng.integers(0, len(texts), n)]


def route_attributes(rng: np.random.Generator, spec: RouteSpec, n: int) -> dict[str, np.ndarray]:
    """Kind, units, channel, topic, text, SLA and value for ``n`` new items of one route.

    Shared with the live simulator so new items look like the demo's.
    """
    topics = np.array(spec.topics, dtype=object)[rng.integers(0, len(spec.topics), n)]
    value = (rng.lognormal(np.log(spec.value_eur) - 0.5 * 0.8**2, 0.8, n).round(2)
             if spec.value_eur else np.full(n, np.nan))
    out = {
        "kind": const(spec.kind.value, n),
        "source_unit": const(spec.source, n),
        "target_unit": const(spec.target, n),
        "channel": pick(rng, spec.channels, n),
        "topic": topics,
        "text": _mention_texts(rng, spec.mention_topic, n) if spec.mention_topic else const(None, n),
        "sla_hours": np.full(n, float(spec.sla_hours)),
        "value": value,
    }
    out["segment"] = pick(rng, spec.segments, n) if spec.segments else const(None, n)
    return out
