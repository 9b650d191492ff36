"""Text people typed (unit names, scenario names, notes), shown literally inside Streamlit Markdown."""

from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_\[\]#|~$<>])")


def md(text: object) -> str:
    """``text`` with every Markdown, HTML and LaTeX marker escaped: no links, images, emphasis or formulas from
    what someone typed (a unit called ``*Sales*`` shows its asterisks)."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def bullets(lines) -> str:
    """Markdown for a list of literal lines."""
    return "\n".join(f"- {md(line)}" for line in lines)
