"""Typed, validated and versioned inputs of the what-if model (see MODEL.md for what each number means).

Units: demand in items per calendar day, work content in hours per item, delays and SLAs in calendar hours,
costs per year in the organisation's currency, shares and rates in 0..1.

An operating model gives each function a central share: 1 = done in the hub, 0 = done in the spokes, in
between = a hybrid split (that share of every spoke's items goes to the hub). ``placement`` is derived from
the share, so the two can never disagree.

Saved scenarios store ``dump_inputs(inputs)``; :func:`load_inputs` reads any earlier ``inputs_version`` by
upgrading it step by step (``_UPGRADES``), and refuses newer ones with a message instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

CURRENT_INPUTS_VERSION = 2

Placement = Literal["hub", "spokes", "hybrid"]

FUNCTIONS: tuple[str, ...] = (
    "campaign_planning",
    "content_production",
    "analytics_reporting",
    "social_listening",
    "crm_lead_management",
    "martech_platforms",
)
FUNCTION_LABELS: dict[str, str] = {
    "campaign_planning": "Campaign planning",
    "content_production": "Content production",
    "analytics_reporting": "Analytics & reporting",
    "social_listening": "Social listening & response",
    "crm_lead_management": "CRM & lead management",
    "martech_platforms": "Marketing technology / platforms",
}
# The hybrid preset: these functions in the hub, everything else delivered locally by the spokes.
HYBRID_CENTRAL: tuple[str, ...] = ("content_production", "analytics_reporting")

HUB_ID = "hub"

# Human names of input fields, for validation messages and the sensitivity table.
FIELD_LABELS: dict[str, str] = {
    "central_share": "central share",
    "demand_per_day": "demand per spoke (items/day)",
    "hours_per_item_specialist": "work hours per item (specialist, hub)",
    "hours_per_item_generalist": "work hours per item (generalist, spoke)",
    "stages": "number of stages",
    "boundary_crossings": "hub↔spoke handoffs per item when done centrally",
    "handoff_delay_hours": "handoff delay per crossing (hours)",
    "fte_cost": "FTE cost per year",
    "platform_cost": "platform licence per instance per year",
    "error_rate_specialist": "compliance error rate (specialist)",
    "error_rate_generalist": "compliance error rate (generalist)",
    "sla_hours": "SLA (hours)",
    "sla_target": "SLA target share",
    "ca": "CV of inter-arrival times",
    "cs": "CV of service times",
    "productive_hours_per_day": "productive hours per FTE per working day",
    "flow_efficiency": "flow efficiency (work time ÷ in-progress time)",
    "working_days_per_year": "working days per FTE per year",
    "coordination_hours_per_channel_month": "coordination hours per channel per month",
    "fixed_fte": "fixed FTE",
    "spokes": "spokes",
    "functions": "functions",
}

NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
WholeNonNegative = Annotated[int, Field(ge=0)]
UnitId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


class InputError(ValueError):
    """Inputs the model cannot use; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class _Inputs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True)


class GlobalInputs(_Inputs):
    """Organisation-wide defaults and conversion factors."""

    fte_cost: float = Field(70_000.0, gt=0, description="cost of one FTE per year when no unit/function sets one")
    handoff_delay_hours: float = Field(4.0, ge=0, description="calendar hours an item waits per hub↔spoke handoff")
    platform_cost: float = Field(12_000.0, ge=0, description="licence and running cost per platform instance per year")
    productive_hours_per_day: float = Field(6.4, gt=0, le=24, description="hours of work per FTE per working day")
    working_days_per_year: float = Field(220.0, gt=0, le=366, description="working days per FTE per year")
    coordination_hours_per_channel_month: float = Field(
        4.0, ge=0, description="hours per month that one coordination channel between two teams costs (Malone 1987)")


class UnitInputs(_Inputs):
    """The hub or a spoke; ``fte_cost`` overrides the global FTE cost for people in this unit."""

    id: UnitId
    name: str = ""
    fte_cost: float | None = Field(None, gt=0)

    @property
    def label(self) -> str:
        return self.name or self.id.replace("_", " ").capitalize()


