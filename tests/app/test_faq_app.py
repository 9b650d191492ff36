"""The FAQ candidates tab (dashboard.ui.faq_view) through AppTest: candidates grouped from mentions the hub
routed, the controls, the empty states, the safe CSV, and a spoke lead's scope."""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import store
from dashboard.db import make_engine
from dashboard.ui import faq_view
from loaders.spec import PRODUCTS
from tests.factories import item, sample_database

BUY = "Does anyone know where to buy the {p}?"
REFUND = "Still waiting for a refund on my {p}."
STOCK = "Is the {p} in stock anywhere near me?"


def _render_as(role: str, unit: str | None = None) -> None:  # an AppTest script: runs in its own module
    from dashboard.domain.access import Role, Viewer
    from dashboard.ui import faq_view

    faq_view.render(Viewer("tester@example.com", Role(role), unit))


def tab(role: str = "hub_lead", unit: str | None = None) -> AppTest:
    return AppTest.from_function(_render_as, args=(role, unit), default_timeout=30)


def mentions(now: dt.datetime) -> list[dict]:
    """Per product: 3 x "where to buy" and 1 x "in stock" to sales, 2 x "refund" to finance (the sample org
    has no customer service), spread over the last 20 days; one formula-like question, twice, 40 days ago."""
    rows, n = [], 0

    def add(text, target, days_ago):
        nonlocal n
        n += 1
        rows.append(item(f"m{n}", "hub", target, now - dt.timedelta(days=days_ago, minutes=n), kind="mention")
                    | {"text": text})

    for i, p in enumerate(PRODUCTS):
        for k in range(3):
            add(BUY.format(p=p), "sales", 1 + i + k)
        add(STOCK.format(p=p), "sales", 2 + i)
        for k in range(2):
            add(REFUND.format(p=p), "finance", 3 + i + k)
    for _ in range(2):
        add("=HYPERLINK(\"http://evil\",\"Where is my order?\")", "sales", 40)
    return rows


@pytest.fixture
def faq_db(tmp_path, use_db):
    url = sample_database(tmp_path / "faq.db")
    engine = make_engine(url)
    with engine.begin() as conn:
        store.insert_work_items(conn, mentions(dt.datetime.now(dt.UTC)))
    engine.dispose()
    return use_db(url)


def candidates_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "Candidate" in d.value.columns)


def test_candidates_are_grouped_counted_and_explained(faq_db):
    at = tab().run()
    assert not at.exception, at.exception
    table = candidates_table(at)
    # questions only (the default): "where to buy" and "in stock" — the refund complaints are hidden
    assert table[["Rank", "Candidate", "Items", "Wordings", "Question"]].values.tolist() == [
        [1, "anyone know, buy", 15, 5, True], [3, "anywhere near, stock", 5, 5, True]]
    assert table.Share.tolist() == [f"{15 / 30 * 100:.1f} %", f"{5 / 30 * 100:.1f} %"]
    assert table.Spokes.tolist() == ["Sales 15", "Sales 5"]
    assert table.Examples[0].count(" | ") == 2 and "Does anyone know where to buy the" in table.Examples[0]
    assert any("1 more candidate hidden by the filters" in c.value for c in at.caption)
    assert any(c.value.startswith("30 mentions in the last 30 days, 15 distinct wordings") for c in at.caption)
    titles = [e.label for e in at.expander]
    assert titles[0] == "1. anyone know, buy — 15 items (50.0 % of the mentions), 5 wordings"
    assert titles[-1] == "How candidates are found"
    at.toggle(key="faq_questions").set_value(False).run()
    table = candidates_table(at)
    assert table.Candidate.tolist() == ["anyone know, buy", "still waiting, refund", "anywhere near, stock"]
    assert table.Spokes[1] == "Finance 10" and not table.Question[1]


def test_the_controls_change_the_grouping(faq_db):
    at = tab().run()
    at.toggle(key="faq_questions").set_value(False).run()
    at.number_input(key="faq_min_items").set_value(11).run()
    assert candidates_table(at).Candidate.tolist() == ["anyone know, buy"]
    at.number_input(key="faq_min_items").set_value(1).run()
    at.slider(key="faq_threshold").set_value(0.9).run()
    strict = candidates_table(at)
    assert len(strict) == 15 and strict.Wordings.eq(1).all()  # each wording alone
    assert at.slider(key="faq_threshold").help.startswith("How alike two wordings must be")
    at.segmented_control(key="faq_days").set_value(90).run()
    at.slider(key="faq_threshold").set_value(0.5).run()
    table = candidates_table(at)
    assert table.Items.sum() == 32 and "hyperlink" in " ".join(table.Candidate).lower()


