"""The overview page driven through the real app with Streamlit's AppTest."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from dashboard.charts.hub_map import EDGE_TRACE, NODE_TRACE


def figure(at):
    charts = at.get("plotly_chart")
    assert charts, "no map was drawn"
    return json.loads(charts[0].proto.spec)


def trace(fig, name):
    return next(t for t in fig["data"] if t.get("name") == name)


def test_overview_renders_the_map_with_one_node_per_unit(app, app_db):
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Overview"
    nodes = trace(figure(at), NODE_TRACE)
    assert sorted(c[0] for c in nodes["customdata"]) == ["finance", "hub", "sales"]


def test_overview_shows_the_shared_goal_tiles(app, app_db):
    at = app().run()
    labels = [m.label for m in at.metric]
    assert labels == ["Revenue", "Conversion rate", "Marketing cost"]
    assert all(m.value != "no data" for m in at.metric)


def test_edges_show_both_directions_of_a_spoke(app, app_db):
    at = app().run()
    edges = trace(figure(at), EDGE_TRACE)
    hovers = edges["hovertext"]
    assert any("Marketing hub → Sales" in h for h in hovers)
    assert any("Sales → Marketing hub" in h for h in hovers)


def test_window_comes_from_the_url(app, app_db):
    at = app(window="30d").run()
    assert not at.exception
    assert "last 30 days" in at.subheader[0].value


def test_spoke_filter_from_the_url_limits_the_map(app, app_db):
    at = app(units="finance").run()
    nodes = trace(figure(at), NODE_TRACE)
    assert sorted(c[0] for c in nodes["customdata"]) == ["finance", "hub"]


def test_pausing_live_updates_says_so(app, app_db):
    at = app().run()
    assert any("refreshes every" in c.value for c in at.caption)
    at.toggle(key="live").set_value(False).run()
    assert not at.exception
    assert any("Live updates paused" in c.value for c in at.caption)
    assert not any("refreshes every" in c.value for c in at.caption)


def test_empty_database_explains_how_to_load_the_demo(app, tmp_path, use_db):
    from dashboard.db import make_engine, migrate

    url = use_db(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(make_engine(url))
    at = app().run()
    assert not at.exception
    assert "python -m loaders demo" in at.info[0].value


def test_database_without_schema_says_what_to_run(app, tmp_path, use_db):
    use_db(f"sqlite:///{tmp_path / 'new.db'}")
    at = app().run()
    assert not at.exception
    assert "python -m loaders init" in at.error[0].value


def test_unreachable_database_shows_a_banner_not_a_traceback(app, use_db):
    use_db("postgresql+psycopg://nobody:secret@127.0.0.1:9/none")
    at = app().run()
    assert not at.exception
    banner = at.error[0].value
    assert "Cannot reach the database" in banner and "secret" not in banner


def test_invalid_setting_is_reported_in_one_line(app, app_db, use_db):
    use_db(app_db, refresh_seconds="often")
    at = app().run()
    assert not at.exception
    assert "DASHBOARD_REFRESH_SECONDS" in at.error[0].value


def test_the_flows_table_lists_flows_but_not_the_unrouted_queue(app, app_db):
    """Items waiting unrouted at the hub are labelled on the map, not listed as a 'Hub → Hub' flow."""
    import datetime as dt

    from dashboard import store
    from dashboard.db import make_engine
    from tests.factories import item

    engine = make_engine(app_db)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        store.insert_work_items(conn, [item(f"wait-{i}", "hub", "hub", now - dt.timedelta(hours=1), kind="mention",
                                            status="new") | {"routed_at": None} for i in range(3)])
    engine.dispose()
    at = app().run()
    at.toggle(key="flows_table").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    pairs = set(zip(table["From"], table["To"]))
    assert ("Marketing hub", "Sales") in pairs and ("Sales", "Marketing hub") in pairs
    assert ("Marketing hub", "Marketing hub") not in pairs


# --- the shared-goal tiles --------------------------------------------------------------------------------------


def tile(at, label):
    i = [m.label for m in at.metric].index(label)
    caption = [c.value for c in at.caption if "Target" in c.value][i]
    return at.metric[i], caption


def observed_database(tmp_path, use_db, readings) -> str:
    """tiny_org with revenue readings [(ts, value)] and nothing else; returns its URL."""
    from dashboard import store
    from dashboard.db import make_engine, migrate
    from tests.factories import tiny_org

    url = use_db(f"sqlite:///{tmp_path / 'observed.db'}")
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_kpi_observations(conn, [dict(kpi_id="revenue", ts=ts, value=v) for ts, v in readings])
    engine.dispose()
    return url


def test_today_is_compared_with_the_same_hours_on_the_same_weekday_last_week(app, tmp_path, use_db):
    """Revenue every 5 minutes for nine days, busier in the afternoon and by weekday: "Today" so far against
    midnight-to-now a week earlier, computed here from the readings themselves."""
    now = dt.datetime.now(dt.UTC)
    last = now - dt.timedelta(minutes=2)  # nothing lands between this test's clock and the app's
    first = (now - dt.timedelta(days=9)).replace(second=0, microsecond=0)
    readings = []
    t = first
    while t <= last:
        readings.append((t, 10.0 + t.hour + 3 * t.weekday()))  # a day's shape, and weekdays that differ
        t += dt.timedelta(minutes=5)
    week_ago_cut = last - dt.timedelta(days=7)
    readings = [(ts, v) for ts, v in readings if not (week_ago_cut < ts < now - dt.timedelta(days=7) + dt.timedelta(minutes=2))]
    observed_database(tmp_path, use_db, readings)

    at = app(window="today").run()
    assert not at.exception
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = sum(v for ts, v in readings if midnight <= ts < now)
    week = dt.timedelta(days=7)
    same_hours_last_week = sum(v for ts, v in readings if midnight - week <= ts < now - week)
    metric, caption = tile(at, "Revenue")
    if not today or not same_hours_last_week:
        pytest.skip("the test ran within minutes of midnight: nothing to compare yet")
    expected = (today - same_hours_last_week) / same_hours_last_week
    assert metric.delta == f"{expected * 100:+.1f} %"
    assert f"change vs the same hours last {(midnight - week):%A}" in caption
    yesterday_evening = sum(v for ts, v in readings if midnight - (now - midnight) <= ts < midnight)
    assert metric.delta != f"{(today - yesterday_evening) / yesterday_evening * 100:+.1f} %"


def test_each_tile_says_what_its_change_compares_with(app, tmp_path, use_db):
    now = dt.datetime.now(dt.UTC)
    observed_database(tmp_path, use_db, [(now - dt.timedelta(minutes=20 + 60 * h), 100.0 + h % 5) for h in range(61 * 24)])
    for window, words in (("7d", "the previous 7 days"), ("30d", "the previous 30 days"), ("1h", "the previous hour")):
        at = app(window=window).run()
        assert not at.exception
        captions = [c.value for c in at.caption if "Target" in c.value and "change vs" in c.value]
        assert captions and all(f"change vs {words}" in c for c in captions), (window, captions)


def test_tile_figures_are_formatted_by_their_unit(app, tmp_path, use_db):
    from dashboard import store
    from dashboard.db import make_engine, migrate
    from tests.factories import tiny_org

    url = use_db(f"sqlite:///{tmp_path / 'units.db'}")
    engine = make_engine(url)
    migrate(engine)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        tiny_org(conn)
        store.upsert_kpis(conn, [dict(id="leads", unit_id="sales", name="Qualified leads per campaign and channel",
                                      unit_of_measure="count", target=1537.3, direction="higher", aggregation="sum",
                                      parent_id="revenue", is_goal=True, sort_order=4)])
        store.insert_kpi_observations(conn, [dict(kpi_id=k, ts=now - dt.timedelta(hours=h), value=v)
                                             for h in range(1, 100, 3)
                                             for k, v in (("leads", 1234.567), ("revenue", 1836000.4))])
    engine.dispose()
    at = app().run()
    assert not at.exception
    leads, caption = tile(at, "Qualified leads per campaign and channel")
    assert leads.value == f"{1234.567 * 33:,.0f}" and "Target 10,761" in caption  # 1537.3 a day × 7 days, whole
    revenue, _ = tile(at, "Revenue")
    assert revenue.value == "€60.6M"
    # the name is text of its own above the figure, so a long one wraps instead of being cut off
    assert "**Qualified leads per campaign and channel**" in [m.value for m in at.markdown]
    assert leads.proto.label_visibility.value == leads.proto.label_visibility.COLLAPSED


def test_the_spokes_filter_says_the_goals_stay_organisation_wide(app, app_db):
    everything = app().run()
    assert not any("Organisation-wide" in c.value for c in everything.caption)
    focused = app(units="finance").run()
    assert not focused.exception
    assert any("Organisation-wide: the Spokes filter narrows the map and the flows table, not these goals" in c.value
               for c in focused.caption)
    assert [(m.label, m.value, m.delta) for m in focused.metric] == [(m.label, m.value, m.delta) for m in everything.metric]


# --- the window from page to page ---------------------------------------------------------------------------------


def test_the_overview_window_is_carried_to_the_spoke_page_and_back(app, app_db):
    at = app(window="30d").run()
    at.switch_page("pages/spoke_page.py")  # the menu: no ?window= in the link
    at.query_params["unit"] = "sales"
    at.run()
    assert not at.exception
    assert at.button_group(key="window").value == "30d"  # shown selected, not an empty control
    assert at.query_params["window"] in ("30d", ["30d"])
    at.button_group(key="window").set_value("1h").run()
    at.switch_page("pages/overview_page.py")
    at.run()
    assert at.button_group(key="window").value == "1h"
    assert "last hour" in at.subheader[0].value


def test_a_link_with_a_window_wins_over_the_window_carried(app, app_db):
    at = app(window="30d").run()
    at.switch_page("pages/spoke_page.py")
    at.query_params.update(unit="sales", window="today")
    at.run()
    assert at.button_group(key="window").value == "today"


# --- the shell: refused pages, the demo badge ---------------------------------------------------------------------

SAM = {"email": "sam@example.com", "role": "spoke_lead", "unit": "sales", "sub": "sam"}
EVE = {"email": "eve@example.com", "role": "executive", "sub": "eve"}
ADA = {"email": "ada@example.com", "role": "admin", "sub": "ada"}


@pytest.mark.parametrize("page, claims, landing, note", [
    ("pages/routing_page.py", SAM, "Sales", "Routing is open to admins, hub leads and executives only. You are signed "
                                            "in as a spoke lead, so you are on your spoke's page instead."),
    ("pages/admin_page.py", SAM, "Sales", "Users & audit is open to admins only. You are signed in as a spoke lead, "
                                          "so you are on your spoke's page instead."),
    ("pages/admin_page.py", EVE, "Overview", "Users & audit is open to admins only. You are signed in as an "
                                             "executive, so you are on the overview instead."),
])
def test_a_page_the_role_may_not_open_says_why_you_landed_elsewhere(app, app_db, sign_in, page, claims, landing, note):
    """The URL of a page outside the role (typed or forwarded): asked for while an admin is signed in, so the
    next run, as someone else, requests it (see test_roles_app)."""
    sign_in(ADA)
    at = app(page).run()
    sign_in(claims)
    at.run()
    assert not at.exception
    assert [t.value for t in at.title] == [landing]
    assert [i.value for i in at.info][:1] == [note]
    at.switch_page("pages/spoke_page.py" if landing == "Sales" else "pages/overview_page.py")
    at.run()  # said once, not on every page after
    assert note not in [i.value for i in at.info]


def test_the_demo_organisation_carries_a_badge_and_other_data_does_not(app, app_db, tmp_path, use_db):
    from dashboard.db import make_engine, migrate
    from loaders import demo

    plain = app().run()
    assert not any("Demo data" in m.value for m in plain.markdown)

    url = use_db(f"sqlite:///{tmp_path / 'demo.db'}")
    engine = make_engine(url)
    migrate(engine)
    demo.load_demo(engine, work_items=2_000, kpi_observations=2_000, days=14)
    engine.dispose()
    for page in (None, "pages/spoke_page.py", "pages/scenarios_page.py"):
        at = app(page, unit="sales").run()
        assert not at.exception
        assert any("Demo data" in m.value for m in at.markdown), page


def test_the_updated_time_is_when_the_figures_shown_were_read(app, app_db):
    """The live overview is shared and may be served a refresh late: the caption gives the time its figures were
    read, not the time of the page's run."""
    import re
    import time

    at = app().run()
    first = next(c.value for c in at.caption if "Updated" in c.value)
    time.sleep(1.1)  # a rerun a second later, within the cache's 5 s lifetime: the same figures
    at.run()
    again = next(c.value for c in at.caption if "Updated" in c.value)
    assert re.search(r"Updated \d\d:\d\d:\d\d", first)
    assert again == first
