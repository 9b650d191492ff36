"""What-if engine: pure computations with absolute targets (see docs/benchmarks.md).

Figures:
- whatif scenario recompute: ``evaluate`` of the demo organisation's calibrated as-is (make-run size: 150,000 work
  items over 90 days, five spokes, 18 streams of work, office hours read from the data); target <= 50 ms.
- whatif 1000-point sweep: ``tradeoff_curve`` over the central share of all functions, 1,000 points, same
  organisation; target <= 1,000 ms. The same sweep of Northwind (teams with office hours and weekends, whose
  calendar arithmetic is heavier) is reported for context.
- whatif as-is max error vs observed: the largest relative error of a spoke's median or mean lead time, and of its
  share within SLA in points, between the calibrated as-is and what was observed, over three demo organisations
  (other seeds, sizes and history lengths) and Northwind (tests/orgsim.py, an organisation that is not the demo,
  with office hours); target <= 10 % and <= 5 points.
- whatif analytic vs simulation max error: the same per-spoke difference between the analytic model and the SimPy
  simulation of 60 days (a month of the smaller spokes' items leaves simulated medians a few per cent apart
  from one seed to the next), over the demo's as-is and its Centralised, Decentralised and Hybrid presets;
  target <= 10 % and <= 5 points.
- whatif simulate 30 days of the demo: seconds; target <= 10 s.
- erlang_c c=10000: one Erlang C evaluation for 10,000 servers at 95 % utilisation; target <= 1 ms.
"""

from __future__ import annotations

import datetime as dt
import time

from bench.common import Figure, best_of

NOW = dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC)
DEMOS = ((7, 150_000, 90), (11, 60_000, 45), (21, 30_000, 20))


def _demo_as_is(seed: int, items: int, days: int):
    import pandas as pd

    from dashboard.whatif.calibration import calibrate
    from loaders import demo

    data = demo.generate(seed=seed, now=NOW, work_items=items, days=days)
    return calibrate(data.work_items, pd.DataFrame(data.units), now=NOW)


def _northwind():
    from dashboard.whatif.calibration import calibrate
    from tests import orgsim

    units, items = orgsim.generate()
    return calibrate(items, units.drop(columns=["office_hours"]), now=dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC))


def run() -> list[Figure]:
    from dashboard.whatif.analysis import tradeoff_curve
    from dashboard.whatif.model import evaluate, presets
    from dashboard.whatif.queueing import erlang_c
    from dashboard.whatif.simulation import compare, max_difference, simulate

    calibrations = {f"demo seed {s}, {n:,} items, {d} days": _demo_as_is(s, n, d) for s, n, d in DEMOS}
    calibrations["Northwind (office hours)"] = _northwind()
    inputs = calibrations["demo seed 7, 150,000 items, 90 days"].inputs
    figures = []

    t = best_of(lambda: evaluate(inputs), repeat=15, warmup=2)
    figures.append(Figure("whatif scenario recompute (demo as-is)", t * 1000, "ms", None, "<= 50 ms", t <= 0.050))

    t = best_of(lambda: tradeoff_curve(inputs, points=1000), repeat=5, warmup=1)
    figures.append(Figure("whatif 1000-point sweep (demo as-is)", t * 1000, "ms", None, "<= 1000 ms", t <= 1.0))
    northwind = calibrations["Northwind (office hours)"].inputs
    t = best_of(lambda: tradeoff_curve(northwind, points=1000), repeat=2, warmup=1)
    figures.append(Figure("whatif 1000-point sweep (Northwind, office hours and weekends; context)", t * 1000, "ms",
                          None, "- (context)", True))

    worst = max((c.max_error, name) for name, c in calibrations.items())
    worst_sla = max((c.max_sla_points, name) for name, c in calibrations.items())
    figures.append(Figure(f"whatif as-is max error vs observed, lead time (worst: {worst[1]}; "
                          f"{len(calibrations)} organisations)", worst[0] * 100, "%", None, "<= 10 %", worst[0] <= 0.10))
    figures.append(Figure(f"whatif as-is max error vs observed, share within SLA (worst: {worst_sla[1]})",
                          worst_sla[0], "points", None, "<= 5 points", worst_sla[0] <= 5.0))

    started = time.perf_counter()
    month = simulate(inputs, days=30, seed=1)
    seconds = time.perf_counter() - started
    figures.append(Figure(f"whatif simulate 30 days of the demo (as-is, {len(month.items):,} items)", seconds, "s", None,
                          "<= 10 s", seconds <= 10.0))
    lead, sla = [], []
    for name, scenario in presets(inputs).items():
        worst_lead, worst_points = max_difference(compare(scenario, simulate(scenario, days=60, seed=1)))
        lead.append((worst_lead, name))
        sla.append((worst_points, name))
    top, top_sla = max(lead), max(sla)
    figures.append(Figure(f"whatif analytic vs simulation max difference, lead time (demo, 60 days, as-is + 3 presets; "
                          f"worst: {top[1]})", top[0] * 100, "%", None, "<= 10 %", top[0] <= 0.10))
    figures.append(Figure(f"whatif analytic vs simulation max difference, share within SLA (worst: {top_sla[1]})",
                          top_sla[0], "points", None, "<= 5 points", top_sla[0] <= 5.0))

    t = best_of(lambda: erlang_c(9_500.0, 10_000), repeat=25, warmup=3)
    figures.append(Figure("erlang_c c=10000", t * 1000, "ms", None, "<= 1 ms", t <= 0.001))
    return figures
