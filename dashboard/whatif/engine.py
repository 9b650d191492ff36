"""The vectorised core of the what-if model: numeric inputs as arrays in, every figure as arrays out.

One module for one idea, the computation: its arrays (:class:`Structure`, :class:`Params`, :class:`Outcome`) and
the steps of :func:`compute` below share private helpers that mean nothing apart.

Axes: a leading *point* axis P (one scenario variant per point: the trade-off sweep varies the central share
along it, the sensitivity analysis one input per point), then streams J (a spoke's items of one kind and
origin for one function), workers W = 2 (0 = the hub's specialists, 1 = the spoke's own people), pools Q
(the hub's team per function, then each spoke's one shared team) and the hours of the week H = 168 (UTC,
hour 0 = Monday 00:00).

Per point (docs/whatif.md gives the formulas and their sources):

1. Arrivals: stream j sends λ_j(h) = demand_j / 24 · profile_j(h) items per hour; the central share x_j of
   them go to the hub's pool of its function, the rest to its spoke's shared pool.
2. Staffing follows the work: a pool's FTE = weekly work hours ÷ (occupancy × min(productive hours per FTE,
   open hours)); during its open hours s = work ÷ (occupancy × open hours) people are on duty.
3. Queueing per hour on the pool's staffed clock: a fluid backlog carried from hour to hour (arrivals while
   closed wait for the opening, overloaded hours build a queue that later hours clear, waiting items
   abandon at rate 1/patience) plus, where no backlog is left, the stationary Erlang C / Allen–Cunneen wait
   at that hour's load (fractional servers interpolated between whole ones).
4. Lead time of an item arriving in hour h = transfer (if it crosses the hub↔spoke boundary) + the calendar
   span of S staffed hours from its arrival, S = backlog wait + stochastic wait + pick-up + in-progress time;
   S is moment-matched to a lognormal, the span follows the pool's office hours exactly (so a Friday-evening
   item waits for Monday). Means, SLA shares and medians are item-weighted mixtures over hours and streams.
5. Costs: people (FTE × cost per FTE), one platform instance per unit doing a function, coordination
   channels × their cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, cast

import numpy as np
from scipy import special

from dashboard.whatif.calendar import WEEK_HOURS, StaffedClock, week_mask
from dashboard.whatif.inputs import ScenarioInputs
from dashboard.whatif.queueing import erlang_c_fractional

H = WEEK_HOURS
HOURS_PER_DAY = 24.0
DAYS_PER_MONTH = 365.0 / 12.0
WEEKS_PER_MONTH = DAYS_PER_MONTH / 7.0
WEEKS_PER_YEAR = 52.0
MONTHS_PER_YEAR = 12.0

_RHO_GRID = np.linspace(0.0, 0.99, 100)  # loads (steps of 0.01) at which each pool's Erlang C is tabulated, then interpolated
_RHO_MAX = 0.99  # stochastic waits are read at most at this load; beyond it the fluid backlog carries the wait
_MEDIAN_GRID = np.geomspace(0.02, 8760.0, 96)  # lead-time grid (hours) the medians are read from
_WARM_WEEKS = 2  # weeks the fluid backlog runs before the measured week (it repeats after one if stable)
_MAX_CHUNK = 64  # points computed together (bounds memory at P × J × 2 × 168)


@dataclass(frozen=True)
class Structure:
    """What does not vary between points: who is who, calendars, arrival rhythms."""

    function_ids: tuple[str, ...]
    spoke_ids: tuple[str, ...]
    stream_keys: tuple[tuple[str, str, str, str], ...]  # (function, spoke, kind, origin)
    fn_of: np.ndarray  # (J,) function index
    spoke_of: np.ndarray  # (J,) spoke index
    crossing: np.ndarray  # (J, 2) bool: worked by this worker, the item crosses the boundary
    pool_of: np.ndarray  # (J, 2) pool index
    profile: np.ndarray  # (J, H) arrival weights, mean 1
    cv: np.ndarray  # (J, 2) CV of pick-up + in-progress time
    clocks: tuple[StaffedClock, ...]  # per unit: the hub, then the spokes
    pool_unit: np.ndarray  # (Q,) unit index of each pool (0 = hub)
    pool_mask: np.ndarray  # (Q, H) open share of each hour
    open_hours: np.ndarray  # (Q,) open hours per week
    closures: tuple[tuple[np.ndarray, np.ndarray], ...]  # per unit: (staffed start, calendar length) of closures
    cache: dict  # calendar tables per (unit, transfer), filled as points need them

    @property
    def F(self) -> int:
        return len(self.function_ids)

    @property
    def S(self) -> int:
        return len(self.spoke_ids)

    @property
    def J(self) -> int:
        return len(self.stream_keys)

    @property
    def Q(self) -> int:
        return self.F + self.S

    def pool_clock(self, q: int) -> StaffedClock:
        return self.clocks[int(self.pool_unit[q])]

    @classmethod
    def from_inputs(cls, inputs: ScenarioInputs, at=None) -> Structure:
        fids = tuple(inputs.functions)
        sids = inputs.spoke_ids
        keys, fn_of, spoke_of, crossing, profile, cv = [], [], [], [], [], []
        flat = np.ones(H)
        for f, fid in enumerate(fids):
            for s in inputs.functions[fid].streams:
                keys.append((fid, s.spoke, s.kind, s.origin))
                fn_of.append(f)
                spoke_of.append(sids.index(s.spoke))
                crossing.append((s.origin != "hub", s.origin != "spoke"))
                profile.append(flat if s.profile is None else np.asarray(s.profile, dtype=np.float64))
                cv.append((s.hub.cv, s.local.cv))
        F, S = len(fids), len(sids)
        clocks = tuple(StaffedClock(week_mask(u.windows, u.timezone, at)) for u in inputs.units)
        pool_unit = np.concatenate([np.zeros(F, dtype=np.int64), np.arange(1, S + 1)])
        pool_mask = np.stack([clocks[u].mask for u in pool_unit])
        closures = tuple(_closures(c.mask) for c in clocks)
        fn_arr = np.asarray(fn_of, dtype=np.int64)
        sp_arr = np.asarray(spoke_of, dtype=np.int64)
        pool_of = np.stack([fn_arr, F + sp_arr], axis=1) if keys else np.zeros((0, 2), dtype=np.int64)
        prof = np.stack(profile) if keys else np.zeros((0, H))
        prof = prof / np.where(prof.mean(-1, keepdims=True) > 0, prof.mean(-1, keepdims=True), 1.0)
        return cls(function_ids=fids, spoke_ids=sids, stream_keys=tuple(keys), fn_of=fn_arr, spoke_of=sp_arr,
                   crossing=np.asarray(crossing, dtype=bool).reshape(-1, 2), pool_of=pool_of, profile=prof,
                   cv=np.asarray(cv, dtype=np.float64).reshape(-1, 2), clocks=clocks, pool_unit=pool_unit,
                   pool_mask=pool_mask, open_hours=pool_mask.sum(-1), closures=closures, cache={})


_CLOSURE_WEEKS = 10  # closed stretches listed ahead (an item needing more staffed time than this is not modelled)
_SUB = (np.arange(4) + 0.5) / 4  # arrival positions within an hour (items arrive spread over the hour)


def _closures(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unit's closed stretches over ``_CLOSURE_WEEKS`` weeks: (staffed time at which each starts, calendar
    hours it lasts). The closed part of a partly open hour is placed at the end of its open part; consecutive
    closed hours are one stretch. An item that starts at staffed time y and needs S staffed hours waits through
    every stretch at Y > y with Y < y + S, so E[lead] = E[S] + Σ length · P(S > Y − y): exact for any S."""
    if (mask >= 1.0).all():
        return np.array([np.inf]), np.array([0.0])
    at, length = [], []
    position, pending = 0.0, 0.0
    for k in range(_CLOSURE_WEEKS * H):
        m = mask[k % H]
        if m > 0 and pending > 0:
            at.append(position)
            length.append(pending)
            pending = 0.0
        position += m
        pending += 1.0 - m
    at.append(position)
    length.append(pending)
    return np.asarray(at + [np.inf]), np.asarray(length + [0.0])


