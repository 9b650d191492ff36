"""The data contract for imported files: one pydantic model per kind, and a vectorised validator.

The models are the documentation (docs/data-contract.md shows the same fields, kept in step by a test) and the
per-row reference (:func:`validate_row`); :func:`validate_frame` checks a whole chunk of text cells with pandas at
ingest speed and gives every bad row its own reasons, each naming the column. Tests run the same rows through both
and require them to agree.

Timestamps are ISO 8601 (``2026-11-23``, ``2026-11-23 10:30``, ``2026-11-23T10:30:00+01:00``, ``...Z``),
mixed freely within a column; a value with an offset is converted to UTC, a naive one is taken to be in the
import zone (``DASHBOARD_IMPORT_TIMEZONE``, default ``DASHBOARD_TIMEZONE``). Other spellings such as
``23/11/2026`` are refused rather than guessed: day-first and month-first cannot be told apart.

Rules for every row of every kind (:data:`ROW_RULES`, one reason each, naming the column):

- A timestamp must fall between 1000-01-01 00:00 and 9999-12-31 23:59:59 UTC (what both databases store
  and compare alike); a work item's ``created_at + sla_hours`` (its due time when ``due_at`` is empty) too.
- A number must lie between -1,000,000,000,000 and 1,000,000,000,000 (a trillion): the hourly rollups add and
  subtract values as they change, and beyond that a sum of money loses its cents (a 1e308 once wiped out every
  other value of its hour).
- A cell holding a NUL character (byte 0) is refused, not cleaned: PostgreSQL cannot store it, and a NUL in
  an export usually means the row was damaged on the way, so the row goes to quarantine for someone to look
  at rather than being changed silently. Both databases treat such a row the same way.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from dashboard.domain.vocabulary import Aggregation, Direction, ItemKind, Status, UnitKind
from dashboard.whatif.calendar import check_timezone, format_hours, parse_hours

KINDS = ("work_items", "kpi_observations", "kpis", "units", "campaigns", "journeys")

# Identifiers: start with a letter or digit (so never with = + - @, which spreadsheets run as formulas).
ITEM_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:/#\-]*$"
UNIT_ID = r"^[a-z0-9][a-z0-9_\-]*$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9_.\- ]*$"  # channel, topic, KPI ids
PATTERN_HELP = {
    ITEM_ID: "letters, digits and _ . : / # -, starting with a letter or digit",
    UNIT_ID: "lower-case letters, digits, _ and -, starting with a letter or digit",
    CODE: "letters, digits, spaces and _ . -, starting with a letter or digit",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOOLS = {**dict.fromkeys(("true", "t", "yes", "y", "1", "on"), True), **dict.fromkeys(("false", "f", "no", "n", "0", "off"), False)}

WHOLE = r"^[+-]?\d+$"
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
INT_MAX = 2_147_483_647  # the database's INTEGER


def _text_as(pattern: str, message: str):
    """A before-validator: text cells must match ``pattern`` (pydantic alone would also take 1_000, 3.0,
    2026-11-02T00:00 for a date ...), so the pydantic reference and the vectorised check agree."""
    def check(value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(pattern, value.strip()):
            raise ValueError(message)
        return value
    return BeforeValidator(check)


EARLIEST = dt.datetime(1000, 1, 1, tzinfo=dt.UTC)  # the range both databases store alike
LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
NOT_IN_RANGE = "not between 1000-01-01 00:00 and 9999-12-31 23:59:59 UTC"
DUE_PAST_LATEST = ("sla_hours: created_at + sla_hours (the item's due time) passes 9999-12-31 23:59:59 UTC, the "
                   "latest time that can be stored")
HAS_NUL = "contains a NUL character (byte 0), which cannot be stored: remove it and import the row again"
MAX_MAGNITUDE = 1e12  # sums of numbers up to this stay exact to the cent however often they change
TOO_BIG = "more than a trillion (1,000,000,000,000) in size: sums of it would no longer be exact"
ROW_RULES = (f"a timestamp {NOT_IN_RANGE} is refused", DUE_PAST_LATEST, f"a number {TOO_BIG} is refused",
             f"a cell that {HAS_NUL}")


def _in_range(value: dt.datetime) -> dt.datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not EARLIEST <= aware <= LATEST:
        raise ValueError(NOT_IN_RANGE)
    return value


Timestamp = Annotated[dt.datetime, AfterValidator(_in_range)]
IsoDate = Annotated[dt.date, _text_as(ISO_DATE, "not a date such as 2026-11-23")]
Number = Annotated[float, _text_as(r"^[^_]*$", "not a number")]
Whole = Annotated[int, _text_as(WHOLE, "not a whole number"), Field(le=INT_MAX)]
ItemId = Annotated[str, Field(min_length=1, max_length=64, pattern=ITEM_ID)]
UnitId = Annotated[str, Field(min_length=1, max_length=64, pattern=UNIT_ID)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE)]
Channel = Annotated[str, Field(min_length=1, max_length=32, pattern=CODE)]  # the database column holds 32
Segment = Annotated[str, Field(min_length=1, max_length=32, pattern=CODE)]


def canonical_hours(text: str) -> str:
    """Office hours in their one spelling (``mon-fri 8-18`` -> ``Mon-Fri 08:00-18:00``), or CalendarError."""
    return format_hours(parse_hours(text))


# Cells checked by a function (one source of truth, dashboard.whatif.calendar): the pydantic reference runs it
# as an after-validator, validate_frame runs the same function on each distinct cell and stores what it returns.
TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(check_timezone)]
OfficeHours = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(canonical_hours)]


class Priority(enum.StrEnum):
    """How urgent a work item is (routing rules set it; a file may give it)."""

    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, use_enum_values=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError(HAS_NUL)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _not_too_big(cls, value: Any) -> Any:
        if isinstance(value, float) and abs(value) > MAX_MAGNITUDE:
            raise ValueError(TOO_BIG)
        return value


class UnitRow(_Row):
    """The hub and its spokes."""

    id: UnitId
    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    headcount: Number = Field(ge=0)
    cost_per_fte: Number = Field(ge=0, description="per year, in the organisation's currency")
    description: str | None = None
    sort_order: Whole = Field(0, ge=0)
    panels: str | None = Field(None, max_length=500, description="comma-separated check panels")
    capacity_per_fte_day: Number | None = Field(None, ge=0)
    timezone: TimeZone | None = Field(None, description="IANA zone of the unit's office hours, e.g. Europe/Berlin; "
                                                        "empty: the what-if model's default zone; a file without "
                                                        "the column keeps the stored zone")
    office_hours: OfficeHours | None = Field(
        None, description="e.g. Mon-Fri 08:00-18:00; Sat 10:00-14:00 or 24/7 (stored in this spelling); empty: read "
                          "from the data by the what-if model; a file without the column keeps the stored hours")


class KpiRow(_Row):
    """A measure owned by a unit, in the tree that ends in the shared goal."""

    id: Code
    unit_id: UnitId
    name: str = Field(min_length=1, max_length=200)
    unit_of_measure: str = Field(min_length=1, max_length=16, description="EUR, %, count, hours, score ...")
    target: Number | None = None
    direction: Direction
    aggregation: Aggregation = Aggregation.SUM
    parent_id: Code | None = None
    is_goal: bool = False
    description: str | None = None
    sort_order: Whole = Field(0, ge=0)


class KpiObservationRow(_Row):
    """One value of one KPI at one time."""

    kpi_id: Code
    ts: Timestamp
    value: Number


class WorkItemRow(_Row):
    """One piece of work moving between the hub and a spoke."""

    id: ItemId
    kind: ItemKind
    source_unit: UnitId
    target_unit: UnitId | None = Field(None, description="empty: an item from the hub is routed by the active "
                                                         "routing rules (no rule matches: it waits unrouted at the hub)")
    channel: Channel
    topic: str | None = Field(None, max_length=64)
    text: str | None = Field(None, max_length=10_000)
    created_at: Timestamp
    routed_at: Timestamp | None = None
    accepted_at: Timestamp | None = None
    resolved_at: Timestamp | None = None
    due_at: Timestamp | None = Field(None, description="default: created_at + sla_hours")
    status: Status
    sla_hours: Number = Field(gt=0)
    value: Number | None = Field(None, ge=0, description="e.g. a lead's expected revenue")
    segment: Segment | None = Field(None, description="customer segment, e.g. consumer, business, vip")
    priority: Priority | None = Field(None, description="empty: the routing rule's, for a routed item")
    journey_id: ItemId | None = Field(None, description="the customer journey the item belongs to")

    @model_validator(mode="after")
    def _consistent(self) -> WorkItemRow:
        if self.resolved_at is not None and self.resolved_at < self.created_at:
            raise ValueError("resolved_at: before created_at")
        if self.status == Status.RESOLVED and self.resolved_at is None:
            raise ValueError("resolved_at: missing for a resolved item")
        if self.status != Status.RESOLVED and self.resolved_at is not None:
            raise ValueError("status: resolved_at is set but the status is not resolved")
        try:
            due = self.created_at + dt.timedelta(hours=self.sla_hours)
        except OverflowError:
            due = None
        if due is None or due > LATEST:
            raise ValueError(DUE_PAST_LATEST)
        return self


class CampaignRow(_Row):
    """Marketing spend and its returns per channel and period."""

    channel: Channel
    period_start: IsoDate
    period_end: IsoDate
    budget: Number = Field(ge=0)
    spend: Number = Field(ge=0)
    leads: Whole = Field(ge=0)
    conversions: Whole = Field(ge=0)
    revenue: Number = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> CampaignRow:
        if self.period_end < self.period_start:
            raise ValueError("period_end: before period_start")
        return self


class JourneyRow(_Row):
    """A customer journey: when it started and whether, when and for how much it converted. Its work items
    name it in ``journey_id``; attribution (Operating model page) credits the teams along each journey's path."""

    id: ItemId
    started_at: Timestamp
    converted_at: Timestamp | None = Field(None, description="empty: not converted (yet); not before started_at")
    revenue: Number = Field(0, ge=0, description="of the conversion, in the organisation's currency; only with "
                                                 "converted_at")

    @model_validator(mode="after")
    def _consistent(self) -> JourneyRow:
        if self.converted_at is not None and self.converted_at < self.started_at:
            raise ValueError("converted_at: before started_at")
        if self.converted_at is None and self.revenue > 0:
            raise ValueError(NO_CONVERSION)
        return self


