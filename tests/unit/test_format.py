"""One look per unit of measure (dashboard.domain.format): whole counts, money with separators and a currency,
fixed decimals, no "-0.0", dates without seconds."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from dashboard.domain import format as fmt


@pytest.mark.parametrize("value, text", [
    (53548.414, "53,548"), (0.4, "0"), (-2.6, "-3"), (1_000_000, "1,000,000"), (None, "no data"), (math.nan, "no data"),
])
def test_counts_are_whole_with_separators(value, text):
    assert fmt.count(value) == text


@pytest.mark.parametrize("value, kwargs, text", [
    (1836000, {}, "€1,836,000"), (50701.4, {}, "€50,701"), (-1234.6, {}, "-€1,235"), (-0.4, {}, "€0"),
    (1836000, {"compact_form": True}, "€1.84M"), (1200, {"currency": "USD"}, "$1,200"),
    (1200, {"currency": "CHF"}, "CHF 1,200"), (None, {}, "no data"),
])
def test_money_has_a_currency_and_separators(value, kwargs, text):
    assert fmt.money(value, **kwargs) == text


def test_signed_figures_carry_their_sign_and_never_show_minus_zero():
    assert fmt.signed_money(-0.3) == "+€0"
    assert fmt.signed_money(2500) == "+€2,500"
    assert fmt.signed_money(-2500) == "-€2,500"
    assert fmt.points(-0.0004) == "+0.0 pts"
    assert fmt.points(-0.033) == "-3.3 pts"
    assert fmt.signed_hours(-0.01) == "+0.0 h"
    assert fmt.signed_count(-0.3) == "+0"
    assert fmt.signed_count(12.6) == "+13"
    assert fmt.points(None) is None and fmt.signed_money(None) is None


def test_shares_hours_and_fte_have_fixed_decimals():
    assert fmt.percent(0.8623, 1) == "86.2 %"
    assert fmt.hours(0.5) == "30 min" and fmt.hours(3.44) == "3.4 h" and fmt.hours(50) == "2.1 d"
    assert fmt.fte(12.345) == "12.3 FTE"


def test_dates_read_as_days_and_minutes_in_the_given_zone():
    late = pd.Timestamp("2026-12-07 23:30:12.123456", tz="UTC")
    assert fmt.day(late, "Europe/Berlin") == "08 Dec 2026"
    assert fmt.moment(late, "UTC") == "07 Dec 2026 23:30"
    assert fmt.day(dt.date(2026, 1, 3)) == "03 Jan 2026"
    assert fmt.day(pd.NaT) == "no data" and fmt.moment(None) == "no data"


def test_the_table_and_axis_formats_say_the_same_as_the_text():
    assert fmt.MONEY.startswith("€") and "," in fmt.MONEY and fmt.COUNT == "%,d"
    assert fmt.AXIS_MONEY["tickprefix"] == "€" and "," in fmt.AXIS_MONEY["tickformat"]
