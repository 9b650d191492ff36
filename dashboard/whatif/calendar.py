"""Office hours: when a unit's people work, as a week of hours, and the staffed clock that runs only then.

A unit's calendar is its time zone and one opening window per weekday (local time), written the way people
write office hours::

    "Mon-Fri 08:00-18:00"                 five days, ten hours
    "Mon-Fri 09:00-17:30; Sat 10:00-14:00"
    "24/7"                                 always open (the same as "Mon-Sun 00:00-24:00")

The model works on a week of 168 hours in UTC, hour 0 = Monday 00:00 UTC. :func:`week_mask` turns a calendar
into the open share of each of those hours (a window that starts at 09:30 opens half of that hour), using the
zone's UTC offset at a reference instant (a window of a few weeks rarely spans a change of daylight-saving
time; when it does, office hours are off by that hour for part of the window).

The *staffed clock* of a calendar counts open hours only: :class:`StaffedClock` maps calendar time to staffed
time and back, so "6 staffed hours of work started Friday 16:00" ends Monday 12:00 for Mon-Fri 08:00-18:00.
Within an hour the open share is spread evenly (a half-open hour runs the staffed clock at half speed).

:func:`infer_hours` reads office hours from when a unit was seen to pick up and finish work, compared with
when work reached it (see its docstring). Pure Python and numpy; no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from dashboard.domain.refusals import Refused

WEEK_HOURS = 168
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(DAY_NAMES)}
_DAY_INDEX.update({full: i for i, full in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))})

Window = tuple[float, float] | None  # (opens, closes) in local hours 0..24, or None: closed all day
Hours = tuple[Window, ...]  # seven windows, Monday first

ALWAYS_OPEN: Hours = ((0.0, 24.0),) * 7
DEFAULT_HOURS: Hours = ((9.0, 17.0),) * 5 + (None, None)  # assumption: Mon-Fri 09:00-17:00 where data says nothing
DEFAULT_HOURS_TEXT = "Mon-Fri 09:00-17:00"

# Inference (see infer_hours)
MIN_ACTIVITY = 50  # acceptances + resolutions a unit needs before its hours are read from the data
OPEN_RATIO = 0.4  # a half hour is open when work is picked up at >= this share of the unit's typical pace
QUIET_SHARE = 0.005  # ... and its activity is at least this share of the busiest hour's


class CalendarError(Refused):
    """Office hours or a time zone that cannot be read; the message says what is wrong."""


# --- reading and writing office hours -------------------------------------------------------------------------


def _days(text: str) -> list[int]:
    days: list[int] = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if "-" in part:
            first, last = (p.strip() for p in part.split("-", 1))
            if first not in _DAY_INDEX or last not in _DAY_INDEX:
                raise CalendarError(f"{part!r} is not a range of days such as Mon-Fri")
            a, b = _DAY_INDEX[first], _DAY_INDEX[last]
            days += list(range(a, b + 1)) if a <= b else list(range(a, 7)) + list(range(0, b + 1))
        elif part in _DAY_INDEX:
            days.append(_DAY_INDEX[part])
        else:
            raise CalendarError(f"{part!r} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    if not days:
        raise CalendarError("no days given")
    return days


def _clock(text: str) -> float:
    found = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?", text.strip())
    if not found:
        raise CalendarError(f"{text.strip()!r} is not a time such as 08:00")
    hours, minutes = int(found.group(1)), int(found.group(2) or 0)
    if minutes >= 60 or hours > 24 or (hours == 24 and minutes):
        raise CalendarError(f"{text.strip()!r} is not a time of day (00:00 to 24:00)")
    return hours + minutes / 60.0


def parse_hours(text: str) -> Hours:
    """Seven (opens, closes) windows from text such as ``"Mon-Fri 08:00-18:00; Sat 10:00-14:00"`` or ``"24/7"``.

    Days not named are closed. A window must open before it closes on the same day (``22:00-06:00`` is
    refused: write the night as two windows on two days). Raises :class:`CalendarError` with the reason.
    """
    if not isinstance(text, str) or not text.strip():
        raise CalendarError("office hours are empty; write them like Mon-Fri 08:00-18:00 or 24/7")
    cleaned = text.strip().replace("–", "-").replace("—", "-")
    if cleaned.lower() in ("24/7", "always", "24x7"):
        return ALWAYS_OPEN
    hours: list[Window] = [None] * 7
    seen: set[int] = set()
    for segment in cleaned.split(";"):
        segment = segment.strip()
        if not segment:
            continue
        found = re.fullmatch(r"(.+?)\s+(\S+)\s*-\s*(\S+)", segment)
        if not found:
            raise CalendarError(f"{segment!r} is not days and hours such as Mon-Fri 08:00-18:00")
        days = _days(found.group(1))
        opens, closes = _clock(found.group(2)), _clock(found.group(3))
        if closes <= opens:
            raise CalendarError(f"{segment!r}: the window must open before it closes on the same day")
        for day in days:
            if day in seen:
                raise CalendarError(f"{DAY_NAMES[day]} is given twice")
            seen.add(day)
            hours[day] = (opens, closes)
    if all(w is None for w in hours):
        raise CalendarError("no opening hours given")
    return tuple(hours)


def _fmt_clock(value: float) -> str:
    minutes = int(round(value * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_hours(hours: Hours) -> str:
    """The canonical text of seven windows (``"Mon-Fri 08:00-18:00; Sat 10:00-14:00"``, ``"24/7"``);
    :func:`parse_hours` reads it back to the same windows."""
    hours = tuple(hours)
    if hours == ALWAYS_OPEN:
        return "24/7"
    parts: list[str] = []
    day = 0
    while day < 7:
        window = hours[day]
        end = day
        while end + 1 < 7 and hours[end + 1] == window:
            end += 1
        if window is not None:
            days = DAY_NAMES[day] if end == day else f"{DAY_NAMES[day]}-{DAY_NAMES[end]}"
            parts.append(f"{days} {_fmt_clock(window[0])}-{_fmt_clock(window[1])}")
        day = end + 1
    return "; ".join(parts)


def check_timezone(name: str) -> str:
    """The IANA zone name if this machine knows it (``Europe/Berlin``), else :class:`CalendarError`."""
    if not isinstance(name, str) or not name.strip():
        raise CalendarError("the time zone is empty; give an IANA name such as Europe/Berlin or UTC")
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"{name.strip()!r} is not a time zone (IANA names such as Europe/Berlin or UTC)") from None
    return name.strip()


def utc_offset_hours(timezone: str, at: dt.datetime | None = None) -> float:
    """The zone's offset from UTC in hours at ``at`` (default now): +1.0 for Europe/Berlin in winter."""
    at = at or dt.datetime.now(dt.UTC)
    offset = at.astimezone(ZoneInfo(check_timezone(timezone))).utcoffset()
    return offset.total_seconds() / 3600.0 if offset is not None else 0.0


