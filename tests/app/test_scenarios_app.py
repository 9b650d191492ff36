"""The Scenarios page through the real app: the as-is check, office hours, functions without data, where the lead
time goes, staffing, the simulation check, presets, controls that recompute, save / overwrite / share.

The sample organisation (``tests.factories.sample_activity``) has a day of work, too little to read office hours
from, so every unit starts on the default hours (an assumption) and the as-is check is open; campaign planning,
social listening and marketing technology have no items at all."""

from __future__ import annotations

import json

import pytest
from streamlit.proto.Metric_pb2 import Metric as MetricProto

from dashboard import store
from dashboard.db import make_engine
from dashboard.ui import scenario_trust
from tests.app.shown import shown

PAGE = "pages/scenarios_page.py"
EVE = {"email": "eve@example.com", "role": "executive", "sub": "eve"}
SAM = {"email": "sam@example.com", "role": "spoke_lead", "unit": "sales", "sub": "sam"}


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


def placements(at):
    return {b.key: b.value for b in at.button_group if b.key and b.key.startswith("place_")}


def table(at, first_column):
    """The first dataframe whose first column is ``first_column``."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[:1] == [first_column])


def tables(at, first_column):
    return [d.value for d in at.dataframe if list(d.value.columns)[:1] == [first_column]]


def table_with(at, *columns):
    """The first dataframe that has all these columns."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def button(at, label):
    return next(b for b in at.button if b.label == label)


def hours_table(at):
    return next(d.value for d in at.dataframe if "Where from" in d.value.columns).set_index("Unit")


def correct_hours(at, unit, hours, zone):
    at.selectbox(key="oh_unit").set_value(unit).run()
    at.text_input(key=f"oh_hours_{unit}").input(hours)
    at.text_input(key=f"oh_zone_{unit}").input(zone)
    return button(at, "Save office hours").click().run()


# --- the as-is and the evidence behind it --------------------------------------------------------------------------


def test_scenarios_page_starts_from_the_as_is_model(app, app_db):
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Scenarios"
    labels = [m.label for m in at.metric]
    assert labels == ["Total cost / year", "FTE", "Handoffs / month", "Median lead time", "Within SLA",
                      "Unanswered / month"]
    assert not any(m.delta for m in at.metric)  # as-is against itself: no change shown
    assert metric(at, "Total cost / year").value.startswith("€")
    assert metric(at, "Median lead time").value.endswith((" h", " min", " d"))
    assert metric(at, "Within SLA").value.endswith(" %")
    assert len(placements(at)) == 3  # the three functions with observed work
    assert set(placements(at).values()) == {"as_is"}  # every function as today


def test_the_as_is_check_shows_observed_beside_modelled_per_spoke_and_function(app, app_db):
    at = app(PAGE).run()
    check = next(e for e in at.expander if e.label.startswith("As-is check"))
    assert "off by up to" in check.label  # a day of data on assumed office hours: far off, so it says so ...
    assert check.proto.expanded  # ... and opens by itself
    spokes = table(at, "Spoke")
    assert list(spokes.Spoke) == ["Sales", "Finance"]
    assert {"Items", "Median obs.", "Median model", "Δ median", "Mean obs.", "Mean model", "Δ mean", "SLA obs.",
            "SLA model", "Δ SLA"} <= set(spokes.columns)
    sales = spokes.set_index("Spoke").loc["Sales"]
    assert sales["Items"] == 15
    assert sales["Median obs."] == pytest.approx(0.5)  # the leads took 30 minutes
    assert sales["Δ median"] == pytest.approx((sales["Median model"] / sales["Median obs."] - 1) * 100, abs=0.05)
    functions = tables(at, "Function")[0]
    assert "CRM & lead management" in set(functions.Function)
    assert any("Estimated from the last 1 day of work items" in c.value for c in at.caption)
    assumed = shown(next(m.value for m in at.markdown if m.value.startswith("**What was assumed")))
    assert "Sales: too little observed work to read office hours" in assumed


def test_a_hub_lead_corrects_office_hours_and_the_as_is_is_calibrated_again(app, app_db):
    at = app(PAGE).run()
    before = hours_table(at).loc["Sales"]
    assert (before["Office hours"], before["Where from"]) == ("Mon-Fri 09:00-17:00", "default (an assumption)")
    modelled = table(at, "Spoke").set_index("Spoke").loc["Sales", "Median model"]

    at = correct_hours(at, "sales", "mon-sun 0-24", "Europe/Berlin")
    assert not at.exception, at.exception
    assert not at.error
    after = hours_table(at).loc["Sales"]
    assert (after["Office hours"], after["Time zone"], after["Where from"]) == ("24/7", "Europe/Berlin", "stored")
    assert after["Hours / week"] == 168
    assert any("Saved the office hours of Sales: 24/7 (Europe/Berlin)" in shown(s.value) for s in at.success)
    # the as-is is recalibrated: Sales' leads no longer wait for Monday morning in the model
    assert table(at, "Spoke").set_index("Spoke").loc["Sales", "Median model"] < modelled
    assert not any(m.delta for m in at.metric)  # and the page compares the new as-is with itself


