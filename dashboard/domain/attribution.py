"""Attribution of the shared goal: how much of the conversions and revenue each team's touchpoints contributed.

Pure numpy/pandas, no I/O. The input is one row per customer journey (see :func:`journeys_frame`):

- ``path``: the touchpoints in order, each a team (unit id) that handled one of the journey's work items;
- ``converted``: whether the journey ended in a conversion;
- ``revenue``: the conversion's revenue (ignored when not converted);
- optionally ``journeys``: how many journeys the row stands for (default 1; ``revenue`` is then their total).

Journeys without any touchpoint cannot be credited to a team: they are left out of every method (and counted
by :func:`summary`), so each method's credit sums to the conversions and revenue of the journeys *with* a path.

Methods (each returns one row per team: ``conversions`` and ``revenue`` credited to it):

- **first touch**: the whole conversion (and its revenue) goes to the first team on the path;
- **last touch**: to the last team on the path (the one that touched the customer just before they converted);
- **linear**: split equally over the path's *touches*: a team that handled two of the three items of a journey
  gets 2/3 of it. Touches, not distinct teams, because the credit follows the work done; a team seen once and
  a team seen five times did not contribute the same (``distinct=True`` splits over distinct teams instead);
- **Markov chain** (data-driven): a first-order absorbing chain over the states ``start``, the teams,
  ``conversion`` and ``null`` (no conversion). Each journey contributes its consecutive transitions
  start → t1 → t2 → … → conversion | null; transition probabilities are the observed counts normalised per
  state. The probability of converting from ``start`` solves ``(I − Q) x = r`` (``Q`` transient → transient,
  ``r`` transient → conversion) with ``numpy.linalg.solve``. The *removal effect* of a team ``s`` is
  ``RE_s = 1 − P(conversion without s) / P(conversion)``, where removing ``s`` sends every transition into ``s``
  to ``null``. Each team gets ``total conversions × RE_s / Σ RE`` (and the same share of the revenue), so the
  credit sums to the total by construction.

  Repeated touches (sales → sales) are collapsed into one state visit before counting transitions. This does
  not change any result: a self-loop only delays absorption, it changes neither P(conversion) nor any removal
  effect (the remaining transitions out of the state keep their relative weights); collapsing keeps the
  matrix small and well conditioned. ``collapse_repeats=False`` keeps the self-loops (the tests check the two
  agree).

Edge cases: no conversion at all → every method credits 0; one team only → it gets everything; a path of length
one is a plain start → team → end chain; when every removal effect is 0 (cannot happen with a conversion, as a
converting path always runs through some team, but guarded against rounding) the Markov method falls back to
linear and says so in :class:`MarkovResult`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METHODS: dict[str, str] = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "markov": "Markov chain (removal effect)",
}
METHOD_HELP: dict[str, str] = {
    "first_touch": "The whole conversion goes to the team that touched the customer first: who opens journeys.",
    "last_touch": "The whole conversion goes to the team that touched the customer last before they converted: "
                  "who closes journeys.",
    "linear": "Each conversion is split equally over every touch of the journey: a team that handled two of its "
              "three work items gets two thirds.",
    "markov": "Data-driven: the observed journeys form a chain of transitions between teams ending in a conversion "
              "or not. A team's removal effect is how much the chance of converting drops when journeys that reach "
              "the team are lost there; conversions are shared in proportion to the removal effects.",
}
START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"
COLUMNS = ["team", "conversions", "revenue"]


def journeys_frame(paths: Iterable[Sequence[str]], converted: Iterable[bool],
                   revenue: Iterable[float] | None = None) -> pd.DataFrame:
    """The input frame from parallel sequences: path (tuple of str), converted (bool), revenue (float, 0 when
    not converted or missing)."""
    paths = [tuple(str(t) for t in p) for p in paths]
    conv = [bool(c) for c in converted]
    if len(conv) != len(paths):
        raise ValueError(f"{len(paths)} paths but {len(conv)} converted flags")
    rev = [0.0] * len(paths) if revenue is None else [float(r) if r is not None and r == r else 0.0 for r in revenue]
    if len(rev) != len(paths):
        raise ValueError(f"{len(paths)} paths but {len(rev)} revenue values")
    rev = [r if c else 0.0 for r, c in zip(rev, conv)]
    return pd.DataFrame({"path": pd.Series(paths, dtype=object), "converted": conv, "revenue": rev})


def fold(journeys: pd.DataFrame) -> pd.DataFrame:
    """The input folded once into distinct paths (see :func:`_clean`), for calling several methods on the same
    journeys: a folded frame is used as it is."""
    return _clean(journeys)


def _clean(journeys: pd.DataFrame) -> pd.DataFrame:
    """Journeys with at least one touchpoint, folded into distinct (path, converted) rows: path, converted,
    revenue (their total) and n (how many journeys). Every method works on these, so its cost grows with the
    number of distinct paths (a few thousand), not of journeys. A ``journeys`` column in the input says how many
    journeys a row stands for already (default 1)."""
    if journeys is not None and journeys.attrs.get("folded"):
        return journeys
    if journeys is None or len(journeys) == 0:
        empty = pd.DataFrame({"path": pd.Series([], dtype=object), "converted": pd.Series([], dtype=bool),
                              "revenue": pd.Series([], dtype=float), "n": pd.Series([], dtype=float)})
        empty.attrs["folded"] = True
        return empty
    out = pd.DataFrame({
        "path": [tuple(p) if p is not None and not isinstance(p, float) else () for p in journeys.path],
        "converted": journeys.converted.fillna(False).astype(bool).to_numpy(),
        "revenue": pd.to_numeric(journeys.revenue, errors="coerce").fillna(0.0).to_numpy(dtype=float),
        "n": (pd.to_numeric(journeys["journeys"], errors="coerce").fillna(0.0).to_numpy(dtype=float)
              if "journeys" in journeys else 1.0),
    })
    out.loc[~out.converted, "revenue"] = 0.0
    out = out[out.path.map(len) > 0]
    first_seen = {p: i for i, p in reversed(list(enumerate(out.path)))}  # keep the order paths first appear in
    folded = out.groupby(["path", "converted"], sort=False, as_index=False)[["revenue", "n"]].sum()
    folded["order"] = folded.path.map(first_seen)
    folded = folded.sort_values(["order", "converted"], kind="stable").drop(columns="order").reset_index(drop=True)
    folded["journeys"] = folded.n  # a folded frame is valid input too
    folded.attrs["folded"] = True
    return folded


def teams(journeys: pd.DataFrame) -> list[str]:
    """Every team on some path, in order of first appearance."""
    seen: dict[str, None] = {}
    for p in _clean(journeys).path:
        for t in p:
            seen.setdefault(t, None)
    return list(seen)


def _result(credit: dict[str, list[float]], order: list[str]) -> pd.DataFrame:
    rows = [(t, *credit.get(t, (0.0, 0.0))) for t in order]
    return pd.DataFrame(rows, columns=COLUMNS).astype({"conversions": float, "revenue": float})


def _touch_rule(journeys: pd.DataFrame, pick) -> pd.DataFrame:
    j = _clean(journeys)
    order = teams(j)
    credit: dict[str, list[float]] = {}
    for p, c, r, n in zip(j.path, j.converted, j.revenue, j.n):
        if c:
            cell = credit.setdefault(pick(p), [0.0, 0.0])
            cell[0] += n
            cell[1] += r
    return _result(credit, order)


def first_touch(journeys: pd.DataFrame) -> pd.DataFrame:
    """Each conversion to the first team on its path. Columns team, conversions, revenue."""
    return _touch_rule(journeys, lambda p: p[0])


def last_touch(journeys: pd.DataFrame) -> pd.DataFrame:
    """Each conversion to the last team on its path."""
    return _touch_rule(journeys, lambda p: p[-1])


def linear(journeys: pd.DataFrame, *, distinct: bool = False) -> pd.DataFrame:
    """Each conversion split equally over its path's touches (or over its distinct teams with ``distinct``)."""
    j = _clean(journeys)
    order = teams(j)
    credit: dict[str, list[float]] = {}
    for p, c, r, n in zip(j.path, j.converted, j.revenue, j.n):
        if not c:
            continue
        touches = list(dict.fromkeys(p)) if distinct else list(p)
        share = 1.0 / len(touches)
        for t in touches:
            cell = credit.setdefault(t, [0.0, 0.0])
            cell[0] += n * share
            cell[1] += r * share
    return _result(credit, order)


