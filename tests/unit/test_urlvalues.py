"""Link values are checked against what the database columns hold (dashboard.domain.urlvalues)."""

from __future__ import annotations

import pytest
from sqlalchemy import Integer

from dashboard.db import routing_rule_sets, scenarios, target_models, units
from dashboard.domain.urlvalues import ROW_ID_MAX, UNIT_ID_LENGTH, UrlValueError, page_number, row_id, unit_id


def test_the_limits_are_the_columns_limits():
    assert units.c.id.type.length == UNIT_ID_LENGTH
    for table in (scenarios, routing_rule_sets, target_models):
        assert type(table.c.id.type) is Integer and ROW_ID_MAX == 2**31 - 1


def test_the_largest_ids_pass_and_one_more_does_not():
    assert unit_id("a" * 64) == "a" * 64 and row_id("2147483647", "scenario", "x") == ROW_ID_MAX
    with pytest.raises(UrlValueError):
        unit_id("a" * 65)
    with pytest.raises(UrlValueError, match="scenario=“2147483648”"):
        row_id("2147483648", "scenario", "x")


@pytest.mark.parametrize("raw", ["", "0", "-1", "+1", "1.0", "１", "²", "1\x00", "9" * 5000])
def test_row_ids_are_ascii_whole_numbers_in_range(raw):
    with pytest.raises(UrlValueError) as caught:
        row_id(raw, "scenario", "a saved scenario's number")
    assert "\x00" not in str(caught.value) and len(str(caught.value)) < 200


def test_a_page_past_any_end_is_a_number_the_pager_clamps():
    assert page_number("99999999999999999999") >= 10**11 and page_number("3") == 3
    with pytest.raises(UrlValueError, match="showing page 1"):
        page_number("0")
