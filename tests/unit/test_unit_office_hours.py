"""Units' office hours and time zone on SQLite and PostgreSQL: imported from a units file (canonical, a bad cell
quarantines its row only, a file without the columns keeps what is stored), read back by list_units, and set or
cleared through the one use case (hub leads and admins, validated, audited, in the caller's transaction)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard import store
from dashboard.db import audit_log, units
from dashboard.domain.access import NotPermitted, Role, Viewer
from dashboard.queries.kpis import list_units
from dashboard.services.units import UnknownUnit, set_office_hours
from dashboard.whatif.calendar import CalendarError
from loaders.__main__ import main
from tests.factories import tiny_org
from tests.unit.test_ingest import load, quarantined, write_csv

ADMIN = Viewer("ada@example.com", Role.ADMIN)
HUB = Viewer("hal@example.com", Role.HUB_LEAD)
EXEC = Viewer("eve@example.com", Role.EXECUTIVE)
SALES = Viewer("sam@example.com", Role.SPOKE_LEAD, unit="sales")
COLUMNS = ["id", "name", "kind", "headcount", "cost_per_fte", "timezone", "office_hours"]
BASE_COLUMNS = COLUMNS[:5]


def unit(id: str, **cells) -> dict[str, str]:
    """A valid units-file row (a spoke of three); override any cell."""
    return dict(id=id, name=id.title(), kind="spoke", headcount="3", cost_per_fte="60000") | cells


def hours(engine) -> dict[str, tuple[str | None, str | None]]:
    """Every stored unit's (office_hours, timezone)."""
    with engine.connect() as conn:
        return {r.id: (r.office_hours, r.timezone)
                for r in conn.execute(select(units.c.id, units.c.office_hours, units.c.timezone))}


def audit_entries(engine) -> list[tuple]:
    a = audit_log.c
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(a.user, a.role, a.action, a.target, a.detail)
                                                .where(a.action == "unit_hours").order_by(a.id))]


@pytest.fixture
def org(engine):
    """hub, sales and finance (tests.factories.tiny_org), none with office hours."""
    with engine.begin() as conn:
        tiny_org(conn)
    return engine


# --- import ---------------------------------------------------------------------------------------------------


def test_the_cli_imports_office_hours_and_zones_in_their_canonical_spelling(env, capsys, db_url, engine, tmp_path):
    path = write_csv(tmp_path, "units.csv", [
        unit("support", timezone=" Europe/Berlin ", office_hours="mon-fri 8-18;sat 10-14"),
        unit("night", timezone="UTC", office_hours="always"),
        unit("plain", timezone="", office_hours=""),
        unit("asia", timezone="Asia/Tokyo", office_hours=""),
    ], COLUMNS)
    assert main(["ingest", "--database-url", db_url, str(path)]) == 0
    assert hours(engine) == {"support": ("Mon-Fri 08:00-18:00; Sat 10:00-14:00", "Europe/Berlin"),
                             "night": ("24/7", "UTC"), "plain": (None, None), "asia": (None, "Asia/Tokyo")}


def test_a_bad_zone_or_bad_hours_quarantine_that_row_naming_the_column_and_the_others_import(org, tmp_path):
    path = write_csv(tmp_path, "units_hours.csv", [
        unit("support", timezone="Europe/Berlin", office_hours="Mon-Fri 08:00-18:00"),
        unit("legal", timezone="Europe/Atlantis", office_hours="Mon-Fri 08:00-18:00"),
        unit("it", timezone="UTC", office_hours="Mon-Fri 22:00-06:00"),
        unit("hr", timezone="Europe/Paris", office_hours="24/7"),
    ], COLUMNS)
    report = load(org, path)
    assert (report.kind, report.rows_read, report.inserted, report.quarantined) == ("units", 4, 2, 2)
    assert {r["row_number"]: (r["kind"], r["reasons"]) for r in quarantined(org)} == {
        3: ("units", "timezone: 'Europe/Atlantis' is not a time zone (IANA names such as Europe/Berlin or UTC)"),
        4: ("units", "office_hours: 'Mon-Fri 22:00-06:00': the window must open before it closes on the same day"),
    }
    assert str(report.problems[0]).endswith("(found timezone='Europe/Atlantis')")
    stored = hours(org)
    assert "legal" not in stored and "it" not in stored
    assert (stored["support"], stored["hr"]) == (("Mon-Fri 08:00-18:00", "Europe/Berlin"), ("24/7", "Europe/Paris"))


def test_a_file_without_the_columns_keeps_stored_hours_and_an_empty_cell_clears_them(org, tmp_path):
    load(org, write_csv(tmp_path, "u1.csv", [unit("support", timezone="Europe/Berlin", office_hours="Mon-Fri 8-18"),
                                             unit("hr", timezone="UTC", office_hours="24/7")], COLUMNS))
    # the same hours spelled differently are the same stored value: nothing changes
    same = load(org, write_csv(tmp_path, "u2.csv", [unit("support", timezone="Europe/Berlin",
                                                         office_hours="mon-fri 08:00-18:00")], COLUMNS))
    assert (same.inserted, same.updated, same.unchanged) == (0, 0, 1)
    # a file without the two columns updates what it has and leaves the hours alone
    slim = load(org, write_csv(tmp_path, "u3.csv", [unit("support", headcount="5"), unit("hr", headcount="2")],
                               BASE_COLUMNS))
    assert (slim.updated, slim.quarantined) == (2, 0)
    assert hours(org)["support"] == ("Mon-Fri 08:00-18:00", "Europe/Berlin") and hours(org)["hr"] == ("24/7", "UTC")
    # a file with the columns left empty says "not stated": back to reading them from the data
    cleared = load(org, write_csv(tmp_path, "u4.csv", [unit("support", headcount="5", timezone="", office_hours="")],
                                  COLUMNS))
    assert cleared.updated == 1
    assert hours(org)["support"] == (None, None) and hours(org)["hr"] == ("24/7", "UTC")


