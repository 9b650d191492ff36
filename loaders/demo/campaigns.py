"""Weekly campaign economics per channel, and the promotions Customer service is told about."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.vocabulary import ItemKind
from loaders.demo.clock import DAY_US, US, UTC


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
