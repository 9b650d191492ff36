"""The sections of a spoke's page: filters, KPI tiles and tree, the inbox with actions, flow, check panels."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd
import streamlit as st

from dashboard.charts import spoke_charts
from dashboard.db import hour_start, to_hour
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.export import to_safe_csv
from dashboard.domain.urlvalues import UrlValueError, page_number
from dashboard.domain.vocabulary import OPEN_STATUSES, Status
from dashboard.queries import spoke as spoke_queries
from dashboard.queries.kpis import kpi_trend, kpis_with_change
from dashboard.queries.overview import TREND_BUCKET_HOURS
from dashboard.services.exports import record_export
from dashboard.services.items import ACTIONS, DONE, STATUS_LABELS, ActionRefused, act
from dashboard.settings import get_settings
from dashboard.ui import cache, data, urlstate
from dashboard.ui.tables import kpi_table
from dashboard.ui.text import bullets, md
from dashboard.ui.widgets import kpi_tile, recent_changes

PAGE_SIZE = 50
EXPORT_CAP = 50_000
TILE_WIDTH = 220  # px: tiles wrap onto more rows in a narrow window instead of squeezing their figures
FIELD_WIDTH = 220  # px: the inbox filters wrap the same way
# Sort choices, each with its direction ("-": largest / latest first), kept in the URL as ?sort=-created_at
SORTS = {
    "due_at": "SLA due, soonest first", "-due_at": "SLA due, latest first",
    "-created_at": "Newest first", "created_at": "Oldest first",
    "-value": "Value, largest first", "value": "Value, smallest first",
    "status": "Status", "kind": "Kind", "channel": "Channel",
}
DEFAULT_SORT = "due_at"


@dataclass(frozen=True)
class SpokeContext:
    viewer: Viewer
    unit: str
    name: str
    window: str
    start: dt.datetime
    end: dt.datetime
    names: dict[str, str]


def context(viewer: Viewer, unit: str, names: dict[str, str], window: str) -> SpokeContext:
    start, end = data.current_bounds(window)
    return SpokeContext(viewer, unit, names[unit], window, start, end, names)



# Cached accessors are keyed by the window's name, not its bounds: bounds move with the clock and would
# make every key new. Within the lifetime a rerun reuses the result; after it, the bounds are recomputed.
@cache.reads("kpis", "units", max_entries=64)
def _kpis(viewer: Viewer, window: str) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return kpis_with_change(conn, viewer, *data.current_bounds(window))


@cache.reads("kpis", max_entries=64)
def _kpi_trend(viewer: Viewer, ids: tuple[str, ...], window: str):
    with data.engine().connect() as conn:
        return kpi_trend(conn, viewer, list(ids), *data.current_bounds(window), 24 if window == "30d" else 6)


def _bounded(f: spoke_queries.InboxFilter, window: str) -> spoke_queries.InboxFilter:
    start, end = data.current_bounds(window)
    return spoke_queries.InboxFilter(**{**f.__dict__, "start": start, "end": end})


@cache.reads("items", max_entries=64)
def _inbox_total(viewer: Viewer, unit: str, window: str, f: spoke_queries.InboxFilter) -> int:
    with data.engine().connect() as conn:
        return spoke_queries.inbox_count(conn, viewer, unit, _bounded(f, window))


@cache.reads("items", max_entries=64)
def _inbox_page(viewer: Viewer, unit: str, window: str, f: spoke_queries.InboxFilter) -> spoke_queries.InboxPage:
    with data.engine().connect() as conn:
        return spoke_queries.inbox(conn, viewer, unit, _bounded(f, window), dt.datetime.now(dt.UTC))


@cache.reads("items", lifetime="slow", max_entries=64)
def _options(viewer: Viewer, unit: str, since: dt.date) -> dict[str, list[str]]:
    with data.engine().connect() as conn:  # per day: the lists change rarely, and a day's drift is harmless
        return spoke_queries.inbox_options(conn, viewer, unit, dt.datetime.combine(since, dt.time(), dt.UTC))


@cache.reads("items", max_entries=64)
def _flow(viewer: Viewer, unit: str, window: str):
    start, end = data.current_bounds(window)
    bucket = TREND_BUCKET_HOURS[window]
    with data.engine().connect() as conn:
        return spoke_queries.flow_trend(conn, viewer, unit, start, end, bucket), spoke_queries.cycle_histogram(conn, viewer, unit, start, end)


def kpi_section(ctx: SpokeContext) -> pd.DataFrame:
    kpis = _kpis(ctx.viewer, ctx.window)
    own = kpis[kpis.unit_id == ctx.unit]
    if own.empty:
        st.info("This spoke has no KPIs yet. Add them to the `kpis` table (see docs/data-contract.md).")
        return own
    trend = _kpi_trend(ctx.viewer, tuple(own.id), ctx.window)
    changes = recent_changes(ctx.viewer, ctx.unit)
    with st.container(horizontal=True, gap="small", key="kpi_tiles"):
        for row in own.itertuples():
            with st.container(width=TILE_WIDTH, key=f"kpi_tile_{row.id}"):
                kpi_tile(row, trend, changes)
    with st.expander("KPI tree: this team alone and as part of the shared goal", expanded=False):
        st.plotly_chart(chart("kpi_tree", kpis, ctx.unit, ctx.names), config={"displayModeBar": False})
        kpi_table(own)
    return own


def _inbox_filters(ctx: SpokeContext, options: dict[str, list[str]]) -> spoke_queries.InboxFilter:
    statuses = [s.value for s in Status]
    default_status = [s.value for s in OPEN_STATUSES]
    urlstate.seed_many("channel", options["channels"])
    urlstate.seed_many("kind", options["kinds"])
    urlstate.seed_many("status", statuses, default_status)
    urlstate.seed_one("sort", list(SORTS), DEFAULT_SORT)
    with st.container(horizontal=True, gap="small", key="inbox_filters"):
        channels = st.multiselect("Channel", options["channels"], key="channel", placeholder="All channels",
                                  width=FIELD_WIDTH)
        kinds = st.multiselect("Kind", options["kinds"], key="kind", placeholder="All kinds", width=FIELD_WIDTH,
                               format_func=lambda k: k.replace("_", " "))
        sort = st.selectbox("Sort by", list(SORTS), key="sort", format_func=SORTS.get, width=FIELD_WIDTH)
    chosen_status = st.pills("Status", statuses, selection_mode="multi", key="status", format_func=STATUS_LABELS.get,
                             help="Items in any of the chosen statuses; none chosen: every status.")
    for key, value, default in (("channel", channels, None), ("kind", kinds, None), ("status", chosen_status, default_status),
                                ("sort", sort, DEFAULT_SORT)):
        urlstate.write(key, value, default)
    return spoke_queries.InboxFilter(start=ctx.start, end=ctx.end, channels=tuple(channels), kinds=tuple(kinds),
                         statuses=tuple(chosen_status), sort=sort.lstrip("-"), descending=sort.startswith("-"),
                         limit=PAGE_SIZE)


def _page_number(pages: int, view: tuple) -> int:
    """The inbox page, kept in the URL (?page=2) so a link reproduces the view. The pager is a new widget for
    each choice of filters, sort and window, so it starts on page 1 when they change (the old page number means
    nothing in the new list); the first pager of a visit starts on the link's page."""
    first = "inbox_view" not in st.session_state
    st.session_state["inbox_view"] = view
    raw = st.query_params.get("page", "")
    wanted = 1
    if first and raw:
        try:
            wanted = page_number(raw)
        except UrlValueError as exc:
            urlstate.bad_value(exc)
    if pages > 1:
        key = "inbox_page_" + hashlib.sha1(repr(view).encode()).hexdigest()[:10]
        page_no = st.pagination(pages, default=min(max(wanted, 1), pages), key=key)
    else:
        page_no = 1
    urlstate.write("page", str(page_no), "1")
    return page_no


