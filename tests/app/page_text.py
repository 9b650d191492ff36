"""What a reader sees on a page run by AppTest, as text: metrics, Markdown, alerts, labels, table cells as the data
grid displays them, and the text inside charts. Used by the numbers tier (tests/app/test_executive_numbers.py,
test_same_label_same_number.py, test_no_raw_numbers.py).

AppTest hands back what the page *sent*: Markdown source, a table's data with its column configuration, a chart's
plotly spec. The functions here turn those into what the browser shows: Markdown without its markup and escapes,
cells formatted the way Streamlit's data grid formats them (its printf formats, "localized", "percent" ... and,
without a format, up to four decimals and no thousands separators; missing values as "None" unless the table sets
a placeholder), and the literal text of chart labels, hovers and annotations.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import pandas as pd

from tests.app.shown import shown

# --- reading numbers --------------------------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?P<sign>[+\-−])?\s*(?P<cur>[€$£])?\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<suffix>[kMB](?![a-z]))?"
)
_SCALE = {"k": 1e3, "M": 1e6, "B": 1e9}


@dataclass(frozen=True)
class Number:
    value: float
    half_unit: float  # half of the last shown digit: how far a correctly rounded figure may be from the truth
    currency: str | None
    text: str

    def agrees(self, expected: float, *, rel: float = 0.0) -> bool:
        """Whether ``expected`` rounds to what is shown (``rel``: extra relative tolerance, e.g. for a histogram)."""
        return abs(self.value - expected) <= self.half_unit * 1.0001 + rel * abs(expected) + 1e-9


def numbers(text: str) -> list[Number]:
    """Every number in a shown text: '€76.4k' -> 76,400 ± 50; '−3.3 pts' -> -3.3 ± 0.05; '1,234' -> 1234 ± 0.5."""
    out = []
    for m in _NUMBER.finditer(text.replace("\u2009", " ").replace("\u202f", " ")):
        digits = m["num"].replace(",", "")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        scale = _SCALE.get(m["suffix"] or "", 1.0)
        value = float(digits) * scale
        if m["sign"] in ("-", "−"):
            value = -value
        out.append(Number(value, 0.5 * 10 ** -decimals * scale, m["cur"], m.group(0).strip()))
    return out


def number(text: str) -> Number:
    """The one number a tile shows ('€76.4k', '4.3 %', '+0.4 leads/day per day')."""
    found = numbers(text)
    assert found, f"no number in {text!r}"
    return found[0]


def hours(text: str) -> Number:
    """A duration as shown ('12 min', '3.4 h', '2.1 d') in hours."""
    n = number(text)
    factor = 1 / 60 if re.search(r"\d\s*min\b", text) else 24 if re.search(r"\d\s*d\b", text) else 1
    return Number(n.value * factor, n.half_unit * factor, None, n.text)


# --- Markdown as shown --------------------------------------------------------------------------------------------

_CODE = re.compile(r"`([^`]*)`")


def plain(markdown: str) -> tuple[str, list[str]]:
    """(the text a reader sees, the code spans in it) of a Markdown source."""
    code = _CODE.findall(markdown)
    text = _CODE.sub(" ", markdown)
    text = re.sub(r":material/[a-z0-9_]+:", " ", text)
    text = re.sub(r":[a-z]+(?:-badge|-background)?\[([^\]]*)\]", r"\1", text)  # :green[●] -> ●
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"<[^>]+>", " ", text)  # html (plotly labels: <b>, <br>)
    text = text.replace("**", "").replace("__", "")
    return shown(text), code


# --- table cells as the data grid shows them ----------------------------------------------------------------------

_PRINTF = re.compile(r"%(?P<sign>\+)?(?P<pad>0|'.)?(?P<left>-)?(?P<sep>[,_])?(?P<width>\d+)?(?:\.(?P<prec>\d+))?"
                     r"(?P<type>[bcdiefgosuxX%])")


def printf(fmt: str, value: float) -> str:
    """sprintf-js as Streamlit's NumberColumn uses it ('%,d', '€%.0f', '%+.1f pts', '%.1f %%')."""
    def one(m: re.Match) -> str:
        kind = m["type"]
        if kind == "%":
            return "%"
        if kind in "diu":
            body = str(int(value))  # parseInt: truncates towards zero
        elif kind == "f":
            body = f"{value:.{int(m['prec'])}f}" if m["prec"] else repr(float(value)).removesuffix(".0")
        elif kind == "e":
            body = f"{value:.{int(m['prec'])}e}" if m["prec"] else f"{value:e}"
        elif kind == "g":
            body = f"{value:.{int(m['prec'])}g}" if m["prec"] else repr(float(value))
        else:
            body = str(value)
        negative = body.startswith("-")
        body = body.lstrip("-")
        if m["sep"] and kind in "diefgu":
            head, dot, tail = body.partition(".")
            body = f"{int(head):,}".replace(",", "_" if m["sep"] == "_" else ",") + dot + tail
        sign = "-" if negative else ("+" if m["sign"] else "")
        return sign + body
    return _PRINTF.sub(one, fmt.replace("%%", "\x00")).replace("\x00", "%")