@pytest.mark.parametrize("hours, zone, why", [
    ("Mon-Fri 18:00-08:00", "UTC", "the window must open before it closes on the same day"),
    ("weekdays", "UTC", "is not days and hours such as Mon-Fri 08:00-18:00"),
    ("Mon-Fri 08:00-18:00", "Mars/Olympus", "is not a time zone"),
])
def test_office_hours_that_cannot_be_read_are_refused_with_the_reason(app, app_db, hours, zone, why):
    at = correct_hours(app(PAGE).run(), "finance", hours, zone)
    assert not at.exception, at.exception
    assert any(shown(e.value).startswith("Not saved:") and why in shown(e.value) for e in at.error), \
        [e.value for e in at.error]
    assert hours_table(at).loc["Finance", "Where from"] == "default (an assumption)"  # nothing written


@pytest.mark.parametrize("claims", [EVE, SAM], ids=["executive", "spoke lead"])
def test_read_only_roles_see_office_hours_but_cannot_correct_them(app, app_db, sign_in, claims):
    sign_in(claims)
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assert "Read-only: hub leads and admins correct office hours." in [c.value for c in at.caption]
    assert "Save office hours" not in [b.label for b in at.button]
    assert not [t for t in at.text_input if (t.key or "").startswith("oh_")]
    assert set(hours_table(at).index) == {"Marketing hub", "Sales", "Finance"}


def test_an_executive_sees_the_calibrated_check_and_a_spoke_lead_the_typed_defaults(app, app_db, sign_in):
    sign_in(EVE)
    at = app(PAGE).run()
    assert list(table(at, "Spoke").Spoke) == ["Sales", "Finance"]
    sign_in(SAM)
    at = app(PAGE).run()
    check = next(e for e in at.expander if e.label.startswith("As-is check"))
    assert check.label == "As-is check: the model is not calibrated"
    assert any("Not calibrated: your role does not see" in shown(m.value) for m in at.markdown)


def test_a_function_without_data_is_added_with_typical_defaults(app, app_db):
    at = app(PAGE).run()
    missing = [i.value for i in at.info if "had no work items" in i.value]
    assert len(missing) == 3 and any(m.startswith("Campaign planning") for m in missing)
    cost = metric(at, "Total cost / year").value

    at.button(key="add_campaign_planning").click().run()
    assert not at.exception, at.exception
    assert "place_campaign_planning" in placements(at)
    assert any(c.value.startswith("Campaign planning had no work items in the window; it is in this scenario with "
                                  "typical defaults") for c in at.caption)
    assert not any(i.value.startswith("Campaign planning") for i in at.info)
    assert metric(at, "Total cost / year").value != cost  # the as-is now carries its people and platforms ...
    assert not any(m.delta for m in at.metric)  # ... and so does the scenario it is compared with


def test_names_people_typed_are_shown_as_typed_not_as_markdown_or_html(app, app_db):
    engine = make_engine(app_db)
    with engine.begin() as conn:
        store.upsert_units(conn, [dict(id="finance", name="*Fin* [x](http://e.vil) <b>ance</b>", kind="spoke",
                                       headcount=6, cost_per_fte=75000, sort_order=2)])
    engine.dispose()
    at = app(PAGE).run()
    assert not at.exception, at.exception
    assumed = next(m.value for m in at.markdown if m.value.startswith("**What was assumed"))
    assert r"\*Fin\* \[x\](http\://e.vil) \<b\>ance\</b\>\: too little observed work" in assumed
    assert "*Fin* [x](http://e.vil) <b>ance</b>" in set(hours_table(at).index)  # a table cell is literal anyway
    at.selectbox(key="staff_pool").set_value("finance").run()
    title = next(json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")
                 if "a week hour by hour" in json.dumps(json.loads(c.proto.spec)["layout"].get("title")))
    assert title.startswith("*Fin* [x](http://e.vil) &lt;b&gt;ance&lt;/b&gt; (shared team)")


# --- what the scenario does -----------------------------------------------------------------------------------------