def inbox_section(ctx: SpokeContext) -> None:
    now = dt.datetime.now(dt.UTC)
    options = _options(ctx.viewer, ctx.unit, ctx.start.date())
    f = _inbox_filters(ctx, options)
    unbounded = spoke_queries.InboxFilter(**{**f.__dict__, "start": None, "end": None})  # cache key: no clock in it
    total = _inbox_total(ctx.viewer, ctx.unit, ctx.window, unbounded)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = _page_number(pages, (ctx.unit, ctx.window, f.channels, f.kinds, f.statuses, f.sort, f.descending))
    page = _inbox_page(ctx.viewer, ctx.unit, ctx.window, spoke_queries.InboxFilter(**{**unbounded.__dict__, "offset": (page_no - 1) * PAGE_SIZE}))
    _flash()
    if page.rows.empty:
        st.info("No items match these filters in this window.", icon=":material/inbox:")
        return
    st.caption(f"{fmt.count(page.total)} item{'s' if page.total != 1 else ''} · page {fmt.count(page_no)} of {fmt.count(pages)} · "
               f"{PAGE_SIZE} per page · times in {get_settings().timezone}")
    # Actions apply to the rows the user saw when ticking them (id + version), not to whatever a fresh
    # query puts at the same positions after a colleague changed something.
    seen = st.session_state.get("inbox_seen", [])
    shown = list(zip(page.rows.id, page.rows.version.astype(int)))
    st.session_state["inbox_seen"] = shown
    view = inbox_view(page.rows, ctx.names, get_settings().tz)
    key = f"inbox-{page_no}-{st.session_state.get('inbox_generation', 0)}"
    event = st.dataframe(view, hide_index=True, on_select="rerun", selection_mode="multi-row", key=key,
                         column_config=_INBOX_COLUMNS)
    rows = list(event.selection.rows) if event else []
    basis = seen if seen and len(seen) > max(rows, default=-1) else shown
    _actions(ctx, [basis[i] for i in rows])
    _exports(ctx, f, now)


