"""Leads arriving vs what sales can work: one straight-line fit over complete days, read by the warning and drawn
by the chart (pure functions, no I/O).

Only complete days count: a day cut by the start of the data or of the look-back, or today (still filling up),
would read as a dip and tilt the line. The days come from :func:`dashboard.queries.checks.daily_arrivals`, which
keeps the whole calendar days of the organisation's zone and fills days without a lead with zero.

The fit is ordinary least squares of leads per day on the day number (0, 1, ... n-1): ``slope`` is how many
more leads arrive each day than the day before, ``intercept`` the line's value on the first day. Capacity runs
out on the first day after the last complete one on which the line reaches capacity (within ``horizon_days``);
when the mean of the last 7 complete days already exceeds it, capacity is exceeded now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_DAYS_FOR_TREND = 7  # fewer complete days: the mean is shown, no line is drawn through them
RECENT_DAYS = 7


@dataclass(frozen=True)
class CapacityOutlook:
    days: pd.Series  # leads per complete day, indexed by date: the data of the fit and the bars of the chart
    capacity_per_day: float
    recent_per_day: float  # mean of the last RECENT_DAYS complete days
    slope: float | None  # leads per day gained each day (None: fewer than MIN_DAYS_FOR_TREND complete days)
    intercept: float | None  # the line's value on the first complete day
    over_capacity_now: bool
    runs_out_on: dt.date | None  # first day the line reaches capacity (None: not within the horizon)

    @property
    def fitted(self) -> pd.Series:
        """The trend line's value on each complete day (empty without a trend)."""
        if self.slope is None or self.intercept is None:
            return pd.Series(dtype=float)
        x = np.arange(len(self.days), dtype=float)
        return pd.Series(self.intercept + self.slope * x, index=self.days.index)

    @property
    def first_day(self) -> dt.date | None:
        return self.days.index[0] if len(self.days) else None

    @property
    def last_day(self) -> dt.date | None:
        return self.days.index[-1] if len(self.days) else None


def capacity_outlook(days: pd.Series, capacity_per_day: float, horizon_days: int = 180) -> CapacityOutlook:
    """``days``: leads per complete day, consecutive dates (see the module docstring)."""
    if not capacity_per_day or capacity_per_day <= 0:
        raise ValueError("capacity must be positive: set headcount and leads per rep per day")
    days = days.astype(float)
    if days.empty:
        return CapacityOutlook(days, float(capacity_per_day), 0.0, None, None, False, None)
    recent = float(days.iloc[-RECENT_DAYS:].mean())
    over = recent > capacity_per_day
    slope: float | None = None
    intercept: float | None = None
    runs_out = None
    if len(days) >= MIN_DAYS_FOR_TREND:
        y = days.to_numpy()
        x = np.arange(len(y), dtype=float)
        slope, intercept = (float(v) for v in np.polyfit(x, y, 1))
    last = days.index[-1]
    if over:
        runs_out = last + dt.timedelta(days=1)  # the first day not yet judged: today
    elif slope is not None and intercept is not None and slope > 0:
        # first whole day number after the last complete day (x = n - 1) on which the line reaches capacity
        reach = (capacity_per_day - intercept) / slope
        ahead = max(1, int(np.ceil(reach - (len(days) - 1) - 1e-9)))
        if ahead <= horizon_days:
            runs_out = last + dt.timedelta(days=ahead)
    return CapacityOutlook(days, float(capacity_per_day), recent, slope, intercept, bool(over), runs_out)
