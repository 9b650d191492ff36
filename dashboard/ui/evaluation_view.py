"""The Operating model page's Evaluate tab: what an implemented change did, and whether the model saw it coming.

Pick a change marked done; the tab compares the touched spokes' flow before and after it with the spokes it did
not touch (difference-in-differences), puts the what-if model's prediction beside it, and shows the touched
spokes' KPIs before and after. Reads go through cached accessors (:mod:`dashboard.ui.cache`) keyed by the change
and the window length, never by the clock.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts import evaluation_charts
from dashboard.domain import evaluation as ev
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.queries.evaluation import EvaluationData, done_changes, evaluation_data
from dashboard.ui import cache, data

WINDOWS = {14: "2 weeks", 28: "4 weeks", 56: "8 weeks"}
SERIES_METRICS = {"lead_time_h": "Lead time", "sla_share": "Within SLA", "items_per_day": "Items per day"}
HOW = f"""
- **Touched spokes**: the spokes the change lists (all spokes when it lists none). **Untouched spokes** are the
  control group: whatever moved there too (a season, a campaign, more load) is not the change's doing.
- **Flow** is the work routed *to* each spoke, per UTC day, from the hourly rollup: lead time is the mean hours
  from created to resolved of the items resolved that day; within SLA is their share resolved before the due
  time; items per day counts arrivals.