NO_CONVERSION = ("converted_at: missing for a journey with revenue (only a converted journey has revenue: give "
                 "converted_at, or leave revenue empty or 0)")

MODELS: dict[str, type[_Row]] = {
    "work_items": WorkItemRow, "kpi_observations": KpiObservationRow, "kpis": KpiRow, "units": UnitRow,
    "campaigns": CampaignRow, "journeys": JourneyRow,
}
KEYS: dict[str, tuple[str, ...]] = {
    "work_items": ("id",), "kpi_observations": ("kpi_id", "ts"), "kpis": ("id",), "units": ("id",),
    "campaigns": ("channel", "period_start"), "journeys": ("id",),
}


def required_columns(kind: str) -> list[str]:
    return [n for n, f in MODELS[kind].model_fields.items() if f.is_required()]


def all_columns(kind: str) -> list[str]:
    return list(MODELS[kind].model_fields)


def normalise_header(name: object) -> str:
    """'Created At ' -> 'created_at': case, spaces, hyphens and a stray BOM do not matter."""
    text = str(name).replace("\ufeff", "").strip().lower()
    return "_".join(text.replace("-", " ").split())


def infer_kind(columns: list[str]) -> str | None:
    """The kind whose required columns are all present (the most specific when several fit)."""
    cols = {normalise_header(c) for c in columns}
    fits = [k for k in KINDS if set(required_columns(k)) <= cols]
    return max(fits, key=lambda k: len(required_columns(k))) if fits else None


