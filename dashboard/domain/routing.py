"""Routing rules: which spoke an item arriving at the hub goes to, with which priority and SLA (pure, no I/O).

A :class:`RuleSet` is an ordered list of :class:`Rule` objects and a :class:`DefaultRule`. For each item the
**first enabled rule whose every given condition matches** wins; when none matches, the default rule routes
the item (``rule_id`` ``"default"``) or, when the default has no target, leaves it **unrouted** (it waits in
the hub's triage queue: ``target_unit`` None, ``rule_id`` None). Items are never dropped.

Conditions of one rule:

- ``kinds``, ``channels``, ``topics``, ``segments``: the item's value is one of the listed values (an empty list
  means any value). Compared after :func:`fold` (case, accents and surrounding spaces ignored), so
  ``" Social"`` matches ``social``; a missing value matches no list.
- ``keywords``: any of them occurs in the item's text as a whole word or phrase. Both sides are folded
  (Unicode NFKD, accents dropped, case folded, runs of white space squeezed to one space), and a keyword only
  matches where it is not preceded or followed by a letter, digit or underscore: ``hire`` matches "we hire!"
  but not "hirer" or "rehire"; ``data analyst`` matches "Data   Analyst" but not "data analysts".
- ``pattern``: a regular expression searched in the folded text, case-insensitively; accents are dropped
  from the pattern too (so ``café`` finds "CAFE"). Letters, escapes and classes are otherwise kept as typed
  (the pattern is not case folded, so ``\\S`` stays ``\\S``).
- A missing text (None/NaN) matches no keyword and no pattern.

Conditions are AND-ed across fields and OR-ed within a list. A rule must have at least one condition (a rule
that matches everything is the default rule's job).

Patterns are refused when they do not compile (with the ``re`` error and its position), are longer than
:data:`MAX_PATTERN_LENGTH`, can match the empty string (such a pattern matches every text), or nest an
unbounded quantifier inside another (``(a+)+``, ``(a*)*``, ``(\\w+\\s?)*``): Python's backtracking engine
can take exponential time on those, and a rule is applied to every incoming item.

:func:`route_frame` is the vectorised evaluator used for replays and ingest; :func:`route_one` and
:func:`explain` give the same answers for one item (tests check the equivalence). route_frame evaluates rules
in precedence order on the rows still unassigned, compares categorical fields once per distinct value
(``pd.factorize``, of the whole column or only of the rows a condition still has to look at), and folds
and searches each distinct text once, only for rows that passed the rule's cheaper conditions. A rule's
keywords are one compiled alternation, run only on the texts that contain one of them as a plain substring
(pyarrow's substring kernel); plain ASCII texts are folded with pyarrow's lower-case kernel, the rest by
:func:`fold`. :func:`match_positions` gives the position of the firing rule per row for callers that want
codes rather than labels (the replay). Measured: 1M demo items in about 0.5–1 s, 1M distinct texts a few
seconds (bench/bench_routing.py).
"""

from __future__ import annotations

import functools
import math
import re
import re._parser as sre_parse  # the parser behind re.compile (sre_parse before 3.11)
import unicodedata
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PRIORITIES = ("high", "normal", "low")
DEFAULT_RULE_ID = "default"
MAX_PATTERN_LENGTH = 300
MAX_RULES = 500
RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
CATEGORY_FIELDS = ("kinds", "channels", "topics", "segments")
# rule field -> item column it tests
ITEM_FIELD = {"kinds": "kind", "channels": "channel", "topics": "topic", "segments": "segment"}
FIELD_LABEL = {"kinds": "kind", "channels": "channel", "topics": "topic", "segments": "segment"}

Priority = Literal["high", "normal", "low"]


