"""The numbers tier: every executive-facing figure against an independent computation from the raw rows.

The known organisation (tests/known_org.py) is written through the real store; the real app runs on it through
AppTest; each figure the page shows is read as text and compared with plain Python over the rows that were
written — never with the app's own query functions. A figure agrees when the truth rounds to what is shown
(half a unit of its last digit; medians from the hourly histogram: within the histogram bin of the true median).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics

import pytest

from dashboard.charts.palette import BAND_COLOURS
from dashboard.domain.stats import CYCLE_BIN_EDGES_H
from tests import known_org as ko
from tests.app.page_text import chart_texts, hours, metrics, number, numbers, plain, table, values

GOALS = [k for k in ko.KPIS if k[8]]  # the shared-goal KPIs, in tile order
LOWER_IS_BETTER = {"cost"}
KPI_GREEN, KPI_AMBER, SLA_GREEN, SLA_AMBER = 0.75, 0.50, 0.90, 0.75  # the settings' defaults


@pytest.fixture(scope="module")
def known(tmp_path_factory):
    """The known organisation (with a change marked done today) in a SQLite file, built once per module."""
    return ko.known_database(tmp_path_factory.mktemp("known") / "known.db")


@pytest.fixture
def org(known, use_db):
    url, organisation = known
    use_db(url, timezone=organisation.timezone)
    return organisation


def run(app, page: str | None = None, **query):
    at = app(page, **query).run()
    assert not at.exception, [(e.message, "\n".join(e.stack_trace)) for e in at.exception]
    return at


def tiles(at) -> dict[str, tuple[str, str, str]]:
    return {label: (value, delta, colour) for label, value, delta, colour in metrics(at)}


# --- overview: the shared-goal tiles -----------------------------------------------------------------------------


def target_captions(at) -> list[str]:
    """The line under each goal tile, in tile order ("Target €56k · on target · …")."""
    return [plain(c.value)[0] for c in at.caption if re.search(r"\bTarget\b", plain(c.value)[0])]


@pytest.mark.parametrize("window", ["7d", "30d", "today", "1h"])
def test_goal_tiles_show_the_window_the_target_and_the_change_computed_from_the_observations(app, org, window):
    at = run(app, window=window)
    shown = tiles(at)
    start, end = ko.window(org, window)
    captions = target_captions(at)
    assert len(captions) == len(GOALS), captions
    for (kid, _unit, name, _uom, *_rest), caption in zip(GOALS, captions):
        value, delta, colour = shown[name]
        expected = ko.kpi_value(org, kid, start, end)
        if expected is None:
            assert value == "no data", (name, window, value)
            continue
        assert number(value).agrees(expected), f"{name} ({window}): shows {value}, the observations give {expected:,.2f}"
        # a sum KPI's target grows with "today" as the day goes on: the page's clock is between now and the build
        low = ko.kpi_target(org, kid, start, end)
        high = ko.kpi_target(org, kid, start, dt.datetime.now(dt.UTC)) if window == "today" else low
        target_text = re.search(r"Target\s+([^·]+)", caption).group(1)
        shown_target = number(target_text)
        assert low - shown_target.half_unit <= shown_target.value <= high + shown_target.half_unit, \
            f"{name} ({window}) target: shows {target_text}, is {low:,.2f}" + (f" to {high:,.2f}" if high != low else "")
        state = ko.on_target(org, kid, start, end)
        assert ("on target" in caption and "off target" not in caption) == state, (name, window, caption)
        # the change against a like-for-like period (today: the same hours yesterday, or a week ago)
        previous = [ko.kpi_value(org, kid, a, b) for a, b in ko.comparison_windows(org, window)]
        changes = [(expected - p) / abs(p) * 100 for p in previous if p]
        assert delta, f"{name} ({window}): no change shown"
        matching = [c for c in changes if number(delta).agrees(c)]
        assert matching, (f"{name} ({window}): change shown {delta}; against a like-for-like period it is "
                          + " or ".join(f"{c:+.1f} %" for c in changes))
        better = (matching[0] > 0) != (kid in LOWER_IS_BETTER)
        assert colour == ("green" if better else "red"), f"{name} ({window}): {delta} coloured {colour}"


# --- overview: the map --------------------------------------------------------------------------------------------


def map_figure(at) -> dict:
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    found = [c for c in charts if any(t.get("name") == "units" for t in c["data"])]
    assert found, "no map on the page"
    return found[0]


def hover_texts(fig: dict) -> list[str]:
    out = []
    for trace in fig["data"]:
        for key in ("hovertext", "text"):
            value = trace.get(key)
            out += [plain(v)[0] for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
    return out


def field(text: str, pattern: str) -> str:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in {text!r}"
    return m.group(1)


def median_bounds(org, source, target, start, end) -> tuple[float, float]:
    """The histogram bins of the middle lead times: a median read from the hourly histogram lies within them."""
    lead = sorted((i["resolved_at"] - i["created_at"]).total_seconds() / 3600 for i in org.items
                  if i["source_unit"] == source and i["target_unit"] == target and i["resolved_at"] is not None
                  and start <= i["resolved_at"] < end)
    edges = (0.0, *CYCLE_BIN_EDGES_H, CYCLE_BIN_EDGES_H[-1] * 1.5)
    middle = lead[(len(lead) - 1) // 2], lead[len(lead) // 2]
    lo = max(e for e in edges if e <= middle[0])
    hi = min(e for e in edges if e > middle[1])
    return lo, hi


@pytest.mark.parametrize("window", ["7d", "30d"])
def test_every_edge_of_the_map_shows_what_the_items_say(app, org, window):
    at = run(app, window=window)
    texts = hover_texts(map_figure(at))
    start, end = ko.window(org, window)
    for spoke in ko.SPOKES:
        for source, target in ((ko.HUB, spoke), (spoke, ko.HUB)):
            header = f"{ko.NAMES[source]} → {ko.NAMES[target]}"
            hover = [t for t in texts if header in t]
            assert hover, f"no hover for the edge {header}"
            hover = hover[0]
            e = ko.edge(org, source, target, start, end)
            what = f"{header} ({window})"
            assert number(field(hover, r"Volume:?\s*([\d,.]+k?)")).agrees(e.created), (what, hover, e)
            assert number(field(hover, r"Resolved:?\s*([\d,.]+k?)")).agrees(e.resolved), (what, hover, e)
            assert number(field(hover, r"within SLA:?\s*([\d.]+ ?%)")).agrees(100 * e.sla_share), (what, hover, e)
            assert number(field(hover, r"Backlog:?\s*([\d,]+)")).agrees(e.backlog), (what, hover, e)
            assert number(field(hover, r"([\d,]+) overdue")).agrees(e.overdue), (what, hover, e)
            median = hours(field(hover, r"median:?\s*([\d.]+ ?(?:min|h|d))"))
            lo, hi = median_bounds(org, source, target, start, end)
            assert lo - median.half_unit <= median.value <= hi + median.half_unit, \
                f"{what}: median shown {median.text}, true median {e.median_h:.2f} h (bin {lo:.2f}–{hi:.2f} h)"


def test_every_node_shows_its_headcount_kpis_on_target_and_items(app, org):
    at = run(app, window="7d")
    fig = map_figure(at)
    nodes = next(t for t in fig["data"] if t.get("name") == "units")
    start, end = ko.window(org, "7d")
    for unit in org.units:
        i = [c[0] for c in nodes["customdata"]].index(unit["id"])
        hover = plain(nodes["hovertext"][i])[0]
        assert number(field(hover, r"Headcount:?\s*([\d,.]+)")).agrees(unit["headcount"]), hover
        on, known = ko.kpi_share_on_target(org, unit["id"], start, end)
        assert f"{on} of {known}" in hover, f"{unit['name']}: {on} of {known} KPIs on target; hover says {hover!r}"
        share = on / known
        assert number(field(hover, r"\(([\d.]+ ?%)\)")).agrees(100 * share), hover
        assert number(field(hover, r"Items in window:?\s*([\d,.]+k?)")).agrees(ko.unit_items(org, unit["id"], start, end)), hover
        band = "green" if share >= KPI_GREEN else "amber" if share >= KPI_AMBER else "red"
        assert nodes["marker"]["color"][i] == BAND_COLOURS[band], (unit["id"], share, nodes["marker"]["color"][i])
        if unit["kind"] == "hub":
            assert number(field(hover, r"Unrouted now:?\s*([\d,]+)")).agrees(ko.unrouted(org)), hover


def test_the_map_legend_states_the_thresholds_each_colour_uses(app, org):
    """Edges are coloured by the share within SLA (90 / 75 %), nodes by the share of KPIs on target (75 / 50 %): a
    legend line that names one of them states that one's thresholds."""
    at = run(app)
    legend = [plain(t["name"])[0] for t in map_figure(at)["data"]
              if t.get("name") and t.get("showlegend", True) is not False and t.get("x") == [None]]
    text = " ".join(legend)
    assert legend, "the map has no colour legend"
    for part in re.split(r"(?=SLA|KPI)", text):
        shares = {round(n.value) for n in numbers(part) if "%" in part}
        if part.startswith("KPI"):
            assert shares <= {round(100 * KPI_GREEN), round(100 * KPI_AMBER)}, \
                f"the legend says {part!r} for nodes, which use {KPI_GREEN:.0%} and {KPI_AMBER:.0%}"
        if part.startswith("SLA") and "KPI" not in part:
            assert shares <= {round(100 * SLA_GREEN), round(100 * SLA_AMBER)}, \
                f"the legend says {part!r} for edges, which use {SLA_GREEN:.0%} and {SLA_AMBER:.0%}"
    assert not re.search(r"SLA\s*/\s*KPIs?\s*≥\s*90", text), f"one threshold for both edges and nodes: {text!r}"


