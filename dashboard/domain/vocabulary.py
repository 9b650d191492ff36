"""The shared vocabulary: work-item kinds, statuses, directions and windows."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum


class UnitKind(StrEnum):
    HUB = "hub"
    SPOKE = "spoke"


class ItemKind(StrEnum):
    LEAD = "lead"
    MENTION = "mention"
    COMPLAINT = "complaint"
    PROMOTION_NOTICE = "promotion_notice"
    REPORT = "report"
    REQUEST = "request"
    INSIGHT = "insight"
    ESCALATION = "escalation"


class Status(StrEnum):
    NEW = "new"
    ROUTED = "routed"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"
    HANDED_BACK = "handed_back"


OPEN_STATUSES = (Status.NEW, Status.ROUTED, Status.ACCEPTED, Status.HANDED_BACK)


# The functions of the operating model: each is done in the hub, in the spokes or split between them.
FUNCTIONS: tuple[str, ...] = (
    "campaign_planning",
    "content_production",
    "analytics_reporting",
    "social_listening",
    "crm_lead_management",
    "martech_platforms",
)
FUNCTION_LABELS: dict[str, str] = {
    "campaign_planning": "Campaign planning",
    "content_production": "Content production",
    "analytics_reporting": "Analytics & reporting",
    "social_listening": "Social listening & response",
    "crm_lead_management": "CRM & lead management",
    "martech_platforms": "Marketing technology / platforms",
}


def function_label(name: str) -> str:
    """"Content production" for content_production; unknown functions read as their id in words."""
    return FUNCTION_LABELS.get(name, name.replace("_", " ").capitalize())


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


class Aggregation(StrEnum):
    SUM = "sum"
    MEAN = "mean"
    LAST = "last"


# The overview's time windows: key -> (label, length). "today" starts at local midnight (see window_bounds).
WINDOWS: dict[str, tuple[str, dt.timedelta | None]] = {
    "1h": ("Last hour", dt.timedelta(hours=1)),
    "today": ("Today", None),
    "7d": ("Last 7 days", dt.timedelta(days=7)),
    "30d": ("Last 30 days", dt.timedelta(days=30)),
}
DEFAULT_WINDOW = "7d"


def window_bounds(key: str, now: dt.datetime, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a window in UTC. ``today`` runs from midnight in the viewer's zone to now."""
    if key not in WINDOWS:
        raise ValueError(f"unknown window {key!r}; choose one of {', '.join(WINDOWS)}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    length = WINDOWS[key][1]
    if length is None:
        local = now.astimezone(tz)
        start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return start.astimezone(dt.UTC), now.astimezone(dt.UTC)
    return (now - length).astimezone(dt.UTC), now.astimezone(dt.UTC)


def previous_bounds(key: str, start: dt.datetime, end: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The period a window's change is measured against, like for like. "today" (midnight to now) is compared
    with the same hours on the same weekday a week earlier: not with yesterday's last hours (a normal afternoon
    would read as a collapse against yesterday's evening), nor with yesterday (every Monday would be measured
    against a Sunday). The fixed-length windows are compared with the period of the same length just before."""
    if key == "today":
        week = dt.timedelta(days=7)
        return start - week, end - week
    return start - (end - start), start


def comparison_label(start: dt.datetime, end: dt.datetime, previous_start: dt.datetime, previous_end: dt.datetime,
                     tz: dt.tzinfo | None = None) -> str:
    """What a change compares with, in words: "the same hours last Monday", "the previous 7 days", "the previous
    hour"; ``tz`` is the zone the reader's days are in (for the weekday)."""
    length, shift = end - start, start - previous_start
    if previous_end - previous_start != length:
        return "an earlier period"
    if shift == length:
        hours = length.total_seconds() / 3600
        if abs(hours - 1) < 1e-9:
            return "the previous hour"
        if hours >= 24 and abs(hours / 24 - round(hours / 24)) < 1e-9:
            return f"the previous {round(hours / 24)} days" if round(hours / 24) != 1 else "the previous day"
        return f"the previous {hours:.0f} hours" if hours >= 1 else f"the previous {hours * 60:.0f} minutes"
    if shift == dt.timedelta(days=7):
        day = previous_start.astimezone(tz) if tz is not None and previous_start.tzinfo is not None else previous_start
        return f"the same hours last {day:%A}"
    if shift == dt.timedelta(days=1):
        return "the same hours yesterday"
    return "an earlier period"