class FunctionInputs(_Inputs):
    """One function of the operating model; ``None`` fields fall back to the unit or global value.

    ``flow_efficiency`` (default 1) is the share of an item's in-progress time that someone actually works on
    it: people juggle several items, so an item of 1 work hour may take 5 elapsed hours at 0.2. It lengthens
    lead times; the queues run on work content, so it changes staffing only by leaving less of the SLA for
    waiting.
    """

    central_share: float = Field(ge=0, le=1)
    demand_per_day: dict[UnitId, NonNegative] = Field(default_factory=dict)
    hours_per_item_specialist: float = Field(gt=0)
    hours_per_item_generalist: float = Field(gt=0)
    stages: int = Field(3, ge=1, le=50)
    boundary_crossings: float = Field(2.0, ge=0)
    handoff_delay_hours: float | None = Field(None, ge=0)
    fte_cost: float | None = Field(None, gt=0)
    platform_cost: float | None = Field(None, ge=0)
    error_rate_specialist: float = Field(0.02, ge=0, le=1)
    error_rate_generalist: float = Field(0.05, ge=0, le=1)
    sla_hours: float = Field(gt=0)
    sla_target: float = Field(0.9, gt=0, le=0.999)
    ca: float | None = Field(None, ge=0, le=20)
    cs: float | None = Field(None, ge=0, le=20)
    productive_hours_per_day: float | None = Field(None, gt=0, le=24)
    flow_efficiency: float | None = Field(None, gt=0, le=1)
    fixed_fte: dict[UnitId, WholeNonNegative] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _crossings_fit_the_stages(self) -> FunctionInputs:
        if self.boundary_crossings > self.stages + 1:
            raise ValueError(
                f"boundary_crossings ({self.boundary_crossings:g}) cannot exceed stages + 1 ({self.stages + 1}): "
                "an item can cross at intake, between stages and at delivery")
        return self

    @property
    def placement(self) -> Placement:
        if self.central_share >= 1.0:
            return "hub"
        if self.central_share <= 0.0:
            return "spokes"
        return "hybrid"


class ScenarioInputs(_Inputs):
    """Everything :func:`dashboard.whatif.model.evaluate` needs; immutable, so safe to cache and share."""

    inputs_version: Literal[2] = CURRENT_INPUTS_VERSION
    hub: UnitInputs = UnitInputs(id=HUB_ID, name="Hub")
    spokes: tuple[UnitInputs, ...] = Field(min_length=1, max_length=200)
    globals: GlobalInputs = GlobalInputs()
    functions: dict[UnitId, FunctionInputs] = Field(min_length=1, max_length=50)

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
            unknown = sorted(set(fn.demand_per_day) - spoke_ids)
            if unknown:
                problems.append(f"{name}: demand for unknown spoke(s) {', '.join(unknown)}")
            unknown = sorted(set(fn.fixed_fte) - spoke_ids - {self.hub.id})
            if unknown:
                problems.append(f"{name}: fixed FTE for unknown unit(s) {', '.join(unknown)}")
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

    def updated(self, patch: Mapping[str, Any]) -> ScenarioInputs:
        """A validated copy with ``patch`` merged in (nested dicts merge); raises :class:`InputError`."""
        return validate_inputs(_merge(self.model_dump(), patch))

    def with_shares(self, shares: float | Mapping[str, float]) -> ScenarioInputs:
        """Set the central share of every function (a number) or of the named ones (a mapping)."""
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

    def with_globals(self, **changes: Any) -> ScenarioInputs:
        return self.updated({"globals": changes})

    def without_fixed_staffing(self) -> ScenarioInputs:
        """Every queue staffed to its SLA (the presets use this: fixed as-is headcounts would not fit them)."""
        if not any(fn.fixed_fte for fn in self.functions.values()):
            return self
        data = self.model_dump()
        for fn in data["functions"].values():
            fn["fixed_fte"] = {}
        return validate_inputs(data)