# --- spoke page: the capacity outlook -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def known_utc(tmp_path_factory):
    """The same organisation without the change, shown in UTC (the outlook counts leads per UTC day)."""
    return ko.known_database(tmp_path_factory.mktemp("known_utc") / "known.db", with_change=False)


def test_the_sales_capacity_outlook_is_fitted_over_complete_days_only(app, known_utc, use_db):
    url, org = known_utc
    use_db(url)
    at = run(app, "pages/spoke_page.py", unit="sales")
    shown = tiles(at)

    def tile(pattern: str) -> str:
        found = [value for label, (value, _d, _c) in shown.items() if re.search(pattern, label, re.I)]
        assert len(found) == 1, f"one tile matching {pattern!r} expected among {list(shown)}"
        return found[0]

    recent = tile(r"leads.*7 days")
    capacity = tile(r"capacity")
    trend = tile(r"^trend")
    # the last 27 or 28 complete UTC days (a partial first day or today would bend the line)
    outlooks = [ko.capacity_outlook(org, n) for n in (27, 28)]
    assert number(capacity).agrees(outlooks[0].capacity), capacity
    assert number(recent).agrees(outlooks[0].recent_per_day), f"shows {recent}, the last 7 days average {outlooks[0].recent_per_day:.2f}"
    fitted = [o for o in outlooks if number(trend).agrees(o.trend_per_day)]
    assert fitted, (f"trend shown {trend}; over complete days it is "
                    + " or ".join(f"{o.trend_per_day:+.2f}/day ({len(o.days)} days)" for o in outlooks))
    outlook = fitted[0]
    alerts = " ".join(plain(a.value)[0] for a in [*at.warning, *at.error, *at.success])
    if outlook.runs_out_on:
        days = {ko.capacity_outlook(org, n).runs_out_on for n in (27, 28)}
        shown_days = {d for d in days if d and (d.strftime("%d %b %Y") in alerts or f"{d.day} {d:%b %Y}" in alerts)}
        assert shown_days, f"capacity is reached on {outlook.runs_out_on:%d %b %Y} by the trend; the page says {alerts!r}"
    # the chart's trend line is the same line
    chart = next(json.loads(c.proto.spec) for c in at.get("plotly_chart")
                 if any(t.get("name") == "Trend" for t in json.loads(c.proto.spec)["data"]))
    line = next(t for t in chart["data"] if t.get("name") == "Trend")
    xs = [dt.date.fromisoformat(str(x)[:10]) for x in values(line["x"])]
    ys = values(line["y"])
    per_day = (ys[-1] - ys[0]) / (xs[-1] - xs[0]).days
    assert abs(per_day - outlook.trend_per_day) < 0.005, \
        f"the chart's trend line rises {per_day:+.2f}/day, the tile says {trend} ({outlook.trend_per_day:+.2f})"
    bars = next(t for t in chart["data"] if t.get("type") == "bar")
    bar_days = [dt.date.fromisoformat(str(x)[:10]) for x in values(bars["x"])]
    today = org.now.date()
    assert today not in bar_days and min(bar_days) >= outlook.days[0], \
        f"the chart draws partial days: {min(bar_days)} … {max(bar_days)} (complete days: {outlook.days[0]} … {outlook.days[-1]})"


