"""The operating-model cycle: predicted effect of a change, planned changes between two models, and the
queries (assessments, promotion, changes, annotations) on both engines."""

from __future__ import annotations

import math

import pytest

from dashboard.whatif import changes as cycle
from dashboard.whatif.inputs import InputError, default_inputs

SPOKES = ["sales", "finance", "product"]


def test_predict_change_centralising_content_adds_handoffs_and_cuts_cost():
    inputs = default_inputs(SPOKES, central_share=0.0)
    predicted = cycle.predict_change(inputs, "content_production", 1.0)
    assert set(predicted) >= {"lead_time_h", "handoffs", "cost_per_year", "sla_share"}
    assert predicted["handoffs"] == {"before": 0.0, "after": 1.0}  # requests from the spokes cross once to the hub
    assert predicted["cost_per_year"]["after"] < predicted["cost_per_year"]["before"]
    assert 0 < predicted["sla_share"]["before"] <= 1
    assert all(math.isfinite(v) for pair in predicted.values() for v in pair.values())
    # the input is not changed, and the "before" is the model as given
    assert inputs.functions["content_production"].central_share == 0.0


def test_predict_change_refuses_unknown_function_and_bad_share():
    inputs = default_inputs(SPOKES)
    with pytest.raises(InputError):
        cycle.predict_change(inputs, "astrology", 1.0)
    with pytest.raises(InputError):
        cycle.predict_change(inputs, "content_production", 1.5)


def test_planned_changes_one_per_moved_function_with_labels():
    current = default_inputs(SPOKES, central_share=0.0)
    target = current.with_shares({"content_production": 1.0, "analytics_reporting": 0.6,
                                  "campaign_planning": 0.02})  # 2 points: drift, not a change
    changes = cycle.planned_changes_from(current, target)
    assert [c["function"] for c in changes] == ["content_production", "analytics_reporting"]
    content, analytics = changes
    assert content["label"] == "Content production centralised"
    assert (content["from_placement"], content["to_placement"]) == ("spokes", "hub")
    assert (content["from_share"], content["to_share"]) == (0.0, 1.0)
    assert content["units"] == ""  # every spoke has content demand
    assert content["predicted"] == cycle.predict_change(current, "content_production", 1.0)
    assert analytics["label"].startswith("Analytics & reporting made hybrid")
    assert analytics["to_placement"] == "hybrid"
    back = cycle.planned_changes_from(target, current)
    assert back[0]["label"] == "Content production decentralised"


def test_units_name_only_the_spokes_with_demand():
    inputs = default_inputs(SPOKES).with_demand("content_production", {"sales": 2.0, "product": 1.0})
    assert cycle.units_text(inputs, "content_production") == "sales,product"
    assert cycle.touched_spokes(inputs, "content_production") == ["sales", "product"]


def test_describe_prediction_is_readable():
    lines = cycle.describe_prediction({"lead_time_h": {"before": 28.57, "after": None},
                                       "cost_per_year": {"before": 874159.1, "after": 429000.0},
                                       "sla_share": {"before": 0.95, "after": 0.99}})
    assert lines == ["Lead time (mean, h): 28.6 h → unbounded", "Cost / year: €874,159 → €429,000",
                     "Within SLA: 95% → 99%"]


# --- queries, on SQLite and PostgreSQL ---------------------------------------------------------------------------

import datetime as dt  # noqa: E402

from sqlalchemy import select  # noqa: E402

from dashboard.db import audit_log, planned_changes  # noqa: E402
from dashboard.domain import maturity  # noqa: E402
from dashboard.domain.access import NotPermitted, Role, Viewer  # noqa: E402
from dashboard.queries import cycle as q  # noqa: E402
from dashboard.services import cycle as cycle_service  # noqa: E402
from dashboard.services import scenarios as scenario_service  # noqa: E402
from dashboard.whatif.inputs import dump_inputs  # noqa: E402
from tests.factories import NOW, tiny_org  # noqa: E402

HUB = Viewer("hal@example.com", Role.HUB_LEAD)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
FINANCE = Viewer("fay@example.com", Role.SPOKE_LEAD, unit="finance")
BASE = default_inputs([("sales", "Sales"), ("finance", "Finance")], central_share=0.0)


def _scenario(conn, name, inputs):
    return scenario_service.save_scenario(conn, HUB, name=name, description=None, inputs=dump_inputs(inputs),
                               inputs_version=inputs.inputs_version, results=None, now=NOW)


def _actions(conn):
    return [r.action for r in conn.execute(select(audit_log.c.action).order_by(audit_log.c.id))]


