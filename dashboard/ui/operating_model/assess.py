"""The Assess tab: a function's maturity (1 ad hoc … 5 optimised on structure, processes, data management and
technology) — the latest against the previous assessment, the trend, a new assessment (hub leads, admins), the
past ones, and every function's latest overall score."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.charts import cycle_charts
from dashboard.domain import maturity
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.vocabulary import FUNCTIONS, function_label
from dashboard.services import cycle as cycle_service
from dashboard.ui import cache, data, flash
from dashboard.ui.operating_model import common
from dashboard.ui.text import md


def render(viewer: Viewer) -> None:
    st.caption("Score each function from 1 (ad hoc) to 5 (optimised) on the four components of an operating "
               "model; repeat every quarter or so and watch the trend.")
    function = st.selectbox("Function", list(FUNCTIONS), format_func=function_label, key="om_function")
    every = common.assessments(viewer)
    history = every[every.function == function]
    latest, previous = maturity.latest_two(history)
    left, right = st.columns(2)
    with left:
        if latest is None:
            st.info(f"{function_label(function)} has not been assessed yet."
                    + (" Score it below." if viewer.can_edit_operating_model else ""), icon=":material/radar:")
        else:
            radar = cycle_charts.radar(latest, previous, latest_label=f"Latest ({common.day(latest.assessed_at)})",
                                       previous_label=f"Previous ({common.day(previous.assessed_at)})"
                                       if previous is not None else "Previous")
            st.plotly_chart(radar, config={"displayModeBar": False}, key="om_radar")
            st.caption(maturity.summary(latest, previous)
                       + f" · by {md(latest.author)}, {common.when(latest.assessed_at)}")
    with right:
        if len(history) >= 2:
            st.plotly_chart(cycle_charts.trend(maturity.trend(history)), config={"displayModeBar": False},
                            key="om_trend")
        elif latest is not None:
            st.caption("The trend appears after the second assessment.")
    if viewer.can_edit_operating_model:
        _assessment_form(viewer, function, latest)
    else:
        st.caption(common.READ_ONLY.format(what="record assessments"))
    _assessment_table(history)
    _functions_summary(every)


def _functions_summary(every: pd.DataFrame) -> None:
    """Every function's latest overall score beside its change since the previous assessment."""
    if every.empty:
        return
    rows = []
    for function in FUNCTIONS:
        latest, previous = maturity.latest_two(every[every.function == function])
        rows.append({"Function": function_label(function),
                     "Overall": None if latest is None else maturity.overall(latest),
                     "Since previous": None if latest is None or previous is None
                     else maturity.overall(latest) - maturity.overall(previous),
                     "Last assessed": "not yet" if latest is None else common.when(latest.assessed_at)})
    with st.expander("All functions: latest overall maturity"):
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="om_all_functions", column_config={
            "Overall": st.column_config.ProgressColumn(format="%.1f / 5", min_value=0, max_value=5),
            "Since previous": st.column_config.NumberColumn(format="%+.2f", help="Change of the overall score"),
        })


def _assessment_form(viewer: Viewer, function: str, latest) -> None:
    with st.form(f"om_assess_{function}"):
        st.markdown(f"**New assessment of {function_label(function)}**")
        scores = {}
        for component in maturity.COMPONENTS:
            default = int(latest[component]) if latest is not None else 1
            scores[component] = st.radio(
                maturity.COMPONENT_LABELS[component], list(maturity.LEVELS), index=default - 1,
                format_func=lambda level, c=component: maturity.level_text(c, level), key=f"om_{function}_{component}")
        note = st.text_area("Note (optional)", key=f"om_{function}_note", max_chars=2000, height=68,
                            placeholder="What changed, what is planned next")
        if not st.form_submit_button("Save assessment", type="primary"):
            return
    try:
        with data.engine().begin() as conn:
            cycle_service.save_assessment(conn, viewer, {"function": function, "note": note, **scores})
    except maturity.AssessmentError as exc:
        st.warning("Not saved: " + "; ".join(exc.problems), icon=":material/block:")
        return
    except NotPermitted as exc:
        st.warning(md(exc), icon=":material/block:")
        return
    except errors.DATABASE_ERRORS as exc:  # the form keeps the scores and the note
        data.write_failed(exc)
        return
    cache.changed(cycle_service.save_assessment)
    flash.later("ok", f"Saved the assessment of {function_label(function)}.", key=common.FLASH)
    st.rerun()


def _assessment_table(history: pd.DataFrame) -> None:
    if history.empty:
        return
    st.markdown("**Past assessments**")
    view = history.sort_values("assessed_at", ascending=False)
    table = pd.DataFrame({
        "Date": [common.when(t) for t in view.assessed_at], "Author": view.author,
        **{maturity.COMPONENT_LABELS[c]: view[c] for c in maturity.COMPONENTS},
        "Overall": view.overall, "Note": view.note.fillna(""),
    })
    st.dataframe(table, hide_index=True, key="om_history", column_config={
        "Overall": st.column_config.NumberColumn(format="%.1f"),
        **{maturity.COMPONENT_LABELS[c]: st.column_config.NumberColumn(format="%d") for c in maturity.COMPONENTS},
    })
