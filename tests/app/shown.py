"""What a reader sees of Markdown the app escaped: AppTest returns the Markdown source."""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


def shown(markdown: str) -> str:
    """``markdown`` with its backslash escapes removed, as the page displays it."""
    return _ESCAPE.sub(r"\1", markdown)
