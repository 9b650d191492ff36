"""Preparing the rows: the columns calibration reads, the window, and each work item attributed to its stream with
its times on the engine's week clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.whatif.calibration.result import CalibrationError

ITEM_COLUMNS = ("id", "kind", "source_unit", "target_unit", "created_at", "routed_at", "accepted_at",
                "resolved_at", "status", "sla_hours")
UNIT_COLUMNS = ("id", "name", "kind", "headcount", "cost_per_fte")
TIME_COLUMNS = ("created_at", "routed_at", "accepted_at", "resolved_at")

MIN_WINDOW_DAYS = 1.0  # less than a day of history says nothing about daily demand


def check_frames(items: pd.DataFrame, units: pd.DataFrame) -> None:
    for frame, name, columns in ((items, "work items", ITEM_COLUMNS), (units, "units", UNIT_COLUMNS)):
        if not isinstance(frame, pd.DataFrame):
            raise CalibrationError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise CalibrationError(f"{name} lack the column(s) {', '.join(missing)}")


def _utc(series: pd.Series, name: str) -> pd.Series:
    try:
        converted = pd.to_datetime(series, errors="raise", utc=False)
    except (ValueError, TypeError) as err:
        raise CalibrationError(f"{name} holds values that are not timestamps ({err})") from None
    if converted.dt.tz is None:
        if converted.notna().any():
            raise CalibrationError(f"{name} must be timezone-aware (UTC) timestamps")
        return converted.dt.tz_localize("UTC")
    return converted.dt.tz_convert("UTC")


def week_hours(series: pd.Series) -> np.ndarray:
    """UTC timestamps as hours since Monday 1970-01-05 00:00 UTC less 72 h (the engine's week clock: hour 0 of
    every week is Monday 00:00 UTC); NaN where missing."""
    values = series.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    missing = np.isnat(values)
    hours = values.view(np.int64) / 3.6e9 + 72.0
    return np.where(missing, np.nan, hours)


def number(value: object) -> float | None:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    return float(number) if pd.notna(number) and number > 0 else None


def text(row: pd.Series, column: str) -> str | None:
    if column not in row.index:
        return None
    value = row[column]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    value = str(value).strip()
    return value or None


@dataclass
class Prepared:
    frame: pd.DataFrame  # items attributed to a stream, with times on the week clock
    start: pd.Timestamp
    end: pd.Timestamp
    window_days: float


def prepare(items: pd.DataFrame, hub_id: str, spoke_ids: list[str], mapping: Mapping[str, str],
             end: pd.Timestamp, days: float, flags: list[str]) -> Prepared:
    frame = items.loc[:, [c for c in (*ITEM_COLUMNS, "due_at") if c in items.columns]].copy()
    for col in TIME_COLUMNS:
        frame[col] = _utc(frame[col], col)
    frame = frame[frame["created_at"].notna() & (frame["created_at"] < end)]
    if frame.empty:
        raise CalibrationError("no work item was created before the end of the window")
    start = end - pd.Timedelta(days=days)
    first = frame["created_at"].min()
    if first > start:
        start = first
    window_days = (end - start).total_seconds() / 86_400.0
    if window_days < MIN_WINDOW_DAYS:
        raise CalibrationError(f"the work items span {window_days * 24:.1f} hours; calibration needs at least "
                               f"{MIN_WINDOW_DAYS:g} day of history")
    in_window = (frame["created_at"] >= start) | (frame["resolved_at"].notna() & (frame["resolved_at"] >= start))
    frame = frame[in_window].copy()

    source, target = frame["source_unit"].astype(str), frame["target_unit"].astype(str)
    inside_hub = (source == hub_id) & (target == hub_id)
    if inside_hub.any():
        flags.append(f"{int(inside_hub.sum()):,} items that never left the hub (waiting unrouted) are not "
                     "attributed to a spoke")
    frame["spoke"] = np.where(source == hub_id, target, np.where(target == hub_id, source, target))
    frame["worker"] = np.where(target == hub_id, "hub", "spoke")
    frame["origin"] = np.where(source == hub_id, "hub", "spoke")
    frame["function"] = frame["kind"].astype(str).map(dict(mapping))
    unknown_kind = frame["function"].isna() & ~inside_hub
    if unknown_kind.any():
        kinds = sorted(frame.loc[unknown_kind, "kind"].astype(str).unique())
        flags.append(f"{int(unknown_kind.sum()):,} items of kind(s) {', '.join(kinds)} belong to no function and "
                     "are left out")
    unknown_unit = ~frame["spoke"].isin(spoke_ids) & ~unknown_kind & ~inside_hub
    if unknown_unit.any():
        flags.append(f"{int(unknown_unit.sum()):,} items whose spoke is not in the units are left out")
    frame = frame[~unknown_kind & ~unknown_unit & ~inside_hub].copy()
    if frame.empty:
        raise CalibrationError("no work item could be attributed to a known spoke and a mapped kind")
    frame["kind"] = frame["kind"].astype(str)
    frame["t_created"] = week_hours(frame["created_at"])
    routed = frame["routed_at"].where(frame["routed_at"].notna(), frame["created_at"])
    frame["t_reached"] = week_hours(routed)
    frame["t_accepted"] = week_hours(frame["accepted_at"])
    frame["t_resolved"] = week_hours(frame["resolved_at"])
    frame["created_in"] = (frame["created_at"] >= start).to_numpy()
    frame["resolved_in"] = (frame["resolved_at"].notna() & (frame["resolved_at"] >= start)
                            & (frame["resolved_at"] < end)).to_numpy()
    order_bad = (frame["t_reached"] < frame["t_created"]) | (frame["t_accepted"] < frame["t_reached"]) | (
        frame["t_resolved"] < frame["t_accepted"])
    if order_bad.any():
        flags.append(f"{int(order_bad.sum()):,} items with times out of order are left out of the duration estimates")
        frame.loc[order_bad, "resolved_in"] = False
    return Prepared(frame=frame, start=start, end=end, window_days=window_days)