# --- field types ---------------------------------------------------------------------------------------


def _base_type(annotation: Any) -> Any:
    """The non-None type of an annotation (``float | None`` -> float)."""
    if hasattr(annotation, "__metadata__"):  # Annotated[float, ...] -> float
        annotation = annotation.__origin__
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    base = args[0] if args else annotation
    return base.__origin__ if hasattr(base, "__metadata__") else base


def _field_type(model: type[BaseModel], name: str) -> str:
    base = _base_type(model.model_fields[name].annotation)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "enum"
    return {dt.datetime: "datetime", dt.date: "date", float: "float", int: "int", bool: "bool"}.get(base, "str")


def _constraints(model: type[BaseModel], name: str) -> dict[str, Any]:
    """Bounds, lengths and patterns of a field, including those of an optional Annotated type."""
    field = model.model_fields[name]
    metadata = list(field.metadata)
    for arg in getattr(field.annotation, "__args__", ()):
        for extra in getattr(arg, "__metadata__", ()):
            metadata.extend(getattr(extra, "metadata", ()))
    out: dict[str, Any] = {}
    for meta in metadata:
        for attr in ("ge", "gt", "le", "min_length", "max_length", "pattern"):
            value = getattr(meta, attr, None)
            if value is not None:
                out[attr] = value
    return out


