"""The Operating model page's Attribution tab: how much of the shared goal each team's touchpoints earned.

Journeys started in the chosen window, with the units that handled their work items as touchpoints, are credited
by four methods (dashboard.domain.attribution); the chosen one is drawn on the KPI tree, all four side by side.
The journeys are read and attributed once per window (cached: :mod:`dashboard.ui.cache`), scoped to the viewer in the query
layer (a spoke lead gets their own team's credit and the others summed); widgets only reshape the result.
Labels say what the figures are: journey revenue and journey conversion, never the shared goal's KPI names,
whose figures (as the overview computes them) are quoted beside them for comparison.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts import attribution_charts
from dashboard.domain import attribution as at_
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.queries.attribution import TeamCredit, team_credit
from dashboard.queries.kpis import kpi_catalogue, kpi_values, list_units
from dashboard.ui import cache, data
from dashboard.ui.text import md

WINDOWS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
TOUCHPOINTS = ("A **touchpoint** is a work item of the customer's journey, credited to the unit that handled it "
               "(the spoke it was routed to; the hub for work the hub did itself, such as requests sent to it or "
               "items waiting in its triage queue). Journeys are those that *started* in the window, followed up "
               "to today; items created after a journey converted do not count towards it.")
NOT_THE_GOAL = ("These are the customer journeys of the window, not the shared goal's KPIs: journey revenue is the "
                "revenue of the journeys that converted, and journey conversion is converted journeys ÷ journeys. "
                "The overview's Revenue counts all revenue booked in its window, and its Conversion rate is the KPI "
                "Sales reports.")
NO_CREDIT = {  # why a team gets nothing under a method
    "first_touch": "never the first touch of a converted journey",
    "last_touch": "never the last touch before a conversion",
    "linear": "touched no converted journey",
    "markov": "removing it does not lower the chance of converting",
}
HIDDEN = ("As a spoke lead you see your own team's credit; the other teams' credit is shown together as "
          "“Other teams”.")


@dataclass(frozen=True)
class Attribution:
    credit: TeamCredit
    kpis: pd.DataFrame
    goal: pd.Series | None  # the shared goal's KPI figures over the same days (as the overview computes them)
    names: dict[str, str]


@cache.reads("items", "kpis", "units", max_entries=16)  # journeys are "items"
def _attribution(viewer: Viewer, days: int) -> Attribution:
    now = dt.datetime.now(dt.UTC)
    start = now - dt.timedelta(days=days)
    with data.engine().connect() as conn:
        credit = team_credit(conn, viewer, start, now)
        kpis = kpi_catalogue(conn, viewer)
        values = kpi_values(conn, viewer, start, now)
        units = list_units(conn, viewer)
    goal = attribution_charts.goal_of(kpis)
    figures = values.set_index("id").loc[goal["id"]] if goal is not None and goal["id"] in set(values.id) else None
    names = dict(zip(units.id, units.name)) | {at_.OTHERS: "Other teams"}
    return Attribution(credit, kpis, figures, names)


def render(viewer: Viewer) -> None:
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):  # wraps on a narrow screen
        days = st.selectbox("Journeys started", list(WINDOWS), index=0, format_func=WINDOWS.get, key="at_window")
        method = st.selectbox("Method on the KPI tree", list(at_.METHODS), index=list(at_.METHODS).index("markov"),
                              format_func=at_.METHODS.get, key="at_method", help="Every method is in the table below")
        measure = st.segmented_control("Credit", list(attribution_charts.MEASURES), default="revenue",
                                       format_func=attribution_charts.MEASURES.get, key="at_measure") or "revenue"
    try:
        with st.spinner("Reading the customer journeys…"):
            result = _attribution(viewer, int(days))
    except NotPermitted as exc:
        st.warning(f"Not available to you: {exc}.", icon=":material/lock:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    s = result.credit.summary
    if s.journeys == 0:
        st.info(f"No customer journey started in the {WINDOWS[days].lower()}: attribution needs journeys (the "
                "`journeys` table) whose work items carry their `journey_id`. Pick a longer window, or load them "
                "with the demo or an import.", icon=":material/info:")
        return
    _summary(s, result.goal, WINDOWS[days].lower())
    if result.credit.scoped:
        st.caption(HIDDEN)
    if s.converted == 0:
        st.info("None of these journeys has converted yet, so there is nothing to attribute.", icon=":material/info:")
        return
    table = result.credit.table
    credit = table[table.method == method]
    st.plotly_chart(attribution_charts.kpi_tree(result.kpis, credit, result.names, measure=measure,
                                                method_label=at_.METHODS[method]),
                    config={"displayModeBar": False}, key="at_tree")
    missing = [result.names.get(t, t) for t in credit.team[credit[measure] <= 0] if t != at_.OTHERS]
    if missing:
        st.caption(f"No credit under {at_.METHODS[method]}: {md(', '.join(missing))} — "
                   f"{NO_CREDIT[method]}.")
    chain = result.credit.chain
    if chain.notes and method == "markov":
        st.caption("; ".join(chain.notes).capitalize() + ".")
    st.plotly_chart(attribution_charts.method_comparison(table, result.names, measure=measure),
                    config={"displayModeBar": False}, key="at_methods")
    st.dataframe(_method_table(table, result.names, measure), hide_index=True, width="stretch",
                 column_config={"Team": st.column_config.TextColumn(pinned=True)})
    _explain(result)


def _summary(s: at_.Summary, goal: pd.Series | None, window: str) -> None:
    with st.container(horizontal=True, gap="small"):  # four in a row, or wrapped two by two
        st.metric("Journeys started", fmt.count(s.journeys), help="Customer journeys that started in the window")
        st.metric("Journeys converted", fmt.count(s.converted),
                  help="Journeys that started in the window, converted (by today) and have at least one touchpoint")
        st.metric("Journey conversion", fmt.percent(s.conversion_rate, 1),
                  help="Converted journeys ÷ journeys with a touchpoint. Not the Conversion rate KPI on the overview.")
        st.metric("Journey revenue", fmt.money(s.revenue, compact_form=True),
                  help="Revenue of the converted journeys, shared out below. Not the Revenue KPI on the overview, "
                       "which counts all revenue booked.")
    extra = (f"{fmt.count(s.mean_touches * s.with_path)} touchpoints on the {fmt.count(s.with_path)} journeys "
             "with at least one.")
    if s.unattributed_conversions:
        extra += (f" {fmt.count(s.unattributed_conversions)} converted journeys "
                  f"({fmt.money(s.unattributed_revenue)}) have no work item, so no team to credit: they are left out.")
    if goal is not None and goal.value == goal.value:
        extra += (f" For comparison, the shared goal {md(goal['name'])} over the {window}: "
                  f"{fmt.measure(goal.value, goal.unit_of_measure)}, as on the overview.")
    st.caption(extra, help=NOT_THE_GOAL)


def _method_table(table: pd.DataFrame, names: dict[str, str], measure: str) -> pd.DataFrame:
    """Team × method, each cell the credit and its share of the method's total: '€12,345 (34.0 %)'."""
    share = "revenue_share" if measure == "revenue" else "conversion_share"
    cells = table.assign(cell=[f"{attribution_charts.format_credit(v, measure, compact_form=False)} "
                               f"({fmt.percent(p, 1)})" for v, p in zip(table[measure], table[share])])
    wide = cells.pivot(index="team", columns="method", values="cell")
    order = attribution_charts.team_order(table, measure)
    wide = wide.reindex(order)[list(at_.METHODS)]
    wide.columns = [at_.METHODS[m] for m in wide.columns]
    wide.insert(0, "Team", [names.get(t, t) for t in wide.index])
    return wide.reset_index(drop=True)


def _explain(result: Attribution) -> None:
    with st.expander("How each method shares the credit"):
        for key, label in at_.METHODS.items():
            st.markdown(f"**{label}** — {at_.METHOD_HELP[key]}")
        st.markdown(TOUCHPOINTS)
        st.markdown(NOT_THE_GOAL)
        chain = result.credit.chain
        if chain.removal_effect and chain.p_conversion > 0:
            st.markdown(f"Markov chain: P(conversion) from the start = **{fmt.percent(chain.p_conversion, 1)}**.")
            st.dataframe(pd.DataFrame({
                "Team": [result.names.get(t, t) for t in chain.teams],
                "P(conversion) without the team": [fmt.percent(chain.p_without[t], 1) for t in chain.teams],
                "Removal effect": [fmt.percent(chain.removal_effect[t], 1) for t in chain.teams],
            }), hide_index=True, width="stretch")