def _collapse(path: Sequence[str]) -> list[str]:
    out: list[str] = []
    for t in path:
        if not out or out[-1] != t:
            out.append(t)
    return out


@dataclass(frozen=True)
class MarkovResult:
    """The chain behind the Markov method, for explanation and tests."""

    teams: list[str]
    transitions: pd.DataFrame  # from_state x to_state probabilities (rows: start + teams; columns: teams + ends)
    p_conversion: float  # P(conversion) from start
    p_without: dict[str, float]  # P(conversion) with the team removed
    removal_effect: dict[str, float]
    credit: pd.DataFrame  # team, conversions, revenue
    fell_back_to_linear: bool = False
    notes: list[str] = field(default_factory=list)


def _absorption(q: np.ndarray, r: np.ndarray, keep: np.ndarray) -> float:
    """P(conversion) from state 0 (start) using only the transient states in ``keep`` (start always kept):
    transitions into removed states are lost (they go to null)."""
    idx = np.flatnonzero(keep)
    qk = q[np.ix_(idx, idx)]
    rk = r[idx]
    x = np.linalg.solve(np.eye(len(idx)) - qk, rk)
    return float(x[0])


def markov_chain(journeys: pd.DataFrame, *, collapse_repeats: bool = True) -> MarkovResult:
    """The Markov removal-effect attribution with its chain (see the module's docstring)."""
    j = _clean(journeys)
    order = teams(j)
    states = [START, *order]
    pos = {s: i for i, s in enumerate(states)}
    n = len(states)
    counts = np.zeros((n, n))  # transient -> transient
    to_conv, to_null = np.zeros(n), np.zeros(n)
    for p, c, w in zip(j.path, j.converted, j.n):
        seq = _collapse(p) if collapse_repeats else list(p)
        prev = 0
        for t in seq:
            counts[prev, pos[t]] += w
            prev = pos[t]
        (to_conv if c else to_null)[prev] += w
    out_total = counts.sum(1) + to_conv + to_null
    safe = np.where(out_total > 0, out_total, 1.0)
    q, r = counts / safe[:, None], to_conv / safe
    transitions = pd.DataFrame(np.column_stack([q[:, 1:], r, to_null / safe]), index=states,
                               columns=[*order, CONVERSION, NULL])
    total_conv, total_rev = float(j.n[j.converted].sum()), float(j.revenue.sum())
    empty = _result({}, order)
    if not order or total_conv == 0:
        note = "no journey converted: nothing to attribute" if order else "no journey with a touchpoint"
        return MarkovResult(order, transitions, 0.0, {t: 0.0 for t in order}, {t: 0.0 for t in order}, empty,
                            notes=[note])
    p = _absorption(q, r, np.ones(n, dtype=bool))
    p_without, effects = {}, {}
    for t in order:
        keep = np.ones(n, dtype=bool)
        keep[pos[t]] = False
        p_without[t] = _absorption(q, r, keep)
        effects[t] = max(0.0, 1.0 - p_without[t] / p) if p > 0 else 0.0
    total_effect = sum(effects.values())
    if total_effect <= 1e-12:
        lin = linear(j)
        return MarkovResult(order, transitions, p, p_without, effects, lin, fell_back_to_linear=True,
                            notes=["every removal effect is 0: credited linearly instead"])
    credit = {t: [total_conv * e / total_effect, total_rev * e / total_effect] for t, e in effects.items()}
    return MarkovResult(order, transitions, p, p_without, effects, _result(credit, order))


