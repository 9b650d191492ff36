"""The data contract without a database: the vectorised validator agrees with the pydantic reference,
timestamps parse to the right instants, and every sample file's header names its kind."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from dashboard.ingest.contract import (
    KEYS,
    KINDS,
    UnitRow,
    all_columns,
    infer_kind,
    normalise_header,
    required_columns,
)
from dashboard.ingest.validate import parse_timestamps, validate_frame, validate_row

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "loaders" / "samples"
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def _utc(*args) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime(*args, tzinfo=UTC))


# --- hand-made rows: (the column a bad row must be blamed on, or None for a good row; the row's cells) --------

ITEM = dict(id="WI-1", kind="lead", source_unit="hub", target_unit="sales", channel="web", topic="pricing",
            text="Quote for 40 seats", created_at="2026-11-20 09:00", routed_at="2026-11-20 09:05",
            accepted_at="", resolved_at="", due_at="", status="routed", sla_hours="24", value="")
RESOLVED = dict(ITEM, accepted_at="2026-11-20 10:00", resolved_at="2026-11-20 15:40", status="resolved")

WORK_ITEMS = [
    (None, ITEM),
    (None, RESOLVED),
    (None, dict(RESOLVED, resolved_at="2026-11-20 09:00")),  # resolved the minute it came in
    (None, dict(ITEM, id="A.b:c/d#1-2_x")),
    (None, dict(ITEM, id="  WI-2  ")),  # surrounding spaces are trimmed
    (None, dict(ITEM, kind="promotion_notice", status="handed_back")),
    (None, dict(ITEM, topic="", text="")),  # optional columns left empty
    (None, dict(ITEM, text='=HYPERLINK("http://x","y")')),  # a formula in free text is kept, not refused
    (None, dict(ITEM, text="Café, Müller – naïve")),
    (None, dict(ITEM, created_at="2026-11-20T09:00:00+01:00", routed_at="2026-11-20T08:05:00Z")),
    (None, dict(ITEM, created_at="2026-11-20", routed_at="")),
    (None, dict(ITEM, due_at="2026-11-21 09:00")),
    (None, dict(ITEM, sla_hours="0.5", value="0")),
    (None, dict(ITEM, sla_hours=" 1e2 ", value="4800.50")),
    ("id", dict(ITEM, id="")),
    ("id", dict(ITEM, id="=cmd|' /C calc'!A0")),
    ("id", dict(ITEM, id="-1")),
    ("id", dict(ITEM, id="two words")),
    ("id", dict(ITEM, id="x" * 65)),
    ("kind", dict(ITEM, kind="ticket")),
    ("kind", dict(ITEM, kind="Lead")),
    ("source_unit", dict(ITEM, source_unit="Sales")),
    (None, dict(ITEM, target_unit="")),  # no target: the routing rules route it (or it waits at the hub)
    (None, dict(ITEM, segment="vip", priority="high", journey_id="J-2026/17")),
    (None, dict(ITEM, segment="", priority="", journey_id="")),
    ("target_unit", dict(ITEM, target_unit="Sales")),
    ("segment", dict(ITEM, segment="=vip")),
    ("segment", dict(ITEM, segment="s" * 33)),
    ("priority", dict(ITEM, priority="urgent")),
    ("priority", dict(ITEM, priority="High")),
    ("journey_id", dict(ITEM, journey_id="two words")),
    ("channel", dict(ITEM, channel="@web")),
    (None, dict(ITEM, topic="=1+1")),  # topic is free text: a formula is kept (exports neutralise it)
    ("topic", dict(ITEM, topic="t" * 65)),
    ("text", dict(ITEM, text="x" * 10_001)),
    ("created_at", dict(ITEM, created_at="21/11/2026 10:20")),
    ("created_at", dict(ITEM, created_at="")),
    ("created_at", dict(ITEM, created_at="2026-13-01 10:00")),
    ("routed_at", dict(ITEM, routed_at="yesterday")),
    ("status", dict(ITEM, status="done")),
    ("resolved_at", dict(ITEM, status="resolved")),
    ("status", dict(ITEM, resolved_at="2026-11-20 15:00")),
    ("resolved_at", dict(RESOLVED, resolved_at="2026-11-20 08:00")),
    ("sla_hours", dict(ITEM, sla_hours="abc")),
    ("sla_hours", dict(ITEM, sla_hours="")),
    ("sla_hours", dict(ITEM, sla_hours="0")),
    ("sla_hours", dict(ITEM, sla_hours="-1")),
    ("sla_hours", dict(ITEM, sla_hours="inf")),
    ("sla_hours", dict(ITEM, sla_hours="nan")),
    ("value", dict(ITEM, value="-5")),
    ("value", dict(ITEM, value="12,5")),
    # the range both databases store: 1000-01-01 00:00 to 9999-12-31 23:59:59 UTC, the due time included
    (None, dict(ITEM, created_at="1000-01-01T00:00:00Z", routed_at="")),
    (None, dict(ITEM, created_at="9999-12-31 20:00", routed_at="", sla_hours="1")),
    (None, dict(ITEM, due_at="9999-12-31T23:59:59Z")),
    ("created_at", dict(ITEM, created_at="0999-12-31 23:00", routed_at="")),
    ("created_at", dict(ITEM, created_at="1000-01-01 00:30", routed_at="")),  # 0999-12-31 23:30 UTC
    ("sla_hours", dict(ITEM, created_at="9999-12-31 23:59", routed_at="")),  # due 24 h later: the year 10000
    ("sla_hours", dict(ITEM, sla_hours="1e300")),
    ("value", dict(ITEM, value="1e13")),
    ("due_at", dict(ITEM, due_at="9999-12-31T23:59:59-01:00")),
    # a NUL character is refused in any column
    ("text", dict(ITEM, text="Quote\x00for 40 seats")),
    ("id", dict(ITEM, id="WI\x001")),
    ("created_at", dict(ITEM, created_at="2026-11-20 09:00\x00")),
]

OBSERVATION = dict(kpi_id="revenue", ts="2026-11-16", value="38250")
KPI_OBSERVATIONS = [
    (None, OBSERVATION),
    (None, dict(OBSERVATION, kpi_id="complaint hours")),  # KPI ids may hold spaces
    (None, dict(OBSERVATION, ts="2026-11-16 17:00")),
    (None, dict(OBSERVATION, ts="2026-11-16T17:00:00.250")),
    (None, dict(OBSERVATION, ts="2026-11-16T18:00:00+01:00")),
    (None, dict(OBSERVATION, ts="2026-11-16T09:00:00Z")),
    (None, dict(OBSERVATION, ts="2026-11-16T09:00:00-05:00")),
    (None, dict(OBSERVATION, value="-3.5")),  # observations may be negative (a loss, a delta)
    (None, dict(OBSERVATION, value="0")),
    (None, dict(OBSERVATION, value="1e-3")),
    (None, dict(OBSERVATION, value=" 12.5 ")),
    ("kpi_id", dict(OBSERVATION, kpi_id="")),
    ("kpi_id", dict(OBSERVATION, kpi_id="=SUM(A1)")),
    ("kpi_id", dict(OBSERVATION, kpi_id="+revenue")),
    ("kpi_id", dict(OBSERVATION, kpi_id="r" * 65)),
    ("ts", dict(OBSERVATION, ts="")),
    ("ts", dict(OBSERVATION, ts="16/11/2026")),
    ("ts", dict(OBSERVATION, ts="11/16/2026 17:00")),
    ("ts", dict(OBSERVATION, ts="2026-11-31")),
    ("ts", dict(OBSERVATION, ts="next monday")),
    ("value", dict(OBSERVATION, value="")),
    ("value", dict(OBSERVATION, value="abc")),
    ("value", dict(OBSERVATION, value="38.250,00")),
    ("value", dict(OBSERVATION, value="inf")),
    ("value", dict(OBSERVATION, value="-inf")),
    ("value", dict(OBSERVATION, value="nan")),
    ("value", dict(OBSERVATION, value="1e400")),
    (None, dict(OBSERVATION, ts="9999-12-31T23:59:59Z")),
    ("ts", dict(OBSERVATION, ts="0999-12-31")),
    ("ts", dict(OBSERVATION, ts="1700000000")),  # Unix time is not ISO 8601
    ("ts", dict(OBSERVATION, ts="12.5")),
    ("ts", dict(OBSERVATION, ts="9999-12-31T23:59:59.5Z")),
    ("value", dict(OBSERVATION, value="1\x00")),
    (None, dict(OBSERVATION, value="-1e12")),  # a trillion either way is the largest number
    ("value", dict(OBSERVATION, value="1e308")),
    ("value", dict(OBSERVATION, value="-1000000000000.01")),
]

KPI = dict(id="revenue", unit_id="hub", name="Revenue", unit_of_measure="EUR", target="40000", direction="higher",
           aggregation="sum", parent_id="", is_goal="true", description="The shared goal", sort_order="")
KPIS = [
    (None, KPI),
    (None, dict(KPI, id="complaint hours", parent_id="revenue", is_goal="no")),
    (None, dict(KPI, target="", aggregation="", is_goal="")),  # defaults: no target, sum, not a goal
    (None, dict(KPI, target="-2.5")),  # a target may be negative (a margin)
    (None, dict(KPI, aggregation="mean", is_goal="FALSE")),
    (None, dict(KPI, aggregation="last", is_goal="Yes")),
    (None, dict(KPI, is_goal="1")),
    (None, dict(KPI, is_goal="off")),
    (None, dict(KPI, sort_order="3")),
    (None, dict(KPI, sort_order="0")),
    (None, dict(KPI, unit_of_measure="x" * 16)),
    (None, dict(KPI, name="=Revenue", description="+ all channels")),  # free text: kept
    ("id", dict(KPI, id="")),
    ("id", dict(KPI, id="@revenue")),
    ("unit_id", dict(KPI, unit_id="Customer Service")),
    ("unit_id", dict(KPI, unit_id="")),
    ("name", dict(KPI, name="")),
    ("name", dict(KPI, name="n" * 201)),
    ("unit_of_measure", dict(KPI, unit_of_measure="")),
    ("unit_of_measure", dict(KPI, unit_of_measure="x" * 17)),
    ("target", dict(KPI, target="forty")),
    ("direction", dict(KPI, direction="up")),
    ("direction", dict(KPI, direction="")),
    ("aggregation", dict(KPI, aggregation="median")),
    ("parent_id", dict(KPI, parent_id="=revenue")),
    ("is_goal", dict(KPI, is_goal="maybe")),
    ("sort_order", dict(KPI, sort_order="-1")),
    ("sort_order", dict(KPI, sort_order="1.5")),
    ("name", dict(KPI, name="Rev\x00enue")),
    ("description", dict(KPI, description="\x00")),
]

UNIT = dict(id="sales", name="Sales", kind="spoke", headcount="14", cost_per_fte="70000",
            description="Turns leads into revenue", sort_order="", panels="lead_capacity,routed_topics",
            capacity_per_fte_day="3.5")
UNITS = [
    (None, UNIT),
    (None, dict(UNIT, id="customer_service-2", kind="hub")),
    (None, dict(UNIT, headcount="0", cost_per_fte="0")),
    (None, dict(UNIT, headcount="2.5")),  # part-time staff
    (None, dict(UNIT, description="", panels="", capacity_per_fte_day="")),
    (None, dict(UNIT, sort_order="7")),
    (None, dict(UNIT, capacity_per_fte_day="0")),
    (None, dict(UNIT, name="Ventes & Après-vente")),
    (None, dict(UNIT, timezone="Europe/Berlin", office_hours="Mon-Fri 08:00-18:00; Sat 10:00-14:00")),
    (None, dict(UNIT, timezone=" America/New_York ", office_hours="mon-fri 9-17:30")),
    (None, dict(UNIT, timezone="UTC", office_hours="24/7")),
    (None, dict(UNIT, timezone="", office_hours="")),  # not stated: the what-if model reads them from the data
    ("id", dict(UNIT, id="Sales")),
    ("id", dict(UNIT, id="")),
    ("id", dict(UNIT, id="sales team")),
    ("id", dict(UNIT, id="-sales")),
    ("name", dict(UNIT, name="")),
    ("kind", dict(UNIT, kind="team")),
    ("kind", dict(UNIT, kind="")),
    ("headcount", dict(UNIT, headcount="-1")),
    ("headcount", dict(UNIT, headcount="")),
    ("headcount", dict(UNIT, headcount="fourteen")),
    ("cost_per_fte", dict(UNIT, cost_per_fte="70.000,00")),
    ("cost_per_fte", dict(UNIT, cost_per_fte="-1")),
    ("sort_order", dict(UNIT, sort_order="-3")),
    ("sort_order", dict(UNIT, sort_order="2.5")),
    ("panels", dict(UNIT, panels="p" * 501)),
    ("capacity_per_fte_day", dict(UNIT, capacity_per_fte_day="-0.5")),
    ("capacity_per_fte_day", dict(UNIT, capacity_per_fte_day="lots")),
    ("timezone", dict(UNIT, timezone="Mars/Olympus_Mons")),
    ("timezone", dict(UNIT, timezone="europe/berlin")),
    ("timezone", dict(UNIT, timezone="Europe/Berlin; UTC")),
    ("timezone", dict(UNIT, timezone="Z" * 65)),
    ("office_hours", dict(UNIT, office_hours="Mon-Fri 18:00-08:00")),  # overnight: two windows on two days
    ("office_hours", dict(UNIT, office_hours="Mo-Fr 8-18")),
    ("office_hours", dict(UNIT, office_hours="Mon-Fri 08:00-18:00; Fri 10:00-12:00")),
    ("office_hours", dict(UNIT, office_hours="=Mon-Fri 08:00-18:00")),
    ("office_hours", dict(UNIT, office_hours="Mon-Fri 08:00-18:00" + " " * 190 + "x")),
    ("name", dict(UNIT, name="Sales\x00")),
    ("office_hours", dict(UNIT, office_hours="Mon-Fri 08:00-18:00\x00")),
]

CAMPAIGN = dict(channel="search", period_start="2026-11-02", period_end="2026-11-08", budget="5000", spend="4820",
                leads="210", conversions="26", revenue="31200")
CAMPAIGNS = [
    (None, CAMPAIGN),
    (None, dict(CAMPAIGN, period_end="2026-11-02")),  # a one-day period
    (None, dict(CAMPAIGN, channel="paid social")),
    (None, dict(CAMPAIGN, budget="0", spend="0", leads="0", conversions="0", revenue="0")),
    (None, dict(CAMPAIGN, spend="4820.75", revenue="31200.5")),
    ("leads", dict(CAMPAIGN, leads="3.0")),  # a whole number must be written as one (3, not 3.0)
    ("channel", dict(CAMPAIGN, channel="")),
    ("channel", dict(CAMPAIGN, channel="=search")),
    ("period_start", dict(CAMPAIGN, period_start="")),
    ("period_start", dict(CAMPAIGN, period_start="02/11/2026")),
    ("period_start", dict(CAMPAIGN, period_start="2026-02-30")),
    ("period_end", dict(CAMPAIGN, period_end="2026-11-01")),  # before period_start
    ("period_end", dict(CAMPAIGN, period_end="soon")),
    ("budget", dict(CAMPAIGN, budget="-1")),
    ("budget", dict(CAMPAIGN, budget="")),
    ("spend", dict(CAMPAIGN, spend="-1")),
    (None, dict(CAMPAIGN, spend="4.820")),  # 4.82: a dot is always the decimal point
    ("spend", dict(CAMPAIGN, spend="4,820")),
    ("leads", dict(CAMPAIGN, leads="3.5")),
    ("leads", dict(CAMPAIGN, leads="-2")),
    ("conversions", dict(CAMPAIGN, conversions="many")),
    ("conversions", dict(CAMPAIGN, conversions="")),
    ("revenue", dict(CAMPAIGN, revenue="inf")),
    ("channel", dict(CAMPAIGN, channel="search\x00")),
    ("revenue", dict(CAMPAIGN, revenue="2e12")),
    ("spend", dict(CAMPAIGN, spend="1e15")),
]

JOURNEY = dict(id="J-2026/17", started_at="2026-11-18 09:00", converted_at="2026-11-21 15:30", revenue="4800")
JOURNEYS = [
    (None, JOURNEY),
    (None, dict(JOURNEY, converted_at="", revenue="")),  # not converted (yet): revenue defaults to 0
    (None, dict(JOURNEY, converted_at="", revenue="0")),
    (None, dict(JOURNEY, revenue="")),  # converted without a recorded revenue
    (None, dict(JOURNEY, converted_at="2026-11-18 09:00")),  # converted the minute it started
    (None, dict(JOURNEY, started_at="2026-11-18T08:00:00Z", converted_at="2026-11-18T09:30:00+01:00")),
    (None, dict(JOURNEY, id="  J-1  ", revenue="4800.50")),
    (None, dict(JOURNEY, started_at="2026-11-18")),
    ("id", dict(JOURNEY, id="")),
    ("id", dict(JOURNEY, id="=J1")),
    ("id", dict(JOURNEY, id="two words")),
    ("id", dict(JOURNEY, id="j" * 65)),
    ("started_at", dict(JOURNEY, started_at="")),
    ("started_at", dict(JOURNEY, started_at="18/11/2026")),
    ("converted_at", dict(JOURNEY, converted_at="soon")),
    ("converted_at", dict(JOURNEY, converted_at="2026-11-18 08:59")),  # before started_at
    ("converted_at", dict(JOURNEY, converted_at="2026-11-18T07:59:00Z")),  # before, once both are in UTC
    ("converted_at", dict(JOURNEY, converted_at="", revenue="4800")),  # revenue without a conversion
    ("converted_at", dict(JOURNEY, converted_at="", revenue="0.01")),
    ("revenue", dict(JOURNEY, revenue="-1")),
    ("revenue", dict(JOURNEY, converted_at="", revenue="-1")),  # negative, not "without a conversion"
    ("revenue", dict(JOURNEY, revenue="4.800,00")),
    ("revenue", dict(JOURNEY, revenue="inf")),
    ("revenue", dict(JOURNEY, revenue="lots")),
    (None, dict(JOURNEY, started_at="9999-12-31 00:00", converted_at="", revenue="")),
    ("started_at", dict(JOURNEY, started_at="0999-06-01")),
    ("converted_at", dict(JOURNEY, converted_at="9999-12-31T23:59:59-05:00")),
    ("id", dict(JOURNEY, id="J\x00")),
]

CASES = {"work_items": WORK_ITEMS, "kpi_observations": KPI_OBSERVATIONS, "kpis": KPIS, "units": UNITS,
         "campaigns": CAMPAIGNS, "journeys": JOURNEYS}


def _blamed(reasons: str) -> set[str]:
    """The columns a "; "-joined reason text names."""
    return {r.split(":", 1)[0].strip() for r in reasons.split("; ")}


def test_every_kind_has_hand_made_good_and_bad_rows():
    assert set(CASES) == set(KINDS)
    for kind, rows in CASES.items():
        good = [row for col, row in rows if col is None]
        assert len(rows) >= 20 and len(good) >= 5, kind
        assert {col for col, _ in rows if col} >= set(required_columns(kind)), kind  # every required column is broken once


@pytest.mark.parametrize("kind", KINDS)
def test_validate_frame_and_the_pydantic_reference_agree_on_every_row(kind):
    rows = CASES[kind]
    frame = pd.DataFrame([row for _, row in rows], index=pd.RangeIndex(2, 2 + len(rows)), dtype=object)
    checked = validate_frame(kind, frame, BERLIN)
    assert sorted([*checked.valid.index, *checked.errors.index]) == list(frame.index)  # every row lands once
    assert not set(checked.valid.index) & set(checked.errors.index)
    disagreements = []
    for row_number, (column, row) in zip(frame.index, rows):
        reference = set(validate_row(kind, row, BERLIN))
        vectorised = _blamed(checked.errors[row_number]) if row_number in checked.errors.index else set()
        expected = {column} if column else set()
        if not (reference == vectorised and column in (vectorised or {None})):
            disagreements.append((row_number, expected, sorted(vectorised), sorted(reference),
                                  {k: v for k, v in row.items() if (k == column or not column)}))
        elif not column:
            assert row_number in checked.valid.index
    assert not disagreements, "\n".join(map(str, disagreements))


def test_validate_frame_types_the_valid_rows_and_keys_every_row():
    rows = [OBSERVATION, dict(OBSERVATION, ts="2026-11-16T09:00:00Z", value="-1.5"),
            dict(OBSERVATION, ts="16/11/2026")]
    checked = validate_frame("kpi_observations", pd.DataFrame(rows, index=[2, 3, 4]), BERLIN)
    assert list(checked.valid.index) == [2, 3] and list(checked.errors.index) == [4]
    assert checked.valid.ts.tolist() == [_utc(2026, 11, 15, 23), _utc(2026, 11, 16, 9)]
    assert checked.valid.value.tolist() == [38250.0, -1.5]
    # the key is the typed instant, so two spellings of one moment are one key; an unparsed cell keeps its text
    assert checked.keys.tolist() == ["revenue|2026-11-15T23:00:00.000000Z", "revenue|2026-11-16T09:00:00.000000Z",
                                     "revenue|16/11/2026"]
    assert checked.errors[4].startswith("ts: not an ISO 8601 timestamp")


def test_validate_frame_fills_defaults_and_counts_formula_cells_in_free_text_only():
    rows = [dict(KPI, aggregation="", is_goal="", name="=1+1", description="@mention"),
            dict(KPI, id="=x", description="-5 points")]
    checked = validate_frame("kpis", pd.DataFrame(rows), BERLIN)
    assert checked.valid.loc[0, "aggregation"] == "sum" and checked.valid.loc[0, "is_goal"] is False
    assert checked.errors[1].startswith("id: only letters")
    assert checked.formula_cells == 3  # name and description of row 0, description of row 1; not the id


def test_referential_checks_run_only_when_the_known_ids_are_given():
    frame = pd.DataFrame([ITEM, dict(ITEM, id="WI-2", target_unit="marketing")])
    assert validate_frame("work_items", frame, BERLIN).errors.empty
    checked = validate_frame("work_items", frame, BERLIN, known_units={"hub", "sales"})
    assert checked.errors.to_dict() == {1: "target_unit: unknown unit (load it with the units first)"}
    obs = pd.DataFrame([OBSERVATION, dict(OBSERVATION, kpi_id="nope")])
    checked = validate_frame("kpi_observations", obs, BERLIN, known_kpis={"revenue"})
    assert checked.errors.to_dict() == {1: "kpi_id: unknown KPI (load it with the KPIs first)"}


# --- timestamps ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cells", [
    # mixed spellings in one column (the slow path) and each spelling alone (the one-pass fast path)
    ["2026-11-20T09:00:00", "2026-11-20 09:00", "2026-11-20T09:00:00+01:00", "2026-11-20T08:00:00Z",
     "2026-11-20", "2026-07-01 12:00", "2026-11-20T03:00:00-05:00", "21/11/2026", ""],
    ["2026-11-20T09:00:00"], ["2026-11-20 09:00"], ["2026-11-20T09:00:00+01:00"], ["2026-11-20T08:00:00Z"],
    ["2026-11-20"], ["2026-07-01 12:00"], ["2026-11-20T03:00:00-05:00"], ["21/11/2026"], [""],
])
def test_iso_timestamps_in_any_mix_parse_to_utc_with_naive_ones_in_the_import_zone(cells):
    expected = {
        "2026-11-20T09:00:00": _utc(2026, 11, 20, 8), "2026-11-20 09:00": _utc(2026, 11, 20, 8),
        "2026-11-20T09:00:00+01:00": _utc(2026, 11, 20, 8), "2026-11-20T08:00:00Z": _utc(2026, 11, 20, 8),
        "2026-11-20": _utc(2026, 11, 19, 23),  # midnight in Berlin
        "2026-07-01 12:00": _utc(2026, 7, 1, 10),  # summer time: +02:00
        "2026-11-20T03:00:00-05:00": _utc(2026, 11, 20, 8),
        "21/11/2026": None, "": None,  # day-first is refused, not guessed; empty is missing
    }
    got = parse_timestamps(pd.Series(cells, dtype="string"), BERLIN)
    assert str(got.dtype) == "datetime64[us, UTC]"
    assert [None if pd.isna(v) else v for v in got] == [expected[c] for c in cells]


# --- headers and kinds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cell, expected", [
    ("2026-10-25 02:30", _utc(2026, 10, 25, 0, 30)),  # the repeated autumn hour: the earlier (summer) reading
    ("2026-10-25T02:30:00+01:00", _utc(2026, 10, 25, 1, 30)),  # an offset settles it
])
def test_naive_times_in_the_repeated_autumn_hour_are_read_as_summer_time(cell, expected):
    for cells in ([cell], [cell, "2026-11-20T08:00:00Z"]):  # alone (fast path) and mixed with an offset
        assert parse_timestamps(pd.Series(cells, dtype="string"), BERLIN).iloc[0] == expected, cells


def test_naive_times_in_the_spring_gap_are_moved_forward_past_it_not_refused():
    got = parse_timestamps(pd.Series(["2026-03-29 02:15", "2026-03-29 02:45"], dtype="string"), BERLIN)
    assert got.notna().all()
    assert all(_utc(2026, 3, 29, 1) <= v < _utc(2026, 3, 29, 2) for v in got)  # 03:00-03:59 CEST


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return next(csv.reader(fh))


@pytest.mark.parametrize("sample, kind", [
    ("units.csv", "units"), ("kpis.csv", "kpis"), ("campaigns.csv", "campaigns"),
    ("kpi_observations.csv", "kpi_observations"), ("work_items.csv", "work_items"),
    ("work_items_with_errors.csv", "work_items"), ("work_items_to_route.csv", "work_items"),
    ("journeys.csv", "journeys"),
])
def test_infer_kind_names_each_sample_files_kind(sample, kind):
    header = _header(SAMPLES / sample)
    assert infer_kind(header) == kind
    assert infer_kind([h.replace("_", " ").title() for h in header]) == kind  # "Created At" style headers too
    assert infer_kind(list(reversed(header))) == kind


def test_infer_kind_needs_every_required_column_and_prefers_the_most_specific_kind():
    assert infer_kind(["foo", "bar"]) is None
    assert infer_kind([]) is None
    assert infer_kind([c for c in all_columns("work_items") if c != "created_at"]) is None
    assert infer_kind(required_columns("kpis")) == "kpis"
    assert infer_kind(["Journey ID", "started_at"]) is None and infer_kind(["ID", "Started At"]) == "journeys"
    assert infer_kind(all_columns("work_items")) == "work_items"  # its journey_id does not make it a journey
    # a header holding the required columns of two kinds is the kind that asks for more of them
    assert infer_kind(required_columns("kpi_observations") + required_columns("work_items")) == "work_items"


@pytest.mark.parametrize("raw, normal", [
    ("Created At", "created_at"), ("  created_at ", "created_at"), ("\ufeffid", "id"), ("created-at", "created_at"),
    ("SLA   Hours", "sla_hours"), ("KPI_ID", "kpi_id"), ("", ""),
])
def test_headers_that_differ_only_by_case_spaces_hyphens_or_a_bom_normalise_equal(raw, normal):
    assert normalise_header(raw) == normal


def test_required_columns_and_keys_are_contract_columns():
    assert required_columns("work_items") == ["id", "kind", "source_unit", "channel", "created_at", "status",
                                              "sla_hours"]
    assert required_columns("kpi_observations") == ["kpi_id", "ts", "value"]
    assert required_columns("journeys") == ["id", "started_at"] and KEYS["journeys"] == ("id",)
    for kind in KINDS:
        assert set(KEYS[kind]) <= set(required_columns(kind)) <= set(all_columns(kind)), kind


@pytest.mark.parametrize("kind, row", [
    pytest.param("campaigns", dict(CAMPAIGN, period_start="2026-11-2"), id="date-without-zero-padding"),
    pytest.param("campaigns", dict(CAMPAIGN, period_start="2026-11-02T00:00:00"), id="date-with-midnight-time"),
    pytest.param("campaigns", dict(CAMPAIGN, period_start="20261102"), id="date-basic-format"),
    pytest.param("campaigns", dict(CAMPAIGN, period_start=" 2026-11-02 "), id="date-with-spaces"),
    pytest.param("campaigns", dict(CAMPAIGN, leads="1e3"), id="int-in-exponent-notation"),
    pytest.param("units", dict(UNIT, sort_order="1e2"), id="sort-order-in-exponent-notation"),
    pytest.param("campaigns", dict(CAMPAIGN, leads="3.0000000000000001"), id="int-beyond-float-precision"),
    pytest.param("work_items", dict(ITEM, sla_hours="1_000"), id="float-with-underscore"),
    pytest.param("campaigns", dict(CAMPAIGN, leads="1_000"), id="int-with-underscore"),
    pytest.param("units", dict(UNIT, sort_order="3.0"), id="int-written-as-float"),
    pytest.param("units", dict(UNIT, headcount=".5"), id="float-without-leading-zero"),
    pytest.param("work_items", dict(ITEM, sla_hours="+5"), id="float-with-plus-sign"),
    pytest.param("work_items", dict(ITEM, sla_hours="0x10"), id="hex-number"),
    pytest.param("kpi_observations", dict(OBSERVATION, value="Infinity"), id="infinity-spelled-out"),
    pytest.param("kpis", dict(KPI, is_goal="Y"), id="bool-single-letter"),
    pytest.param("kpis", dict(KPI, is_goal="2"), id="bool-two"),
    pytest.param("work_items", dict(ITEM, id="WI-\u0661"), id="id-with-arabic-indic-digit"),
    pytest.param("work_items", dict(ITEM, created_at="2026-11-20T09:00:00.123456789"), id="nanoseconds"),
])
def test_validate_frame_and_the_reference_agree_on_unusual_spellings(kind, row):
    frame = validate_frame(kind, pd.DataFrame([row]), BERLIN)
    reference = validate_row(kind, row, BERLIN)
    assert (len(frame.valid) == 1) == (reference == []), (frame.errors.to_dict(), reference)


# --- office hours --------------------------------------------------------------------------------------


def test_office_hours_and_zones_are_stored_canonical_and_every_refusal_names_its_column_and_says_why():
    rows = [dict(UNIT, id="a", timezone=" Europe/Berlin ", office_hours="mon-fri 8-18;sat 10:00-14:00"),
            dict(UNIT, id="b", timezone="", office_hours="always"),
            dict(UNIT, id="c", timezone="Mars/Base", office_hours="Mon-Fri 08:00-18:00"),
            dict(UNIT, id="d", timezone="UTC", office_hours="Mon-Fri 18:00-08:00"),
            dict(UNIT, id="e", timezone="Europe/Berlin; UTC", office_hours="Mon-Fri 8-18; Mon 9-10"),
            dict(UNIT, id="f", timezone="", office_hours="")]
    checked = validate_frame("units", pd.DataFrame(rows, index=range(2, 8)), BERLIN)
    assert list(checked.valid.index) == [2, 3, 7]
    assert checked.valid.timezone.tolist() == ["Europe/Berlin", None, None]
    assert checked.valid.office_hours.tolist() == ["Mon-Fri 08:00-18:00; Sat 10:00-14:00", "24/7", None]
    assert checked.errors.to_dict() == {
        4: "timezone: 'Mars/Base' is not a time zone (IANA names such as Europe/Berlin or UTC)",
        5: "office_hours: 'Mon-Fri 18:00-08:00': the window must open before it closes on the same day",
        # a ";" quoted from a cell is shown as ",": the reasons of one row are "; "-joined
        6: "timezone: 'Europe/Berlin, UTC' is not a time zone (IANA names such as Europe/Berlin or UTC); "
           "office_hours: Mon is given twice",
    }
    assert checked.formula_cells == 0  # checked cells are not free text
    # the pydantic reference stores the same canonical spelling
    reference = UnitRow.model_validate(dict(UNIT, sort_order="0", timezone=" Europe/Berlin ",
                                            office_hours="mon-fri 8-18;sat 10-14"))
    assert (reference.timezone, reference.office_hours) == ("Europe/Berlin", "Mon-Fri 08:00-18:00; Sat 10:00-14:00")


# --- journeys ------------------------------------------------------------------------------------------


def test_journeys_are_typed_with_revenue_defaulting_to_0_and_every_refusal_says_why():
    rows = [JOURNEY, dict(JOURNEY, id="J-2", converted_at="", revenue=""),
            dict(JOURNEY, id="J-3", converted_at="2026-11-17 09:00"), dict(JOURNEY, id="J-4", converted_at="", revenue="12"),
            dict(JOURNEY, id="J-5", revenue="-3"), dict(JOURNEY, id="J-6", converted_at="later", revenue="12")]
    checked = validate_frame("journeys", pd.DataFrame(rows, index=range(2, 8)), BERLIN)
    assert list(checked.valid.index) == [2, 3]
    assert checked.valid.started_at.tolist() == [_utc(2026, 11, 18, 8)] * 2
    assert checked.valid.converted_at.iloc[0] == _utc(2026, 11, 21, 14, 30) and pd.isna(checked.valid.converted_at.iloc[1])
    assert checked.valid.revenue.tolist() == [4800.0, 0.0]
    assert checked.keys.tolist() == ["J-2026/17", "J-2", "J-3", "J-4", "J-5", "J-6"]
    assert checked.errors.to_dict() == {
        4: "converted_at: before started_at",
        5: "converted_at: missing for a journey with revenue (only a converted journey has revenue: give "
           "converted_at, or leave revenue empty or 0)",
        6: "revenue: must be ≥ 0",
        7: "converted_at: not an ISO 8601 timestamp such as 2026-11-23 10:30 or 2026-11-23T10:30:00+01:00",
    }


# --- rules for every row: the storable time range and NUL characters -------------------------------------


def test_a_time_outside_the_storable_range_or_a_nul_is_refused_in_its_row_naming_the_column():
    rows = [ITEM, dict(ITEM, id="WI-2", created_at="0999-12-31 23:00", routed_at=""),
            dict(ITEM, id="WI-3", created_at="9999-12-31 23:59", routed_at=""),
            dict(ITEM, id="WI-4", text="a\x00b"), dict(ITEM, id="WI-5", due_at="9999-12-31T23:59:59-01:00")]
    checked = validate_frame("work_items", pd.DataFrame(rows, index=range(2, 7)), BERLIN)
    assert list(checked.valid.index) == [2]
    assert checked.errors.to_dict() == {
        3: "created_at: not between 1000-01-01 00:00 and 9999-12-31 23:59:59 UTC",
        4: "sla_hours: created_at + sla_hours (the item's due time) passes 9999-12-31 23:59:59 UTC, the latest "
           "time that can be stored",
        5: "text: contains a NUL character (byte 0), which cannot be stored: remove it and import the row again",
        6: "due_at: not between 1000-01-01 00:00 and 9999-12-31 23:59:59 UTC",
    }
    assert checked.keys.tolist() == ["WI-1", "WI-2", "WI-3", "WI-4", "WI-5"]


def test_the_storable_range_is_the_stores():
    from dashboard import store
    from dashboard.ingest.contract import EARLIEST, LATEST

    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    assert (EARLIEST - epoch) // dt.timedelta(microseconds=1) == store.MIN_TEXT_US
    assert (LATEST - epoch) // dt.timedelta(microseconds=1) == store.MAX_TEXT_US
