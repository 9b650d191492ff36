"""No raw number on any page: every page's rendered text, as a reader sees it, is scanned for

- more than two decimals ("53,548.414", "7.1968", "657.56%");
- money without its currency or without thousands separators ("€1836000", a cost column of bare numbers);
- numbers of five digits or more without thousands separators, and table cells of four digits or more;
- fractional counts ("654.9 items", a count KPI's target of 10.6, a count column shown with decimals or cut off
  by a "%d" format);
- "None", "nan", "NaT" where a value is missing;
- developer names: snake_case identifiers and file names ("compare_models", "replay.py").

The text comes from tests/app/page_text.py: Markdown without its markup, metrics, alerts, labels, help, options,
table cells formatted the way the data grid formats them, and the literal text of charts (titles, legends, labels,
hovers, annotations); chart axes are checked for ticks that cannot fall on round values.
"""

from __future__ import annotations

import json
import re

import pytest

from tests import known_org as ko
from tests.app.page_text import Piece, chart_texts, metrics, numbers, pieces, plain, table, values

PAGES = {  # id -> (page file or None for the overview, query, what to click first: (widget, key))
    "overview": (None, {}, (("toggle", "flows_table"),)),
    "overview-today": (None, {"window": "today"}, ()),
    "overview-1h": (None, {"window": "1h"}, ()),
    "spoke-sales": ("pages/spoke_page.py", {"unit": ko.SALES}, ()),
    "spoke-finance": ("pages/spoke_page.py", {"unit": ko.FINANCE}, ()),
    "spoke-service": ("pages/spoke_page.py", {"unit": ko.SERVICE}, ()),
    "scenarios": ("pages/scenarios_page.py", {}, ()),
    "scenarios-centralised": ("pages/scenarios_page.py", {}, (("button", "preset_centralised"),)),
    "routing": ("pages/routing_page.py", {}, ()),
    "routing-replay": ("pages/routing_page.py", {}, (("button", "rt_start"), ("button", "rt_run"))),
    "operating-model": ("pages/operating_model_page.py", {}, ()),
    "data-health": ("pages/health_page.py", {}, ()),
    "upload": ("pages/upload_page.py", {}, ()),
    "admin": ("pages/admin_page.py", {}, ()),
}

COUNT_WORDS = (r"items?|leads?|journeys?|complaints?|mentions?|requests?|reports?|handoffs?|rows?|people|reps?|"
               r"tickets?|releases?|escalations?|files?|imports?|users?|changes?|spokes?|rules?")
COUNT_COLUMN = re.compile(r"^(items?|leads?|journeys?|handoffs?|unanswered|backlog|open|overdue|resolved|created|"
                          r"volume|rows?|count|n|quarantined|inserted|updated|unchanged|rows read|breaches|"
                          r"complaints.*|mentions?|wordings|conversions)\b.*", re.I)
MONEY_COLUMN = re.compile(r"\b(cost|revenue|spend|budget|value|amount|price|saving)s?\b", re.I)
MONEY_LABEL = re.compile(r"\b(cost|revenue|spend|budget|saving)s?\b", re.I)
MORE_THAN_TWO_DECIMALS = re.compile(r"(?<![\d.])\d[\d,]*\.\d{3,}(?![\d.])")
LONG_BARE = re.compile(r"(?<![\w.,:/#-])\d{5,}(?![\w,.])")
BARE_MONEY = re.compile(r"[€$£]\s?-?\d{4,}(?![\d,])")
RATE = r"\s*(?:per\b|a (?:day|week|month|year|spoke)\b|an hour\b|each\b|/)"
FRACTIONAL_COUNT = re.compile(rf"(?<![\d.,])\d[\d,]*\.\d+\s*(?:{COUNT_WORDS})\b(?!{RATE})", re.I)
MISSING = re.compile(r"\bNone\b(?!\s+of\b)|\bnan\b|\bNaN\b|\bNaT\b|\binf\b")
# snake_case with words of two letters or more (a_h and length_k are the model's maths notation), and file names
DEVELOPER = re.compile(r"(?<![\w./@-])[a-z][a-z0-9]+(?:_[a-z0-9]{2,})+(?![\w@])|\b[\w-]+\.py\b")
# pages about the data itself (its tables, columns and values by name, as import files spell them)
DATA_PAGES = {"data-health", "upload", "admin", "routing", "routing-replay"}


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    return ko.known_database(tmp_path_factory.mktemp("raw") / "known.db")


def render(app, page_id: str):
    page, query, clicks = PAGES[page_id]
    at = app(page, **query).run()
    for widget, key in clicks:
        assert not at.exception, (page_id, key, [e.message for e in at.exception])
        if widget == "toggle":
            at.toggle(key=key).set_value(True).run()
        else:
            at.button(key=key).click().run()
    assert not at.exception, (page_id, [e.message for e in at.exception])
    return at


# --- the checks ---------------------------------------------------------------------------------------------------


def data_vocabulary() -> set[str]:
    """The stored tables and their columns: the reader's own data, by the names an import file uses."""
    from dashboard.db import metadata
    from dashboard.domain.vocabulary import ItemKind, Status

    return ({t.name for t in metadata.tables.values()} | {c.name for t in metadata.tables.values() for c in t.columns}
            | {k.value for k in ItemKind} | {s.value for s in Status})


