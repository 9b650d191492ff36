"""Evaluate an implemented change: before/after, difference-in-differences and the model's prediction
(dashboard.domain.evaluation), and the daily flow and KPI reads around a change (dashboard.queries.evaluation)
on both engines."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import planned_changes, target_models
from dashboard.domain import evaluation as ev
from dashboard.domain.access import NotPermitted, Role, Viewer
from dashboard.queries.evaluation import done_changes, evaluation_data
from tests.factories import NOW, item, tiny_org

UTC = dt.UTC
CHANGE = dt.datetime(2026, 11, 13, tzinfo=UTC)
ADMIN = Viewer("ada@example.com", Role.ADMIN)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES_LEAD = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
FINANCE_LEAD = Viewer("fay@example.com", Role.SPOKE_LEAD, unit="finance")
PREDICTED = {"lead_time_h": {"before": 10.0, "after": 6.0}, "handoffs": {"before": 1.5, "after": 1.0},
             "cost_per_year": {"before": 500_000.0, "after": 450_000.0}, "sla_share": {"before": 0.8, "after": 0.9},
             "lead_time_median_h": {"before": 8.0, "after": 5.0}}


def day(offset: int) -> dt.datetime:
    return CHANGE + dt.timedelta(days=offset)


def frame(rows):
    """rows: (day offset, group, lead time h, share in SLA); one resolved item a day, 10 created."""
    return pd.DataFrame([dict(day=day(d), group=g, created=10.0, resolved=1.0, resolved_in_sla=s, cycle_sum_h=lt)
                         for d, g, lt, s in rows])


# Treated lead times 4, 6 before (mean 5, sd √2, se 1) and 3, 3 after (mean 3, se 0): change −2 (−40 %).
# Control 2, 4 before (mean 3, se 1) and 3, 3 after (mean 3): change 0.
# DiD = (3 − 5) − (3 − 3) = −2 h; se = √(1² + 0² + 1² + 0²) = √2.
HAND = frame([(-2, "treated", 4, 1), (-1, "treated", 6, 0), (0, "treated", 3, 1), (1, "treated", 3, 1),
              (-2, "control", 2, 1), (-1, "control", 4, 1), (0, "control", 3, 1), (1, "control", 3, 1)])


# --- domain -------------------------------------------------------------------------------------------------


def test_window_is_full_days_capped_at_today():
    w = ev.window(CHANGE.date(), NOW, days=28)
    assert (w.start, w.change_at) == (day(-28), CHANGE)
    assert w.end == dt.datetime(2026, 11, 23, tzinfo=UTC)  # today's start, not NOW (10:30): full days only
    assert (w.days_before, w.days_after) == (28, 10)
    assert ev.window(NOW.date(), NOW).days_after == 0  # done today: nothing after yet
    assert ev.window(dt.date(2026, 1, 1), NOW, days=7).end == dt.datetime(2026, 1, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        ev.window(CHANGE.date(), NOW, days=0)


def test_difference_in_differences_by_hand():
    e = ev.estimate(ev.daily_metrics(HAND), "lead_time_h", CHANGE, PREDICTED)
    assert (e.treated_before.mean, e.treated_after.mean) == (5, 3)
    assert e.treated_before.se == pytest.approx(1.0) and e.treated_after.se == 0
    assert (e.control_before.mean, e.control_after.mean) == (3, 3)
    assert e.change == -2 and e.relative == pytest.approx(-0.4)
    assert e.did == -2 and e.did_se == pytest.approx(math.sqrt(2))
    # predicted 10 h → 6 h is −40 %; observed −2 h on a 5 h base is −40 % too
    assert e.predicted_change == -4
    assert e.verdict.startswith("the model predicted −40 % (10.0 h → 6.0 h), observed −2.0 h (−40 % ± 57 %)")
    assert e.verdict.endswith("(difference-in-differences): in line with the prediction")


def test_sla_share_is_compared_in_points_and_a_move_the_wrong_way_is_named():
    rows = [(d, g, 1, s) for d in range(-6, 6) for g, s in (("treated", 0.9 if d < 0 else 0.6), ("control", 0.9))]
    e = ev.estimate(ev.daily_metrics(frame(rows)), "sla_share", CHANGE, PREDICTED)
    assert e.did == pytest.approx(-0.3) and e.did_se == 0
    assert "predicted +10.0 pts (80.0 % → 90.0 %)" in e.verdict
    assert "observed −30.0 pts (−30.0 pts ± 0.0 pts)" in e.verdict
    assert e.verdict.endswith("the opposite of the prediction")


def test_smaller_larger_and_unclear_verdicts():
    def lead(before, after, noise=0.0):
        rows = [(d, "treated", (before if d < 0 else after) + (noise if d % 2 else -noise), 1) for d in range(-8, 8)]
        rows += [(d, "control", 5.0, 1) for d in range(-8, 8)]
        return ev.estimate(ev.daily_metrics(frame(rows)), "lead_time_h", CHANGE, PREDICTED)

    assert lead(10, 9).verdict.endswith("smaller than predicted")  # −10 % against −40 %
    assert lead(10, 3).verdict.endswith("larger than predicted")  # −70 %
    assert lead(10, 9.8, noise=3).verdict.endswith("no clear change yet (within the day-to-day noise)")
    flat = {"lead_time_h": {"before": 28.02, "after": 27.97}}  # the model saw (next to) nothing coming: −0.2 %
    rows = [(d, "treated", 10 if d < 0 else 8, 1) for d in range(-8, 8)] + [(d, "control", 5, 1) for d in range(-8, 8)]
    e = ev.estimate(ev.daily_metrics(frame(rows)), "lead_time_h", CHANGE, flat)
    assert e.verdict.startswith("the model predicted ±0 % (28.0 h → 28.0 h), observed −2.0 h (−20 % ± 0 %)")
    assert e.verdict.endswith("a change the model did not predict")


def test_evaluate_without_control_says_did_is_impossible():
    treated_only = HAND[HAND.group == "treated"]
    result = ev.evaluate(treated_only, ev.Window(day(-2), CHANGE, day(5)), PREDICTED)
    assert not result.has_control
    assert any("difference-in-differences is impossible" in n for n in result.notes)
    lead = result.estimates[0]
    assert lead.did is None and lead.observed == -2
    assert "(before/after, no untouched spoke to compare with)" in lead.verdict
    table = result.table().set_index("Metric")
    assert table.loc["Lead time (mean)", "DiD"] == "no control"
    assert table.loc["Lead time (mean)", "Before"] == "5.0 h" and table.loc["Lead time (mean)", "After"] == "3.0 h"
    assert table.loc["Lead time (mean)", "Change"] == "−2.0 h (−40 %)"


def test_evaluate_table_lists_predictions_without_observations():
    result = ev.evaluate(HAND, ev.Window(day(-2), CHANGE, day(9)), PREDICTED)
    table = result.table().set_index("Metric")
    assert list(table.index) == ["Lead time (mean)", "Resolved within SLA", "Items per day", "Handoffs per item",
                                 "Cost per year"]
    assert table.loc["Lead time (mean)", "DiD"] == "−2.0 h ± 2.8 h"
    assert table.loc["Lead time (mean)", "Predicted"] == "10.0 h → 6.0 h"
    assert table.loc["Cost per year", "Predicted"] == "€500k → €450k"
    assert table.loc["Cost per year", "Verdict"] == "prediction only"
    assert table.loc["Items per day", "Verdict"] == "no prediction"
    assert table.loc["Lead time (mean)", "Verdict"] == "in line with the prediction"
    sentences = result.sentences()
    assert sentences[0].startswith("Lead time (mean): the model predicted −40 %")
    assert sentences[-1] == "Cost per year: predicted €500k → €450k; costs are not recorded day by day"
    # SLA: +50 pts observed ± 100 pts (two days of 0 and 1 before): +10 pts predicted lies within the noise
    assert ev.verdict_counts(result) == {"in line": 2, "different": 0, "unclear": 0}


def test_too_few_days_after_the_change_gives_no_estimate_and_says_how_many():
    result = ev.evaluate(HAND, ev.Window(day(-2), CHANGE, day(2)), PREDICTED)
    assert result.notes[0].startswith("Only 2 full days of data after the change (on 13 Nov 2026): at least 3")
    assert all(e.observed is None for e in result.estimates)
    assert result.estimates[0].verdict.endswith("not enough data to compare")
    first = ev.evaluate(HAND, ev.Window(day(-2), CHANGE, day(4)), PREDICTED)
    assert first.notes[0].startswith("Only 4 full days after the change: a first reading")
    assert first.estimates[0].observed == -2


def test_missing_prediction():
    result = ev.evaluate(HAND, ev.Window(day(-2), CHANGE, day(9)), None)
    assert any("No prediction was stored" in n for n in result.notes)
    assert result.estimates[0].verdict.endswith("no prediction stored for this change")
    assert result.unobserved == []
    assert result.table().loc[0, "Predicted"] == "—"


def test_a_prediction_from_zero_has_no_relative_size_and_says_so():
    from_zero = {"lead_time_h": {"before": 0.0, "after": 3.0}}  # compared as relative changes: +3 h from 0 has none
    rows = [(d, "treated", 10 if d < 0 else 8, 1) for d in range(-8, 8)] + [(d, "control", 5, 1) for d in range(-8, 8)]
    e = ev.estimate(ev.daily_metrics(frame(rows)), "lead_time_h", CHANGE, from_zero)
    assert e.predicted_change == 3
    assert e.verdict.startswith("the model predicted 0 min → 3.0 h, observed −2.0 h (−20 % ± 0 %)")
    assert e.verdict.endswith("a prediction from zero has no relative size to compare with")
    assert e.judgement == "not comparable"


def test_empty_daily_frame():
    empty = pd.DataFrame(columns=["day", "group", *ev.FLOW_COLUMNS])
    result = ev.evaluate(empty, ev.Window(day(-2), CHANGE, day(9)), PREDICTED)
    assert not result.has_control
    assert [e.observed for e in result.estimates] == [None, None, None]


def test_kpi_before_after():
    rows = [dict(kpi_id="lt", name="Lead response", unit_id="sales", unit_of_measure="hours", direction="lower",
                 day=day(d), value=(5.0 if d < 0 else 3.0) + (0.1 if d % 2 else -0.1)) for d in range(-6, 6)]
    rows += [dict(kpi_id="rev", name="Revenue", unit_id="sales", unit_of_measure="EUR", direction="higher",
                  day=day(d), value=100.0 + (30 if d % 2 else -30)) for d in range(-6, 6)]
    rows += [dict(kpi_id="one", name="Once", unit_id="sales", unit_of_measure="count", direction="higher",
                  day=day(-1), value=1.0)]
    table = ev.kpi_before_after(pd.DataFrame(rows), CHANGE).set_index("kpi_id")
    assert table.loc["lt", "before"] == pytest.approx(5) and table.loc["lt", "change"] == pytest.approx(-2)
    assert table.loc["lt", "assessment"] == "better"
    assert table.loc["rev", "assessment"] == "no clear change"
    assert table.loc["one", "assessment"] == "not enough data"
    assert ev.kpi_before_after(pd.DataFrame(), CHANGE).empty


# --- queries, on SQLite and PostgreSQL ----------------------------------------------------------------------


def add_change(conn, *, units="sales", done_on=CHANGE.date(), status="done", predicted=PREDICTED, label="Content production centralised"):
    if not conn.execute(target_models.select()).first():
        conn.execute(insert(target_models).values(id=1, scenario_name="Target", inputs={}, status="current",
                                                  promoted_by="hal", promoted_at=NOW - dt.timedelta(days=40)))
    return conn.execute(insert(planned_changes).values(
        target_model_id=1, function="content", from_placement="spokes", to_placement="hub", from_share=0.0,
        to_share=1.0, label=label, units=units, owner="hal", due_on=done_on, status=status,
        done_on=done_on if status == "done" else None, predicted=predicted, updated_by="hal", updated_at=NOW,
    )).inserted_primary_key[0]


@pytest.fixture
def changed(engine):
    """tiny_org; one item a day at 08:00 to each spoke from 14 days before the change to 9 days after: sales'
    items take 4 h before and 2 h after (± 0.1 h), finance's 3 h throughout; KPI observations of sales."""
    with engine.begin() as conn:
        tiny_org(conn)
        items = []
        for d in range(-14, 10):
            created = day(d) + dt.timedelta(hours=8)
            noise = 0.1 if d % 2 else -0.1
            sales_h = (4.0 if d < 0 else 2.0) + noise
            items.append(item(f"s{d}", "hub", "sales", created, resolved=created + dt.timedelta(hours=sales_h)))
            items.append(item(f"f{d}", "hub", "finance", created, resolved=created + dt.timedelta(hours=3 + noise)))
        items.append(item("out", "sales", "hub", day(-3)))  # spoke → hub: not the spoke's own flow
        store.insert_work_items(conn, items)
        store.insert_kpi_observations(conn, [
            dict(kpi_id="conversion", ts=day(d) + dt.timedelta(hours=h), value=(4.0 if d < 0 else 5.0) + h / 100)
            for d in range(-14, 10) for h in (6, 18)
        ] + [dict(kpi_id="close_days", ts=day(d) + dt.timedelta(hours=12), value=5.0) for d in range(-3, 3)])
        ids = dict(sales=add_change(conn), everyone=add_change(conn, units="", label="Analytics centralised",
                                                                done_on=(CHANGE + dt.timedelta(days=2)).date()),
                   planned=add_change(conn, status="planned", label="CRM decentralised"))
    return engine, ids


