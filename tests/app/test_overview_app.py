"""The overview page driven through the real app with Streamlit's AppTest."""

from __future__ import annotations

import json

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
    now = dt.datetime.now(dt.timezone.utc)
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
