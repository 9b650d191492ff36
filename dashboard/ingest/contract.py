"""The data contract for imported files: one pydantic model per kind, its columns, keys and rules.

The models are the documentation (docs/data-contract.md shows the same fields, kept in step by a test, from
:func:`describe`) and the per-row reference: :mod:`dashboard.ingest.validate` checks a whole chunk of text cells
with pandas at ingest speed by the same fields (read through :func:`field_type`, :func:`constraints` and
:func:`cell_checks`) and runs single rows through these models (``validate_row``); tests run the same rows through
both and require them to agree.

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
import re
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
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


def base_type(annotation: Any) -> Any:
    """The non-None type of an annotation (``float | None`` -> float)."""
    if hasattr(annotation, "__metadata__"):  # Annotated[float, ...] -> float
        annotation = annotation.__origin__
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    base = args[0] if args else annotation
    return base.__origin__ if hasattr(base, "__metadata__") else base


def field_type(model: type[BaseModel], name: str) -> str:
    base = base_type(model.model_fields[name].annotation)
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return "enum"
    return {dt.datetime: "datetime", dt.date: "date", float: "float", int: "int", bool: "bool"}.get(base, "str")


def constraints(model: type[BaseModel], name: str) -> dict[str, Any]:
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


def cell_checks(model: type[BaseModel], name: str) -> list[Any]:
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
        ftype = field_type(model, name)
        rules = []
        if ftype == "enum":
            rules.append("one of " + ", ".join(m.value for m in base_type(field.annotation)))
        c = constraints(model, name)
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


# The order files of several kinds must be loaded in (a KPI needs its unit, an observation its KPI).
# Journeys and work items may come in either order (an item naming a journey not loaded yet is kept).
KIND_ORDER = ("units", "kpis", "campaigns", "kpi_observations", "journeys", "work_items")