def _flash() -> None:
    """Show the outcome of the last action once (it ran before the rerun that refreshed the inbox)."""
    for kind, message in st.session_state.pop("inbox_flash", []):
        if kind == "ok":
            st.success(message, icon=":material/check:")
        elif kind == "same":
            st.info(message, icon=":material/info:")
        elif kind == "not_done":
            st.error(message, icon=":material/database_off:")
        else:
            st.warning(message, icon=":material/warning:")


_INBOX_COLUMNS = {
    "SLA due": st.column_config.DatetimeColumn(format=fmt.MOMENT),
    "Due in": st.column_config.NumberColumn(format=fmt.HOURS, help="Hours left to the SLA due time; negative: past it"),
    "Breached": st.column_config.CheckboxColumn(help="Resolved after, or still open past, the SLA due time"),
    "Age": st.column_config.NumberColumn(format=fmt.HOURS, help="Hours from creation to resolution, or to now"),
    "Created": st.column_config.DatetimeColumn(format=fmt.MOMENT),
    "Value": st.column_config.TextColumn(help="The item's value in euros; empty where it has none"),
}


def inbox_view(rows: pd.DataFrame, names: dict[str, str], tz) -> pd.DataFrame:
    """One page of the inbox as the table shows it: what to act on first (status, due, breach), then the rest;
    times in the organisation's zone; empty text where an item has none."""
    text = lambda col: rows[col].astype(object).where(rows[col].notna(), "")  # noqa: E731
    return pd.DataFrame({
        "Item": rows.id, "Status": rows.status.map(STATUS_LABELS).fillna(rows.status),
        "Kind": rows.kind.str.replace("_", " "), "Topic": text("topic").str.replace("_", " "), "Text": text("text"),
        "SLA due": rows.due_at.dt.tz_convert(tz), "Due in": rows.due_in_h.where(rows.resolved_at.isna()),
        "Breached": rows.breached.astype(bool), "Age": rows.age_h, "Created": rows.created_at.dt.tz_convert(tz),
        "From": rows.source_unit.map(names).fillna(rows.source_unit), "Channel": text("channel"),
        "Value": [fmt.money(v) if pd.notna(v) else "" for v in rows.value], "Last change": text("updated_by"), "Note": text("note"),
    })


