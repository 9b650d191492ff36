"""What a window's change is measured against: like for like, and said in words."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboard.domain.vocabulary import comparison_label, previous_bounds, window_bounds

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # a Monday afternoon


def test_today_is_compared_with_the_same_hours_on_the_same_weekday_a_week_earlier():
    start, end = window_bounds("today", NOW, UTC)
    before = previous_bounds("today", start, end)
    assert before == (dt.datetime(2026, 11, 30, 0, 0, tzinfo=UTC), dt.datetime(2026, 11, 30, 16, 0, tzinfo=UTC))
    assert before[0].weekday() == start.weekday()  # a Monday with a Monday, midnight to 16:00 both
    assert comparison_label(start, end, *before, UTC) == "the same hours last Monday"


def test_today_in_the_readers_zone_names_the_readers_weekday():
    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # Monday 00:30 in Berlin, still Sunday in UTC
    start, end = window_bounds("today", now, berlin)
    assert comparison_label(start, end, *previous_bounds("today", start, end), berlin) == "the same hours last Monday"


@pytest.mark.parametrize("key, words", [("1h", "the previous hour"), ("7d", "the previous 7 days"),
                                        ("30d", "the previous 30 days")])
def test_fixed_windows_are_compared_with_the_period_just_before(key, words):
    start, end = window_bounds(key, NOW, UTC)
    before = previous_bounds(key, start, end)
    assert before == (start - (end - start), start)
    assert comparison_label(start, end, *before) == words


def test_a_period_of_odd_length_is_still_named():
    start, end = NOW - dt.timedelta(hours=16), NOW
    assert comparison_label(start, end, start - dt.timedelta(hours=16), start) == "the previous 16 hours"
    assert comparison_label(start, end, start - dt.timedelta(days=1), end - dt.timedelta(days=1)) == \
        "the same hours yesterday"
