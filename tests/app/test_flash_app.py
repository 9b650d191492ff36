"""The one-time message after a rerun (dashboard.ui.flash): shown on the run after the write, once, then gone."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st

    from dashboard.ui import flash

    flash.show("saved")
    flash.show("other")
    if st.button("Save", key="save"):
        flash.later("ok", "Saved **it**.", key="saved")
        st.rerun()
    if st.button("Refuse", key="refuse"):
        flash.later("warning", "Not today.", key="other")
        flash.later("info", "Try tomorrow.", key="other")  # replaces the first: one message per key
        st.rerun()


def test_a_message_shows_once_after_the_rerun_and_is_gone_on_the_next_run():
    at = AppTest.from_function(_script).run()
    assert not at.success
    at.button(key="save").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Saved **it**."]
    assert at.success[0].icon == ":material/check:"
    at.run()  # any later run: gone
    assert not at.success and not at.exception


def test_the_last_message_for_a_key_wins_and_keys_are_apart():
    at = AppTest.from_function(_script).run()
    at.button(key="refuse").click().run()
    assert [i.value for i in at.info] == ["Try tomorrow."] and not at.warning and not at.success
    at.run()
    assert not at.info


def test_an_unknown_kind_is_refused():
    from dashboard.ui import flash

    with pytest.raises(ValueError, match="unknown flash kind"):
        flash.later("great", "x", key="k")  # type: ignore[arg-type]
