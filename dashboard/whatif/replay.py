"""Replay of a draft routing rule set over observed items: what would have gone where, and what it does to
volume, backlog, waiting and SLA at each spoke (pure numpy/pandas, no I/O).

The draft is applied to every item with :func:`dashboard.domain.routing.route_frame` and compared with where
the items actually went (``target_unit``). Per spoke, over the window of ``days`` days ending at ``now``:

- arrivals λ = items routed there in the window ÷ days (items per day), now and under the draft;
- servers c = the spoke's headcount rounded to whole people, at least 1; μ = ``service_rate_per_fte_day``
  (items one FTE completes per day, calibrated by the caller from observed flows);
- utilisation ρ = λ/(cμ); mean wait before work starts Wq from M/M/c (Erlang C,
  :func:`dashboard.whatif.queueing.mmc_array`), reported in hours; ρ ≥ 1 is flagged ``over_capacity`` with
  an infinite wait (never a crash or a negative number);
- ``sla_now``: the observed share of the window's resolved items resolved by their ``due_at`` (or
  created_at + sla_hours when due_at is missing);
- ``sla_draft`` (and ``sla_now_est`` at the current routing, to compare like with like): the M/M/c estimate
  of the share answered within the SLA, P(Wq ≤ SLA − 1/μ) = 1 − C·exp(−(cμ − λ)·(SLA − 1/μ)) per item (its
  SLA is the firing rule's sla_hours, else its own), 0 when SLA < 1/μ or the spoke is over capacity, averaged
  over the items routed there;
- backlog: open items (status not resolved, whenever created) at each spoke now, and where the same items
  would be under the draft.

Items the draft leaves unrouted are counted in an ``unrouted`` row (the hub's triage queue), never dropped:
the totals of ``items_now``/``items_draft`` and of the two backlog columns are equal. Items whose actual
target is missing or the hub itself (unrouted today) count as ``unrouted`` on the "now" side.

The formulas and sources are in docs/whatif.md ("Replay of routing rules").
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.domain.routing import RuleSet, decisions_frame, match_positions
from dashboard.whatif.queueing import mmc_array

UNROUTED = "unrouted"
UNROUTED_NAME = "Unrouted (hub triage queue)"
HOURS_PER_DAY = 24.0
RESOLVED = "resolved"

PER_SPOKE_COLUMNS = [
    "unit", "name", "headcount", "service_rate_per_fte_day", "items_now", "items_draft", "delta",
    "backlog_now", "backlog_draft", "sla_now", "sla_now_est", "sla_draft", "utilisation_now", "utilisation_draft",
    "wait_now_h", "wait_draft_h", "over_capacity_now", "over_capacity_draft",
]
MOVES_COLUMNS = ["from_unit", "to_unit", "items"]


@dataclass(frozen=True)
class ReplayResult:
    """What a draft rule set would have done to the window's items.

    ``per_spoke``: one row per spoke (staffing order, then any other target seen) and a last ``unrouted``
    row; ``moves``: from_unit → to_unit counts of the window's items whose assignment changes (largest
    first); ``changed`` of ``total`` window items move; ``unrouted`` window items stay in triage under the
    draft; ``decisions``: route_frame's output for every given item (same index as the items).
    """

    per_spoke: pd.DataFrame
    moves: pd.DataFrame
    changed: int
    total: int
    unrouted: int
    decisions: pd.DataFrame
    days: float


def _utc(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC (naive values are taken as UTC, as the database stores them)."""
    values = pd.to_datetime(values, utc=False, errors="coerce")
    if getattr(values.dt, "tz", None) is None:
        return values.dt.tz_localize("UTC")
    return values.dt.tz_convert("UTC")