@dataclass(frozen=True)
class Params:
    """Numeric inputs that points may vary; each has a leading axis of P or 1 (broadcast)."""

    demand: np.ndarray  # (P, J) items per calendar day
    share: np.ndarray  # (P, J) central share
    sla: np.ndarray  # (P, J) SLA, calendar hours
    target: np.ndarray  # (P, F) SLA target share
    work: np.ndarray  # (P, J, 2) hands-on hours per item
    in_progress: np.ndarray  # (P, J, 2) staffed hours in progress
    response: np.ndarray  # (P, J, 2) staffed pick-up delay not explained by queueing
    transfer: np.ndarray  # (P, J, 2) calendar hours per crossing
    patience: np.ndarray  # (P, J) mean patience in hours (inf: nobody gives up)
    occupancy: np.ndarray  # (P, Q)
    productive: np.ndarray  # (P,) productive hours per FTE per week
    cost_unit: np.ndarray  # (P, 1 + S) cost per FTE per year, hub first
    platform: np.ndarray  # (P, F) cost per platform instance per year
    coord_cost: np.ndarray  # (P,) cost per coordination channel per year
    err: np.ndarray  # (P, F, 2) error rate of specialists, generalists
    all_to_all: bool = False

    @property
    def points(self) -> int:
        return max(getattr(self, f.name).shape[0] for f in fields(self) if f.name != "all_to_all")

    def repeat(self, points: int) -> Params:
        """Materialised copies with ``points`` rows, ready to be varied row by row."""
        changes: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "all_to_all":
                continue
            value = getattr(self, f.name)
            changes[f.name] = np.repeat(value[:1], points, axis=0) if value.shape[0] == 1 else value.copy()
        return replace(self, **changes)

    def take(self, rows: slice) -> Params:
        changes: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "all_to_all":
                continue
            value = getattr(self, f.name)
            changes[f.name] = value if value.shape[0] == 1 else value[rows]
        return replace(self, **changes)

    @classmethod
    def from_inputs(cls, inputs: ScenarioInputs) -> Params:
        g = inputs.globals
        fns = list(inputs.functions.values())
        streams = [(fn, s) for fn in fns for s in fn.streams]

        def rows(values) -> np.ndarray:
            return np.asarray(values, dtype=np.float64)[None]

        def per_worker(attr: str) -> np.ndarray:
            return np.asarray([[getattr(s.hub, attr), getattr(s.local, attr)] for _, s in streams],
                              dtype=np.float64).reshape(1, -1, 2)

        hub_cost = inputs.hub.fte_cost or g.fte_cost
        hourly = g.fte_cost / (g.productive_hours_per_week * WEEKS_PER_YEAR)
        occupancy = [fn.hub_occupancy or g.occupancy_cap for fn in fns] + [u.occupancy or g.occupancy_cap
                                                                             for u in inputs.spokes]
        return cls(
            demand=rows([s.demand_per_day for _, s in streams]),
            share=rows([fn.share_of(s) for fn, s in streams]),
            sla=rows([s.sla_hours for _, s in streams]),
            target=rows([fn.sla_target for fn in fns]),
            work=per_worker("work_h"),
            in_progress=per_worker("in_progress_h"),
            response=per_worker("response_h"),
            transfer=per_worker("transfer_h"),
            patience=rows([s.patience_h if s.patience_h else np.inf for _, s in streams]),
            occupancy=rows(occupancy),
            productive=np.array([g.productive_hours_per_week]),
            cost_unit=rows([hub_cost] + [u.fte_cost or g.fte_cost for u in inputs.spokes]),
            platform=rows([g.platform_cost if fn.platform_cost is None else fn.platform_cost for fn in fns]),
            coord_cost=np.array([g.coordination_hours_per_channel_month * MONTHS_PER_YEAR * hourly]),
            err=np.asarray([[fn.error_rate_specialist, fn.error_rate_generalist] for fn in fns],
                           dtype=np.float64).reshape(1, -1, 2),
            all_to_all=g.coordination == "all_to_all",
        )