def _merge(base: dict, patch: Mapping[str, Any]) -> dict:
    out = dict(base)
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key not in ("demand_per_day", "fixed_fte"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


# --- messages ------------------------------------------------------------------------------------------------


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


# --- versions --------------------------------------------------------------------------------------------------


def _v1_to_v2(data: dict) -> dict:
    """Version 1 (the first draft of this schema) to 2.

    v1 stored ``version`` instead of ``inputs_version``, spokes as plain ids, globals under ``global`` without
    ``working_days_per_year``/``coordination_hours_per_channel_month``, and per function a ``placement``
    ("hub" | "spokes" | "hybrid") with ``central_share`` read only for hybrids, plus the short names
    ``hours_specialist``, ``hours_generalist`` and ``crossings``. v2 keeps only the share (placement is
    derived) and names fields after what they measure.
    """
    out = {k: v for k, v in data.items() if k not in ("version", "global", "spokes", "functions")}
    out["inputs_version"] = 2
    if "global" in data:
        out["globals"] = dict(data["global"])
    out["spokes"] = [s if isinstance(s, Mapping) else {"id": s, "name": ""} for s in data.get("spokes", [])]
    functions = {}
    for name, fn in (data.get("functions") or {}).items():
        fn = dict(fn)
        placement = fn.pop("placement", None)
        share = fn.pop("central_share", None)
        if placement == "hub":
            share = 1.0
        elif placement == "spokes":
            share = 0.0
        elif share is None:
            share = 0.5
        fn["central_share"] = share
        for old, new in (("hours_specialist", "hours_per_item_specialist"),
                         ("hours_generalist", "hours_per_item_generalist"),
                         ("crossings", "boundary_crossings")):
            if old in fn:
                fn[new] = fn.pop(old)
        functions[name] = fn
    out["functions"] = functions
    return out


_UPGRADES = {1: _v1_to_v2}


def load_inputs(data: Mapping[str, Any]) -> ScenarioInputs:
    """Inputs from a saved dict of any version up to the current one (upgraded step by step).

    A dict without a version field is read as version 1. Raises :class:`InputError` for unreadable data,
    a version newer than this code, or values the current model refuses.
    """
    if not isinstance(data, Mapping):
        raise InputError([f"saved inputs must be a mapping, got {type(data).__name__}"])
    version = data.get("inputs_version", data.get("version", 1))
    if isinstance(version, bool) or not isinstance(version, int):
        raise InputError([f"inputs_version must be a whole number, got {version!r}"])
    if version > CURRENT_INPUTS_VERSION:
        raise InputError([f"these inputs were saved by a newer version (inputs_version {version}); "
                          f"this app reads up to {CURRENT_INPUTS_VERSION}"])
    if version < 1:
        raise InputError([f"unknown inputs_version {version}"])
    upgraded = dict(data)
    while version < CURRENT_INPUTS_VERSION:
        upgraded = _UPGRADES[version](upgraded)
        version += 1
    return validate_inputs(upgraded)


def dump_inputs(inputs: ScenarioInputs) -> dict[str, Any]:
    """JSON-ready dict of the inputs (what a saved scenario stores); :func:`load_inputs` reads it back."""
    return inputs.model_dump(mode="json")


# --- defaults ----------------------------------------------------------------------------------------------------

# Typical work profiles per function, for typed scenarios and as calibration fallbacks. Demand is per spoke per
# calendar day; hours are work content; SLA in calendar hours; platform cost per instance per year.
FUNCTION_DEFAULTS: dict[str, dict[str, float | int]] = {
    "campaign_planning": dict(demand=0.8, hours_per_item_specialist=6.0, hours_per_item_generalist=9.0, stages=4,
                              boundary_crossings=2, sla_hours=120, error_rate_specialist=0.02,
                              error_rate_generalist=0.06, platform_cost=15_000),
    "content_production": dict(demand=3.0, hours_per_item_specialist=2.0, hours_per_item_generalist=3.5, stages=4,
                               boundary_crossings=3, sla_hours=72, error_rate_specialist=0.02,
                               error_rate_generalist=0.07, platform_cost=9_000),
    "analytics_reporting": dict(demand=1.5, hours_per_item_specialist=3.0, hours_per_item_generalist=6.0, stages=3,
                                boundary_crossings=2, sla_hours=48, error_rate_specialist=0.01,
                                error_rate_generalist=0.05, platform_cost=20_000),
    "social_listening": dict(demand=12.0, hours_per_item_specialist=0.2, hours_per_item_generalist=0.35, stages=2,
                             boundary_crossings=2, sla_hours=12, error_rate_specialist=0.01,
                             error_rate_generalist=0.04, platform_cost=24_000),
    "crm_lead_management": dict(demand=8.0, hours_per_item_specialist=0.4, hours_per_item_generalist=0.6, stages=3,
                                boundary_crossings=2, sla_hours=24, error_rate_specialist=0.01,
                                error_rate_generalist=0.03, platform_cost=30_000),
    "martech_platforms": dict(demand=0.6, hours_per_item_specialist=4.0, hours_per_item_generalist=8.0, stages=3,
                              boundary_crossings=2, sla_hours=72, error_rate_specialist=0.02,
                              error_rate_generalist=0.08, platform_cost=18_000),
}


def default_function(name: str, spokes: Sequence[str], *, central_share: float = 1.0,
                     demand_scale: float | Mapping[str, float] = 1.0) -> FunctionInputs:
    """A function with the typical profile of ``FUNCTION_DEFAULTS`` (scaled demand per spoke)."""
    if name not in FUNCTION_DEFAULTS:
        raise InputError([f"no default profile for function {name!r}; known: {', '.join(FUNCTION_DEFAULTS)}"])
    profile = dict(FUNCTION_DEFAULTS[name])
    demand = float(profile.pop("demand"))
    scale = demand_scale if isinstance(demand_scale, Mapping) else {s: demand_scale for s in spokes}
    return FunctionInputs(central_share=central_share,
                          demand_per_day={s: demand * float(scale.get(s, 1.0)) for s in spokes}, **profile)


def default_inputs(spokes: Sequence[str | tuple[str, str]], *, central_share: float = 1.0,
                   demand_scale: float | Mapping[str, float] = 1.0, **global_changes: Any) -> ScenarioInputs:
    """Typed inputs for an organisation with these spokes (ids or (id, name) pairs) and the six functions."""
    units = [UnitInputs(id=s, name="") if isinstance(s, str) else UnitInputs(id=s[0], name=s[1]) for s in spokes]
    ids = [u.id for u in units]
    return ScenarioInputs(
        spokes=tuple(units),
        globals=GlobalInputs(**global_changes),
        functions={f: default_function(f, ids, central_share=central_share, demand_scale=demand_scale)
                   for f in FUNCTIONS},
    )


def function_label(name: str) -> str:
    return FUNCTION_LABELS.get(name, name.replace("_", " ").capitalize())
