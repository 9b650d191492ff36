"""Replay of a draft rule set (dashboard.whatif.replay) on small hand-checkable item sets."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.routing import parse_rule_set
from dashboard.whatif.queueing import mmc, service_level
from dashboard.whatif.replay import PER_SPOKE_COLUMNS, UNROUTED, replay

NOW = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
STAFF = pd.DataFrame({"unit": ["sales", "hr", "customer_service"], "name": ["Sales", "HR", "Customer service"],
                      "headcount": [3.0, 1.0, 2.0], "service_rate_per_fte_day": [4.0, 10.0, 5.0]})
RULES = parse_rule_set({"rules": [
    {"id": "jobs", "name": "Jobs", "keywords": ["hiring"], "target_unit": "hr", "sla_hours": 24},
    {"id": "leads", "name": "Leads", "kinds": ["lead"], "target_unit": "sales"},
    {"id": "complaints", "name": "Complaints", "kinds": ["complaint"], "target_unit": "customer_service"},
]})


def make_items(rows: list[dict]) -> pd.DataFrame:
    """Items with defaults: created an hour ago, resolved, SLA 8 h, due at created + SLA."""
    out = []
    for i, r in enumerate(rows):
        created = r.get("created_at", NOW - dt.timedelta(hours=1))
        sla = r.get("sla_hours", 8.0)
        out.append({"id": f"i{i}", "kind": r.get("kind", "mention"), "channel": "social", "topic": None,
                    "segment": None, "text": r.get("text"), "target_unit": r.get("target_unit", "sales"),
                    "status": r.get("status", "resolved"), "created_at": created,
                    "resolved_at": r.get("resolved_at", created + dt.timedelta(hours=2)),
                    "due_at": r.get("due_at", created + dt.timedelta(hours=sla)), "sla_hours": sla})
    return pd.DataFrame(out)


def row(result, unit: str) -> pd.Series:
    return result.per_spoke.set_index("unit").loc[unit]


def test_moves_counted_and_totals_conserved():
    items = make_items(
        [{"text": "Are you hiring?", "target_unit": "sales"}] * 4
        + [{"kind": "lead", "target_unit": "sales"}] * 3
        + [{"kind": "complaint", "target_unit": "customer_service"}] * 2
        + [{"kind": "request", "text": "a dashboard please", "target_unit": "customer_service"}]  # no rule: unrouted
        + [{"kind": "request", "target_unit": "hub", "status": "new", "resolved_at": None}]  # unrouted now and after
    )
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    assert list(r.per_spoke.columns) == PER_SPOKE_COLUMNS
    assert r.per_spoke.unit.tolist() == ["sales", "hr", "customer_service", UNROUTED]
    assert (r.total, r.changed, r.unrouted) == (11, 5, 2)
    assert r.moves.to_dict("records") == [
        {"from_unit": "sales", "to_unit": "hr", "items": 4},
        {"from_unit": "customer_service", "to_unit": UNROUTED, "items": 1},
    ]
    assert row(r, "sales")[["items_now", "items_draft", "delta"]].tolist() == [7, 3, -4]
    assert row(r, "hr")[["items_now", "items_draft", "delta"]].tolist() == [0, 4, 4]
    assert row(r, UNROUTED)[["items_now", "items_draft"]].tolist() == [1, 2]
    assert r.per_spoke.items_now.sum() == r.per_spoke.items_draft.sum() == len(items)
    assert r.per_spoke.delta.sum() == 0
    assert r.decisions.index.equals(items.index) and r.decisions.rule_id.tolist()[:4] == ["jobs"] * 4


def test_unrouted_items_are_never_dropped_by_an_empty_rule_set():
    items = make_items([{"kind": "lead"}, {"kind": "complaint", "target_unit": "customer_service"}])
    r = replay(parse_rule_set({"rules": []}), items, STAFF, now=NOW, days=7)
    assert row(r, UNROUTED).items_draft == 2 and r.unrouted == 2 and r.changed == 2
    assert r.per_spoke.items_draft.sum() == 2


def test_backlog_moves_with_the_open_items_whenever_they_were_created():
    old = NOW - dt.timedelta(days=30)  # before the 7-day window: counts in the backlog, not in the rates
    items = make_items([
        {"text": "hiring?", "status": "accepted", "resolved_at": None, "created_at": old},
        {"text": "hiring?", "status": "new", "resolved_at": None},
        {"text": "hiring?"},  # resolved: not backlog
        {"kind": "lead", "status": "routed", "resolved_at": None},
    ])
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    assert row(r, "sales")[["backlog_now", "backlog_draft"]].tolist() == [3, 1]
    assert row(r, "hr")[["backlog_now", "backlog_draft"]].tolist() == [0, 2]
    assert r.per_spoke.backlog_now.sum() == r.per_spoke.backlog_draft.sum() == 3
    assert r.total == 3 and row(r, "sales").items_now == 3  # the old item is outside the window


def test_observed_sla_share():
    created = NOW - dt.timedelta(hours=20)
    items = make_items([
        {"kind": "lead", "created_at": created, "resolved_at": created + dt.timedelta(hours=1)},
        {"kind": "lead", "created_at": created, "resolved_at": created + dt.timedelta(hours=7)},
        {"kind": "lead", "created_at": created, "resolved_at": created + dt.timedelta(hours=9)},  # late
        {"kind": "lead", "created_at": created, "status": "accepted", "resolved_at": None},  # open: not counted
        # no due_at: created_at + sla_hours (4 h) is used -> late
        {"kind": "lead", "created_at": created, "resolved_at": created + dt.timedelta(hours=5), "due_at": None,
         "sla_hours": 4.0},
    ])
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    assert row(r, "sales").sla_now == pytest.approx(2 / 4)
    assert math.isnan(row(r, "hr").sla_now)  # nothing resolved there


def test_wait_is_erlang_c_from_the_queueing_module():
    # 30 days, 300 leads at sales: λ = 10/day, μ = 4/day per FTE, c = 3 -> ρ = 10/12
    created = NOW - pd.to_timedelta(np.linspace(1, 29 * 24, 300), unit="h").floor("s")
    items = make_items([{"kind": "lead", "created_at": c.to_pydatetime()} for c in created])
    r = replay(RULES, items, STAFF, now=NOW, days=30)
    ref = mmc(10.0, 4.0, 3)
    sales = row(r, "sales")
    assert sales.utilisation_now == pytest.approx(10 / 12)
    assert sales.wait_now_h == pytest.approx(ref.wq * 24)
    assert sales.wait_draft_h == pytest.approx(ref.wq * 24)
    assert not sales.over_capacity_now
    # SLA estimate: P(Wq <= SLA - 1/μ) with SLA 8 h and 1/μ = 6 h -> 2 h = 1/12 day
    assert sales.sla_draft == pytest.approx(service_level(10.0, 4.0, 3, 2 / 24))
    assert sales.sla_now_est == pytest.approx(sales.sla_draft)
    # hr gets nothing: idle queue, zero wait
    assert row(r, "hr").utilisation_draft == 0 and row(r, "hr").wait_draft_h == 0


def test_rule_sla_replaces_the_items_own_in_the_estimate():
    created = NOW - pd.to_timedelta(np.linspace(1, 6 * 24, 7), unit="h").floor("s")
    items = make_items([{"text": "hiring?", "created_at": c.to_pydatetime(), "sla_hours": 1.0} for c in created])
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    hr = row(r, "hr")  # λ = 1/day, μ = 10/day, c = 1; rule SLA 24 h, service 2.4 h
    assert hr.sla_draft == pytest.approx(service_level(1.0, 10.0, 1, (24 - 2.4) / 24))
    assert hr.wait_draft_h == pytest.approx(mmc(1.0, 10.0, 1).wq * 24)


def test_sla_shorter_than_the_service_time_cannot_be_met():
    items = make_items([{"kind": "complaint", "target_unit": "customer_service", "sla_hours": 2.0}])
    r = replay(RULES, items, STAFF, now=NOW, days=7)  # 1/μ = 24/5 = 4.8 h > 2 h
    assert row(r, "customer_service").sla_draft == 0.0


def test_over_capacity_is_flagged_not_a_crash():
    # 100 leads in 7 days to 3 FTE at 4/day: λ = 14.3 > cμ = 12
    items = make_items([{"kind": "lead", "created_at": NOW - dt.timedelta(hours=1 + i)} for i in range(100)])
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    sales = row(r, "sales")
    assert sales.over_capacity_draft and sales.over_capacity_now
    assert sales.utilisation_draft == pytest.approx(100 / 7 / 12)
    assert math.isinf(sales.wait_draft_h) and sales.sla_draft == 0.0
    assert not row(r, "hr").over_capacity_draft


def test_headcount_rounds_to_whole_people_at_least_one():
    staff = STAFF.assign(headcount=[0.2, 1.0, 2.0])
    created = NOW - pd.to_timedelta(np.linspace(1, 6 * 24, 14), unit="h").floor("s")
    items = make_items([{"kind": "lead", "created_at": c.to_pydatetime()} for c in created])
    r = replay(RULES, items, staff, now=NOW, days=7)
    assert row(r, "sales").utilisation_now == pytest.approx(2 / 4)  # c = 1


def test_units_without_service_rate_and_unknown_targets():
    staff = STAFF.assign(service_rate_per_fte_day=[np.nan, 10.0, 5.0])
    items = make_items([{"kind": "lead"}, {"kind": "report", "target_unit": "finance"}])
    r = replay(RULES, items, staff, now=NOW, days=7)
    assert math.isnan(row(r, "sales").wait_now_h) and not row(r, "sales").over_capacity_now
    assert r.per_spoke.unit.tolist() == ["sales", "hr", "customer_service", "finance", UNROUTED]
    assert row(r, "finance")[["items_now", "items_draft"]].tolist() == [1, 0]


def test_empty_items_and_bad_window():
    empty = make_items([{"kind": "lead"}]).iloc[:0]
    r = replay(RULES, empty, STAFF, now=NOW, days=7)
    assert r.total == r.changed == r.unrouted == 0 and r.moves.empty
    assert r.per_spoke.items_draft.sum() == 0 and len(r.per_spoke) == 4
    assert (r.per_spoke.wait_draft_h.iloc[:3] == 0).all()
    for days in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="positive number of days"):
            replay(RULES, empty, STAFF, now=NOW, days=days)


def test_naive_timestamps_are_utc():
    items = make_items([{"kind": "lead"}])
    items["created_at"] = pd.to_datetime(items.created_at).dt.tz_localize(None)
    r = replay(RULES, items, STAFF, now=NOW.replace(tzinfo=None), days=1)
    assert r.total == 1


def test_window_includes_its_first_instant_and_now():
    start = NOW - dt.timedelta(days=7)
    items = make_items([{"kind": "lead", "created_at": start}, {"kind": "lead", "created_at": NOW},
                        {"kind": "lead", "created_at": start - dt.timedelta(seconds=1)},
                        {"kind": "lead", "created_at": NOW + dt.timedelta(seconds=1)}])
    r = replay(RULES, items, STAFF, now=NOW, days=7)
    assert r.total == 2 and row(r, "sales").items_draft == 2


def test_string_dtype_frames_as_queries_return_them():
    """pd.DataFrame(rows) gives pandas' "str" dtype (missing = NaN): same answers as object columns."""
    items = make_items([{"text": "hiring?"}, {"kind": "lead", "target_unit": None, "status": "new", "resolved_at": None},
                        {"kind": "complaint", "target_unit": "hub", "status": None, "resolved_at": None}])
    as_str = items.astype({c: "str" for c in ("id", "kind", "channel", "text", "target_unit", "status")})
    a, b = (replay(RULES, frame, STAFF, now=NOW, days=7) for frame in (items, as_str))
    pd.testing.assert_frame_equal(a.per_spoke, b.per_spoke)
    pd.testing.assert_frame_equal(a.moves, b.moves)
    assert row(b, UNROUTED).items_now == 2 and row(b, "hr").items_draft == 1
    assert row(b, "sales").backlog_draft == 1 and b.per_spoke.backlog_now.sum() == 1  # no status: not open
