"""Text people typed (unit names, scenario names, notes), shown literally inside Streamlit Markdown."""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_{}\[\]#|~<>$:@])")
_WWW = re.compile(r"\b(www)\.", re.IGNORECASE)
_BULLET = re.compile(r"^(\s*)([-+=])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)([.)])", re.MULTILINE)


def md(text: object) -> str:
    """``text`` with every Markdown, HTML and LaTeX marker escaped: no links, images, emphasis, formulas, colours,
    icons, lists or automatic links (``a@b.com``, ``www.x.com``, ``http://x``) from what someone typed (a unit called ``*Sales*`` shows its asterisks, ``:red[x]`` and
    ``:smile:`` stay text, a note starting ``1.`` is not a list)."""
    escaped = _WWW.sub(r"\1\\.", _INLINE.sub(r"\\\1", str(text)))
    return _NUMBERED.sub(r"\1\\\2", _BULLET.sub(r"\1\\\2", escaped))


def bullets(lines) -> str:
    """Markdown for a list of literal lines."""
    return "\n".join(f"- {md(line)}" for line in lines)