@dataclass(frozen=True)
class Outcome:
    """Every figure of P scenario variants (see the module docstring). Shapes as noted."""

    # streams × workers (P, J, 2)
    items: np.ndarray  # arriving items per month
    answered: np.ndarray  # items per month that are picked up (the rest go unanswered)
    lead_mean: np.ndarray  # mean lead time of answered items, calendar hours
    sla_met: np.ndarray  # share of answered items resolved within the SLA
    wait: np.ndarray  # mean queueing wait, staffed hours
    wait_var: np.ndarray  # its variance over items (hours²)
    ooh: np.ndarray  # mean out-of-hours time inside the lead time, hours
    handoff: np.ndarray  # mean transfer time, hours
    # pools (P, Q)
    pool_items: np.ndarray  # items per week
    pool_work: np.ndarray  # work hours per week
    fte: np.ndarray
    on_duty: np.ndarray  # people on duty during open hours
    occupancy: np.ndarray
    pool_wait: np.ndarray  # item-weighted mean queueing wait, staffed hours
    backlog_peak: np.ndarray  # largest fluid backlog over the week, items
    # pools × hours (P, Q, H)
    arrivals_h: np.ndarray  # items per hour
    backlog_h: np.ndarray  # fluid backlog at the start of each hour
    wait_h: np.ndarray  # mean queueing wait of an item arriving in each hour, staffed hours
    # per function / unit
    instances: np.ndarray  # (P, F, 1 + S) bool: unit runs the function (platform instance)
    channels: np.ndarray  # (P, F)
    # cost per year
    people_cost_q: np.ndarray  # (P, Q)
    platform_cost_f: np.ndarray  # (P, F)
    coordination_cost_f: np.ndarray  # (P, F)
    central_fte_f: np.ndarray  # (P, F) FTE the function would need done entirely in the hub
    slowdown_fte_f: np.ndarray  # (P, F) extra FTE because generalists take longer than specialists
    noncompliant: np.ndarray  # (P, J, 2) expected non-compliant items per month
    # the lead-time CDF on _MEDIAN_GRID per stream and worker, only when asked for (P, J, 2, G)
    cdf: np.ndarray | None
    # mean lead time by arrival hour (P, J, 2, H), only with the CDF
    lead_by_hour: np.ndarray | None = None


