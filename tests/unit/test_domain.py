"""Pure domain helpers: settings, windows, statistics, formatting."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from dashboard.domain import format as fmt
from dashboard.domain.stats import (
    CYCLE_BIN_COLUMNS,
    CYCLE_BIN_EDGES_H,
    band,
    cycle_bin_index,
    on_target,
    pct_change,
    percentile_from_hist,
)
from dashboard.domain.vocabulary import window_bounds
from dashboard.settings import SettingsError, load_settings

UTC = dt.UTC


def test_invalid_setting_fails_with_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DASHBOARD_REFRESH_SECONDS", "soon")
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert "DASHBOARD_REFRESH_SECONDS" in message and "\n" not in message


def test_unknown_time_zone_is_refused(monkeypatch):
    monkeypatch.setenv("DASHBOARD_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError, match="DASHBOARD_TIMEZONE"):
        load_settings()


def test_thresholds_must_be_ordered():
    with pytest.raises(SettingsError, match="SLA_AMBER"):
        load_settings(sla_green=0.5, sla_amber=0.8)


def test_defaults_work_out_of_the_box(monkeypatch):
    for var in ("DASHBOARD_DATABASE_URL", "DASHBOARD_REFRESH_SECONDS", "DASHBOARD_TIMEZONE"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.database_url.startswith("sqlite:///") and s.refresh_seconds == 10


def test_today_starts_at_local_midnight():
    now = dt.datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    start, end = window_bounds("today", now, ZoneInfo("Asia/Tokyo"))  # 19:30 in Tokyo
    assert start == dt.datetime(2026, 11, 22, 15, 0, tzinfo=UTC) and end == now


def test_unknown_window_is_refused():
    with pytest.raises(ValueError, match="unknown window"):
        window_bounds("fortnight", dt.datetime.now(UTC), UTC)


def test_one_bin_per_rollup_column():
    assert len(CYCLE_BIN_COLUMNS) == len(CYCLE_BIN_EDGES_H) + 1
    assert list(CYCLE_BIN_EDGES_H) == sorted(CYCLE_BIN_EDGES_H)


@hsettings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.06, max_value=900), min_size=5, max_size=300), st.sampled_from([0.5, 0.9]))
def test_histogram_percentile_is_within_one_bin_of_the_exact_one(values, q):
    values = np.array(values)
    counts = np.bincount(cycle_bin_index(values), minlength=len(CYCLE_BIN_COLUMNS))
    approx = percentile_from_hist(counts, q)
    exact = float(np.quantile(values, q, method="inverted_cdf"))
    ratio = CYCLE_BIN_EDGES_H[1] / CYCLE_BIN_EDGES_H[0]
    assert exact / ratio <= approx <= exact * ratio


def test_empty_histogram_has_no_percentile():
    assert percentile_from_hist([0] * len(CYCLE_BIN_COLUMNS), 0.5) is None


def test_bands_and_targets_are_direction_aware():
    assert band(0.95, 0.9, 0.75) == "green" and band(0.8, 0.9, 0.75) == "amber" and band(0.1, 0.9, 0.75) == "red"
    assert band(None, 0.9, 0.75) == "none" and band(float("nan"), 0.9, 0.75) == "none"
    assert on_target(3, 4, "lower") is True and on_target(3, 4, "higher") is False
    assert on_target(None, 4, "higher") is None
    assert pct_change(110, 100) == pytest.approx(0.1) and pct_change(1, 0) is None


@pytest.mark.parametrize("value,expected", [
    (None, "no data"), (float("nan"), "no data"), (950, "950"), (1234, "1.23k"), (2_500_000, "2.5M"), (-1500, "-1.5k"),
])
def test_compact_numbers(value, expected):
    assert fmt.compact(value) == expected


@pytest.mark.parametrize("value,expected", [(0.25, "15 min"), (3.44, "3.4 h"), (72, "3.0 d"), (float("inf"), "unbounded")])
def test_durations_use_the_unit_a_reader_expects(value, expected):
    assert fmt.hours(value) == expected


def test_measures_carry_their_unit():
    assert fmt.measure(1_200_000, "EUR") == "€1.2M"
    assert fmt.measure(4.5, "%") == "4.5 %"
    assert fmt.measure(None, "EUR") == "no data"
