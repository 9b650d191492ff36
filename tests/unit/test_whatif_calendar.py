"""Office hours: reading and writing them, the UTC week they open, the staffed clock, and reading them from data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.whatif.calendar import (
    ALWAYS_OPEN,
    BINS_PER_HOUR,
    MIN_ACTIVITY,
    WEEK_HOURS,
    CalendarError,
    StaffedClock,
    check_timezone,
    format_hours,
    infer_hours,
    parse_hours,
    week_mask,
)

UTC = dt.UTC
WINTER = dt.datetime(2025, 12, 10, 12, tzinfo=UTC)
SUMMER = dt.datetime(2025, 7, 10, 12, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
BINS = WEEK_HOURS * BINS_PER_HOUR  # 336 half hours
PER_DAY = 24 * BINS_PER_HOUR


def hour(day: int, clock: float) -> float:
    """Hours since Monday 00:00 of week 0."""
    return day * 24.0 + clock


def office_clock(text: str = "Mon-Fri 08:00-18:00", timezone: str = "UTC") -> StaffedClock:
    return StaffedClock(week_mask(parse_hours(text), timezone, WINTER))


# --- reading and writing office hours -------------------------------------------------------------------------


@pytest.mark.parametrize("text, windows, canonical", [
    ("Mon-Fri 08:00-18:00; Sat 10:00-14:00",
     ((8.0, 18.0),) * 5 + ((10.0, 14.0), None), "Mon-Fri 08:00-18:00; Sat 10:00-14:00"),
    ("24/7", ALWAYS_OPEN, "24/7"),
    ("Mon-Sun 00:00-24:00", ALWAYS_OPEN, "24/7"),
    ("Mon,Wed,Fri 9:00-17:30", ((9.0, 17.5), None, (9.0, 17.5), None, (9.0, 17.5), None, None),
     "Mon 09:00-17:30; Wed 09:00-17:30; Fri 09:00-17:30"),
    ("Mon–Fri 08:00–18:00", ((8.0, 18.0),) * 5 + (None, None), "Mon-Fri 08:00-18:00"),  # en dashes
    ("monday-friday 9-17", ((9.0, 17.0),) * 5 + (None, None), "Mon-Fri 09:00-17:00"),
    ("Sat-Mon 10:00-14:00", ((10.0, 14.0), None, None, None, None, (10.0, 14.0), (10.0, 14.0)),
     "Mon 10:00-14:00; Sat-Sun 10:00-14:00"),  # a range across the week's end
])
def test_office_hours_are_read_in_their_usual_spellings_and_written_back_the_same(text, windows, canonical):
    assert parse_hours(text) == windows
    assert format_hours(windows) == canonical
    assert parse_hours(format_hours(windows)) == windows


@given(st.lists(st.one_of(st.none(), st.tuples(st.integers(0, 47), st.integers(1, 48))), min_size=7, max_size=7))
@settings(max_examples=60, deadline=None)
def test_any_week_of_windows_survives_writing_and_reading(raw):
    windows = tuple(None if w is None or w[1] <= w[0] else (w[0] / 2.0, w[1] / 2.0) for w in raw)
    if all(w is None for w in windows):
        return
    assert parse_hours(format_hours(windows)) == windows


@pytest.mark.parametrize("text, reason", [
    ("Mon-Fru 08:00-18:00", "'mon-fru' is not a range of days such as Mon-Fri"),
    ("Funday 08:00-18:00", "'funday' is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
    ("Mon-Fri 8h-18h", "'8h' is not a time such as 08:00"),
    ("Mon-Fri 08:00-25:00", "'25:00' is not a time of day (00:00 to 24:00)"),
    ("Mon 08:60-09:00", "'08:60' is not a time of day"),
    ("Mon-Fri 18:00-08:00", "the window must open before it closes on the same day"),
    ("Mon-Fri 09:00-09:00", "the window must open before it closes on the same day"),
    ("Mon-Fri 08:00-18:00; Fri 10:00-12:00", "Fri is given twice"),
    ("", "office hours are empty"),
    ("   ", "office hours are empty"),
    ("Mon-Fri", "is not days and hours such as Mon-Fri 08:00-18:00"),
])
def test_unreadable_office_hours_are_refused_with_the_reason(text, reason):
    with pytest.raises(CalendarError) as err:
        parse_hours(text)
    assert reason in str(err.value)


def test_time_zones_are_iana_names():
    assert check_timezone("Europe/Berlin") == "Europe/Berlin"
    assert check_timezone(" America/New_York ") == "America/New_York"
    assert check_timezone("UTC") == "UTC"
    for bad in ("Mars/Olympus", "CET+5", "", "  "):
        with pytest.raises(CalendarError, match="time zone"):
            check_timezone(bad)


# --- the UTC week ---------------------------------------------------------------------------------------------


def test_the_week_in_utc_is_the_local_week_moved_by_the_zone_offset():
    hours = parse_hours("Mon-Fri 08:00-18:00")
    utc = week_mask(hours, "UTC", WINTER)
    berlin_winter = week_mask(hours, "Europe/Berlin", WINTER)  # UTC+1
    berlin_summer = week_mask(hours, "Europe/Berlin", SUMMER)  # UTC+2
    assert np.flatnonzero(utc[:24]).tolist() == list(range(8, 18))
    assert np.flatnonzero(berlin_winter[:24]).tolist() == list(range(7, 17))
    assert np.flatnonzero(berlin_summer[:24]).tolist() == list(range(6, 16))
    assert np.array_equal(berlin_winter, np.roll(utc, -1))
    assert utc.sum() == berlin_winter.sum() == 50.0


def test_a_zone_west_of_utc_carries_friday_evening_into_saturday_utc():
    mask = week_mask(parse_hours("Mon-Fri 09:00-17:00"), "America/New_York", WINTER)  # UTC-5: 14:00-22:00 UTC
    assert np.flatnonzero(mask[:24]).tolist() == list(range(14, 22))
    assert mask[int(hour(FRI, 21))] == 1.0 and mask[int(hour(SAT, 0))] == 0.0
    assert mask.sum() == 40.0


def test_a_half_past_opening_opens_half_of_that_hour():
    mask = week_mask(parse_hours("Mon-Fri 09:30-17:00"))
    assert mask[9] == 0.5 and mask[8] == 0.0 and mask[10] == 1.0 and mask[16] == 1.0 and mask[17] == 0.0
    assert mask.sum() == pytest.approx(5 * 7.5)
    # India (UTC+5:30): a whole local opening becomes a half hour in UTC
    india = week_mask(parse_hours("Mon-Fri 09:00-17:00"), "Asia/Kolkata", WINTER)
    assert india[3] == 0.5 and india[4] == 1.0 and india[11] == 0.5
    assert india.sum() == pytest.approx(40.0)


# --- the staffed clock ----------------------------------------------------------------------------------------


def test_six_staffed_hours_from_friday_afternoon_end_on_monday_at_noon():
    clock = office_clock("Mon-Fri 08:00-18:00")
    friday_4pm = hour(FRI, 16)
    assert clock.span(friday_4pm, 6.0) == pytest.approx(68.0)  # 2 h on Friday, the weekend, 4 h on Monday
    assert clock.to_calendar(clock.to_staffed(friday_4pm) + 6.0) == pytest.approx(hour(MON, 12) + WEEK_HOURS)
    assert clock.open_hours == 50.0 and not clock.always_open


def test_work_that_arrives_while_closed_starts_at_the_opening():
    clock = office_clock("Mon-Fri 08:00-18:00")
    saturday = hour(SAT, 11)
    assert clock.to_staffed(saturday) == clock.to_staffed(hour(FRI, 18)) == 50.0
    assert clock.span(saturday, 1.0) == pytest.approx(hour(MON, 9) + WEEK_HOURS - saturday)


def test_a_round_the_clock_team_runs_the_staffed_clock_at_calendar_time():
    clock = StaffedClock(week_mask(ALWAYS_OPEN))
    t = np.array([0.0, 3.25, 100.0, 5 * WEEK_HOURS + 17.5])
    assert clock.always_open and clock.open_hours == WEEK_HOURS
    assert np.array_equal(clock.to_staffed(t), t)
    assert np.array_equal(clock.to_calendar(t), t)
    assert np.array_equal(clock.span(t, 6.0), np.full(4, 6.0))


@given(day=st.integers(MON, FRI), within=st.floats(0.001, 9.499), weeks=st.integers(-3, 20))
@settings(max_examples=100, deadline=None)
def test_calendar_and_staffed_time_are_inverse_while_the_team_is_open(day, within, weeks):
    clock = office_clock("Mon-Fri 08:30-18:00")  # the 08:00 hour is half open
    t = weeks * WEEK_HOURS + hour(day, 8.5 + within)
    assert clock.to_calendar(clock.to_staffed(t)) == pytest.approx(t, abs=1e-9)


@given(times=st.lists(st.floats(-500.0, 3000.0), min_size=2, max_size=40))
@settings(max_examples=60, deadline=None)
def test_staffed_time_never_runs_backwards(times):
    clock = office_clock("Mon-Fri 08:30-18:00; Sat 10:00-14:00", "Europe/Berlin")
    t = np.sort(np.asarray(times))
    staffed = clock.to_staffed(t)
    assert np.all(np.diff(staffed) >= -1e-9)
    assert np.all(np.diff(staffed) <= np.diff(t) + 1e-9)  # it never runs faster than the calendar


def test_a_long_job_spans_whole_weeks():
    clock = office_clock("Mon-Fri 08:00-18:00")
    start = hour(TUE, 10)
    assert clock.span(start, 3 * 50.0) == pytest.approx(3 * WEEK_HOURS)
    assert clock.span(start, 2 * 50.0 + 8.0) == pytest.approx(2 * WEEK_HOURS + 8.0)  # Tue 10-18: ends at closing
    assert clock.span(start, 2 * 50.0 + 10.0) == pytest.approx(2 * WEEK_HOURS + 24.0)  # + Wed 08-10
    assert clock.to_staffed(start + 4 * WEEK_HOURS) - clock.to_staffed(start) == pytest.approx(200.0)


def test_a_clock_needs_an_open_hour_and_a_week_of_shares():
    with pytest.raises(CalendarError, match="at least one open hour"):
        StaffedClock(np.zeros(WEEK_HOURS))
    with pytest.raises(CalendarError, match="168 values"):
        StaffedClock(np.ones(24))


# --- reading office hours from observed work ------------------------------------------------------------------


def _bin(day: int, clock: float) -> int:
    return int(day * PER_DAY + clock * BINS_PER_HOUR)


def office_team(late: tuple[tuple[int, float, float], ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """Four weeks of a team open Mon-Fri 08:30-17:00 (local): work arrives round the clock (more in business
    hours); in the open half hours the team accepts and resolves what arrives (2 events per item) and works off
    the night's backlog in the first two hours; nothing is touched at night. ``late``: (day, time, events)
    added by someone working late."""
    arrivals = np.full(BINS, 4.0)
    activity = np.zeros(BINS)
    for day in range(MON, FRI + 1):
        arrivals[_bin(day, 8):_bin(day, 18)] = 8.0
        activity[_bin(day, 8.5):_bin(day, 17)] = 16.0
        activity[_bin(day, 8.5):_bin(day, 10.5)] += 70.0
    for day, clock, events in late:
        activity[_bin(day, clock)] += events
    return activity, arrivals


def test_a_team_that_leaves_night_work_until_the_morning_is_read_as_office_hours():
    activity, arrivals = office_team()
    assert format_hours(infer_hours(activity, arrivals)) == "Mon-Fri 08:30-17:00"


def test_a_team_that_keeps_pace_round_the_clock_is_read_as_always_open():
    rhythm = np.arange(BINS) / PER_DAY * 2 * np.pi
    arrivals = 4.0 + 3.0 * np.sin(rhythm) ** 2  # busier by day, never idle
    assert infer_hours(2.0 * arrivals, arrivals) == ALWAYS_OPEN
    weekend_off = 2.0 * arrivals
    weekend_off[_bin(SAT, 0):] = 0.0
    assert format_hours(infer_hours(weekend_off, arrivals)) == "Mon-Fri 00:00-24:00"


def test_a_few_items_finished_late_at_night_do_not_open_the_night():
    # one item on Tuesday at 22:00, one on Wednesday at 21:30, one picked up and finished on Thursday at 23:00,
    # over four weeks in which 4 items arrived in each of those half hours
    activity, arrivals = office_team(late=((TUE, 22.0, 1.0), (WED, 21.5, 1.0), (THU, 23.0, 2.0)))
    assert format_hours(infer_hours(activity, arrivals)) == "Mon-Fri 08:30-17:00"


def test_too_little_activity_says_nothing():
    arrivals = np.ones(BINS)
    few = np.zeros(BINS)
    few[_bin(MON, 9):_bin(MON, 9) + MIN_ACTIVITY - 1] = 1.0
    assert few.sum() == MIN_ACTIVITY - 1
    assert infer_hours(few, arrivals) is None
    assert infer_hours(np.zeros(BINS), arrivals) is None
    with pytest.raises(CalendarError, match="336 half-hourly values"):
        infer_hours(np.ones(WEEK_HOURS), np.ones(WEEK_HOURS))
