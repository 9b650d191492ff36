"""The demo organisation: the hub and its five spokes, and when their work arrives (office and consumer rhythms)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.domain.vocabulary import UnitKind
from loaders.demo.clock import HOUR_US


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


def hour_weights(profile: str, bin_mid_us: np.ndarray) -> np.ndarray:
    """Intensity of a profile for each hour bin, from its hour of day and weekday (epoch day 0 = Thursday)."""
    by_hour, by_dow = (np.asarray(p) for p in PROFILES[profile])
    hours = bin_mid_us // HOUR_US
    return by_hour[hours % 24] * by_dow[(hours // 24 + 3) % 7]
