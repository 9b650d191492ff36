"""The vectorised core of the what-if model: numeric inputs as arrays in, every figure as arrays out.

Arrays have a leading *point* axis (one scenario variant per point: the trade-off sweep varies the central
share along it, the sensitivity analysis varies one input per point), then the function axis F, then the
spoke axis S. :func:`evaluate` in ``model.py`` runs one point; a 1,000-point sweep is one call with P = 1,000.

Time is calendar time in hours. An FTE supplies ``capacity`` = productive hours/working day × working
days/year ÷ 365 hours of work per calendar day, so a queue of FTEs doing items of h work hours serves
μ = capacity / (24·h) items per calendar hour per FTE; an FTE is busy with an item for 1/μ calendar hours and
the item is in progress for 1/(μ·flow efficiency) hours (people juggle several items).

Queues (one M/M/c, or Allen–Cunneen G/G/c, each):
- the hub, per function: λ = share · Σ_spokes demand, specialists (h = hours_per_item_specialist);
- each spoke, per function: λ = (1 − share) · demand of that spoke, generalists (h = hours_per_item_generalist);
- the fully-central reference, per function (share 1), used for duplication.
Each queue is staffed with the smallest c whose waiting-time service level meets the SLA target, with the
waiting budget t = SLA − service − handoffs × handoff delay; when that budget is not positive no staffing can
meet the SLA (flagged ``sla_infeasible``) and the queue is staffed to the target against t = SLA instead.
A function may fix c per unit (``fixed_fte``); a fixed c ≤ λ/μ makes the queue unstable (infinite wait).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from dashboard.whatif.inputs import ScenarioInputs
from dashboard.whatif.queueing import MIN_VARIABILITY, staff_for_sla

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.0
DAYS_PER_MONTH = 365.0 / 12.0
MONTHS_PER_YEAR = 12.0
_TAIL = 1e-9  # the median search treats waits beyond P(W > t) = 1e-9 as the end of the distribution
_GRID = 32  # median search: points per round when few rows are searched (coarser for many rows)
_PRECISION = 3e-11  # ... until the bracket is this share of its starting width


@dataclass(frozen=True)
class Params:
    """Effective numeric inputs (unit/global fallbacks resolved). Shapes (P|1, F) or (P|1, F, S)."""

    demand: np.ndarray  # (P,F,S) items per calendar day
    share: np.ndarray  # (P,F) central share 0..1
    hours_spec: np.ndarray  # (P,F) work hours per item, hub specialists
    hours_gen: np.ndarray  # (P,F) work hours per item, spoke generalists
    capacity: np.ndarray  # (P,F) work hours per FTE per calendar day
    flow: np.ndarray  # (P,F) flow efficiency: work time ÷ in-progress time (1 = no multitasking)
    crossings: np.ndarray  # (P,F) hub↔spoke handoffs per centrally handled item
    delay: np.ndarray  # (P,F) calendar hours per handoff
    sla: np.ndarray  # (P,F) SLA in calendar hours (created → resolved)
    target: np.ndarray  # (P,F) SLA target share
    ca2: np.ndarray  # (P,F) squared CV of inter-arrival times (1 = Poisson)
    cs2: np.ndarray  # (P,F) squared CV of service times (1 = exponential)
    err_spec: np.ndarray  # (P,F) share of specialist-handled items that are non-compliant
    err_gen: np.ndarray  # (P,F) same for generalists
    cost_hub: np.ndarray  # (P,F) cost per hub FTE per year
    cost_spoke: np.ndarray  # (P,F,S) cost per spoke FTE per year
    platform: np.ndarray  # (P,F) cost per platform instance per year
    coord_cost: np.ndarray  # (P,) cost per coordination channel per year
    fixed_hub: np.ndarray  # (F,) fixed hub servers, NaN = staffed to the SLA
    fixed_spoke: np.ndarray  # (F,S) fixed spoke servers, NaN = staffed to the SLA

    @property
    def points(self) -> int:
        return max(getattr(self, f.name).shape[0] for f in fields(self) if f.name not in ("fixed_hub", "fixed_spoke"))

    def repeat(self, points: int) -> Params:
        """Materialised copies with ``points`` rows, ready to be varied row by row."""
        changes = {}
        for f in fields(self):
            if f.name in ("fixed_hub", "fixed_spoke"):
                continue
            value = getattr(self, f.name)
            changes[f.name] = np.repeat(value[:1], points, axis=0) if value.shape[0] == 1 else value.copy()
        return replace(self, **changes)

    @classmethod
    def from_inputs(cls, inputs: ScenarioInputs) -> Params:
        g = inputs.globals
        spokes = inputs.spoke_ids
        fns = list(inputs.functions.values())
        hub_cost = inputs.hub.fte_cost or g.fte_cost
        spoke_cost = np.array([s.fte_cost or g.fte_cost for s in inputs.spokes])

        def col(values: list[float]) -> np.ndarray:
            return np.asarray(values, dtype=np.float64)[None, :]

        def cv2(value: float | None) -> float:
            return 1.0 if value is None else value * value

        capacity = [(f.productive_hours_per_day or g.productive_hours_per_day) * g.working_days_per_year / DAYS_PER_YEAR
                    for f in fns]
        hourly = g.fte_cost / (g.productive_hours_per_day * g.working_days_per_year)
        return cls(
            demand=np.array([[f.demand_per_day.get(s, 0.0) for s in spokes] for f in fns], dtype=np.float64)[None],
            share=col([f.central_share for f in fns]),
            hours_spec=col([f.hours_per_item_specialist for f in fns]),
            hours_gen=col([f.hours_per_item_generalist for f in fns]),
            capacity=col(capacity),
            flow=col([1.0 if f.flow_efficiency is None else f.flow_efficiency for f in fns]),
            crossings=col([f.boundary_crossings for f in fns]),
            delay=col([g.handoff_delay_hours if f.handoff_delay_hours is None else f.handoff_delay_hours for f in fns]),
            sla=col([f.sla_hours for f in fns]),
            target=col([f.sla_target for f in fns]),
            ca2=col([cv2(f.ca) for f in fns]),
            cs2=col([cv2(f.cs) for f in fns]),
            err_spec=col([f.error_rate_specialist for f in fns]),
            err_gen=col([f.error_rate_generalist for f in fns]),
            cost_hub=col([f.fte_cost or hub_cost for f in fns]),
            cost_spoke=np.array([[f.fte_cost or c for c in spoke_cost] for f in fns], dtype=np.float64)[None],
            platform=col([g.platform_cost if f.platform_cost is None else f.platform_cost for f in fns]),
            coord_cost=np.array([g.coordination_hours_per_channel_month * MONTHS_PER_YEAR * hourly]),
            fixed_hub=np.array([f.fixed_fte.get(inputs.hub.id, np.nan) for f in fns], dtype=np.float64),
            fixed_spoke=np.array([[f.fixed_fte.get(s, np.nan) for s in spokes] for f in fns], dtype=np.float64),
        )


@dataclass(frozen=True)
class Queues:
    """Per-queue results; every array has the queue shape ((P,F) for the hub, (P,F,S) for spokes)."""

    arrival: np.ndarray  # items per calendar hour
    service_h: np.ndarray  # in-progress (elapsed) time per item, hours: work time ÷ flow efficiency
    fixed_h: np.ndarray  # service + handoff delays, hours (lead time without queueing)
    servers: np.ndarray  # FTE (int): the fixed staff where given, else the staff the SLA needs
    servers_for_sla: np.ndarray  # FTE (int) the SLA needs, whatever is fixed
    p_wait: np.ndarray  # Erlang C
    wait_h: np.ndarray  # mean queueing wait, hours (inf when unstable)
    lead_h: np.ndarray  # mean lead time of an item through this queue, hours
    decay: np.ndarray  # rate of the exponential waiting-time tail, per hour
    sla_met: np.ndarray  # P(lead time ≤ SLA) of an item through this queue
    utilisation: np.ndarray  # λ/(cμ); inf when demand meets no staff
    stable: np.ndarray  # bool
    sla_infeasible: np.ndarray  # bool: service + handoffs alone exceed the SLA


@dataclass(frozen=True)
class Outcome:
    """Every figure of P scenario variants. Per-function arrays (P,F), per-function-and-spoke (P,F,S)."""

    params: Params
    hub: Queues
    spoke: Queues
    central_fte: np.ndarray  # (P,F) FTE the function needs when fully central
    items_fs: np.ndarray  # (P,F,S) items per month
    central_items_fs: np.ndarray  # (P,F,S) items per month handled by the hub
    lead_fs: np.ndarray  # (P,F,S) mean lead time, hours
    sla_met_fs: np.ndarray  # (P,F,S) share of items within SLA
    breach_fs: np.ndarray  # (P,F,S) bool: SLA attainment below target
    handoffs_fs: np.ndarray  # (P,F,S) hub↔spoke handoffs per month
    noncompliant_fs: np.ndarray  # (P,F,S) expected non-compliant items per month
    people_hub: np.ndarray  # (P,F) cost per year
    people_spoke: np.ndarray  # (P,F,S)
    platform_hub: np.ndarray  # (P,F)
    platform_spoke: np.ndarray  # (P,F,S)
    instances: np.ndarray  # (P,F) platform instances = teams doing the function
    channels: np.ndarray  # (P,F) coordination channels n(n−1)/2
    coordination: np.ndarray  # (P,F) coordination cost per year
    duplication_fte: np.ndarray  # (P,F)
    duplication_platforms: np.ndarray  # (P,F)
    duplication_cost: np.ndarray  # (P,F)

    # --- aggregates ------------------------------------------------------------------------------------------

    @property
    def fte_f(self) -> np.ndarray:
        return self.hub.servers + self.spoke.servers.sum(-1)

    @property
    def people_f(self) -> np.ndarray:
        return self.people_hub + self.people_spoke.sum(-1)

    @property
    def platform_f(self) -> np.ndarray:
        return self.platform_hub + self.platform_spoke.sum(-1)

    @property
    def cost_f(self) -> np.ndarray:
        return self.people_f + self.platform_f + self.coordination

    def lead_mean(self, axis: tuple[int, ...]) -> np.ndarray:
        """Item-weighted mean lead time over ``axis`` (of the (P,F,S) arrays); 0 where there are no items."""
        return _weighted_mean(self.lead_fs, self.items_fs, axis)

    def sla_met_share(self, axis: tuple[int, ...]) -> np.ndarray:
        return _weighted_mean(self.sla_met_fs, self.items_fs, axis, empty=1.0)

    def _mixture(self, groups: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """The item mix as mixture components for the median search.

        Components (last axis, W = F + F·S) are the queues: the F hub queues, then the F·S spoke queues, with
        their offset (in-progress + handoffs), p_wait, tail decay and stability, shape (P, 1, W). Rows pick
        which items count: the weight (P, R, W) of row "total" is every item, of row f in "function" the items
        of function f, of row s in "spoke" the items of spoke s (through the hub or locally).
        """
        p = self.params
        P, F = self.hub.servers.shape
        S = p.demand.shape[-1]
        share = np.broadcast_to(p.share, (P, F))[..., None]
        via_hub = share * p.demand  # (P,F,S) items/day of each spoke through the hub queue
        local = (1.0 - share) * p.demand  # (P,F,S) items/day handled in the spoke
        rows = []
        if "total" in groups:
            rows.append(np.concatenate([via_hub.sum(-1), local.reshape(P, F * S)], axis=-1)[:, None, :])
        if "function" in groups:
            eye = np.eye(F)
            rows.append(np.concatenate([eye[None] * via_hub.sum(-1)[:, :, None],
                                        (eye[None, :, :, None] * local[:, None]).reshape(P, F, F * S)], axis=-1))
        if "spoke" in groups:
            eye = np.eye(S)
            rows.append(np.concatenate([np.moveaxis(via_hub, 2, 1),
                                        (eye[None, :, None, :] * local[:, None]).reshape(P, S, F * S)], axis=-1))
        weight = np.concatenate(rows, axis=1)

        def per_queue(name: str) -> np.ndarray:
            return np.concatenate([getattr(self.hub, name), getattr(self.spoke, name).reshape(P, F * S)],
                                  axis=-1)[:, None, :]

        return weight, per_queue("fixed_h"), per_queue("p_wait"), per_queue("decay"), per_queue("stable")

    def lead_median(self, by: str = "total") -> np.ndarray:
        """Median lead time of the item mix: ``by`` = "total" → (P,), "function" → (P,F), "spoke" → (P,S)."""
        if by not in ("total", "function", "spoke"):
            raise ValueError(f"by must be total, function or spoke, got {by!r}")
        median = mixture_quantile(*self._mixture((by,)), 0.5)
        return median[:, 0] if by == "total" else median

    def lead_medians(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(total (P,), per function (P,F), per spoke (P,S)) medians in one vectorised search."""
        median = mixture_quantile(*self._mixture(("total", "function", "spoke")), 0.5)
        F = self.hub.servers.shape[1]
        return median[:, 0], median[:, 1:1 + F], median[:, 1 + F:]


