"""The rule set as data: :class:`Rule`, :class:`DefaultRule` and :class:`RuleSet` with their validation, and
:func:`parse_rule_set`, which lists every problem of stored or edited data at once (the package docstring has
the semantics).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dashboard.domain.refusals import Refused
from dashboard.domain.routing.folding import fold
from dashboard.domain.routing.patterns import compile_pattern, folded_set, keywords_regex, pattern_problem

PRIORITIES = ("high", "normal", "low")
DEFAULT_RULE_ID = "default"
MAX_RULES = 500
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CATEGORY_FIELDS = ("kinds", "channels", "topics", "segments")
# rule field -> item column it tests
ITEM_FIELD = {"kinds": "kind", "channels": "channel", "topics": "topic", "segments": "segment"}
FIELD_LABEL = {"kinds": "kind", "channels": "channel", "topics": "topic", "segments": "segment"}

Priority = Literal["high", "normal", "low"]


class RuleError(Refused):
    """A rule set that cannot be used; ``problems`` holds one readable line per problem (all of them)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) if self.problems else "invalid rule set")


def _clean_values(values: list[str]) -> list[str]:
    """Strip each value and drop blanks and repeats (as typed in a comma-separated box); a value that folds to
    nothing (only white space or accents) is a blank too, or it would silently turn the condition off."""
    out: list[str] = []
    seen: set[str] = set()
    for v in values:
        v = str(v).strip()
        key = fold(v)
        if key and key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _check_sla(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"SLA must be a number of hours greater than 0, got {value:g}")
    return value


class Rule(BaseModel):
    """One routing rule: conditions on an item's attributes and text, and where it goes."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=RULE_ID_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    enabled: bool = True
    kinds: list[str] = []
    channels: list[str] = []
    topics: list[str] = []
    segments: list[str] = []
    keywords: list[str] = []
    pattern: str | None = None
    target_unit: str = Field(min_length=1, max_length=64)
    priority: Priority = "normal"
    sla_hours: float | None = None

    @field_validator("kinds", "channels", "topics", "segments", "keywords")
    @classmethod
    def _values(cls, values: list[str]) -> list[str]:
        return _clean_values(values)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern is None or not pattern.strip():
            return None
        problem = pattern_problem(pattern)
        if problem:
            raise ValueError(problem)
        return pattern

    @field_validator("sla_hours")
    @classmethod
    def _sla(cls, value: float | None) -> float | None:
        return _check_sla(value)

    @model_validator(mode="after")
    def _has_condition(self) -> Rule:
        if not any((self.kinds, self.channels, self.topics, self.segments, self.keywords, self.pattern)):
            raise ValueError("the rule has no condition, so it would match every item: "
                             "use the default rule instead")
        return self

    # Compiled forms, cached on the values (not stored on the model: model_copy(update=...) would keep stale ones)
    @property
    def keyword_regex(self) -> re.Pattern[str] | None:
        """The keywords as one alternation of whole words/phrases over folded text (None: no keywords)."""
        return keywords_regex(tuple(self.keywords))

    @property
    def pattern_regex(self) -> re.Pattern[str] | None:
        return compile_pattern(self.pattern) if self.pattern else None

    def folded_values(self, field: str) -> frozenset[str]:
        """The folded values of one of kinds/channels/topics/segments (empty: any value)."""
        return folded_set(tuple(getattr(self, field)))


class DefaultRule(BaseModel):
    """What happens to items no rule matches: routed to ``target_unit``, or left unrouted when it is None."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    target_unit: str | None = Field(default=None, max_length=64)
    priority: Priority = "normal"
    sla_hours: float | None = None

    @field_validator("target_unit")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("sla_hours")
    @classmethod
    def _sla(cls, value: float | None) -> float | None:
        return _check_sla(value)


