"""A deterministic demo organisation: an analytics & marketing hub serving five spokes.

What it shows and why
- Flows both ways on every spoke: the hub sends leads and purchase-intent mentions to Sales, complaints,
  complaint mentions and promotion notices to Customer service, budget/revenue reports to Finance,
  insights to Product and job questions to HR; every spoke sends requests, escalations or data back.
- Office-hour and consumer (evening/weekend) seasonality, SLA hours per kind, cycle times mostly within SLA
  with visible breaches (insights to Product run late, Customer service is getting slower), and a growing
  backlog of open items at Customer service, so the map has green, amber and red edges.
- A KPI tree ending in the shared goal (revenue) with some KPIs on target and some not, per unit.
- Weekly campaigns per channel with different ROI.
- Routing: inbound customer items carry a segment (consumer, business, vip); hub -> spoke items carry
  the rule and priority of the ACTIVE rule set "Standard routing" (published by "demo" 60 days ago, with its
  archived first version for the History tab), which reproduces these routes; a handful of mentions no rule
  matches wait unrouted in the hub's triage queue.
- Customer journeys: a quarter of the consumer leads end a journey of 1-4 customer items over a few days whose
  path decides how likely it converts; some journeys also pass through the hub (Sales asks it for tailored
  content for a prospect, Customer service escalates a viral complaint to its social team), which raises their
  chance. Attribution therefore credits all three: Sales most (every lead journey runs through it), the hub
  clearly (Markov removal effect ~0.2, ~14 % of the conversions, never first touch).
- The operating-model cycle: three rounds of maturity self-assessments per function, the current target model
  "Hybrid hub 2027" with "Content production centralised" done 21 days ago and two changes still planned. Content
  requests reach the hub through one shared content board (a 2 h handoff), and the hub's specialists work them
  faster than the spokes' generalists, so the what-if model (on the typed as-is of ``operating_model_inputs``)
  predicts that centralising cuts content production's mean lead time by ~18 % (74.7 h -> 61.2 h in Mon-Fri
  09:00-17:00 office hours, stored with the change). The generated effect is derived from that prediction:
  Sales' and Product's inbound items created since the change take ``change_speedup()`` (~0.82) x the cycle
  time, so the Evaluate tab finds the lead-time difference-in-differences in line with the prediction (items
  resolved just after the change were started before it, and Customer service, an untouched spoke, keeps getting
  slower).

Everything is generated with numpy from one seeded ``Generator`` and anchored at ``now``: the same seed and
``now`` give identical rows, and dates are always recent. Loading replaces an earlier demo in one
transaction (``app_meta`` ``dataset`` = ``demo`` marks ownership) and refuses to overwrite other data unless
forced, so re-running never duplicates anything.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, exists, insert, select

from dashboard import store
from dashboard.db import (
    app_meta,
    campaigns,
    flow_hourly,
    journeys,
    kpi_hourly,
    kpi_observations,
    kpis,
    maturity_assessments,
    planned_changes,
    promotions,
    routing_rule_sets,
    target_models,
    units,
    work_items,
)
from dashboard.domain.kpi_ranges import is_share
from dashboard.domain.vocabulary import Aggregation, Direction, ItemKind, Status, UnitKind
from loaders.spec import (
    DATASET,
    DERIVED_KPIS,
    ROUTES,
    RouteSpec,
    const,
    route_attributes,
)

UTC = dt.UTC
DEFAULT_SEED = 7
DEFAULT_WORK_ITEMS = 150_000
DEFAULT_KPI_OBSERVATIONS = 60_000
DEFAULT_DAYS = 90
US = 1_000_000
HOUR_US = 3_600 * US
DAY_US = 24 * HOUR_US

BACKLOG_UNIT = "customer_service"  # the spoke whose backlog grows
BACKLOG_RAMP_DAYS = 35  # items to it created in this many last days increasingly stay open
BACKLOG_MAX_SHARE = 0.16  # ... up to this share for items created just now
CYCLE_SIGMA = 0.6  # spread of log cycle time
WEEKEND_SLOWDOWN = 1.6  # office teams answer weekend items later
ID_PREFIX = "demo-"
ID_DIGITS = 7  # demo-0000001 ... (more digits beyond ten million items)
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at", "updated_at")
CHANGE_DONE_DAYS = 21  # "Content production centralised" was done this many days ago ...
CHANGE_FUNCTION = "content_production"  # ... (the planned change of this function) ...
CHANGE_UNITS = ("sales", "product")  # ... touching these spokes, whose inbound items since then take the share
# of their cycle time the model predicts for the change's mean lead time (change_speedup(), ~0.82)


class DemoRefused(RuntimeError):
    """The database holds data that is not the demo; replacing it needs ``force``."""


# --- the organisation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitSpec:
    id: str
    name: str
    kind: UnitKind
    headcount: float
    cost_per_fte: float
    description: str
    panels: str | None = None  # the check panels its spoke page shows (dashboard.queries.checks.PANELS)


UNITS: tuple[UnitSpec, ...] = (
    UnitSpec("hub", "Digital analytics & marketing hub", UnitKind.HUB, 18, 86_000,
             "Campaigns, content, social listening, CRM and analytics for the whole company."),
    UnitSpec("sales", "Sales", UnitKind.SPOKE, 42, 72_000, "Turns leads and purchase intent into revenue.",
             "lead_capacity,routed_topics"),
    UnitSpec("finance", "Finance", UnitKind.SPOKE, 12, 78_000, "Budgets, revenue reporting and marketing ROI.",
             "channel_roi"),
    UnitSpec("customer_service", "Customer service", UnitKind.SPOKE, 30, 52_000,
             "Complaints, promotion questions and customer care.", "promotions,routed_topics"),
    UnitSpec("product", "Product", UnitKind.SPOKE, 26, 92_000, "Builds on customer insight and usage data.",
             "routed_topics"),
    UnitSpec("hr", "HR", UnitKind.SPOKE, 8, 66_000, "Recruiting and employer branding.", "routed_topics"),
)

# Hour-of-day (UTC) and day-of-week (Mon..Sun) intensity: internal work follows office hours; customers
# write in the evening and at weekends.
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "office": (
        (0.02, 0.02, 0.02, 0.02, 0.03, 0.06, 0.2, 0.55, 0.9, 1.0, 1.0, 0.95,
         0.7, 0.9, 1.0, 0.95, 0.85, 0.6, 0.3, 0.15, 0.08, 0.05, 0.03, 0.02),
        (1.0, 1.05, 1.0, 0.95, 0.85, 0.12, 0.08),
    ),
    "consumer": (
        (0.15, 0.08, 0.05, 0.04, 0.04, 0.08, 0.2, 0.4, 0.55, 0.6, 0.65, 0.7,
         0.8, 0.75, 0.7, 0.7, 0.75, 0.85, 0.95, 1.0, 1.0, 0.9, 0.6, 0.3),
        (0.9, 0.9, 0.95, 0.95, 1.0, 1.15, 1.1),
    ),
}

# --- routing rules ----------------------------------------------------------------------------------------
# The hub's active rule set reproduces the hub -> spoke routes above (a test runs route_frame over the demo's
# items): job questions before complaint words before purchase intent, VIP leads and complaints first, every
# other hub item by kind; a mention no rule matches waits unrouted in the hub's triage queue. SLAs are the
# routes' own. The archived first version shows on the History tab what publishing the current one changed.


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


@dataclass(frozen=True)
class KpiSpec:
    """A KPI and how its demo series behaves: ``ratio`` is level / target at the start and end of the period.

    For ``sum`` KPIs the target is per day (see dashboard.queries.kpis). Whether a KPI ends on target follows
    from ``ratio[1]`` and ``direction``; margins are wide enough that noise does not flip a 7-day window.
    """

    id: str
    unit_id: str
    name: str
    unit_of_measure: str
    target: float
    direction: Direction
    aggregation: Aggregation
    parent_id: str | None
    is_goal: bool
    cadence: Literal["fast", "daily"]
    ratio: tuple[float, float]
    noise: float
    description: str = ""


H, L = Direction.HIGHER, Direction.LOWER
SUM, MEAN, LAST = Aggregation.SUM, Aggregation.MEAN, Aggregation.LAST
KPIS: tuple[KpiSpec, ...] = (
    KpiSpec("revenue", "sales", "Revenue", "EUR", 120_000, H, SUM, None, True, "fast", (0.97, 1.07), 0.25,
            "The shared goal every unit contributes to."),
    KpiSpec("conversion_rate", "sales", "Conversion rate", "%", 3.5, H, MEAN, "revenue", True, "fast", (0.86, 0.93), 0.06,
            "Share of qualified leads that buy."),
    KpiSpec("leads", "sales", "Qualified leads", "count", 0, H, SUM, "revenue", True, "fast", (1.0, 1.0), 0.0,
            "Leads the hub hands to Sales (counted from the lead flow)."),
    KpiSpec("marketing_cost", "hub", "Marketing cost", "EUR", 9_000, L, SUM, "revenue", True, "fast", (0.99, 0.9), 0.2,
            "Media spend and agency fees; lower is better."),
    KpiSpec("average_order_value", "sales", "Average order value", "EUR", 240, H, MEAN, "revenue", False, "fast", (1.0, 1.06), 0.05),
    KpiSpec("win_rate", "sales", "Opportunity win rate", "%", 25, H, MEAN, "conversion_rate", False, "daily", (0.92, 0.86), 0.04),
    KpiSpec("lead_response_hours", "sales", "Lead response time", "hours", 4, L, MEAN, "conversion_rate", False, "fast", (0.9, 0.75), 0.1),
    KpiSpec("content_output", "hub", "Content pieces published", "count", 14, H, SUM, "leads", False, "fast", (1.0, 1.12), 0.3),
    KpiSpec("campaign_roi", "hub", "Campaign ROI", "%", 250, H, MEAN, "marketing_cost", False, "daily", (1.05, 1.12), 0.05),
    KpiSpec("data_freshness_hours", "hub", "Data freshness", "hours", 2, L, MEAN, "conversion_rate", False, "fast", (0.8, 0.7), 0.1),
    KpiSpec("social_engagement_rate", "hub", "Social engagement rate", "%", 4, H, MEAN, "leads", False, "fast", (0.95, 0.88), 0.06),
    KpiSpec("cs_first_response_hours", "customer_service", "First response time", "hours", 2, L, MEAN, "csat", False, "fast",
            (1.1, 1.7), 0.1),
    KpiSpec("complaint_resolution_pct", "customer_service", "Complaints resolved within SLA", "%", 90, H, MEAN, "csat", False,
            "daily", (0.95, 0.82), 0.02),
    KpiSpec("csat", "customer_service", "Customer satisfaction", "%", 85, H, MEAN, "revenue", False, "daily", (0.99, 0.93), 0.015),
    KpiSpec("tickets_closed", "customer_service", "Tickets closed", "count", 180, H, SUM, "csat", False, "fast", (1.05, 1.1), 0.2),
    KpiSpec("report_on_time_pct", "finance", "Reports delivered on time", "%", 95, H, MEAN, "marketing_cost", False, "daily",
            (1.03, 1.04), 0.01),
    KpiSpec("budget_variance_pct", "finance", "Budget variance", "%", 5, L, LAST, "marketing_cost", False, "daily", (0.8, 0.6), 0.05),
    KpiSpec("invoice_processing_hours", "finance", "Invoice processing time", "hours", 48, L, MEAN, "revenue", False, "daily",
            (0.95, 0.85), 0.04),
    KpiSpec("feature_adoption_pct", "product", "Feature adoption", "%", 40, H, MEAN, "conversion_rate", False, "daily", (0.85, 0.9), 0.03),
    KpiSpec("insights_actioned_pct", "product", "Insights actioned", "%", 60, H, MEAN, "conversion_rate", False, "daily", (1.0, 1.1), 0.04),
    KpiSpec("releases_shipped", "product", "Releases shipped", "count", 1.5, H, SUM, "feature_adoption_pct", False, "daily", (1.2, 1.25), 0.05),
    KpiSpec("time_to_hire_hours", "hr", "Time to hire", "hours", 35 * 24, L, MEAN, "revenue", False, "daily", (1.05, 1.15), 0.04),
    KpiSpec("applications_per_role", "hr", "Applications per open role", "count", 40, H, MEAN, "time_to_hire_hours", False, "daily",
            (1.05, 1.15), 0.05),
    KpiSpec("employee_turnover_pct", "hr", "Employee turnover (annualised)", "%", 12, L, LAST, "revenue", False, "daily", (0.95, 0.88), 0.02),
)
LEADS_TARGET_SHARE = 0.92  # the leads target sits a little below the generated lead flow (on target)


@dataclass(frozen=True)
class ChannelSpec:
    """Weekly campaign economics per channel: ROI = conversion x order value / cost per lead - 1."""

    channel: str
    weekly_budget: float
    cost_per_lead: float
    conversion: float
    order_value: float


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("search", 18_000, 40, 0.09, 1_400),
    ChannelSpec("social", 14_000, 25, 0.05, 1_100),
    ChannelSpec("email", 4_000, 8, 0.07, 900),
    ChannelSpec("display", 9_000, 60, 0.03, 1_200),
    ChannelSpec("events", 8_000, 150, 0.12, 2_500),
)


# --- generated data ---------------------------------------------------------------------------------------


@dataclass
class DemoData:
    """Everything the demo writes, as plain rows and frames (no I/O), so tests can compare two runs."""

    seed: int
    now: dt.datetime
    days: int
    units: list[dict]
    kpis: list[dict]
    campaigns: list[dict]
    work_items: pd.DataFrame
    kpi_observations: pd.DataFrame
    meta: dict[str, str] = field(default_factory=dict)
    promotions: list[dict] = field(default_factory=list)
    journeys: pd.DataFrame | None = None  # id, started_at, converted_at, revenue (work_items.journey_id refers to it)
    rule_sets: list[dict] = field(default_factory=list)  # routing_rule_sets rows, the archived one first
    maturity: list[dict] = field(default_factory=list)  # maturity_assessments rows
    target_model: dict | None = None  # the current target_models row
    planned_changes: list[dict] = field(default_factory=list)  # its planned_changes (target_model_id set on write)


def _now_us(now: dt.datetime | None) -> int:
    now = dt.datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp()) * US  # whole seconds keep every generated timestamp on a second


def _hour_weights(profile: str, bin_mid_us: np.ndarray) -> np.ndarray:
    """Intensity of a profile for each hour bin, from its hour of day and weekday (epoch day 0 = Thursday)."""
    by_hour, by_dow = (np.asarray(p) for p in PROFILES[profile])
    hours = bin_mid_us // HOUR_US
    return by_hour[hours % 24] * by_dow[(hours // 24 + 3) % 7]


def _arrivals(rng: np.random.Generator, n: int, spec: RouteSpec, now_us: int, days: int) -> np.ndarray:
    """``n`` creation times (µs) over the last ``days``, following the route's profile and a mild growth."""
    n_bins = days * 24
    bin_end = now_us - np.arange(n_bins, dtype=np.int64)[::-1] * HOUR_US  # bins end at now, hour by hour
    age = (np.arange(n_bins)[::-1] + 0.5) / n_bins  # 1 = oldest, 0 = newest
    weights = _hour_weights(spec.profile, bin_end - HOUR_US // 2) * (1.0 + 0.12 * (1 - age))
    if spec.target == BACKLOG_UNIT and spec.profile == "consumer":
        weights = weights * np.where(age < 0.25, 1.3, 1.0)  # a complaint surge in the last weeks
    counts = rng.multinomial(n, weights / weights.sum())
    starts = np.repeat(bin_end - HOUR_US, counts)
    offsets = (rng.random(n) * 3600).astype(np.int64) * US
    return np.minimum(starts + offsets, now_us - US)


def _route_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    shares = np.array([r.share for r in ROUTES])
    return rng.multinomial(n, shares / shares.sum())


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


def _lifecycle(rng: np.random.Generator, spec: RouteSpec, created: np.ndarray, now_us: int, days: int,
               speedup: float = 1.0) -> dict[str, np.ndarray]:
    """Routed / accepted / resolved times and status for one route's items, as of ``now``; the touched spokes'
    items created since the done change take ``speedup`` x the cycle time."""
    n = len(created)
    age = (now_us - created) / (days * DAY_US)  # 0 = now, 1 = start of the period
    recent = np.clip(1 - age, 0, 1)
    median_h = spec.cycle_frac * spec.sla_hours * np.ones(n)
    if spec.source == "hub" and spec.target in CHANGE_UNITS:  # the done change made their work faster
        median_h *= np.where(created >= change_done_us(now_us), speedup, 1.0)
    if spec.target == BACKLOG_UNIT:
        median_h *= 1 + 0.7 * recent**2  # Customer service is getting slower
    if spec.profile == "office":
        weekday = (created // DAY_US + 3) % 7
        median_h *= np.where(weekday >= 5, WEEKEND_SLOWDOWN, 1.0)
    cycle_us = (rng.lognormal(np.log(median_h), CYCLE_SIGMA) * HOUR_US).astype(np.int64) // US * US + US
    triage_us = ((rng.exponential(0.1, n) * HOUR_US).astype(np.int64) // US * US
                 if spec.kind is ItemKind.MENTION else np.zeros(n, dtype=np.int64))
    routed = created + np.minimum(triage_us, cycle_us // 2)
    accepted = routed + ((cycle_us - (routed - created)) * rng.uniform(0.1, 0.4, n)).astype(np.int64) // US * US
    resolved = created + cycle_us
    stuck = np.zeros(n, dtype=bool)
    if spec.target == BACKLOG_UNIT:  # a growing share never gets resolved: the backlog
        ramp = np.clip(1 - (now_us - created) / (BACKLOG_RAMP_DAYS * DAY_US), 0, 1)
        stuck = rng.random(n) < BACKLOG_MAX_SHARE * ramp
    is_open = stuck | (resolved > now_us)
    handed_back = is_open & (rng.random(n) < 0.01) & (routed <= now_us)
    status = np.select(
        [~is_open, handed_back, accepted <= now_us, routed <= now_us],
        [Status.RESOLVED.value, Status.HANDED_BACK.value, Status.ACCEPTED.value, Status.ROUTED.value],
        default=Status.NEW.value,
    ).astype(object)
    nat = np.iinfo(np.int64).min
    routed_at = np.where(routed <= now_us, routed, nat)
    accepted_at = np.where((accepted <= now_us) & ~handed_back, accepted, nat)
    resolved_at = np.where(is_open, nat, resolved)
    updated = np.max(np.stack([created, routed_at, accepted_at, resolved_at]), axis=0)
    return {"routed_at": routed_at, "accepted_at": accepted_at, "resolved_at": resolved_at, "status": status,
            "updated_at": updated}


def _to_timestamps(us: np.ndarray) -> pd.Series:
    return pd.Series(us.view("datetime64[us]")).dt.tz_localize(UTC)


def _demo_ids(n: int) -> np.ndarray:
    """'demo-0000001', ... built as a code-point matrix (formatting a million ids one by one takes a second)."""
    digits = max(ID_DIGITS, len(str(n)))
    width = len(ID_PREFIX) + digits
    buf = np.empty((width, n), dtype=np.uint32)
    buf[:len(ID_PREFIX)] = np.array([ord(ch) for ch in ID_PREFIX], dtype=np.uint32)[:, None]
    numbers = np.arange(1, n + 1, dtype=np.uint32)
    for k in range(digits):
        numbers, digit = np.divmod(numbers, 10)
        buf[width - 1 - k] = digit + 48
    return np.ascontiguousarray(buf.T).view(f"<U{width}").ravel().astype(object)


def generate_work_items(rng: np.random.Generator, n: int, now_us: int, days: int) -> pd.DataFrame:
    """``n`` work items over the last ``days``, sorted by creation, ids ``demo-0000001``... in that order.

    Columns are built per route as numpy arrays and joined once; text columns stay ``object`` (no
    conversion to Arrow strings and back on the way to the driver).
    """
    parts: dict[str, list[np.ndarray]] = {}
    waiting = min(UNROUTED_WAITING, n // 300)
    speedup = change_speedup()
    for spec, count in zip(ROUTES, _route_counts(rng, n - waiting)):
        created = _arrivals(rng, int(count), spec, now_us, days)
        cols = route_attributes(rng, spec, int(count)) | {"created_at": created}
        cols |= _lifecycle(rng, spec, created, now_us, days, speedup)
        cols["rule_id"], cols["priority"] = route_rules(spec, cols["segment"])
        for name, values in cols.items():
            parts.setdefault(name, []).append(values)
    for name, values in _unrouted(rng, waiting, now_us).items():
        parts[name].append(values)
    columns = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    order = np.argsort(columns["created_at"], kind="stable")
    frame: dict[str, pd.Series] = {"id": pd.Series(_demo_ids(n), dtype=object)}
    for name, values in columns.items():
        values = values[order]
        if name in TIME_COLUMNS:
            frame[name] = _to_timestamps(values)
        elif values.dtype == object:
            frame[name] = pd.Series(values, dtype=object)
        else:
            frame[name] = pd.Series(values)
    frame["updated_by"] = pd.Series(const("demo", n), dtype=object)
    return pd.DataFrame(frame)


def _unrouted(rng: np.random.Generator, n: int, now_us: int) -> dict[str, np.ndarray]:
    """Mentions no rule matches ("Love the new ad!"), created over the last day and a half, waiting at the hub."""
    created = now_us - (rng.random(n) * 36 * HOUR_US).astype(np.int64) // US * US - US
    nat = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    return {
        "kind": const(ItemKind.MENTION.value, n), "source_unit": const("hub", n), "target_unit": const("hub", n),
        "channel": const("social", n), "topic": const(None, n),
        "text": np.array(UNROUTED_TEXTS, dtype=object)[np.arange(n) % len(UNROUTED_TEXTS)],
        "sla_hours": np.full(n, 4.0), "value": np.full(n, np.nan), "segment": const("consumer", n),
        "created_at": created, "routed_at": nat, "accepted_at": nat, "resolved_at": nat.copy(),
        "status": const(Status.NEW.value, n), "updated_at": created, "rule_id": const(None, n),
        "priority": const(None, n),
    }


def change_done_us(now_us: int) -> int:
    """Midnight (UTC) of the day the done planned change was implemented."""
    return _midnight(now_us, CHANGE_DONE_DAYS)


# --- customer journeys -------------------------------------------------------------------------------------
# A quarter of the consumer leads end a journey of 1-4 items over a few days (a purchase-intent mention, a
# complaint and its mention, an earlier lead ... then the lead), and a few consumer complaints end one that
# rarely converts. Some journeys pass through the hub itself after their last customer item: Sales asks the hub
# for tailored content for a fifth of the prospects (a sales -> hub request, topic "content"), and Customer
# service escalates 40 % of the complaints to the hub's social team (a customer_service -> hub escalation,
# topic "viral_complaint"). Whether a journey converts depends on its path (a purchase-intent mention or a
# resolved complaint before the lead raises the chance, and so does the hub's work after it), so removing
# Sales', Customer service's or the hub's touchpoints costs different numbers of conversions (attribution's
# Markov removal effects: Sales' the largest, as every lead journey runs through it; the hub's clearly above
# zero). A journey converts after its last touchpoint. Items are reused, not added: the item counts and flows
# stay as they are.

JOURNEY_SHARE = 0.25  # consumer leads that end a journey
COMPLAINT_JOURNEY_SHARE = 0.08  # consumer complaints that end one (no lead in it)
JOURNEY_EARLIER = (0.35, 0.35, 0.2, 0.1)  # probability of 0, 1, 2, 3 earlier touchpoints before the lead
JOURNEY_WINDOW_US = 4 * DAY_US  # earlier touchpoints happen within this many days before the last one
BASE_CONVERSION = 0.10  # a lead-ending journey with no earlier touchpoint converts this often ...
COMPLAINT_CONVERSION = 0.03  # ... a complaint-ending one this often
TOUCHPOINTS: tuple[tuple[str, str, str, float, float], ...] = (  # kind, target, label, weight, conversion lift
    (ItemKind.MENTION.value, "sales", "purchase-intent mention", 0.35, 0.22),
    (ItemKind.MENTION.value, "customer_service", "complaint mention", 0.2, 0.05),
    (ItemKind.COMPLAINT.value, "customer_service", "complaint", 0.25, 0.12),
    (ItemKind.LEAD.value, "sales", "earlier lead", 0.2, 0.04),
)
HUB_TOUCHPOINTS: tuple[tuple[str, str, str, str, float, float], ...] = (  # source, kind, topic, label, share
    # of the lead journeys (first) or complaint journeys (second) that get one, conversion lift
    ("sales", ItemKind.REQUEST.value, "content", "tailored content for the prospect", 0.2, 0.15),
    ("customer_service", ItemKind.ESCALATION.value, "viral_complaint", "viral complaint to the social team", 0.4, 0.1),
)
HUB_TOUCH_WINDOW_US = DAY_US  # a hub touchpoint is created within this time after the journey's last item
MAX_CONVERSION = 0.65
GAP_US = 10 * 60 * US  # touchpoints of a journey are at least this far apart from its last customer item


def _earlier(rng: np.random.Generator, pool: np.ndarray, created: np.ndarray, before_us: np.ndarray) -> np.ndarray:
    """For each time in ``before_us``, a random item of ``pool`` (sorted by time) created in the window before
    it; -1 where the window is empty."""
    return _within(rng, pool, created, before_us - JOURNEY_WINDOW_US, before_us - GAP_US)


def _within(rng: np.random.Generator, pool: np.ndarray, created: np.ndarray, from_us: np.ndarray,
            to_us: np.ndarray) -> np.ndarray:
    """For each window [from, to), a random item of ``pool`` (sorted by time) created in it; -1 where it is
    empty."""
    times = created[pool]
    lo = np.searchsorted(times, from_us)
    hi = np.searchsorted(times, to_us)
    u = rng.random(len(from_us))
    pick = lo + (u * (hi - lo)).astype(np.int64)
    return np.where(hi > lo, pool[np.minimum(pick, len(pool) - 1)] if len(pool) else -1, -1)


def generate_journeys(rng: np.random.Generator, items: pd.DataFrame, now_us: int) -> tuple[pd.DataFrame, pd.Series]:
    """The journeys table and each item's journey_id (None for most), deterministic in ``rng``."""
    n = len(items)
    kind, target = items.kind.to_numpy(), items.target_unit.to_numpy()
    consumer = (items.segment.to_numpy() == "consumer") & (items.source_unit.to_numpy() == "hub")
    created = _us_of(items.created_at)
    lead_ends = np.flatnonzero(consumer & (kind == ItemKind.LEAD.value) & (rng.random(n) < JOURNEY_SHARE))
    complaint_ends = np.flatnonzero(consumer & (kind == ItemKind.COMPLAINT.value)
                                    & (rng.random(n) < COMPLAINT_JOURNEY_SHARE))
    ends = np.concatenate([lead_ends, complaint_ends])
    is_end = np.zeros(n, dtype=bool)
    is_end[ends] = True
    # earlier touchpoints: (journey, item, touchpoint type)
    extra = np.concatenate([rng.choice(len(JOURNEY_EARLIER), size=len(lead_ends), p=JOURNEY_EARLIER),
                            (rng.random(len(complaint_ends)) < 0.6).astype(np.int64)])
    journey_of_slot = np.repeat(np.arange(len(ends)), extra)
    weights = np.array([t[3] for t in TOUCHPOINTS])
    slot_type = rng.choice(len(TOUCHPOINTS), size=len(journey_of_slot), p=weights / weights.sum())
    slot_type[journey_of_slot >= len(lead_ends)] = 1  # before a complaint: its mention
    slot_item = np.full(len(journey_of_slot), -1, dtype=np.int64)
    for t, (t_kind, t_target, *_rest) in enumerate(TOUCHPOINTS):
        take = slot_type == t
        if take.any():
            pool = np.flatnonzero(consumer & (kind == t_kind) & (target == t_target) & ~is_end)
            slot_item[take] = _earlier(rng, pool, created, created[ends[journey_of_slot[take]]])
    # hub touchpoints after the journey's last customer item (type len(TOUCHPOINTS) + h)
    to_hub = np.flatnonzero(target == "hub")  # compare the other columns on these rows only (1M objects: slow)
    source, topic, to_hub_kind = (items[c].to_numpy()[to_hub] for c in ("source_unit", "topic", "kind"))
    lead_journey = np.arange(len(ends)) < len(lead_ends)
    hub_type = np.where(lead_journey, 0, 1)
    wants = rng.random(len(ends)) < np.array([h[4] for h in HUB_TOUCHPOINTS])[hub_type]
    hub_item = np.full(len(ends), -1, dtype=np.int64)
    for h, (h_source, h_kind, h_topic, *_rest) in enumerate(HUB_TOUCHPOINTS):
        take = np.flatnonzero(wants & (hub_type == h))
        if len(take):
            pool = to_hub[(source == h_source) & (to_hub_kind == h_kind) & (topic == h_topic)]
            last = created[ends[take]]
            hub_item[take] = _within(rng, pool, created, last + GAP_US, last + HUB_TOUCH_WINDOW_US)
    has_hub = hub_item >= 0
    found = slot_item >= 0
    member_journey = np.concatenate([np.arange(len(ends)), journey_of_slot[found], np.flatnonzero(has_hub)])
    member_item = np.concatenate([ends, slot_item[found], hub_item[has_hub]])
    member_type = np.concatenate([np.full(len(ends), -1), slot_type[found], len(TOUCHPOINTS) + hub_type[has_hub]])
    _, first = np.unique(member_item, return_index=True)  # an item belongs to one journey: the first to take it
    keep = np.zeros(len(member_item), dtype=bool)
    keep[first] = True
    member_journey, member_item, member_type = member_journey[keep], member_item[keep], member_type[keep]

    started = created[ends].copy()
    np.minimum.at(started, member_journey, created[member_item])
    last_touch = created[ends].copy()
    np.maximum.at(last_touch, member_journey, created[member_item])
    lifts = np.array([t[4] for t in TOUCHPOINTS])
    hub_lifts = np.array([h[5] for h in HUB_TOUCHPOINTS])
    has_type = np.zeros((len(ends), len(TOUCHPOINTS) + len(HUB_TOUCHPOINTS)), dtype=bool)
    earlier = member_type >= 0
    has_type[member_journey[earlier], member_type[earlier]] = True
    p = np.where(lead_journey, BASE_CONVERSION + has_type[:, :len(TOUCHPOINTS)] @ lifts, COMPLAINT_CONVERSION)
    p = np.minimum(p + has_type[:, len(TOUCHPOINTS):] @ hub_lifts, MAX_CONVERSION)
    resolved = _us_of(items.resolved_at)[ends]
    converted_us = (np.maximum(resolved, last_touch + GAP_US)  # after the last item was resolved and every touch
                    + (rng.random(len(ends)) * 36 * HOUR_US).astype(np.int64) // US * US)
    converted = (resolved != NAT_US) & (rng.random(len(ends)) < p) & (converted_us < now_us)
    value = items.value.to_numpy(dtype=float)[ends]
    base_revenue = np.where(np.isnan(value), rng.lognormal(np.log(250), 0.5, len(ends)),
                            value * rng.uniform(0.6, 1.3, len(ends)))
    revenue = np.where(converted, base_revenue, 0.0).round(2)

    order = np.argsort(started, kind="stable")  # journey ids in the order they started
    rank = np.empty(len(ends), dtype=np.int64)
    rank[order] = np.arange(len(ends))
    ids = np.array([f"journey-{i + 1:06d}" for i in range(len(ends))], dtype=object)
    journey_id = np.full(n, None, dtype=object)
    journey_id[member_item] = ids[rank[member_journey]]
    rows = pd.DataFrame({
        "id": ids,
        "started_at": _to_timestamps(started[order]),
        "converted_at": _to_timestamps(np.where(converted, converted_us, NAT_US)[order]),
        "revenue": revenue[order],
    })
    return rows, pd.Series(journey_id, index=items.index, dtype=object)


NAT_US = np.iinfo(np.int64).min


def _us_of(values: pd.Series) -> np.ndarray:
    return values.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)


# --- the operating-model cycle: assessments, the target model and its planned changes -----------------------

MATURITY_BASE: dict[str, tuple[int, int, int, int]] = {  # structure, processes, data management, technology
    "campaign_planning": (3, 3, 2, 3),
    "content_production": (2, 2, 2, 3),
    "analytics_reporting": (3, 2, 3, 4),
    "social_listening": (3, 3, 2, 3),
    "crm_lead_management": (2, 3, 2, 2),
    "martech_platforms": (3, 2, 3, 4),
}
ASSESSMENT_ROUNDS = (  # days before now, note
    (84, "Baseline self-assessment with the spoke leads"),
    (49, "Second round, after agreeing one intake and SLA per request type"),
    (14, "Third round, three weeks into centralised content production"),
)
AS_IS_SHARES = {"campaign_planning": 1.0, "content_production": 0.0, "analytics_reporting": 0.5,
                "social_listening": 1.0, "crm_lead_management": 0.0, "martech_platforms": 1.0}
TARGET_SHARES = {"content_production": 1.0, "analytics_reporting": 1.0, "crm_lead_management": 0.5}
CONTENT_DEMAND = {"sales": 1.3, "product": 1.0}  # content production is asked for by Sales and Product only
# Content requests reach the hub through one shared content board: handing one over takes 2 h (the transfer time of
# the hub's content work); centralising content production then shortens its mean lead time, the generalists'
# longer work outweighing the handoff
CONTENT_HANDOFF_DELAY_H = 2.0
TARGET_MODEL_NAME = "Hybrid hub 2027"
TARGET_PROMOTED_DAYS = 35
PLANNED = {  # function -> (owner, due in days from now, done days ago or None)
    "content_production": ("Maria Jensen (hub lead)", -24, CHANGE_DONE_DAYS),
    "analytics_reporting": ("Maria Jensen (hub lead)", 30, None),
    "crm_lead_management": ("Tom Berg (Sales)", 75, None),
}


def generate_maturity(now_us: int) -> list[dict]:
    """Three rounds of self-assessment per function, improving a little each time (content production's
    structure and processes most, after it was centralised)."""
    rows = []
    for f_index, (function, base) in enumerate(MATURITY_BASE.items()):
        scores = list(base)
        for r, (days_ago, note) in enumerate(ASSESSMENT_ROUNDS):
            if r:
                scores[(f_index + r) % 4] += 1  # one component better each round
                if function == "content_production" and r == 2:
                    scores[0] += 1
                    scores[1] += 1
            capped = [min(5, v) for v in scores]
            rows.append(dict(function=function, assessed_at=_at(_midnight(now_us, days_ago) + 10 * HOUR_US),
                             author="demo", structure=capped[0], processes=capped[1], data_management=capped[2],
                             technology=capped[3], note=note))
    return rows


def operating_model_inputs():
    """(as-is, target) what-if inputs of the demo organisation, for the target model and its predictions."""
    from dashboard.whatif.inputs import default_inputs

    spokes = [(u.id, u.name) for u in UNITS if u.kind is UnitKind.SPOKE]
    base = default_inputs(spokes, central_share=0.0)
    content = base.functions[CHANGE_FUNCTION]
    streams = [s.model_dump() | {"demand_per_day": 3.0 * CONTENT_DEMAND[s.spoke],
                                 "hub": s.hub.model_dump() | {"transfer_h": CONTENT_HANDOFF_DELAY_H}}
               for s in content.streams if s.spoke in CONTENT_DEMAND]
    base = base.updated({"functions": {CHANGE_FUNCTION: {"streams": streams}}})
    as_is = base.with_shares(AS_IS_SHARES)
    return as_is, as_is.with_shares(TARGET_SHARES)


@functools.lru_cache(maxsize=1)
def change_speedup() -> float:
    """after / before of the done change's predicted mean lead time (dashboard.whatif.changes.predict_change on
    the as-is model): the share of their cycle time the touched spokes' items take since the change, so the
    Evaluate tab's observed difference-in-differences lands near the prediction (within the day-to-day noise)."""
    from dashboard.whatif.changes import predict_change

    as_is, _target = operating_model_inputs()
    lead = predict_change(as_is, CHANGE_FUNCTION, TARGET_SHARES[CHANGE_FUNCTION])["lead_time_h"]
    return float(lead["after"] / lead["before"])


def generate_cycle(now_us: int) -> tuple[dict, list[dict]]:
    """The current target model (promoted five weeks ago) and its planned changes: content production
    centralised (done three weeks ago, touching Sales and Product), two more still planned. Predictions come
    from the same function the app uses when a scenario is promoted (dashboard.whatif.changes)."""
    from dashboard.whatif.changes import planned_changes_from
    from dashboard.whatif.inputs import dump_inputs
    from dashboard.whatif.model import evaluate

    as_is, target = operating_model_inputs()
    promoted = _at(_midnight(now_us, TARGET_PROMOTED_DAYS) + 9 * HOUR_US)
    model = dict(scenario_id=None, scenario_name=TARGET_MODEL_NAME, inputs=dump_inputs(target),
                 results=evaluate(target).as_record(), status="current", promoted_by="demo", promoted_at=promoted,
                 note="Content production and analytics in the hub; CRM shared with Sales.")
    today = dt.datetime.fromtimestamp(now_us / US, tz=UTC).date()
    changes = []
    for change in planned_changes_from(as_is, target):
        owner, due_days, done_days = PLANNED[change["function"]]
        done_on = today - dt.timedelta(days=done_days) if done_days is not None else None
        changes.append(change | dict(
            owner=owner, due_on=today + dt.timedelta(days=due_days), status="done" if done_on else "planned",
            done_on=done_on, version=1, updated_by="demo",
            updated_at=_at(change_done_us(now_us) + 11 * HOUR_US) if done_on else promoted))
    return model, changes


def rule_set_rows(now_us: int) -> list[dict]:
    """The archived first version and the active "Standard routing" (published by "demo" 60 days ago)."""
    first, current = (_at(_midnight(now_us, d) + 9 * HOUR_US) for d in RULES_PUBLISHED_DAYS)
    common = dict(name="Standard routing", version=1, created_by="demo", updated_by="demo", published_by="demo")
    return [
        common | dict(status="archived", rules=EARLIER_RULES, created_at=first, updated_at=first,
                      published_at=first, note="First rule set, written from the hub's triage notes"),
        common | dict(status="active", rules=STANDARD_RULES, created_at=current, updated_at=current,
                      published_at=current,
                      note="Complaint words before purchase intent; VIP leads and complaints first; more job words"),
    ]


def _midnight(now_us: int, days_ago: int) -> int:
    return (now_us // DAY_US - days_ago) * DAY_US


def _at(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us // US, tz=UTC)


# --- KPIs -------------------------------------------------------------------------------------------------


def _observation_counts(n_total: int, days: int) -> dict[str, int]:
    """Observations per KPI: daily KPIs get one a day; fast ones share the rest of the budget evenly."""
    daily = [k.id for k in KPIS if k.cadence == "daily"]
    fast = [k.id for k in KPIS if k.cadence == "fast"]
    rest = n_total - days * len(daily)
    if rest < days * len(fast):  # too small a budget for daily + finer: spread it evenly (never above it)
        each = n_total // len(KPIS)
        return {k.id: min(each, days * 24 * 60) for k in KPIS}
    per_fast = min(rest // len(fast), days * 24 * 60)  # at most one a minute
    return {k: days for k in daily} | {k: per_fast for k in fast}


def _observation_times(count: int, now_us: int, days: int, daily: bool) -> tuple[np.ndarray, int]:
    """Evenly spaced times ending at ``now`` (daily ones at 06:00 UTC) and the spacing in µs."""
    if daily:
        last_day = now_us - (now_us - 6 * HOUR_US) % DAY_US
        return last_day - np.arange(count, dtype=np.int64)[::-1] * DAY_US, DAY_US
    step = max(1, (days * 86_400) // count) * US
    return now_us - np.arange(count, dtype=np.int64)[::-1] * step, step


def _season(times: np.ndarray) -> np.ndarray:
    """Consumer seasonality normalised to a weekly mean of 1 (sum KPIs follow it, their daily total doesn't)."""
    by_hour, by_dow = (np.asarray(p) for p in PROFILES["consumer"])
    week_mean = by_hour.mean() * by_dow.mean()
    return _hour_weights("consumer", times) / week_mean


def _kpi_series(rng: np.random.Generator, spec: KpiSpec, target: float, times: np.ndarray, step_us: int,
                now_us: int, days: int) -> np.ndarray:
    progress = 1 - (now_us - times) / (days * DAY_US)
    level = target * (spec.ratio[0] + (spec.ratio[1] - spec.ratio[0]) * np.clip(progress, 0, 1))
    if spec.aggregation is Aggregation.SUM:
        season = _season(times) if spec.cadence == "fast" else 1.0
        values = level * (step_us / DAY_US) * season * rng.lognormal(-0.5 * spec.noise**2, spec.noise, len(times))
    else:
        values = level * (1 + spec.noise * rng.standard_normal(len(times)))
    values = np.maximum(values, 0)
    if is_share(spec.unit_of_measure, target):  # shares cannot exceed 100 % (ROI can)
        values = np.minimum(values, 100)
    return values.round(4)


def _kind_counts(items: pd.DataFrame, kind: ItemKind, times: np.ndarray, step_us: int) -> np.ndarray:
    """Items of ``kind`` created in each observation's interval (ts - step, ts] (e.g. the leads KPI)."""
    leads = items.loc[items.kind == kind.value, "created_at"]
    created = leads.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)
    edges = np.concatenate([[times[0] - step_us], times])
    return np.histogram(created, bins=edges)[0].astype(float)


def generate_kpis(items: pd.DataFrame, days: int) -> list[dict]:
    """KPI rows; the leads target follows the generated lead flow so it sits just on target."""
    leads_per_day = (items.kind == ItemKind.LEAD.value).sum() / days
    rows = []
    for order, k in enumerate(KPIS):
        target = round(leads_per_day * LEADS_TARGET_SHARE, 1) if k.id == "leads" else k.target
        rows.append(dict(id=k.id, unit_id=k.unit_id, name=k.name, unit_of_measure=k.unit_of_measure, target=float(target),
                         direction=k.direction.value, aggregation=k.aggregation.value, parent_id=k.parent_id,
                         is_goal=k.is_goal, description=k.description or None, sort_order=order))
    return rows


def generate_observations(rng: np.random.Generator, kpi_rows: list[dict], items: pd.DataFrame, n_total: int,
                          now_us: int, days: int) -> pd.DataFrame:
    """Up to ``n_total`` observations over the last ``days``: one series per KPI, shaped by its spec."""
    counts = _observation_counts(n_total, days)
    targets = {r["id"]: r["target"] for r in kpi_rows}
    parts = [pd.DataFrame({"kpi_id": pd.Series([], dtype=object), "ts": np.array([], dtype=np.int64),
                           "value": np.array([], dtype=float)})]
    for spec in KPIS:
        if counts[spec.id] == 0:
            continue
        times, step = _observation_times(counts[spec.id], now_us, days, spec.cadence == "daily")
        if spec.id in DERIVED_KPIS:
            values = _kind_counts(items, DERIVED_KPIS[spec.id], times, step)
        else:
            values = _kpi_series(rng, spec, targets[spec.id], times, step, now_us, days)
        parts.append(pd.DataFrame({"kpi_id": const(spec.id, len(times)), "ts": times, "value": values}))
    df = pd.concat(parts, ignore_index=True)
    df["ts"] = _to_timestamps(df["ts"].to_numpy())
    return df


# --- campaigns --------------------------------------------------------------------------------------------


def generate_campaigns(rng: np.random.Generator, now_us: int, days: int) -> list[dict]:
    """One row per channel and ISO week overlapping the period; the current week is spent pro rata."""
    today = dt.datetime.fromtimestamp(now_us / US, tz=UTC).date()
    first = today - dt.timedelta(days=days)
    monday = first - dt.timedelta(days=first.weekday())
    rows = []
    while monday <= today:
        elapsed = min(1.0, ((today - monday).days + 1) / 7)
        for ch in CHANNELS:
            spend = ch.weekly_budget * rng.uniform(0.9, 1.02) * elapsed
            leads = int(rng.poisson(spend / ch.cost_per_lead))
            conversions = int(rng.binomial(leads, ch.conversion))
            revenue = conversions * ch.order_value * rng.uniform(0.85, 1.15)
            rows.append(dict(channel=ch.channel, period_start=monday, period_end=monday + dt.timedelta(days=6),
                             budget=float(ch.weekly_budget), spend=round(spend, 2), leads=leads,
                             conversions=conversions, revenue=round(revenue, 2)))
        monday += dt.timedelta(days=7)
    return rows


def generate(*, seed: int = DEFAULT_SEED, now: dt.datetime | None = None, work_items: int = DEFAULT_WORK_ITEMS,
             kpi_observations: int = DEFAULT_KPI_OBSERVATIONS, days: int = DEFAULT_DAYS) -> DemoData:
    """The whole demo organisation as data; deterministic in (seed, now, sizes)."""
    if work_items < 0 or kpi_observations < 0 or days < 1:
        raise ValueError("sizes must be non-negative and days at least 1")
    now_us = _now_us(now)
    rng = np.random.default_rng(seed)
    items = generate_work_items(rng, work_items, now_us, days)
    kpi_rows = generate_kpis(items, days)
    observations = generate_observations(rng, kpi_rows, items, kpi_observations, now_us, days)
    journey_rows, items["journey_id"] = generate_journeys(np.random.default_rng([seed, 9]), items, now_us)
    unit_rows = [dict(id=u.id, name=u.name, kind=u.kind.value, headcount=float(u.headcount), cost_per_fte=float(u.cost_per_fte),
                      description=u.description, sort_order=i, panels=u.panels,
                      capacity_per_fte_day=_sales_capacity(items, u, now_us)) for i, u in enumerate(UNITS)]
    anchored = dt.datetime.fromtimestamp(now_us / US, tz=UTC)
    meta = {"dataset": DATASET, "demo_seed": str(seed), "demo_now": anchored.isoformat(), "demo_days": str(days),
            "demo_work_items": str(len(items)), "demo_kpi_observations": str(len(observations))}
    target_model, planned_changes = generate_cycle(now_us)
    return DemoData(seed=seed, now=anchored, days=days, units=unit_rows, kpis=kpi_rows,
                    campaigns=generate_campaigns(rng, now_us, days), work_items=items,
                    kpi_observations=observations, meta=meta, promotions=generate_promotions(items, now_us),
                    journeys=journey_rows, rule_sets=rule_set_rows(now_us), maturity=generate_maturity(now_us),
                    target_model=target_model, planned_changes=planned_changes)


def _sales_capacity(items: pd.DataFrame, unit: UnitSpec, now_us: int) -> float | None:
    """Leads one sales rep can work per day, set so the last week's leads use ~85 % of the team: the lead
    capacity check then shows a team close to its limit whose growing lead flow crosses it within weeks."""
    if unit.id != "sales" or items.empty:
        return None
    created = pd.to_datetime(items.created_at, utc=True)
    recent = (items.kind == ItemKind.LEAD.value) & (items.target_unit == "sales") & (
        created >= pd.Timestamp(now_us - 7 * DAY_US, unit="us", tz=UTC))
    per_day = max(float(recent.sum()) / 7.0, 1.0)
    return round(per_day / (unit.headcount * 0.85), 2)


PROMOTIONS = (  # (name, channel, starts in days from now, lasts days, text)
    ("Spring appliance week", "email", -45, 7, "10 % off small kitchen appliances"),
    ("X200 microwave launch", "social", -12, 10, "Launch offer: free delivery on the X200 microwave"),
    ("Black Friday deals", "web", -2, 6, "Up to 30 % off purifiers, blenders and kettles"),
    ("Winter warmers", "email", 5, 14, "Bundle discount on kettles and fans"),
    ("New-year clear-out", "web", 30, 10, "End-of-line models at outlet prices"),
)


def generate_promotions(items: pd.DataFrame, now_us: int) -> list[dict]:
    """Promotions customer service is told about, each linked to a promotion notice sent before it starts."""
    notices = items[(items.kind == ItemKind.PROMOTION_NOTICE.value) & (items.target_unit == "customer_service")]
    created = pd.to_datetime(notices.created_at, utc=True)
    rows = []
    for i, (name, channel, start_days, length, text) in enumerate(PROMOTIONS):
        start = pd.Timestamp(now_us + start_days * DAY_US, unit="us", tz=UTC).floor("D")
        before = notices[created < start]
        rows.append(dict(id=f"promo-{i + 1}", name=name, channel=channel, starts_at=start.to_pydatetime(),
                         ends_at=(start + pd.Timedelta(days=length)).to_pydatetime(), description=text,
                         notice_item_id=str(before.id.iloc[-1]) if len(before) else None))
    return rows


# --- loading ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSummary:
    units: int
    kpis: int
    work_items: int
    kpi_observations: int
    campaigns: int
    replaced: str | None  # what was there before: "demo", "other data" or None for an empty database
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step, for benchmarks
    journeys: int = 0
    rule_sets: int = 0
    assessments: int = 0
    planned_changes: int = 0

    def line(self) -> str:
        what = {None: "loaded", "demo": "replaced the earlier demo with",
                "other data": "replaced existing data with"}[self.replaced]
        rate = f", {self.work_items / self.seconds:,.0f} items/s" if self.seconds > 0 else ""
        return (f"demo: {what} {self.units} units, {self.kpis} KPIs, {self.work_items:,} work items, "
                f"{self.kpi_observations:,} KPI observations, {self.campaigns} campaign weeks, "
                f"{self.journeys:,} customer journeys, {self.rule_sets} routing rule sets, "
                f"{self.assessments} maturity assessments, {self.planned_changes} planned changes "
                f"in {self.seconds:.1f} s{rate}")


class _Stopwatch:
    """Seconds per named step (generation, items, observations, commit), so a benchmark can split a load."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.phases[name] = self.phases.get(name, 0.0) + now - self._last
        self._last = now


OWNED_TABLES = (planned_changes, target_models, maturity_assessments, routing_rule_sets, journeys, promotions,
                kpi_hourly, flow_hourly, kpi_observations, work_items, campaigns, kpis, units)  # children first


def existing_dataset(conn: Connection) -> str | None:
    """'demo' if the demo owns the data, 'other data' if anything else is loaded, None when empty."""
    has_rows = any(conn.execute(select(exists().select_from(t))).scalar() for t in OWNED_TABLES)
    if not has_rows:
        return None
    return DATASET if store.get_meta(conn, "dataset") == DATASET else "other data"


def _clear(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":  # DELETE of ten million rows takes minutes and leaves them as bloat
        # units stay out of the TRUNCATE: the users table refers to them (an admin's spoke leads)
        conn.exec_driver_sql(f"TRUNCATE {', '.join(t.name for t in OWNED_TABLES if t is not units)}")
        conn.execute(delete(units))
    else:  # SQLite empties a table without a WHERE in one step
        for table in OWNED_TABLES:
            conn.execute(delete(table))
    conn.execute(delete(app_meta).where(app_meta.c.key.like("demo_%")))


def write_demo(conn: Connection, data: DemoData, *, force: bool = False,
               stopwatch: _Stopwatch | None = None) -> DemoSummary:
    """Replace the demo (or, with ``force``, any data) by ``data`` inside the caller's transaction."""
    watch = stopwatch or _Stopwatch()
    before = existing_dataset(conn)
    if before == "other data" and not force:
        raise DemoRefused(
            "the database already holds data that is not the demo; "
            "re-run with --force to replace it with the demo (this deletes units, KPIs, work items and observations)"
        )
    _clear(conn)
    store.upsert_units(conn, data.units)
    store.upsert_kpis(conn, data.kpis)
    store.upsert_campaigns(conn, data.campaigns)
    if data.promotions:
        conn.execute(insert(promotions), data.promotions)
    _write_cycle(conn, data)
    watch.lap("clear_and_reference")
    n_items = store.insert_work_items(conn, data.work_items, batch_size=200_000)
    n_journeys = store.insert_journeys(conn, data.journeys) if data.journeys is not None else 0
    watch.lap("work_items")
    n_obs = store.insert_kpi_observations(conn, data.kpi_observations, batch_size=200_000, check_existing=False)
    for key, value in data.meta.items():
        store.set_meta(conn, key, value)
    watch.lap("kpi_observations")
    return DemoSummary(units=len(data.units), kpis=len(data.kpis), work_items=n_items, kpi_observations=n_obs,
                       campaigns=len(data.campaigns), replaced=before, phases=watch.phases, journeys=n_journeys,
                       rule_sets=len(data.rule_sets), assessments=len(data.maturity),
                       planned_changes=len(data.planned_changes))


def _write_cycle(conn: Connection, data: DemoData) -> None:
    """Routing rule sets (a draft or a later one is based on the one before), assessments, the target model and
    its planned changes."""
    based_on = None
    for row in data.rule_sets:
        based_on = conn.execute(insert(routing_rule_sets).values(**(row | {"based_on": based_on}))
                                .returning(routing_rule_sets.c.id)).scalar_one()
    if data.maturity:
        conn.execute(insert(maturity_assessments), data.maturity)
    if data.target_model is not None:
        model_id = conn.execute(insert(target_models).values(**data.target_model)
                                .returning(target_models.c.id)).scalar_one()
        if data.planned_changes:
            conn.execute(insert(planned_changes), [c | {"target_model_id": model_id} for c in data.planned_changes])


def load_demo(engine: Engine, *, seed: int = DEFAULT_SEED, now: dt.datetime | None = None,
              work_items: int = DEFAULT_WORK_ITEMS, kpi_observations: int = DEFAULT_KPI_OBSERVATIONS,
              days: int = DEFAULT_DAYS, force: bool = False) -> DemoSummary:
    """Generate and load the demo in ONE transaction: readers see the old data or the new, never a mix."""
    started = time.perf_counter()
    watch = _Stopwatch()
    data = generate(seed=seed, now=now, work_items=work_items, kpi_observations=kpi_observations, days=days)
    watch.lap("generate")
    with engine.begin() as conn:
        summary = write_demo(conn, data, force=force, stopwatch=watch)
    watch.lap("commit")
    if engine.dialect.name == "postgresql":  # statistics and the visibility map now, not when autovacuum
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # gets round to it:
            for table in ("work_items", "kpi_observations", "flow_hourly", "kpi_hourly"):  # 3 s at 10M items;
                conn.exec_driver_sql(f"VACUUM ANALYZE {table}")  # the backlog query is 5x faster after it
        watch.lap("vacuum_analyze")
    return replace(summary, seconds=time.perf_counter() - started, phases=watch.phases)