def _timestamp(now: dt.datetime | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(now)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _column(items: pd.DataFrame, name: str, default: object = None) -> pd.Series:
    if name in items:
        return items[name]
    return pd.Series([default] * len(items), index=items.index, dtype=object)


def _is_target(value: object, hub_id: str) -> bool:
    return isinstance(value, str) and bool(value) and value != hub_id


def replay(rule_set: RuleSet, items: pd.DataFrame, staffing: pd.DataFrame, *, now: dt.datetime | pd.Timestamp,
           days: float, hub_id: str = "hub") -> ReplayResult:
    """Apply ``rule_set`` to ``items`` and compare with what happened (see the module docstring).

    ``items``: id, kind, channel, topic, segment, text, target_unit (actual), status, created_at,
    resolved_at, due_at, sla_hours (the hub's routable items; missing attribute columns count as missing
    values). Rates and SLA use the items created in [now − days, now]; backlogs use every open item given.
    ``staffing``: unit, name, headcount, service_rate_per_fte_day, one row per spoke.

    Units are handled as small integer codes (one row of ``per_spoke`` each): the actual targets are
    factorized once, the draft's come from the position of the firing rule, and every count is a bincount.
    """
    if isinstance(days, bool) or not (isinstance(days, (int, float)) and math.isfinite(days) and days > 0):
        raise ValueError(f"the replay window must be a positive number of days, got {days!r}")
    now_ts = _timestamp(now)
    positions = match_positions(rule_set, items)
    decisions = decisions_frame(rule_set, positions, items.index)

    actual_codes, actual_uniques = pd.factorize(_column(items, "target_unit"), use_na_sentinel=True)
    actual_units = [str(u) if _is_target(u, hub_id) else UNROUTED for u in np.asarray(actual_uniques, dtype=object)]
    rule_targets = [r.target_unit for r in rule_set.rules] + [rule_set.default.target_unit]
    draft_units = [u if u is not None and _is_target(u, hub_id) else UNROUTED for u in rule_targets]
    rows = _unit_rows(staffing, actual_units + draft_units)
    position = {u: i for i, (u, _) in enumerate(rows)}
    k = len(rows)
    unrouted_code = position[UNROUTED]
    # actual: factorize code -> row (missing target, code -1, is the extra last slot -> unrouted)
    actual = np.array([position[u] for u in actual_units] + [unrouted_code], dtype=np.intp)[actual_codes]
    draft = np.array([position[u] for u in draft_units], dtype=np.intp)[positions]  # -1 -> the default rule

    if "created_at" in items:
        created = _utc(items["created_at"])
        window = ((created >= now_ts - pd.Timedelta(days=days)) & (created <= now_ts)).to_numpy()
    else:
        window = np.ones(len(items), dtype=bool)
    # status compared once per distinct value (comparing a million Python strings one by one is slow)
    status_codes, statuses = pd.factorize(_column(items, "status"), use_na_sentinel=True)
    is_resolved = np.append(np.asarray(statuses, dtype=object) == RESOLVED, False)  # last slot: no status
    has_status = status_codes >= 0
    resolved = is_resolved[status_codes]
    is_open = has_status & ~resolved

    def count(codes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=k).astype(np.int64)

    frame = pd.DataFrame({"unit": [u for u, _ in rows], "name": [n for _, n in rows]})
    frame = frame.merge(_staffing(staffing), on="unit", how="left")
    frame["items_now"] = count(actual, window)
    frame["items_draft"] = count(draft, window)
    frame["delta"] = frame.items_draft - frame.items_now
    frame["backlog_now"] = count(actual, is_open)
    frame["backlog_draft"] = count(draft, is_open)
    frame["sla_now"] = _observed_sla(items, actual, k, window & resolved)

    servers = np.maximum(1.0, np.rint(frame.headcount.to_numpy(dtype=float)))
    mu = frame.service_rate_per_fte_day.to_numpy(dtype=float)
    spoke = (frame.unit != UNROUTED).to_numpy() & np.isfinite(mu) & (mu > 0) & np.isfinite(servers)
    own_sla = pd.to_numeric(_column(items, "sla_hours", np.nan), errors="coerce").to_numpy(dtype=float)
    rule_sla = decisions["sla_hours"].to_numpy(dtype=float)
    draft_sla = np.where(np.isnan(rule_sla), own_sla, rule_sla)
    for side, codes, sla in (("now", actual, own_sla), ("draft", draft, draft_sla)):
        lam = frame[f"items_{side}"].to_numpy(dtype=float) / float(days)
        q = _queues(lam, mu, servers, spoke)
        frame[f"utilisation_{side}"] = q["utilisation"]
        frame[f"wait_{side}_h"] = q["wait_h"]
        frame[f"over_capacity_{side}"] = q["over"]
        frame["sla_now_est" if side == "now" else "sla_draft"] = _estimated_sla(q, mu, codes[window], sla[window], k)
    frame = frame[PER_SPOKE_COLUMNS]

    moved = window & (actual != draft)
    pairs = np.bincount(actual[moved] * k + draft[moved], minlength=k * k)
    nonzero = np.flatnonzero(pairs)
    units = frame.unit.to_numpy(dtype=object)
    moves = pd.DataFrame({"from_unit": units[nonzero // k], "to_unit": units[nonzero % k],
                          "items": pairs[nonzero].astype(np.int64)})
    moves = moves.sort_values(["items", "from_unit", "to_unit"], ascending=[False, True, True], ignore_index=True)
    return ReplayResult(per_spoke=frame, moves=moves, changed=int(moved.sum()), total=int(window.sum()),
                        unrouted=int((window & (draft == unrouted_code)).sum()), decisions=decisions,
                        days=float(days))


def _staffing(staffing: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({"unit": staffing["unit"].astype(object).to_numpy() if "unit" in staffing else []})
    for col in ("headcount", "service_rate_per_fte_day"):
        out[col] = pd.to_numeric(staffing[col], errors="coerce").to_numpy(dtype=float) if col in staffing else np.nan
    return out.drop_duplicates("unit")


def _unit_rows(staffing: pd.DataFrame, targets: list[str]) -> list[tuple[str, str]]:
    """Spokes in staffing order, then any other unit seen as a target (named by its id), then ``unrouted``."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = {UNROUTED}
    units = staffing["unit"] if "unit" in staffing else pd.Series(dtype=object)
    names = staffing["name"] if "name" in staffing else units
    for unit, name in zip(units, names):
        if isinstance(unit, str) and unit not in seen:
            seen.add(unit)
            rows.append((unit, name if isinstance(name, str) and name else unit))
    rows += [(u, u) for u in sorted(set(targets) - seen)]
    return rows + [(UNROUTED, UNROUTED_NAME)]


def _observed_sla(items: pd.DataFrame, codes: np.ndarray, k: int, resolved: np.ndarray) -> np.ndarray:
    """Share of the ``resolved`` items resolved by their due time, per actual unit (NaN: none resolved).

    The due time is ``due_at``, or created_at + sla_hours where due_at is missing; items with neither are
    left out.
    """
    if "resolved_at" not in items or not resolved.any():
        return np.full(k, np.nan)
    resolved_at = _utc(items["resolved_at"])
    if "due_at" in items:
        due = _utc(items["due_at"])
    else:
        due = pd.Series(pd.NaT, index=items.index, dtype="datetime64[us, UTC]")
    if "created_at" in items and "sla_hours" in items and due.isna().any():
        hours = pd.to_numeric(items["sla_hours"], errors="coerce")
        due = due.fillna(_utc(items["created_at"]) + pd.to_timedelta(hours, unit="h"))
    counted = resolved & resolved_at.notna().to_numpy() & due.notna().to_numpy()
    on_time = counted & (resolved_at <= due).to_numpy()
    total = np.bincount(codes[counted], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.bincount(codes[on_time], minlength=k) / np.maximum(total, 1), np.nan)


def _queues(lam: np.ndarray, mu: np.ndarray, servers: np.ndarray, spoke: np.ndarray) -> dict[str, np.ndarray]:
    """M/M/c per row where the row is a staffed spoke with a service rate (NaN elsewhere); times in hours."""
    n = lam.size
    out = {k: np.full(n, np.nan) for k in ("utilisation", "wait_h", "p_wait", "headroom")}
    out["over"] = np.zeros(n, dtype=bool)
    if spoke.any():
        q = mmc_array(lam[spoke], mu[spoke], servers[spoke].astype(np.int64))
        out["utilisation"][spoke] = q.utilisation
        out["wait_h"][spoke] = q.wq * HOURS_PER_DAY  # inf when over capacity
        out["p_wait"][spoke] = q.p_wait
        out["headroom"][spoke] = (servers[spoke] * mu[spoke] - lam[spoke]) / HOURS_PER_DAY  # per hour
        out["over"][spoke] = ~q.stable
    return out


def _estimated_sla(q: dict[str, np.ndarray], mu: np.ndarray, codes: np.ndarray, sla_h: np.ndarray,
                   k: int) -> np.ndarray:
    """Mean over the items routed to each spoke of P(Wq ≤ SLA − 1/μ) = 1 − C·exp(−(cμ − λ)·(SLA − 1/μ)).

    0 for items whose SLA is shorter than the mean service time and for spokes over capacity; items without
    an SLA are left out; NaN for a spoke without items with an SLA or without a service rate. SLAs take few
    distinct values, so the formula runs once per (spoke, SLA) pair, weighted by its number of items.
    """
    sla_codes, slas = pd.factorize(sla_h, use_na_sentinel=True)
    keep = sla_codes >= 0
    width = max(len(slas), 1)
    counts = np.bincount(codes[keep] * width + sla_codes[keep], minlength=k * width).reshape(k, width)
    unit, which = np.nonzero(counts)
    n = counts[unit, which].astype(float)
    slack = np.asarray(slas, dtype=float)[which] - HOURS_PER_DAY / mu[unit]  # hours left for waiting
    with np.errstate(invalid="ignore", over="ignore"):
        level = 1.0 - q["p_wait"][unit] * np.exp(-q["headroom"][unit] * slack)
    level = np.where((slack < 0) | q["over"][unit], 0.0, level)
    valid = np.isfinite(level)
    sums = np.bincount(unit[valid], weights=(level * n)[valid], minlength=k)
    totals = np.bincount(unit[valid], weights=n[valid], minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, sums / np.maximum(totals, 1), np.nan)