def markov(journeys: pd.DataFrame, *, collapse_repeats: bool = True) -> pd.DataFrame:
    """Conversions and revenue per team shared in proportion to the Markov removal effects."""
    return markov_chain(journeys, collapse_repeats=collapse_repeats).credit


_FUNCTIONS = {"first_touch": first_touch, "last_touch": last_touch, "linear": linear, "markov": markov}


def attribute(journeys: pd.DataFrame, method: str) -> pd.DataFrame:
    """One method by name (see :data:`METHODS`)."""
    if method not in _FUNCTIONS:
        raise ValueError(f"unknown attribution method {method!r}; choose one of {', '.join(METHODS)}")
    return _FUNCTIONS[method](journeys)


def compare(journeys: pd.DataFrame) -> pd.DataFrame:
    """Every method side by side, long format: team, method, conversions, revenue, conversion_share and
    revenue_share (of that method's total; NaN when there is nothing to share)."""
    frames = []
    journeys = fold(journeys)
    for method in METHODS:
        f = attribute(journeys, method)
        f.insert(1, "method", method)
        tc, tr = f.conversions.sum(), f.revenue.sum()
        f["conversion_share"] = f.conversions / tc if tc > 0 else np.nan
        f["revenue_share"] = f.revenue / tr if tr > 0 else np.nan
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Summary:
    journeys: int
    with_path: int  # journeys with at least one touchpoint (the ones attributed)
    converted: int  # converted journeys with a path
    revenue: float  # their revenue
    unattributed_conversions: int  # converted journeys without any touchpoint (no team to credit)
    unattributed_revenue: float
    mean_touches: float  # touches per journey with a path

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.with_path if self.with_path else None