def _lognormal(mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(μ, σ) of the lognormal with this mean and variance (σ ≥ 1e-6)."""
    mean = np.maximum(mean, 1e-9)
    sigma2 = np.log1p(np.maximum(var, 0.0) / (mean * mean))
    sigma = np.sqrt(np.maximum(sigma2, 1e-12))
    return np.log(mean) - 0.5 * sigma * sigma, sigma


def _to_pools(x: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Sum (P, J, 2, H) per stream and worker into (P, Q, H) per pool."""
    P, J, W, Hh = x.shape
    return np.matmul(onehot.reshape(J * W, -1).T[None], x.reshape(P, J * W, Hh))


def _pool_onehot(st: Structure) -> np.ndarray:
    """(J, 2, Q) 1 where stream j worked by w lands in pool q."""
    onehot = np.zeros((st.J, 2, st.Q))
    if st.J:
        onehot[np.arange(st.J)[:, None], np.arange(2)[None, :], st.pool_of] = 1.0
    return onehot


def _fluid(patient: np.ndarray, impatient: np.ndarray, capacity: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Backlog at the start of each hour of the repeating week (P, Q, H), in hours of work.

    Two kinds of work share the queue first come, first served: work whose senders wait however long it takes
    (``patient``) and work whose senders give up, of which a share ``1 − keep`` (P, Q) leaves every hour it
    waits. Each hour the team serves ``capacity``, taken from both in proportion to what is waiting.
    """
    P, Q, _ = patient.shape
    waiting_p = np.zeros((P, Q))
    waiting_i = np.zeros((P, Q))
    start = np.empty_like(patient)
    for week in range(_WARM_WEEKS + 1):
        last = week == _WARM_WEEKS
        for h in range(H):
            if last:
                start[:, :, h] = waiting_p + waiting_i
            in_p = waiting_p + patient[:, :, h]
            in_i = waiting_i * keep + impatient[:, :, h]
            total = in_p + in_i
            left = np.where(total > 0, np.maximum(total - capacity[:, :, h], 0.0) / np.where(total > 0, total, 1.0), 0.0)
            waiting_p, waiting_i = in_p * left, in_i * left
    return start


def compute(st: Structure, p: Params, *, medians: bool = False, spread: bool = False) -> Outcome:
    """Every figure for every point of ``p``; ``medians`` adds the lead-time CDFs the medians are read from,
    ``spread`` the variance of the queueing wait (calibration needs it)."""
    P = p.points
    if P > _MAX_CHUNK:
        parts = [compute(st, p.take(slice(i, i + _MAX_CHUNK)), medians=medians, spread=spread)
                 for i in range(0, P, _MAX_CHUNK)]
        joined: dict[str, Any] = {f.name: (None if getattr(parts[0], f.name) is None else
                                           np.concatenate([getattr(o, f.name) for o in parts], axis=0))
                                  for f in fields(Outcome)}
        return Outcome(**joined)
    J, F, S, Q = st.J, st.F, st.S, st.Q

    def full(x: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(x, shape)

    demand, share = full(p.demand, (P, J)), full(p.share, (P, J))
    work, in_prog = full(p.work, (P, J, 2)), full(p.in_progress, (P, J, 2))
    response, transfer = full(p.response, (P, J, 2)), full(p.transfer, (P, J, 2))
    split = np.stack([share, 1.0 - share], axis=-1)  # (P, J, 2)
    lam = (demand / HOURS_PER_DAY)[:, :, None, None] * split[..., None] * st.profile[None, :, None, :]  # (P,J,2,H)
    per_week = lam.sum(-1)  # (P, J, 2)

    # --- pools: work, staffing, capacity ------------------------------------------------------------------
    onehot = _pool_onehot(st)
    arrivals_q = _to_pools(lam, onehot)
    items_q = arrivals_q.sum(-1)
    work_q = np.einsum("pjw,jwq->pq", per_week * work, onehot)
    cv2 = st.cv[None] ** 2
    work2_q = np.einsum("pjw,jwq->pq", per_week * work * work * (1.0 + cv2), onehot)
    busy = items_q > 0
    safe_items = np.where(busy, items_q, 1.0)
    mean_work = np.where(busy, work_q / safe_items, 1.0)
    cs2 = np.where(busy, work2_q / safe_items / (mean_work * mean_work) - 1.0, 1.0)
    factor = np.maximum((1.0 + cs2) / 2.0, 1e-6)  # Allen–Cunneen with Poisson arrivals within an hour
    occ = full(p.occupancy, (P, Q))
    open_h = st.open_hours[None, :]
    on_duty = np.where(busy, work_q / (occ * open_h), 0.0)
    productive = full(p.productive, (P,))[:, None]
    fte = np.where(busy, work_q / (occ * np.minimum(productive, open_h)), 0.0)
    # the queue runs on work: hours of work arriving per hour against the on-duty team's hours (the mix of
    # streams changes over the week, and with it the work an item brings)
    work_h = _to_pools(lam * work[..., None], onehot)
    serving = on_duty
    capacity = serving[..., None] * st.pool_mask[None]  # (P, Q, H) work hours per calendar hour

    # abandonment: item-weighted hazard of the pool's streams
    patience_j = full(p.patience, (P, J))
    hazard_j = np.where(np.isfinite(patience_j), 1.0 / patience_j, 0.0)
    gives_up = (hazard_j > 0)[..., None, None]  # (P, J, 1, 1)
    impatient_h = _to_pools(lam * work[..., None] * gives_up, onehot) if gives_up.any() else np.zeros_like(work_h)
    impatient_items = np.einsum("pjw,jwq->pq", per_week * (hazard_j > 0)[..., None], onehot)
    hazard_q = np.where(impatient_items > 0, np.einsum("pjw,jwq->pq", per_week * hazard_j[..., None], onehot)
                        / np.where(impatient_items > 0, impatient_items, 1.0), 0.0)
    backlog = _fluid(work_h - impatient_h, impatient_h, capacity, np.exp(-hazard_q))  # work hours waiting
    backlog_end = np.roll(backlog, -1, axis=-1)
    queue = 0.5 * (backlog + backlog_end)  # what an arrival in the hour finds ahead of it
    safe_duty = np.where(serving > 0, serving, 1.0)[..., None]
    fluid_wait = np.where(serving[..., None] > 0, queue / safe_duty, 0.0)

    # stationary waits per hour: Erlang C at the hour's load where no backlog is left, else the week's average
    mask = st.pool_mask[None]
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_h = np.where(mask > 0, work_h / np.where(mask > 0, mask, 1.0) / safe_duty, 0.0)
        item_work = np.where(arrivals_q > 0, work_h / np.where(arrivals_q > 0, arrivals_q, 1.0), mean_work[..., None])
    rho_h = np.nan_to_num(rho_h)
    settled = (mask > 0) & (queue < 0.5 * item_work) & (rho_h < _RHO_MAX)
    average = np.where(busy, work_q / (np.where(serving > 0, serving, 1.0) * open_h), 0.0)  # load over the open hours
    rho = np.where(settled, rho_h, np.minimum(average, _RHO_MAX)[..., None])
    table = erlang_c_fractional(_RHO_GRID[None, None, :] * serving[..., None], serving[..., None])  # (P,Q,G)
    c_wait = _interp_rows(rho, _RHO_GRID, table)
    decay = np.where(busy[..., None], safe_duty / item_work, 1.0) * (1.0 - rho) / factor[..., None]  # per staffed hour
    c_wait = np.where(busy[..., None], c_wait, 0.0)

    # --- per stream, worker and hour -------------------------------------------------------------------------
    def gather(x: np.ndarray) -> np.ndarray:  # (P, Q, H) -> (P, J, 2, H)
        return x[:, st.pool_of, :]

    f_w, c_w, k_w = gather(fluid_wait), gather(c_wait), gather(decay)
    cross = st.crossing[None]
    tr = np.where(cross, transfer, 0.0)  # (P, J, 2)
    rt = response + in_prog
    # the stochastic wait of the items that are answered: senders who give up (rate h = 1/θ) leave the long waits
    # behind, so an answered item waited C·k/(k + h)² ÷ P(answered) on average (no patience: C/k)
    hazard = np.where(np.isfinite(patience_j), 1.0 / np.where(np.isfinite(patience_j), patience_j, 1.0), 0.0)
    if (hazard > 0).any():
        kh = k_w + hazard[..., None, None]
        answered_share = (1.0 - c_w) + c_w * k_w / kh
        wait_stoch = c_w * k_w / (kh * kh) / answered_share
        wait_stoch2 = 2.0 * wait_stoch / kh
    else:
        wait_stoch = c_w / k_w
        wait_stoch2 = 2.0 * wait_stoch / k_w
    wait_mean = f_w + wait_stoch
    mean_s = wait_mean + rt[..., None]
    var_s = np.maximum(wait_stoch2 - wait_stoch * wait_stoch, 0.0) + (st.cv[None] * rt)[..., None] ** 2
    mu, sigma = _lognormal(mean_s, var_s)

    lead_h, sla_h, kept, kept_u = _calendar(st, full(p.sla, (P, J)), tr, mean_s, mu, sigma, f_w, c_w, k_w, patience_j,
                                            positions=medians)
    answered_h = lam * kept
    answered = answered_h.sum(-1)
    safe_ans = np.where(answered > 0, answered, 1.0)

    def weighted(x: np.ndarray) -> np.ndarray:
        return np.where(answered > 0, (answered_h * x).sum(-1) / safe_ans, 0.0)

    lead_mean = weighted(lead_h)
    sla_met = np.where(answered > 0, (answered_h * sla_h).sum(-1) / safe_ans, 1.0)
    wait = weighted(wait_mean)
    wait_var = (np.maximum(weighted(f_w * f_w + 2.0 * f_w * wait_stoch + wait_stoch2) - wait * wait, 0.0)
                if spread else np.zeros_like(wait))
    ooh = lead_mean - tr - wait - rt
    pool_wait = np.where(busy, np.einsum("pjw,jwq->pq", answered * wait, onehot)
                         / np.where(busy, np.einsum("pjw,jwq->pq", answered, onehot), 1.0), 0.0)

    cdf = None
    if medians:
        cdf = _lead_cdf(st, tr, mu, sigma, lam[..., None] * kept_u, answered)

    # --- costs and structure ----------------------------------------------------------------------------------
    cost_unit = full(p.cost_unit, (P, 1 + S))
    people_q = fte * cost_unit[:, st.pool_unit]
    local_f = np.zeros((P, F, S))
    # cast: numpy's stubs accept no slice in the index of ufunc.at (numpy itself does)
    np.add.at(local_f, cast(Any, (slice(None), st.fn_of, st.spoke_of)), per_week[:, :, 1])
    hub_f = items_q[:, :F]
    instances = np.concatenate([(hub_f > 1e-12)[..., None], local_f > 1e-12], axis=-1)
    teams = instances.sum(-1).astype(np.float64)
    spoke_teams = instances[..., 1:].sum(-1).astype(np.float64)
    if p.all_to_all:
        channels = teams * (teams - 1.0) / 2.0
    else:
        channels = np.where(teams >= 2, spoke_teams, 0.0)
    platform_f = teams * full(p.platform, (P, F))
    coordination_f = channels * full(p.coord_cost, (P,))[:, None]

    # what each function would need entirely in the hub, and what generalists' longer work costs
    hub_occ = occ[:, :F]
    hub_open = open_h[:, :F]
    total_week = per_week.sum(-1)  # (P, J)
    central_work = np.zeros((P, F))
    np.add.at(central_work, cast(Any, (slice(None), st.fn_of)), total_week * work[:, :, 0])
    central_fte = central_work / (hub_occ * np.minimum(productive, hub_open))
    extra = per_week[:, :, 1] * np.maximum(work[:, :, 1] - work[:, :, 0], 0.0)  # (P, J) extra hours in spokes
    spoke_pool = F + st.spoke_of
    extra_fte_j = extra / (occ[:, spoke_pool] * np.minimum(productive, open_h[:, spoke_pool]))
    slowdown = np.zeros((P, F))
    np.add.at(slowdown, cast(Any, (slice(None), st.fn_of)), extra_fte_j)
    err = full(p.err, (P, F, 2))[:, st.fn_of, :]  # (P, J, 2)

    return Outcome(
        items=per_week * WEEKS_PER_MONTH, answered=answered * WEEKS_PER_MONTH, lead_mean=lead_mean,
        sla_met=sla_met, wait=wait, wait_var=wait_var, ooh=np.maximum(ooh, 0.0), handoff=np.broadcast_to(tr, (P, J, 2)).copy(),
        pool_items=items_q, pool_work=work_q, fte=fte, on_duty=on_duty, occupancy=np.where(busy, occ, 0.0),
        pool_wait=pool_wait, backlog_peak=backlog.max(-1), arrivals_h=arrivals_q, backlog_h=backlog,
        wait_h=fluid_wait + c_wait / decay,
        instances=instances, channels=channels, people_cost_q=people_q, platform_cost_f=platform_f,
        coordination_cost_f=coordination_f, central_fte_f=central_fte, slowdown_fte_f=slowdown,
        noncompliant=per_week * WEEKS_PER_MONTH * err, cdf=cdf, lead_by_hour=lead_h if medians else None)


def _far_weight(mu: np.ndarray, sigma: np.ndarray, after: float) -> np.ndarray:
    """E[(S − after)⁺] for lognormal S with parameters (μ, σ)."""
    log_after = math.log(after)
    return (np.exp(mu + 0.5 * sigma * sigma) * special.ndtr((mu + sigma * sigma - log_after) / sigma)
            - after * special.ndtr((mu - log_after) / sigma))


def _calendar_table(st: Structure, unit: int, transfer: float) -> dict[str, np.ndarray]:
    """What the calendar says about an item created at each position of each hour of the week that reaches the
    team ``transfer`` hours later: its staffed time, the wait for the opening, and the closures ahead within one
    staffed week (staffed hours until each, calendar hours it lasts). Cached per unit and transfer time."""
    key = (unit, round(float(transfer), 6))
    cached = st.cache.get(key)
    if cached is not None:
        return cached
    clock = st.clocks[unit]
    created = np.arange(H, dtype=np.float64)[:, None] + _SUB[None, :]  # (H, U)
    reach = created + transfer
    y = clock.to_staffed(reach)
    at, length = st.closures[unit]
    weeks = np.floor(y / clock.open_hours)
    y_in = y - weeks * clock.open_hours  # closures repeat every week
    first = np.searchsorted(at, y_in + 1e-9)
    near = int(max(1, (at < at[0] + clock.open_hours + 1e-9).sum() + 1))
    idx = np.minimum(first[..., None] + np.arange(near), len(at) - 1)
    ahead = at[idx] - y_in[..., None]
    within = ahead < clock.open_hours  # one staffed week ahead; beyond it closures are spread evenly
    table = {"created": created, "reach": reach, "y": y, "to_open": clock.to_calendar(y + 1e-9) - reach,
             "log_ahead": np.log(np.maximum(ahead, 1e-12)), "length": np.where(within, length[idx], 0.0),
             "stretch": (H - clock.open_hours) / clock.open_hours}
    st.cache[key] = table
    return table


def _calendar(st: Structure, sla: np.ndarray, tr: np.ndarray, mean_s: np.ndarray, mu: np.ndarray,
              sigma: np.ndarray, f_w: np.ndarray, c_w: np.ndarray, k_w: np.ndarray, patience: np.ndarray, *,
              positions: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Mean lead time and share within SLA of answered items per arrival hour (P, J, 2, H), the share answered
    per hour, and (with ``positions``) per hour and position within it (P, J, 2, H, U).

    An item created at h + u (u spread over the hour) reaches the team at a = h + u + transfer and needs S staffed
    hours from there (S lognormal); it waits through every closure the team has before S staffed hours have
    passed: E[lead] = transfer + wait for the opening + E[S] + Σ length · P(S > staffed time to the closure), the
    closures beyond one staffed week spread evenly (their share of the week times E[(S − week)⁺]). An item whose
    sender gives up while it waits for a person is not answered, so each position is weighted by the share
    answered there (an item reaching the team just after it closed waits all night and mostly goes unanswered).
    """
    P, J = sla.shape
    U = len(_SUB)
    lead_h = np.empty_like(mean_s)
    sla_h = np.empty_like(mean_s)
    kept = np.ones_like(mean_s)
    kept_u = np.ones(mean_s.shape + (U,)) if positions else None
    units = st.pool_unit[st.pool_of]  # (J, 2) unit of the team working each stream
    always = np.array([c.always_open for c in st.clocks])[units]

    def answered_share(theta, wait_cal, c_, k_):
        finite = np.isfinite(theta)
        safe = np.where(finite, theta, 1.0)
        stays = np.exp(-wait_cal / safe) * ((1.0 - c_) + c_ * k_ / (k_ + 1.0 / safe))
        return np.where(finite, stays, 1.0)

    # teams open round the clock: no closures, every position within the hour alike
    jw = np.argwhere(always)
    if always.all():  # the whole organisation: no need to pick the streams out
        lead_h[:] = tr[..., None] + mean_s
        budget = sla[:, :, None, None] - tr[..., None]
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(budget, 1e-12)) - mu) / sigma
        sla_h[:] = np.where(budget > 0, special.ndtr(z), 0.0)
        if np.isfinite(patience).any():
            kept[:] = answered_share(patience[..., None, None], f_w, c_w, k_w)
            if kept_u is not None:
                kept_u[:] = kept[..., None]
        elif kept_u is not None:
            kept_u[:] = 1.0
        return lead_h, sla_h, kept, kept_u
    if len(jw):
        j, w = jw[:, 0], jw[:, 1]
        m_, s_ = mu[:, j, w, :], sigma[:, j, w, :]
        tr_jw = tr[:, j, w][..., None]
        lead_h[:, j, w, :] = tr_jw + mean_s[:, j, w, :]
        budget = sla[:, j][..., None] - tr_jw
        with np.errstate(divide="ignore"):
            z = (np.log(np.maximum(budget, 1e-12)) - m_) / s_
        sla_h[:, j, w, :] = np.where(budget > 0, special.ndtr(z), 0.0)
        theta = patience[:, j][..., None]
        if np.isfinite(theta).any():
            keep = answered_share(theta, f_w[:, j, w, :], c_w[:, j, w, :], k_w[:, j, w, :])
            kept[:, j, w] = keep
            if kept_u is not None:
                kept_u[:, j, w] = keep[..., None]

    # teams with office hours, per unit and transfer time (the calendar tables are shared by the points)
    for unit in np.unique(units[~always]):
        clock = st.clocks[int(unit)]
        pairs = np.argwhere((units == unit) & ~always)
        transfers = np.round(tr[:, pairs[:, 0], pairs[:, 1]], 6)  # (P, n)
        for t in np.unique(transfers):
            table = _calendar_table(st, int(unit), float(t))
            rows, cols = np.nonzero(transfers == t)
            for n in np.unique(cols):
                j, w = pairs[n]
                points = rows[cols == n]
                m_, s_ = mu[points, j, w, :], sigma[points, j, w, :]  # (p, H)
                z = (table["log_ahead"][None] - m_[..., None, None]) / s_[..., None, None]  # (p, H, U, K)
                crossed = (special.ndtr(-z) * table["length"][None]).sum(-1)
                far = table["stretch"] * _far_weight(m_, s_, clock.open_hours)[..., None]
                lead_u = t + mean_s[points, j, w, :, None] + table["to_open"][None] + crossed + far
                deadline = table["created"][None] + sla[points, j][:, None, None]
                budget = clock.to_staffed(deadline) - table["y"][None]
                with np.errstate(divide="ignore"):
                    zs = (np.log(np.maximum(budget, 1e-12)) - m_[..., None]) / s_[..., None]
                sla_u = np.where(budget > 0, special.ndtr(zs), 0.0)
                theta = patience[points, j][:, None, None]
                if np.isfinite(theta).any():
                    fluid = np.maximum(f_w[points, j, w, :], 1e-9)[..., None]
                    wait_cal = clock.to_calendar(table["y"][None] + fluid) - table["reach"][None]
                    keep = answered_share(theta, wait_cal, c_w[points, j, w, :, None], k_w[points, j, w, :, None])
                else:
                    keep = np.ones_like(lead_u)
                total = keep.sum(-1)
                safe_total = np.where(total > 0, total, 1.0)
                lead_h[points, j, w, :] = np.where(total > 0, (keep * lead_u).sum(-1) / safe_total, lead_u.mean(-1))
                sla_h[points, j, w, :] = np.where(total > 0, (keep * sla_u).sum(-1) / safe_total, sla_u.mean(-1))
                kept[points, j, w] = keep.mean(-1)
                if kept_u is not None:
                    kept_u[points, j, w] = keep
    return lead_h, sla_h, kept, kept_u