def _cell_checks(model: type[BaseModel], name: str) -> list[Any]:
    """The functions a field's after-validators run on a cell (``timezone``: check_timezone), in order."""
    field = model.model_fields[name]
    metadata = list(field.metadata)
    for arg in getattr(field.annotation, "__args__", ()):
        metadata.extend(getattr(arg, "__metadata__", ()))
    return [meta.func for meta in metadata if isinstance(meta, AfterValidator)]


def describe(kind: str) -> pd.DataFrame:
    """The contract of one kind as a table: column, type, required, rule (docs/data-contract.md, the upload page)."""
    model = MODELS[kind]
    rows = []
    for name, field in model.model_fields.items():
        ftype = _field_type(model, name)
        rules = []
        if ftype == "enum":
            rules.append("one of " + ", ".join(m.value for m in _base_type(field.annotation)))
        c = _constraints(model, name)
        if "ge" in c:
            rules.append(f"≥ {c['ge']:g}")
        if "gt" in c:
            rules.append(f"> {c['gt']:g}")
        if "le" in c:
            rules.append(f"≤ {c['le']:,}")
        if "pattern" in c:
            rules.append(PATTERN_HELP[c["pattern"]])
        if "max_length" in c:
            rules.append(f"at most {c['max_length']:,} characters")
        if ftype == "date":
            rules.append("YYYY-MM-DD")
        if field.description:
            rules.append(field.description)
        if not field.is_required() and field.default not in (None,):
            rules.append(f"default {getattr(field.default, 'value', field.default)}")
        label = {"datetime": "timestamp", "enum": "text", "str": "text", "float": "number", "int": "whole number",
                 "bool": "true/false"}.get(ftype, ftype)
        rows.append({"column": name, "type": label, "required": field.is_required(), "rule": "; ".join(rules)})
    return pd.DataFrame(rows)


# --- vectorised validation -----------------------------------------------------------------------------


@dataclass
class Checked:
    """A validated chunk. ``valid`` is typed and keeps the chunk's index (the row positions)."""

    valid: pd.DataFrame
    errors: pd.Series  # index = row position in the chunk; value = "; "-joined "column: problem"
    keys: pd.Series  # every row's natural key as text (typed value where it parsed, else the raw text)
    formula_cells: int  # free-text cells that start like a formula (kept verbatim; exports neutralise them)


class _Reasons:
    """Collects (mask, reason) pairs; only rows with a problem ever get a list."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.masks: list[tuple[np.ndarray, str]] = []

    def flag(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.masks.append((m, reason))

    def any(self) -> np.ndarray:
        out = np.zeros(len(self.index), dtype=bool)
        for m, _ in self.masks:
            out |= m
        return out

    def joined(self) -> pd.Series:
        bad = self.any()
        if not bad.any():
            return pd.Series([], dtype=object, index=self.index[:0])
        where = np.flatnonzero(bad)
        texts: dict[int, list[str]] = {int(i): [] for i in where}
        for m, reason in self.masks:
            for i in np.flatnonzero(m):
                texts[int(i)].append(reason)
        return pd.Series(["; ".join(texts[int(i)]) for i in where], index=self.index[where], dtype=object)


NAIVE = r"^\d{4}-\d\d-\d\d(?:[T ]\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?)?$"  # ISO without an offset


def _localize(naive: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Naive local times in ``tz``. In the hour clocks repeat when summer time ends the earlier (summer)
    reading is taken; a time in the hour skipped when it starts is read one hour later (02:15 -> 03:15),
    which keeps distinct readings distinct."""
    summer = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(tz, ambiguous=summer, nonexistent=pd.Timedelta(hours=1))