def developer_names(piece: Piece, data_page: bool) -> list[str]:
    """snake_case identifiers and file names in the text (data tables and columns allowed on the data pages) and in
    its code spans (commands and data columns are fine there; code's own names and files are not)."""
    allowed = data_vocabulary()
    found = [m.group(0) for m in DEVELOPER.finditer(piece.text) if not (data_page and m.group(0) in allowed)]
    for code in piece.code:
        found += [m.group(0) for m in DEVELOPER.finditer(code) if m.group(0) not in allowed]
    return found


def text_problems(piece: Piece, data_page: bool = False) -> list[str]:
    out = []
    t = piece.text
    for m in MORE_THAN_TWO_DECIMALS.finditer(t):
        out.append(f"more than two decimals: {m.group(0)!r}")
    for m in BARE_MONEY.finditer(t):
        out.append(f"money without thousands separators: {m.group(0)!r}")
    for m in LONG_BARE.finditer(t):
        out.append(f"number without thousands separators: {m.group(0)!r}")
    for m in FRACTIONAL_COUNT.finditer(t):
        out.append(f"fractional count: {m.group(0)!r}")
    if piece.kind != "cell":
        for m in MISSING.finditer(t):
            out.append(f"a missing value shown as {m.group(0)!r}")
    out += [f"developer name: {name!r}" for name in developer_names(piece, data_page)]
    return [f"{piece.kind} [{piece.where}]: {p} in {t[:120]!r}" for p in out]


def metric_problems(at) -> list[str]:
    out = []
    for label, value, delta, _colour in metrics(at):
        if MONEY_LABEL.search(label) and numbers(value) and not re.search(r"[€$£]", value):
            out.append(f"metric [{label}]: money without a currency: {value!r}")
        counted = re.search(rf"\b({COUNT_WORDS}|converted|unanswered)\b", label, re.I)
        if counted and not re.search(r"time|rate|share|%|conversion|revenue|cost|per\b|/|a day|mean|median|average",
                                     label, re.I):
            for text in (value, delta):
                if re.fullmatch(r"[+\-−]?[\d,]+\.\d+", (text or "").strip()):
                    out.append(f"metric [{label}]: fractional count: {text!r}")
    return out


def table_problems(at) -> list[str]:
    out = []
    for node in at.dataframe:
        columns = table(node)
        unit_col = next((c.values for c in columns if c.name.lower() in ("unit", "unit of measure")), None)
        units = {c.name: unit_col for c in columns if unit_col is not None and c.kind in ("number", "progress")}
        for col in columns:
            name = col.name
            if col.nulls:
                example = next(s for s, v in zip(col.shown, col.values) if v is None or v != v)
                out.append(f"table [{name}]: {col.nulls} missing value(s) shown as {example!r}")
            if col.kind not in ("number", "progress"):
                for v, cell in zip(col.values, col.shown):
                    if isinstance(v, str) and MISSING.search(v):
                        out.append(f"table [{name}]: a missing value written as {cell!r}")
                        break
                continue
            numeric = [(v, s) for v, s in zip(col.values, col.shown) if isinstance(v, (int, float)) and v == v]
            if MONEY_COLUMN.search(name) and name not in units and numeric \
                    and not re.search(r"[€$£]|euro|dollar", col.format or "", re.I):
                out.append(f"table [{name}]: money without a currency ({numeric[0][1]!r}, format {col.format!r})")
            for i, (v, s) in enumerate(zip(col.values, col.shown)):
                if name in units and units[name][i] in ("EUR", "USD", "GBP") and isinstance(v, (int, float)) \
                        and v == v and not re.search(r"[€$£]", s):
                    out.append(f"table [{name}]: an amount in {units[name][i]} without its currency: {s!r}")
                    break
            for _v, s in numeric:
                if MORE_THAN_TWO_DECIMALS.search(s):
                    out.append(f"table [{name}]: more than two decimals: {s!r}")
                    break
            for _v, s in numeric:
                if re.fullmatch(r"-?\d{4,}(\.\d+)?", s.strip()) and not re.search(r"\b(id|version|year)\b", name, re.I):
                    out.append(f"table [{name}]: no thousands separator: {s!r}")
                    break
            if COUNT_COLUMN.match(name) and not re.search(r" h\b|%|€", col.format or ""):
                for _v, s in numeric:
                    if re.search(r"\d\.\d", s):
                        out.append(f"table [{name}]: fractional count {s!r}")
                        break
            if col.format and re.search(r"%[^%]*[di]", col.format):
                for _v, s in numeric:
                    if abs(v - round(v)) > 1e-9 and round(v) != int(v):
                        out.append(f"table [{name}]: {v:.2f} shown as {s!r} (a %d format cuts off, not rounds)")
                        break
    return out


def _placeholders_raw(template: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"%\{([^}:|]+)\}", template)]