def _safe_product(weight: np.ndarray, value: np.ndarray) -> np.ndarray:
    """weight·value with 0 where weight is 0 (so an unused queue's infinite wait never turns into NaN)."""
    return np.where(weight > 0, weight * np.where(weight > 0, value, 0.0), 0.0)


def _weighted_mean(value: np.ndarray, weight: np.ndarray, axis: tuple[int, ...], empty: float = 0.0) -> np.ndarray:
    total = weight.sum(axis=axis)
    num = _safe_product(weight, value).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, num / np.where(total > 0, total, 1.0), empty)


def mixture_quantile(weight: np.ndarray, offset: np.ndarray, p_wait: np.ndarray, decay: np.ndarray,
                     stable: np.ndarray, q: float) -> np.ndarray:
    """q-quantile of a mixture of lead-time distributions, one per component on the last axis.

    Component j: lead = offset_j + Wq_j with P(Wq_j > t) = p_wait_j·exp(−decay_j·t) (an atom of 1 − p_wait at
    no wait); an unstable component never finishes. The CDF is evaluated on a grid of points across a bracket
    [earliest offset, where every stable tail has ended], which shrinks to the grid cell where the CDF reaches q
    until it is ``_PRECISION`` of its starting width; vectorised over the leading axes. Returns ``inf`` where
    more than 1 − q of the weight is unstable, 0 where there is no weight.
    """
    used = weight > 0
    total = weight.sum(-1)
    stable = stable.astype(bool) & used
    big = np.finfo(np.float64).max
    lo = np.where(used, offset, big).min(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(stable & (p_wait > 0), np.log(np.maximum(p_wait, 1e-300) / _TAIL) / decay, 0.0)
    hi = np.where(stable, offset + np.maximum(tail, 0.0), -big).max(-1)
    hi = np.maximum(hi, lo)
    # per component, with a grid axis before the component axis
    share = (np.where(stable, weight, 0.0) / np.where(total > 0, total, 1.0)[..., None])[..., None, :]
    c = np.where(stable, p_wait, 0.0)[..., None, :]
    k = np.where(stable, decay, 0.0)[..., None, :]
    a = offset[..., None, :]

    def cdf(t: np.ndarray) -> np.ndarray:  # t: (..., G) → CDF at each point
        dt = t[..., None] - a
        started = dt >= 0
        np.maximum(dt, 0.0, out=dt)
        np.multiply(dt, -k, out=dt)
        np.exp(dt, out=dt)
        np.multiply(dt, c, out=dt)
        np.subtract(1.0, dt, out=dt)
        dt *= share
        dt *= started
        return dt.sum(-1)

    # few rows: a fine grid needs few rounds (numpy overhead dominates); many rows: a coarse grid does less work
    grid_points = _GRID if weight.size <= 4096 else 4
    rounds = math.ceil(math.log(1.0 / _PRECISION) / math.log(grid_points))
    fractions = np.arange(1, grid_points + 1) / grid_points
    with np.errstate(over="ignore", invalid="ignore"):
        reachable = cdf(hi[..., None])[..., 0] >= q - 1e-12
        lo = np.where(reachable, lo, 0.0)
        hi = np.where(reachable, hi, 0.0)
        for _ in range(rounds):
            grid = lo[..., None] + (hi - lo)[..., None] * fractions
            first = np.minimum((cdf(grid) < q).sum(-1), grid_points - 1)  # first point with CDF ≥ q (CDF rises)
            new_hi = np.take_along_axis(grid, first[..., None], -1)[..., 0]
            lo = np.where(first > 0, np.take_along_axis(grid, np.maximum(first - 1, 0)[..., None], -1)[..., 0], lo)
            hi = new_hi
    return np.where(total <= 0, 0.0, np.where(reachable, hi, np.inf))


def _queues(lam: np.ndarray, mu: np.ndarray, fixed_h: np.ndarray, sla: np.ndarray, servers: np.ndarray,
            p_wait: np.ndarray, factor: np.ndarray, in_progress_h: np.ndarray, needed: np.ndarray) -> Queues:
    budget = sla - fixed_h
    with np.errstate(divide="ignore", invalid="ignore"):
        capacity = servers * mu
        stable = (lam == 0) | (capacity > lam)
        decay = np.where(stable, (capacity - lam) / factor, 0.0)
        wait = np.where(lam == 0, 0.0, np.where(stable, p_wait / np.where(decay > 0, decay, 1.0), np.inf))
        util = np.where(servers > 0, lam / np.where(servers > 0, capacity, 1.0), np.where(lam > 0, np.inf, 0.0))
        met = np.where(stable & (budget >= 0), 1.0 - p_wait * np.exp(-decay * np.maximum(budget, 0.0)), 0.0)
    return Queues(arrival=lam, service_h=in_progress_h, fixed_h=fixed_h, servers=servers, servers_for_sla=needed,
                  p_wait=np.where(stable, p_wait, 1.0),
                  wait_h=wait, lead_h=wait + fixed_h, decay=decay, sla_met=met, utilisation=util, stable=stable,
                  sla_infeasible=budget <= 0)


def compute(p: Params) -> Outcome:
    """Every figure for every point of ``p`` (see the module docstring for the model)."""
    P = p.points
    F, S = p.demand.shape[1:]
    shape_f, shape_fs = (P, F), (P, F, S)

    def bf(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, shape_f)

    def on_spokes(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x[..., None], shape_fs)

    demand = np.broadcast_to(p.demand, shape_fs)
    share = bf(p.share)
    factor = np.maximum((bf(p.ca2) + bf(p.cs2)) / 2.0, MIN_VARIABILITY)  # Allen–Cunneen (ca² + cs²)/2
    total_demand = demand.sum(-1)

    mu_hub = bf(p.capacity) / (HOURS_PER_DAY * bf(p.hours_spec))
    mu_spk = np.broadcast_to((bf(p.capacity) / (HOURS_PER_DAY * bf(p.hours_gen)))[..., None], shape_fs)
    lam_hub = share * total_demand / HOURS_PER_DAY
    lam_spk = (1.0 - share)[..., None] * demand / HOURS_PER_DAY
    lam_full = total_demand / HOURS_PER_DAY
    flow = bf(p.flow)
    fixed_hub = 1.0 / (mu_hub * flow) + bf(p.crossings) * bf(p.delay)
    fixed_spk = 1.0 / (mu_spk * on_spokes(flow))
    sla = bf(p.sla)
    sla_s = np.broadcast_to(sla[..., None], shape_fs)

    def wait_budget(fixed_h: np.ndarray, sla_h: np.ndarray) -> np.ndarray:
        budget = sla_h - fixed_h
        return np.where(budget > 0, budget, sla_h)  # infeasible SLA: staff against the SLA as a waiting target

    # one staffing pass for all queues: hub (P,F), spokes (P,F,S), fully-central reference (P,F), and — only when
    # some staff is fixed — hub and spokes again staffed to the SLA, for the "FTE needed" figures
    hub_queue = (lam_hub, mu_hub, wait_budget(fixed_hub, sla), bf(p.target), factor)
    spoke_queue = (lam_spk, mu_spk, wait_budget(fixed_spk, sla_s), on_spokes(bf(p.target)), on_spokes(factor))
    pieces = [
        (*hub_queue, np.broadcast_to(p.fixed_hub, shape_f)),
        (*spoke_queue, np.broadcast_to(p.fixed_spoke, shape_fs)),
        (lam_full, mu_hub, wait_budget(fixed_hub, sla), bf(p.target), factor, np.full(shape_f, np.nan)),
    ]
    any_fixed = bool(np.isfinite(p.fixed_hub).any() or np.isfinite(p.fixed_spoke).any())
    if any_fixed:
        pieces += [(*hub_queue, np.full(shape_f, np.nan)), (*spoke_queue, np.full(shape_fs, np.nan))]
    flat = [np.concatenate([np.ravel(piece[i]) for piece in pieces]) for i in range(6)]
    servers, p_wait = staff_for_sla(*flat[:5], fixed_servers=flat[5])
    bounds = np.cumsum([0] + [np.size(piece[0]) for piece in pieces])
    sv = [servers[bounds[i]:bounds[i + 1]] for i in range(len(pieces))]
    pw = [p_wait[bounds[i]:bounds[i + 1]] for i in range(len(pieces))]
    needed_hub, needed_spk = (sv[3], sv[4]) if any_fixed else (sv[0], sv[1])

    hub = _queues(lam_hub, mu_hub, fixed_hub, sla, sv[0].reshape(shape_f), pw[0].reshape(shape_f), factor,
                  1.0 / (mu_hub * flow), needed_hub.reshape(shape_f))
    spoke = _queues(lam_spk, mu_spk, fixed_spk, sla_s, sv[1].reshape(shape_fs), pw[1].reshape(shape_fs),
                    on_spokes(factor), fixed_spk, needed_spk.reshape(shape_fs))
    central_fte = sv[2].reshape(shape_f)

    # items, lead time and SLA per function and spoke (hub items of a spoke share the hub queue's figures)
    items = demand * DAYS_PER_MONTH
    central_items = share[..., None] * items
    local_items = items - central_items
    lead = (_safe_product(central_items, on_spokes(hub.lead_h)) + _safe_product(local_items, spoke.lead_h))
    sla_met = central_items * on_spokes(hub.sla_met) + local_items * spoke.sla_met
    with np.errstate(invalid="ignore", divide="ignore"):
        lead = np.where(items > 0, lead / np.where(items > 0, items, 1.0), 0.0)
        sla_met = np.where(items > 0, sla_met / np.where(items > 0, items, 1.0), 1.0)
    breach = (items > 0) & (sla_met < on_spokes(bf(p.target)) - 1e-9)
    handoffs = central_items * on_spokes(bf(p.crossings))
    noncompliant = central_items * on_spokes(bf(p.err_spec)) + local_items * on_spokes(bf(p.err_gen))

    # cost per year
    people_hub = hub.servers * bf(p.cost_hub)
    people_spoke = spoke.servers * np.broadcast_to(p.cost_spoke, shape_fs)
    platform = bf(p.platform)
    hub_instance = (lam_hub > 0).astype(np.float64)
    spoke_instances = (lam_spk > 0).astype(np.float64)
    platform_hub = hub_instance * platform
    platform_spoke = spoke_instances * platform[..., None]
    instances = hub_instance + spoke_instances.sum(-1)
    channels = instances * (instances - 1.0) / 2.0
    coordination = channels * np.broadcast_to(p.coord_cost, (P,))[:, None]

    fte = hub.servers + spoke.servers.sum(-1)
    central_instance = (lam_full > 0).astype(np.float64)
    central_cost = central_fte * bf(p.cost_hub) + central_instance * platform
    duplication_fte = np.maximum(fte - central_fte, 0).astype(np.float64)
    duplication_platforms = np.maximum(instances - central_instance, 0.0)
    duplication_cost = np.maximum(people_hub + people_spoke.sum(-1) + platform_hub + platform_spoke.sum(-1)
                                  - central_cost, 0.0)

    return Outcome(params=p, hub=hub, spoke=spoke, central_fte=central_fte, items_fs=items,
                   central_items_fs=central_items, lead_fs=lead, sla_met_fs=sla_met, breach_fs=breach,
                   handoffs_fs=handoffs, noncompliant_fs=noncompliant, people_hub=people_hub,
                   people_spoke=people_spoke, platform_hub=platform_hub, platform_spoke=platform_spoke,
                   instances=instances, channels=channels, coordination=coordination,
                   duplication_fte=duplication_fte, duplication_platforms=duplication_platforms,
                   duplication_cost=duplication_cost)