# --- operating model: attribution ---------------------------------------------------------------------------------


def attribution_table(at) -> dict[str, dict[str, str]]:
    """Team -> method label -> shown cell, from the methods table."""
    node = next(d for d in at.dataframe if "Team" in d.value.columns and "First touch" in d.value.columns)
    cols = {c.name: c.shown for c in table(node)}
    return {team: {m: cols[m][i] for m in cols if m != "Team"} for i, team in enumerate(cols["Team"])}


METHOD_LABELS = {"first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
                 "markov": "Markov chain (removal effect)"}


@pytest.mark.parametrize("days", [30, 90, 365])
def test_attribution_totals_and_each_teams_credit_come_from_the_journeys(app, org, days):
    at = app("pages/operating_model_page.py")
    at.run()
    at.selectbox(key="at_window").set_value(days).run()
    assert not at.exception
    expected = ko.attribution(org, days)
    shown = {label: value for label, value, _d, _c in metrics(at)}

    def tile(pattern: str) -> str:
        found = [value for label, value in shown.items() if re.search(pattern, label, re.I)]
        assert len(found) == 1, f"one tile matching {pattern!r} expected among {list(shown)}"
        return found[0]

    journeys, converted = tile(r"^journeys( started)?$"), tile(r"converted")
    rate, revenue = tile(r"conversion( rate)?$"), tile(r"revenue")
    assert number(journeys).agrees(expected["journeys"]), (days, journeys, expected["journeys"])
    assert number(converted).agrees(expected["converted"]), (days, converted, expected["converted"])
    assert number(rate).agrees(100 * expected["conversion_rate"]), (days, rate, expected["conversion_rate"])
    assert number(revenue).agrees(expected["revenue"]), (days, revenue, expected["revenue"])
    cells = attribution_table(at)
    credit = dict(expected["credit"], markov=ko.markov_credit(org, days))
    for method, label in METHOD_LABELS.items():
        for team, (_conv, rev) in credit[method].items():
            cell = cells[ko.NAMES[team]][label]
            amount, share = numbers(cell)[0], numbers(cell)[-1]
            assert amount.agrees(rev), f"{label}, {ko.NAMES[team]} ({days} days): shows {cell}, the journeys give €{rev:,.2f}"
            assert share.agrees(100 * rev / expected["revenue"]), (label, team, cell)


