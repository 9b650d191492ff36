"""Queueing formulas: the reference table, Erlang C at scale, and invariants checked against independent oracles."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from dashboard.whatif.queueing import (
    allen_cunneen,
    erlang_b,
    erlang_c,
    erlang_c_array,
    ggc,
    min_servers_for_sla,
    mmc,
    mmc_array,
    service_level,
    staff_for_sla,
)

REL = 1e-4
rates = st.floats(min_value=0.01, max_value=50.0, allow_nan=False, allow_infinity=False)
service_rates = st.floats(min_value=0.05, max_value=20.0, allow_nan=False, allow_infinity=False)
servers = st.integers(min_value=1, max_value=40)


def erlang_c_exact(traffic: Fraction, c: int) -> float:
    """Erlang C from its textbook closed form in exact rational arithmetic (an oracle independent of the recursion)."""
    top = traffic**c / math.factorial(c) * Fraction(c) / (c - traffic)
    bottom = sum(traffic**k / math.factorial(k) for k in range(c)) + top
    return float(top / bottom)


def birth_death_lengths(lam: float, mu: float, c: int) -> tuple[float, float]:
    """(L, Lq) summed over the M/M/c stationary distribution p_n ∝ A^n/n! (n ≤ c), p_c·ρ^(n−c) beyond."""
    a, rho = lam / mu, lam / (c * mu)
    n_max = c + int(60 / max(1e-12, -math.log(rho))) + 10  # tail beyond n_max is below e^-60
    n = np.arange(n_max + 1)
    log_p = np.where(n <= c, n * math.log(a) - np.array([math.lgamma(k + 1) for k in n]),
                     c * math.log(a) - math.lgamma(c + 1) + (n - c) * math.log(rho))
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    return float((n * p).sum()), float((np.maximum(n - c, 0) * p).sum())


# --- textbook reference values: M/M/1, M/M/2 at light and heavy load -----------------------------------------


def test_mm1_reference_values():
    q = mmc(2, 3, 1)
    assert q.utilisation == pytest.approx(2 / 3, rel=REL)
    assert q.wq == pytest.approx(0.666667, rel=REL)
    assert q.w == pytest.approx(1.0, rel=REL)
    assert q.l == pytest.approx(2.0, rel=REL)
    assert q.lq == pytest.approx(1.333333, rel=REL)
    assert q.stable


def test_mm2_light_load_reference_values():
    q = mmc(2, 3, 2)
    assert q.p_wait == pytest.approx(1 / 6, rel=REL)
    assert erlang_c(2 / 3, 2) == pytest.approx(0.166667, rel=REL)
    assert q.wq == pytest.approx(0.041667, rel=REL)
    assert q.w == pytest.approx(0.375, rel=REL)


def test_mm2_heavy_load_reference_values():
    q = mmc(5, 3, 2)
    assert q.wq == pytest.approx(0.757576, rel=REL)
    assert q.w == pytest.approx(1.090909, rel=REL)


def test_saturated_queue_is_flagged_unstable_with_unbounded_wait_never_nan():
    q = mmc(3, 3, 1)
    assert q.utilisation == pytest.approx(1.0)
    assert not q.stable
    assert q.p_wait == 1.0
    for value in (q.wq, q.w, q.lq, q.l):
        assert math.isinf(value) and value > 0
    assert service_level(3, 3, 1, 1.0) == 0.0
    assert erlang_c(1.0, 1) == 1.0


def test_overloaded_queue_is_unstable_too():
    q = mmc(10, 3, 2)
    assert not q.stable and q.utilisation > 1 and math.isinf(q.wq)
    assert math.isinf(allen_cunneen(10, 3, 2, 0.5, 0.5))


# --- Erlang B / C --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("traffic", [1.0, 100.0, 5_000.0, 9_000.0, 9_900.0, 9_999.5])
def test_erlang_c_for_ten_thousand_servers_is_a_finite_probability(traffic):
    value = erlang_c(traffic, 10_000)
    assert math.isfinite(value) and 0.0 <= value <= 1.0


@pytest.mark.parametrize("servers, utilisation", [(601, 0.001), (601, 0.9), (1_000, 0.5), (1_000, 0.99),
                                                   (3_000, 0.95), (3_000, 0.9999), (10_000, 0.95), (10_000, 0.9999)])
def test_erlang_c_for_many_servers_matches_the_plain_recursion(servers, utilisation):
    # erlang_c sums a window of the unrolled recursion in log space for large c; erlang_c_array always runs the
    # step-by-step recursion, so the two must agree
    traffic = utilisation * servers
    fast, plain = erlang_c(traffic, servers), float(erlang_c_array(traffic, servers))
    assert fast == pytest.approx(plain, rel=1e-9, abs=1e-300)


def test_erlang_c_rises_with_load_at_ten_thousand_servers():
    values = [erlang_c(load, 10_000) for load in (9_000.0, 9_500.0, 9_900.0, 9_990.0)]
    assert values == sorted(values) and values[0] > 0 and values[-1] < 1


@given(a_num=st.integers(min_value=1, max_value=400), c=st.integers(min_value=1, max_value=30))
@settings(max_examples=60, deadline=None)
def test_erlang_c_matches_the_closed_form(a_num, c):
    traffic = Fraction(a_num, 20)
    assume(traffic < c)
    assert erlang_c(float(traffic), c) == pytest.approx(erlang_c_exact(traffic, c), rel=1e-9)


def test_erlang_b_recursion_matches_known_values():
    assert erlang_b(1.0, 1) == pytest.approx(0.5)
    assert erlang_b(2.0, 2) == pytest.approx(0.4)  # (4/2) / (1 + 2 + 2)
    assert erlang_b(0.0, 3) == 0.0


def test_erlang_c_is_one_when_load_reaches_capacity_and_zero_without_load():
    assert erlang_c(5.0, 5) == 1.0
    assert erlang_c(7.5, 5) == 1.0
    assert erlang_c(0.0, 5) == 0.0


def test_vectorised_erlang_c_agrees_with_the_scalar_function():
    traffic = np.array([0.0, 0.5, 2 / 3, 5 / 3, 3.0, 80.0, 250.0])
    c = np.array([1, 1, 2, 2, 2, 90, 700])
    expected = [erlang_c(float(a), int(k)) for a, k in zip(traffic, c)]
    assert erlang_c_array(traffic, c) == pytest.approx(expected, rel=1e-9)


# --- invariants ------------------------------------------------------------------------------------------------


@given(lam=rates, mu=service_rates, c=servers)
@settings(max_examples=80, deadline=None)
def test_littles_law_holds_against_the_stationary_distribution(lam, mu, c):
    rho = lam / (c * mu)
    assume(0.01 < rho < 0.97)
    q = mmc(lam, mu, c)
    length, queue_length = birth_death_lengths(lam, mu, c)
    assert q.l == pytest.approx(length, rel=1e-7)
    assert q.lq == pytest.approx(queue_length, rel=1e-6, abs=1e-12)
    assert q.l == pytest.approx(lam * q.w, rel=1e-12)


@given(l1=rates, l2=rates, mu=service_rates, c1=servers, c2=servers)
@settings(max_examples=150, deadline=None)
def test_pooling_never_waits_longer_than_split_queues(l1, l2, mu, c1, c2):
    pooled = mmc(l1 + l2, mu, c1 + c2)
    a, b = mmc(l1, mu, c1), mmc(l2, mu, c2)
    split = math.inf if not (a.stable and b.stable) else (l1 * a.wq + l2 * b.wq) / (l1 + l2)
    assert pooled.wq <= split * (1 + 1e-9) + 1e-15
    if a.stable and b.stable:
        assert pooled.stable


@given(mu=service_rates, c=servers)
@settings(max_examples=50, deadline=None)
def test_wait_grows_without_bound_as_utilisation_approaches_one(mu, c):
    waits = [mmc(rho * c * mu, mu, c).wq for rho in (0.5, 0.9, 0.99, 0.999, 0.9999, 1 - 1e-7)]
    assert all(later > earlier for earlier, later in zip(waits, waits[1:]))
    assert waits[-1] > 1e5 / mu  # a hundred thousand service times
    assert math.isinf(mmc(c * mu, mu, c).wq)


@given(lam=rates, mu=service_rates, c=servers, k=st.floats(min_value=1e-3, max_value=1e3),
       t=st.floats(min_value=0.0, max_value=10.0))
@example(lam=0.010000000000000002, mu=0.05, c=1, k=1.5, t=0.0)  # one server at exactly the 80 % target
@settings(max_examples=80, deadline=None)
def test_changing_the_time_unit_changes_nothing(lam, mu, c, k, t):
    # rates per hour → per (hour/k): every rate times k, every time divided by k, probabilities unchanged
    base, scaled = mmc(lam, mu, c), mmc(lam * k, mu * k, c)
    assert scaled.utilisation == pytest.approx(base.utilisation, rel=1e-12)
    assert scaled.p_wait == pytest.approx(base.p_wait, rel=1e-9)
    assert scaled.lq == pytest.approx(base.lq, rel=1e-9)
    if base.stable:
        assert scaled.wq * k == pytest.approx(base.wq, rel=1e-9)
        assert scaled.w * k == pytest.approx(base.w, rel=1e-9)
        assert service_level(lam * k, mu * k, c, t / k) == pytest.approx(service_level(lam, mu, c, t), rel=1e-9)
        assert min_servers_for_sla(lam * k, mu * k, t / k, 0.8) == min_servers_for_sla(lam, mu, t, 0.8)


# --- service level, staffing, Allen–Cunneen ------------------------------------------------------------------------


def test_service_level_starts_at_the_share_not_waiting_and_rises_to_one():
    lam, mu, c = 5.0, 3.0, 2
    assert service_level(lam, mu, c, 0.0) == pytest.approx(1 - erlang_c(lam / mu, c))
    levels = [service_level(lam, mu, c, t) for t in (0.0, 0.1, 0.5, 2.0, 20.0)]
    assert levels == sorted(levels) and levels[-1] == pytest.approx(1.0, abs=1e-8)
    assert service_level(2, 3, 2, 0.2) == pytest.approx(1 - (1 / 6) * math.exp(-4 * 0.2), rel=1e-12)


@given(lam=rates, mu=service_rates, t=st.floats(min_value=0.0, max_value=5.0),
       level=st.floats(min_value=0.05, max_value=0.99))
@settings(max_examples=80, deadline=None)
def test_min_servers_is_the_smallest_staffing_meeting_the_level(lam, mu, t, level):
    c = min_servers_for_sla(lam, mu, t, level)
    assert c > lam / mu
    assert service_level(lam, mu, c, t) >= level
    if c > 1:
        assert service_level(lam, mu, c - 1, t) < level


@given(lam=st.lists(st.floats(min_value=0.01, max_value=20.0), min_size=1, max_size=8),
       mu=st.floats(min_value=0.2, max_value=20.0), t=st.floats(min_value=0.0, max_value=5.0),
       level=st.floats(min_value=0.05, max_value=0.99), ca=st.floats(min_value=0.2, max_value=3.0))
@settings(max_examples=50, deadline=None)
def test_vectorised_staffing_agrees_with_the_scalar_search(lam, mu, t, level, ca):
    lam_arr = np.array(lam)
    servers_found, p_wait = staff_for_sla(lam_arr, mu, t, level, factor=(ca * ca + 1.0) / 2.0)
    for rate, c, pw in zip(lam, servers_found, p_wait):
        assert c == min_servers_for_sla(rate, mu, t, level, ca2=ca * ca, cs2=1.0)
        assert pw == pytest.approx(erlang_c(rate / mu, int(c)), rel=1e-9)


def test_fixed_staffing_is_kept_and_overload_reported_as_certain_wait():
    c, p_wait = staff_for_sla(np.array([2.0, 5.0, 0.0]), 3.0, 0.1, 0.8, fixed_servers=np.array([2, 1, np.nan]))
    assert c.tolist() == [2, 1, 0]
    assert p_wait[0] == pytest.approx(1 / 6) and p_wait[1] == 1.0 and p_wait[2] == 0.0


def test_no_arrivals_need_no_servers():
    assert min_servers_for_sla(0.0, 3.0, 1.0, 0.9) == 0


def test_allen_cunneen_scales_the_mmc_wait_by_the_variability_factor():
    base = mmc(5, 3, 2).wq
    assert allen_cunneen(5, 3, 2, 1.0, 1.0) == pytest.approx(base, rel=1e-12)
    assert allen_cunneen(5, 3, 2, 1.0, 0.0) == pytest.approx(base / 2, rel=1e-12)  # M/D/c-like
    assert allen_cunneen(5, 3, 2, 2.0, 3.0) == pytest.approx(base * 2.5, rel=1e-12)
    g = ggc(5, 3, 2, 2.0, 3.0)
    assert g.lq == pytest.approx(5 * g.wq) and g.variability == 2.5


def test_burstier_arrivals_need_more_staff():
    calm = min_servers_for_sla(20, 1, 0.5, 0.9, ca2=0.5)
    bursty = min_servers_for_sla(20, 1, 0.5, 0.9, ca2=4.0)
    assert bursty > calm


def test_array_metrics_match_scalar_metrics_including_unstable_queues():
    lam, mu, c = np.array([2.0, 2.0, 5.0, 3.0, 0.0]), np.array([3.0, 3.0, 3.0, 3.0, 3.0]), np.array([1, 2, 2, 1, 1])
    arr = mmc_array(lam, mu, c)
    for i in range(len(lam)):
        q = mmc(float(lam[i]), float(mu[i]), int(c[i]))
        assert bool(arr.stable[i]) == q.stable
        for name in ("utilisation", "p_wait", "wq", "w", "lq", "l"):
            assert getattr(arr, name)[i] == pytest.approx(getattr(q, name), rel=1e-12)
    assert not np.isnan(np.stack([arr.wq, arr.w, arr.lq, arr.l])).any()


# --- bad arguments -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call, words", [
    (lambda: mmc(-1, 3, 1), "arrival_rate"),
    (lambda: mmc(1, 0, 1), "service_rate"),
    (lambda: mmc(1, -2, 1), "service_rate"),
    (lambda: mmc(1, 3, 0), "servers"),
    (lambda: mmc(1, 3, 2.5), "servers"),
    (lambda: mmc(float("nan"), 3, 1), "arrival_rate"),
    (lambda: erlang_c(-0.1, 2), "traffic"),
    (lambda: service_level(1, 3, 1, -1.0), "target_wait"),
    (lambda: min_servers_for_sla(1, 3, 1.0, 1.0), "target_level"),
    (lambda: allen_cunneen(1, 3, 1, -1.0, 1.0), "ca2"),
])
def test_bad_arguments_are_refused_with_a_message_naming_them(call, words):
    with pytest.raises((ValueError, TypeError), match=words):
        call()


def test_whole_float_server_counts_are_accepted():
    assert mmc(2, 3, 2.0) == mmc(2, 3, 2)
