"""No raw number in an export: the CSV files a reader downloads from the pages (headless Chromium, a real server on
the known organisation) hold times without fractions of a second, numbers with at most two decimals, and no
"None", "nan" or "NaT" where a value is missing."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests import known_org as ko
from tests.browser.conftest import start_server

FRACTION_OF_A_SECOND = re.compile(r"\d{2}:\d{2}:\d{2}[.,]\d+")
RAW_DECIMAL = re.compile(r"^[+\-]?\d+\.\d{3,}$")
MISSING = re.compile(r"^(None|nan|NaN|NaT|null)$")


@pytest.fixture(scope="module")
def known_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("exports")
    url, org = ko.known_database(tmp / "known.db")
    server = start_server(url, tmp, timezone=org.timezone, cache_ttl_seconds=1)
    yield server
    server.stop()


def download(page, label: str) -> list[dict]:
    with page.expect_download(timeout=60_000) as event:
        page.get_by_role("button", name=label).click()
    text = open(event.value.path(), encoding="utf-8-sig").read()
    return list(csv.DictReader(io.StringIO(text)))


def raw_cells(rows: list[dict]) -> list[str]:
    out = []
    for i, row in enumerate(rows):
        for column, cell in row.items():
            cell = (cell or "").strip()
            if FRACTION_OF_A_SECOND.search(cell):
                out.append(f"row {i + 1} {column}: a time with fractions of a second {cell!r}")
            if RAW_DECIMAL.match(cell):
                out.append(f"row {i + 1} {column}: more than two decimals {cell!r}")
            if MISSING.match(cell):
                out.append(f"row {i + 1} {column}: a missing value written as {cell!r}")
    return out


@pytest.mark.parametrize("unit, label", [
    (ko.SALES, "Download filtered inbox (CSV)"),
    (ko.SERVICE, "Download filtered inbox (CSV)"),
    (ko.SERVICE, "Download KPIs (CSV)"),
])
def test_a_spoke_pages_exports_hold_no_raw_figures(page, known_server, unit, label):
    page.goto(f"{known_server.url}/spoke?unit={unit}&window=30d")
    page.get_by_role("heading", name=ko.NAMES[unit]).wait_for()
    rows = download(page, label)
    assert rows, f"{label} of {unit} is empty"
    found = raw_cells(rows)
    assert not found, f"{label} ({unit}): {len(found)} raw cell(s):\n" + "\n".join(found[:30])
