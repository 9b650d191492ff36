"""Office hours per unit (step 1 of the package docstring): the stored ones, else read from the data, else the
default.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif.calibration.rows import text
from dashboard.whatif.engine import H


def unit_calendars(frame: pd.DataFrame, units: pd.DataFrame, hub_id: str, default_tz: str, at: dt.datetime,
               flags: list[str]) -> dict[str, tuple[cal.Hours, str, str]]:
    """(hours, timezone, source) per unit id."""
    out = {}
    for _, row in units.iterrows():
        uid = str(row["id"])
        tz_text = text(row, "timezone")
        try:
            tz = cal.check_timezone(tz_text) if tz_text else cal.check_timezone(default_tz)
        except cal.CalendarError as exc:
            flags.append(f"{row['name'] or uid}: {exc}; UTC used")
            tz = "UTC"
        stored = text(row, "office_hours")
        if stored:
            try:
                out[uid] = (cal.parse_hours(stored), tz, "stored")
                continue
            except cal.CalendarError as exc:
                flags.append(f"{row['name'] or uid}: stored office hours unreadable ({exc}); read from the data instead")
        offset = cal.utc_offset_hours(tz, at)
        mine = frame[(frame["worker"] == ("hub" if uid == hub_id else "spoke"))
                     & ((frame["spoke"] == uid) | (uid == hub_id))]
        acts = np.concatenate([mine["t_accepted"].to_numpy(), mine["t_resolved"].to_numpy()])
        acts = acts[np.isfinite(acts)]
        arrive = mine["t_reached"].to_numpy()
        bins = H * cal.BINS_PER_HOUR
        activity = np.bincount(_local_bin(acts, offset), minlength=bins).astype(np.float64)
        arrivals = np.bincount(_local_bin(arrive, offset), minlength=bins).astype(np.float64)
        hours = cal.infer_hours(activity, arrivals)
        if hours is None:
            out[uid] = (cal.DEFAULT_HOURS, tz, "default")
            flags.append(f"{row['name'] or uid}: too little observed work to read office hours; "
                         f"{cal.DEFAULT_HOURS_TEXT} ({tz}) assumed — correct them on the page or in the units file")
        else:
            out[uid] = (hours, tz, "inferred")
    return out


def _local_bin(t: np.ndarray, offset: float) -> np.ndarray:
    """Local half hour of the week (0 = Monday 00:00-00:30) of week-clock times."""
    bins = H * cal.BINS_PER_HOUR
    return (np.floor((t + offset) * cal.BINS_PER_HOUR).astype(np.int64)) % bins
