"""Cross-team checks: sales capacity outlook and finance budget shift."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard.domain.checks import capacity_outlook, channel_returns, suggest_shift

TODAY = dt.date(2026, 11, 23)


def days(values):
    return pd.Series(values, index=pd.date_range(end=pd.Timestamp(TODAY), periods=len(values), freq="D").date)


def test_growing_leads_run_out_of_capacity_on_the_extrapolated_day():
    out = capacity_outlook(days(np.arange(30) + 50.0), capacity_per_day=100, today=TODAY)  # +1 lead/day, 79 today
    assert not out.over_capacity_now
    assert out.trend_per_day == pytest.approx(1.0)
    assert out.runs_out_on == TODAY + dt.timedelta(days=21)


def test_flat_leads_under_capacity_never_run_out():
    out = capacity_outlook(days([40.0] * 30), capacity_per_day=100, today=TODAY)
    assert out.runs_out_on is None and out.recent_per_day == pytest.approx(40)


def test_over_capacity_today_is_flagged_now():
    out = capacity_outlook(days([120.0] * 10), capacity_per_day=100, today=TODAY)
    assert out.over_capacity_now and out.runs_out_on == TODAY


def test_no_complete_day_of_leads_gives_no_outlook_rather_than_an_error():
    only_today = days([30.0])  # a single day, dated TODAY
    out = capacity_outlook(only_today, capacity_per_day=10, today=TODAY - dt.timedelta(days=1))
    assert out.recent_per_day == 0 and out.runs_out_on is None and not out.over_capacity_now


def test_capacity_must_be_positive():
    with pytest.raises(ValueError, match="capacity"):
        capacity_outlook(days([1.0]), capacity_per_day=0, today=TODAY)


def campaigns(channel, spends, a, b):
    return pd.DataFrame(dict(channel=channel, spend=spends, revenue=[a * s**b for s in spends], leads=10, conversions=1))


def test_elasticity_is_recovered_and_budget_moves_to_the_best_marginal_return():
    spend = [800, 1000, 1200, 1500, 900, 1100]
    df = pd.concat([campaigns("search", spend, 40, 0.8), campaigns("display", spend, 60, 0.4)])
    r = channel_returns(df).set_index("channel")
    assert r.at["search", "elasticity"] == pytest.approx(0.8, abs=1e-6)
    assert r.at["display", "elasticity"] == pytest.approx(0.4, abs=1e-6)
    shift = suggest_shift(channel_returns(df))
    assert (shift.from_channel, shift.to_channel) == ("display", "search")
    assert shift.revenue_change > 0
    assert "diminishing returns" in shift.method


def test_no_shift_with_a_single_channel():
    assert suggest_shift(channel_returns(campaigns("search", [100, 200, 300, 400], 5, 0.8))) is None


def test_recurring_questions_on_a_spoke_page_group_similar_wordings(engine):
    """The spoke panel's recurring questions use the FAQ method: one product question asked about five
    products is one group; a statement is not a question; a question asked once is left out."""
    from dashboard import store
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries import checks
    from tests.factories import NOW, at, item, tiny_org

    products = ["X200 microwave", "K9 kettle", "Nova S blender", "AirPure 3 purifier", "Breeze tower fan"]
    texts = [f"Does anyone know where to buy the {p}?" for p in products for _ in range(2)]
    texts += ["My K9 kettle stopped working after two weeks."] * 4 + ["Is the store open on Sunday?"]
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [item(f"m{i}", "hub", "sales", at(5), kind="mention") | {"text": t}
                                       for i, t in enumerate(texts)])
    with engine.connect() as conn:
        by_topic, recurring = checks.routed_topics(conn, LOCAL_ADMIN, "sales", at(24), NOW)
    assert by_topic["items"].sum() == len(texts)
    assert list(recurring.columns) == ["question", "items", "wordings", "examples"]
    assert len(recurring) == 1
    row = recurring.iloc[0]
    assert row["items"] == 10 and row["wordings"] == 5 and row["question"].startswith("Does anyone know where to buy")
    assert row["question"] not in row["examples"] and "where to buy" in row["examples"]