def chart_problems(at) -> list[str]:
    out = []
    for node in at.get("plotly_chart"):
        spec = json.loads(node.proto.spec)
        layout = spec.get("layout", {})
        title = layout.get("title")
        name = plain((title.get("text") if isinstance(title, dict) else title) or "chart")[0][:60]
        for where, text in chart_texts(spec):
            out += [p.replace("chart [", f"chart {name!r} [", 1) for p in text_problems(Piece("chart", where, text))]
        for key, axis in layout.items():
            if not key.startswith(("xaxis", "yaxis")) or not isinstance(axis, dict):
                continue
            if axis.get("tickmode") == "sync":
                out.append(f"chart {name!r} [{key}]: ticks synced to another axis (they fall on values like 3.58)")
            ticks = values(axis.get("tickvals"))
            if ticks and any(isinstance(v, float) and abs(v * 100 - round(v * 100)) > 1e-6 for v in ticks):
                out.append(f"chart {name!r} [{key}]: ticks on values that are not round: {ticks[:4]}")
        for trace in spec.get("data", []):
            info = str(trace.get("hoverinfo", ""))
            if info in ("skip", "none") or trace.get("type") in ("treemap", "sunburst", "pie"):
                continue
            template = trace.get("hovertemplate")
            templates = [template] if isinstance(template, str) else (template or [])
            for axis in ("x", "y"):
                data = values(trace.get(axis))
                floats = [v for v in data if isinstance(v, float) and abs(v - round(v, 2)) > 1e-9]
                if not floats:
                    continue
                if templates:
                    if any(axis in _placeholders_raw(t) for t in templates):
                        out.append(f"chart {name!r} [{trace.get('name')}]: hover shows %{{{axis}}} unformatted "
                                   f"(e.g. {floats[0]!r})")
                elif not trace.get("hovertext") and info not in ("text", "name"):
                    axis_layout = layout.get(f"{axis}axis", {}) or {}
                    if not (axis_layout.get("hoverformat") or axis_layout.get("tickformat")):
                        out.append(f"chart {name!r} [{trace.get('name')}]: default hover shows raw {axis} values "
                                   f"(e.g. {floats[0]!r})")
    return out


def problems(at, page_id: str) -> list[str]:
    data_page = page_id in DATA_PAGES
    found = []
    for piece in pieces(at):
        if piece.kind == "chart":
            continue  # chart_problems reads the charts
        if piece.kind in ("cell", "column"):
            names = developer_names(piece, data_page)
            if names:
                found.append(f"{piece.kind} [{piece.where}]: developer name {names[0]!r} in {piece.text[:80]!r}")
            continue
        if piece.where == "placeholder":  # an example of what to type (a topic as the data spells it)
            continue
        found += text_problems(piece, data_page)
    found += metric_problems(at) + table_problems(at) + chart_problems(at)
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("page_id", list(PAGES))
def test_no_raw_number_on_the_page(app, known, use_db, page_id):
    url, org = known
    use_db(url, timezone=org.timezone)
    at = render(app, page_id)
    found = problems(at, page_id)
    assert not found, f"{page_id}: {len(found)} raw figure(s):\n" + "\n".join(found[:60])


COUNT_KPIS = [k for k in ko.KPIS if k[3] == "count"]


@pytest.mark.parametrize("window", ["7d", "today", "1h"])
def test_count_kpis_and_their_targets_read_whole(app, known, use_db, window):
    """A count KPI (leads, tickets) and its window target are whole numbers on the tiles and in the KPI table:
    a day's target of 20 leads reads 11 at noon, never 10.6."""
    url, org = known
    use_db(url, timezone=org.timezone)
    found = []
    goal_names = [k[2] for k in ko.KPIS if k[8]]
    at = app(window=window).run()
    captions = [plain(c.value)[0] for c in at.caption if re.search(r"\bTarget\b", plain(c.value)[0])]
    for name, caption in zip(goal_names, captions):
        if any(name == k[2] for k in COUNT_KPIS):
            target = re.search(r"Target\s+([^·]+)", caption).group(1)
            if re.search(r"\d\.\d", target):
                found.append(f"overview ({window}) {name}: target {target.strip()!r}")
    for label, value, _delta, _c in metrics(at):
        if any(label == k[2] for k in COUNT_KPIS) and re.search(r"\d\.\d", value):
            found.append(f"overview ({window}) {label}: {value!r}")
    spoke = app("pages/spoke_page.py", unit=ko.SERVICE).run()
    spoke.button_group(key="window").set_value(window).run()
    for node in spoke.dataframe:
        cols = {c.name: c.shown for c in table(node)}
        if "KPI" in cols:
            for i, kpi in enumerate(cols["KPI"]):
                if any(kpi == k[2] for k in COUNT_KPIS):
                    found += [f"Customer service KPI table ({window}) {kpi} {c}: {cols[c][i]!r}" for c in ("Value", "Target")
                              if c in cols and re.search(r"\d\.\d", cols[c][i])]
    for label, value, _delta, _c in metrics(spoke):
        if any(label == k[2] for k in COUNT_KPIS) and re.search(r"\d\.\d", value):
            found.append(f"Customer service ({window}) {label}: {value!r}")
    assert not found, "fractional counts:\n" + "\n".join(found)
