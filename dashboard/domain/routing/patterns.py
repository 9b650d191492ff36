"""Checks on a rule's regular expression (too long, empty match, nested unbounded repeats) and the compiled,
cached forms of patterns, keywords and value lists.
"""

from __future__ import annotations

import functools
import re
import re._parser as sre_parse  # the parser behind re.compile (sre_parse before 3.11)
from typing import Any

from dashboard.domain.routing.folding import fold, strip_accents

MAX_PATTERN_LENGTH = 300

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
    prepared = strip_accents(pattern)
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
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(strip_accents(pattern), re.IGNORECASE)


@functools.lru_cache(maxsize=4096)
def folded_set(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(fold(v) for v in values)


@functools.lru_cache(maxsize=4096)
def keywords_regex(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation for all keywords of a rule, anchored on non-word characters (whole words/phrases)."""
    folded = sorted({fold(k) for k in keywords} - {""}, key=len, reverse=True)
    if not folded:
        return None
    body = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in folded)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")