class RuleSet(BaseModel):
    """Rules in precedence order (the first enabled rule that matches wins) and the default rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[Rule] = Field(default_factory=list, max_length=MAX_RULES)
    default: DefaultRule = Field(default_factory=DefaultRule)

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleSet:
        problems = _duplicate_problems([r.id for r in self.rules])
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _duplicate_problems(ids: list[object]) -> list[str]:
    counts: dict[object, int] = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    return [f"rule id {i!r} is used by {n} rules; ids must be unique" for i, n in counts.items() if n > 1]


_ERROR_TEXT = {
    "missing": "is required",
    "string_too_short": "must not be empty",
    "string_too_long": "is too long ({max_length} characters at most)",
    "literal_error": "must be {expected}",
    "extra_forbidden": "is not a field of a rule",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "list_type": "must be a list",
    "string_type": "must be text",
    "too_long": "has too many entries ({max_length} at most)",
}


def _error_lines(exc: ValidationError, label: str) -> list[str]:
    """Pydantic's errors as "rule 'jobs': <field> <what is wrong>" lines (our own validators' text as is)."""
    lines = []
    for err in exc.errors():
        kind = str(err.get("type", ""))
        field = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int)).replace("_", " ")
        ctx = err.get("ctx") or {}
        if kind == "value_error":
            text = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        elif kind == "string_pattern_mismatch" and field == "id":
            text = (f"id {err.get('input')!r} must be a short slug: lowercase letters, digits, '-' and '_', "
                    "starting with a letter or digit, at most 64 characters")
        elif kind in _ERROR_TEXT:
            try:
                text = f"{field} {_ERROR_TEXT[kind].format(**ctx)}".strip()
            except (KeyError, IndexError):
                text = f"{field} {_ERROR_TEXT[kind]}".strip()
        else:
            text = f"{field}: {err.get('msg', 'invalid')}" if field else str(err.get("msg", "invalid"))
        lines.append(f"{label}: {text}")
    return lines


def parse_rule_set(data: Mapping[str, Any] | RuleSet) -> RuleSet:
    """A validated :class:`RuleSet` from stored/edited data; raises :class:`RuleError` listing every problem.

    Each rule is checked on its own so one bad pattern does not hide the next rule's problem; problems name
    the rule by id ("rule 'jobs': pattern '(hiring' is not a valid regular expression: missing ), ...").
    """
    if isinstance(data, RuleSet):
        return data
    if not isinstance(data, Mapping):
        raise RuleError([f"a rule set must be a mapping with 'rules' and 'default', got {type(data).__name__}"])
    problems: list[str] = []
    unknown = sorted(set(data) - {"rules", "default"})
    if unknown:
        problems.append(f"unknown field(s) {', '.join(map(str, unknown))}: a rule set has only 'rules' and 'default'")
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, (list, tuple)):
        raise RuleError(problems + ["'rules' must be a list of rules"])
    if len(raw_rules) > MAX_RULES:
        problems.append(f"{len(raw_rules)} rules; at most {MAX_RULES} are allowed")
    rules: list[Rule] = []
    for pos, raw in enumerate(raw_rules, start=1):
        rid = raw.get("id") if isinstance(raw, Mapping) else getattr(raw, "id", None)
        label = f"rule {rid!r}" if isinstance(rid, str) and rid.strip() else f"rule {pos}"
        try:
            rules.append(raw if isinstance(raw, Rule) else Rule.model_validate(raw))
        except ValidationError as exc:
            problems += _error_lines(exc, label)
    problems += _duplicate_problems([r.get("id") if isinstance(r, Mapping) else getattr(r, "id", None)
                                     for r in raw_rules if r is not None])
    default: DefaultRule | None = None
    raw_default = data.get("default")
    try:
        default = (raw_default if isinstance(raw_default, DefaultRule)
                   else DefaultRule.model_validate(raw_default or {}))
    except ValidationError as exc:
        problems += _error_lines(exc, "the default rule")
    if problems:
        raise RuleError(problems)
    assert default is not None
    return RuleSet(rules=rules, default=default)


def check_targets(rule_set: RuleSet, spokes: Collection[str]) -> list[str]:
    """Problems with targets: every rule's (and the default's) target must be one of ``spokes``."""
    known = set(spokes)
    listed = ", ".join(sorted(known)) or "none"
    problems = [f"rule {r.id!r} sends items to {r.target_unit!r}, which is not a spoke (spokes: {listed})"
                for r in rule_set.rules if r.target_unit not in known]
    target = rule_set.default.target_unit
    if target is not None and target not in known:
        problems.append(f"the default rule sends items to {target!r}, which is not a spoke (spokes: {listed})")
    return problems
