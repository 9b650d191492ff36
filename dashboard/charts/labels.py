"""People's text in plotly labels, shown literally.

Plotly reads ``text``, ``hovertext``, annotations and titles as a small HTML subset (``<b>``, ``<a href>``,
``<br>``), so a stored name such as ``<b>Sales</b>`` would render bold and ``<a href=...>`` as a link. Every
name or note that comes from data goes through :func:`literal` before it is put into a label.
"""

from __future__ import annotations


def literal(text: object) -> str:
    """``text`` escaped for plotly's labels: ``&``, ``<`` and ``>`` as entities, so they read as typed."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