@pytest.fixture
def org(engine):
    with engine.begin() as conn:
        tiny_org(conn)
    return engine


def test_assessments_saved_listed_and_audited(org):
    scores = dict(function="content_production", structure=2, processes=3, data_management=1, technology=4)
    with org.begin() as conn:
        first = cycle_service.save_assessment(conn, HUB, scores, now=NOW - dt.timedelta(days=30))
        cycle_service.save_assessment(conn, HUB, {**scores, "structure": 4, "note": "new owner"}, now=NOW)
        cycle_service.save_assessment(conn, HUB, {**scores, "function": "analytics_reporting"}, now=NOW)
    with org.connect() as conn:
        history = q.assessments(conn, SALES, "content_production")
        assert history.id.tolist()[0] == first and len(history) == 2
        assert history.structure.tolist() == [2, 4] and history.note.tolist() == [None, "new owner"]
        assert history.overall.tolist() == [2.5, 3.0]
        assert str(history.assessed_at.dt.tz) == "UTC"
        assert len(q.assessments(conn, EXEC)) == 3
        assert _actions(conn) == ["cycle_assessment"] * 3
    with pytest.raises(maturity.AssessmentError, match="Technology: a whole number from 1 to 5"):
        with org.begin() as conn:
            cycle_service.save_assessment(conn, HUB, {**scores, "technology": 9})
    for viewer in (SALES, EXEC):
        with pytest.raises(NotPermitted):
            with org.begin() as conn:
                cycle_service.save_assessment(conn, viewer, scores)
    with org.connect() as conn:
        assert len(q.assessments(conn, HUB)) == 3


@pytest.mark.slow
def test_promote_creates_changes_then_supersedes(org):
    first_target = BASE.with_shares({"content_production": 1.0})
    second_target = BASE.with_shares({"content_production": 1.0, "analytics_reporting": 1.0})
    with org.begin() as conn:
        one = _scenario(conn, "Central content", first_target)
        two = _scenario(conn, "Central content + analytics", second_target)
    with org.connect() as conn:
        assert q.target_model(conn, HUB) is None
    with org.connect() as conn:  # the preview writes nothing, and any role may look
        preview = cycle_service.preview_promotion(conn, SALES, one, baseline=dump_inputs(BASE), now=NOW)
        assert [c["label"] for c in preview] == ["Content production centralised"]
        assert q.target_model(conn, HUB) is None and cycle_service.preview_promotion(conn, HUB, 99999) is None
    with org.begin() as conn:
        first = cycle_service.promote_scenario(conn, HUB, one, baseline=dump_inputs(BASE), note="Q1 plan", now=NOW)
    with org.connect() as conn:
        model = q.target_model(conn, SALES)
        assert (model.id, model.scenario_name, model.status, model.promoted_by) == (first, "Central content", "current", HUB.user)
        assert model.note == "Q1 plan" and model.results["totals"]["total_cost"] > 0
        changes = model.changes
        assert changes.label.tolist() == ["Content production centralised"]
        change = changes.iloc[0]
        assert (change.from_placement, change.to_placement, change.status, change.version) == ("spokes", "hub", "planned", 1)
        assert change.units == ""  # both spokes have content demand
        assert change.predicted == cycle.predict_change(BASE, "content_production", 1.0)
    with org.begin() as conn:  # give the open change an owner: it is carried into the next model
        cycle_service.update_change(conn, HUB, int(change.id), version=1, owner="Olga", due_on=dt.date(2026, 12, 1), now=NOW)
        assert [c["label"] for c in cycle_service.preview_promotion(conn, HUB, two)] == [
            "Content production centralised", "Analytics & reporting centralised"]
        second = cycle_service.promote_scenario(conn, HUB, two, now=NOW + dt.timedelta(hours=1))
    with org.connect() as conn:
        model = q.target_model(conn, HUB)
        assert model.id == second
        # compared with the organisation as it is: the first model's content change was never done
        assert model.changes.label.tolist() == ["Content production centralised", "Analytics & reporting centralised"]
        carried = model.changes.iloc[0]
        assert (carried.owner, carried.due_on) == ("Olga", dt.date(2026, 12, 1))
        history = q.target_history(conn, HUB)
        assert history.set_index("id").status.to_dict() == {first: "superseded", second: "current"}
        old = conn.execute(select(planned_changes.c.status).where(planned_changes.c.target_model_id == first)).scalars().all()
        assert old == ["dropped"]
        assert _actions(conn).count("cycle_promote") == 2
        assert cycle_service.promote_scenario(conn, HUB, 99999) is None  # deleted meanwhile: nothing written
    with pytest.raises(NotPermitted):
        with org.begin() as conn:
            cycle_service.promote_scenario(conn, EXEC, one)


