"""Rows that pass the contract but are probably wrong: imported as given, counted and named in the report."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard.domain import format as fmt


@dataclass
class Oddity:
    """Rows imported as given that are probably wrong: how many, and the first row numbers, for the summary."""

    check: str  # future | due_far_ahead | to_itself | out_of_order | conversions_over_leads
    what: str  # follows "N row(s)": "have more conversions than leads"
    count: int = 0
    rows: list[int] = field(default_factory=list)  # the first few, as a spreadsheet numbers them
    columns: list[str] = field(default_factory=list)  # the columns that showed it (future: which dates)

    def text(self, file_name: str) -> str:
        shown = ", ".join(map(str, self.rows)) + (", …" if self.count > len(self.rows) else "")
        return (f"{file_name}: {fmt.count(self.count)} row(s) {self.what} (row{'s' if self.count > 1 else ''} "
                f"{shown}); imported as given: check them at the source")


class Oddities:
    """Counts rows that pass the contract but are probably wrong: dates in the future, an item due more than a
    year after the import (an SLA or due time typed wrong; items already dated in the future are counted there
    only), an item sent from a unit to itself, times out of order, more conversions than leads. They are imported
    (they are not invalid) and the report warns about each kind with its count and the first rows. An item from a
    hub to itself is not counted: that is how an item waits unrouted at the hub."""

    ROWS_SHOWN = 5
    DUE_AHEAD = dt.timedelta(days=365)  # an item due later than this after the import was probably typed wrong
    EVENTS = {"work_items": ("created_at", "routed_at", "accepted_at", "resolved_at"), "kpi_observations": ("ts",),
              "journeys": ("started_at", "converted_at"), "campaigns": ("period_start",)}
    ORDER = (("routed_at", "created_at"), ("accepted_at", "created_at"), ("accepted_at", "routed_at"),
             ("resolved_at", "accepted_at"), ("resolved_at", "routed_at"))  # the first must not be before the second

    def __init__(self, now: dt.datetime, hubs: list[str]) -> None:
        self.after = pd.Timestamp(now).tz_convert("UTC") + pd.Timedelta(days=1)  # a day's grace for clocks and zones
        self.due_after = pd.Timestamp(now).tz_convert("UTC") + self.DUE_AHEAD
        self.hubs = hubs
        self.seen: dict[str, Oddity] = {}

    def _add(self, check: str, what: str, rows: pd.Index, columns: Sequence[str] = ()) -> None:
        if len(rows) == 0:
            return
        odd = self.seen.setdefault(check, Oddity(check, what))
        odd.count += len(rows)
        odd.rows.extend(int(r) for r in rows[: self.ROWS_SHOWN - len(odd.rows)])
        odd.columns.extend(c for c in columns if c not in odd.columns)

    def look(self, kind: str, valid: pd.DataFrame) -> None:
        if valid.empty:
            return
        future = np.zeros(len(valid), dtype=bool)
        late_columns = []
        for column in self.EVENTS.get(kind, ()):
            if column not in valid:
                continue
            values = valid[column]
            if kind == "campaigns":
                late = np.array([v is not None and v > self.after.date() for v in values], dtype=bool)
            else:
                late = (values.notna() & (values > self.after)).to_numpy()
            if late.any():
                late_columns.append(column)
            future |= late
        self._add("future", "are dated in the future", valid.index[future], late_columns)
        if kind == "work_items" and "created_at" in valid and "sla_hours" in valid:
            self._add("due_far_ahead", f"are due more than a year after the import (due_at, or created_at + "
                      f"sla_hours, later than {fmt.moment(self.due_after)} UTC)",
                      valid.index[self._due_after(valid) & ~future])
        if kind == "work_items" and "target_unit" in valid:
            itself = (valid.target_unit.notna() & (valid.target_unit == valid.source_unit)
                      & ~valid.source_unit.isin(self.hubs)).to_numpy()
            self._add("to_itself", "send an item from a unit to itself (source_unit equals target_unit)",
                      valid.index[itself])
        if kind == "work_items":
            wrong = np.zeros(len(valid), dtype=bool)
            for later, earlier in self.ORDER:
                if later in valid and earlier in valid:
                    wrong |= (valid[later].notna() & valid[earlier].notna() & (valid[later] < valid[earlier])).to_numpy()
            self._add("out_of_order", "have times out of order (routed or accepted before created, or resolved before "
                      "routed or accepted)", valid.index[wrong])
        if kind == "campaigns":
            more = (valid.conversions > valid.leads).to_numpy()
            self._add("conversions_over_leads", "have more conversions than leads", valid.index[more])

    def _due_after(self, valid: pd.DataFrame) -> np.ndarray:
        """Where an item's due time (``due_at``, else ``created_at + sla_hours``) is past :attr:`due_after`; in
        microseconds as floats, since a due time near 9999 is past what pandas' timestamps hold."""
        def micros(times: pd.Series) -> np.ndarray:
            values = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
            return np.where(np.isnat(values), np.nan, values.view(np.int64).astype(float))

        limit = (self.due_after.to_pydatetime() - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(
            microseconds=1)
        with np.errstate(invalid="ignore", over="ignore"):
            due = micros(valid.created_at) + pd.to_numeric(valid.sla_hours, errors="coerce").to_numpy(float) * 3_600e6
            if "due_at" in valid and pd.api.types.is_datetime64_any_dtype(valid.due_at):
                given = micros(valid.due_at)
                due = np.where(np.isnan(given), due, given)
            return np.nan_to_num(due, nan=-np.inf) > limit

    def found(self) -> list[Oddity]:
        def said(odd: Oddity) -> Oddity:
            if odd.check != "future":
                return odd
            when = f"{', '.join(odd.columns)} later than {fmt.moment(self.after)} UTC, a day after the import"
            return replace(odd, what=f"{odd.what} ({when})")

        return [said(odd) for odd in self.seen.values()]
