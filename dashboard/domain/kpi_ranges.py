"""Which values a KPI can take, read from its definition (unit of measure and target), never from its name.

Each unit of measure has a natural range, and a KPI is held to it unless its own target lies outside it:

- ``%``: a share of a whole (conversion rate, reports on time, customer satisfaction) lies in 0–100. A
  percentage whose target lies outside 0–100 (a campaign ROI aiming at 250 %, a growth target of −5 %) is a
  ratio, not a share: it can exceed 100 and fall below 0, so no range applies to it. A percentage without a
  target is taken for a share, as most are.
- money (``EUR``, ``USD``, ``GBP``), ``count`` and ``hours``: never negative, unless the KPI's target is
  negative (a result or a variance that can be a loss).
- any other unit (a score, an index): no range is known.

A percentage that is a ratio but aims inside 0–100 (a growth target of 15 %) cannot be told from a share by
its definition alone; it is read as a share.
"""

from __future__ import annotations

import math

Range = tuple[float | None, float | None]  # (lowest, highest) allowed; None: unbounded on that side

NATURAL_RANGES: dict[str, Range] = {"%": (0.0, 100.0), "EUR": (0.0, None), "USD": (0.0, None), "GBP": (0.0, None),
                                    "count": (0.0, None), "hours": (0.0, None)}


def _inside(value: float, bounds: Range) -> bool:
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def value_range(unit_of_measure: str, target: float | None) -> Range | None:
    """The values a KPI with this unit of measure and target can take; None when no range applies.

    ``value_range("%", 5)`` -> (0, 100); ``value_range("%", 250)`` -> None (a ratio such as an ROI);
    ``value_range("EUR", 1000)`` -> (0, None); ``value_range("EUR", -500)`` -> None; ``value_range("score", 7)``
    -> None.
    """
    bounds = NATURAL_RANGES.get(unit_of_measure)
    if bounds is None:
        return None
    if target is None or (isinstance(target, float) and math.isnan(target)) or _inside(float(target), bounds):
        return bounds
    return None


def is_share(unit_of_measure: str, target: float | None) -> bool:
    """A percentage that is a share of a whole (0–100), not a ratio that can pass 100 (ROI, growth)."""
    return unit_of_measure == "%" and value_range(unit_of_measure, target) is not None
