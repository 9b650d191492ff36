"""The numbers tier's own tools: the known organisation keeps clear of every window edge and gives different figures
in every window; the page reader turns shown text back into numbers and formats cells as the data grid does."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests import known_org as ko
from tests.app.page_text import grid_text, hours, number, numbers, plain, printf, values

NOW = dt.datetime(2026, 12, 7, 19, 39, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def org():
    return ko.build(NOW)


@pytest.mark.parametrize("hour", [0, 5, 12, 19, 23])
def test_the_display_zone_puts_now_just_after_noon(hour):
    now = NOW.replace(hour=hour)
    assert now.astimezone(ZoneInfo(ko.zone_for(now))).hour == 12


def test_no_event_is_near_a_window_edge(org):
    times = [o["ts"] for o in org.observations]
    for i in org.items:
        times += [t for t in (i["created_at"], i["resolved_at"]) if t is not None]
    times += [j["started_at"] for j in org.journeys]
    for edge in org.edges():
        near = [t for t in times if edge - dt.timedelta(minutes=2) <= t <= edge + ko.GUARD]
        assert not near, f"{len(near)} event(s) within the guard band of {edge}"
    assert max(times) < org.now - ko.GUARD


def test_open_items_are_plainly_overdue_or_not(org):
    for i in org.items:
        if i["resolved_at"] is None:
            assert not (org.now - 2 * ko.GUARD < i["due_at"] < org.now + 2 * ko.GUARD), i["id"]


@pytest.mark.parametrize("kpi", [k[0] for k in ko.KPIS])
def test_every_window_and_its_comparison_give_different_figures(org, kpi):
    seen = []
    for key in ("7d", "30d", "today"):
        start, end = ko.window(org, key)
        seen.append(ko.kpi_value(org, kpi, start, end))
        seen += [ko.kpi_value(org, kpi, a, b) for a, b in ko.comparison_windows(org, key)]
    assert None not in seen
    if ko.kpi(org, kpi)["aggregation"] == "sum":
        assert len(set(seen)) == len(seen), seen


def test_the_capacity_outlook_sees_a_rising_trend_that_a_partial_day_would_bend(org):
    full = ko.capacity_outlook(org, 27)
    assert 0.2 < full.trend_per_day < 0.5 and full.runs_out_on is not None
    today = org.now.date()
    partial_first = sum(1 for i in org.items if i["target_unit"] == ko.SALES and i["kind"] == "lead"
                        and i["created_at"].date() == today - dt.timedelta(days=28)
                        and i["created_at"] >= org.now - 28 * ko.D)
    assert partial_first < ko.leads_on(28), "the 28-day look-back starts inside a day: that day is partial"


def test_attribution_credit_sums_to_the_revenue_of_journeys_with_a_path(org):
    a = ko.attribution(org, 365)
    for method, credit in a["credit"].items():
        assert sum(r for _, r in credit.values()) == pytest.approx(a["revenue"]), method
    assert sum(r for _, r in ko.markov_credit(org, 365).values()) == pytest.approx(a["revenue"])
    assert [j[0] for j in a["unattributed"]] == ["J17"]
    j18 = next(p for p in ko.journey_paths(org, org.now - 365 * ko.D, org.now) if p[0] == "J18")
    assert j18[1] == (ko.SALES,), "the item after the conversion is not a touchpoint"


@pytest.mark.parametrize("text, value, half", [
    ("€76.4k", 76_400, 50), ("€1,836,000", 1_836_000, 0.5), ("4.3 %", 4.3, 0.05), ("-1.2 pts", -1.2, 0.05),
    ("−€285k", -285_000, 500), ("+0.3 a day", 0.3, 0.05), ("219", 219, 0.5), ("€2.23M", 2_230_000, 5_000),
])
def test_a_shown_figure_reads_back_as_its_number_and_precision(text, value, half):
    n = number(text)
    assert n.value == pytest.approx(value) and n.half_unit == pytest.approx(half)


def test_durations_read_back_in_hours():
    assert hours("12 min").value == pytest.approx(0.2)
    assert hours("2.1 d").value == pytest.approx(50.4)
    assert hours("3.4 h").agrees(3.44) and not hours("3.4 h").agrees(3.46)


def test_several_numbers_in_one_text():
    assert [n.value for n in numbers("€5.6k (23 %)")] == [5_600, 23]


@pytest.mark.parametrize("fmt, value, shown", [
    ("%,d", 53548.7, "53,548"), ("€%,.0f", 1836000.4, "€1,836,000"), ("%.1f %%", 66.54, "66.5 %"),
    ("%+.1f pts", -3.33, "-3.3 pts"), ("%d", 1.59, "1"), ("%.1f h", 5.25, "5.2 h"),
])
def test_printf_formats_as_the_data_grid_does(fmt, value, shown):
    assert printf(fmt, value) == shown


@pytest.mark.parametrize("value, fmt, is_int, shown", [
    (53548.414, None, False, "53548.414"), (7.19681234, None, False, "7.1968"), (53548, None, True, "53548"),
    (76384.0, "localized", False, "76,384"), (4.343393, "localized", False, "4.343"), (0.1234, "percent", False, "12.34%"),
])
def test_cells_without_or_with_a_named_format_read_as_shown(value, fmt, is_int, shown):
    assert grid_text(value, fmt, is_int) == shown


def test_markdown_reads_as_shown():
    text, code = plain(":green[●] Target **€56k** · :material/sync: `python -m loaders demo` 09\\:00")
    assert text.split() == ["●", "Target", "€56k", "·", "09:00"] and code == ["python -m loaders demo"]


def test_plotly_typed_arrays_decode():
    import base64

    import numpy as np

    data = {"dtype": "f8", "bdata": base64.b64encode(np.array([1.5, 2.5]).tobytes()).decode()}
    assert values(data) == [1.5, 2.5] and values([1, 2]) == [1, 2]
