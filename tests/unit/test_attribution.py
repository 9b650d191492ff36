"""Attribution of the shared goal: the four methods on small path sets whose numbers are worked out by hand
(dashboard.domain.attribution), and the journeys query on both engines (dashboard.queries.attribution)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard.domain import attribution as at_

# --- hand-checked path sets ---------------------------------------------------------------------------------

# The classic three-channel example:
#   C1 → C2 → C3 → conversion (revenue 100)
#   C1 → null
#   C2 → C3 → null
# Transitions: start→C1 2/3, start→C2 1/3; C1→C2 1/2, C1→null 1/2; C2→C3 1; C3→conv 1/2, C3→null 1/2.
# P(conv) = 2/3·1/2·1·1/2 + 1/3·1·1/2 = 1/6 + 1/6 = 1/3 (the observed rate, 1 of 3).
# Without C1 (start→C1 goes to null): P = 1/3·1·1/2 = 1/6       → RE = 1 − (1/6)/(1/3) = 1/2
# Without C2: no path reaches C3 → P = 0                          → RE = 1
# Without C3: P = 0                                               → RE = 1
# Σ RE = 5/2 → C1 gets 1·(1/2)/(5/2) = 0.2 conversions (20 of revenue), C2 and C3 0.4 each (40).
CLASSIC = at_.journeys_frame([["C1", "C2", "C3"], ["C1"], ["C2", "C3"]], [True, False, False], [100, 0, 0])

# Repeated touches:
#   A → A → B → conversion (90);  B → null;  A → conversion (30)
# Linear per touch: journey 1 gives A 2/3, B 1/3 (revenue 60 / 30); journey 3 gives A 1 (30)
#   → A 5/3 conversions and 90, B 1/3 and 30. Over distinct teams: A 1/2 + 1, B 1/2 → A 1.5 (45 + 30 = 75), B 0.5 (45).
# Markov (repeats collapsed: A→B conv, B null, A conv): start→A 2/3, start→B 1/3; A→B 1/2, A→conv 1/2;
#   B→conv 1/2, B→null 1/2. P_B = 1/2, P_A = 1/2·1/2 + 1/2 = 3/4, P = 2/3·3/4 + 1/3·1/2 = 2/3.
#   Without A: P = 1/3·1/2 = 1/6 → RE_A = 1 − (1/6)/(2/3) = 3/4
#   Without B: P_A = 1/2 → P = 2/3·1/2 = 1/3 → RE_B = 1 − (1/3)/(2/3) = 1/2
#   Σ RE = 5/4 → A 2·(3/4)/(5/4) = 1.2 conversions (120·0.6 = 72), B 0.8 (48).
REPEATS = at_.journeys_frame([["A", "A", "B"], ["B"], ["A"]], [True, False, True], [90, 0, 30])


def by_team(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {r.team: (round(r.conversions, 9), round(r.revenue, 9)) for r in frame.itertuples()}


def test_classic_example_first_last_linear():
    assert by_team(at_.first_touch(CLASSIC)) == {"C1": (1, 100), "C2": (0, 0), "C3": (0, 0)}
    assert by_team(at_.last_touch(CLASSIC)) == {"C1": (0, 0), "C2": (0, 0), "C3": (1, 100)}
    third = round(1 / 3, 9), round(100 / 3, 9)
    assert by_team(at_.linear(CLASSIC)) == {"C1": third, "C2": third, "C3": third}


def test_classic_example_markov_removal_effects():
    chain = at_.markov_chain(CLASSIC)
    assert chain.p_conversion == pytest.approx(1 / 3)
    assert chain.p_without == pytest.approx({"C1": 1 / 6, "C2": 0.0, "C3": 0.0})
    assert chain.removal_effect == pytest.approx({"C1": 0.5, "C2": 1.0, "C3": 1.0})
    assert by_team(chain.credit) == {"C1": (0.2, 20), "C2": (0.4, 40), "C3": (0.4, 40)}
    t = chain.transitions
    assert t.loc[at_.START, "C1"] == pytest.approx(2 / 3) and t.loc["C1", at_.NULL] == pytest.approx(0.5)
    assert np.allclose(t.sum(axis=1), 1.0)  # every state's transitions are a distribution
    assert not chain.fell_back_to_linear


def test_repeated_touches_linear_counts_touches_and_markov_collapses_them():
    assert by_team(at_.linear(REPEATS)) == {"A": (round(5 / 3, 9), 90), "B": (round(1 / 3, 9), 30)}
    assert by_team(at_.linear(REPEATS, distinct=True)) == {"A": (1.5, 75), "B": (0.5, 45)}
    chain = at_.markov_chain(REPEATS)
    assert chain.p_conversion == pytest.approx(2 / 3)
    assert chain.removal_effect == pytest.approx({"A": 0.75, "B": 0.5})
    assert by_team(chain.credit) == {"A": (1.2, 72), "B": (0.8, 48)}


def test_self_loops_change_nothing_in_the_markov_method():
    kept = at_.markov_chain(REPEATS, collapse_repeats=False)
    assert kept.transitions.loc["A", "A"] == pytest.approx(1 / 3)  # A→A, A→B, A→conv
    assert kept.p_conversion == pytest.approx(2 / 3)
    assert kept.removal_effect == pytest.approx({"A": 0.75, "B": 0.5})
    assert by_team(kept.credit) == by_team(at_.markov(REPEATS))


def test_no_conversion_credits_nobody():
    j = at_.journeys_frame([["A", "B"], ["B"]], [False, False], [50, 0])
    for method in at_.METHODS:
        f = at_.attribute(j, method)
        assert list(f.team) == ["A", "B"]
        assert f.conversions.sum() == 0 and f.revenue.sum() == 0  # revenue of a non-conversion never counts
    assert at_.markov_chain(j).notes == ["no journey converted: nothing to attribute"]


def test_one_team_gets_everything_and_a_path_of_one_touch_works():
    j = at_.journeys_frame([["A"], ["A", "A"], ["A"]], [True, False, True], [10, 0, 5])
    for method in at_.METHODS:
        assert by_team(at_.attribute(j, method)) == {"A": (2, 15)}, method
    assert at_.markov_chain(j).removal_effect == {"A": 1.0}


def test_empty_input_and_journeys_without_touchpoints():
    empty = at_.journeys_frame([], [], [])
    for method in at_.METHODS:
        assert at_.attribute(empty, method).empty
    assert at_.compare(empty).empty
    j = at_.journeys_frame([[], ["A"]], [True, True], [40, 60])
    assert by_team(at_.markov(j)) == {"A": (1, 60)}  # the journey without a team is not credited to anyone
    s = at_.summary(j)
    assert (s.journeys, s.with_path, s.converted, s.revenue) == (2, 1, 1, 60)
    assert (s.unattributed_conversions, s.unattributed_revenue) == (1, 40)


def test_all_removal_effects_zero_falls_back_to_linear(monkeypatch):
    monkeypatch.setattr(at_, "_absorption", lambda q, r, keep: 0.5)  # removing a team changes nothing
    chain = at_.markov_chain(CLASSIC)
    assert chain.fell_back_to_linear and chain.removal_effect == {"C1": 0, "C2": 0, "C3": 0}
    assert by_team(chain.credit) == by_team(at_.linear(CLASSIC))


def test_every_method_sums_to_the_totals_on_random_journeys():
    rng = np.random.default_rng(7)
    names = ["hub", "sales", "product", "customer_service", "finance"]
    paths = [list(rng.choice(names, size=rng.integers(1, 7))) for _ in range(400)]
    conv = rng.random(400) < 0.3
    rev = np.round(rng.gamma(2, 200, 400), 2)
    j = at_.journeys_frame(paths, conv, rev)
    table = at_.compare(j)
    totals = table.groupby("method")[["conversions", "revenue"]].sum()
    assert np.allclose(totals.conversions, conv.sum())
    assert np.allclose(totals.revenue, rev[conv].sum())
    assert set(table.method) == set(at_.METHODS) and len(table) == 4 * len(names)
    shares = table.groupby("method")[["conversion_share", "revenue_share"]].sum()
    assert np.allclose(shares, 1.0)
    assert (table.conversions >= 0).all()


def test_journeys_standing_for_many_give_the_same_credit_as_each_one_alone():
    rng = np.random.default_rng(3)
    names = ["hub", "sales", "product"]
    paths = [tuple(rng.choice(names, size=rng.integers(1, 4))) for _ in range(300)]
    conv = rng.random(300) < 0.4
    rev = np.where(conv, 100.0, 0.0)
    one_by_one = at_.journeys_frame(paths, conv, rev)
    folded = one_by_one.groupby(["path", "converted"], as_index=False).agg(revenue=("revenue", "sum"),
                                                                            journeys=("revenue", "size"))
    a = at_.compare(one_by_one).set_index(["method", "team"]).sort_index()
    b = at_.compare(folded).set_index(["method", "team"]).sort_index()
    pd.testing.assert_frame_equal(a, b)
    assert at_.summary(folded) == at_.summary(one_by_one)


def test_compare_has_shares_and_unknown_method_is_refused():
    table = at_.compare(CLASSIC).set_index(["method", "team"])
    assert table.loc[("markov", "C2"), "conversion_share"] == pytest.approx(0.4)
    assert table.loc[("first_touch", "C1"), "revenue_share"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown attribution method 'shapley'"):
        at_.attribute(CLASSIC, "shapley")


def test_journeys_frame_refuses_mismatched_lengths_and_ignores_revenue_without_conversion():
    with pytest.raises(ValueError, match="2 paths but 1 converted"):
        at_.journeys_frame([["A"], ["B"]], [True])
    j = at_.journeys_frame([["A"], ["B"]], [True, False], [None, 99.0])
    assert list(j.revenue) == [0.0, 0.0]
    assert not math.isnan(at_.summary(j).revenue)


# --- the journeys query, on SQLite and PostgreSQL -------------------------------------------------------------

from sqlalchemy import insert  # noqa: E402

from dashboard import store  # noqa: E402
from dashboard.db import journeys  # noqa: E402
from dashboard.domain.access import NotPermitted, Role, Viewer  # noqa: E402
from dashboard.queries.attribution import journey_paths  # noqa: E402
from tests.factories import NOW, at, item, tiny_org  # noqa: E402

ADMIN = Viewer("ada@example.com", Role.ADMIN)
SALES_LEAD = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")


def journey_item(id, journey, source, target, hours_ago):
    return item(id, source, target, at(hours_ago)) | {"journey_id": journey}


@pytest.fixture
def with_journeys(engine):
    """Four journeys: j1 hub→sales→finance converts (300) and has a complaint after converting; j2 sales
    alone, not converted; j3 started before the window; j4 converted without any item."""
    with engine.begin() as conn:
        tiny_org(conn)
        conn.execute(insert(journeys), [
            dict(id="j1", started_at=at(40), converted_at=at(20), revenue=300.0),
            dict(id="j2", started_at=at(30), converted_at=None, revenue=0.0),
            dict(id="j3", started_at=at(100), converted_at=at(10), revenue=50.0),
            dict(id="j4", started_at=at(5), converted_at=at(4), revenue=70.0),
        ])
        store.insert_work_items(conn, [
            journey_item("a3", "j1", "sales", "finance", 25),  # inserted out of order: the query orders by time
            journey_item("a1", "j1", "hub", "hub", 39),  # waiting in the hub's triage queue: a hub touch
            journey_item("a2", "j1", "hub", "sales", 30),
            journey_item("a4", "j1", "hub", "sales", 15),  # after the conversion: not a touchpoint
            journey_item("b1", "j2", "hub", "sales", 29),
            journey_item("b2", "j2", "hub", "sales", 28),
            journey_item("c1", "j3", "hub", "finance", 90),
            item("x", "hub", "sales", at(3)),  # no journey
        ])
    return engine


def test_journey_paths_in_order_with_conversions(with_journeys):
    with with_journeys.connect() as conn:
        frame = journey_paths(conn, ADMIN, at(48), NOW)
    assert list(frame.journey_id) == ["j1", "j2", "j4"]  # started in the window, oldest first
    assert list(frame.path) == [("hub", "sales", "finance"), ("sales", "sales"), ()]
    assert list(frame.converted) == [True, False, True]
    assert list(frame.revenue) == [300.0, 0.0, 70.0]
    credit = at_.markov(frame).set_index("team")
    assert credit.conversions.sum() == pytest.approx(1.0)  # j4 has no team to credit
    assert credit.revenue.sum() == pytest.approx(300.0)


def test_journey_paths_empty_window_and_bad_window(with_journeys):
    with with_journeys.connect() as conn:
        empty = journey_paths(conn, SALES_LEAD, at(400), at(300))
        assert empty.empty and list(empty.columns) == ["journey_id", "converted", "revenue", "path"]
        assert at_.compare(empty).empty
        with pytest.raises(ValueError, match="end must be after its start"):
            journey_paths(conn, ADMIN, NOW, at(1))
        with pytest.raises(NotPermitted):
            journey_paths(conn, None, at(48), NOW)


# --- charts ---------------------------------------------------------------------------------------------------

from dashboard.charts import attribution_charts  # noqa: E402

KPIS = pd.DataFrame([
    dict(id="revenue", unit_id="sales", name="Revenue", parent_id=None, is_goal=True),
    dict(id="conv", unit_id="sales", name="Conversion rate", parent_id="revenue", is_goal=True),
    dict(id="content", unit_id="hub", name="Content output", parent_id="conv", is_goal=False),
    dict(id="close", unit_id="finance", name="Days to close", parent_id="revenue", is_goal=False),
])
NAMES = {"hub": "Marketing hub", "sales": "Sales", "finance": "Finance"}


def test_kpi_tree_puts_the_goal_at_the_root_and_sizes_teams_by_credit():
    journeys = at_.journeys_frame([["hub", "sales"], ["sales"], ["finance"]], [True, True, False], [300, 100, 0])
    fig = attribution_charts.kpi_tree(KPIS, at_.first_touch(journeys), NAMES, method_label="First touch")
    tree = fig.data[0]
    assert tree.labels[0] == "Journey revenue · €400"
    rows = dict(zip(tree.ids, zip(tree.labels, tree.parents, tree.values)))
    assert rows["team:hub"] == ("Marketing hub · €300 · 75.0 %", "goal", 0.0)  # its KPI holds its size
    assert rows["kpi:content"] == ("Content output", "team:hub", 300.0)
    assert rows["team:sales"][0] == "Sales · €100 · 25.0 %"
    assert rows["kpi:conv"] == ("Conversion rate", "team:sales", 100.0)  # the goal itself is the root, not a box
    assert "kpi:revenue" not in rows and "team:finance" not in rows  # no credit: left out (the view names it)
    assert tree.branchvalues == "remainder"
    by_conv = attribution_charts.kpi_tree(KPIS, at_.first_touch(journeys), NAMES, measure="conversions").data[0]
    assert by_conv.labels[0] == "Converted journeys · 2 conversions"


def test_kpi_tree_without_a_kpi_tree_or_unknown_teams():
    credit = pd.DataFrame({"team": ["ghost"], "conversions": [1.0], "revenue": [10.0]})
    tree = attribution_charts.kpi_tree(KPIS.iloc[0:0], credit, {}).data[0]
    assert list(tree.labels) == ["Journey revenue · €10", "ghost · €10 · 100.0 %"]
    assert list(tree.values) == [0.0, 10.0]  # a team without KPIs is a box of its own size


def test_method_comparison_has_one_bar_group_per_method():
    fig = attribution_charts.method_comparison(at_.compare(CLASSIC), {"C1": "Channel 1"})
    assert [t.name for t in fig.data] == list(at_.METHODS.values())
    markov = fig.data[3]
    assert list(markov.x) == ["C2", "C3", "Channel 1"] and list(markov.y) == pytest.approx([40, 40, 20])
    assert markov.customdata[2][0] == "€20" and markov.customdata[2][1] == "20.0 %"
