"""The demo's work items: arrivals per route over the period, each item's lifecycle as of ``now`` (SLA-shaped cycle
times, weekend slowdown, Customer service's growing backlog, the done change's speed-up) and the mentions that
wait unrouted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.domain.vocabulary import ItemKind, Status
from loaders.demo.clock import DAY_US, HOUR_US, US, to_timestamps
from loaders.demo.cycle import CHANGE_UNITS, change_done_us, change_speedup
from loaders.demo.organisation import hour_weights
from loaders.demo.rules import UNROUTED_TEXTS, UNROUTED_WAITING, route_rules
from loaders.spec import ROUTES, RouteSpec, const, route_attributes

BACKLOG_UNIT = "customer_service"  # the spoke whose backlog grows
BACKLOG_RAMP_DAYS = 35  # items to it created in this many last days increasingly stay open
BACKLOG_MAX_SHARE = 0.16  # ... up to this share for items created just now
CYCLE_SIGMA = 0.6  # spread of log cycle time
WEEKEND_SLOWDOWN = 1.6  # office teams answer weekend items later
ID_PREFIX = "demo-"
ID_DIGITS = 7  # demo-0000001 ... (more digits beyond ten million items)
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at", "updated_at")


def _arrivals(rng: np.random.Generator, n: int, spec: RouteSpec, now_us: int, days: int) -> np.ndarray:
    """``n`` creation times (µs) over the last ``days``, following the route's profile and a mild growth."""
    n_bins = days * 24
    bin_end = now_us - np.arange(n_bins, dtype=np.int64)[::-1] * HOUR_US  # bins end at now, hour by hour
    age = (np.arange(n_bins)[::-1] + 0.5) / n_bins  # 1 = oldest, 0 = newest
    weights = hour_weights(spec.profile, bin_end - HOUR_US // 2) * (1.0 + 0.12 * (1 - age))
    if spec.target == BACKLOG_UNIT and spec.profile == "consumer":
        weights = weights * np.where(age < 0.25, 1.3, 1.0)  # a complaint surge in the last weeks
    counts = rng.multinomial(n, weights / weights.sum())
    starts = np.repeat(bin_end - HOUR_US, counts)
    offsets = (rng.random(n) * 3600).astype(np.int64) * US
    return np.minimum(starts + offsets, now_us - US)


def _route_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    shares = np.array([r.share for r in ROUTES])
    return rng.multinomial(n, shares / shares.sum())


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
            frame[name] = to_timestamps(values)
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
