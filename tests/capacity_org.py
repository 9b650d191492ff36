"""A small known organisation for the sales capacity check, and its figures worked out from the raw rows by hand.

Leads reach sales on local calendar days of the organisation's zone: the data starts mid-afternoon (a partial
first day), then ``COMPLETE_DAYS`` whole days whose counts grow by about three a day (one of them without a
single lead), then today, still filling up. The expected figures below never touch SQL, the hourly rollup or
numpy: they count the raw rows by their local date and fit the line with the closed-form least-squares sums.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tests.factories import item

COMPLETE_DAYS = 17
EMPTY_DAY = 9  # the tenth complete day has no lead at all: it counts as zero
FIRST_DAY_LEADS = 30  # from 15:00 on the first (partial) day
TODAY_LEADS = 40  # by now on the last (partial) day


def day_count(d: int) -> int:
    return 0 if d == EMPTY_DAY else 100 + 3 * d + (d * 7) % 5


def lead_rows(now: dt.datetime, zone: str, target: str = "sales") -> list[dict]:
    """The raw leads (hub → ``target``), relative to ``now``."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    first = today - dt.timedelta(days=COMPLETE_DAYS + 1)
    rows = []

    def spread(day: dt.date, n: int, start_h: float, end_h: float, tag: str) -> None:
        for i in range(n):
            hours = start_h + (end_h - start_h) * (i + 0.5) / n
            at = dt.datetime.combine(day, dt.time(), tz) + dt.timedelta(hours=hours)
            rows.append(item(f"cap-{tag}-{i}", "hub", target, at.astimezone(dt.UTC)))

    spread(first, FIRST_DAY_LEADS, 15, 24, "first")
    for d in range(COMPLETE_DAYS):
        spread(first + dt.timedelta(days=d + 1), day_count(d), 0, 24, f"d{d}")
    local_now = now.astimezone(tz)
    elapsed = local_now.hour + local_now.minute / 60
    spread(today, TODAY_LEADS, 0, max(elapsed - 0.5, 0.1), "today")
    return rows


def complete_day_counts(rows: list[dict], now: dt.datetime, zone: str) -> dict[dt.date, int]:
    """Leads per local day, for the days after the one the data starts in and before today."""
    tz = ZoneInfo(zone)
    local_days = [r["created_at"].astimezone(tz).date() for r in rows]
    first, today = min(local_days), now.astimezone(tz).date()
    days = [first + dt.timedelta(days=i) for i in range(1, (today - first).days)]
    return {d: sum(1 for x in local_days if x == d) for d in days}


def least_squares(ys: list[float]) -> tuple[float, float]:
    """(slope, intercept) of the line through (0, ys[0]), (1, ys[1]) ... by the textbook sums."""
    n = len(ys)
    mean_x, mean_y = (n - 1) / 2, sum(ys) / n
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(ys))
    sxx = sum((x - mean_x) ** 2 for x in range(n))
    slope = sxy / sxx
    return slope, mean_y - slope * mean_x


def first_day_at_capacity(days: list[dt.date], slope: float, intercept: float, capacity: float) -> dt.date | None:
    """The first day after the last complete one on which the line reaches capacity (None: within 180 days)."""
    n = len(days)
    for ahead in range(1, 181):
        if intercept + slope * (n - 1 + ahead) >= capacity:
            return days[-1] + dt.timedelta(days=ahead)
    return None