def grid_text(value, fmt: str | None, is_int: bool) -> str:
    """A number as Streamlit's data grid shows it with the column's format (None: the default)."""
    v = float(value)
    if not math.isfinite(v):
        return ""
    if not fmt:
        if is_int:
            return str(int(round(v)))
        if v == 0 or abs(v) >= 1e-4:  # numbro: four decimals, trailing zeros trimmed, no separators
            return f"{v:.4f}".rstrip("0").rstrip(".")
        return f"{v:.6g}"
    if fmt == "plain":
        return repr(v).removesuffix(".0")
    if fmt == "localized":  # Intl.NumberFormat: separators, at most three decimals
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if fmt == "percent":
        return f"{v * 100:,.2f}".rstrip("0").rstrip(".") + "%"
    if fmt in ("dollar", "euro", "yen"):
        symbol, digits = {"dollar": ("$", 2), "euro": ("€", 2), "yen": ("¥", 0)}[fmt]
        return ("-" if v < 0 else "") + f"{symbol}{abs(v):,.{digits}f}"
    if fmt == "accounting":
        return f"({abs(v):,.2f})" if v < 0 else f"{v:,.2f}"
    if fmt == "compact":
        for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(v) >= limit:
                return f"{v / limit:.3g}{suffix}"
        return f"{v:.3g}"
    if fmt in ("scientific", "engineering"):
        return f"{v:.3e}"
    return printf(fmt, v)


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # number, text, date, checkbox, progress, ...
    format: str | None
    values: list  # as stored
    shown: list[str]  # as displayed
    nulls: int  # cells shown as "None" (no placeholder set)


def table(node) -> list[Column]:
    """The visible columns of an st.dataframe / st.data_editor / st.table element as the reader sees them."""
    frame = node.value
    config = json.loads(node.proto.columns) if getattr(node.proto, "columns", "") else {}
    placeholder = getattr(node.proto, "placeholder", "") or None
    index_hidden = bool(config.get("_index", {}).get("hidden"))
    order = list(getattr(node.proto, "column_order", []) or [])
    frame = frame.reset_index() if not index_hidden and not isinstance(frame.index, pd.RangeIndex) else frame
    columns = []
    for name in frame.columns:
        name = str(name)
        spec = config.get(name, {})
        if spec.get("hidden") or (order and name not in order):
            continue
        type_config = spec.get("type_config", {})
        series = frame[name]
        kind = type_config.get("type") or ("number" if pd.api.types.is_numeric_dtype(series)
                                             and not pd.api.types.is_bool_dtype(series) else "text")
        fmt = type_config.get("format")
        missing = series.isna()
        is_int = pd.api.types.is_integer_dtype(series)
        shown_cells = []
        for v, gone in zip(series, missing):
            if gone:
                shown_cells.append(placeholder or "None")
            elif kind in ("number", "progress") and isinstance(v, (int, float)) and not isinstance(v, bool):
                shown_cells.append(grid_text(v, fmt, is_int))
            else:
                shown_cells.append(str(v))
        columns.append(Column(name, kind, fmt, series.tolist(), shown_cells,
                              0 if placeholder else int(missing.sum()) if kind not in ("checkbox",) else 0))
    return columns


# --- chart text -----------------------------------------------------------------------------------------------------


