"""The inputs as validated, frozen pydantic models (the organisation, its functions, streams and workers) and
the readable lines a validation error becomes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dashboard.domain.refusals import Refused
from dashboard.domain.vocabulary import function_label
from dashboard.whatif import calendar as cal

CURRENT_INPUTS_VERSION: Final = 3

Placement = Literal["hub", "spokes", "hybrid"]
Worker = Literal["hub", "spoke"]
# The hybrid preset: these functions in the hub, everything else delivered locally by the spokes.
HYBRID_CENTRAL: tuple[str, ...] = ("content_production", "analytics_reporting")
# Items whose senders give up when nobody answers in time (abandonment): social mentions and complaints.
ABANDONING_KINDS: tuple[str, ...] = ("mention", "complaint")

HUB_ID = "hub"
WEEK_HOURS = cal.WEEK_HOURS

# Human names of input fields, for validation messages and the sensitivity table.
FIELD_LABELS: dict[str, str] = {
    "central_share": "central share",
    "demand_per_day": "demand (items/day)",
    "work_h": "work per item (staffed hours)",
    "in_progress_h": "in-progress time (staffed hours)",
    "response_h": "pick-up delay (staffed hours)",
    "transfer_h": "handoff transfer time (hours)",
    "cv": "variability (CV of pick-up + in-progress time)",
    "fte_cost": "FTE cost per year",
    "platform_cost": "platform licence per instance per year",
    "error_rate_specialist": "error rate (hub)",
    "error_rate_generalist": "error rate (spokes)",
    "sla_hours": "SLA (hours)",
    "sla_target": "SLA target share",
    "patience_h": "patience before a sender gives up (hours)",
    "contracted_hours_per_week": "contracted hours per FTE per week",
    "shrinkage": "shrinkage (leave, sickness, training, meetings)",
    "occupancy_cap": "occupancy cap",
    "occupancy": "occupancy",
    "coordination_hours_per_channel_month": "coordination hours per channel per month",
    "coordination": "coordination structure",
    "hours": "office hours",
    "timezone": "time zone",
    "headcount": "headcount",
    "spokes": "spokes",
    "functions": "functions",
    "streams": "streams",
    "profile": "arrival profile",
}

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
UnitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
Share = Annotated[float, Field(ge=0, le=1)]


class InputError(Refused):
    """Inputs the model cannot use; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class _Inputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True)


class GlobalInputs(_Inputs):
    """Organisation-wide defaults and conversion factors."""

    fte_cost: float = Field(70_000.0, gt=0, description="cost of one FTE per year where no unit sets one")
    platform_cost: float = Field(12_000.0, ge=0, description="licence and running cost per platform instance per year")
    contracted_hours_per_week: float = Field(40.0, gt=0, le=80, description="paid hours per FTE per week")
    shrinkage: float = Field(0.30, ge=0, lt=1, description="share of paid hours not available for work")
    occupancy_cap: float = Field(0.85, gt=0, lt=1, description="most of its available time a team spends on "
                                                                "modelled work; new teams are staffed to it")
    coordination_hours_per_channel_month: float = Field(
        4.0, ge=0, description="hours per month that one coordination channel between two teams costs")
    coordination: Literal["star", "all_to_all"] = Field(
        "star", description="star: the hub aligns with each team doing the function; all_to_all: every pair aligns")

    @property
    def productive_hours_per_week(self) -> float:
        return self.contracted_hours_per_week * (1.0 - self.shrinkage)


class UnitInputs(_Inputs):
    """The hub or a spoke: cost, headcount and office hours."""

    id: UnitId
    name: str = ""
    fte_cost: float | None = Field(None, gt=0)
    headcount: float | None = Field(None, ge=0)
    hours: str = cal.DEFAULT_HOURS_TEXT
    timezone: str = "UTC"
    hours_source: Literal["stored", "inferred", "default"] = "default"
    occupancy: float | None = Field(None, gt=0, lt=1, description="a spoke's shared team: calibrated occupancy")

    @field_validator("hours")
    @classmethod
    def _hours_readable(cls, value: str) -> str:
        try:
            return cal.format_hours(cal.parse_hours(value))
        except cal.CalendarError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("timezone")
    @classmethod
    def _zone_known(cls, value: str) -> str:
        try:
            return cal.check_timezone(value)
        except cal.CalendarError as exc:
            raise ValueError(str(exc)) from None

    @property
    def label(self) -> str:
        return self.name or self.id.replace("_", " ").capitalize()

    @property
    def windows(self) -> cal.Hours:
        return cal.parse_hours(self.hours)