def parse_timestamps(text: pd.Series, tz: ZoneInfo) -> pd.Series:
    """ISO 8601 text (mixed spellings allowed) as UTC; naive values are local to ``tz``. NaT where invalid."""
    present = text.notna() & (text != "")
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if not present.any():
        return out
    values = text[present]
    try:  # fast path: a column that is all naive or all one offset parses in one go
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        if parsed.dt.tz is None:
            parsed = _localize(parsed, tz)
        out.loc[present] = parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
        return out
    except (ValueError, TypeError):
        pass
    naive = values.str.fullmatch(NAIVE, na=False)
    if naive.any():
        local = pd.to_datetime(values[naive], format="ISO8601", errors="coerce")
        local = _localize(local, tz).dt.tz_convert("UTC")
        out.loc[naive[naive].index] = local.astype("datetime64[us, UTC]")
    aware = values[~naive]
    if len(aware):
        parsed = pd.to_datetime(aware, format="ISO8601", errors="coerce", utc=True)
        out.loc[aware.index] = parsed.astype("datetime64[us, UTC]")
    return out


def _key_text(values: pd.Series, ftype: str) -> pd.Series:
    if ftype == "datetime":
        return values.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if ftype == "date":
        return pd.Series([v.isoformat() if isinstance(v, dt.date) else None for v in values], index=values.index)
    return values.astype(object)


