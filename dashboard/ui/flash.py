"""A one-time message that survives the ``st.rerun()`` after a write: "Draft saved", "Deleted Legal".

A write records its message with :func:`later` and reruns; the next run shows it once where the page calls
:func:`show` with the same key, and the run after that no longer does::

    flash.later("ok", f"Deleted {md(name)}.", key="unit_delete")
    st.rerun()
    ...
    flash.show("unit_delete")  # at the top of the section the message belongs to

``text`` is Markdown as given: escape what people typed with :func:`dashboard.ui.text.md`. One message per key:
a second :func:`later` before the next :func:`show` replaces the first.
"""

from __future__ import annotations

from typing import Literal

import streamlit as st

Kind = Literal["ok", "info", "warning"]

_LOOKS = {  # kind -> (element, icon)
    "ok": (st.success, ":material/check:"),
    "info": (st.info, ":material/info:"),
    "warning": (st.warning, ":material/warning:"),
}
_PREFIX = "flash:"  # session-state keys of pending messages, apart from widget keys


def later(kind: Kind, text: str, *, key: str) -> None:
    """Keep ``text`` for the next :func:`show` of ``key`` (after the rerun that usually follows a write)."""
    if kind not in _LOOKS:
        raise ValueError(f"unknown flash kind {kind!r}; known: {sorted(_LOOKS)}")
    st.session_state[_PREFIX + key] = (kind, text)


def show(key: str) -> None:
    """Show the message kept for ``key``, if any, and forget it: it appears on one run only."""
    pending = st.session_state.pop(_PREFIX + key, None)
    if pending is None:
        return
    kind, text = pending
    element, icon = _LOOKS[kind]
    element(text, icon=icon)