def test_a_spoke_lead_sees_no_other_teams_amounts_in_attribution(app, org, sign_in):
    sign_in({"email": "sam@example.com", "role": "spoke_lead", "unit": "sales"})
    at = app("pages/operating_model_page.py").run()
    assert not at.exception
    others = {ko.NAMES[u] for u in (ko.HUB, ko.FINANCE, ko.SERVICE)}
    node = next((d for d in at.dataframe if "Team" in d.value.columns and "First touch" in d.value.columns), None)
    if node is not None:
        cols = {c.name: c.shown for c in table(node)}
        for i, team in enumerate(cols["Team"]):
            if team in others:
                amounts = [cols[m][i] for m in cols if m != "Team" and re.search(r"[€$£]\s?\d", cols[m][i])]
                assert not amounts, f"a spoke lead of Sales sees {team}'s credit: {amounts}"
    for chart in at.get("plotly_chart"):
        for where, text in chart_texts(json.loads(chart.proto.spec)):
            for name in others:
                assert not (name in text and re.search(r"[€$£]\s?\d", text)), \
                    f"a spoke lead of Sales sees {name}'s amount in a chart ({where}): {text!r}"


# --- scenarios: the observed as-is and the deltas --------------------------------------------------------------------


def test_the_as_is_check_shows_what_was_observed_in_the_last_30_days(app, org):
    at = run(app, "pages/scenarios_page.py")
    node = next(d for d in at.dataframe if "Spoke" in d.value.columns and any("obs" in str(c) for c in d.value.columns))
    cols = {c.name: c.shown for c in table(node)}
    start, end = org.now - 30 * ko.D, org.now
    for i, name in enumerate(cols["Spoke"]):
        spoke = next(u for u, n in ko.NAMES.items() if n == name)
        rows = [x for x in org.items if x["resolved_at"] is not None and start <= x["resolved_at"] < end
                and spoke in (x["source_unit"], x["target_unit"])]
        lead = sorted((x["resolved_at"] - x["created_at"]).total_seconds() / 3600 for x in rows)
        within = sum(1 for x in rows if x["resolved_at"] <= x["due_at"]) / len(rows)
        assert number(cols["Items"][i]).agrees(len(rows)), (name, cols["Items"][i], len(rows))
        assert number(cols["Median obs."][i]).agrees(statistics.median(lead)), (name, cols["Median obs."][i])
        assert number(cols["Mean obs."][i]).agrees(sum(lead) / len(lead)), (name, cols["Mean obs."][i])
        assert number(cols["SLA obs."][i]).agrees(100 * within), (name, cols["SLA obs."][i], within)


