"""Streams (steps 2 and 3 of the package docstring): each stream's arrival rhythm by hour of the week, and the
times one worker was seen to take over its items.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.whatif import calendar as cal
from dashboard.whatif.engine import H

MIN_ITEMS = 3  # resolved items a stream needs at a worker before its own times are used
PROFILE_PSEUDO_ITEMS = 8  # arrival rhythm: a stream's counts weigh against this many items of its kind's


def arrival_profiles(frame: pd.DataFrame, keys: list[tuple], window_days: float) -> dict[tuple, np.ndarray]:
    """Arrival weights by UTC hour of the week per stream (mean 1), shrunk towards the kind's and everything's."""
    created = frame[frame["created_in"]]
    hours = (np.floor(created["t_created"].to_numpy()).astype(np.int64)) % H
    overall = np.bincount(hours, minlength=H).astype(np.float64) + 1.0
    overall /= overall.sum()
    by_kind: dict[str, np.ndarray] = {}
    kinds = created["kind"].to_numpy()
    for kind in np.unique(kinds):
        counts = np.bincount(hours[kinds == kind], minlength=H).astype(np.float64)
        by_kind[kind] = (counts + PROFILE_PSEUDO_ITEMS * overall) / (counts.sum() + PROFILE_PSEUDO_ITEMS)
    out = {}
    stream_key = list(zip(created["function"], created["spoke"], created["kind"], created["origin"]))
    index: dict[tuple, list[int]] = {}
    for i, k in enumerate(stream_key):
        index.setdefault(k, []).append(i)
    for key in keys:
        parent = by_kind.get(key[2], overall)
        rows = index.get(key, [])
        counts = np.bincount(hours[rows], minlength=H).astype(np.float64) if rows else np.zeros(H)
        shape = (counts + PROFILE_PSEUDO_ITEMS * parent) / (counts.sum() + PROFILE_PSEUDO_ITEMS)
        out[key] = shape * H
    return out


@dataclass
class Observed:
    """What items of one stream worked by one worker showed (None where too few)."""

    n: int
    reach_mean: float  # staffed hours reached -> resolved
    reach_var: float
    pickup_mean: float  # staffed hours reached -> accepted
    progress_mean: float  # staffed hours accepted -> resolved
    progress_var: float
    transfer_mean: float  # calendar hours created -> routed (crossing items)


def observe(part: pd.DataFrame, clock: cal.StaffedClock) -> Observed | None:
    done = part[part["resolved_in"] & np.isfinite(part["t_resolved"].to_numpy())]
    if len(done) < MIN_ITEMS:
        return None
    reached = clock.to_staffed(done["t_reached"].to_numpy())
    resolved = clock.to_staffed(done["t_resolved"].to_numpy())
    accepted_t = done["t_accepted"].to_numpy()
    has_acc = np.isfinite(accepted_t)
    accepted = np.where(has_acc, clock.to_staffed(np.where(has_acc, accepted_t, 0.0)), resolved)
    total = np.maximum(resolved - reached, 0.0)
    pickup = np.clip(accepted - reached, 0.0, None)
    progress = np.clip(resolved - accepted, 0.0, None)
    transfer = np.maximum(done["t_reached"].to_numpy() - done["t_created"].to_numpy(), 0.0)
    return Observed(n=len(done), reach_mean=float(total.mean()), reach_var=float(total.var()),
                     pickup_mean=float(pickup.mean()), progress_mean=float(max(progress.mean(), 1e-3)),
                     progress_var=float(progress.var()),
                     transfer_mean=float(transfer.mean()))