def chart_texts(spec: dict) -> list[tuple[str, str]]:
    """(where, text) of every literal text a plotly figure shows: titles, trace names, texts, hover texts, the literal
    part of hover templates, annotations and tick labels."""
    out: list[tuple[str, str]] = []
    layout = spec.get("layout", {})

    def add(where: str, value) -> None:
        if isinstance(value, str) and value.strip():
            out.append((where, plain(value)[0]))
        elif isinstance(value, (list, tuple)):
            for v in value:
                add(where, v)

    title = layout.get("title")
    add("title", title.get("text") if isinstance(title, dict) else title)
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            t = axis.get("title")
            add(f"{key} title", t.get("text") if isinstance(t, dict) else t)
            add(f"{key} ticks", axis.get("ticktext"))
    for a in layout.get("annotations", []) or []:
        add("annotation", a.get("text"))
    for trace in spec.get("data", []):
        name = trace.get("name")
        if trace.get("showlegend", True) is not False:
            add("legend", name)
        add("text", trace.get("text"))
        add("label", trace.get("labels"))
        add("hover", trace.get("hovertext"))
        template = trace.get("hovertemplate")
        add("hover template", [re.sub(r"%\{[^}]*\}", " ", t) for t in ([template] if isinstance(template, str)
                                                                      else template or [])])
    return out


# --- every text on a page ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    kind: str  # metric, markdown, caption, alert, label, cell, chart, ...
    where: str  # a label or column that says where on the page
    text: str
    code: tuple[str, ...] = ()  # code spans (commands, column names) inside it


_SKIP_KEYS = {"id", "formId", "icon", "pageScriptHash", "deferredFileId", "url", "spec", "arrowData", "theme",
              "default", "value", "setValue", "labelVisibility", "type", "elementType", "tag", "scriptHash",
              "anchor", "color", "direction", "format", "width", "height", "scale"}


def _strings(d, key: str = "") -> list[tuple[str, str]]:
    if isinstance(d, dict):
        return [s for k, v in d.items() if k not in _SKIP_KEYS for s in _strings(v, k)]
    if isinstance(d, list):
        return [s for v in d for s in _strings(v, key)]
    return [(key, d)] if isinstance(d, str) and d.strip() else []


def pieces(at) -> list[Piece]:
    """Everything a reader can read on the page (sidebar included), element by element."""
    from google.protobuf.json_format import MessageToDict

    out: list[Piece] = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        kind = getattr(node, "type", "")
        if proto is None or not hasattr(proto, "DESCRIPTOR"):
            continue
        if kind == "dataframe" or kind == "table":
            for col in table(node):
                out.append(Piece("column", col.name, col.name))
                out += [Piece("cell", col.name, c) for c in col.shown]
            continue
        if kind == "plotly_chart":
            out += [Piece("chart", where, text) for where, text in chart_texts(json.loads(proto.spec))]
            continue
        if kind in ("code", "json", "empty"):
            continue
        fields = MessageToDict(proto)
        if kind == "metric":
            out.append(Piece("metric", fields.get("label", ""), " ".join(
                str(fields.get(k, "")) for k in ("label", "body", "delta", "deltaDescription")).strip()))
            if fields.get("help"):
                out.append(Piece("help", fields.get("label", ""), plain(fields["help"])[0]))
            continue
        for key, text in _strings(fields):
            body, code = plain(text)
            out.append(Piece(kind, key, body, tuple(code)))
    return out


def metrics(at) -> list[tuple[str, str, str, str]]:
    """(label, value, delta, delta colour) of every st.metric: colour 'green', 'red', 'gray' (or '' without delta)."""
    out = []
    for m in at.metric:
        colour = type(m.proto).MetricColor.Name(m.proto.color).lower() if m.delta else ""
        out.append((m.label, m.value, m.delta or "", colour))
    return out


def values(data) -> list:
    """A plotly array as a list: plain JSON lists, or the typed arrays plotly writes ({"dtype", "bdata"})."""
    if isinstance(data, dict) and "bdata" in data:
        import base64

        import numpy as np

        array = np.frombuffer(base64.b64decode(data["bdata"]), dtype=np.dtype(data["dtype"]))
        if "shape" in data:
            array = array.reshape([int(s) for s in str(data["shape"]).split(",")])
        return array.tolist()
    return list(data) if data is not None else []