def hours_per_week(hours: Hours) -> float:
    return float(sum(w[1] - w[0] for w in hours if w is not None))


# --- the week in UTC and the staffed clock --------------------------------------------------------------------


def local_mask(hours: Hours) -> np.ndarray:
    """Open share of each local hour of the week (168 values, Monday 00:00 local first)."""
    mask = np.zeros(WEEK_HOURS)
    grid = np.arange(24.0)
    for day, window in enumerate(hours):
        if window is None:
            continue
        opens, closes = window
        mask[day * 24:(day + 1) * 24] = np.clip(np.minimum(grid + 1, closes) - np.maximum(grid, opens), 0.0, 1.0)
    return mask


def shift_week(values: np.ndarray, hours: float) -> np.ndarray:
    """``values`` on a 168-hour cyclic week moved later by ``hours`` (fractional shifts interpolate linearly)."""
    whole = int(np.floor(hours))
    frac = hours - whole
    moved = np.roll(values, whole)
    return moved if frac == 0 else (1 - frac) * moved + frac * np.roll(values, whole + 1)


def week_mask(hours: Hours, timezone: str = "UTC", at: dt.datetime | None = None) -> np.ndarray:
    """Open share of each UTC hour of the week (hour 0 = Monday 00:00 UTC) for local ``hours`` in ``timezone``."""
    offset = utc_offset_hours(timezone, at)
    return np.clip(shift_week(local_mask(hours), -offset), 0.0, 1.0)