class WorkerInputs(_Inputs):
    """How long one stream's items take when the hub (specialists) or the spoke (generalists) works them.

    ``response_h`` + ``in_progress_h`` is the staffed time from an item reaching the team to its resolution
    that queueing does not explain (picking it up, then working it, including time spent waiting for others);
    ``work_h`` (≤ ``in_progress_h``) of it keeps a person busy. ``transfer_h`` is added when the item crosses
    the hub↔spoke boundary (it is worked elsewhere than where it comes from). ``source`` says where the
    numbers come from ("observed", "derived from ...", "typical default").
    """

    work_h: float = Field(gt=0)
    in_progress_h: float = Field(gt=0)
    response_h: float = Field(0.0, ge=0)
    cv: float = Field(1.0, ge=0, le=20)
    transfer_h: float = Field(0.0, ge=0)
    source: str = "typical default"

    @model_validator(mode="after")
    def _work_fits(self) -> WorkerInputs:
        if self.work_h > self.in_progress_h * (1 + 1e-9):
            raise ValueError(f"work per item ({self.work_h:g} h) cannot exceed the in-progress time "
                             f"({self.in_progress_h:g} h)")
        return self

    @property
    def staffed_h(self) -> float:
        return self.response_h + self.in_progress_h


class StreamInputs(_Inputs):
    """One spoke's items of one kind and origin for one function."""

    spoke: UnitId
    kind: str = Field("", max_length=64)
    origin: Worker
    demand_per_day: NonNegative
    central_share: Share
    sla_hours: float = Field(gt=0)
    profile: tuple[float, ...] | None = None
    patience_h: float | None = Field(None, gt=0, description="mean wait after which a sender gives up; None: never")
    patience_source: str = ""
    hub: WorkerInputs
    local: WorkerInputs

    @field_validator("profile")
    @classmethod
    def _profile_is_a_week(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if value is None:
            return None
        if len(value) != WEEK_HOURS or any(v < 0 for v in value) or sum(value) <= 0:
            raise ValueError(f"an arrival profile has {WEEK_HOURS} non-negative hourly weights, not all zero")
        total = sum(value)
        if abs(total - WEEK_HOURS) <= 1e-3 * WEEK_HOURS:  # already a week's weights with mean 1: keep them as given
            return tuple(float(v) for v in value)
        return tuple(round(v * WEEK_HOURS / total, 4) for v in value)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.spoke, self.kind, self.origin)

    def worker(self, where: Worker) -> WorkerInputs:
        return self.hub if where == "hub" else self.local