def _actions(ctx: SpokeContext, selected: list[tuple[str, int]]) -> None:
    if not ctx.viewer.can_act_for(ctx.unit):  # executives look; the data layer refuses them too
        st.caption("Read-only: your role can see this inbox but not act on it.")
        return
    generation = st.session_state.get("inbox_generation", 0)  # cleared after a success, kept after a failure
    with st.form("item_actions", border=True):
        st.markdown(f"**Act on {fmt.count(len(selected))} selected item{'s' if len(selected) != 1 else ''}** "
                    "(tick rows in the table first)")
        a, b, c = st.columns([3, 5, 2], vertical_alignment="bottom")
        with a:
            action = st.selectbox("Action", list(ACTIONS), format_func=lambda k: ACTIONS[k][0],
                                  key=f"inbox_action_{generation}")
        with b:
            note = st.text_input("Note", placeholder="Required when handing back: why?", max_chars=500,
                                 key=f"inbox_note_{generation}")
        with c:
            submitted = st.form_submit_button("Apply", type="primary", width="stretch")
    if not submitted:
        return
    try:
        outcomes = cache.after(act, data.engine(), ctx.viewer, ctx.unit, selected, action, note=note)
    except ActionRefused as exc:
        st.warning(md(exc), icon=":material/info:")
        return
    except NotPermitted as exc:
        st.error(md(exc), icon=":material/block:")
        return
    done = [o for o in outcomes if o.ok]
    failed = [o for o in outcomes if o.failed]  # the database failed: these were not changed
    if failed and not done:  # nothing changed: the form keeps the selection and the note for another try
        st.error(not_done_message(action, failed) + "\n\nYour selection and note are still here, so you can try again.",
                 icon=":material/database_off:")
        return
    flash = []
    if done:
        flash.append(("ok", (f"{ACTIONS[action][0]}: {fmt.count(len(done))} item{'s' if len(done) != 1 else ''} "
                             f"updated. Done: {md(', '.join(o.item_id for o in done))}.")))
    flash += [("same" if o.unchanged else "warn", o.message) for o in outcomes if not o.ok and not o.failed]
    if failed:
        flash.append(("not_done", not_done_message(action, failed)))
    st.session_state["inbox_flash"] = flash
    st.session_state["inbox_generation"] = st.session_state.get("inbox_generation", 0) + 1  # clears the ticks
    st.session_state.pop("inbox_seen", None)
    st.rerun()


def not_done_message(action: str, failed: list) -> str:
    """Which items an action left as they were because the database failed, and why (shown literally)."""
    ids = ", ".join(o.item_id for o in failed)
    head = (f"Not {DONE[action]} ({fmt.count(len(failed))} item{'s' if len(failed) != 1 else ''}, "
            f"left as they were): {ids}.")
    return md(head) + "\n\n" + bullets(o.message for o in failed)


def _exports(ctx: SpokeContext, f: spoke_queries.InboxFilter, now: dt.datetime) -> None:
    s = get_settings()

    def inbox_csv() -> bytes:  # built only when the user clicks (deferred download)
        with data.engine().begin() as conn:
            rows = spoke_queries.export_rows(conn, ctx.viewer, ctx.unit, f, now, EXPORT_CAP)
            record_export(conn, ctx.viewer, f"{ctx.unit} inbox", f"{fmt.count(len(rows))} rows")
        return to_safe_csv(inbox_export(rows, ctx.names, s.tz, s.timezone))

    st.download_button("Download filtered inbox (CSV)", inbox_csv, file_name=f"{ctx.unit}-inbox.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore",
                       help=f"All items matching the filters (up to {fmt.count(EXPORT_CAP)}), times to the minute in "
                            f"{s.timezone}; formula-like cells are neutralised")


def inbox_export(rows: pd.DataFrame, names: dict[str, str], tz, zone_name: str) -> pd.DataFrame:
    """The inbox rows as the CSV carries them: times to the minute in the organisation's zone (named in the
    header), hours with one decimal, whole euros, yes/no for the breach flag, empty cells where there is nothing."""
    def moment(col: str) -> pd.Series:
        local = rows[col].dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M")
        return local.astype(object).where(rows[col].notna(), "")

    def text(col: str) -> pd.Series:
        return rows[col].astype(object).where(rows[col].notna(), "")

    at = f" ({zone_name})"
    return pd.DataFrame({
        "Item": rows.id, "Kind": rows.kind, "From": rows.source_unit.map(names).fillna(rows.source_unit),
        "Channel": text("channel"), "Topic": text("topic"), "Text": text("text"),
        "Status": rows.status.map(STATUS_LABELS).fillna(rows.status),
        "Created" + at: moment("created_at"), "SLA due" + at: moment("due_at"),
        "Accepted" + at: moment("accepted_at"), "Resolved" + at: moment("resolved_at"),
        "SLA (h)": rows.sla_hours.round(1), "Age (h)": rows.age_h.round(1),
        "Due in (h)": rows.due_in_h.where(rows.resolved_at.isna()).round(1),
        "Breached": rows.breached.map({True: "yes", False: "no"}),
        "Value (EUR)": pd.to_numeric(rows.value, errors="coerce").round().astype("Int64"), "Last change by": text("updated_by"),
        "Last change" + at: moment("updated_at"), "Note": text("note"),
    })