def test_done_changes_are_not_planned_again(org):
    target = BASE.with_shares({"content_production": 1.0})
    with org.begin() as conn:
        sid = _scenario(conn, "Central content", target)
        cycle_service.promote_scenario(conn, HUB, sid, baseline=BASE, now=NOW)
        change = q.target_model(conn, HUB).changes.iloc[0]
        cycle_service.update_change(conn, HUB, int(change.id), version=1, status="done", now=NOW)
        again = cycle_service.promote_scenario(conn, HUB, sid, now=NOW)
        assert q.target_model(conn, HUB).id == again
        assert q.target_model(conn, HUB).changes.empty  # done already: the organisation is there


def test_update_change_versions_and_validation(org):
    with org.begin() as conn:
        sid = _scenario(conn, "Central content", BASE.with_shares({"content_production": 1.0}))
        cycle_service.promote_scenario(conn, HUB, sid, baseline=BASE, now=NOW)
        cid = int(q.target_model(conn, HUB).changes.id.iloc[0])
    today = NOW.date()
    with org.begin() as conn:
        v2 = cycle_service.update_change(conn, HUB, cid, version=1, owner=" Olga ", now=NOW)
        assert v2 == 2
        assert cycle_service.update_change(conn, HUB, cid, version=2, owner="Olga", now=NOW) == 2  # nothing changed
    with pytest.raises(cycle_service.StaleChange, match="was changed by hal@example.com"):
        with org.begin() as conn:
            cycle_service.update_change(conn, HUB, cid, version=1, status="done", now=NOW)
    with pytest.raises(cycle_service.CycleError, match="cannot be done in the future"):
        with org.begin() as conn:
            cycle_service.update_change(conn, HUB, cid, version=2, status="done", done_on=today + dt.timedelta(days=1), now=NOW)
    with pytest.raises(cycle_service.CycleError, match="Status must be one of"):
        with org.begin() as conn:
            cycle_service.update_change(conn, HUB, cid, version=2, status="finished", now=NOW)
    with pytest.raises(cycle_service.CycleError, match="not a date"):
        with org.begin() as conn:
            cycle_service.update_change(conn, HUB, cid, version=2, due_on="next week", now=NOW)
    with pytest.raises(NotPermitted):
        with org.begin() as conn:
            cycle_service.update_change(conn, SALES, cid, version=2, status="done", now=NOW)
    with org.begin() as conn:
        assert cycle_service.update_change(conn, HUB, cid, version=2, status="done", now=NOW) == 3
        row = q.target_model(conn, HUB).changes.iloc[0]
        assert (row.status, row.done_on, row.owner, row.version) == ("done", today, "Olga", 3)
        assert cycle_service.update_change(conn, HUB, cid, version=3, status="planned", now=NOW) == 4
        assert q.target_model(conn, HUB).changes.iloc[0].done_on is None
        assert cycle_service.update_change(conn, HUB, -5, version=1, status="done") is None
        assert _actions(conn).count("cycle_change") == 3


@pytest.mark.slow
def test_annotations_window_and_spoke_scoping(org):
    inputs = BASE.with_demand("analytics_reporting", {"finance": 2.0})
    target = inputs.with_shares({"content_production": 1.0, "analytics_reporting": 1.0, "social_listening": 1.0})
    with org.begin() as conn:
        sid = _scenario(conn, "Centralise", target)
        cycle_service.promote_scenario(conn, HUB, sid, baseline=inputs, now=NOW)
        changes = q.target_model(conn, HUB).changes.set_index("function")
        assert changes.loc["analytics_reporting", "units"] == "finance"
        days = {"content_production": 20, "analytics_reporting": 10}  # social listening stays planned
        for function, ago in days.items():
            cycle_service.update_change(conn, HUB, int(changes.loc[function, "id"]), version=1, status="done",
                            done_on=NOW.date() - dt.timedelta(days=ago), now=NOW)
    start, end = NOW - dt.timedelta(days=30), NOW
    with org.connect() as conn:
        everything = q.annotations(conn, EXEC, start, end)
        assert everything.label.tolist() == ["Content production centralised", "Analytics & reporting centralised"]
        assert everything.date.tolist() == [NOW.date() - dt.timedelta(days=20), NOW.date() - dt.timedelta(days=10)]
        assert everything.units.tolist() == [[], ["finance"]]
        # a spoke lead's spoke page: changes touching their spoke or every spoke
        assert q.annotations(conn, SALES, start, end, unit="sales").label.tolist() == ["Content production centralised"]
        assert len(q.annotations(conn, FINANCE, start, end, unit="finance")) == 2
        assert len(q.annotations(conn, SALES, start, end)) == 2  # the overview is organisation-wide
        with pytest.raises(NotPermitted):
            q.annotations(conn, SALES, start, end, unit="finance")
        assert q.annotations(conn, EXEC, NOW - dt.timedelta(days=15), end).label.tolist() == [
            "Analytics & reporting centralised"]
        assert q.annotations(conn, EXEC, NOW - dt.timedelta(days=5), end).empty


