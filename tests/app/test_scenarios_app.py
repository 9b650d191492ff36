"""The Scenarios page through the real app: presets, controls that recompute, save / overwrite / share."""

from __future__ import annotations

PAGE = "pages/scenarios_page.py"


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


def placements(at):
    return {b.key: b.value for b in at.button_group if b.key and b.key.startswith("place_")}


def test_scenarios_page_starts_from_the_as_is_model(app, app_db):
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Scenarios"
    labels = [m.label for m in at.metric]
    assert {"Total cost / year", "FTE", "Handoffs / month", "Median lead time (h)"} <= set(labels)
    assert not any(m.delta for m in at.metric)  # as-is against itself: no change shown
    assert len(placements(at)) == 6


def test_a_preset_sets_every_control_and_the_results_move(app, app_db):
    at = app(PAGE).run()
    next(b for b in at.button if b.label == "Decentralised").click().run()
    assert not at.exception
    assert set(placements(at).values()) == {"spokes"}
    assert metric(at, "Handoffs / month").value == "0"
    assert metric(at, "Handoffs / month").delta


def test_moving_one_function_recomputes_instantly(app, app_db):
    at = app(PAGE).run()
    before = metric(at, "Handoffs / month").value
    at.button_group(key="place_content_production").set_value("spokes").run()
    assert not at.exception
    assert placements(at)["place_content_production"] == "spokes"
    assert metric(at, "Handoffs / month").value != before


def test_saving_twice_under_one_name_asks_to_overwrite_and_a_link_reopens_it(app, app_db):
    at = app(PAGE).run()
    next(b for b in at.button if b.label == "Centralised").click().run()
    next(t for t in at.text_input if t.label == "Name").input("All in the hub")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert "Saved “All in the hub”" in at.success[0].value
    sid = at.query_params["scenario"]
    sid = sid[0] if isinstance(sid, list) else sid

    next(t for t in at.text_input if t.label == "Name").input("All in the hub")
    next(b for b in at.button if b.label == "Save scenario").click().run()
    assert "Tick “Overwrite”" in at.warning[-1].value

    shared = app(PAGE, scenario=sid).run()
    assert not shared.exception
    assert set(placements(shared).values()) == {"hub"}
    assert next(t for t in shared.text_input if t.label == "Name").value == "All in the hub"


def test_a_link_to_a_missing_scenario_says_so(app, app_db):
    at = app(PAGE, scenario="999").run()
    assert not at.exception
    assert any("no saved scenario" in w.value for w in at.warning)


def test_formulas_are_documented_on_the_page(app, app_db):
    at = app(PAGE).run()
    assert any("Erlang" in m.value for m in at.markdown)