class StaffedClock:
    """Calendar hours <-> staffed hours for one weekly open mask (vectorised, any number of weeks).

    ``to_staffed(t)`` = open hours between Monday 00:00 UTC of week 0 and ``t``; ``to_calendar(s)`` = the
    earliest calendar time at which ``s`` open hours have passed. ``span(t, s)`` = calendar hours from ``t``
    until ``s`` more staffed hours have passed (waiting for the opening first, if ``t`` is closed).
    """

    def __init__(self, mask: np.ndarray):
        mask = np.asarray(mask, dtype=np.float64)
        if mask.shape != (WEEK_HOURS,) or (mask < 0).any() or (mask > 1).any():
            raise CalendarError("an open mask has 168 values between 0 and 1")
        if mask.sum() <= 0:
            raise CalendarError("a calendar needs at least one open hour a week")
        self.mask = mask
        self.cum = np.concatenate([[0.0], np.cumsum(mask)])  # staffed hours at the start of each hour
        self.open_hours = float(self.cum[-1])
        self.always_open = bool((mask >= 1.0).all())
        self._open = np.flatnonzero(mask > 0)  # hours that run the clock
        self._ends = self.cum[self._open + 1]  # staffed time at the end of each of them

    def to_staffed(self, t: np.ndarray | float) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        if self.always_open:
            return t
        weeks = np.floor(t / WEEK_HOURS)
        within = t - weeks * WEEK_HOURS
        return weeks * self.open_hours + np.interp(within, np.arange(WEEK_HOURS + 1.0), self.cum)

    def to_calendar(self, s: np.ndarray | float) -> np.ndarray:
        s = np.asarray(s, dtype=np.float64)
        if self.always_open:
            return s
        weeks = np.ceil(s / self.open_hours) - 1.0
        rest = s - weeks * self.open_hours  # in (0, open_hours]; 0 only where s is a whole number of weeks
        at_zero = rest <= 0
        rest = np.where(at_zero, self.open_hours, rest)
        weeks = np.where(at_zero, weeks - 1.0, weeks)
        j = np.minimum(np.searchsorted(self._ends, rest, side="left"), len(self._open) - 1)
        hour = self._open[j]
        t = hour + (rest - self.cum[hour]) / self.mask[hour]
        return weeks * WEEK_HOURS + t

    def span(self, t: np.ndarray | float, staffed: np.ndarray | float) -> np.ndarray:
        """Calendar hours from ``t`` until ``staffed`` more open hours have passed (``staffed`` > 0)."""
        t = np.asarray(t, dtype=np.float64)
        staffed = np.asarray(staffed, dtype=np.float64)
        if self.always_open:
            return np.broadcast_to(staffed, np.broadcast(t, staffed).shape).astype(np.float64)
        return self.to_calendar(self.to_staffed(t) + staffed) - t


# --- reading office hours from observed work ------------------------------------------------------------------


BINS_PER_HOUR = 2  # office hours are read from the data to the half hour


def infer_hours(activity: np.ndarray, arrivals: np.ndarray) -> Hours | None:
    """Office hours from when work was picked up and finished, compared with when it arrived.

    ``activity``: acceptances + resolutions per local half hour of the week (336 values, Monday 00:00 first);
    ``arrivals``: items reaching the unit per local half hour. A half hour is *open* when the unit worked in it
    at a pace (activity per arriving item) of at least ``OPEN_RATIO`` of its typical pace, or worked there with
    nothing arriving, and its activity is at least ``QUIET_SHARE`` of the busiest half hour's: items that arrive
    at night and are not touched until the morning mark the night as closed, a few people working late do not
    open it. Each day's window runs from its first to its last open half hour; a day with less than an hour open
    is closed.

    Returns None when there is too little activity (< ``MIN_ACTIVITY``) to say anything.
    """
    bins = WEEK_HOURS * BINS_PER_HOUR
    activity = np.asarray(activity, dtype=np.float64)
    arrivals = np.asarray(arrivals, dtype=np.float64)
    if activity.shape != (bins,) or arrivals.shape != (bins,):
        raise CalendarError(f"activity and arrivals need {bins} half-hourly values")
    if activity.sum() < MIN_ACTIVITY:
        return None
    busy = activity.max()
    with np.errstate(divide="ignore", invalid="ignore"):
        pace = activity / arrivals
    # the usual pace of the half hours the unit works, among those with a fair share of arrivals
    working = (arrivals > 0) & (activity > 0)
    steady = working & (arrivals >= np.quantile(arrivals[working], 0.5)) if working.any() else working
    typical = float(np.median(pace[steady])) if steady.any() else 0.0
    worked = activity >= QUIET_SHARE * busy
    keeps_pace = np.where(arrivals > 0, pace >= OPEN_RATIO * typical, activity > 0)
    open_ = worked & keeps_pace
    per_day = 24 * BINS_PER_HOUR
    hours: list[Window] = []
    for day in range(7):
        day_open = np.flatnonzero(open_[day * per_day:(day + 1) * per_day])
        if len(day_open) < 2:
            hours.append(None)
        else:
            hours.append((day_open[0] / BINS_PER_HOUR, (day_open[-1] + 1) / BINS_PER_HOUR))
    if all(w is None for w in hours):
        return None
    return tuple(hours)


def describe(hours: Hours, timezone: str) -> str:
    """"Mon-Fri 08:00-18:00 (Europe/Berlin), 50 h a week"."""
    return f"{format_hours(hours)} ({timezone}), {hours_per_week(hours):g} h a week"
