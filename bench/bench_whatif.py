"""What-if engine: pure computations with absolute targets (see ../shared/BENCHMARKS.md, issue 4).

Figures:
- whatif scenario recompute: ``evaluate`` of a realistic organisation (5 spokes, 6 functions, a hybrid split,
  Allen–Cunneen variability on two functions); target <= 50 ms.
- whatif 1000-point sweep: ``tradeoff_curve`` over the central share of all functions, 1,000 points;
  target <= 1,000 ms.
- erlang_c c=10000: one Erlang C evaluation for 10,000 servers at 95 % utilisation; target <= 1 ms.
"""

from __future__ import annotations

from bench.common import Figure, best_of

SPOKES = (("sales", "Sales"), ("finance", "Finance"), ("customer_service", "Customer service"),
          ("product", "Product"), ("hr", "HR"))


def realistic_inputs():
    """The demo organisation's shape: a hub and five spokes of different size, six functions, mixed placements."""
    from dashboard.whatif.inputs import UnitInputs, default_inputs

    inputs = default_inputs(SPOKES, demand_scale={"sales": 2.0, "finance": 0.6, "customer_service": 1.8,
                                                  "product": 1.0, "hr": 0.3})
    inputs = inputs.model_copy(update={
        "hub": UnitInputs(id="hub", name="Digital analytics & marketing hub", fte_cost=86_000),
        "spokes": tuple(UnitInputs(id=s.id, name=s.name, fte_cost=c)
                        for s, c in zip(inputs.spokes, (72_000, 78_000, 52_000, 92_000, 66_000), strict=True)),
    })
    return (inputs
            .with_shares({"content_production": 1.0, "analytics_reporting": 1.0, "campaign_planning": 0.6,
                          "social_listening": 0.3, "crm_lead_management": 0.5, "martech_platforms": 1.0})
            .with_function("social_listening", ca=1.6, cs=1.1)
            .with_function("crm_lead_management", ca=1.3))


def run() -> list[Figure]:
    from dashboard.whatif.analysis import tradeoff_curve
    from dashboard.whatif.model import evaluate
    from dashboard.whatif.queueing import erlang_c

    inputs = realistic_inputs()
    figures = []

    t = best_of(lambda: evaluate(inputs), repeat=15, warmup=2)
    figures.append(Figure("whatif scenario recompute", t * 1000, "ms", None, "<= 50 ms", t <= 0.050))

    t = best_of(lambda: tradeoff_curve(inputs, points=1000), repeat=5, warmup=1)
    figures.append(Figure("whatif 1000-point sweep", t * 1000, "ms", None, "<= 1000 ms", t <= 1.0))

    t = best_of(lambda: erlang_c(9_500.0, 10_000), repeat=25, warmup=3)
    figures.append(Figure("erlang_c c=10000", t * 1000, "ms", None, "<= 1 ms", t <= 0.001))
    return figures
