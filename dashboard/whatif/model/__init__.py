"""The what-if model: evaluate an operating model, build the presets, compare scenarios.

    inputs = default_inputs(["sales", "finance", "customer_service", "product", "hr"])
    result = evaluate(inputs)
    result.totals.total_cost, result.functions, result.spokes, result.streams, result.pools, result.flags

Formulas, units and sources are in ``docs/whatif.md``; the computation is in ``engine.py``.
Tables are pandas DataFrames without NaN.
"""

from __future__ import annotations

from dashboard.whatif.model.comparisons import (
    HIGHER_IS_BETTER,
    PRESET_LABELS,
    PRESETS,
    TOTAL_LABELS,
    compare,
    compare_models,
    presets,
    spoke_delta,
    totals_delta,
)
from dashboard.whatif.model.result import WORKERS, ScenarioResult, Totals, evaluate
from dashboard.whatif.model.staffing import sla_staffing

__all__ = [
    "HIGHER_IS_BETTER", "PRESETS", "PRESET_LABELS", "TOTAL_LABELS", "WORKERS", "ScenarioResult", "Totals", "compare",
    "compare_models", "evaluate", "presets", "sla_staffing", "spoke_delta", "totals_delta",
]
