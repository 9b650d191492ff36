"""Queueing formulas for the what-if engine: Erlang B/C, M/M/c, Allen–Cunneen G/G/c, service level, staffing.

All functions take rates in one time unit chosen by the caller (items per hour, per day, ...) and return times
in that unit. Notation:

- λ arrival rate, μ service rate of one server, c number of servers;
- A = λ/μ offered load (Erlangs), ρ = A/c utilisation;
- Erlang B by the recursion B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1)), evaluated as its reciprocal
  1/B(k) = 1 + (k/A)·(1/B(k−1)), which only adds and multiplies positive numbers (no cancellation) and never
  forms A^c or c! (Jagerman 1974);
- Erlang C (probability that an arrival waits) C = B / (1 − ρ(1 − B)) = 1 / ((1 − ρ)/B + ρ), 1 when ρ ≥ 1;
- M/M/c: Wq = C / (cμ − λ), W = Wq + 1/μ, and Little's law Lq = λ·Wq, L = λ·W;
- service level (share served within a waiting time t): SL(t) = 1 − C·exp(−(cμ − λ)·t);
- Allen–Cunneen G/G/c: Wq ≈ Wq(M/M/c)·(ca² + cs²)/2 with ca, cs the coefficients of variation of the
  inter-arrival and service times (Allen 1990, §6; Hopp & Spearman, *Factory Physics*, eq. 8.11).

Sources: A. K. Erlang (1917); D. L. Jagerman, "Some properties of the Erlang loss function", Bell System
Technical Journal 53 (1974); A. O. Allen, *Probability, Statistics and Queueing Theory* (2nd ed., 1990);
L. Kleinrock, *Queueing Systems* Vol. 1 (1975); J. D. C. Little, Operations Research 9 (1961).

Unstable systems (ρ ≥ 1) are never reported with negative or NaN numbers: waits and queue lengths are
``math.inf``, ``p_wait`` is 1, the service level is 0 and ``stable`` is False.

The scalar functions are the readable reference; the ``*_array`` functions and :func:`staff_for_sla` evaluate
the same recursion for numpy arrays of queues at once (the trade-off sweep and sensitivity use them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

# Up to this many servers the reciprocal recursion runs as a plain loop (about 40 ns per step); beyond it the
# same recursion, unrolled into a sum, is evaluated in log space with numpy over the terms that matter
# (a window of about 24·√A terms: some 50 µs for c = 10,000).
_LOOP_MAX_SERVERS = 600
# Staffing searches stop here rather than loop for ever on absurd inputs.
MAX_SERVERS = 1_000_000
# Allen–Cunneen variability factors below this are treated as this (deterministic queues hardly wait).
MIN_VARIABILITY = 1e-9
# A service level within this of its target meets it: the same staffing problem in other time units (hours or
# minutes) rounds differently in the last bits, and a level exactly at the target must not flip the answer.
LEVEL_TOLERANCE = 1e-12


# --- argument checks ---------------------------------------------------------------------------------------


def _rate(value: float, name: str, *, allow_zero: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise ValueError(f"{name} must be {bound}, got {value}")
    return value


def _servers(value: int, name: str = "servers") -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a whole number of servers, got {value!r}")
    if isinstance(value, Real) and not isinstance(value, Integral):
        if not float(value).is_integer():
            raise ValueError(f"{name} must be a whole number of servers, got {value}")
        value = int(value)
    if not isinstance(value, Integral):
        raise TypeError(f"{name} must be a whole number of servers, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}")
    return int(value)


def _variability(ca2: float, cs2: float) -> float:
    """Allen–Cunneen factor (ca² + cs²)/2 from squared coefficients of variation."""
    ca2 = _rate(ca2, "ca2 (squared CV of inter-arrival times)", allow_zero=True)
    cs2 = _rate(cs2, "cs2 (squared CV of service times)", allow_zero=True)
    return max((ca2 + cs2) / 2.0, MIN_VARIABILITY)


# --- Erlang B and C ----------------------------------------------------------------------------------------


def _inverse_erlang_b_log(traffic: float, servers: int) -> float:
    """log(1/B(c)) for traffic A > 0: the reciprocal recursion unrolled and summed in log space.

    1/B(c) = Σ_{j=0..c} t_j with t_0 = 1 and t_{j+1} = t_j·(c − j)/A. The terms rise while (c − j) > A and
    fall after, like a Gaussian of width √A around the peak, so only the window of ±(12√A + 32) terms around
    it matters (the rest are below e⁻⁷⁰ of the peak). log t at the window's start comes from
    log t_j = ln c! − ln (c − j)! − j·ln A (``math.lgamma``); the window is then a cumulative sum of logs.
    """
    peak = min(servers, math.floor(servers - traffic) + 1) if traffic < servers else 0
    half = int(12.0 * math.sqrt(traffic)) + 32
    first, last = max(0, peak - half), min(servers, peak + half)
    log_first = math.lgamma(servers + 1) - math.lgamma(servers - first + 1) - first * math.log(traffic)
    steps = np.log((servers - np.arange(first, last, dtype=np.float64)) / traffic)  # log t_{j+1} − log t_j
    log_terms = np.empty(last - first + 1)
    log_terms[0] = log_first
    np.cumsum(steps, out=log_terms[1:])
    log_terms[1:] += log_first
    top = log_terms.max()
    return float(top + math.log(np.exp(log_terms - top).sum()))


def _inverse_erlang_b(traffic: float, servers: int) -> float:
    """1/B(c) for traffic A > 0 (may be ``inf`` when B underflows; that means B = 0 to double precision)."""
    if servers <= _LOOP_MAX_SERVERS:
        inv = 1.0
        for k in range(1, servers + 1):
            inv = 1.0 + inv * k / traffic  # 1/B(k) = 1 + (k/A)·(1/B(k−1)); overflow gives inf, which is right
        return inv
    log_inv = _inverse_erlang_b_log(traffic, servers)
    return math.exp(log_inv) if log_inv < 709.0 else math.inf


def erlang_b(traffic: float, servers: int) -> float:
    """Erlang B: probability that an arrival finds all ``servers`` busy in a loss system with load ``traffic``.

    B(0) = 1, B(k) = A·B(k−1)/(k + A·B(k−1)); computed as 1/B(k) = 1 + (k/A)/B(k−1). Stable for any c.
    """
    traffic = _rate(traffic, "traffic", allow_zero=True)
    servers = _servers(servers)
    if traffic == 0:
        return 0.0
    return 1.0 / _inverse_erlang_b(traffic, servers)


def erlang_c(traffic: float, servers: int) -> float:
    """Erlang C: probability that an arrival has to wait in an M/M/c queue with offered load ``traffic`` = λ/μ.

    C = B / (1 − ρ(1 − B)) with B the Erlang B value and ρ = A/c, written as 1 / ((1 − ρ)/B + ρ) so a B that
    underflows to 0 gives C = 0 instead of 0/0. Returns 1.0 when ρ ≥ 1 (every arrival waits, for ever).
    Works for c up to at least 10,000 without overflow.
    """
    traffic = _rate(traffic, "traffic", allow_zero=True)
    servers = _servers(servers)
    if traffic == 0:
        return 0.0
    rho = traffic / servers
    if rho >= 1.0:
        return 1.0
    inv_b = _inverse_erlang_b(traffic, servers)
    return 1.0 / ((1.0 - rho) * inv_b + rho)


# --- M/M/c and G/G/c ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueMetrics:
    """Steady-state figures of one multi-server queue; times in the caller's unit, lengths in items.

    ``utilisation`` is the offered utilisation ρ = λ/(cμ); ρ ≥ 1 means the queue is unstable (``stable`` is
    False, waits and lengths are ``math.inf``, ``p_wait`` is 1).
    """

    arrival_rate: float
    service_rate: float
    servers: int
    traffic: float  # offered load A = λ/μ in Erlangs
    utilisation: float  # ρ = A/c
    p_wait: float  # Erlang C: probability an arrival waits
    wq: float  # mean wait in queue
    w: float  # mean time in system (wait + service)
    lq: float  # mean number waiting (Little: λ·Wq)
    l: float  # noqa: E741 - mean number in system (Little: λ·W)
    stable: bool
    variability: float = 1.0  # Allen–Cunneen factor (ca² + cs²)/2; 1 for M/M/c


def _metrics(arrival_rate: float, service_rate: float, servers: int, factor: float) -> QueueMetrics:
    traffic = arrival_rate / service_rate
    rho = traffic / servers
    headroom = servers * service_rate - arrival_rate  # cμ − λ; tested too, as rounding can leave ρ < 1 with 0 here
    if rho >= 1.0 or headroom <= 0.0:
        inf = math.inf
        lq = inf if arrival_rate > 0 else 0.0
        return QueueMetrics(arrival_rate, service_rate, servers, traffic, rho, 1.0, inf, inf, lq, lq, False, factor)
    p_wait = erlang_c(traffic, servers)
    wq = factor * p_wait / headroom
    w = wq + 1.0 / service_rate
    return QueueMetrics(arrival_rate, service_rate, servers, traffic, rho, p_wait, wq, w,
                        arrival_rate * wq, arrival_rate * w, True, factor)


def mmc(arrival_rate: float, service_rate: float, servers: int) -> QueueMetrics:
    """M/M/c queue: Poisson arrivals at ``arrival_rate``, exponential service at ``service_rate`` per server.

    Wq = C(A, c)/(cμ − λ), W = Wq + 1/μ, Lq = λ·Wq, L = λ·W (Little's law).
    """
    arrival_rate = _rate(arrival_rate, "arrival_rate", allow_zero=True)
    service_rate = _rate(service_rate, "service_rate", allow_zero=False)
    return _metrics(arrival_rate, service_rate, _servers(servers), 1.0)


def ggc(arrival_rate: float, service_rate: float, servers: int, ca2: float = 1.0, cs2: float = 1.0) -> QueueMetrics:
    """G/G/c queue by the Allen–Cunneen approximation: the M/M/c wait scaled by (ca² + cs²)/2.

    ``ca2`` and ``cs2`` are the *squared* coefficients of variation of inter-arrival and service times
    (1 and 1 give back M/M/c exactly). ``p_wait`` stays the Erlang C value of the M/M/c approximation.
    """
    arrival_rate = _rate(arrival_rate, "arrival_rate", allow_zero=True)
    service_rate = _rate(service_rate, "service_rate", allow_zero=False)
    return _metrics(arrival_rate, service_rate, _servers(servers), _variability(ca2, cs2))


def allen_cunneen(arrival_rate: float, service_rate: float, servers: int, ca2: float, cs2: float) -> float:
    """Mean wait in queue of a G/G/c queue: Wq ≈ Wq(M/M/c)·(ca² + cs²)/2 (``math.inf`` when ρ ≥ 1)."""
    return ggc(arrival_rate, service_rate, servers, ca2, cs2).wq


def service_level(arrival_rate: float, service_rate: float, servers: int, target_wait: float,
                  *, ca2: float = 1.0, cs2: float = 1.0) -> float:
    """Share of arrivals that wait at most ``target_wait``: SL = 1 − C·exp(−(cμ − λ)·t); 0.0 when unstable.

    With ``ca2``/``cs2`` the conditional wait keeps its exponential shape but its mean is scaled like the
    Allen–Cunneen Wq: SL ≈ 1 − C·exp(−(cμ − λ)·t / ((ca² + cs²)/2)).
    """
    arrival_rate = _rate(arrival_rate, "arrival_rate", allow_zero=True)
    service_rate = _rate(service_rate, "service_rate", allow_zero=False)
    servers = _servers(servers)
    target_wait = _rate(target_wait, "target_wait", allow_zero=True)
    factor = _variability(ca2, cs2)
    if arrival_rate == 0:
        return 1.0
    traffic = arrival_rate / service_rate
    headroom = servers * service_rate - arrival_rate
    if traffic >= servers or headroom <= 0.0:
        return 0.0
    p_wait = erlang_c(traffic, servers)
    return 1.0 - p_wait * math.exp(-headroom * target_wait / factor)


def min_servers_for_sla(arrival_rate: float, service_rate: float, target_wait: float, target_level: float,
                        *, ca2: float = 1.0, cs2: float = 1.0, max_servers: int = MAX_SERVERS) -> int:
    """Smallest number of servers c with service level SL(target_wait) ≥ ``target_level`` (0 when λ = 0).

    Walks c upwards from 1 with the Erlang B recursion, so each step costs O(1); only stable c (c > A) can
    qualify. ``target_level`` must be below 1: a 100 % service level needs infinitely many servers.
    """
    arrival_rate = _rate(arrival_rate, "arrival_rate", allow_zero=True)
    service_rate = _rate(service_rate, "service_rate", allow_zero=False)
    target_wait = _rate(target_wait, "target_wait", allow_zero=True)
    target_level = float(target_level)
    if not 0.0 <= target_level < 1.0:
        raise ValueError(f"target_level must be in [0, 1), got {target_level}; a 100 % level needs infinite staff")
    factor = _variability(ca2, cs2)
    if arrival_rate == 0:
        return 0
    traffic = arrival_rate / service_rate
    inv_b = 1.0
    for k in range(1, max_servers + 1):
        inv_b = 1.0 + inv_b * k / traffic
        headroom = k * service_rate - arrival_rate
        if k > traffic and headroom > 0.0:
            rho = traffic / k
            p_wait = 1.0 / ((1.0 - rho) * inv_b + rho)
            level = 1.0 - p_wait * math.exp(-headroom * target_wait / factor)
            if level >= target_level - LEVEL_TOLERANCE:
                return k
    raise ValueError(f"no staffing up to {max_servers} servers reaches a service level of {target_level}")


# --- vectorised variants -----------------------------------------------------------------------------------


def _as_float_array(values: object, name: str, *, allow_zero: bool) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers")
    if np.any(arr < 0) or (not allow_zero and np.any(arr == 0)):
        raise ValueError(f"{name} must be {'zero or more' if allow_zero else 'greater than zero'}")
    return arr


def erlang_c_array(traffic: object, servers: object) -> np.ndarray:
    """Erlang C for arrays of offered loads and server counts (broadcast together); 1 where ρ ≥ 1.

    Runs the reciprocal Erlang B recursion once for all elements, up to the largest c, capturing each
    element's value at its own c. Elements with zero traffic get 0.
    """
    a = _as_float_array(traffic, "traffic", allow_zero=True)
    c = np.asarray(servers)
    if not np.issubdtype(c.dtype, np.integer):
        if not np.all(np.isfinite(c)) or not np.all(np.mod(c, 1) == 0):
            raise ValueError("servers must be whole numbers")
        c = c.astype(np.int64)
    if np.any(c < 1):
        raise ValueError("servers must be at least 1")
    a, c = np.broadcast_arrays(a, c)
    out = np.where(a >= c, 1.0, 0.0)
    todo = np.flatnonzero(((a > 0) & (a < c)).ravel())
    if todo.size == 0:
        return out
    a_t, c_t = a.ravel()[todo], c.ravel()[todo]
    inv = np.ones(todo.size)
    flat = out.ravel()
    with np.errstate(over="ignore"):
        for k in range(1, int(c_t.max()) + 1):
            inv = 1.0 + inv * (k / a_t)
            done = c_t == k
            if done.any():
                rho = a_t[done] / k
                flat[todo[done]] = 1.0 / ((1.0 - rho) * inv[done] + rho)
                keep = ~done
                todo, a_t, c_t, inv = todo[keep], a_t[keep], c_t[keep], inv[keep]
                if todo.size == 0:
                    break
    return flat.reshape(out.shape)


def erlang_c_fractional(traffic: object, servers: object) -> np.ndarray:
    """Erlang C for a fractional number of servers, continuous in both arguments (arrays, broadcast together).

    Between whole numbers the probability of waiting is interpolated linearly: C(A, c + f) = (1 − f)·C(A, c)
    + f·C(A, c + 1), with C = 1 where A ≥ c (so it never exceeds 1 and falls as servers are added). Below one
    server, a fraction s of a server is one server working at speed s: C = min(1, A / s). Zero traffic gives 0.
    """
    a = np.asarray(traffic, dtype=np.float64)
    s = np.asarray(servers, dtype=np.float64)
    a, s = np.broadcast_arrays(a, s)
    out = np.where(a > 0, 1.0, 0.0)
    small = (s > 0) & (s < 1) & (a > 0)
    out = np.where(small, np.minimum(1.0, a / np.where(small, s, 1.0)), out)
    big = (s >= 1) & (a > 0) & (a < s)
    if big.any():
        a_b, s_b = a[big], s[big]
        whole = np.floor(s_b)
        frac = s_b - whole
        lower = np.where(a_b < whole, erlang_c_array(np.minimum(a_b, whole), whole), 1.0)
        upper = erlang_c_array(np.minimum(a_b, whole + 1), whole + 1)
        out = out.copy()
        out[big] = (1.0 - frac) * lower + frac * upper
    return out


@dataclass(frozen=True)
class QueueArrays:
    """:class:`QueueMetrics` for arrays of queues (numpy arrays of one broadcast shape)."""

    utilisation: np.ndarray
    p_wait: np.ndarray
    wq: np.ndarray
    w: np.ndarray
    lq: np.ndarray
    l: np.ndarray  # noqa: E741
    stable: np.ndarray


def mmc_array(arrival_rate: object, service_rate: object, servers: object,
              ca2: object = 1.0, cs2: object = 1.0) -> QueueArrays:
    """M/M/c (or Allen–Cunneen G/G/c when ``ca2``/``cs2`` are given) for arrays of queues."""
    lam = _as_float_array(arrival_rate, "arrival_rate", allow_zero=True)
    mu = _as_float_array(service_rate, "service_rate", allow_zero=False)
    factor = np.maximum((_as_float_array(ca2, "ca2", allow_zero=True) + _as_float_array(cs2, "cs2", allow_zero=True))
                        / 2.0, MIN_VARIABILITY)
    lam, mu, c, factor = np.broadcast_arrays(lam, mu, np.asarray(servers), factor)
    traffic = lam / mu
    rho = traffic / c
    stable = (rho < 1.0) & (c * mu - lam > 0.0)
    p_wait = np.where(stable, erlang_c_array(traffic, c), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        wq = np.where(stable, factor * p_wait / np.where(stable, c * mu - lam, 1.0), np.inf)
    w = wq + 1.0 / mu
    # λ = 0 queues are always stable with finite waits, so these products are never inf·0
    lq = lam * wq
    l_sys = lam * w
    return QueueArrays(rho, p_wait, wq, w, lq, l_sys, stable)


def staff_for_sla(arrival_rate: np.ndarray, service_rate: np.ndarray, target_wait: np.ndarray,
                  target_level: np.ndarray, factor: np.ndarray | float = 1.0,
                  fixed_servers: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Servers and Erlang C for many queues at once: the smallest c meeting the service level, or a fixed c.

    For each element, c is ``fixed_servers`` where that is finite (NaN means "staff to the SLA"), otherwise
    the smallest c with 1 − C·exp(−(cμ − λ)·t/f) ≥ ``target_level``, f being the Allen–Cunneen factor
    (ca² + cs²)/2. Queues with λ = 0 get c = 0 (unless fixed) and C = 0. A fixed c that cannot carry the
    load (c ≤ A) gets C = 1: the caller reports it as unstable.

    One pass of the reciprocal Erlang B recursion k = 1, 2, ... serves all queues; a queue leaves the pass
    when its c is found, so the cost is O(max c) vector steps over a shrinking set.
    Returns ``(servers as int64, p_wait)`` in the broadcast shape of the inputs.
    """
    lam, mu, t, target, fac = np.broadcast_arrays(
        np.asarray(arrival_rate, dtype=np.float64), np.asarray(service_rate, dtype=np.float64),
        np.asarray(target_wait, dtype=np.float64), np.asarray(target_level, dtype=np.float64),
        np.maximum(np.asarray(factor, dtype=np.float64), MIN_VARIABILITY))
    shape = lam.shape
    lam, mu, t, target, fac = (x.ravel() for x in (lam, mu, t, target, fac))
    fixed = (np.full(lam.size, np.nan) if fixed_servers is None
             else np.broadcast_to(np.asarray(fixed_servers, dtype=np.float64), shape).ravel())
    if np.any(mu <= 0) or np.any(lam < 0):
        raise ValueError("service rates must be > 0 and arrival rates >= 0")
    if np.any(target >= 1.0):
        raise ValueError("target service levels must be below 1")
    servers = np.zeros(lam.size, dtype=np.int64)
    p_wait = np.zeros(lam.size)
    is_fixed = np.isfinite(fixed)
    servers[is_fixed] = fixed[is_fixed].astype(np.int64)
    traffic = np.divide(lam, mu)
    # fixed staffing that cannot carry the load: unstable, everyone waits
    overloaded = is_fixed & (lam > 0) & ((servers <= traffic) | (servers * mu - lam <= 0.0))
    p_wait[overloaded] = 1.0
    todo = np.flatnonzero((lam > 0) & ~overloaded)
    if todo.size == 0:
        return servers.reshape(shape), p_wait.reshape(shape)
    a, m, lt, tw, tg, f, fx = (x[todo] for x in (traffic, mu, lam, t, target, fac, fixed))
    inv = np.ones(todo.size)
    k = 0
    with np.errstate(over="ignore"):
        while todo.size:
            k += 1
            if k > MAX_SERVERS:
                raise ValueError(f"no staffing up to {MAX_SERVERS} servers meets the service level")
            inv = 1.0 + inv * (k / a)
            headroom = k * m - lt
            stable = (k > a) & (headroom > 0.0)
            rho = a / k
            c_k = np.where(stable, 1.0 / ((1.0 - rho) * inv + rho), 1.0)
            level = 1.0 - c_k * np.exp(-headroom * tw / f)
            hit = np.where(np.isnan(fx), stable & (level >= tg - LEVEL_TOLERANCE), fx == k)
            if hit.any():
                servers[todo[hit]] = k
                p_wait[todo[hit]] = c_k[hit]
                keep = ~hit
                todo, a, m, lt, tw, tg, f, fx, inv = (x[keep] for x in (todo, a, m, lt, tw, tg, f, fx, inv))
    return servers.reshape(shape), p_wait.reshape(shape)
