"""What a reader sees of the numbers on a page run by AppTest: raw numbers in text, and table columns whose
numbers the browser would show unformatted.

- :func:`raw_numbers` finds numbers in text that no formatting function of ``dashboard.domain.format`` would
  produce: more than two decimals ("53,548.414", "7.1968"), or five digits and more without thousands
  separators ("1836000"), or four (1000–9999 that is not a year).
- :func:`unformatted_columns` finds number columns of ``st.dataframe`` whose column config gives no explicit
  format (the browser then shows "53548.414" or a locale's own separators), and missing values that would
  read "None" because the table sets no placeholder.
"""

from __future__ import annotations

import json
import re

import pandas as pd

from tests.app.shown import shown

LONG_DECIMALS = re.compile(r"(?<![\w.])\d[\d,]*\.\d{3,}(?![\d])")
BARE_BIG = re.compile(r"(?<![\w.,#/:+-])\d{4,}(?![\d,]|\.\d)")


NAMES = re.compile(r"\bISO \d+")  # names with numbers in them, not quantities


def raw_numbers(text: str) -> list[str]:
    """Numbers in ``text`` that are not formatted for a reader (a year such as 2026 is fine)."""
    text = NAMES.sub("", text)
    found = LONG_DECIMALS.findall(text)
    for number in BARE_BIG.findall(text):
        if len(number) == 4 and 1900 <= int(number) <= 2100:
            continue
        found.append(number)
    return found


def page_texts(at) -> list[str]:
    """Every piece of text the page shows outside tables: titles, Markdown, captions, alerts, metrics (value and
    delta), expander, tab and button labels."""
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error"):
        texts += [shown(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        texts += [m.label, m.value, m.proto.delta]
    texts += [e.label for e in at.expander] + [t.label for t in at.tabs] + [b.label for b in at.button]
    return [t for t in texts if t]


def raw_numbers_on_page(at) -> dict[str, list[str]]:
    """{text: its raw numbers} for every text of the page holding one."""
    return {t: found for t in page_texts(at) if (found := raw_numbers(t))}


def column_config(element) -> dict:
    return json.loads(element.proto.columns or "{}")


def unformatted_columns(at) -> list[str]:
    """'table N: column' for number columns with no explicit printf format, and for columns with missing
    values in tables without a placeholder (those cells would read "None")."""
    problems = []
    for n, element in enumerate(at.dataframe):
        frame: pd.DataFrame = element.value
        config = column_config(element)
        for column in frame.columns:
            values = frame[column]
            settings = config.get(str(column), {})
            if settings.get("hidden"):
                continue
            number = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            fmt = settings.get("type_config", {}).get("format")
            if number and (not fmt or fmt == "localized" or not fmt.startswith(("%", "#", "€"))):
                problems.append(f"table {n}: {column} has no number format ({fmt!r})")
            if number and fmt and re.search(r"%[+,]*d", fmt) and not values.dropna().mod(1).eq(0).all():
                problems.append(f"table {n}: {column} shows fractions as whole numbers ({fmt!r})")
            if values.isna().any() and not element.proto.placeholder:
                problems.append(f"table {n}: {column} has missing values shown as None")
    return problems