def test_upsert_units_writes_the_columns_and_keeps_them_when_a_row_does_not_give_them(org):
    with org.begin() as conn:
        store.upsert_units(conn, [dict(id="sales", name="Sales", kind="spoke", headcount=20, cost_per_fte=70000,
                                       timezone="Europe/Berlin", office_hours="Mon-Fri 08:00-18:00")])
        store.upsert_units(conn, [dict(id="sales", name="Sales EMEA", kind="spoke", headcount=21, cost_per_fte=70000)])
    assert hours(org)["sales"] == ("Mon-Fri 08:00-18:00", "Europe/Berlin")
    with org.begin() as conn:
        assert store.set_unit_office_hours(conn, "finance", "24/7", "UTC") is True
        assert store.set_unit_office_hours(conn, "nobody", "24/7", "UTC") is False
    assert hours(org) == {"hub": (None, None), "sales": ("Mon-Fri 08:00-18:00", "Europe/Berlin"),
                          "finance": ("24/7", "UTC")}


def test_list_units_returns_office_hours_and_zones_none_where_not_stated(org):
    with org.begin() as conn:
        store.set_unit_office_hours(conn, "sales", "Mon-Fri 08:00-18:00", "Europe/Berlin")
    with org.connect() as conn:
        listed = list_units(conn, EXEC).set_index("id")
    assert {"timezone", "office_hours"} <= set(listed.columns)
    assert listed.loc["sales", ["office_hours", "timezone"]].tolist() == ["Mon-Fri 08:00-18:00", "Europe/Berlin"]
    assert listed.loc[["hub", "finance"], ["office_hours", "timezone"]].isna().all().all()


# --- the use case ---------------------------------------------------------------------------------------------


def test_a_hub_lead_sets_and_clears_office_hours_canonical_and_audited(org):
    with org.begin() as conn:
        set_office_hours(conn, HUB, "sales", "mon-fri 8-18", " Europe/Berlin ")
    assert hours(org)["sales"] == ("Mon-Fri 08:00-18:00", "Europe/Berlin")
    with org.begin() as conn:
        set_office_hours(conn, ADMIN, "sales", "24/7", None)  # no zone: the what-if model's default
    assert hours(org)["sales"] == ("24/7", None)
    with org.begin() as conn:
        set_office_hours(conn, HUB, "sales", "  ", "")  # empty: read from the data again
    assert hours(org) == {"hub": (None, None), "sales": (None, None), "finance": (None, None)}
    assert audit_entries(org) == [
        (HUB.user, "hub_lead", "unit_hours", "sales",
         "office hours Mon-Fri 08:00-18:00 (Europe/Berlin), were: read from the data"),
        (ADMIN.user, "admin", "unit_hours", "sales",
         "office hours 24/7, were: Mon-Fri 08:00-18:00 (Europe/Berlin)"),
        (HUB.user, "hub_lead", "unit_hours", "sales", "office hours read from the data, were: 24/7"),
    ]


@pytest.mark.parametrize("viewer", [SALES, EXEC], ids=["spoke lead of the unit", "executive"])
def test_a_spoke_lead_or_an_executive_is_refused_and_nothing_is_written(org, viewer):
    with org.begin() as conn, pytest.raises(NotPermitted, match="may not set a unit's office hours"):
        set_office_hours(conn, viewer, "sales", "Mon-Fri 08:00-18:00", "Europe/Berlin")
    assert hours(org)["sales"] == (None, None)
    assert audit_entries(org) == []


@pytest.mark.parametrize("office_hours, timezone, message", [
    ("Mon-Fri 08:00-18:00", "Europe/Atlantis", "'Europe/Atlantis' is not a time zone"),
    ("Mon-Fri 18:00-08:00", "UTC", "the window must open before it closes on the same day"),
    ("Mo-Fr 8-18", "UTC", "is not a range of days such as Mon-Fri"),
])
def test_unreadable_hours_or_zones_are_refused_with_the_reason_and_nothing_is_written(org, office_hours, timezone,
                                                                                       message):
    with org.begin() as conn:
        set_office_hours(conn, HUB, "finance", "24/7", "UTC")
    with org.begin() as conn, pytest.raises(CalendarError, match=message):
        set_office_hours(conn, HUB, "finance", office_hours, timezone)
    assert hours(org)["finance"] == ("24/7", "UTC")
    assert len(audit_entries(org)) == 1


def test_an_unknown_unit_is_refused_as_a_value_error_naming_it(org):
    with org.begin() as conn, pytest.raises(UnknownUnit, match="there is no unit 'nobody'") as refused:
        set_office_hours(conn, HUB, "nobody", "Mon-Fri 08:00-18:00", "UTC")
    assert isinstance(refused.value, ValueError)
    assert audit_entries(org) == [] and "nobody" not in hours(org)


def test_the_change_and_its_audit_entry_roll_back_with_the_callers_transaction(org):
    with pytest.raises(RuntimeError, match="later step failed"), org.begin() as conn:
        set_office_hours(conn, HUB, "sales", "Mon-Fri 08:00-18:00", "Europe/Berlin")
        assert conn.execute(select(units.c.office_hours).where(units.c.id == "sales")).scalar_one() == \
            "Mon-Fri 08:00-18:00"  # written, uncommitted
        raise RuntimeError("later step failed")
    assert hours(org)["sales"] == (None, None)
    assert audit_entries(org) == []
