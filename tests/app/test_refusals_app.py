"""Refusals on the page: a use case's refusal (:class:`dashboard.domain.refusals.Refused`) shows its sentence and
the form keeps its input; a plain ``ValueError`` — a bug, from pandas, numpy or a typo — is never shown as advice:
its text appears nowhere on the page, and no traceback either (``client.showErrorDetails = "none"``)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from dashboard.db import make_engine, scenarios
from dashboard.services import scenarios as scenario_service
from dashboard.ui import scenario_trust
from dashboard.ui.shell import BUG_MESSAGE
from tests.app.shown import shown

PAGE = "pages/scenarios_page.py"
BUG = "cannot reshape array of size 3 into shape (2,2)"  # what numpy says, not a sentence for the person


def button(at, label):
    return next(b for b in at.button if b.label == label)


def name_box(at):
    return next(t for t in at.text_input if t.label == "Name")


def saved_count(url: str) -> int:
    with make_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(scenarios)).scalar_one()


def everything_shown(at) -> list[str]:
    """The text of every message on the page, and of any exception box (message and trace)."""
    texts = [shown(m.value) for kind in (at.error, at.warning, at.info, at.success) for m in kind]
    texts += [e.message for e in at.exception] + [line for e in at.exception for line in e.stack_trace]
    return texts


def test_a_scenario_without_a_name_is_refused_with_the_sentence(app, app_db):
    at = app(PAGE).run()
    name_box(at).input("   ")
    button(at, "Save scenario").click().run()
    assert not at.exception, at.exception
    assert any(shown(w.value) == "Give the scenario a name." for w in at.warning), [w.value for w in at.warning]
    assert saved_count(app_db) == 0


def _broken(*args, **kwargs):
    raise ValueError(BUG)


def _save_scenario(at, monkeypatch):
    name_box(at).input("All in the hub")
    monkeypatch.setattr(scenario_service, "save_scenario", _broken)
    return button(at, "Save scenario").click().run()


def _save_office_hours(at, monkeypatch):
    monkeypatch.setattr(scenario_trust, "set_office_hours", _broken)
    at.selectbox(key="oh_unit").set_value("sales").run()
    at.text_input(key="oh_hours_sales").input("Mon-Fri 08:00-18:00")
    at.text_input(key="oh_zone_sales").input("Europe/Berlin")
    return button(at, "Save office hours").click().run()


@pytest.mark.parametrize("write", [_save_scenario, _save_office_hours], ids=["save a scenario", "save office hours"])
def test_a_bug_in_a_write_is_not_shown_as_advice_nor_as_a_traceback(app, app_db, monkeypatch, write):
    at = write(app(PAGE).run(), monkeypatch)
    texts = everything_shown(at)
    assert not [t for t in texts if "reshape" in t], texts  # the bug's text is shown nowhere ...
    assert not [t for t in texts if "Traceback" in t or "File \"" in t], texts  # ... nor a traceback
    assert not at.exception  # no Streamlit exception box: the page says in one sentence that the app failed
    assert [e.value for e in at.error if e.value == BUG_MESSAGE], [e.value for e in at.error]
    assert saved_count(app_db) == 0
