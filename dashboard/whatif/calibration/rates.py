"""Patience and error rates (step 7 of the package docstring): read from aged items and hand-backs where there
are enough, otherwise "none observed" or the typical defaults.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from dashboard.whatif.inputs import ABANDONING_KINDS, DEFAULT_PATIENCE_H

AGED_DAYS = 3.0  # items older than this (and than 3 × their SLA) that nobody picked up count as unanswered
MIN_AGED = 50  # aged items a function needs before its patience is read from the data
MIN_UNANSWERED = 5
MIN_HANDBACKS = 20  # hand-backs a function and worker need before its error rate is read from the data


def stream_patience(frame: pd.DataFrame, key: tuple, end: pd.Timestamp) -> tuple[float | None, str]:
    """Mean patience (hours) of a stream's senders, by maximum likelihood on aged items (exponential patience):
    an item picked up after waiting w says patience > w; one never picked up says patience < the wait it would
    have had: until its team picked up the first item that reached it later (first come, first served)."""
    if key[2] not in ABANDONING_KINDS:
        return None, ""
    part = frame[(frame["function"] == key[0]) & (frame["spoke"] == key[1]) & (frame["kind"] == key[2])
                 & (frame["origin"] == key[3])]
    sla = pd.to_numeric(part["sla_hours"], errors="coerce").fillna(0.0)
    age_h = (end - part["created_at"]).dt.total_seconds() / 3600.0
    aged = part[(age_h >= AGED_DAYS * 24) & (age_h >= 3 * sla)]
    if len(aged) < MIN_AGED:
        return DEFAULT_PATIENCE_H, f"assumption ({DEFAULT_PATIENCE_H:g} h): too few aged items to read it"
    unanswered = (aged["accepted_at"].isna() & aged["resolved_at"].isna()
                  & aged["status"].astype(str).isin(["new", "routed"])).to_numpy()
    n_un = int(unanswered.sum())
    if n_un < MIN_UNANSWERED:
        return None, f"none observed: {len(aged) - n_un:,} of {len(aged):,} aged items were picked up"
    wait = np.maximum(aged["t_accepted"].to_numpy() - aged["t_reached"].to_numpy(), 0.0)
    picked = ~unanswered & np.isfinite(wait)
    if not picked.any():
        return DEFAULT_PATIENCE_H, f"assumption ({DEFAULT_PATIENCE_H:g} h): nothing was picked up to compare with"
    # the wait an unanswered item would have had: until its team picked up the first item that arrived after it
    # (first come, first served: it would have been taken before that one)
    team = frame[(frame["worker"] == aged["worker"].iloc[0]) & ((frame["spoke"] == key[1]) | (aged["worker"].iloc[0] == "hub"))]
    order = np.argsort(team["t_reached"].to_numpy(), kind="stable")
    reached_sorted = team["t_reached"].to_numpy()[order]
    accepted_sorted = np.where(np.isfinite(team["t_accepted"].to_numpy()[order]), team["t_accepted"].to_numpy()[order],
                               np.inf)
    next_pickup = np.minimum.accumulate(accepted_sorted[::-1])[::-1]
    position = np.searchsorted(reached_sorted, aged["t_reached"].to_numpy(), side="right")
    would_wait = np.where(position < len(next_pickup),
                          next_pickup[np.minimum(position, len(next_pickup) - 1)] - aged["t_reached"].to_numpy(), np.nan)
    usable = unanswered & np.isfinite(would_wait) & (would_wait > 0)
    exposure = np.where(unanswered, would_wait, wait)
    keep = usable | picked
    exposure, gave_up = exposure[keep], unanswered[keep]
    if not gave_up.any():
        return None, f"none observed: {len(aged) - n_un:,} of {len(aged):,} aged items were picked up"
    thetas = np.geomspace(0.05, 10_000.0, 400)
    with np.errstate(divide="ignore"):
        loglik = (np.log(-np.expm1(-exposure[gave_up][None, :] / thetas[:, None])).sum(1)
                  - (exposure[~gave_up][None, :] / thetas[:, None]).sum(1))
    theta = float(thetas[int(np.argmax(loglik))])
    return theta, f"observed: {n_un:,} of {len(aged):,} aged items never picked up"


def error_rates(frame: pd.DataFrame, fid: str, typical: Mapping | None) -> tuple[float, float, str]:
    spec = float(typical["error_rate_specialist"]) if typical else 0.02
    gen = float(typical["error_rate_generalist"]) if typical else 0.05
    part = frame[frame["function"] == fid]
    status = part["status"].astype(str)
    rates, sources = [spec, gen], []
    for i, worker in enumerate(("hub", "spoke")):
        mine = status[part["worker"] == worker]
        back = int((mine == "handed_back").sum())
        done = int(mine.isin(["resolved", "handed_back"]).sum())
        if back >= MIN_HANDBACKS and done > 0:
            rates[i] = back / done
            sources.append("observed hand-backs")
    source = "observed hand-backs" if len(sources) == 2 else (
        "partly observed hand-backs, partly typical rates (assumption)" if sources else "typical rates (assumption)")
    return rates[0], rates[1], source
