"""What was observed, from raw work items: the yardstick the calibrated as-is is held against.

Per spoke, over a window [start, end): every work item *resolved* in the window whose source or target is the
spoke (both directions, as the overview counts it):

- lead time = resolved_at − created_at, in hours: median and mean;
- SLA share = share resolved by due_at (created_at + sla_hours where due_at is missing).

Per function the same over the function's items (the item kind decides the function). Pure pandas; the
frames are what :func:`dashboard.queries.observed.calibration_items` returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

COLUMNS = ["items_resolved", "median_lead_time_h", "mean_lead_time_h", "sla_share"]


def _resolved(items: pd.DataFrame, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    resolved = pd.to_datetime(items["resolved_at"], utc=True)
    created = pd.to_datetime(items["created_at"], utc=True)
    inside = resolved.notna() & (resolved >= pd.Timestamp(start)) & (resolved < pd.Timestamp(end))
    frame = items.loc[inside].copy()
    frame["lead_h"] = (resolved[inside] - created[inside]).dt.total_seconds() / 3600.0
    if "due_at" in frame.columns:
        due = pd.to_datetime(frame["due_at"], utc=True)
        due = due.fillna(created[inside] + pd.to_timedelta(pd.to_numeric(frame["sla_hours"]), unit="h"))
    else:
        due = created[inside] + pd.to_timedelta(pd.to_numeric(frame["sla_hours"]), unit="h")
    frame["in_sla"] = (resolved[inside] <= due).to_numpy()
    return frame


def _summary(frame: pd.DataFrame) -> dict[str, float]:
    if frame.empty:
        return {"items_resolved": 0, "median_lead_time_h": float("nan"), "mean_lead_time_h": float("nan"),
                "sla_share": float("nan")}
    lead = frame["lead_h"].to_numpy(dtype=np.float64)
    return {"items_resolved": int(len(frame)), "median_lead_time_h": float(np.median(lead)),
            "mean_lead_time_h": float(lead.mean()), "sla_share": float(frame["in_sla"].mean())}


def by_spoke(items: pd.DataFrame, spokes: list[str], start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Observed lead times and SLA share per spoke (index ``spoke``, columns ``COLUMNS``)."""
    frame = _resolved(items, start, end)
    rows = {}
    for spoke in spokes:
        mine = frame[(frame["source_unit"] == spoke) | (frame["target_unit"] == spoke)]
        rows[spoke] = _summary(mine)
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS).rename_axis("spoke")


def by_function(items: pd.DataFrame, kind_to_function: Mapping[str, str], start: dt.datetime,
                end: dt.datetime) -> pd.DataFrame:
    """Observed lead times and SLA share per function (index ``function``)."""
    frame = _resolved(items, start, end)
    frame["function"] = frame["kind"].astype(str).map(dict(kind_to_function))
    rows = {f: _summary(part) for f, part in frame.dropna(subset=["function"]).groupby("function")}
    return pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS).rename_axis("function")