class FunctionInputs(_Inputs):
    """One function of the operating model and its streams."""

    central_share: float | None = Field(None, ge=0, le=1)
    streams: tuple[StreamInputs, ...] = Field(default_factory=tuple, max_length=2000)
    sla_target: float = Field(0.9, gt=0, le=0.999)
    platform_cost: float | None = Field(None, ge=0)
    error_rate_specialist: float = Field(0.02, ge=0, le=1)
    error_rate_generalist: float = Field(0.05, ge=0, le=1)
    error_source: str = "assumption"
    hub_occupancy: float | None = Field(None, gt=0, lt=1)

    @field_validator("streams")
    @classmethod
    def _unique_streams(cls, streams: tuple[StreamInputs, ...]) -> tuple[StreamInputs, ...]:
        keys = [s.key for s in streams]
        dupes = sorted({"/".join(k) for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"streams must be unique per spoke, kind and origin; repeated: {', '.join(dupes)}")
        return streams

    def share_of(self, stream: StreamInputs) -> float:
        return stream.central_share if self.central_share is None else self.central_share

    @property
    def demand_per_day(self) -> float:
        return float(sum(s.demand_per_day for s in self.streams))

    @property
    def mean_share(self) -> float:
        """The demand-weighted central share over the function's streams (its share of items worked centrally)."""
        total = self.demand_per_day
        if total <= 0:
            return float(self.central_share if self.central_share is not None else 0.0)
        return float(sum(s.demand_per_day * self.share_of(s) for s in self.streams) / total)

    @property
    def placement(self) -> Placement:
        share = self.mean_share
        if share >= 1.0 - 1e-9:
            return "hub"
        if share <= 1e-9:
            return "spokes"
        return "hybrid"

    def demand_by_spoke(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.streams:
            out[s.spoke] = out.get(s.spoke, 0.0) + s.demand_per_day
        return out


class ScenarioInputs(_Inputs):
    """Everything :func:`dashboard.whatif.model.evaluate` needs; immutable, so safe to cache and share."""

    inputs_version: Literal[3] = CURRENT_INPUTS_VERSION
    hub: UnitInputs = UnitInputs(id=HUB_ID, name="Hub")
    spokes: tuple[UnitInputs, ...] = Field(min_length=1, max_length=200)
    globals: GlobalInputs = GlobalInputs()
    functions: dict[UnitId, FunctionInputs] = Field(min_length=1, max_length=50)
    window_days: float | None = Field(None, gt=0, description="days of observed work the inputs were calibrated on")

    @field_validator("spokes")
    @classmethod
    def _unique_spokes(cls, spokes: tuple[UnitInputs, ...]) -> tuple[UnitInputs, ...]:
        ids = [s.id for s in spokes]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"spoke ids must be unique; repeated: {', '.join(dupes)}")
        return spokes

    @model_validator(mode="after")
    def _references_are_known(self) -> ScenarioInputs:
        spoke_ids = {s.id for s in self.spokes}
        problems = []
        if self.hub.id in spoke_ids:
            problems.append(f"the hub id {self.hub.id!r} is also used by a spoke")
        for name, fn in self.functions.items():
            unknown = sorted({s.spoke for s in fn.streams} - spoke_ids)
            if unknown:
                problems.append(f"{name}: streams for unknown spoke(s) {', '.join(unknown)}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # --- convenience --------------------------------------------------------------------------------------

    @property
    def spoke_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.spokes)

    @property
    def function_ids(self) -> tuple[str, ...]:
        return tuple(self.functions)

    @property
    def units(self) -> tuple[UnitInputs, ...]:
        return (self.hub, *self.spokes)

    def updated(self, patch: Mapping[str, Any]) -> ScenarioInputs:
        """A validated copy with ``patch`` merged in (nested dicts merge, lists are replaced); raises
        :class:`InputError`."""
        return validate_inputs(_merge(self.model_dump(), patch))

    def with_shares(self, shares: float | None | Mapping[str, float | None]) -> ScenarioInputs:
        """Set the central share of every function (a number, or None for each stream's own) or of the named
        ones (a mapping)."""
        if isinstance(shares, Mapping):
            unknown = sorted(set(shares) - set(self.functions))
            if unknown:
                raise InputError([f"unknown function(s): {', '.join(unknown)}"])
            patch = {f: {"central_share": s} for f, s in shares.items()}
        else:
            patch = {f: {"central_share": shares} for f in self.functions}
        return self.updated({"functions": patch})

    def with_placement(self, function: str, placement: Placement, share: float | None = None) -> ScenarioInputs:
        """Put ``function`` in the hub (share 1), the spokes (0) or a hybrid split (``share``, default 0.5)."""
        if placement == "hub":
            value = 1.0
        elif placement == "spokes":
            value = 0.0
        elif placement == "hybrid":
            value = 0.5 if share is None else share
        else:
            raise InputError([f"placement must be hub, spokes or hybrid, got {placement!r}"])
        return self.with_shares({function: value})

    def with_function(self, function: str, **changes: Any) -> ScenarioInputs:
        if function not in self.functions:
            raise InputError([f"unknown function: {function}"])
        return self.updated({"functions": {function: changes}})

    def with_demand(self, function: str, per_spoke: Mapping[str, float]) -> ScenarioInputs:
        """Set a function's demand per spoke (items per day; spokes not named get none), shared among each spoke's
        streams in proportion to their current demand (equally where it is zero)."""
        if function not in self.functions:
            raise InputError([f"unknown function: {function}"])
        streams = self.functions[function].streams
        spokes_with = {s.spoke for s in streams}
        unknown = sorted(set(per_spoke) - spokes_with)
        if unknown:
            raise InputError([f"{function_label(function)} has no streams for {', '.join(unknown)}"])
        current = self.functions[function].demand_by_spoke()
        counts = {sp: sum(1 for s in streams if s.spoke == sp) for sp in spokes_with}
        updated = []
        for s in streams:
            total = float(per_spoke.get(s.spoke, 0.0))
            part = s.demand_per_day / current[s.spoke] if current.get(s.spoke, 0.0) > 0 else 1.0 / counts[s.spoke]
            updated.append({**s.model_dump(), "demand_per_day": total * part})
        return self.updated({"functions": {function: {"streams": updated}}})

    def with_globals(self, **changes: Any) -> ScenarioInputs:
        return self.updated({"globals": changes})

    def with_units(self, changes: Mapping[str, Mapping[str, Any]]) -> ScenarioInputs:
        """Change units by id (``{"sales": {"hours": "Mon-Fri 08:00-18:00"}}``)."""
        known = {u.id for u in self.units}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise InputError([f"unknown unit(s): {', '.join(unknown)}"])
        data = self.model_dump()
        if self.hub.id in changes:
            data["hub"] = {**data["hub"], **changes[self.hub.id]}
        data["spokes"] = [{**s, **changes.get(s["id"], {})} for s in data["spokes"]]
        return validate_inputs(data)


def _merge(base: dict, patch: Mapping[str, Any]) -> dict:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(p) for p in error.get("loc", ()) if not str(p).startswith("function-after")]
    where = " › ".join(FIELD_LABELS.get(p, p) for p in loc)
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list, tuple)) or value is None else f" (got {value!r})"
    if error.get("type") == "missing":
        return f"{where}: missing"
    return f"{where}: {message}{shown}" if where else f"{message}{shown}"


def explain(error: ValidationError) -> list[str]:
    """One readable line per problem in a pydantic ``ValidationError`` (for widgets and the page)."""
    return [_describe(e) for e in error.errors(include_url=False)]


def validate_inputs(data: Mapping[str, Any]) -> ScenarioInputs:
    """Validate a current-version dict; raises :class:`InputError` with readable lines."""
    try:
        return ScenarioInputs.model_validate(data)
    except ValidationError as err:
        raise InputError(explain(err)) from None
