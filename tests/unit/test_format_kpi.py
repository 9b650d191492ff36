"""A KPI value's decimals follow its unit of measure (dashboard.domain.format.kpi), and rate changes carry a sign."""

from __future__ import annotations

import math

import pytest

from dashboard.domain import format as fmt


@pytest.mark.parametrize("value, unit, kwargs, text", [
    (13.3, "count", {}, "13"),                       # a count is whole, whatever the aggregation left
    (3497.4, "count", {}, "3,497"),
    (53548.414, "count", {"compact_form": True}, "53.5k"),
    (3497.4, "count", {"compact_form": True}, "3,497"),
    (899767.391, "EUR", {}, "€899,767"),
    (899767.391, "EUR", {"compact_form": True}, "€900k"),
    (3.248, "%", {}, "3.2 %"),
    (-0.04, "%", {}, "0.0 %"),
    (657.56, "%", {}, "657.6 %"),
    (3.019, "hours", {}, "3.0 h"),
    (35.541, "visits", {}, "35.5 visits"),
    (None, "count", {}, "no data"),
    (math.nan, "EUR", {}, "no data"),
])
def test_kpi_values_have_fixed_decimals_per_unit(value, unit, kwargs, text):
    assert fmt.kpi(value, unit, **kwargs) == text


@pytest.mark.parametrize("value, text", [(0.66, "+0.7"), (-2.46, "-2.5"), (-0.01, "+0.0"), (1234.5, "+1,234.5"),
                                         (None, None)])
def test_signed_decimal(value, text):
    assert fmt.signed_decimal(value) == text