def test_show_the_working_splits_the_mean_lead_time_as_is_and_scenario(app, app_db):
    at = app(PAGE).run()
    next(b for b in at.button if b.label == "Decentralised").click().run()
    split = table_with(at, "Function", "Scenario")
    parts = ["Handoff", "Waiting for a person", "In progress", "Out of hours"]
    assert set(split.Scenario) == {"As-is", "This scenario"}
    assert split[parts].sum(axis=1).to_numpy() == pytest.approx(split["Mean lead time"].to_numpy(), rel=1e-6)
    assert list(dict.fromkeys(split.Function)) == ["Content production", "Analytics & reporting",
                                                   "CRM & lead management"]
    rows = {f: split[split.Function == f].set_index("Scenario")[[*parts, "Mean lead time"]]
            for f in ("Content production", "Analytics & reporting")}
    moved, stayed = rows["Content production"], rows["Analytics & reporting"]
    # content requests move from the hub's team to Sales' own people: who waits and who works them changes (the
    # mean itself can barely move when out-of-hours time dominates, as at night on the demo) ...
    working = ["Waiting for a person", "In progress"]
    assert moved.loc["This scenario", working].to_numpy() != pytest.approx(moved.loc["As-is", working].to_numpy(),
                                                                            rel=1e-2)
    # ... while Finance already works the hub's reports itself, in a team that gets nothing new
    assert stayed.loc["This scenario"].to_numpy() == pytest.approx(stayed.loc["As-is"].to_numpy(), rel=1e-4)
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if "Where the mean lead time goes" in json.dumps(json.loads(c.proto.spec)["layout"].get("title")))
    assert [t["name"] for t in chart["data"]] == parts

    at.segmented_control(key="work_by").set_value("spoke").run()
    by_spoke = table_with(at, "Spoke", "Scenario")  # the per-spoke split
    assert set(by_spoke.Spoke) == {"Sales", "Finance"}


def test_staffing_shows_a_teams_week_and_what_every_sla_target_needs(app, app_db):
    at = app(PAGE).run()
    assert at.selectbox(key="staff_pool").options == ["Hub · Content production", "Sales (shared team)",
                                                      "Finance (shared team)"]
    at.selectbox(key="staff_pool").set_value("finance").run()
    spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "a week hour by hour" in
                json.dumps(json.loads(c.proto.spec)["layout"].get("title")))
    assert {t["name"] for t in spec["data"]} == {"As-is", "This scenario"}
    assert len(spec["data"]) == 6  # arrivals, people on duty and backlog, each as-is and scenario
    week = table_with(at, "Scenario", "On duty")
    assert list(week.Scenario) == ["As-is", "This scenario"]
    sla = next(m.value for m in at.markdown if m.value.startswith("**To meet every SLA target:"))
    assert " FTE (±" in sla and "€" in sla
    assert any(w.value.startswith("Staffing alone cannot reach the target of:") for w in at.warning)


def test_check_with_simulation_compares_per_spoke_and_keeps_the_result(app, app_db, monkeypatch):
    runs = []
    simulate = scenario_trust.simulate
    monkeypatch.setattr(scenario_trust, "simulate", lambda *a, **k: runs.append(1) or simulate(*a, **k))
    at = app(PAGE).run()
    button(at, "Check with simulation").click().run()
    assert not at.exception, at.exception
    assert runs == [1]
    said = [m.value for m in (*at.success, *at.warning) if "between model and simulation" in m.value]
    assert said and said[0].startswith("Largest difference between model and simulation:")
    compared = table_with(at, "Spoke", "Median sim.")
    assert list(compared.Spoke) == ["Sales", "Finance"]
    assert (compared["Items"] > 0).all()

    at.run()  # a rerun shows the same result without simulating again
    assert runs == [1]
    assert list(table_with(at, "Spoke", "Median sim.").Spoke) == ["Sales", "Finance"]
    next(b for b in at.button if b.label == "Decentralised").click().run()
    assert any("The last simulation was of other inputs" in c.value for c in at.caption)