HEADLINE = {  # tile label -> (column of the models table, lower is better)
    "Total cost / year": ("Cost / year", True), "FTE": ("FTE", True), "Handoffs / month": ("Handoffs / month", True),
    "Median lead time": ("Median lead time", True), "Within SLA": ("Within SLA", False),
    "Unanswered / month": ("Unanswered / month", True),
}


@pytest.mark.parametrize("preset", ["centralised", "decentralised", "hybrid"])
def test_scenario_tiles_and_their_deltas_agree_with_the_models_table_and_colour_good_green(app, org, preset):
    at = run(app, "pages/scenarios_page.py")
    at.button(key=f"preset_{preset}").click().run()
    assert not at.exception
    node = next(d for d in at.dataframe if "Model" in d.value.columns)
    cols = {c.name: c.shown for c in table(node)}
    as_is = cols["Model"].index("As-is")
    this = cols["Model"].index("This scenario")
    shown = tiles(at)
    for label, (column, lower_better) in HEADLINE.items():
        key = next(k for k in shown if k.startswith(label.split(" /")[0]))
        value, delta, colour = shown[key]
        row_value, base_value = number(cols[column][this]), number(cols[column][as_is])
        assert abs(number(value).value - row_value.value) <= number(value).half_unit + row_value.half_unit, \
            f"{preset} {label}: tile {value}, table {cols[column][this]}"
        change = row_value.value - base_value.value
        slack = row_value.half_unit + base_value.half_unit
        if abs(change) <= slack:
            continue
        assert delta, f"{preset} {label}: {cols[column][as_is]} → {cols[column][this]} but the tile shows no change"
        d = number(delta)
        assert abs(d.value - change) <= d.half_unit + slack, f"{preset} {label}: delta {delta}, table {change:+,.2f}"
        better = (change < 0) == lower_better
        assert colour == ("green" if better else "red"), f"{preset} {label}: {delta} is {'better' if better else 'worse'} but {colour}"
