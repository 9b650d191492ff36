"""The Operating model page's Attribution tab: how much of the shared goal each team's touchpoints earned.

Journeys started in the chosen window, with the units that handled their work items as touchpoints, are credited
by four methods (dashboard.domain.attribution); the chosen one is drawn on the KPI tree, all four side by side.
The journeys are read and attributed once per window (cached, short ttl); widgets only reshape the result.
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
from dashboard.queries.attribution import journey_paths
from dashboard.queries.kpis import kpi_catalogue, list_units
from dashboard.settings import get_settings
from dashboard.ui import data

WINDOWS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
TOUCHPOINTS = ("A **touchpoint** is a work item of the customer's journey, credited to the unit that handled it "
               "(the spoke it was routed to; the hub for work the hub did itself, such as requests sent to it or "
               "items waiting in its triage queue). Journeys are those that *started* in the window, followed up "
               "to today; items created after a journey converted do not count towards it.")


@dataclass(frozen=True)
class Attribution:
    summary: at_.Summary
    table: pd.DataFrame  # attribution.compare
    chain: at_.MarkovResult
    kpis: pd.DataFrame
    names: dict[str, str]


@st.cache_data(ttl=get_settings().cache_ttl_seconds, show_spinner=False, max_entries=16)
def _attribution(url: str, viewer: Viewer, days: int) -> Attribution:
    now = dt.datetime.now(dt.timezone.utc)
    with data.engine().connect() as conn:
        journeys = journey_paths(conn, viewer, now - dt.timedelta(days=days), now)
        kpis = kpi_catalogue(conn, viewer)
        units = list_units(conn, viewer)
    folded = at_.fold(journeys)  # distinct paths: every method below works on these
    return Attribution(at_.summary(journeys), at_.compare(folded), at_.markov_chain(folded), kpis,
                       dict(zip(units.id, units.name)))


def render(viewer: Viewer) -> None:
    url = get_settings().database_url
    a, b, c = st.columns([1.2, 1, 1.6])
    days = a.selectbox("Journeys started", list(WINDOWS), index=1, format_func=WINDOWS.get, key="at_window")
    measure = b.segmented_control("Credit", list(attribution_charts.MEASURES), default="revenue",
                                  format_func=attribution_charts.MEASURES.get, key="at_measure") or "revenue"
    method = c.selectbox("Method on the KPI tree", list(at_.METHODS), index=list(at_.METHODS).index("markov"),
                         format_func=at_.METHODS.get, key="at_method", help="Every method is in the table below")
    try:
        with st.spinner("Reading the customer journeys…"):
            result = _attribution(url, viewer, int(days))
    except NotPermitted as exc:
        st.warning(f"Not available to you: {exc}.", icon=":material/lock:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    s = result.summary
    if s.journeys == 0:
        st.info(f"No customer journey started in the {WINDOWS[days].lower()}: attribution needs journeys (the "
                "`journeys` table) whose work items carry their `journey_id`. Pick a longer window, or load them "
                "with the demo or an import.", icon=":material/info:")
        return
    _summary(s)
    if s.converted == 0:
        st.info("None of these journeys has converted yet, so there is nothing to attribute.", icon=":material/info:")
        return
    credit = result.table[result.table.method == method]
    st.plotly_chart(attribution_charts.kpi_tree(result.kpis, credit, result.names, measure=measure,
                                                method_label=at_.METHODS[method]),
                    config={"displayModeBar": False}, key="at_tree")
    missing = [result.names.get(t, t) for t in credit.team[credit[measure] <= 0]]
    if missing:
        st.caption(f"No credit under this method: {', '.join(missing)}.")
    if result.chain.notes and method == "markov":
        st.caption("; ".join(result.chain.notes).capitalize() + ".")
    st.plotly_chart(attribution_charts.method_comparison(result.table, result.names, measure=measure),
                    config={"displayModeBar": False}, key="at_methods")
    st.dataframe(_method_table(result.table, result.names, measure), hide_index=True, width="stretch")
    _explain(result)


def _summary(s: at_.Summary) -> None:
    cols = st.columns(4)
    cols[0].metric("Journeys", f"{s.journeys:,}", help="Journeys that started in the window")
    cols[1].metric("Converted", f"{s.converted:,}", help="Converted journeys with at least one touchpoint")
    cols[2].metric("Conversion rate", fmt.percent(s.conversion_rate, 1))
    cols[3].metric("Revenue", fmt.measure(s.revenue, "EUR"), help="Revenue of the converted journeys shared out below")
    extra = f"{s.mean_touches:.1f} touchpoints per journey on average."
    if s.unattributed_conversions:
        extra += (f" {s.unattributed_conversions:,} converted journeys ({fmt.measure(s.unattributed_revenue, 'EUR')}) "
                  "have no work item, so no team to credit: they are left out.")
    st.caption(extra)


def _method_table(table: pd.DataFrame, names: dict[str, str], measure: str) -> pd.DataFrame:
    """Team × method, each cell the credit and its share: '€12.3k (34 %)'."""
    share = "revenue_share" if measure == "revenue" else "conversion_share"
    cells = table.assign(cell=[f"{attribution_charts.format_credit(v, measure)} ({fmt.percent(p)})"
                               for v, p in zip(table[measure], table[share])])
    wide = cells.pivot(index="team", columns="method", values="cell")
    order = table[table.method == "markov"].sort_values(measure, ascending=False).team
    wide = wide.reindex(order)[list(at_.METHODS)]
    wide.columns = [at_.METHODS[m] for m in wide.columns]
    wide.insert(0, "Team", [names.get(t, t) for t in wide.index])
    return wide.reset_index(drop=True)


def _explain(result: Attribution) -> None:
    with st.expander("How each method shares the credit"):
        for key, label in at_.METHODS.items():
            st.markdown(f"**{label}** — {at_.METHOD_HELP[key]}")
        st.markdown(TOUCHPOINTS)
        chain = result.chain
        if chain.removal_effect and chain.p_conversion > 0:
            st.markdown(f"Markov chain: P(conversion) from the start = **{fmt.percent(chain.p_conversion, 1)}**.")
            st.dataframe(pd.DataFrame({
                "Team": [result.names.get(t, t) for t in chain.teams],
                "P(conversion) without the team": [fmt.percent(chain.p_without[t], 1) for t in chain.teams],
                "Removal effect": [fmt.percent(chain.removal_effect[t], 1) for t in chain.teams],
            }), hide_index=True, width="stretch")