class RuleError(ValueError):
    """A rule set that cannot be used; ``problems`` holds one readable line per problem (all of them)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems) if self.problems else "invalid rule set")


# --- folding -----------------------------------------------------------------------------------------------

def _strip_accents(text: str) -> str:
    """NFKD, then drop combining marks: "Café" -> "Cafe", "ﬁ" -> "fi"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """The form texts and values are compared in: accents dropped, case folded, white space squeezed.

    ``None`` and NaN fold to ``""``. "  CAFÉ\\tcrème " -> "cafe creme". ASCII text (most of it) skips the
    Unicode normalisation, which is the slow part.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    text = str(text)
    if not text.isascii():
        text = _strip_accents(text)
    return " ".join(text.casefold().split())


def _is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT


# --- pattern checks ----------------------------------------------------------------------------------------

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}


def _has_nested_quantifier(parsed: Any, inside_unbounded: bool = False) -> bool:
    """True when an unbounded (or large) repeat contains another repeat of more than one: (a+)+, (a*)*, (a|b+){2,}.

    A possessive repeat or an atomic group never gives back what it matched, so an outer repeat cannot split
    its match in many ways (``(?>a+)+b`` and ``(a++)+b`` are fine); what is inside it is still checked on its
    own (``(?>(a+)+b)`` backtracks inside the group).
    """
    for op, arg in parsed:
        if op in _REPEATS:
            _low, high, body = arg
            repeats = high > 1
            if repeats and inside_unbounded:
                return True
            if _has_nested_quantifier(body, inside_unbounded or (repeats and high > 10)):
                return True
        elif op is sre_parse.POSSESSIVE_REPEAT:  # an outer repeat cannot re-split it: check its body afresh
            if _has_nested_quantifier(arg[2]):
                return True
        elif op is sre_parse.ATOMIC_GROUP:
            if _has_nested_quantifier(arg):
                return True
        elif op is sre_parse.SUBPATTERN:
            if _has_nested_quantifier(arg[-1], inside_unbounded):
                return True
        elif op is sre_parse.BRANCH:
            if any(_has_nested_quantifier(branch, inside_unbounded) for branch in arg[1]):
                return True
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            if _has_nested_quantifier(arg[1], inside_unbounded):
                return True
        elif op is sre_parse.GROUPREF_EXISTS:
            if any(b is not None and _has_nested_quantifier(b, inside_unbounded) for b in arg[1:]):
                return True
    return False


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a rule's pattern, or None when it can."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed"
    prepared = _strip_accents(pattern)
    try:
        re.compile(prepared, re.IGNORECASE)
        parsed = sre_parse.parse(prepared, re.IGNORECASE)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        return f"pattern {pattern!r} is not a valid regular expression: {exc.msg}{where}"
    except (RecursionError, OverflowError) as exc:  # absurdly nested or huge repeat counts
        return f"pattern {pattern!r} is too complex: {exc}"
    if _has_nested_quantifier(parsed):
        return (f"pattern {pattern!r} repeats a group that itself repeats (like (a+)+); such patterns can take "
                "exponential time on some texts (catastrophic backtracking): rewrite it without the nested repeat")
    if parsed.getwidth()[0] == 0:
        return (f"pattern {pattern!r} can match an empty string, so it would match every text; "
                "make it require at least one character")
    return None


@functools.lru_cache(maxsize=4096)
def _compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(_strip_accents(pattern), re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def _folded_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(v) for v in values)


@functools.lru_cache(maxsize=4096)
def _keywords_regex(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for all keywords of a rule, anchored on non-word characters (whole words/phrases)."""
    folded = sorted({fold(k) for k in keywords} - {""}, key=len, reverse=True)
    if not folded:
        return None
    body = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in folded)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


# --- models ------------------------------------------------------------------------------------------------


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
        return _keywords_regex(tuple(self.keywords))

    @property
    def pattern_regex(self) -> re.Pattern[str] | None:
        return _compile_pattern(self.pattern) if self.pattern else None

    def folded_values(self, field: str) -> frozenset[str]:
        """The folded values of one of kinds/channels/topics/segments (empty: any value)."""
        return _folded_set(tuple(getattr(self, field)))


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


# --- one item ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Where one item goes. ``rule_id`` is the rule that fired, ``"default"`` for the default rule, and None
    (with ``target_unit`` None) when the item stays unrouted in the hub's triage queue."""

    target_unit: str | None
    priority: str
    sla_hours: float | None
    rule_id: str | None
    reason: str

    @property
    def routed(self) -> bool:
        return self.target_unit is not None


@dataclass(frozen=True)
class RuleTrace:
    """Why one rule did or did not match an item; ``fired`` for the rule whose decision was taken."""

    rule_id: str
    name: str
    enabled: bool
    matched: bool
    fired: bool
    reasons: list[str]


