"""A discrete-event simulation of the same organisation, to check the analytic model where it approximates.

Built on SimPy (a maintained process-based simulation library) from the same :class:`ScenarioInputs` the
analytic model evaluates, item by item:

- every stream's items arrive as a Poisson process whose rate follows its weekly rhythm hour by hour, split
  between the hub and the spoke by the central share;
- an item that crosses the hub↔spoke boundary reaches the team its transfer time later;
- each team is a first-come-first-served queue of people on duty during the team's office hours (the same
  number the analytic model staffs: whole people, and a fraction of a person as one person giving the team
  that share of their time, i.e. working at that speed); a person holds an item until its hands-on work is
  done, working only while on duty (so work started at 17:30 carries over to the next morning);
- an item is done when its pick-up + in-progress time (one lognormal draw with the stream's mean and CV, on the
  team's staffed clock, counted from when a person takes it) has passed and the person has finished its
  hands-on work (the same draw × the stream's hands-on share, at the person's speed): people juggle items, so
  the hands-on work happens inside the in-progress time;
- an item still waiting for a person after its patience (exponential, social listening only) is dropped
  unanswered.

Items created during a warm-up week are not counted; arrivals continue after the measured window until every
counted item is done. :func:`compare` puts the simulated per-spoke median and mean lead time and SLA share
beside the analytic model's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
import simpy

from dashboard.whatif.calendar import StaffedClock
from dashboard.whatif.engine import HOURS_PER_DAY, H, Params, Structure, compute
from dashboard.whatif.inputs import ScenarioInputs
from dashboard.whatif.model import evaluate

DEFAULT_DAYS = 30.0
WARMUP_DAYS = 7.0
MIN_SPEED = 0.01  # a fraction of a person below this is left out


@dataclass(frozen=True)
class SimulationResult:
    """Simulated items and their figures.

    - ``items``: one row per counted item: stream index, function, spoke, worker ("hub"/"spoke"), created,
      resolved (NaN when unanswered), lead time (hours), within SLA.
    - ``spokes`` / ``functions``: items, unanswered, median and mean lead time and SLA share of answered items.
    """

    inputs: ScenarioInputs
    days: float
    seed: int
    items: pd.DataFrame
    spokes: pd.DataFrame
    functions: pd.DataFrame
    seconds: float
    events: int


def _summary(frame: pd.DataFrame, key: str, index: list[str]) -> pd.DataFrame:
    answered = frame[frame["answered"]]
    by = answered.groupby(key)["lead_h"]
    table = pd.DataFrame({
        "items": frame.groupby(key).size(),
        "unanswered": (~frame["answered"]).groupby(frame[key]).sum(),
        "median_lead_time_h": by.median(),
        "mean_lead_time_h": by.mean(),
        "sla_share": answered.groupby(key)["in_sla"].mean(),
    }).reindex(index)
    table["items"] = table["items"].fillna(0).astype(int)
    table["unanswered"] = table["unanswered"].fillna(0).astype(int)
    return table.rename_axis(key)


def _arrivals(rng: np.random.Generator, rate_per_hour: np.ndarray, start: float, end: float) -> np.ndarray:
    """Poisson arrival times in [start, end) with a piecewise-constant hourly rate repeating weekly."""
    first, last = math.floor(start), math.ceil(end)
    hours = np.arange(first, last)
    rates = rate_per_hour[hours % H]
    counts = rng.poisson(rates)
    times = np.repeat(hours, counts) + rng.random(int(counts.sum()))
    return np.sort(times[(times >= start) & (times < end)])


def simulate(inputs: ScenarioInputs, *, days: float = DEFAULT_DAYS, warmup_days: float = WARMUP_DAYS, seed: int = 1,
             progress: Callable[[float], None] | None = None) -> SimulationResult:
    """Simulate ``days`` of the organisation after ``warmup_days`` (see the module docstring).

    ``progress`` (optional) is called with the share of simulated time done (0..1), about a hundred times.
    """
    started = time.perf_counter()
    st = Structure.from_inputs(inputs)
    params = Params.from_inputs(inputs)
    staffing = compute(st, params)
    rng = np.random.default_rng(seed)
    J = st.J
    demand = np.broadcast_to(params.demand, (1, J))[0]
    share = np.broadcast_to(params.share, (1, J))[0]
    work = np.broadcast_to(params.work, (1, J, 2))[0]
    rt = (np.broadcast_to(params.response, (1, J, 2)) + np.broadcast_to(params.in_progress, (1, J, 2)))[0]
    transfer = np.where(st.crossing, np.broadcast_to(params.transfer, (1, J, 2))[0], 0.0)
    sla = np.broadcast_to(params.sla, (1, J))[0]
    patience_j = np.broadcast_to(params.patience, (1, J))[0]
    on_duty = staffing.on_duty[0]

    # time 0 = Monday 00:00 UTC of a week; the counted window starts after the warm-up (rounded to whole weeks so
    # the weekly rhythm lines up with the analytic model's)
    t0 = math.ceil(warmup_days / 7.0) * 7.0 * HOURS_PER_DAY
    t1 = t0 + days * HOURS_PER_DAY
    horizon = t1 + max(14.0 * HOURS_PER_DAY, 3.0 * float(sla.max() if J else 0.0))

    env = simpy.Environment()
    stores = [simpy.Store(env) for _ in range(st.Q)]
    records: list[tuple] = []
    events = [0]

    pools_items: list[list[tuple[float, tuple]]] = [[] for _ in range(st.Q)]
    for j in range(J):
        for w in range(2):
            part = share[j] if w == 0 else 1.0 - share[j]
            if demand[j] <= 0 or part <= 0:
                continue
            rate = demand[j] / HOURS_PER_DAY * part * st.profile[j]
            created = _arrivals(rng, rate, 0.0, horizon)
            if not len(created):
                continue
            mean, cv = rt[j, w], st.cv[j, w]
            sigma = math.sqrt(math.log1p(cv * cv)) if cv > 0 else 0.0
            draws = rng.lognormal(math.log(mean) - 0.5 * sigma * sigma, sigma, len(created)) if mean > 0 else np.zeros(len(created))
            hands_on = draws * (work[j, w] / mean if mean > 0 else 0.0)
            theta = patience_j[j]
            patience = rng.exponential(theta, len(created)) if np.isfinite(theta) else np.full(len(created), np.inf)
            q = int(st.pool_of[j, w])
            for c, d, h, pt in zip(created, draws, hands_on, patience):
                pools_items[q].append((c + transfer[j, w], (j, w, c, d, h, pt)))

    def arrivals(q: int):
        items = sorted(pools_items[q], key=lambda x: x[0])
        for at, item in items:
            if at > env.now:
                yield env.timeout(at - env.now)
            stores[q].put((at, item))

    def person(q: int, speed: float, clock: StaffedClock):
        store = stores[q]
        unit_clock = st.pool_clock(q)
        while True:
            now = env.now
            staffed_now = float(clock.to_staffed(now))
            next_on = float(clock.to_calendar(staffed_now + 1e-9))  # now if open, else the next opening
            if next_on - now > 1e-6:
                yield env.timeout(next_on - now)
                continue
            get = store.get()
            closes = _next_close(clock, env.now)
            result = yield get | env.timeout(max(closes - env.now, 1e-6))
            if get not in result:
                get.cancel()
                continue
            # cast: simpy types an event's value as optional; a get that fired holds the item put
            at, (j, w, created, draw, hands_on, patience) = cast(tuple, get.value)
            events[0] += 1
            if env.now - at > patience:
                records.append((j, w, created, np.nan, np.nan))  # gave up before anyone picked it up
                continue
            start = env.now
            # the item is in progress for its whole pick-up + in-progress time; the person's hands-on work happens
            # within it (at their speed, only while on duty), and the item is done when both are
            done_work = float(clock.to_calendar(clock.to_staffed(start) + hands_on / speed))
            if done_work > start:
                yield env.timeout(done_work - start)
            resolved = max(float(unit_clock.to_calendar(unit_clock.to_staffed(start) + draw)) if draw > 0 else start,
                           env.now)
            records.append((j, w, created, resolved, float(unit_clock.to_staffed(start) - unit_clock.to_staffed(at))))

    for q in range(st.Q):
        if not pools_items[q]:
            continue
        clock = st.pool_clock(q)
        env.process(arrivals(q))
        s = float(on_duty[q])
        whole = int(math.floor(s + 1e-9))
        speeds = [1.0] * whole
        if s - whole >= MIN_SPEED:
            speeds.append(s - whole)
        if not speeds:
            speeds = [max(s, MIN_SPEED)]
        for speed in speeds:
            env.process(person(q, speed, clock))

    steps = 100 if progress else 1
    for k in range(1, steps + 1):
        env.run(until=horizon * k / steps)
        if progress:
            progress(k / steps)

    frame = pd.DataFrame(records, columns=["stream", "worker", "created", "resolved", "wait_h"])
    frame = frame[(frame["created"] >= t0) & (frame["created"] < t1)].copy()
    frame["function"] = [st.function_ids[st.fn_of[j]] for j in frame["stream"]]
    frame["spoke"] = [st.spoke_ids[st.spoke_of[j]] for j in frame["stream"]]
    frame["worker"] = np.where(frame["worker"] == 0, "hub", "spoke")
    frame["answered"] = frame["resolved"].notna()
    frame["lead_h"] = frame["resolved"] - frame["created"]
    frame["in_sla"] = frame["lead_h"] <= sla[frame["stream"].to_numpy()]
    return SimulationResult(
        inputs=inputs, days=days, seed=seed, items=frame.reset_index(drop=True),
        spokes=_summary(frame, "spoke", list(st.spoke_ids)), functions=_summary(frame, "function", list(st.function_ids)),
        seconds=time.perf_counter() - started, events=events[0])


def _next_close(clock: StaffedClock, t: float) -> float:
    """The next time after ``t`` when the open mask drops to zero (end of the current open stretch)."""
    if clock.always_open:
        return t + 24.0 * 365.0
    hour = int(math.floor(t))
    for k in range(H + 1):
        h = hour + k
        if clock.mask[h % H] <= 0:
            return float(h) if h > t else t + 1e-6
    return t + H


def compare(inputs: ScenarioInputs, simulated: SimulationResult | None = None, **kwargs) -> pd.DataFrame:
    """Per spoke: the analytic model's and the simulation's median and mean lead time and SLA share, with the
    relative differences (simulation as the reference) and the SLA difference in points."""
    sim = simulated or simulate(inputs, **kwargs)
    model = evaluate(inputs).spokes
    rows = []
    spoke: Any  # a spoke id: the stubs type index labels as Hashable
    for spoke, row in sim.spokes.iterrows():
        m = model.loc[spoke]
        n = int(row["items"])
        def rel(a: float, b: float, n: int = n) -> float:
            return float(a / b - 1.0) if n and b and np.isfinite(a) and np.isfinite(b) and b > 0 else float("nan")
        rows.append({
            "spoke": spoke, "name": m["name"], "simulated_items": n, "simulated_unanswered": int(row["unanswered"]),
            "simulated_median_h": row["median_lead_time_h"], "model_median_h": float(m["lead_time_median_h"]),
            "median_difference": rel(float(m["lead_time_median_h"]), row["median_lead_time_h"]),
            "simulated_mean_h": row["mean_lead_time_h"], "model_mean_h": float(m["lead_time_mean_h"]),
            "mean_difference": rel(float(m["lead_time_mean_h"]), row["mean_lead_time_h"]),
            "simulated_sla_share": row["sla_share"], "model_sla_share": float(m["sla_met_share"]),
            "sla_difference_pts": (float(m["sla_met_share"]) - row["sla_share"]) * 100 if n else float("nan"),
        })
    return pd.DataFrame(rows).set_index("spoke")


def max_difference(table: pd.DataFrame) -> tuple[float, float]:
    """(largest relative difference of median or mean lead time, largest SLA difference in points)."""
    rel = table[["median_difference", "mean_difference"]].abs().to_numpy()
    return float(np.nanmax(rel)) if rel.size else float("nan"), float(np.nanmax(table["sla_difference_pts"].abs())) if len(table) else float("nan")


def describe(table: pd.DataFrame) -> list[str]:
    """One line per spoke for a page or the CLI."""
    return [f"{r['name']}: simulated median {r['simulated_median_h']:.1f} h vs model {r['model_median_h']:.1f} h; "
            f"mean {r['simulated_mean_h']:.1f} h vs {r['model_mean_h']:.1f} h; within SLA "
            f"{r['simulated_sla_share']:.1%} vs {r['model_sla_share']:.1%}" for _, r in table.iterrows()]
