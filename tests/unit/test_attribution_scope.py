"""Attribution as each viewer may see it, enforced in the query layer: executives, hub leads and admins get every
team's credit; a spoke lead gets their own team's (the same figure everybody sees) and the other teams only summed
together, and journey_paths hands them only their own touchpoints. Figures are checked against first and last touch
worked out by hand from the raw journeys below."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import journeys
from dashboard.domain import attribution as at_
from dashboard.domain.access import NotPermitted, Role, Viewer
from dashboard.queries.attribution import journey_paths, team_credit
from tests.factories import NOW, at, item, tiny_org

ADMIN = Viewer("ada@example.com", Role.ADMIN)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES_LEAD = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
JOURNEYS = {  # id: (hours ago started, converted hours ago or None, revenue, path of (unit, hours ago))
    "j1": (40, 20, 300.0, [("hub", 39), ("sales", 30), ("finance", 25)]),
    "j2": (30, None, 0.0, [("sales", 29), ("sales", 28)]),
    "j3": (20, 2, 120.0, [("finance", 19), ("sales", 10)]),
    "j4": (12, 3, 80.0, [("sales", 11)]),
}


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
        conn.execute(insert(journeys), [dict(id=j, started_at=at(s), revenue=r,
                                             converted_at=at(c) if c is not None else None)
                                        for j, (s, c, r, _p) in JOURNEYS.items()])
        store.insert_work_items(conn, [
            item(f"{j}-{k}", "hub" if unit != "hub" else "sales", unit, at(h)) | {"journey_id": j}
            for j, (_s, _c, _r, path) in JOURNEYS.items() for k, (unit, h) in enumerate(path)])
    return engine


def by_hand(pick) -> dict[str, float]:
    """Revenue per team when each converted journey's revenue goes to ``pick(path)``."""
    out: dict[str, float] = {}
    for _s, converted, revenue, path in JOURNEYS.values():
        if converted is not None:
            team = pick([u for u, _h in path])
            out[team] = out.get(team, 0.0) + revenue
    return out


def revenue(table: pd.DataFrame, method: str) -> dict[str, float]:
    rows = table[table.method == method]
    return {t: r for t, r in zip(rows.team, rows.revenue) if r}


@pytest.mark.parametrize("viewer", [ADMIN, EXEC], ids=["admin", "executive"])
def test_everyone_who_sees_the_organisation_gets_every_teams_credit(org, viewer):
    with org.connect() as conn:
        credit = team_credit(conn, viewer, at(48), NOW)
    assert not credit.scoped
    assert credit.summary.journeys == 4 and credit.summary.converted == 3
    assert credit.summary.revenue == pytest.approx(500.0)
    assert revenue(credit.table, "first_touch") == pytest.approx(by_hand(lambda p: p[0]))
    assert revenue(credit.table, "last_touch") == pytest.approx(by_hand(lambda p: p[-1]))
    assert set(credit.chain.teams) == {"hub", "sales", "finance"}


def test_a_spoke_lead_gets_their_own_teams_credit_and_the_others_only_together(org):
    with org.connect() as conn:
        everyone = team_credit(conn, ADMIN, at(48), NOW)
        mine = team_credit(conn, SALES_LEAD, at(48), NOW)
    assert mine.scoped
    assert set(mine.table.team) == {"sales", at_.OTHERS}
    for method in at_.METHODS:
        theirs, own = everyone.table[everyone.table.method == method], mine.table[mine.table.method == method]
        sales = lambda t: t[t.team == "sales"][["conversions", "revenue", "revenue_share"]].to_numpy()  # noqa: E731
        assert sales(own) == pytest.approx(sales(theirs))  # the same figure everybody sees for Sales
        others = own[own.team == at_.OTHERS].iloc[0]
        rest = theirs[theirs.team != "sales"]
        assert others.revenue == pytest.approx(rest.revenue.sum())
        assert others.conversions == pytest.approx(rest.conversions.sum())
    assert mine.summary == everyone.summary  # the goal's totals are the whole organisation's
    assert mine.chain.teams == ["sales"] and mine.chain.transitions.empty
    assert set(mine.chain.removal_effect) == {"sales"}
    assert mine.chain.p_conversion == pytest.approx(everyone.chain.p_conversion)


def test_a_spoke_lead_reads_only_their_own_touchpoints(org):
    with org.connect() as conn:
        paths = journey_paths(conn, SALES_LEAD, at(48), NOW).set_index("journey_id").path
        whole = journey_paths(conn, ADMIN, at(48), NOW).set_index("journey_id").path
    assert whole["j1"] == ("hub", "sales", "finance")
    assert paths.to_dict() == {"j1": ("sales",), "j2": ("sales", "sales"), "j3": ("sales",), "j4": ("sales",)}


def test_without_a_viewer_nothing_is_read(org):
    with org.connect() as conn:
        for viewer in (None, Viewer("x", Role.NONE)):
            with pytest.raises(NotPermitted):
                team_credit(conn, viewer, at(48), NOW)
        with pytest.raises(ValueError, match="end must be after its start"):
            team_credit(conn, ADMIN, NOW, at(1))


def test_scoping_a_frame_keeps_the_totals_and_every_share():
    frame = at_.journeys_frame([("hub", "sales"), ("finance",), ("sales",)], [True, True, False], [100.0, 50.0, 0.0])
    table = at_.compare(frame)
    assert at_.scope_credit(table, None) is table
    scoped = at_.scope_credit(table, {"sales"})
    for method in at_.METHODS:
        whole, part = table[table.method == method], scoped[scoped.method == method]
        assert part.revenue.sum() == pytest.approx(whole.revenue.sum())
        assert part.revenue_share.sum() == pytest.approx(1.0)
    assert at_.scope_credit(table.iloc[0:0], {"sales"}).empty
