"""A frame of items through a rule set at once (:func:`route_frame`, :func:`match_positions`): the vectorised
evaluator the package docstring describes, with the same answers as :func:`route_one`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard.domain.routing.folding import fold
from dashboard.domain.routing.rules import CATEGORY_FIELDS, DEFAULT_RULE_ID, ITEM_FIELD, Rule, RuleSet


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
