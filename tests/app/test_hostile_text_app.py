"""People's text and URL values are shown literally on every page: a unit, scenario or rule named like a Markdown
link, emphasis, a colour directive, HTML or a formula renders as those characters, never as markup; and the same
through URL parameters. Checks every element that renders Markdown (titles, text, captions, alerts, expander and
tab labels, metric labels) and every chart's labels (plotly renders a subset of HTML, links included)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from dashboard import store
from dashboard.db import make_engine
from dashboard.domain.access import LOCAL_ADMIN
from dashboard.domain.routing import Rule, RuleSet
from dashboard.services import routing as routing_service
from dashboard.services import scenarios as scenario_service
from dashboard.whatif.inputs import CURRENT_INPUTS_VERSION, default_inputs, dump_inputs

LINK = "[Session expired - sign in again](https://evil.example/login)"
HOSTILE_UNIT = f"{LINK} **Sales** <b>bold</b> $x^2$ :red[alarm]"
HOSTILE_SCENARIO = f"{LINK} __big__ <a href='https://evil.example'>x</a>"
HOSTILE_RULE = f"{LINK} *rule*"

# Markdown that renders as markup: an unescaped link, emphasis, colour directive or formula; raw HTML
UNESCAPED = [
    re.compile(r"(?<!\\)\[[^\]\\]*(?<!\\)\]\("),  # [text](url) with neither bracket escaped
    re.compile(r"(?<!\\)\*\*Sales(?<!\\)\*\*"),
    re.compile(r"(?<!\\)__big(?<!\\)__"),
    re.compile(r"(?<![\\])\$x\^2(?<!\\)\$"),
    re.compile(r"(?<!\\):red(?<!\\)\[alarm"),
    re.compile(r"<b>bold</b>|<a href="),
]
PAGES = ["pages/overview_page.py", "pages/spoke_page.py", "pages/scenarios_page.py", "pages/routing_page.py",
         "pages/operating_model_page.py", "pages/health_page.py", "pages/upload_page.py", "pages/admin_page.py"]


@pytest.fixture
def hostile_db(app_db):
    engine = make_engine(app_db)
    now = dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        store.upsert_units(conn, [dict(id="sales", name=HOSTILE_UNIT, kind="spoke", headcount=20, cost_per_fte=70000,
                                       sort_order=1)])
        scenario_service.save_scenario(conn, LOCAL_ADMIN, name=HOSTILE_SCENARIO, description=LINK,
                                inputs=dump_inputs(default_inputs(["sales", "finance"])),
                                inputs_version=CURRENT_INPUTS_VERSION, results=None, now=now)
        routing_service.save_draft(conn, LOCAL_ADMIN, RuleSet(rules=[Rule(id="r1", name=HOSTILE_RULE, keywords=["price"],
                                                                  target_unit="sales")]), name=HOSTILE_RULE, now=now)
    engine.dispose()
    return app_db


def rendered_markdown(at) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "error", "warning", "info", "success"):
        texts += [e.value for e in getattr(at, kind)]
    texts += [e.label for e in at.expander] + [t.label for t in at.tabs]
    texts += [m.label for m in at.metric]
    return texts


def chart_texts(at) -> list[str]:
    """Every string inside the page's plotly figures (labels, hover text, annotations, axis titles)."""
    out = []
    for chart in at.get("plotly_chart"):
        spec = getattr(chart.proto, "spec", "") or getattr(chart.proto, "figure", None) and chart.proto.figure.spec
        out.append(json.dumps(json.loads(spec)) if spec else "")
    return out


def offences(texts: list[str]) -> list[str]:
    return [t[:160] for t in texts for pattern in UNESCAPED if pattern.search(t)]


@pytest.mark.parametrize("page", PAGES)
def test_stored_names_render_as_typed_on_every_page(app, hostile_db, page):
    at = app(page).run()
    assert not at.exception, at.exception
    assert offences(rendered_markdown(at)) == []
    assert [t[:200] for t in chart_texts(at) if "<b>bold</b>" in t or "<a href='https://evil" in t] == []


@pytest.mark.parametrize("page, query", [
    ("pages/spoke_page.py", {"unit": LINK}),
    ("pages/scenarios_page.py", {"scenario": LINK}),
    ("pages/scenarios_page.py", {"scenario": "99999999999999999999"}),
    ("pages/spoke_page.py", {"unit": "sales", "window": LINK}),
])
def test_url_values_render_as_typed_and_never_fail(app, app_db, page, query):
    at = app(page, **query).run()
    assert not at.exception, at.exception
    assert offences(rendered_markdown(at)) == []
