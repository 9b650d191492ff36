"""The Operating model page through the real app, per role: a hub lead assesses a function and sees the trend,
promotes a saved scenario, marks its change done and finds it on the spoke page's charts and the overview;
executives and spoke leads read the same page without any editing control."""

from __future__ import annotations

import base64
import datetime as dt
import json

import numpy as np
import pytest

from dashboard.db import make_engine
from dashboard.domain.access import Role, Viewer
from dashboard.queries import cycle as q
from dashboard.services import cycle as cycle_service
from dashboard.services import scenarios as scenario_service
from dashboard.ui.text import md
from dashboard.whatif.inputs import dump_inputs, load_inputs

PAGE = "pages/operating_model_page.py"
HAL = {"email": "hal@example.com", "role": "hub_lead", "sub": "hal"}
EVE = {"email": "eve@example.com", "role": "executive", "sub": "eve"}
SAM = {"email": "sam@example.com", "role": "spoke_lead", "unit": "sales", "sub": "sam"}
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
SCORES = dict(function="content_production", structure=2, processes=2, data_management=1, technology=3)



def _engine(url):
    return make_engine(url)


def _as_is(url):
    """The baseline the page compares a first promotion with (the Scenarios page's as-is, same cache)."""
    from dashboard.ui.scenario_view import as_is

    return load_inputs(as_is(HUB)[0])


def _scenario(url, name="Flip content production"):
    """A scenario that moves content production to the other side of where the as-is has it."""
    base = _as_is(url)
    to_share = 0.0 if base.functions["content_production"].mean_share >= 0.5 else 1.0  # as today: share per stream
    target = base.with_shares({"content_production": to_share})
    engine = _engine(url)
    with engine.begin() as conn:
        sid = scenario_service.save_scenario(conn, HUB, name=name, description=None, inputs=dump_inputs(target),
                                  inputs_version=target.inputs_version, results=None)
    engine.dispose()
    return sid, "Content production " + ("decentralised" if to_share == 0.0 else "centralised")


