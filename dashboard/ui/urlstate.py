"""Widget values mirrored in the URL (``?window=7d&units=sales,finance``) so a link reproduces the view.

Streamlit's ``bind="query-params"`` writes a widget's *formatted label* into the URL; we want stable ids, so
this seeds the widget from the URL on first render and writes its value back after each change. A value in the
URL that is not among the widget's choices is ignored (the default applies) and named in a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from dashboard.domain.urlvalues import UrlValueError, known, one_of
from dashboard.ui.text import md

CURRENT_PAGE = "_current_page"  # url path of the page this run shows (set by the shell)


def bad_value(exc: UrlValueError) -> None:
    """Say, literally, which value of the link was ignored and why (the page carries on without it)."""
    st.warning(md(exc), icon=":material/link_off:")


def seed_one(key: str, options: Sequence[str], default: str) -> None:
    if key not in st.session_state:
        raw = st.query_params.get(key)
        try:
            st.session_state[key] = default if raw is None else one_of(raw, options, key, default)
        except UrlValueError as exc:
            bad_value(exc)
            st.session_state[key] = default


def seed_many(key: str, options: Sequence[str], default: Sequence[str] = ()) -> None:
    if key not in st.session_state:
        raw = [v for part in st.query_params.get_all(key) for v in part.split(",") if v]
        chosen = [v for v in dict.fromkeys(raw) if v in options]
        try:
            known(raw, options, key)
        except UrlValueError as exc:
            bad_value(exc)
        st.session_state[key] = chosen if (chosen or key in st.query_params) else list(default)


def write(key: str, value, default=None) -> None:
    """Put the value in the URL; drop the parameter when it equals the default (clean links)."""
    if value == default or (default is None and value in (None, [], ())):
        if key in st.query_params:
            del st.query_params[key]
        return
    text = ",".join(value) if isinstance(value, (list, tuple)) else str(value)
    if st.query_params.get(key) != text:
        st.query_params[key] = text
