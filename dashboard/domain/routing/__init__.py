r"""Routing rules: which spoke an item arriving at the hub goes to, with which priority and SLA (pure, no I/O).

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
  (the pattern is not case folded, so ``\S`` stays ``\S``).
- A missing text (None/NaN) matches no keyword and no pattern.

Conditions are AND-ed across fields and OR-ed within a list. A rule must have at least one condition (a rule
that matches everything is the default rule's job).

Patterns are refused when they do not compile (with the ``re`` error and its position), are longer than
:data:`MAX_PATTERN_LENGTH`, can match the empty string (such a pattern matches every text), or nest an
unbounded quantifier inside another (``(a+)+``, ``(a*)*``, ``(\w+\s?)*``): Python's backtracking engine
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

from dashboard.domain.routing.describe import diff, rules_pointing_to
from dashboard.domain.routing.folding import fold
from dashboard.domain.routing.frame import decisions_frame, match_positions, route_frame
from dashboard.domain.routing.one_item import Decision, RuleTrace, explain, route_one
from dashboard.domain.routing.patterns import MAX_PATTERN_LENGTH, pattern_problem
from dashboard.domain.routing.rules import (
    CATEGORY_FIELDS,
    DEFAULT_RULE_ID,
    FIELD_LABEL,
    ITEM_FIELD,
    MAX_RULES,
    PRIORITIES,
    RULE_ID_PATTERN,
    DefaultRule,
    Priority,
    Rule,
    RuleError,
    RuleSet,
    check_targets,
    parse_rule_set,
)

__all__ = [
    "CATEGORY_FIELDS", "DEFAULT_RULE_ID", "FIELD_LABEL", "ITEM_FIELD", "MAX_PATTERN_LENGTH", "MAX_RULES", "PRIORITIES",
    "RULE_ID_PATTERN", "Decision", "DefaultRule", "Priority", "Rule", "RuleError", "RuleSet", "RuleTrace",
    "check_targets", "decisions_frame", "diff", "explain", "fold", "match_positions", "parse_rule_set",
    "pattern_problem", "route_frame", "route_one", "rules_pointing_to",
]
