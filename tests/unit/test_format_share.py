"""fmt.share_of and fmt.csv_moment: a share that never contradicts its count, and export times to the second."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.domain import format as fmt


@pytest.mark.parametrize(("part", "whole", "text"), [
    (9, 35_977, "< 0.1 %"),  # would round to 0.0 % beside "9 would go elsewhere"
    (35_970, 35_977, "> 99.9 %"),  # would round to 100.0 % while 7 are left
    (0, 10, "0.0 %"), (10, 10, "100.0 %"), (1, 8, "12.5 %"), (40, 1_000, "4.0 %"),
    (5, 0, "no data"), (None, 10, "no data"),
])
def test_share_of_reads_like_the_counts(part, whole, text):
    assert fmt.share_of(part, whole) == text


def test_share_of_with_no_decimals():
    assert fmt.share_of(2, 1_000, 0) == "< 1 %" and fmt.share_of(6, 1_000, 0) == "1 %"


def test_csv_moment_is_to_the_second_in_the_zone_never_microseconds():
    when = dt.datetime(2026, 12, 7, 13, 5, 9, 362_362, tzinfo=dt.UTC)
    assert fmt.csv_moment(when, "Europe/Berlin") == "2026-12-07 14:05:09"
    assert fmt.csv_moment(pd.Timestamp(when), "UTC") == "2026-12-07 13:05:09"
    assert fmt.csv_moment(None, "UTC") == "" and fmt.csv_moment(pd.NaT, "UTC") == ""