def test_done_changes_newest_first_and_scoped_for_spoke_leads(changed):
    engine, ids = changed
    with engine.connect() as conn:
        every = done_changes(conn, EXEC)
        assert list(every.label) == ["Analytics centralised", "Content production centralised"]  # not the planned one
        row = every.set_index("id").loc[ids["sales"]]
        assert row.units == ("sales",) and row.done_on == CHANGE.date()
        assert row.predicted["lead_time_h"] == {"before": 10.0, "after": 6.0}
        assert list(done_changes(conn, SALES_LEAD).id) == [ids["everyone"], ids["sales"]]
        assert list(done_changes(conn, FINANCE_LEAD).id) == [ids["everyone"]]
        with pytest.raises(NotPermitted):
            done_changes(conn, None)


def test_evaluation_data_daily_groups_and_did(changed):
    engine, ids = changed
    with engine.connect() as conn:
        data = evaluation_data(conn, ADMIN, ids["sales"], NOW, days=14)
    assert (data.treated, data.control) == (["sales"], ["finance"])
    assert data.window.days_after == 10
    flow = data.flow
    assert len(flow) == 2 * 24 and set(flow.group) == {"treated", "control"}
    assert str(flow.day.dt.tz) == "UTC" and flow.day.min() == day(-14)
    treated = flow[flow.group == "treated"].set_index("day")
    assert treated.loc[day(-1), "created"] == 1 and treated.loc[day(9), "created"] == 1
    assert treated.created.sum() == 24  # the spoke → hub item is not sales' inbound work
    result = ev.evaluate(flow, data.window, data.change["predicted"])
    lead = result.estimates[0]
    assert lead.treated_before.mean == pytest.approx(4.0, abs=0.01)
    assert lead.treated_after.mean == pytest.approx(2.0, abs=0.01)
    assert lead.did == pytest.approx(-2.0, abs=0.02)
    assert "(difference-in-differences)" in lead.verdict
    kpi = data.kpis
    assert set(kpi.kpi_id) == {"conversion"}  # the only sales KPI with observations
    conv = kpi[kpi.kpi_id == "conversion"].set_index("day")
    assert conv.loc[day(-1), "value"] == pytest.approx(4.12)  # mean of 4.06 and 4.18
    table = ev.kpi_before_after(kpi, data.window.change_at).set_index("kpi_id")
    assert table.loc["conversion", "assessment"] == "better"


def test_evaluation_data_touching_every_spoke_has_no_control_and_a_spoke_lead_is_scoped(changed):
    engine, ids = changed
    with engine.connect() as conn:
        every = evaluation_data(conn, FINANCE_LEAD, ids["everyone"], NOW, days=14)
        assert every.control == [] and set(every.flow.group) == {"treated"}
        assert set(every.kpis.unit_id) == {"finance"}  # only the spoke lead's own KPIs
        assert set(every.kpis.kpi_id) == {"close_days"}  # a 'last' KPI: the day's last observation
        assert not ev.evaluate(every.flow, every.window, None).has_control
        with pytest.raises(NotPermitted, match="only evaluate changes that touch their spoke"):
            evaluation_data(conn, FINANCE_LEAD, ids["sales"], NOW)
        assert evaluation_data(conn, ADMIN, ids["planned"], NOW) is None  # not done
        assert evaluation_data(conn, ADMIN, 9999, NOW) is None
        with pytest.raises(ValueError, match="1 to 366 days"):
            evaluation_data(conn, ADMIN, ids["sales"], NOW, days=0)
        with pytest.raises(NotPermitted):
            evaluation_data(conn, None, ids["sales"], NOW)
