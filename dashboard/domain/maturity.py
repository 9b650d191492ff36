"""The maturity self-assessment of the operating-model cycle (Assess): per function of the operating model, four
components — structure, processes, data management, technology — each scored 1 to 5 against guidance text.

Pure: validation (:class:`Scores`), the overall score, and helpers for the radar and the trend; they are read by
``dashboard.queries.cycle`` and saved by ``dashboard.services.cycle``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dashboard.domain.refusals import Refused
from dashboard.domain.vocabulary import FUNCTIONS, function_label

COMPONENTS: tuple[str, ...] = ("structure", "processes", "data_management", "technology")
COMPONENT_LABELS: dict[str, str] = {
    "structure": "Structure",
    "processes": "Processes",
    "data_management": "Data management",
    "technology": "Technology",
}
LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
LEVEL_NAMES: dict[int, str] = {1: "Ad hoc", 2: "Emerging", 3: "Defined", 4: "Managed", 5: "Optimised"}

# What each level looks like in a marketing / analytics hub-and-spoke organisation.
GUIDANCE: dict[str, dict[int, str]] = {
    "structure": {
        1: "No one owns the function; work happens ad hoc in each team.",
        2: "A named owner exists, but roles between hub and spokes are unclear and overlap.",
        3: "Hub and spoke roles are written down (who decides, who delivers) and mostly followed.",
        4: "One accountable lead, clear RACI, capacity planned across hub and spokes every quarter.",
        5: "The split between hub and spokes is reviewed against results and adjusted as demand shifts.",
    },
    "processes": {
        1: "Requests arrive by e-mail and chat; no intake, priorities or SLAs.",
        2: "A shared intake exists, but steps and handoffs differ per team.",
        3: "One documented workflow with briefs, approvals and SLAs for the main request types.",
        4: "Workflows are measured (lead time, handoffs, SLA) and bottlenecks fixed regularly.",
        5: "Processes are improved continuously from the data; routine steps are automated.",
    },
    "data_management": {
        1: "Data lives in spreadsheets per team; figures disagree between reports.",
        2: "Some shared sources, but definitions (lead, conversion) differ and quality is unchecked.",
        3: "Agreed KPI definitions and one source per metric; basic quality checks.",
        4: "A governed model with owners, lineage and automated quality checks feeds every dashboard.",
        5: "Trusted, near-real-time data drives decisions and attribution across hub and spokes.",
    },
    "technology": {
        1: "Each team buys and runs its own tools; nothing is integrated.",
        2: "A few shared tools, with duplicated licences and manual exports between them.",
        3: "A standard stack for the function, integrated at the main points (CRM, analytics, content).",
        4: "A managed platform with single sign-on, APIs and usage tracked; no duplicated tools.",
        5: "The platform is extended self-service by the spokes within central guardrails.",
    },
}


class AssessmentError(Refused):
    """Scores the assessment refuses; ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class Scores(BaseModel):
    """One assessment of one function: the four components scored 1..5 and an optional note."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    function: str
    structure: int = Field(ge=1, le=5, strict=True)
    processes: int = Field(ge=1, le=5, strict=True)
    data_management: int = Field(ge=1, le=5, strict=True)
    technology: int = Field(ge=1, le=5, strict=True)
    note: str | None = Field(None, max_length=2000)

    @field_validator("function")
    @classmethod
    def _known_function(cls, value: str) -> str:
        if value not in FUNCTIONS:
            raise ValueError(f"unknown function {value!r}; choose one of {', '.join(FUNCTIONS)}")
        return value

    @field_validator("note")
    @classmethod
    def _blank_note_is_none(cls, value: str | None) -> str | None:
        return (value or "").strip() or None

    @property
    def values(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in COMPONENTS}

    @property
    def overall(self) -> float:
        return overall(self.values)


def _field_name(loc: tuple) -> str:
    name = str(loc[0]) if loc else ""
    return COMPONENT_LABELS.get(name, name.replace("_", " "))


def validate_scores(data: Mapping) -> Scores:
    """Scores from a mapping (function, the four components, note); raises :class:`AssessmentError`."""
    try:
        return Scores.model_validate(dict(data))
    except ValidationError as err:
        problems = []
        for e in err.errors(include_url=False):
            where = _field_name(e.get("loc", ()))
            if e.get("type") == "missing":
                problems.append(f"{where}: give a score from 1 to 5" if where in COMPONENT_LABELS.values()
                                else f"{where}: missing")
            elif e.get("type") in ("greater_than_equal", "less_than_equal", "int_type", "int_parsing"):
                problems.append(f"{where}: a whole number from 1 to 5 (got {e.get('input')!r})")
            else:
                problems.append(f"{where}: {str(e.get('msg', 'invalid')).removeprefix('Value error, ')}")
        raise AssessmentError(problems) from None


def overall(values: Mapping[str, float]) -> float:
    """The overall maturity: the mean of the four components (1..5)."""
    return sum(float(values[c]) for c in COMPONENTS) / len(COMPONENTS)


def level_text(component: str, level: int) -> str:
    """"3 · Defined — One documented workflow …" (for the radio options)."""
    return f"{level} · {LEVEL_NAMES[level]} — {GUIDANCE[component][level]}"


def latest_two(history: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The latest and the previous assessment of a history (columns assessed_at + the components)."""
    if history is None or history.empty:
        return None, None
    ordered = history.sort_values(["assessed_at", "id"] if "id" in history else "assessed_at")
    latest = ordered.iloc[-1]
    previous = ordered.iloc[-2] if len(ordered) > 1 else None
    return latest, previous


def trend(history: pd.DataFrame) -> pd.DataFrame:
    """Long table for the trend chart: assessed_at, component (label), score; plus the overall score."""
    columns = ["assessed_at", "component", "score"]
    if history is None or history.empty:
        return pd.DataFrame(columns=columns)
    ordered = history.sort_values("assessed_at")
    frame = ordered[["assessed_at", *COMPONENTS]].copy()
    frame["overall"] = frame[list(COMPONENTS)].mean(axis=1)
    long = frame.melt(id_vars="assessed_at", var_name="component", value_name="score")
    long["component"] = long["component"].map({**COMPONENT_LABELS, "overall": "Overall"})
    return long[columns].reset_index(drop=True)


def change_since(latest: Mapping, previous: Mapping | None) -> dict[str, int]:
    """Per component: latest minus previous score (0 everywhere without a previous assessment)."""
    if previous is None:
        return {c: 0 for c in COMPONENTS}
    return {c: int(latest[c]) - int(previous[c]) for c in COMPONENTS}


def summary(latest: Mapping, previous: Mapping | None) -> str:
    """One line: "Overall 2.8 / 5 (+0.5 since the previous assessment)"."""
    now = overall(latest)
    text = f"Overall {now:.1f} / 5"
    if previous is not None:
        text += f" ({now - overall(previous):+.1f} since the previous assessment)"
    return text


def function_options() -> dict[str, str]:
    return {f: function_label(f) for f in FUNCTIONS}
