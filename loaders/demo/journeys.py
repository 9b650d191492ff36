"""Customer journeys.

A quarter of the consumer leads end a journey of 1-4 items over a few days (a purchase-intent mention, a
complaint and its mention, an earlier lead ... then the lead), and a few consumer complaints end one that
rarely converts. Some journeys pass through the hub itself after their last customer item: Sales asks the hub
for tailored content for a fifth of the prospects (a sales -> hub request, topic "content"), and Customer
service escalates 40 % of the complaints to the hub's social team (a customer_service -> hub escalation,
topic "viral_complaint"). Whether a journey converts depends on its path (a purchase-intent mention or a
resolved complaint before the lead raises the chance, and so does the hub's work after it), so removing
Sales', Customer service's or the hub's touchpoints costs different numbers of conversions (attribution's
Markov removal effects: Sales' the largest, as every lead journey runs through it; the hub's clearly above
zero). A journey converts after its last touchpoint. Items are reused, not added: the item counts and flows
stay as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.vocabulary import ItemKind
from loaders.demo.clock import DAY_US, HOUR_US, NAT_US, US, to_timestamps, us_of

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
    created = us_of(items.created_at)
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
    resolved = us_of(items.resolved_at)[ends]
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
        "started_at": to_timestamps(started[order]),
        "converted_at": to_timestamps(np.where(converted, converted_us, NAT_US)[order]),
        "revenue": revenue[order],
    })
    return rows, pd.Series(journey_id, index=items.index, dtype=object)