- **Before / after** are means of the daily values over the window before the change and the days since
  (full days only, up to the window's length).
- **Difference-in-differences (DiD)** = (after − before) of the touched spokes − (after − before) of the
  untouched ones; ± is two standard errors from the day-to-day spread (days taken as independent, so read it as
  a lower bound on the uncertainty).
- **The prediction** is the what-if model's figure for the change's *function* stored when the change was
  planned; observed figures are per *spoke*, so lead time is compared as a relative change (%) and the SLA share
  in percentage points. "In line" means the prediction lies within ± 2 standard errors of what was observed.
- At least {ev.MIN_DAYS_AFTER} full days after the change are needed for an estimate, {ev.ENOUGH_DAYS} for a steadier one.
"""


@cache.reads("cycle", max_entries=32)
def _changes(viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return done_changes(conn, viewer)


@cache.reads("cycle", "items", "kpis", "units", max_entries=32)
def _evaluation(viewer: Viewer, change_id: int, days: int) -> EvaluationData | None:
    with data.engine().connect() as conn:
        return evaluation_data(conn, viewer, change_id, dt.datetime.now(dt.UTC), days)


def _change_label(row, names: dict[str, str] | None = None) -> str:
    where = ", ".join((names or {}).get(u, u) for u in row.units) if row.units else "every spoke"
    return f"{row.label} · done {fmt.day(row.done_on)} · {where}"


def render(viewer: Viewer) -> None:
    try:
        changes = _changes(viewer)
        units = data.units(viewer)
    except NotPermitted as exc:
        st.warning(f"Not available to you: {exc}.", icon=":material/lock:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    if changes.empty:
        whose = " touching your spoke" if not viewer.sees_everything else ""
        st.info(f"No change{whose} has been marked done yet: mark one done on the Implement tab, then come back "
                "here to see what it did.", icon=":material/info:")
        return
    left, right = st.columns([3, 1])
    ids = changes.id.tolist()
    rows = {r.id: r for r in changes.itertuples()}
    names = dict(zip(units.id, units.name))
    change_id = left.selectbox("Change", ids, format_func=lambda i: _change_label(rows[i], names), key="ev_change",
                               help="Changes marked done on the Implement tab, newest first")
    days = right.selectbox("Window each side", list(WINDOWS), index=1, format_func=WINDOWS.get, key="ev_days",
                           help="How many days before the change to compare with, and at most how many after it")
    try:
        with st.spinner("Reading the flows around the change…"):
            found = _evaluation(viewer, int(change_id), int(days))
    except NotPermitted as exc:
        st.warning(f"Not available to you: {exc}.", icon=":material/lock:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    if found is None:
        st.info("That change is no longer marked done: pick another one.", icon=":material/info:")
        return
    _show(found)


def _show(found: EvaluationData) -> None:
    change, win, names = found.change, found.window, found.names
    result = ev.evaluate(found.flow, win, change["predicted"])
    touched = ", ".join(names.get(u, u) for u in found.treated) or "none"
    control = ", ".join(names.get(u, u) for u in found.control) or "none (the change touched every spoke)"
    st.caption(f"**{change['label']}** ({change['from_placement']} → {change['to_placement']}), done on "
               f"{fmt.day(win.change_at)}. Touched: {touched}. Compared with: {control}. "
               f"{win.days_before} days before, {win.days_after} full day{'s' if win.days_after != 1 else ''} after.")
    for note in result.notes:
        st.warning(note, icon=":material/warning:")
    counts = ev.verdict_counts(result)
    if sum(counts.values()):
        st.markdown(f"**Model check:** {counts['in line']} in line with the prediction, {counts['different']} "
                    f"different, {counts['unclear']} not clear yet.")
    st.dataframe(styled_estimates(result), hide_index=True, width="stretch")
    st.markdown("\n".join(f"- {line}" for line in result.sentences()))
    if any(e.predicted_change is not None for e in result.estimates):
        st.plotly_chart(evaluation_charts.prediction_vs_observed(result), config={"displayModeBar": False},
                        key="ev_prediction_chart")
    metric = st.radio("Daily series", list(SERIES_METRICS), format_func=SERIES_METRICS.get, horizontal=True,
                      key="ev_series")
    daily = ev.daily_metrics(found.flow) if len(found.flow) else found.flow
    if len(daily):
        st.plotly_chart(evaluation_charts.before_after(daily, metric, win.change_at, change["label"]),
                        config={"displayModeBar": False}, key="ev_series_chart")
    else:
        st.info("No flow to or from the touched spokes in this window.", icon=":material/info:")
    _kpis(found)
    with st.expander("How this is computed"):
        st.markdown(HOW)


def styled_estimates(result: ev.Evaluation):
    """The estimates table with each clear change (beyond ± 2 standard errors) green when it is better for the
    metric, red when worse — the Scenarios page's rule; changes within the noise stay plain."""
    from dashboard.ui.scenario_view import BETTER_CSS, WORSE_CSS

    table = result.table()
    css = pd.DataFrame("", index=table.index, columns=table.columns)
    for i, e in enumerate(result.estimates):
        better = ev.METRICS[e.metric].better
        if better is None:
            continue
        for column, value, se in (("Change", e.change, e.change_se), ("DiD", e.did, e.did_se)):
            if value is None or (se is not None and abs(value) <= 2 * se) or value == 0:
                continue
            css.at[i, column] = BETTER_CSS if (value < 0) == (better == "lower") else WORSE_CSS
    return table.style.apply(lambda _frame: css, axis=None)


def _aggregations(kpis: pd.DataFrame) -> dict[str, str]:
    if kpis is None or kpis.empty or "aggregation" not in kpis:
        return {}
    return dict(zip(kpis.kpi_id, kpis.aggregation))


def _kpis(found: EvaluationData) -> None:
    st.subheader("KPIs of the touched spokes")
    table = ev.kpi_before_after(found.kpis, found.window.change_at)
    if table.empty:
        st.caption("No KPI observations of the touched spokes in this window"
                   + ("." if not found.kpis.empty or found.treated else ": the change touches no spoke."))
        return
    per_day = [" / day" if a == "sum" else "" for a in table.kpi_id.map(_aggregations(found.kpis))]
    shown = pd.DataFrame({
        "KPI": table.name,
        "Unit": [found.names.get(u, u) for u in table.unit_id],
        "Before": [fmt.kpi(v, u) + d for v, u, d in zip(table.before, table.unit_of_measure, per_day)],
        "After": [fmt.kpi(v, u) + d for v, u, d in zip(table.after, table.unit_of_measure, per_day)],
        "Change": [fmt.signed_percent(r) or "—" for r in table.relative],
        "Better is": table.direction,
        "Reading": table.assessment,
    })
    from dashboard.ui.scenario_view import BETTER_CSS, WORSE_CSS

    colours = {"better": BETTER_CSS, "worse": WORSE_CSS}
    st.dataframe(shown.style.map(lambda v: colours.get(v, ""), subset=["Reading"]), hide_index=True,
                 width="stretch")
    st.caption("KPIs belong to one unit each, so there is no untouched group to compare with: these are plain "
               "before/after means of daily values (a KPI that adds up, such as revenue, per day); 'no clear "
               "change' means within ± 2 standard errors.")
