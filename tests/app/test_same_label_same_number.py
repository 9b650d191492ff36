"""The same label means the same number on every page.

Every labelled figure (each st.metric tile, and each row of a KPI table: KPI name -> value) is collected from
every page of the real app on the known organisation, as an admin and as a hub lead, with each page's default
view. A label that appears more than once must show one number (equal to the precision both show it with); two
different quantities need two different labels.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from tests import known_org as ko
from tests.app.page_text import metrics, numbers, table

PAGES = [  # (page file or None for the overview, query)
    (None, {}),
    ("pages/spoke_page.py", {"unit": ko.SALES}),
    ("pages/spoke_page.py", {"unit": ko.FINANCE}),
    ("pages/spoke_page.py", {"unit": ko.SERVICE}),
    ("pages/scenarios_page.py", {}),
    ("pages/routing_page.py", {}),
    ("pages/operating_model_page.py", {}),
    ("pages/health_page.py", {}),
    ("pages/upload_page.py", {}),
    ("pages/admin_page.py", {}),
]


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    return ko.known_database(tmp_path_factory.mktemp("labels") / "known.db")


def figures(at, where: str) -> list[tuple[str, str, str]]:
    """(label, shown value, where) of every labelled figure on the page."""
    out = [(label, value, where) for label, value, _d, _c in metrics(at) if numbers(value)]
    for node in at.dataframe:
        cols = {c.name: c.shown for c in table(node)}
        if "KPI" in cols and "Value" in cols:
            out += [(k, v, f"{where} (KPI table)") for k, v in zip(cols["KPI"], cols["Value"]) if numbers(v)]
    return out


def same(a: str, b: str) -> bool:
    """Two shown figures are the same number when each rounds to the other."""
    x, y = numbers(a)[0], numbers(b)[0]
    return abs(x.value - y.value) <= x.half_unit + y.half_unit + 1e-9


def collect(app, pages) -> dict[str, list[tuple[str, str]]]:
    seen: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for page, query in pages:
        at = app(page, **query).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        where = (page or "overview").removeprefix("pages/").removesuffix("_page.py")
        where += "".join(f" {v}" for v in query.values())
        for label, value, place in figures(at, where):
            seen[re.sub(r"\s+", " ", label.strip().lower())].append((value, place))
    return seen


def conflicts(seen) -> list[str]:
    out = []
    for label, shown in sorted(seen.items()):
        first = shown[0]
        for other in shown[1:]:
            if not same(first[0], other[0]):
                out.append(f"“{label}”: {first[0]} on {first[1]}, {other[0]} on {other[1]}")
    return out


def test_every_label_means_one_number_across_the_pages_for_an_admin(app, known, use_db):
    url, org = known
    use_db(url, timezone=org.timezone)
    seen = collect(app, PAGES)
    assert sum(len(v) for v in seen.values()) >= 20, "too few figures read: the pages did not render their tiles"
    found = conflicts(seen)
    assert not found, "the same label shows different numbers:\n" + "\n".join(found)


def test_every_label_means_one_number_across_the_pages_for_a_hub_lead(app, known, use_db, sign_in):
    url, org = known
    use_db(url, timezone=org.timezone)
    sign_in({"email": "hana@example.com", "role": "hub_lead"})
    pages = [p for p in PAGES if p[0] != "pages/admin_page.py"]
    found = conflicts(collect(app, pages))
    assert not found, "the same label shows different numbers:\n" + "\n".join(found)


@pytest.mark.parametrize("window", ["7d", "30d", "today"])
def test_a_goal_tile_and_the_spokes_kpi_tile_agree_in_every_window(app, known, use_db, window):
    """The overview's shared-goal tiles and Sales' own KPI tiles name the same KPIs: same window, same figures."""
    url, org = known
    use_db(url, timezone=org.timezone)
    overview = {label: value for label, value, _d, _c in metrics(app(window=window).run())}
    at = app("pages/spoke_page.py", unit=ko.SALES).run()
    at.button_group(key="window").set_value(window).run()  # the page's own window control
    assert not at.exception
    spoke = {label: value for label, value, _d, _c in metrics(at)}
    shared = set(overview) & set(spoke)
    assert {"Revenue", "Conversion rate"} <= shared, (overview, spoke)
    for label in shared:
        assert same(overview[label], spoke[label]), f"{label} ({window}): {overview[label]} on the overview, {spoke[label]} on Sales"
