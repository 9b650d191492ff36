"""CSV exports are safe to open in a spreadsheet."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from dashboard.domain.export import neutralise, to_safe_csv


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_like_text_is_neutralised(text):
    assert neutralise(text) == "'" + text


def test_plain_text_and_numbers_are_untouched():
    assert neutralise("Lead from web") == "Lead from web"
    assert neutralise(-5) == -5


def test_exported_csv_never_starts_a_cell_with_a_formula():
    df = pd.DataFrame({"text": ['=HYPERLINK("http://x","y")', "ok"], "value": [-1.5, 2.0]})
    back = pd.read_csv(io.BytesIO(to_safe_csv(df)), encoding="utf-8-sig")
    assert back.text[0] == '\'=HYPERLINK("http://x","y")'
    assert back.value.tolist() == [-1.5, 2.0]
