"""The spoke page: deep links, unknown units, and the default unit setting."""

from __future__ import annotations


def test_deep_link_opens_the_spoke(app, app_db):
    at = app("pages/spoke.py", unit="sales").run()
    assert not at.exception
    assert at.title[0].value == "Sales"
    kpis = at.dataframe[0].value
    assert list(kpis.KPI) == ["Revenue", "Conversion rate"]


def test_unknown_spoke_lists_the_valid_ones(app, app_db):
    at = app("pages/spoke.py", unit="marketing; drop table units").run()
    assert not at.exception
    assert at.title[0].value == "No such spoke"
    links = [link.proto.label for link in at.get("page_link")]
    assert links == ["Sales", "Finance"]


def test_spoke_page_without_unit_offers_a_choice(app, app_db):
    at = app("pages/spoke.py").run()
    assert not at.exception
    assert [link.proto.label for link in at.get("page_link")] == ["Sales", "Finance"]


def test_default_unit_setting_decides_when_the_url_does_not(app, app_db, use_db):
    use_db(app_db, default_unit="finance")
    at = app("pages/spoke.py").run()
    assert at.title[0].value == "Finance"


def test_a_spoke_without_kpi_data_says_no_data_rather_than_zero(app, app_db):
    at = app("pages/spoke.py", unit="finance").run()
    kpis = at.dataframe[0].value
    assert list(kpis.Status) == ["no data"]