def test_empty_states(faq_db):
    at = tab().run()
    at.segmented_control(key="faq_days").set_value(7).run()
    assert not at.exception
    at.number_input(key="faq_min_items").set_value(1000).run()
    assert any("No group of similar mentions reaches 1,000 items" in i.value for i in at.info)


def test_no_mentions_in_the_window(app_db):
    at = tab().run()  # the sample organisation has no mentions at all
    assert not at.exception, at.exception
    assert [i.value for i in at.info] == [
        "No mentions in this window (the last 30 days): choose a longer window."]
    assert not [d for d in at.dataframe if "Candidate" in d.value.columns]


def test_a_spoke_lead_sees_only_their_spokes_mentions(faq_db):
    at = tab("spoke_lead", "finance").run()
    assert not at.exception, at.exception
    at.toggle(key="faq_questions").set_value(False).run()
    table = candidates_table(at)
    assert table.Candidate.tolist() == ["still waiting, refund"] and table.Spokes.tolist() == ["Finance 10"]
    assert table.Share.tolist() == ["100.0 %"]


def test_the_csv_is_safe_for_spreadsheets(faq_db):
    at = tab().run()
    at.segmented_control(key="faq_days").set_value(90).run()
    at.toggle(key="faq_questions").set_value(False).run()
    table = candidates_table(at)
    csv = pd.read_csv(io.BytesIO(faq_view.export_csv(table, 32)), encoding="utf-8-sig")  # 32 mentions in 90 days
    assert list(csv.columns) == ["Rank", "Candidate", "Items", "Share (%)", "Wordings", "Question", "Spokes", "Examples"]
    evil = csv[csv.Examples.str.contains("HYPERLINK")]
    assert evil.Examples.str.startswith("'=").all() and len(evil) == 1
    assert csv["Share (%)"].sum() == pytest.approx(100, abs=0.1)


def test_the_routing_pages_faq_tab(app, faq_db):
    """The real page: the Routing page's "FAQ candidates" tab renders this view for the local admin."""
    at = app("pages/routing_page.py").run()
    assert not at.exception, at.exception
    assert "FAQ candidates" in [t.label for t in at.tabs]
    faq_tab = next(t for t in at.tabs if t.label == "FAQ candidates")
    tables = [d.value for d in faq_tab.dataframe if "Candidate" in d.value.columns]
    assert len(tables) == 1 and tables[0].Candidate.tolist() == ["anyone know, buy", "anywhere near, stock"]
    assert faq_tab.slider(key="faq_threshold").value == 0.4
    at.slider(key="faq_threshold").set_value(0.9).run()
    assert not at.exception, at.exception
    strict = candidates_table(at)  # each wording alone; the "in stock" ones (1 item each) are below the minimum
    assert len(strict) == 5 and strict.Wordings.eq(1).all() and strict.Items.eq(3).all()


def test_a_small_group_never_reads_0_percent_beside_its_items(faq_db):
    """2 of 32 mentions is 6.2 %; at 90 days with a strict threshold every wording stands alone, and a group's
    share is never shown as '0.0 %' while it holds items (a share below 0.05 % reads '< 0.1 %')."""
    at = tab().run()
    at.segmented_control(key="faq_days").set_value(90).run()
    at.toggle(key="faq_questions").set_value(False).run()
    at.number_input(key="faq_min_items").set_value(1).run()
    at.slider(key="faq_threshold").set_value(0.9).run()
    table = candidates_table(at)
    assert (table.Items > 0).all() and not table.Share.isin(["0.0 %", "0 %"]).any()
    total = table.Items.sum()
    assert table.Share.tolist() == [f"{n / total * 100:.1f} %" for n in table.Items]
    column = json.loads(next(d for d in at.dataframe if "Candidate" in d.value.columns).proto.columns)
    assert column["Items"]["type_config"]["format"] == "%,d"