def _quote_list(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _check_rule(rule: Rule, item: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """Whether every condition of ``rule`` holds for ``item``, with one readable reason per condition."""
    ok = True
    reasons: list[str] = []
    for f in CATEGORY_FIELDS:
        wanted = getattr(rule, f)
        if not wanted:
            continue
        label = FIELD_LABEL[f]
        value = item.get(ITEM_FIELD[f])
        if _is_missing(value):
            ok = False
            reasons.append(f"the item has no {label} (wanted one of {_quote_list(wanted)})")
        elif fold(value) in rule.folded_values(f):
            reasons.append(f"{label} {str(value).strip()!r} is one of {_quote_list(wanted)}")
        else:
            ok = False
            reasons.append(f"{label} {str(value).strip()!r} is not one of {_quote_list(wanted)}")
    text = item.get("text")
    folded = None if _is_missing(text) else fold(text)
    if rule.keyword_regex is not None:
        found = rule.keyword_regex.search(folded) if folded is not None else None
        if folded is None:
            ok = False
            reasons.append(f"the item has no text (wanted a keyword: {_quote_list(rule.keywords)})")
        elif found:
            word = next((k for k in rule.keywords if fold(k) == " ".join(found.group(0).split())), found.group(0))
            reasons.append(f"keyword {word!r} found in the text")
        else:
            ok = False
            reasons.append(f"none of the keywords {_quote_list(rule.keywords)} is in the text as a whole word")
    if rule.pattern_regex is not None:
        hit = rule.pattern_regex.search(folded) if folded is not None else None
        if folded is None:
            ok = False
            reasons.append(f"the item has no text (wanted pattern {rule.pattern!r})")
        elif hit:
            reasons.append(f"pattern {rule.pattern!r} found {hit.group(0)!r}")
        else:
            ok = False
            reasons.append(f"pattern {rule.pattern!r} does not occur in the text")
    return ok, reasons


def _default_decision(rule_set: RuleSet) -> Decision:
    d = rule_set.default
    if d.target_unit is None:
        return Decision(None, d.priority, d.sla_hours, None,
                        "no rule matched and the default rule leaves it unrouted (hub triage queue)")
    return Decision(d.target_unit, d.priority, d.sla_hours, DEFAULT_RULE_ID,
                    f"no rule matched: the default rule sends it to {d.target_unit!r}")


def _rule_decision(rule: Rule, reasons: list[str]) -> Decision:
    because = "; ".join(reasons)
    return Decision(rule.target_unit, rule.priority, rule.sla_hours, rule.id,
                    f"rule {rule.name!r} ({rule.id}) sends it to {rule.target_unit!r}: {because}")


def explain(rule_set: RuleSet, item: Mapping[str, Any]) -> tuple[Decision, list[RuleTrace]]:
    """The decision for ``item`` and, for every rule in order, whether it matched and why (or why not).

    Rules after the one that fired are still evaluated so a hub lead sees which later rules would also have
    matched (shadowed by precedence); disabled rules are evaluated too and marked as skipped.
    """
    decision: Decision | None = None
    traces: list[RuleTrace] = []
    for rule in rule_set.rules:
        matched, reasons = _check_rule(rule, item)
        fired = False
        if not rule.enabled:
            reasons = ["disabled: skipped"] + reasons
        elif matched and decision is None:
            decision = _rule_decision(rule, reasons)
            fired = True
        elif matched:
            reasons = reasons + ["shadowed: an earlier rule already matched"]
        traces.append(RuleTrace(rule.id, rule.name, rule.enabled, matched, fired, reasons))
    return (decision or _default_decision(rule_set)), traces


def route_one(rule_set: RuleSet, item: Mapping[str, Any]) -> Decision:
    """The decision for one item (keys kind, channel, topic, segment, text; missing keys count as missing)."""
    for rule in rule_set.rules:
        if rule.enabled:
            matched, reasons = _check_rule(rule, item)
            if matched:
                return _rule_decision(rule, reasons)
    return _default_decision(rule_set)


# --- a frame of items --------------------------------------------------------------------------------------


class _Column:
    """One item column, tested per distinct value: a test runs once per distinct value among the rows asked
    about, never once per row, and each distinct value is folded once.

    The whole column is factorized (``pd.factorize``) the first time a test covers at least half of it; tests
    on fewer rows (a topic condition after a kind condition, the text of mentions only) factorize just those
    rows, so columns only needed for a few rows are never hashed in full. Missing values (None, NaN, NA) get
    code -1 and never match. Folded values are cached per distinct value (whole-column codes) or per row of
    the value's first occurrence in the subset (subset codes), in arrays rather than a dict: with a million
    distinct texts a dict lookup costs as much as folding.
    """

    def __init__(self, values: pd.Series | None, n: int) -> None:
        self.n = n
        if values is None:
            self.values: pd.Series | np.ndarray | None = None
        elif values.dtype == object:
            self.values = values.to_numpy()  # plain ndarray: factorizing subsets skips pandas' wrapping
        else:
            self.values = values.reset_index(drop=True)  # str / string / category: pandas' own fast paths
        self.codes: np.ndarray | None = None
        self.uniques: np.ndarray = np.empty(0, dtype=object)
        self._by_unique = _FoldCache(0)
        self._by_row = _FoldCache(n)

    def _take(self, rows: np.ndarray) -> pd.Series | np.ndarray:
        assert self.values is not None
        return self.values[rows] if isinstance(self.values, np.ndarray) else self.values.take(rows)

    def select(self, rows: np.ndarray, test: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The rows (a subset of ``rows``) whose value passes ``test``; ``test`` gets folded distinct values."""
        if self.values is None or rows.size == 0:
            return rows[:0]
        if self.codes is None and rows.size * 2 >= self.n:
            codes, uniques = pd.factorize(self.values, use_na_sentinel=True)
            self.codes, self.uniques = np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)
            self._by_unique = _FoldCache(len(self.uniques))
        if self.codes is not None:
            codes, uniques = self.codes[rows], self.uniques
            present = np.zeros(len(uniques) + 1, dtype=bool)
            present[codes] = True  # code -1 lands in the extra last slot
            wanted = np.flatnonzero(present[:-1])
            folded = self._by_unique.get(wanted, uniques[wanted])
        else:
            codes, sub_uniques = pd.factorize(self._take(rows), use_na_sentinel=True)
            codes, uniques = np.asarray(codes, dtype=np.intp), np.asarray(sub_uniques, dtype=object)
            wanted = np.arange(len(uniques))
            # factorize numbers values by first appearance: a code's first row is where it exceeds all before
            seen_max = np.maximum.accumulate(np.concatenate(([-1], codes[:-1])))
            first_rows = rows[np.flatnonzero(codes > seen_max)]
            folded = self._by_row.get(first_rows, uniques)
        passed = np.zeros(len(uniques) + 1, dtype=bool)  # last slot: missing values, never pass
        if wanted.size:
            passed[wanted] = test(folded)
        return rows[passed[codes]]


class _FoldCache:
    """Folded values by slot (a distinct value's code or a row), computed on first use."""

    def __init__(self, size: int) -> None:
        self.values = np.empty(size, dtype=object)
        self.done = np.zeros(size, dtype=bool)

    def get(self, slots: np.ndarray, raw: np.ndarray) -> list[str]:
        todo = ~self.done[slots]
        if todo.any():
            self.values[slots[todo]] = _fold_many(raw[todo])
            self.done[slots[todo]] = True
        return self.values[slots].tolist()


def _in_set(wanted: frozenset[str]) -> Callable[[list[str]], np.ndarray]:
    return lambda values: np.fromiter((v in wanted for v in values), dtype=bool, count=len(values))


_VECTOR_MIN = 2_000  # below this many values the plain Python loop is as fast


def _fold_many(values: np.ndarray) -> list[str]:
    """:func:`fold` of many values. Plain ASCII strings (printable, no double, leading or trailing space: most
    texts) fold to their lower case, done with pyarrow kernels; anything else goes through :func:`fold`."""
    if len(values) < _VECTOR_MIN:
        return [fold(v) for v in values]
    try:
        arr = pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # not all strings (numbers in a category column)
        return [fold(v) for v in values]
    plain = pc.and_(pc.string_is_ascii(arr), pc.utf8_is_printable(arr))  # no tab, newline or control
    for odd in (pc.match_substring(arr, pattern="  "), pc.starts_with(arr, pattern=" "),
                pc.ends_with(arr, pattern=" ")):
        plain = pc.and_(plain, pc.invert(odd))
    out = pc.ascii_lower(arr).to_pylist()
    for i in np.flatnonzero(~plain.fill_null(False).to_numpy(zero_copy_only=False)):
        out[i] = fold(values[i])
    return out


@functools.lru_cache(maxsize=4096)
def _folded_keywords(keywords: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({fold(k) for k in keywords} - {""}, key=len, reverse=True))


def _keyword_candidates(texts: list[str], keywords: tuple[str, ...]) -> np.ndarray:
    """Texts containing at least one keyword as a plain substring: a necessary condition for the whole-word
    regex, checked with pyarrow's substring kernel (the exact regex then runs on these candidates only)."""
    if len(texts) < _VECTOR_MIN:
        return np.fromiter((any(k in t for k in keywords) for t in texts), dtype=bool, count=len(texts))
    arr = pa.array(texts, type=pa.string())
    hit = pc.match_substring(arr, pattern=keywords[0])
    for k in keywords[1:]:
        hit = pc.or_(hit, pc.match_substring(arr, pattern=k))
    return hit.to_numpy(zero_copy_only=False)


def _text_test(rule: Rule) -> Callable[[list[str]], np.ndarray]:
    """The rule's keyword and pattern conditions on folded texts; each check only sees the texts that passed
    the previous one."""
    exact, keywords = rule.keyword_regex, _folded_keywords(tuple(rule.keywords))
    pattern = rule.pattern_regex

    def test(texts: list[str]) -> np.ndarray:
        todo = np.arange(len(texts))
        if exact is not None and keywords:
            todo = todo[_keyword_candidates(texts, keywords)]
            search = exact.search
            todo = todo[np.fromiter((search(texts[i]) is not None for i in todo), dtype=bool, count=todo.size)]
        if pattern is not None:
            find = pattern.search
            todo = todo[np.fromiter((find(texts[i]) is not None for i in todo), dtype=bool, count=todo.size)]
        ok = np.zeros(len(texts), dtype=bool)
        ok[todo] = True
        return ok
    return test


def match_positions(rule_set: RuleSet, items: pd.DataFrame) -> np.ndarray:
    """Per row, the position in ``rule_set.rules`` of the rule that fires, or -1 when none does.

    Rules run in precedence order on the rows no earlier rule took; within a rule the categorical conditions
    run first and the text only for the rows that passed them.
    """
    n = len(items)
    columns = {name: _Column(items[name] if name in items else None, n)
               for name in (*ITEM_FIELD.values(), "text")}
    fired = np.full(n, -1, dtype=np.intp)
    remaining = np.arange(n, dtype=np.intp)
    for idx, rule in enumerate(rule_set.rules):
        if not rule.enabled or remaining.size == 0:
            continue
        rows = remaining
        for f in CATEGORY_FIELDS:
            wanted = rule.folded_values(f)
            if wanted and rows.size:
                rows = columns[ITEM_FIELD[f]].select(rows, _in_set(wanted))
        if rows.size and (rule.keyword_regex is not None or rule.pattern_regex is not None):
            rows = columns["text"].select(rows, _text_test(rule))
        if rows.size:
            fired[rows] = idx
            taken = np.zeros(n, dtype=bool)
            taken[rows] = True
            remaining = remaining[~taken[remaining]]
    return fired


def route_frame(rule_set: RuleSet, items: pd.DataFrame) -> pd.DataFrame:
    """:func:`route_one` for every row of ``items`` at once (same index).

    Columns: ``target_unit`` (object, None = unrouted), ``priority`` (object), ``sla_hours`` (float, NaN =
    keep the item's own), ``rule_id`` (object: a rule id, ``"default"`` or None). Missing item columns count
    as missing values.
    """
    return decisions_frame(rule_set, match_positions(rule_set, items), items.index)


def decisions_frame(rule_set: RuleSet, positions: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """route_frame's output from :func:`match_positions` (the default rule where the position is -1)."""
    rules = rule_set.rules
    d = rule_set.default
    default_id = DEFAULT_RULE_ID if d.target_unit is not None else None
    # lookup tables indexed by rule position; the last slot (position -1) is the default rule
    targets = np.array([r.target_unit for r in rules] + [d.target_unit], dtype=object)
    priorities = np.array([r.priority for r in rules] + [d.priority], dtype=object)
    slas = np.array([np.nan if r.sla_hours is None else r.sla_hours for r in rules]
                    + [np.nan if d.sla_hours is None else d.sla_hours], dtype=np.float64)
    ids = np.array([r.id for r in rules] + [default_id], dtype=object)
    return pd.DataFrame({
        "target_unit": pd.Series(targets[positions], index=index, dtype=object),
        "priority": pd.Series(priorities[positions], index=index, dtype=object),
        "sla_hours": pd.Series(slas[positions], index=index, dtype=np.float64),
        "rule_id": pd.Series(ids[positions], index=index, dtype=object),
    }, index=index)


# --- about a rule set --------------------------------------------------------------------------------------


def rules_pointing_to(rule_set: RuleSet, unit_id: str) -> list[str]:
    """Names of the rules (enabled or not) that send items to ``unit_id``, plus "the default rule" if it does."""
    names = [r.name for r in rule_set.rules if r.target_unit == unit_id]
    if rule_set.default.target_unit == unit_id:
        names.append("the default rule")
    return names


def _describe_value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) if value else "(any)"
    if value is None:
        return "(none)"
    return repr(value) if isinstance(value, str) else str(value)


_DIFF_FIELDS = ("name", "enabled", "kinds", "channels", "topics", "segments", "keywords", "pattern",
                "target_unit", "priority", "sla_hours")


def diff(old: RuleSet | None, new: RuleSet, names: Mapping[str, str] | None = None) -> list[str]:
    """Readable changes from ``old`` to ``new``: rules added, removed, moved in precedence, fields changed.

    ``old`` None (no active set yet) lists every rule of ``new`` as added. With ``names`` (unit id -> name) the
    lines are for people: units by name, the SLA in hours, arrows (``sends to Customer service``,
    ``SLA 12.0 h → 8.0 h``); without, ids and values as stored (``sends to 'customer_service'``).
    """
    old = old or RuleSet()
    arrow = "→" if names is not None else "->"

    def unit(u: str | None) -> str:
        if u is None:
            return "leave unrouted"
        return names.get(u, u) if names is not None else repr(u)

    def value(field: str, v: object) -> str:
        if field == "target_unit":
            return unit(v)  # type: ignore[arg-type]
        if field == "sla_hours" and names is not None:
            return "none" if v is None else f"{float(v):.1f} h"  # type: ignore[arg-type]
        return _describe_value(v)

    def label(field: str) -> str:
        return "SLA" if field == "sla_hours" and names is not None else field.replace("_", " ")

    before = {r.id: (i, r) for i, r in enumerate(old.rules)}
    after = {r.id: (i, r) for i, r in enumerate(new.rules)}
    lines: list[str] = []
    for rid, (i, r) in after.items():
        if rid not in before:
            lines.append(f"added rule {r.name!r} ({rid}) at position {i + 1}: sends to {unit(r.target_unit)}"
                         + ("" if r.enabled else " (disabled)"))
    for rid, (i, r) in before.items():
        if rid not in after:
            lines.append(f"removed rule {r.name!r} ({rid}), was at position {i + 1}")
    # moves: compare relative order of the rules present in both
    common_old = [r.id for r in old.rules if r.id in after]
    common_new = [r.id for r in new.rules if r.id in before]
    for rid in common_new:
        i_old, i_new = common_old.index(rid), common_new.index(rid)
        if i_old != i_new:
            lines.append(f"moved rule {after[rid][1].name!r} ({rid}) from position {before[rid][0] + 1} "
                         f"to {after[rid][0] + 1}")
    for rid, (_, r) in after.items():
        if rid not in before:
            continue
        o = before[rid][1]
        for field in _DIFF_FIELDS:
            a, b = getattr(o, field), getattr(r, field)
            if a != b:
                if field == "enabled":
                    lines.append(f"{'enabled' if b else 'disabled'} rule {r.name!r} ({rid})")
                else:
                    lines.append(f"rule {r.name!r} ({rid}): {label(field)} {value(field, a)} {arrow} {value(field, b)}")
    for field in ("target_unit", "priority", "sla_hours"):
        a, b = getattr(old.default, field), getattr(new.default, field)
        if a != b:
            if field == "target_unit":
                lines.append(f"the default rule: {unit(a)} {arrow} {unit(b)}")
            else:
                lines.append(f"the default rule: {label(field)} {value(field, a)} {arrow} {value(field, b)}")
    return lines

