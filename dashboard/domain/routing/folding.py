"""The one form texts and values are compared in (:func:`fold`: accents dropped, case folded, white space
squeezed), shared by routing rules and the FAQ terms.
"""

from __future__ import annotations

import math
import unicodedata

import pandas as pd


def strip_accents(text: str) -> str:
    """NFKD, then drop combining marks: "Café" -> "Cafe", "ﬁ" -> "fi"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str | None) -> str:
    """The form texts and values are compared in: accents dropped, case folded, white space squeezed.

    ``None`` and NaN fold to ``""``. "  CAFÉ\\tcrème " -> "cafe creme". ASCII text (most of it) skips the
    Unicode normalisation, which is the slow part.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    text = str(text)
    if not text.isascii():
        text = strip_accents(text)
    return " ".join(text.casefold().split())


def is_missing(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return value is pd.NA or value is pd.NaT