def validate_frame(kind: str, raw: pd.DataFrame, tz: ZoneInfo, *, known_units: set[str] | None = None,
                   known_kpis: set[str] | None = None) -> Checked:
    """Validate a chunk whose columns are contract names holding text (missing cells empty or NA).

    Every row comes out either typed in ``valid`` or with reasons in ``errors``. Referential checks run
    when the known ids are given. Duplicates are not judged here (the importer sees the whole file). A field
    checked by a function (office hours, time zone) keeps what the function returns (the canonical spelling).
    """
    model = MODELS[kind]
    index = raw.index
    reasons = _Reasons(index)
    out = pd.DataFrame(index=index)
    key_parts: dict[str, pd.Series] = {}
    formula_cells = 0
    for name, field in model.model_fields.items():
        ftype = _field_type(model, name)
        c = _constraints(model, name)
        if name in raw.columns:
            col = raw[name].astype("string").str.strip()
        else:
            col = pd.Series(pd.NA, index=index, dtype="string")
        empty = (col.isna() | (col == "")).to_numpy()
        if field.is_required():
            reasons.flag(empty, f"{name}: missing")
        if name in raw.columns:
            reasons.flag(col.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool), f"{name}: {HAS_NUL}")
        if ftype == "datetime":
            val = parse_timestamps(col, tz)
            reasons.flag(val.isna().to_numpy() & ~empty,
                         f"{name}: not an ISO 8601 timestamp such as 2026-11-23 10:30 or 2026-11-23T10:30:00+01:00")
            outside = (val.notna() & ((val < EARLIEST) | (val > LATEST))).to_numpy()
            reasons.flag(outside, f"{name}: {NOT_IN_RANGE}")
            val = val.where(~outside)  # like an unreadable cell: no rule between columns blames it again
        elif ftype == "date":
            iso = col.str.fullmatch(ISO_DATE).fillna(False).to_numpy(dtype=bool)
            parsed = pd.to_datetime(col.where(iso), format="%Y-%m-%d", errors="coerce")
            reasons.flag(parsed.isna().to_numpy() & ~empty, f"{name}: not a date such as 2026-11-23")
            val = pd.Series(np.array(parsed.dt.date.to_numpy(), dtype=object), index=index)
            val[parsed.isna().to_numpy()] = None
        elif ftype in ("float", "int"):
            num = pd.to_numeric(col.where(~empty), errors="coerce").astype("float64")
            arr = num.to_numpy()
            not_number = np.isnan(arr) & ~empty
            reasons.flag(not_number, f"{name}: not a number")
            finite = np.isfinite(arr)
            reasons.flag(~finite & ~np.isnan(arr), f"{name}: not a finite number")
            reasons.flag(finite & (np.abs(arr) > MAX_MAGNITUDE), f"{name}: {TOO_BIG}")
            if ftype == "int":
                whole = col.str.fullmatch(WHOLE).fillna(False).to_numpy(dtype=bool)
                reasons.flag(finite & ~whole, f"{name}: not a whole number")
            else:
                reasons.flag(col.str.contains("_", regex=False).fillna(False).to_numpy(dtype=bool) & ~empty,
                             f"{name}: not a number")
            if "ge" in c:
                reasons.flag(finite & (arr < c["ge"]), f"{name}: must be ≥ {c['ge']:g}")
            if "gt" in c:
                reasons.flag(finite & (arr <= c["gt"]), f"{name}: must be > {c['gt']:g}")
            if "le" in c:
                reasons.flag(finite & (arr > c["le"]), f"{name}: must be ≤ {c['le']:,}")
            if not field.is_required() and field.default is not None:
                num = num.where(~empty, float(field.default))
            val = num
        elif ftype == "bool":
            val = col.str.lower().map(BOOLS)
            reasons.flag(val.isna().to_numpy() & ~empty, f"{name}: not true or false")
            val = val.astype(object).where(val.notna(), field.default if not field.is_required() else None)
        else:
            val = col.astype(object).where(~empty, None)
            checks = _cell_checks(model, name)
            readable = ~empty
            if ftype == "enum":
                allowed = [m.value for m in _base_type(field.annotation)]
                reasons.flag(~empty & ~col.isin(allowed).fillna(False).to_numpy(dtype=bool),
                             f"{name}: not one of {', '.join(allowed)}")
            if "max_length" in c:
                too_long = (col.str.len() > c["max_length"]).fillna(False).to_numpy(dtype=bool)
                reasons.flag(too_long, f"{name}: longer than {c['max_length']} characters")
                readable &= ~too_long
            if "pattern" in c:
                ok = col.str.fullmatch(c["pattern"]).fillna(False).to_numpy(dtype=bool)
                reasons.flag(~empty & ~ok, f"{name}: only {PATTERN_HELP[c['pattern']]}")
            elif checks:
                val = _run_checks(name, val, readable, checks, reasons)
            elif ftype == "str":
                formula_cells += int(col.str.startswith(FORMULA_START).fillna(False).sum())
            if ftype == "enum" and not field.is_required() and field.default is not None:
                val = val.where(~empty, getattr(field.default, "value", field.default))
        out[name] = val
        if name in KEYS[kind]:
            typed = _key_text(val, ftype)
            key_parts[name] = typed.where(typed.notna(), col.astype(object))
    _cross_field_checks(kind, out, reasons, known_units, known_kpis)
    parts = [key_parts[k].astype("string").fillna("") for k in KEYS[kind]]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + "|" + part
    keys = keys.astype(object)
    errors = reasons.joined()
    valid = out[~reasons.any()]
    return Checked(valid=valid, errors=errors, keys=keys, formula_cells=formula_cells)


def _run_checks(name: str, cells: pd.Series, readable: np.ndarray, checks: list[Any], reasons: _Reasons) -> pd.Series:
    """Each distinct readable cell through the field's functions once: a refused cell gets the function's
    message (``office_hours: 'Mo-Fr' is not ...``), an accepted one becomes what the functions return."""
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for text in pd.unique(cells[readable]):
        value = text
        try:
            for check in checks:
                value = check(value)
        except ValueError as exc:  # reasons are "; "-joined: a ";" quoted from the cell is shown as ","
            refused[text] = f"{name}: {str(exc).replace(';', ',')}"
        else:
            accepted[text] = value
    messages = np.array([refused.get(t) if ok else None for t, ok in zip(cells, readable)], dtype=object)
    for message in dict.fromkeys(refused.values()):
        reasons.flag(messages == message, message)
    return pd.Series([accepted.get(t) if ok else t for t, ok in zip(cells, readable)], index=cells.index, dtype=object)


