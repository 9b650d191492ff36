"""The sections of the data-health page: freshness per table, file imports, quarantine, quality checks.

Cached accessors (:mod:`dashboard.ui.cache`) are keyed by the viewer (and the filter), like ``data.py``; the
clock is read inside them, so a key never changes with time and the lifetime decides how fresh "now" is. The
import log and quarantine are read under "imports", campaigns under "campaigns": the names a file import
declares it writes (:func:`dashboard.services.imports.ingest`), besides the data it loads.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer, who_may_open
from dashboard.queries import health
from dashboard.services.exports import record_export
from dashboard.settings import get_settings
from dashboard.ui import cache, data
from dashboard.ui.text import md

TABLE_LABELS = {"work_items": "Work items", "kpi_observations": "KPI observations", "kpis": "KPIs",
                "units": "Units", "campaigns": "Campaigns", "journeys": "Customer journeys"}
ROWS_SHOWN = 200
RECENT_IMPORTS = 50
NO_IMPORTS = "No files imported yet. Hub leads and admins load files on the Import data page."
NO_IMPORTS_CLI = ("Files can also be loaded from the server's command line (`python -m loaders ingest PATH`); they "
                  "show here the same way.")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@cache.reads("items", "kpis", "units", "campaigns", max_entries=16)
def _freshness(viewer: Viewer, cadence: tuple[tuple[str, float], ...]) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return health.freshness(conn, viewer, _now(), dict(cadence))


@cache.reads("imports", max_entries=16)
def _imports(viewer: Viewer) -> tuple[pd.DataFrame, pd.DataFrame]:
    with data.engine().connect() as conn:
        return health.last_imports(conn, viewer), health.recent_imports(conn, viewer, RECENT_IMPORTS)


@cache.reads("imports", max_entries=16)
def _quarantine_counts(viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return health.quarantine_counts(conn, viewer)


@cache.reads("imports", max_entries=64)
def _open_imports(viewer: Viewer, kind: str | None) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return health.imports_with_open_rows(conn, viewer, kind)


@cache.reads("imports", max_entries=64)
def _quarantine(viewer: Viewer, kind: str | None, import_id: int | None):
    with data.engine().connect() as conn:
        return (health.quarantine_reasons(conn, viewer, kind, import_id),
                health.quarantined_rows(conn, viewer, kind, import_id, ROWS_SHOWN))


# the checks scan every work item (~1.5 s at 1M rows on SQLite): minutes old is fresh enough ("checks" lifetime)
@cache.reads("items", "kpis", "units", "campaigns", lifetime="checks", spinner="Running the quality checks…",
             max_entries=16)
def _checks(viewer: Viewer) -> tuple[pd.DataFrame, pd.DataFrame, dt.datetime]:
    now = _now()
    with data.engine().connect() as conn:
        return health.quality_checks(conn, viewer, now), health.kpis_not_range_checked(conn, viewer), now


def require_permission(viewer: Viewer) -> None:
    """Stop the page with a message for a viewer whose role may not see data health."""
    try:
        health.require_health_viewer(viewer)
    except NotPermitted:
        st.error(f"Not permitted: data health is for {who_may_open('data-health')}.", icon=":material/block:")
        st.stop()


def _when(ts, tz) -> str:
    return "never" if pd.isna(ts) else fmt.moment(pd.Timestamp(ts), tz)


def _status(row) -> str:
    if row.rows == 0:
        return "empty"
    if row.stale is None:
        return "not judged" if pd.isna(row.age_h) else "no cadence set"
    return "STALE" if row.stale else "fresh"


def _freshness_view(fresh: pd.DataFrame, tz) -> pd.DataFrame:
    rows = list(fresh.itertuples())
    return pd.DataFrame({  # what decides first (status, age), so a phone shows it without scrolling sideways
        "Table": [TABLE_LABELS.get(r.table, r.table) for r in rows],
        "Status": [_status(r) for r in rows],
        "Age": ["" if pd.isna(r.age_h) else f"{fmt.hours(-r.age_h)} ahead" if r.age_h < 0
                else f"{fmt.hours(r.age_h)} ago" for r in rows],
        "Expected every": ["" if pd.isna(r.cadence_h) else fmt.hours(r.cadence_h) for r in rows],
        "Rows": [int(r.rows) for r in rows],
        "Newest row": ["" if pd.isna(r.newest) else fmt.day(r.newest) if r.table in health.DATE_TABLES
                       else _when(r.newest, tz) for r in rows],
    })


def freshness_section(viewer: Viewer) -> None:
    s = get_settings()
    fresh = _freshness(viewer, tuple(sorted(s.freshness_hours.items())))
    stale = fresh[fresh.stale.eq(True)]
    if stale.empty:
        st.success("No stale tables: every newest row is within its expected cadence.", icon=":material/check:")
    else:
        names = ", ".join(f"{TABLE_LABELS[t]} (newest {fmt.hours(a)} ago, expected every {fmt.hours(c)})"
                          for t, a, c in zip(stale.table, stale.age_h, stale.cadence_h))
        st.warning(f"Stale: {names}. Check the feed or the import that fills it.", icon=":material/schedule:")
    st.dataframe(_freshness_view(fresh, s.tz), hide_index=True, column_config={
        "Rows": st.column_config.NumberColumn(format=fmt.COUNT),
        "Expected every": st.column_config.TextColumn(
            help="How often new rows are expected; whoever runs the dashboard sets it per table "
                 "(DASHBOARD_FRESHNESS_HOURS, in hours)"),
        "Status": st.column_config.TextColumn(help="STALE: the newest row is older than the expected cadence; "
                                              "tables without a time column are counted, not judged")})
    st.caption(f"Times in {s.timezone}. Campaigns count from the day their last period ends, which can lie ahead "
               "for a campaign still running.")


def _counts_config(tz: str) -> dict:
    number = st.column_config.NumberColumn(format=fmt.COUNT)
    return {"Started": st.column_config.DatetimeColumn(f"Started ({tz})", format=fmt.MOMENT, timezone=tz),
            **{c: number for c in ("Rows read", "Inserted", "Updated", "Unchanged", "Quarantined", "Imports")}}


def _import_view(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "Source": frame.source, "Table": frame.kind.map(TABLE_LABELS).fillna(frame.kind), "File": frame.file_name,
        "Status": frame.status, "Started": frame.started_at, "Rows read": frame.rows_read,
        "Inserted": frame.inserted, "Updated": frame.updated, "Unchanged": frame.unchanged,
        "Quarantined": frame.quarantined,
    })


def imports_section(viewer: Viewer) -> None:
    s = get_settings()
    last, recent = _imports(viewer)
    if last.empty:
        st.info(NO_IMPORTS, icon=":material/upload_file:")
        if viewer.is_admin:
            st.caption(NO_IMPORTS_CLI)
        if viewer.can_import:  # executives have no import page: a link to a page not in their navigation fails
            st.page_link("pages/upload_page.py", label="Import data", icon=":material/upload_file:")
        return
    failed = last[last.status == "failed"]
    if not failed.empty:
        pairs = ", ".join(f"{src} → {TABLE_LABELS.get(k, k)}" for src, k in zip(failed.source, failed.kind))
        st.error(f"The last import failed for: {pairs}. "
                 "Nothing from those files was written; see the message in the recent imports.",
                 icon=":material/error:")
    st.markdown("**Last import per source and table**")
    st.dataframe(_import_view(last).assign(Imports=last.imports), hide_index=True, column_config=_counts_config(s.timezone))
    with st.expander(f"Recent imports (newest first, latest {RECENT_IMPORTS})"):
        st.dataframe(_import_view(recent).assign(Message=recent.message.fillna(""), By=recent.imported_by.fillna("")),
                     hide_index=True, column_config=_counts_config(s.timezone))


def _import_label(row, tz) -> str:
    return f"#{row.id} {row.file_name} · {row.source} · {_when(row.started_at, tz)} · {fmt.count(row.open)} open"


def quarantine_section(viewer: Viewer) -> None:
    s = get_settings()
    counts = _quarantine_counts(viewer)
    if counts.empty or counts.open.sum() == 0:
        fixed = int(counts.fixed.sum()) if not counts.empty else 0
        st.success("Nothing in quarantine: every imported row was loaded"
                   + (f" ({fmt.count(fixed)} refused rows fixed by later imports)." if fixed else "."),
                   icon=":material/check:")
        return
    open_kinds = counts[counts.open > 0]
    tiles = st.container(horizontal=True)  # as many tiles a row as fit, whole labels on a laptop and a phone
    for row in open_kinds.itertuples():
        tiles.metric(TABLE_LABELS.get(row.kind, row.kind), f"{fmt.count(row.open)} open", border=True,
                     width="content", help=f"{fmt.count(row.fixed)} fixed by later imports")
    left, right = st.columns(2)
    with left:
        kind = st.selectbox("Table", [None, *open_kinds.kind], key="health_kind",
                            format_func=lambda k: "All tables" if k is None else TABLE_LABELS.get(k, k))
    choices = _open_imports(viewer, kind)
    labels = {int(r.id): _import_label(r, s.tz) for r in choices.itertuples()}
    with right:
        import_id = st.selectbox("Import", [None, *labels], key=f"health_import_{kind or 'all'}",
                                 format_func=lambda i: "All imports" if i is None else labels.get(i, f"#{i}"))
    reasons, page = _quarantine(viewer, kind, import_id)
    st.markdown("**Why rows were refused** (a row can have several reasons)")
    st.dataframe(pd.DataFrame({"Table": reasons.kind.map(TABLE_LABELS).fillna(reasons.kind), "Column": reasons.column,
                               "Problem": reasons.problem, "Rows": reasons.rows}), hide_index=True,
                 column_config={"Rows": st.column_config.ProgressColumn(
                     format=fmt.COUNT, min_value=0, max_value=int(reasons.rows.max()) if len(reasons) else 1)})
    st.markdown("**Open quarantined rows**")
    st.caption(f"Showing {fmt.count(len(page.rows))} of {fmt.count(page.total)} open rows"
               + ("; choose a table or an import to narrow them down." if page.total > len(page.rows) else "."))
    st.dataframe(pd.DataFrame({"Import": page.rows.import_id, "File": page.rows.file_name,
                               "Row": page.rows.row_number, "Key": page.rows.row_key,
                               "Reasons": page.rows.reasons, "Values": page.rows["values"]}),
                 hide_index=True, column_config={
                     "Import": st.column_config.NumberColumn(format="#%d"),
                     "Row": st.column_config.NumberColumn(format="%d",
                                                          help="As a spreadsheet numbers it: the header is row 1")})
    _download(viewer, import_id, choices)


def _download(viewer: Viewer, import_id: int | None, choices: pd.DataFrame) -> None:
    if import_id is None or import_id not in set(choices.id):
        st.caption("Choose an import to download its open rows in the file's own columns, fix them and import "
                   "the file again.")
        return
    file_name = choices.loc[choices.id == import_id, "file_name"].iloc[0]
    stem = file_name.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "import"

    def quarantine_csv() -> bytes:  # built only when the user clicks (deferred download)
        with data.engine().begin() as conn:
            record_export(conn, viewer, f"quarantine of import #{import_id}")
            return health.quarantine_csv(conn, viewer, import_id)

    st.download_button(f"Download open rows of {file_name} (CSV)", quarantine_csv,
                       file_name=f"{stem}-quarantined.csv", mime="text/csv", icon=":material/download:",
                       on_click="ignore", help="The file's own columns; formula-like cells are neutralised")


def _checks_table(checks: pd.DataFrame, problems_label: str) -> None:
    where = checks.detail.where(checks.detail == "", " (" + checks.detail + ")")  # which KPIs fail, most first
    st.dataframe(pd.DataFrame({  # the check, then its counts: a phone shows both without scrolling sideways
        "Check": checks.table.map(TABLE_LABELS).fillna(checks.table) + " · " + checks.column + ": " + checks.check
        + where,
        problems_label: checks.problems,
        "Share": [fmt.share_of(p, n) if n else "" for p, n in zip(checks.problems, checks.checked)],
        "Rows checked": checks.checked,
    }), hide_index=True, column_config={
        "Check": st.column_config.TextColumn(width="large"),
        problems_label: st.column_config.NumberColumn(format=fmt.COUNT),
        "Rows checked": st.column_config.NumberColumn(format=fmt.COUNT),
        "Share": st.column_config.TextColumn(help=f"{problems_label} of the rows checked"),
    })


def _not_range_checked(lifted: pd.DataFrame) -> str:
    """'Not range-checked: Campaign ROI (target 250.0 %) …' for KPIs whose target lifts their unit's range."""
    names = ", ".join(f"{name} (target {fmt.kpi(target, uom)})"
                      for name, uom, target in zip(lifted.name, lifted.unit_of_measure, lifted.target))
    return (f"Not range-checked: {names}. Their targets lie outside the usual range of their unit (a percentage "
            "aiming above 100 % is a ratio such as a return, not a share), so values beyond it are expected.")


def quality_section(viewer: Viewer) -> None:
    s = get_settings()
    checks, lifted, checked_at = _checks(viewer)
    invalid = checks[checks.kind == "invalid"]
    failing = invalid[invalid.problems > 0]
    if failing.empty:
        st.success("Every consistency check passes.", icon=":material/check:")
    else:
        n = int(failing.problems.sum())
        st.warning(f"{len(failing)} consistency check{'s' if len(failing) != 1 else ''} found {fmt.count(n)} "
                   f"problem row{'s' if n != 1 else ''}.", icon=":material/rule:")
    _checks_table(invalid, "Failing rows")
    if not lifted.empty:
        st.caption(md(_not_range_checked(lifted)))
    st.markdown("**Missing optional values** (information, not errors)")
    _checks_table(checks[checks.kind == "missing"], "Missing")
    st.caption(f"Checked at {_when(checked_at, s.tz)} ({s.timezone}); the checks read every row, so their result "
               f"is kept for {cache.lifetime('checks') / 60:g} min.")
    if st.button("Run the checks again", icon=":material/refresh:", key="health_recheck"):
        _checks.clear()  # a person's "compute again", not a write
        st.rerun()
