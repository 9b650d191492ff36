"""Values in a page's link are checked before any query: an id or number no page can use (too long, too large
for the database, not a number, a NUL byte) gives one plain sentence naming the parameter, the page's usual
empty state, and never an exception or a database-failure banner — on SQLite and, for the integer ids, on
PostgreSQL (whose integer columns refuse 2147483648)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.db import make_engine
from dashboard.domain.vocabulary import WINDOWS
from tests.app.shown import shown
from tests.factories import sample_activity

GARBAGE = ["2147483648", "99999999999999999999", "x" * 5000, "sales\x00", "-1", "0", "²", "1e3", " 7"]
SPOKE = "pages/spoke_page.py"
pytestmark = pytest.mark.slow  # about a second per page run
SCENARIOS = "pages/scenarios_page.py"


def said(at, name: str) -> str:
    """The one warning about ``name`` in the link, as the reader sees it."""
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]  # no database banner
    [message] = [shown(w.value) for w in at.warning if f"The link's {name}=" in shown(w.value)]
    return message


@pytest.fixture
def pg_app_db(pg_url, use_db):
    eng = make_engine(pg_url)
    with eng.begin() as conn:
        sample_activity(conn, dt.datetime.now(dt.UTC))
    eng.dispose()
    return use_db(pg_url)


@pytest.mark.parametrize("value", ["x" * 5000, "sales\x00", "-1", "²", " 7", "Sales", "a" * 65,
                                   "[x](https://evil.example)"])
def test_a_unit_that_is_no_spoke_id_is_named_and_the_spokes_are_offered(app, app_db, value):
    at = app(SPOKE, unit=value).run()
    message = said(at, "unit")
    assert message.endswith("is not a spoke id: ids are up to 64 lower-case letters, digits, _ and -.")
    assert "\x00" not in message and len(message) < 200
    assert at.title[0].value == "No such spoke"
    assert [link.proto.label for link in at.get("page_link")] == ["Sales", "Finance"]


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999", "0", "1e3"])
def test_a_well_formed_unit_nobody_has_is_no_such_spoke(app, app_db, value):
    at = app(SPOKE, unit=value).run()
    assert not at.exception and not at.warning
    assert [e.value for e in at.error] == [f"There is no spoke called “{value}”. Choose one of these:"]


def test_a_long_value_is_quoted_by_its_start_and_length(app, app_db):
    message = said(app(SPOKE, unit="x" * 5000).run(), "unit")
    assert message.startswith("The link's unit=“" + "x" * 40 + "… (5,000 characters)” is not a spoke id")


@pytest.mark.parametrize("value", GARBAGE + ["[x](https://evil.example)"])
def test_a_scenario_that_is_no_row_number_is_named_and_the_as_is_stays(app, app_db, value):
    at = app(SCENARIOS, scenario=value).run()
    assert said(at, "scenario").endswith("is not a saved scenario's number: those are whole numbers from 1 to "
                                         "2,147,483,647.")
    assert any(b.label == "Save scenario" for b in at.button)  # the page goes on from the as-is model


@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999", "x" * 5000, "7\x00"])
def test_the_scenario_link_checks_run_before_postgresql_sees_the_value(app, pg_app_db, value):
    at = app(SCENARIOS, scenario=value).run()
    assert "is not a saved scenario's number" in said(at, "scenario")


@pytest.mark.parametrize("value", ["x" * 5000, "sales\x00", "-1", "0", "²", "1e3"])
def test_an_inbox_page_that_is_no_number_is_named_and_page_one_shows(app, app_db, value):
    at = app(SPOKE, unit="sales")
    at.query_params["page"] = value  # (the fixture's own first argument is called page)
    at.run()
    assert said(at, "page").endswith("is not a page number; showing page 1.")
    assert any("Item" in d.value.columns for d in at.dataframe)


@pytest.mark.parametrize("db", ["app_db", "pg_app_db"])
@pytest.mark.parametrize("value", ["2147483648", "99999999999999999999"])
def test_an_inbox_page_past_the_end_shows_the_last_page(app, request, db, value):
    request.getfixturevalue(db)
    at = app(SPOKE, unit="sales")
    at.query_params["page"] = value  # (the fixture's own first argument is called page)
    at.run()
    assert not at.exception and not at.error and not at.warning
    assert any("Item" in d.value.columns for d in at.dataframe)


@pytest.mark.parametrize("value", ["x" * 5000, "7d\x00", "2147483648", "[x](https://evil.example)"])
def test_a_window_that_is_not_offered_is_named_and_the_default_shows(app, app_db, value):
    at = app(SPOKE, unit="sales", window=value).run()
    assert said(at, "window").endswith(f"is not one of {', '.join(WINDOWS)}; showing 7d.")
    assert at.segmented_control(key="window").value == "7d"


@pytest.mark.parametrize("name, value", [("channel", "fax"), ("kind", "x" * 5000), ("status", "routed,lost\x00"),
                                         ("sort", "-password"), ("sort", "x" * 5000)])
def test_an_inbox_filter_not_offered_is_named_and_left_out(app, app_db, name, value):
    at = app(SPOKE, unit="sales", **{name: value}).run()
    message = said(at, name)
    assert message.endswith("showing due_at." if name == "sort" else "ignored.")
    assert "\x00" not in message
    assert any("Item" in d.value.columns for d in at.dataframe)


def test_the_known_values_of_a_list_parameter_still_apply(app, app_db):
    at = app(SPOKE, unit="sales", status="resolved,lost").run()
    assert said(at, "status").startswith("The link's status=“lost” is not among the choices here (")
    assert at.pills(key="status").value == ["resolved"]
