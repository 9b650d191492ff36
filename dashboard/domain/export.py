"""CSV export that is safe to open in a spreadsheet.

Cells whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are formulas to Excel,
LibreOffice and Google Sheets (CSV/formula injection, OWASP). Such text cells are prefixed with a single
quote so they display as typed and never execute. Numbers stay numbers (a negative number is not text).
"""

from __future__ import annotations

import pandas as pd

DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    return out


def to_safe_csv(df: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets detect the encoding) with formula-like text neutralised."""
    return safe_frame(df).to_csv(index=False).encode("utf-8-sig")