# --- charts ---------------------------------------------------------------------------------------------------

import pandas as pd  # noqa: E402

from dashboard.charts import cycle_charts, spoke_charts  # noqa: E402


def test_add_annotations_draws_a_dashed_line_and_label_per_change():
    import plotly.graph_objects as go

    frame = pd.DataFrame({"date": [dt.date(2026, 11, 2), dt.date(2026, 11, 9)],
                          "label": ["Content production centralised", "A very long label " * 4]})
    fig = cycle_charts.add_annotations(go.Figure(go.Scatter(x=["2026-11-01", "2026-11-10"], y=[1, 2])), frame)
    assert [s.x0 for s in fig.layout.shapes] == ["2026-11-02", "2026-11-09"]
    assert all(s.line.dash == "dash" and s.yref == "paper" for s in fig.layout.shapes)
    texts = [a.text for a in fig.layout.annotations]
    assert texts[0] == "Content production centralised" and texts[1].endswith("…") and len(texts[1]) <= 36
    assert len(fig.data) == 1
    assert cycle_charts.add_annotations(go.Figure(), None).layout.shapes == ()


def test_spoke_trend_charts_take_annotations():
    ts = pd.date_range("2026-11-01", periods=4, freq="D", tz="UTC")
    trend = pd.DataFrame({"ts": list(ts) * 2, "direction": ["in"] * 4 + ["out"] * 4, "created": range(8),
                          "backlog": range(8), "breaches": [0] * 8})
    changes = ((dt.date(2026, 11, 2), "Content production centralised", ()),)
    for chart in (spoke_charts.flow_volume, spoke_charts.backlog_and_breaches):
        fig = chart(trend, changes)
        assert [s.x0 for s in fig.layout.shapes] == ["2026-11-02"]
        assert chart(trend).layout.shapes == ()


def test_radar_and_trend():
    latest = dict(structure=3, processes=2, data_management=4, technology=5)
    fig = cycle_charts.radar(latest, dict(structure=2, processes=2, data_management=3, technology=3))
    assert [t.name for t in fig.data] == ["Previous", "Latest"]
    assert list(fig.data[1].r) == [3.0, 2.0, 4.0, 5.0, 3.0]  # closed
    assert list(fig.layout.polar.radialaxis.range) == [0, 5]
    assert len(cycle_charts.radar(latest).data) == 1
    history = pd.DataFrame([dict(assessed_at=pd.Timestamp("2026-10-01", tz="UTC"), **latest),
                            dict(assessed_at=pd.Timestamp("2026-11-01", tz="UTC"), **latest)])
    fig = cycle_charts.trend(maturity.trend(history))
    assert [t.name for t in fig.data] == ["Structure", "Processes", "Data management", "Technology", "Overall"]
    assert list(fig.layout.yaxis.range) == [0.5, 5.5]


def test_implement_table_edits_become_update_calls():
    from dashboard.ui.operating_model.implement import edits

    before = pd.DataFrame({"id": [1, 2, 3, 4], "version": [1, 2, 1, 5], "Change": ["a", "b", "c", "d"],
                           "Owner": ["", "Olga", "", ""], "Due": [None, dt.date(2026, 12, 1), None, None],
                           "Status": ["planned", "planned", "planned", "done"],
                           "Done on": [None, None, None, dt.date(2026, 11, 2)]})
    after = before.copy()
    after.loc[0, "Owner"] = " Piet "
    after.loc[1, "Status"] = "done"                      # done, no date: the query dates it today
    after.loc[2, "Done on"] = dt.date(2026, 11, 20)       # a date on a planned change marks it done
    after.loc[3, "Status"] = "planned"                   # undone: the date goes
    assert edits(before, after) == [
        (1, 1, "a", {"owner": " Piet "}),
        (2, 2, "b", {"status": "done", "done_on": None}),
        (3, 1, "c", {"status": "done", "done_on": dt.date(2026, 11, 20)}),
        (4, 5, "d", {"status": "planned", "done_on": dt.date(2026, 11, 2)}),
    ]
    assert edits(before, before.copy()) == []