def _cross_field_checks(kind: str, out: pd.DataFrame, reasons: _Reasons, known_units: set[str] | None,
                        known_kpis: set[str] | None) -> None:
    def unknown(column: str, known: set[str]) -> np.ndarray:
        return (out[column].notna() & ~out[column].isin(known)).to_numpy()

    if kind == "work_items":
        if known_units is not None:
            for column in ("source_unit", "target_unit"):
                reasons.flag(unknown(column, known_units), f"{column}: unknown unit (load it with the units first)")
        created, resolved = out.created_at, out.resolved_at
        reasons.flag((created.notna() & resolved.notna() & (resolved < created)).to_numpy(),
                     "resolved_at: before created_at")
        is_resolved = (out.status == Status.RESOLVED.value).to_numpy()
        reasons.flag(is_resolved & resolved.isna().to_numpy(), "resolved_at: missing for a resolved item")
        reasons.flag(out.status.notna().to_numpy() & ~is_resolved & resolved.notna().to_numpy(),
                     "status: resolved_at is set but the status is not resolved")
        reasons.flag(due_past_latest(created, out.sla_hours), DUE_PAST_LATEST)
    elif kind == "kpi_observations" and known_kpis is not None:
        reasons.flag(unknown("kpi_id", known_kpis), "kpi_id: unknown KPI (load it with the KPIs first)")
    elif kind == "kpis" and known_units is not None:
        reasons.flag(unknown("unit_id", known_units), "unit_id: unknown unit (load it with the units first)")
    elif kind == "campaigns":
        start, end = out.period_start, out.period_end
        both = start.notna() & end.notna()
        later = np.array([bool(b) and e < s for b, s, e in zip(both, start, end)], dtype=bool)
        reasons.flag(later, "period_end: before period_start")
    elif kind == "journeys":
        started, converted = out.started_at, out.converted_at
        reasons.flag((started.notna() & converted.notna() & (converted < started)).to_numpy(),
                     "converted_at: before started_at")
        unreadable = np.zeros(len(out), dtype=bool)  # an unreadable converted_at is blamed already: not "missing"
        for mask, reason in reasons.masks:
            if reason.startswith("converted_at: not"):
                unreadable |= mask
        reasons.flag(converted.isna().to_numpy() & ~unreadable & (out.revenue > 0).to_numpy(), NO_CONVERSION)


def due_past_latest(created: pd.Series, hours: pd.Series) -> np.ndarray:
    """Where ``created + hours`` passes :data:`LATEST` (False where either is missing)."""
    start = created.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    start_us = np.where(np.isnat(start), np.nan, start.view(np.int64).astype(float))
    latest_us = (LATEST - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    with np.errstate(invalid="ignore", over="ignore"):
        due_us = start_us + pd.to_numeric(hours, errors="coerce").to_numpy(dtype=float) * 3_600e6
        return np.nan_to_num(due_us, nan=-np.inf) > latest_us


def validate_row(kind: str, row: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """The reference check of one row through the pydantic model: [] when valid, else the failing columns.

    Text cells are converted the way :func:`validate_frame` reads them (empty = missing, naive times local).
    """
    model = MODELS[kind]
    data: dict[str, Any] = {}
    for name in model.model_fields:
        cell = row.get(name)
        if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell).strip() == "":
            continue
        text = str(cell).strip()
        if _field_type(model, name) == "datetime":
            parsed = parse_timestamps(pd.Series([text], dtype="string"), tz).iloc[0]
            try:  # text that is no ISO 8601 stays refused (pydantic alone would read "1700000000" as Unix time)
                data[name] = f"not ISO 8601: {text}" if pd.isna(parsed) else parsed.to_pydatetime()
            except ValueError:  # in UTC beyond what Python's datetime holds (the year 10000): refused
                data[name] = f"{text} (after the year 9999 in UTC)"
        else:
            data[name] = text
    try:
        model.model_validate(data)
    except ValidationError as exc:
        cols = set()
        for err in exc.errors():
            loc = err.get("loc") or ()
            if loc:
                cols.add(str(loc[0]))
            else:  # a model-level rule: its message starts with the column it blames
                cols.add(str(err.get("msg", "")).removeprefix("Value error, ").split(":")[0])
        return sorted(cols)
    return []


__all__ = [
    "KINDS", "MODELS", "KEYS", "Checked", "validate_frame", "validate_row", "infer_kind", "required_columns",
    "all_columns", "normalise_header", "describe", "parse_timestamps", "EARLIEST", "LATEST", "ROW_RULES",
    "due_past_latest",
]
