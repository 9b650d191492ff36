"""Readable numbers with units: the one place every page, chart, table and export formats a figure.

One unit of measure, one look, everywhere:

==========  =========================  ======================================  =====================
unit        text (tiles, captions)     table column (st.column_config format)  plotly axis / hover
==========  =========================  ======================================  =====================
count       ``count``: 53,548          ``COUNT``: "%,d" (whole)                 ``AXIS_COUNT``
money       ``money``: €1,836,000      ``MONEY``: "€%,.0f"                      ``AXIS_MONEY``
            (``compact=True``: €1.84M)
share       ``percent``: 86.2 %        ``PERCENT``: "%.1f %%" (of value × 100)  ``AXIS_PERCENT``
points      ``points``: +3.3 pts       ``POINTS``: "%+.1f pts"
hours       ``hours``: 12 min, 3.4 h,  ``HOURS``: "%.1f h"                      ``AXIS_HOURS``
            2.1 d
FTE         ``fte``: 12.5 FTE          ``FTE``: "%.1f"
dates       ``day``: 07 Dec 2026;      ``DAY``: "D MMM YYYY"
            ``moment``: 07 Dec 2026    ``MOMENT``: "D MMM YYYY, HH:mm"
            14:05
==========  =========================  ======================================  =====================

Missing values read "no data"; signed variants (``signed_*``) carry an explicit + or −. No streamlit here: the
format strings are plain text that ``st.column_config.NumberColumn(format=...)`` and plotly understand.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

from typing_extensions import TypeIs

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}


def _missing(value: float | None) -> TypeIs[None]:
    # NaN counts as missing too; the narrowing only needs "not missing" to mean a float.
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


# --- one look per unit of measure ------------------------------------------------------------------------------

COUNT = "%,d"
MONEY = "€%,.0f"
PERCENT = "%.1f %%"
POINTS = "%+.1f pts"
HOURS = "%.1f h"
FTE = "%.1f"
DAY = "D MMM YYYY"
MOMENT = "D MMM YYYY, HH:mm"

AXIS_COUNT = dict(tickformat=",d")
AXIS_MONEY = dict(tickprefix="€", tickformat=",.0f")
AXIS_PERCENT = dict(ticksuffix=" %", tickformat=".0f")  # values already × 100
AXIS_HOURS = dict(ticksuffix=" h", tickformat=",.0f")


def count(value: float | None) -> str:
    """A number of things, whole and with separators: 53548.4 -> '53,548'."""
    if _missing(value):
        return "no data"
    return f"{round(value):,}"


def signed_count(change: float | None) -> str | None:
    if _missing(change):
        return None
    return f"{round(change) + 0:+,}"


def money(value: float | None, currency: str = "EUR", *, compact_form: bool = False) -> str:
    """Money with its symbol and separators: 1836000 -> '€1,836,000' (``compact_form``: '€1.84M')."""
    if _missing(value):
        return "no data"
    symbol = CURRENCY_SYMBOLS.get(currency, f"{currency} ")
    if not compact_form:
        value = round(value) + 0
    sign = "-" if value < 0 else ""
    body = compact(abs(value)) if compact_form else f"{round(abs(value)):,}"
    return f"{sign}{symbol}{body}"


def signed_money(change: float | None, currency: str = "EUR", *, compact_form: bool = False) -> str | None:
    if _missing(change):
        return None
    text = money(change, currency, compact_form=compact_form)
    return text if text.startswith("-") else "+" + text


def points(change: float | None) -> str | None:
    """A difference of two shares in percentage points: 0.033 -> '+3.3 pts'."""
    if _missing(change):
        return None
    return f"{round(change * 100, 1) + 0.0:+.1f} pts"


def signed_hours(change: float | None) -> str | None:
    if _missing(change):
        return None
    return f"{round(change, 1) + 0.0:+.1f} h"


def fte(value: float | None) -> str:
    if _missing(value):
        return "no data"
    return f"{value:,.1f} FTE"


def day(when, tz: str | ZoneInfo | None = None) -> str:
    """A date as people read it: '07 Dec 2026' (in ``tz`` when given a moment with a zone)."""
    ts = _moment(when, tz)
    return "no data" if ts is None else ts.strftime("%d %b %Y")


def moment(when, tz: str | ZoneInfo | None = None) -> str:
    """A moment to the minute: '07 Dec 2026 14:05' (never seconds or microseconds)."""
    ts = _moment(when, tz)
    return "no data" if ts is None else ts.strftime("%d %b %Y %H:%M")


def _moment(when, tz) -> dt.datetime | None:
    if when is None or (isinstance(when, float) and math.isnan(when)):
        return None
    if hasattr(when, "to_pydatetime"):  # pandas Timestamp (NaT has no year)
        if when != when:
            return None
        when = when.to_pydatetime()
    if isinstance(when, dt.date) and not isinstance(when, dt.datetime):
        return dt.datetime(when.year, when.month, when.day)
    if tz is not None and when.tzinfo is not None:
        return when.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)
    return when


def kpi(value: float | None, unit_of_measure: str, *, compact_form: bool = False) -> str:
    """A KPI value with the decimals fixed by its unit of measure: a count is whole ('3,497'; ``compact_form`` from
    10,000 on: '53.5k'), money has its currency ('€899,767'; ``compact_form``: '€900k'), a share one decimal
    ('3.2 %', the value already in percent), a duration as :func:`hours`; any other unit one decimal and its name."""
    if _missing(value):
        return "no data"
    if unit_of_measure in CURRENCY_SYMBOLS:
        return money(value, unit_of_measure, compact_form=compact_form)
    if unit_of_measure == "%":
        return f"{round(value, 1) + 0.0:,.1f} %"
    if unit_of_measure == "hours":
        return hours(value)
    if unit_of_measure in ("count", ""):
        return compact(round(value)) if compact_form and abs(value) >= 10_000 else count(value)
    return f"{round(value, 1) + 0.0:,.1f} {unit_of_measure}"


def signed_decimal(change: float | None, digits: int = 1) -> str | None:
    """A change of a rate with a fixed number of decimals and an explicit sign: 0.66 -> '+0.7' (never '-0.0')."""
    if _missing(change):
        return None
    return f"{round(change, digits) + 0.0:+,.{digits}f}"


def share_of(part: float | None, whole: float | None, digits: int = 1) -> str:
    """``part`` of ``whole`` as a percentage that never contradicts the counts beside it: 9 of 35,977 ->
    '< 0.1 %' (not '0.0 %'), 35,970 of 35,977 -> '> 99.9 %' (not '100.0 %'), 0 of 10 -> '0.0 %'."""
    if _missing(part) or _missing(whole) or not whole:
        return "no data"
    share, step = part / whole, 10.0 ** -digits
    if 0 < share * 100 < step / 2:
        return f"< {step:.{digits}f} %"
    if share < 1 and share * 100 > 100 - step / 2:
        return f"> {100 - step:.{digits}f} %"
    return percent(share, digits)


def csv_moment(when, tz: str | ZoneInfo) -> str:
    """A moment for a CSV export, to the second in ``tz`` as spreadsheets read it: '2026-12-07 14:05:09' (the
    column's header names the zone); '' when missing."""
    ts = _moment(when, tz)
    return "" if ts is None else ts.strftime("%Y-%m-%d %H:%M:%S")