KPI_DECIMALS = {"count": 0, "": 0, "%": 1, "hours": 1}  # money: 0 (whole units of its currency); others: 1


def kpi_export_frame(own: pd.DataFrame) -> pd.DataFrame:
    """The spoke's KPIs as the CSV carries them: values and targets rounded to the decimals of their unit of
    measure (the tiles' look), the change vs the previous period in percent with one decimal."""
    def rounded(col: str) -> pd.Series:  # exact decimals (no float look such as 899767.0), still numbers
        out = []
        for v, u in zip(own[col], own.unit_of_measure):
            digits = 0 if u in fmt.CURRENCY_SYMBOLS else KPI_DECIMALS.get(u, 1)
            out.append(None if pd.isna(v) else Decimal(f"{round(float(v), digits) + 0.0:.{digits}f}"))
        return pd.Series(out, index=own.index, dtype=object)

    return pd.DataFrame({
        "KPI id": own.id, "KPI": own.name, "Unit of measure": own.unit_of_measure,
        "Value": rounded("value"), "Target for the window": rounded("window_target"),
        "Better when": own.direction, "On target": own.on_target.map({True: "yes", False: "no"}).fillna(""),
        "Previous period": rounded("previous"), "Change (%)": (own.change * 100).round(1),
    })


def kpi_export(ctx: SpokeContext, own: pd.DataFrame) -> None:
    if own.empty:
        return

    def kpi_csv() -> bytes:  # built (and audited) when clicked
        with data.engine().begin() as conn:
            record_export(conn, ctx.viewer, f"{ctx.unit} KPIs", f"{fmt.count(len(own))} rows")
        return to_safe_csv(kpi_export_frame(own))

    st.download_button("Download KPIs (CSV)", kpi_csv, file_name=f"{ctx.unit}-kpis.csv", mime="text/csv",
                       icon=":material/download:", on_click="ignore")


def flow_section(ctx: SpokeContext) -> None:
    trend, hist = _flow(ctx.viewer, ctx.unit, ctx.window)
    if trend.empty or trend.created.sum() == 0:
        st.info("No flow with the hub in this window.", icon=":material/swap_horiz:")
        return
    changes = window_changes(ctx)
    bucket = TREND_BUCKET_HOURS[ctx.window]
    # the window widened to whole buckets: the axis shows whole bars, and the figure cache keeps hitting
    # until the next bucket begins (the exact window moves with the clock)
    span = (hour_start(to_hour(ctx.start) // bucket * bucket), hour_start((to_hour(ctx.end) // bucket + 1) * bucket))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(chart("flow_volume", trend, changes, span, bucket), config={"displayModeBar": False})
        st.plotly_chart(chart("cycle_distribution", hist), config={"displayModeBar": False})
    with right:
        st.plotly_chart(chart("backlog_and_breaches", trend, changes, span, bucket), config={"displayModeBar": False})
    if changes:
        st.caption("Dashed lines: operating-model changes done in this window that touch this spoke — "
                   + "; ".join(f"{md(label)} ({fmt.day(day)})" for day, label, _units in changes) + ".")


@cache.computed(lifetime="figures", shared=True, max_entries=128)
def chart(builder: str, *args):
    """``dashboard.charts.spoke_charts.<builder>(*args)``, shared per (builder, data): building a plotly figure
    costs 10–40 ms and the page reruns on every click, while the data behind it changes once per cache period
    (st.plotly_chart only reads the figure; the data frames are hashed by value)."""
    return getattr(spoke_charts, builder)(*args)


def window_changes(ctx: SpokeContext) -> tuple:
    """The done operating-model changes touching this spoke (or every spoke) dated inside the window."""
    first, last = ctx.start.date(), ctx.end.date()
    return tuple(c for c in recent_changes(ctx.viewer, ctx.unit) if first <= c[0] <= last)
