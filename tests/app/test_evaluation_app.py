"""The Operating model page's Evaluate and Attribution tabs through the real app (AppTest): a done change with its
before/after, difference-in-differences and prediction; journeys credited to teams by each method on the KPI tree;
the empty states; a spoke lead sees only the changes touching their spoke."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import insert

from dashboard import store
from dashboard.db import journeys, make_engine, planned_changes, target_models
from tests.factories import item, sample_database

PAGE = "pages/operating_model_page.py"
UTC = dt.UTC
PREDICTED = {"lead_time_h": {"before": 10.0, "after": 7.0}, "handoffs": {"before": 1.0, "after": 1.5},
             "cost_per_year": {"before": 400_000.0, "after": 380_000.0}, "sla_share": {"before": 0.8, "after": 0.85}}
FAY = {"email": "fay@example.com", "role": "spoke_lead", "unit": "finance", "sub": "fay"}
SAM = {"email": "sam@example.com", "role": "spoke_lead", "unit": "sales", "sub": "sam"}


def _today() -> dt.datetime:
    return dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@pytest.fixture
def cycle_db(tmp_path, use_db):
    """The sample organisation plus three weeks of daily items to sales (4 h before a change done 8 days ago,
    2 h since) and finance (3 h throughout), that change ('Content production centralised', touching sales),
    and six journeys over the hub, sales and finance."""
    url = sample_database(tmp_path / "cycle.db")
    engine = make_engine(url)
    today = _today()
    change_day = today - dt.timedelta(days=8)
    with engine.begin() as conn:
        items = []
        for d in range(-14, 8):
            created = change_day + dt.timedelta(days=d, hours=8)
            noise = 0.1 * (d % 3)
            sales_h = (4.0 if d < 0 else 2.0) + noise
            items.append(item(f"ev-s{d}", "hub", "sales", created, resolved=created + dt.timedelta(hours=sales_h)))
            items.append(item(f"ev-f{d}", "hub", "finance", created, resolved=created + dt.timedelta(hours=3 + noise)))
        paths = {"j1": ["hub", "sales"], "j2": ["sales"], "j3": ["finance", "sales"], "j4": ["hub"],
                 "j5": ["sales", "sales"], "j6": ["finance"]}
        revenue = {"j1": 300.0, "j2": 100.0, "j3": 200.0, "j5": 50.0}
        rows = []
        for n, (jid, path) in enumerate(paths.items()):
            started = today - dt.timedelta(days=5 + n)
            rows.append(dict(id=jid, started_at=started, revenue=revenue.get(jid, 0.0),
                             converted_at=started + dt.timedelta(days=1) if jid in revenue else None))
            for k, unit in enumerate(path):
                source = "hub" if unit != "hub" else "sales"
                items.append(item(f"{jid}-{k}", source, unit, started + dt.timedelta(hours=k + 1)) | {"journey_id": jid})
        store.insert_work_items(conn, items)
        conn.execute(insert(journeys), rows)
        conn.execute(insert(target_models).values(id=1, scenario_name="Target", inputs={}, status="current",
                                                  promoted_by="hal", promoted_at=today - dt.timedelta(days=30)))
        conn.execute(insert(planned_changes).values(
            target_model_id=1, function="content_production", from_placement="spokes", to_placement="hub",
            from_share=0.0, to_share=1.0, label="Content production centralised", units="sales", owner="hal",
            due_on=change_day.date(), status="done", done_on=change_day.date(), predicted=PREDICTED,
            updated_by="hal", updated_at=today))
    engine.dispose()
    return use_db(url)



def _tab(at, label):
    return next(t for t in at.tabs if t.label == label)


def _text(block) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning") for e in getattr(block, kind)]
    return "\n".join(str(p) for p in parts)


def _charts(block) -> list[dict]:
    return [json.loads(c.proto.spec) for c in block.get("plotly_chart")]


def test_evaluate_tab_shows_did_and_the_prediction(app, cycle_db):
    at = app(PAGE).run()
    assert not at.exception
    tab = _tab(at, "Evaluate")
    change = tab.selectbox(key="ev_change")
    assert change.options[0].startswith("Content production centralised · done ")
    assert change.options[0].endswith(" · Sales")
    table = tab.dataframe[0].value.set_index("Metric")
    lead = table.loc["Lead time (mean)"]
    assert lead.Before.endswith(" h") and lead.Predicted == "10.0 h → 7.0 h"
    did = float(lead.DiD.split(" h ±")[0].replace("−", "-"))  # 2 h shorter at sales; the sample's own day adds a little
    assert did == pytest.approx(-2.0, abs=0.3)
    assert lead.Verdict in {"in line with the prediction", "larger than predicted"}  # −2 h on ~4 h: about −50 %
    assert table.loc["Cost per year", "Verdict"] == "prediction only"
    text = _text(tab)
    # the observed −2 h give or take the sample's own day, which depends on the hour the test runs
    assert "Lead time (mean): the model predicted −30 % (10.0 h → 7.0 h), observed −" in text
    assert "(difference-in-differences)" in text
    assert "Touched: Sales. Compared with: Finance." in text
    assert "Model check:" in text
    charts = _charts(tab)
    assert any("prediction beside what happened" in c["layout"]["title"]["text"] for c in charts)
    series = next(c for c in charts if c["layout"]["title"]["text"] == "Lead time (mean) per day")
    assert {t.get("name") for t in series["data"]} >= {"Touched spokes", "Untouched spokes"}
    tab.selectbox(key="ev_days").set_value(14).run()
    assert not at.exception
    _tab(at, "Evaluate").radio(key="ev_series").set_value("sla_share").run()
    assert not at.exception
    assert any(c["layout"]["title"]["text"] == "Resolved within SLA per day" for c in _charts(_tab(at, "Evaluate")))


def test_attribution_tab_credits_teams_on_the_kpi_tree(app, cycle_db):
    at = app(PAGE).run()
    tab = _tab(at, "Attribution")
    assert [m.label for m in tab.metric] == ["Journeys started", "Journeys converted", "Journey conversion",
                                             "Journey revenue"]
    assert [m.value for m in tab.metric] == ["6", "4", "66.7 %", "€650"]  # j1, j2, j3, j5 of six converted
    tree = next(c for c in _charts(tab) if c["data"][0]["type"] == "treemap")
    assert tree["data"][0]["labels"][0] == "Journey revenue · €650"
    assert tree["layout"]["title"]["subtitle"]["text"] == "Markov chain (removal effect)"
    table = tab.dataframe[0].value.set_index("Team")
    assert list(table.columns) == ["First touch", "Last touch", "Linear", "Markov chain (removal effect)"]
    # first touch: j1 → hub (300), j2 → sales (100), j3 → finance (200), j5 → sales (50): €650 in all
    assert table.loc["Sales", "First touch"] == "€150 (23.1 %)"
    assert table.loc["Marketing hub", "First touch"] == "€300 (46.2 %)"
    assert table.loc["Sales", "Last touch"] == "€650 (100.0 %)"
    assert "No credit under" not in _text(tab)
    tab.segmented_control(key="at_measure").set_value("conversions").run()
    tab = _tab(at, "Attribution")
    assert tab.dataframe[0].value.set_index("Team").loc["Sales", "Last touch"] == "4 conversions (100.0 %)"
    tab.selectbox(key="at_method").set_value("last_touch").run()
    tab = _tab(at, "Attribution")
    tree = next(c for c in _charts(tab) if c["data"][0]["type"] == "treemap")
    assert tree["layout"]["title"]["subtitle"]["text"] == "Last touch"
    # the hub and finance get nothing under last touch, and the page says why
    assert "No credit under Last touch: Finance, Marketing hub — never the last touch before a conversion." \
        in _text(tab)
    assert not at.exception


def _number(text: str) -> float:
    """'€3.86M' -> 3860000.0, '€1,234' -> 1234.0: the figure a reader takes from a formatted value."""
    import re

    found = re.search(r"(-?[\d,]+(?:\.\d+)?)\s*([kMB]?)", text)
    return float(found.group(1).replace(",", "")) * {"": 1, "k": 1e3, "M": 1e6, "B": 1e9}[found.group(2)]


def test_attribution_never_reuses_a_shared_goal_label_for_another_number(app, cycle_db):
    """The overview's shared-goal tiles and the Attribution tab: a label both show means the same figure; the
    journeys' own figures carry labels of their own, and the goal's figure is quoted as the overview shows it."""
    overview = app("pages/overview_page.py", window="30d").run()
    assert not overview.exception, overview.exception
    goals = {m.label: m.value for m in overview.metric}
    assert {"Revenue", "Conversion rate"} <= set(goals)
    tab = _tab(app(PAGE).run(), "Attribution")
    mine = {m.label: m.value for m in tab.metric}
    for label in set(goals) & set(mine):
        assert _number(mine[label]) == pytest.approx(_number(goals[label]), rel=0.01), label
    assert not set(goals) & set(mine)  # the journeys' figures have names of their own
    quoted = next(c.value for c in tab.caption if "For comparison, the shared goal Revenue" in c.value)
    assert quoted.endswith(f"{goals['Revenue']}, as on the overview.")
    tree = next(c for c in _charts(tab) if c["data"][0]["type"] == "treemap")
    assert not tree["data"][0]["labels"][0].startswith(tuple(goals))  # the root is the journeys' total


def test_a_spoke_lead_sees_their_own_teams_credit_and_the_others_only_together(app, cycle_db, sign_in):
    at = app(PAGE).run()
    everyone = _tab(at, "Attribution").dataframe[0].value.set_index("Team")
    sign_in(SAM)
    at = app(PAGE).run()
    assert not at.exception, at.exception
    tab = _tab(at, "Attribution")
    table = tab.dataframe[0].value.set_index("Team")
    assert list(table.index) == ["Sales", "Other teams"]
    assert table.loc["Sales"].to_dict() == everyone.loc["Sales"].to_dict()  # the same figure everybody sees
    assert table.loc["Other teams", "First touch"] == "€500 (76.9 %)"  # hub 300 + finance 200, summed
    shown_text = _text(tab) + json.dumps(_charts(tab)) + tab.dataframe[0].value.to_json()
    for other in ("Marketing hub", "Finance"):
        assert other not in shown_text
    assert "you see your own team's credit" in _text(tab)
    with_chain = [d.value for d in tab.dataframe if "Removal effect" in d.value.columns]
    assert all(list(frame.Team) == ["Sales"] for frame in with_chain)


def test_empty_states(app, app_db):
    at = app(PAGE).run()
    assert not at.exception
    assert "No change has been marked done yet: mark one done on the Implement tab" in _text(_tab(at, "Evaluate"))
    assert "No customer journey started in the last 30 days" in _text(_tab(at, "Attribution"))


def test_a_spoke_lead_sees_only_changes_touching_their_spoke(app, cycle_db, sign_in):
    sign_in(FAY)
    at = app(PAGE).run()
    assert not at.exception
    assert "No change touching your spoke has been marked done yet" in _text(_tab(at, "Evaluate"))
    sign_in(SAM)
    at = app(PAGE).run()
    tab = _tab(at, "Evaluate")
    assert tab.selectbox(key="ev_change").options[0].startswith("Content production centralised")
    assert tab.dataframe[0].value.Metric.iloc[0] == "Lead time (mean)"
    assert not at.exception


def _styles(element) -> dict[tuple[int, int], str]:
    from tests.app.test_scenarios_app import cell_styles

    return cell_styles(element)


def test_evaluate_colours_a_clear_change_by_better_or_worse(app, cycle_db):
    from dashboard.charts.palette import GREEN, RED

    tab = _tab(app(PAGE).run(), "Evaluate")
    element = tab.dataframe[0]
    table, styles = element.value.reset_index(drop=True), _styles(element)
    col = {c: i for i, c in enumerate(table.columns)}
    rows = {m: i for i, m in enumerate(table.Metric)}
    # sales' lead time halved (lower is better) and more of its items met the SLA (higher is better): both green
    for metric in ("Lead time (mean)", "Resolved within SLA"):
        for column in ("Change", "DiD"):
            assert GREEN in styles.get((rows[metric], col[column]), ""), (metric, column, table.loc[rows[metric]])
    # items per day are neither better nor worse
    assert not any(styles.get((rows["Items per day"], col[c])) for c in ("Change", "DiD"))
    assert not any(RED in css for css in styles.values())
