"""Time on the demo's clock: whole microseconds since the epoch (UTC) in numpy arrays, anchored at ``now`` in whole
seconds, and the conversions to timestamps and datetimes.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

UTC = dt.UTC

US = 1_000_000
HOUR_US = 3_600 * US
DAY_US = 24 * HOUR_US
NAT_US = np.iinfo(np.int64).min  # numpy's NaT as int64 microseconds


def anchor_us(now: dt.datetime | None) -> int:
    now = dt.datetime.now(UTC) if now is None else now
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return int(now.timestamp()) * US  # whole seconds keep every generated timestamp on a second


def to_timestamps(us: np.ndarray) -> pd.Series:
    return pd.Series(us.view("datetime64[us]")).dt.tz_localize(UTC)



def us_of(values: pd.Series) -> np.ndarray:
    return values.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").view(np.int64)


def midnight_us(now_us: int, days_ago: int) -> int:
    return (now_us // DAY_US - days_ago) * DAY_US


def datetime_at(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us // US, tz=UTC)
