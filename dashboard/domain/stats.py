"""Small statistics on rollup data: percentiles from histograms, KPI status, SLA health bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dashboard.domain.vocabulary import Direction

# Cycle-time histogram bin edges in hours (geometric, 0.05 h = 3 min ... 1,000 h ~ 6 weeks), shared by
# the rollups (which count items per bin) and the queries (which interpolate percentiles from them).
CYCLE_BIN_EDGES_H: tuple[float, ...] = tuple(round(0.05 * (20000 ** (i / 22)), 6) for i in range(23))
N_CYCLE_BINS = len(CYCLE_BIN_EDGES_H) + 1  # one bin below the first edge, one above the last
CYCLE_BIN_COLUMNS = tuple(f"b{i:02d}" for i in range(N_CYCLE_BINS))


def cycle_bin_index(hours: np.ndarray | float) -> np.ndarray:
    """Histogram bin of a cycle time in hours (the rollups and these percentiles share the edges)."""
    return np.searchsorted(np.asarray(CYCLE_BIN_EDGES_H), hours, side="right")


def percentile_from_hist(counts: Sequence[float], q: float, edges: Sequence[float] = CYCLE_BIN_EDGES_H) -> float | None:
    """The q-quantile (0..1) of values binned by ``edges``, interpolating linearly inside the bin.

    Bin 0 is [0, edges[0]), bin i is [edges[i-1], edges[i]), the last bin is [edges[-1], 1.5 x edges[-1]).
    Returns None when the histogram is empty. The error is at most one bin width (~57 % geometric steps).
    """
    bins = np.asarray(counts, dtype=float)
    total = bins.sum()
    if total <= 0:
        return None
    lows = np.concatenate([[0.0], edges])
    highs = np.concatenate([edges, [edges[-1] * 1.5]])
    cum = np.cumsum(bins)
    rank = q * total
    i = int(np.searchsorted(cum, rank, side="left"))
    i = min(i, len(bins) - 1)
    before = cum[i] - bins[i]
    frac = 0.0 if bins[i] == 0 else (rank - before) / bins[i]
    return float(lows[i] + frac * (highs[i] - lows[i]))


def band(share: float | None, green: float, amber: float) -> str:
    """'green' / 'amber' / 'red' for a share against thresholds, 'none' when there is no data."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "none"
    if share >= green:
        return "green"
    if share >= amber:
        return "amber"
    return "red"


def on_target(value: float | None, target: float | None, direction: str) -> bool | None:
    """Direction-aware: higher-is-better KPIs meet target at or above it, lower-is-better at or below."""
    if value is None or target is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value >= target if Direction(direction) is Direction.HIGHER else value <= target


def pct_change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    if any(isinstance(v, float) and math.isnan(v) for v in (current, previous)):
        return None
    return (current - previous) / abs(previous)