def summary(journeys: pd.DataFrame) -> Summary:
    if journeys is None or len(journeys) == 0:
        return Summary(0, 0, 0, 0.0, 0, 0.0, 0.0)
    n = (pd.to_numeric(journeys["journeys"], errors="coerce").fillna(0.0) if "journeys" in journeys
         else pd.Series(1.0, index=journeys.index))
    conv = journeys.converted.fillna(False).astype(bool)
    rev = pd.to_numeric(journeys.revenue, errors="coerce").fillna(0.0).where(conv, 0.0)
    length = journeys.path.map(lambda p: len(p) if p is not None and not isinstance(p, float) else 0)
    has = length > 0
    with_path = float(n[has].sum())
    return Summary(journeys=int(n.sum()), with_path=int(with_path), converted=int(n[has & conv].sum()),
                   revenue=float(rev[has].sum()), unattributed_conversions=int(n[~has & conv].sum()),
                   unattributed_revenue=float(rev[~has].sum()),
                   mean_touches=float((length[has] * n[has]).sum() / with_path) if with_path else 0.0)


# --- what one viewer may see --------------------------------------------------------------------------------------

OTHERS = "(other teams)"  # the teams a viewer may not see, together


def scope_credit(table: pd.DataFrame, visible: Collection[str] | None) -> pd.DataFrame:
    """:func:`compare`'s output for a viewer who may see only the teams in ``visible`` (None: every team): their
    rows as they are, and per method one row :data:`OTHERS` with the rest summed (so the totals and every share
    stay those of the whole organisation, while no other team's figure is left in the frame)."""
    if visible is None or table.empty:
        return table
    mine = table.team.isin(list(visible))
    rest = table[~mine]
    if rest.empty:
        return table[mine].reset_index(drop=True)
    others = (rest.groupby("method", sort=False)[["conversions", "revenue", "conversion_share", "revenue_share"]]
              .sum(min_count=1).reset_index())
    others.insert(0, "team", OTHERS)
    return pd.concat([table[mine], others[table.columns]], ignore_index=True)


def scope_chain(chain: MarkovResult, visible: Collection[str] | None) -> MarkovResult:
    """The Markov chain for a viewer who may see only ``visible`` teams (None: every team): P(conversion) of the
    whole, the removal effects and credit of their teams only, and no transition matrix (its rows are other
    teams' journeys)."""
    if visible is None:
        return chain
    keep = [t for t in chain.teams if t in set(visible)]
    return MarkovResult(
        teams=keep, transitions=pd.DataFrame(), p_conversion=chain.p_conversion,
        p_without={t: chain.p_without[t] for t in keep if t in chain.p_without},
        removal_effect={t: chain.removal_effect[t] for t in keep if t in chain.removal_effect},
        credit=chain.credit[chain.credit.team.isin(keep)].reset_index(drop=True),
        fell_back_to_linear=chain.fell_back_to_linear, notes=list(chain.notes))
