"""Saved scenarios on SQLite and PostgreSQL: unique names, overwrite on request, owners, duplicates."""

from __future__ import annotations

import pytest

from dashboard.domain.access import LOCAL_ADMIN, NotPermitted, Role, Viewer
from dashboard.queries.scenarios import get_scenario, list_scenarios
from dashboard.services.scenarios import ScenarioExists, delete_scenario, duplicate_scenario, save_scenario

HUB_LEAD = Viewer("hana", Role.HUB_LEAD)
OTHER = Viewer("otto", Role.HUB_LEAD)
INPUTS = {"functions": {"content_production": {"mode": "hub", "share": 1.0}}, "fte_cost": 70000}


def save(conn, viewer=HUB_LEAD, name="Central content", **kw):
    return save_scenario(conn, viewer, name=name, description="test", inputs=INPUTS, inputs_version=1,
                         results={"total_cost": 1.0}, **kw)


def test_saved_scenario_round_trips_its_inputs_and_results(engine):
    with engine.begin() as conn:
        sid = save(conn)
    with engine.connect() as conn:
        s = get_scenario(conn, HUB_LEAD, sid)
        listed = list_scenarios(conn, HUB_LEAD)
    assert s.inputs == INPUTS and s.results == {"total_cost": 1.0} and s.owner == "hana"
    assert list(listed.name) == ["Central content"]


def test_duplicate_name_asks_to_overwrite_or_rename(engine):
    with engine.begin() as conn:
        sid = save(conn)
        with pytest.raises(ScenarioExists, match="overwrite it or choose another name"):
            save(conn)
        assert save(conn, overwrite=True) == sid


def test_only_the_owner_or_an_admin_may_overwrite_or_delete(engine):
    with engine.begin() as conn:
        sid = save(conn)
        with pytest.raises(NotPermitted):
            save(conn, viewer=OTHER, overwrite=True)
        with pytest.raises(NotPermitted):
            delete_scenario(conn, OTHER, sid)
        delete_scenario(conn, LOCAL_ADMIN, sid)
        assert get_scenario(conn, HUB_LEAD, sid) is None


def test_duplicating_gives_a_fresh_name_owned_by_the_copier(engine):
    with engine.begin() as conn:
        sid = save(conn)
        copy1 = duplicate_scenario(conn, OTHER, sid)
        copy2 = duplicate_scenario(conn, OTHER, sid)
        names = {get_scenario(conn, OTHER, i).name for i in (copy1, copy2)}
        assert names == {"Central content (copy)", "Central content (copy) 2"}
        assert get_scenario(conn, OTHER, copy1).owner == "otto"


def test_blank_names_and_missing_viewers_are_refused(engine):
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="name"):
            save(conn, name="   ")
        with pytest.raises(NotPermitted):
            list_scenarios(conn, None)