def _array(value) -> list[float]:
    """A plotly array from a figure spec: a list, or numpy's typed array encoded as base64 ("bdata")."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return [float(v) for v in value]


def _table(at, column: str, without: str | None = None, with_too: str | None = None):
    """The first table on the page with ``column`` (and ``with_too``) and without ``without``."""
    for frame in at.dataframe:
        value = frame.value
        if column in value.columns and (without is None or without not in value.columns) \
                and (with_too is None or with_too in value.columns):
            return value
    raise AssertionError(f"no table with a {column!r} column")


def _charts(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _chart(at, title: str) -> dict:
    return next(c for c in _charts(at) if (c["layout"].get("title") or {}).get("text") == title)


def open_page(app, sign_in, claims, **query):
    sign_in(claims)
    at = app(PAGE, **query).run()
    assert not at.exception, at.exception
    return at


def test_hub_lead_saves_an_assessment_and_sees_it_in_the_trend(app, app_db, sign_in):
    engine = _engine(app_db)
    with engine.begin() as conn:
        cycle_service.save_assessment(conn, HUB, SCORES, now=dt.datetime.now(dt.UTC) - dt.timedelta(days=30))
    at = open_page(app, sign_in, HAL)
    assert [t.label for t in at.tabs] == ["Assess", "Design", "Implement", "Evaluate", "Attribution"]
    at.selectbox(key="om_function").set_value("content_production").run()
    assert at.radio(key="om_content_production_structure").value == 2  # starts from the latest scores
    assert "2 · Emerging — A named owner exists" in at.radio(key="om_content_production_structure").options[1]
    for component, score in (("structure", 4), ("processes", 3), ("data_management", 2), ("technology", 3)):
        at.radio(key=f"om_content_production_{component}").set_value(score)
    at.text_area(key="om_content_production_note").set_value("One owner for content since October")
    at.button(key="FormSubmitter:om_assess_content_production-Save assessment").click().run()
    assert not at.exception, at.exception
    assert "Saved the assessment of Content production." in [s.value for s in at.success]
    trend = _chart(at, "Maturity over time")
    structure = next(t for t in trend["data"] if t["name"] == "Structure")
    assert _array(structure["y"]) == [2.0, 4.0]
    radar = _chart(at, "Maturity by component (1–5)")
    assert [t["name"].split(" (")[0] for t in radar["data"]] == ["Previous", "Latest"]
    assert any("Overall 3.0 / 5 (+1.0 since the previous assessment)" in c.value for c in at.caption)
    history = _table(at, "Author")
    assert len(history) == 2 and history.iloc[0]["Author"] == "hal@example.com"
    assert history.iloc[0]["Note"] == "One owner for content since October"
    with engine.connect() as conn:
        assert len(q.assessments(conn, HUB, "content_production")) == 2
    engine.dispose()


def test_promote_mark_done_and_see_the_annotation(app, app_db, sign_in):
    sid, label = _scenario(app_db)
    at = open_page(app, sign_in, HAL)
    assert at.selectbox(key="om_scenario").value == sid
    preview = _table(at, "Change", without="Status")
    assert label in preview["Change"].tolist()
    row = preview.set_index("Change").loc[label]
    assert "h →" in row["Lead time (mean)"] and "€" in row["Cost / year"]
    at.text_input(key="om_promote_note").set_value("Agreed at the leadership offsite")
    at.button(key="om_promote").click().run()
    assert not at.exception, at.exception
    assert any("is now the target operating model" in s.value for s in at.success)
    target = _table(at, "Status", with_too="Lead time (mean)")
    assert label in target["Change"].tolist() and set(target["Status"]) == {"Planned"}
    assert any("promoted by hal\\@example.com" in m.value for m in at.markdown)  # literal: no mailto link
    # Implement: mark it done today
    engine = _engine(app_db)
    with engine.connect() as conn:
        change_id = int(q.target_model(conn, HUB).changes.set_index("label").loc[label, "id"])
    chosen = at.selectbox(key="om_done_pick")
    assert label in chosen.options
    chosen.set_value(change_id)
    day = at.date_input(key="om_done_day").value  # today unless told otherwise
    assert abs((day - dt.date.today()).days) <= 1
    at.button(key="FormSubmitter:om_mark_done-Mark done").click().run()
    assert not at.exception, at.exception
    assert any(f"“{label}” done on" in s.value for s in at.success)
    with engine.connect() as conn:
        done = q.target_model(conn, HUB).changes.set_index("label").loc[label]
    engine.dispose()
    assert done.status == "done" and done.done_on == day
    # the spoke page's trend charts carry it as a dashed line with its label
    at.switch_page("pages/spoke_page.py")
    at.query_params["unit"] = "sales"
    at.run()
    assert not at.exception, at.exception
    today = day.isoformat()
    for title in ("Volume", "Backlog and SLA breaches"):
        layout = _chart(at, title)["layout"]
        assert [s["x0"] for s in layout["shapes"]] == [today] and layout["shapes"][0]["line"]["dash"] == "dash"
        assert [a["text"] for a in layout["annotations"]] == [label]
    assert any(label in c.value and "Dashed lines" in c.value for c in at.caption)
    # and the overview names it under the tiles
    at.switch_page("pages/overview_page.py")
    at.run()
    assert any(c.value.startswith(":violet[┆] Since") and label.lower() in c.value.lower() for c in at.caption)
    sparklines = [c for c in _charts(at) if c["layout"].get("height") == 60]
    assert sparklines and all([s["line"]["dash"] for s in c["layout"]["shapes"]] == ["dot"] for c in sparklines)



@pytest.mark.parametrize("claims", [EVE, SAM], ids=["executive", "spoke_lead"])
def test_executives_and_spoke_leads_read_without_editing(app, app_db, sign_in, claims):
    sid, label = _scenario(app_db)
    engine = _engine(app_db)
    with engine.begin() as conn:
        cycle_service.save_assessment(conn, HUB, SCORES)
        cycle_service.promote_scenario(conn, HUB, sid, baseline=_as_is(app_db))
    engine.dispose()
    at = open_page(app, sign_in, claims)
    at.selectbox(key="om_function").set_value("content_production").run()
    assert not at.exception, at.exception
    assert len(at.radio) == 0 and len(at.text_area) == 0 and len(at.data_editor) == 0
    assert [b.label for b in at.button] == ["Sign out"]
    captions = " ".join(c.value for c in at.caption)
    for what in ("record assessments", "promote scenarios", "update planned changes"):
        assert f"Read-only: hub leads and admins {what}." in captions
    assert _table(at, "Author").iloc[0]["Author"] == "hal@example.com"
    assert label in _table(at, "Status", with_too="Lead time (mean)")["Change"].tolist()
    assert label in _table(at, "Done on")["Change"].tolist()
    assert _chart(at, "Maturity by component (1–5)")


def test_a_change_a_colleague_updated_meanwhile_is_not_overwritten(app, app_db, sign_in):
    sid, label = _scenario(app_db)
    engine = _engine(app_db)
    with engine.begin() as conn:
        cycle_service.promote_scenario(conn, HUB, sid, baseline=_as_is(app_db))
        change_id = int(q.target_model(conn, HUB).changes.set_index("label").loc[label, "id"])
    at = open_page(app, sign_in, HAL)
    with engine.begin() as conn:  # a colleague drops it while this page is open
        cycle_service.update_change(conn, Viewer("kim@example.com", Role.ADMIN), change_id, version=1, status="dropped")
    at.selectbox(key="om_done_pick").set_value(change_id)
    at.button(key="FormSubmitter:om_mark_done-Mark done").click().run()
    assert not at.exception, at.exception
    assert any(md("was changed by kim@example.com since you opened it") in w.value for w in at.warning)  # shown literally
    with engine.connect() as conn:
        row = q.target_model(conn, HUB).changes.set_index("id").loc[change_id]
    engine.dispose()
    assert (row.status, row.version) == ("dropped", 2)
    at.run()  # the next run shows the colleague's version: nothing left to mark done
    assert not at.exception
    assert "Dropped" in _table(at, "Status", with_too="Lead time (mean)")["Status"].tolist()


def _hours(text: str) -> float:
    number, unit = text.split()
    return float(number.replace(",", "")) * {"min": 1 / 60, "h": 1.0, "d": 24.0}[unit]


def _money(text: str) -> float:
    number = text.replace("€", "").replace(",", "")
    return float(number[:-1]) * {"k": 1e3, "M": 1e6}[number[-1]] if number[-1] in "kM" else float(number)


def _percent(text: str) -> float:
    return float(text.replace("%", ""))


def test_the_predicted_effects_are_green_when_better_and_red_when_worse(app, app_db, sign_in):
    from dashboard.charts.palette import GREEN, RED
    from tests.app.test_scenarios_app import cell_styles

    _scenario(app_db)
    at = open_page(app, sign_in, HAL)
    element = next(d for d in at.dataframe if "From → to" in d.value.columns and "Status" not in d.value.columns)
    table, styles = element.value.reset_index(drop=True), cell_styles(element)
    parse = {"Lead time (mean)": (_hours, True), "Cost / year": (_money, True), "Within SLA": (_percent, False),
             "Handoffs per item": (float, True)}
    painted = 0
    for column, (read, lower_is_better) in parse.items():
        col = list(table.columns).index(column)
        for row, cell in enumerate(table[column]):
            before, after = (read(v.strip()) for v in cell.split("→"))
            css = styles.get((row, col), "")
            if before == after:
                assert "color" not in css, (column, cell, css)
                continue
            better = (after < before) == lower_is_better
            assert (GREEN if better else RED) in css, (column, cell, css)
            painted += 1
    assert painted >= 2, "too few changes to check the colours"
