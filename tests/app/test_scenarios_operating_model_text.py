"""The Scenarios and Operating model pages in the states a hub lead reaches by clicking — every preset, a saved
scenario compared with another, a single function swept, a team's week, the Attribution tab by conversions and by
each method, the Evaluate tab's other windows and series — read as a reader sees them (tests/app/page_text.py) and
held to the rules of test_no_raw_numbers: no more than two decimals, money with its currency and separators, whole
counts, no "None" or "nan", no developer names (function or file names)."""

from __future__ import annotations

import json

import pytest

from tests import known_org as ko
from tests.app.page_text import chart_texts, pieces
from tests.app.test_no_raw_numbers import problems

SCENARIOS = "pages/scenarios_page.py"
OPERATING_MODEL = "pages/operating_model_page.py"


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    return ko.known_database(tmp_path_factory.mktemp("c1") / "known.db")


@pytest.fixture
def page(app, known, use_db):
    url, org = known
    use_db(url, timezone=org.timezone)

    def _open(path):
        at = app(path).run()
        assert not at.exception, [e.message for e in at.exception]
        return at
    return _open


def check(at, where: str) -> None:
    assert not at.exception, (where, [e.message for e in at.exception])
    found = problems(at, where)
    assert not found, f"{where}: {len(found)} raw figure(s) or developer name(s):\n" + "\n".join(found[:40])


def saved_ids(url: str) -> list[int]:
    from dashboard.db import make_engine
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries.scenarios import list_scenarios

    engine = make_engine(url)
    with engine.connect() as conn:
        ids = [int(i) for i in list_scenarios(conn, LOCAL_ADMIN).id]
    engine.dispose()
    return ids


def test_scenarios_in_every_preset_and_the_states_around_them(page, known):
    at = page(SCENARIOS)
    check(at, "scenarios")
    for preset in ("centralised", "decentralised", "hybrid", "as_is"):
        at.button(key=f"preset_{preset}").click().run()
        check(at, f"scenarios: {preset}")
    at.button(key="preset_hybrid").click().run()
    next(t for t in at.text_input if t.label == "Name").input("Hybrid")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    at.button(key="preset_centralised").click().run()
    next(t for t in at.text_input if t.label == "Name").input("Central")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    at.multiselect(key="compare_pick").set_value(saved_ids(known[0])[:2]).run()
    check(at, "scenarios: two saved scenarios compared")
    fid = next(iter(k.removeprefix("place_") for k in (b.key for b in at.button_group) if k.startswith("place_")))
    at.selectbox(key="sweep_fn").set_value(fid).run()
    at.segmented_control(key="work_by").set_value("spoke").run()
    for pool in (ko.SALES, ko.SERVICE):  # the spokes' shared teams
        at.selectbox(key="staff_pool").set_value(pool).run()
    check(at, "scenarios: one function swept, split by spoke, a team's week")


def test_the_tornado_says_it_reads_the_mean_lead_time_and_has_level_ticks(page):
    at = page(SCENARIOS)
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    titles = [(c["layout"].get("title") or {}).get("text", "") for c in charts]
    assert "What moves the mean lead time most" in titles and "What moves the yearly cost most" in titles
    for chart, title in zip(charts, titles):
        if title.startswith("What moves"):
            assert chart["layout"]["xaxis"].get("tickangle") == 0, title
    caption = next(c.value for c in at.caption if c.value.startswith("Each input moved 20 %"))
    assert "**mean**" in caption and "median" in caption


def test_the_models_documentation_names_no_code(page):
    at = page(SCENARIOS)
    doc = next(e for e in at.expander if e.label == "How the model works: formulas and sources")
    text = "\n".join(m.value for m in doc.markdown)
    assert "Erlang" in text and "Wq = C / (sμ − λ)" in text
    for name in ("compare_models", "totals_delta", "replay.py", "model.py", "sla_staffing", "FUNCTION_DEFAULTS",
                 "inputs_version", "python -m"):
        assert name not in text, name


def test_operating_model_attribution_and_evaluate_in_every_state(page):
    at = page(OPERATING_MODEL)
    check(at, "operating model")
    tab = next(t for t in at.tabs if t.label == "Attribution")
    tab.segmented_control(key="at_measure").set_value("conversions").run()
    for method in ("first_touch", "last_touch", "linear", "markov"):
        at.selectbox(key="at_method").set_value(method).run()
        check(at, f"attribution by conversions, {method}")
    for days in (90, 365):
        at.selectbox(key="at_window").set_value(days).run()
        check(at, f"attribution over {days} days")
    for days in (14, 56):
        at.selectbox(key="ev_days").set_value(days).run()
        for series in ("lead_time_h", "sla_share", "items_per_day"):
            at.radio(key="ev_series").set_value(series).run()
        check(at, f"evaluate over {days} days")
    texts = [t for c in at.get("plotly_chart") for _w, t in chart_texts(json.loads(c.proto.spec))]
    assert texts  # the charts were read


def test_a_spoke_lead_sees_the_pages_without_raw_figures(page, sign_in):
    sign_in({"email": "sam@example.com", "role": "spoke_lead", "unit": ko.SALES})
    for path, where in ((SCENARIOS, "scenarios (spoke lead)"), (OPERATING_MODEL, "operating model (spoke lead)")):
        at = page(path)
        check(at, where)
        assert pieces(at)