def test_a_failing_simulation_says_so_instead_of_a_traceback(app, app_db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(scenario_trust, "simulate", broken)
    at = app(PAGE).run()
    button(at, "Check with simulation").click().run()
    assert not at.exception
    assert any(e.value.startswith("The simulation could not run: out of memory") for e in at.error)


# --- presets, controls, saving -------------------------------------------------------------------------------------


def test_a_preset_sets_every_control_and_the_results_move(app, app_db):
    at = app(PAGE).run()
    handoffs = metric(at, "Handoffs / month").value
    next(b for b in at.button if b.label == "Decentralised").click().run()
    assert not at.exception
    assert set(placements(at).values()) == {"spokes"}
    moved = metric(at, "Handoffs / month")
    assert moved.value != handoffs and moved.value.replace(",", "").isdigit()  # a whole number of handoffs
    assert moved.delta.startswith("-")  # content requests are worked where they start: fewer handoffs ...
    assert moved.proto.color == MetricProto.MetricColor.GREEN  # ... which is better


def test_deltas_are_coloured_by_better_or_worse_not_by_sign(app, app_db):
    at = app(PAGE).run()
    next(b for b in at.button if b.label == "Centralised").click().run()
    colours = {m.label: m.proto.color for m in at.metric if m.delta}
    lead, sla = metric(at, "Median lead time"), metric(at, "Within SLA")
    green, red = MetricProto.MetricColor.GREEN, MetricProto.MetricColor.RED
    assert colours[lead.label] == (red if lead.delta.startswith("+") else green)  # longer is worse
    assert colours[sla.label] == (green if sla.delta.startswith("+") else red)  # more within SLA is better


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
    doc = next(e for e in at.expander if e.label == "How the model works: formulas and sources")
    assert any("Erlang" in m.value for m in doc.markdown)


# --- the scenario on screen: presets after a save or a link, which one is open, deleting it ------------------------


def _save(at, name, description=None):
    next(t for t in at.text_input if t.label == "Name").input(name)
    if description is not None:
        next(t for t in at.text_area if t.label == "Description").input(description)
    return next(b for b in at.button if b.label == "Save scenario").click().run()


def _sid(at):
    sid = at.query_params.get("scenario")
    return sid[0] if isinstance(sid, list) else sid


def _saved(url, name):
    from dashboard.domain.access import LOCAL_ADMIN
    from dashboard.queries import scenarios as saved

    engine = make_engine(url)
    with engine.connect() as conn:
        listing = saved.list_scenarios(conn, LOCAL_ADMIN)
        row = listing[listing.name == name]
        found = saved.get_scenario(conn, LOCAL_ADMIN, int(row.id.iloc[0])) if len(row) else None
    engine.dispose()
    return found


def test_a_preset_after_saving_applies_and_the_next_save_stores_what_is_on_screen(app, app_db):
    at = app(PAGE).run()
    button(at, "Hybrid").click().run()
    at = _save(at, "Hybrid plan", "Content and analytics in the hub")
    assert _sid(at)  # the link now opens the saved scenario
    hybrid = placements(at)

    button(at, "Decentralised").click().run()
    assert not at.exception, at.exception
    assert set(placements(at).values()) == {"spokes"}, "the preset must apply after a save"
    assert placements(at) != hybrid
    assert _sid(at) is None  # the page no longer shows the saved scenario: the link must not reopen it
    assert next(t for t in at.text_input if t.label == "Name").value == ""
    assert next(t for t in at.text_area if t.label == "Description").value == ""

    at = _save(at, "Everything local", "Each spoke does its own")
    stored = _saved(app_db, "Everything local")
    assert stored.description == "Each spoke does its own"
    assert _placements_of(stored) == {"spokes"}
    assert _placements_of(_saved(app_db, "Hybrid plan")) == {"hub", "spokes"}

    ids = [int(_saved(app_db, n).id) for n in ("Hybrid plan", "Everything local")]
    at.multiselect(key="compare_pick").set_value(ids).run()
    compared = table_with(at, "Scenario", "Handoffs / month").set_index("Scenario")
    assert list(compared.index) == [f"Hybrid plan (#{ids[0]})", f"Everything local (#{ids[1]})"]
    assert compared.iloc[0]["Handoffs / month"] != compared.iloc[1]["Handoffs / month"]


def _placements_of(found):
    from dashboard.whatif.inputs import load_inputs

    inputs = load_inputs({**found.inputs, "inputs_version": found.inputs_version})
    return {fn.placement for fn in inputs.functions.values()}


def test_a_preset_after_opening_a_link_drops_the_link(app, app_db):
    at = app(PAGE).run()
    button(at, "Centralised").click().run()
    at = _save(at, "All in the hub")
    sid = _sid(at)

    shared = app(PAGE, scenario=sid).run()
    assert set(placements(shared).values()) == {"hub"}
    button(shared, "Decentralised").click().run()
    assert not shared.exception, shared.exception
    assert set(placements(shared).values()) == {"spokes"}
    assert _sid(shared) is None
    shared.run()  # a rerun keeps the preset (nothing reloads the saved scenario)
    assert set(placements(shared).values()) == {"spokes"}


def _on_screen(at) -> str:
    return shown(next(m.value for m in at.markdown if m.value.startswith("**On screen:")))


def test_the_page_says_which_scenario_is_on_screen(app, app_db):
    at = app(PAGE).run()
    assert _on_screen(at) == "**On screen: the as-is organisation**"
    button(at, "Centralised").click().run()
    assert _on_screen(at) == "**On screen: the Centralised preset** · not saved"
    at.button_group(key="place_content_production").set_value("spokes").run()
    assert _on_screen(at) == "**On screen: the Centralised preset**, changed · not saved"
    at = _save(at, "Mostly central")
    assert any("Saved “Mostly central”" in s.value for s in at.success)
    text = _on_screen(at)
    assert text.startswith("**On screen: saved scenario “Mostly central”** · by local admin · saved ")
    assert "changed" not in text
    at.button_group(key="place_analytics_reporting").set_value("spokes").run()
    assert _on_screen(at).endswith("· **changed since it was saved** (save to keep the changes)")

    shared = app(PAGE, scenario=_sid(at)).run()
    assert _on_screen(shared).startswith("**On screen: saved scenario “Mostly central”**")
    assert "changed" not in _on_screen(shared)


def test_delete_removes_the_scenario_on_screen_not_the_one_in_the_list(app, app_db):
    at = app(PAGE).run()
    button(at, "Centralised").click().run()
    at = _save(at, "Keep me")
    button(at, "Decentralised").click().run()
    at = _save(at, "Delete me")
    keep = int(_saved(app_db, "Keep me").id)
    # open "Keep me", then point the list at "Delete me": the page still shows "Keep me"
    at.selectbox(key="saved_pick").set_value(keep).run()
    button(at, "Open").click().run()
    assert not at.exception, at.exception
    assert set(placements(at).values()) == {"hub"}
    assert _on_screen(at).startswith("**On screen: saved scenario “Keep me”**")
    at.selectbox(key="saved_pick").set_value(int(_saved(app_db, "Delete me").id)).run()
    assert _on_screen(at).startswith("**On screen: saved scenario “Keep me”**")

    at.button(key="del_open").click().run()
    assert any("Delete “Keep me” for everyone?" in w.value for w in at.warning)
    assert _saved(app_db, "Keep me") is not None  # nothing deleted before the confirmation
    at.button(key="del_confirm").click().run()
    assert not at.exception, at.exception
    assert _saved(app_db, "Keep me") is None
    assert _saved(app_db, "Delete me") is not None  # the one the list pointed at is still there
    assert _on_screen(at) == "**On screen: “Keep me”, which was deleted** · not saved"
    assert _sid(at) is None
    assert set(placements(at).values()) == {"hub"}  # its figures stay on screen


def test_choosing_hybrid_moves_the_slider_to_a_split(app, app_db):
    at = app(PAGE).run()
    button(at, "Centralised").click().run()
    assert at.slider(key="share_content_production").value == 100
    at.button_group(key="place_content_production").set_value("hybrid").run()
    share = at.slider(key="share_content_production")
    assert 0 < share.value < 100 and not share.disabled
    at.button_group(key="place_content_production").set_value("spokes").run()
    assert at.slider(key="share_content_production").value == 0


def cell_styles(element) -> dict[tuple[int, int], str]:
    """(row, column) -> the CSS a pandas Styler gave that cell (what the table paints)."""
    import re

    styles = {}
    for selectors, css in re.findall(r"([^{}]+)\{([^}]*)\}", element.proto.arrow_data.styler.styles):
        for row, col in re.findall(r"_row(\d+)_col(\d+)", selectors):
            styles[(int(row), int(col))] = css.strip()
    return styles


def test_the_per_spoke_change_of_lead_time_is_green_when_faster_and_red_when_slower(app, app_db):
    from dashboard.charts.palette import GREEN, RED

    at = app(PAGE).run()
    coloured = set()
    for preset in ("Centralised", "Decentralised"):
        button(at, preset).click().run()
        element = next(d for d in at.dataframe if {"Δ median", "Local FTE"} <= set(d.value.columns))
        view, styles = element.value.reset_index(drop=True), cell_styles(element)
        col = list(view.columns).index("Δ median")
        for row, change in enumerate(view["Δ median"]):
            css = styles.get((row, col), "")
            if abs(change) < 0.05:
                assert "color" not in css
            else:
                assert (GREEN if change < 0 else RED) in css, (preset, view.Spoke[row], change, css)
                coloured.add(preset)
    assert coloured  # some preset moved some spoke's lead time