def _interp_rows(x: np.ndarray, grid: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Linear interpolation of ``table`` (P, Q, G) on the evenly spaced ``grid`` at ``x`` (P, Q, H), row by row."""
    step = grid[1] - grid[0]
    pos = np.clip((x - grid[0]) / step, 0.0, len(grid) - 1 - 1e-9)
    lo = pos.astype(np.int64)
    frac = pos - lo
    t_lo = np.take_along_axis(table, lo, axis=-1)
    t_hi = np.take_along_axis(table, lo + 1, axis=-1)
    return t_lo + frac * (t_hi - t_lo)


def _lead_cdf(st: Structure, tr: np.ndarray, mu: np.ndarray, sigma: np.ndarray, answered_u: np.ndarray,
              answered: np.ndarray) -> np.ndarray:
    """P(lead ≤ x) on ``_MEDIAN_GRID`` per stream and worker (P, J, 2, G), mixed over the arrival hours and
    positions within them (``answered_u``: answered items per hour and position, (P, J, 2, H, U)).

    The staffed budget of an arrival (open hours between reaching the team and x hours after creation) depends
    on the pool's calendar and the transfer only, so it is computed once per pool and transfer time.
    """
    P, J = mu.shape[:2]
    G = len(_MEDIAN_GRID)
    out = np.zeros((P, J, 2, G))
    created = np.arange(H, dtype=np.float64)[:, None] + _SUB[None, :]  # (H, U)
    weights = answered_u / np.where(answered > 0, answered, 1.0)[..., None, None] / answered_u.shape[-1]
    for q in range(st.Q):
        jw = np.argwhere(st.pool_of == q)
        if not len(jw):
            continue
        clock = st.pool_clock(q)
        for p_ in range(P):
            transfers = np.round(tr[p_, jw[:, 0], jw[:, 1]], 9)
            for t in np.unique(transfers):
                pick = jw[transfers == t]
                j, w = pick[:, 0], pick[:, 1]
                if clock.always_open:
                    budget = np.broadcast_to(_MEDIAN_GRID - t, (H, 1, G))
                else:
                    y = clock.to_staffed(created + t)[..., None]  # (H, U, 1)
                    budget = clock.to_staffed(created[..., None] + _MEDIAN_GRID) - y  # (H, U, G)
                with np.errstate(divide="ignore"):
                    log_budget = np.where(budget > 0, np.log(np.maximum(budget, 1e-300)), -np.inf)
                z = (log_budget[None] - mu[p_, j, w, :, None, None]) / sigma[p_, j, w, :, None, None]  # (n,H,U,G)
                inside = special.ndtr(z)
                if inside.shape[2] == 1:  # round the clock: every position within the hour alike
                    out[p_, j, w, :] = np.einsum("nh,nhg->ng", weights[p_, j, w].sum(-1), inside[:, :, 0])
                else:
                    out[p_, j, w, :] = np.einsum("nhu,nhug->ng", weights[p_, j, w], inside)
    return out


def median_of(cdf: np.ndarray, q: float = 0.5) -> np.ndarray:
    """The q-quantile of CDFs on ``_MEDIAN_GRID`` (last axis), interpolated linearly in probit and log hours
    (exact for a lognormal, close for mixtures of them); inf where the CDF never reaches q."""
    logx = np.log(_MEDIAN_GRID)
    eps = 1e-12
    probit = special.ndtri(np.clip(cdf, eps, 1.0 - eps))
    target = special.ndtri(q)
    above = cdf >= q
    first = np.argmax(above, axis=-1)
    reached = above.any(-1)
    i = np.clip(first, 1, len(_MEDIAN_GRID) - 1)
    lo = np.take_along_axis(probit, (i - 1)[..., None], -1)[..., 0]
    hi = np.take_along_axis(probit, i[..., None], -1)[..., 0]
    frac = np.where(hi > lo, (target - lo) / np.where(hi > lo, hi - lo, 1.0), 1.0)
    value = np.exp(logx[i - 1] + np.clip(frac, 0.0, 1.0) * (logx[i] - logx[i - 1]))
    value = np.where(first == 0, _MEDIAN_GRID[0], value)
    return np.where(reached, value, np.inf)
