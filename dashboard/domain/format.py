"""Readable numbers with units, shared by charts, tiles and tables."""

from __future__ import annotations

import math

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def compact(value: float | None, digits: int = 3) -> str:
    """1234 -> '1.23k', 2500000 -> '2.5M'; 'no data' for missing values."""
    if _missing(value):
        return "no data"
    if math.isinf(value):
        return "∞"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= limit:
            return f"{sign}{v / limit:.{digits}g}{suffix}"
    if v == int(v):
        return f"{sign}{int(v):,}"
    return f"{sign}{v:.{digits}g}"


def hours(value: float | None) -> str:
    """Durations given in hours, shown in the unit a reader expects: '12 min', '3.4 h', '2.1 d'."""
    if _missing(value):
        return "no data"
    if math.isinf(value):
        return "unbounded"
    if value < 1:
        return f"{value * 60:.0f} min"
    if value < 48:
        return f"{value:.1f} h"
    return f"{value / 24:.1f} d"


def percent(share: float | None, digits: int = 0) -> str:
    if _missing(share):
        return "no data"
    return f"{share * 100:.{digits}f} %"


def signed_percent(change: float | None) -> str | None:
    if _missing(change):
        return None
    return f"{change * 100:+.1f} %"


def measure(value: float | None, unit_of_measure: str) -> str:
    """A KPI value in its unit of measure: '€1.2M', '4.5 %', '3.2 h', '1,234'."""
    if _missing(value):
        return "no data"
    if unit_of_measure in CURRENCY_SYMBOLS:
        return f"{CURRENCY_SYMBOLS[unit_of_measure]}{compact(value)}"
    if unit_of_measure == "%":
        return f"{value:.1f} %"
    if unit_of_measure == "hours":
        return hours(value)
    if unit_of_measure in ("count", ""):
        return compact(value)
    return f"{compact(value)} {unit_of_measure}"
