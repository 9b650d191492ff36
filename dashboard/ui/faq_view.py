"""The Routing page's FAQ candidates tab: recurring questions among the mentions the hub routed, grouped by
similar wording (``dashboard.domain.faq``), with counts and examples, so the hub can publish answers.

Reads go through cached accessors (:mod:`dashboard.ui.cache`) keyed by the viewer and the window length,
never by the clock; the clustering is cached on its inputs too, so moving the slider back costs nothing.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain import faq
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.export import to_safe_csv
from dashboard.queries import faq as faq_queries
from dashboard.services.exports import record_export
from dashboard.ui import cache, data
from dashboard.ui.text import md

WINDOWS = {7: "7 days", 30: "30 days", 90: "90 days"}
EXPANDED = 5  # clusters shown with every wording
WORDINGS_SHOWN = 50  # wordings listed per cluster
ALL_SPOKES = ""
UNROUTED = "Hub triage (not routed yet)"
THRESHOLD_HELP = (
    "How alike two wordings must be to count as the same question: the cosine similarity of their words and "
    "word pairs, from 0 (no word in common) to 1 (the same words). Lower it for fewer, broader groups; raise it "
    "for more, tighter ones.")
HOW = f"""
- **Which mentions**: items of kind *mention* that the hub received and routed (or still holds in its triage
  queue), created in the window, with a text.
- **Normalised** text: accents and case folded, links, e-mail addresses, @handles, #tags, numbers and
  punctuation removed, common English words ("the", "my", "is" …) dropped.
- **Compared** by their words and word pairs (a pair found in one wording only is left out): the cosine
  similarity runs from 0 (nothing in common) to 1 (the same words). Every word counts the same: weighting
  rare words up would make a product name outweigh the question asked about it.
- **Grouped** most frequent wording first: each wording joins the group whose first (most frequent) wording
  it is most alike, when at least as alike as the threshold; otherwise it starts a group of its own. Then each
  wording moves to the group whose *average* it is most alike, until none moves: an average holds the
  question's words at full weight and each product name at a fraction, so "where to buy the X" ends up with
  the other "where to buy" questions, not with the other mentions of X.
- **Twice**: a word found in many of those groups is what people ask *about* (a product name), not the
  question; in a second round it counts less, by the number of groups holding it, and the grouping runs
  again. *Similarity* in the lists below is to the group's average in that round.
- **Label**: the group's three strongest words or word pairs shared by at least half its wordings.
  **Question**: at least half its items end with "?" or start with a question word (who, what, how, is,
  can, does …).
- Only the {faq.MAX_TEXTS:,} most frequent distinct wordings are grouped (the page says when more exist);
  shares are of every mention in the window.
"""


@cache.reads("items", max_entries=32)
def _mentions(viewer: Viewer, days: int) -> tuple[pd.DataFrame, int]:
    end = dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    with data.engine().connect() as conn:
        return faq_queries.mention_texts(conn, viewer, start, end), faq_queries.mention_count(conn, viewer, start, end)


@cache.reads("items", max_entries=64)  # the grouping of _mentions' result: cleared with it
def _candidates(viewer: Viewer, days: int, threshold: float, min_items: int) -> faq.FaqResult:
    texts, total = _mentions(viewer, days)
    return faq.candidates(texts, threshold=threshold, min_items=min_items, items_total=total)


@cache.reads("units", max_entries=16)
def _names(viewer: Viewer) -> dict[str, str]:
    units = data.units(viewer)
    names = dict(zip(units.id, units.name))
    names |= {u: UNROUTED for u in units.id[units.kind == "hub"]}
    return names


def render(viewer: Viewer) -> None:
    window_col, size_col = st.columns([3, 2], vertical_alignment="bottom")
    threshold_col = st.container()
    days = window_col.segmented_control("Mentions of the last", list(WINDOWS), format_func=WINDOWS.get, default=30,
                                        key="faq_days", required=True) or 30
    min_items = size_col.number_input("Min. items per candidate", min_value=1, max_value=100_000, value=2, step=1,
                                      key="faq_min_items", help="Groups with fewer items than this are not listed")
    threshold = threshold_col.slider("Similarity threshold", min_value=0.2, max_value=0.9, value=faq.DEFAULT_THRESHOLD,
                                     step=0.05, key="faq_threshold", help=THRESHOLD_HELP)
    try:
        with st.spinner("Grouping the mentions by wording…"):
            names = _names(viewer)
            result = _candidates(viewer, int(days), round(float(threshold), 2), int(min_items))
    except NotPermitted as exc:
        st.warning(f"Not available to you: {md(exc)}.", icon=":material/lock:")
        return
    except errors.DATABASE_ERRORS as exc:
        data.database_unavailable(exc)
    _show(viewer, result, names, int(days))


def _show(viewer: Viewer, result: faq.FaqResult, names: dict[str, str], days: int) -> None:
    if result.items_total == 0:
        whose = " routed to your spoke" if not viewer.sees_everything else ""
        st.info(f"No mentions{whose} in this window (the last {WINDOWS[days]}): choose a longer window.",
                icon=":material/info:")
        return
    st.caption(_coverage(result, days))
    clusters = result.clusters
    if clusters.empty:
        st.info(f"No group of similar mentions reaches {_n(result.min_items, 'item')}: lower the minimum or the "
                "similarity threshold.", icon=":material/info:")
        _method()
        return
    filter_col, questions_col = st.columns([3, 2], vertical_alignment="bottom")
    spokes = sorted({u for s in clusters.spokes for u, _ in s}, key=lambda u: names.get(u, u))
    spoke = filter_col.selectbox("Routed to", [ALL_SPOKES, *spokes], key="faq_spoke",
                                 format_func=lambda u: "Any spoke" if u == ALL_SPOKES else names.get(u, u),
                                 help="Only candidates with items that went to this spoke")
    questions_only = questions_col.toggle("Questions only", value=True, key="faq_questions",
                                          help="Hide groups that are mostly statements (complaints, praise)")
    shown = clusters
    if spoke:
        shown = shown[[any(u == spoke for u, _ in s) for s in shown.spokes]]
    if questions_only:
        shown = shown[shown.question.astype(bool)]
    hidden = len(clusters) - len(shown)
    if shown.empty:
        fix = "switch off “Questions only”" if questions_only else "choose another spoke"
        st.info(f"None of the {len(clusters):,} candidates matches these filters: {fix}.", icon=":material/info:")
        _method()
        return
    table = _table(shown, names, result.items_total)
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Rank": st.column_config.NumberColumn(format="%d", width="small",
                                              help="By items, among every candidate (the filters hide some)"),
        "Candidate": st.column_config.TextColumn(help="The group's strongest shared words and word pairs"),
        "Items": st.column_config.NumberColumn(format=fmt.COUNT, help="Mentions in this group"),
        "Share": st.column_config.TextColumn(help="Of every mention in the window"),
        "Wordings": st.column_config.NumberColumn(format=fmt.COUNT, help="Distinct texts in this group"),
        "Question": st.column_config.CheckboxColumn(help="At least half its items are questions"),
        "Spokes": st.column_config.TextColumn(help="Where its items were routed (the hub's triage: not yet)"),
        "Examples": st.column_config.TextColumn(width="large", help="Its three most frequent wordings"),
    })
    if hidden:
        st.caption(f"{_n(hidden, 'more candidate')} hidden by the filters above.")
    _download(viewer, table, days, result.items_total)
    for row in shown.head(EXPANDED).itertuples():
        _wordings(row, result.members, names)
    _method()


def _coverage(result: faq.FaqResult, days: int) -> str:
    text = (f"{_n(result.items_total, 'mention')} in the last {WINDOWS[days]}, "
            f"{_n(result.texts_total, 'distinct wording')}")
    if result.capped:
        text += (f"; the {result.texts_used:,} most frequent wordings are grouped "
                 f"({fmt.share_of(result.items_used, result.items_total)} of the mentions)")
    if result.unclusterable_items:
        text += f"; {fmt.count(result.unclusterable_items)} had no words left to compare (only a link, a number …)"
    return text + f". Threshold {result.threshold:.2f}, at least {_n(result.min_items, 'item')} per candidate."


def _n(count: int, noun: str) -> str:
    """'1 item', '2,000 items'."""
    return f"{fmt.count(count)} {noun}{'' if count == 1 else 's'}"


def _spokes_text(spokes, names: dict[str, str]) -> str:
    return " · ".join(f"{names.get(u, u)} {fmt.count(n)}" for u, n in spokes)


def _table(shown: pd.DataFrame, names: dict[str, str], items_total: int) -> pd.DataFrame:
    """The candidates as shown: the share as text that never reads 0 % beside a count of items."""
    return pd.DataFrame({
        "Rank": shown.cluster.astype(int),
        "Candidate": shown.label,
        "Items": shown["items"].astype(int),
        "Share": [fmt.share_of(n, items_total) for n in shown["items"]],
        "Wordings": shown.wordings.astype(int),
        "Question": shown.question.astype(bool),
        "Spokes": [_spokes_text(s, names) for s in shown.spokes],
        "Examples": [" | ".join(e) for e in shown.examples],
    })


def export_csv(table: pd.DataFrame, items_total: int) -> bytes:
    """The candidates table as CSV for a spreadsheet: the share as a number, in percent of the ``items_total``
    mentions with two decimals; formula-like text neutralised."""
    share = (table["Items"] / items_total * 100).round(2) if items_total else float("nan")
    return to_safe_csv(table.assign(Share=share).rename(columns={"Share": "Share (%)"}))


def _download(viewer: Viewer, table: pd.DataFrame, days: int, items_total: int) -> None:
    def faq_csv() -> bytes:  # built only when clicked; the export is recorded like every other
        try:
            with data.engine().begin() as conn:
                record_export(conn, viewer, f"FAQ candidates, last {WINDOWS[days]}")
        except errors.DATABASE_ERRORS:
            pass  # the rows are already in hand: the download still works, only its audit line is lost
        return export_csv(table, items_total)

    st.download_button("Download candidates (CSV)", faq_csv, file_name=f"faq-candidates-{days}d.csv",
                       mime="text/csv", icon=":material/download:", on_click="ignore",
                       help="The table above; formula-like cells are neutralised for spreadsheets")


def _wordings(row, members: pd.DataFrame, names: dict[str, str]) -> None:
    wordings = members[members.cluster == row.cluster]
    title = (f"{row.cluster}. {row.label} — {_n(row.items, 'item')} ({fmt.share_of(row.share, 1)} of the "
             f"mentions), {_n(row.wordings, 'wording')}")
    with st.expander(title):
        st.caption(f"Went to {_spokes_text(row.spokes, names)}.")
        st.dataframe(pd.DataFrame({
            "Wording": wordings.text.head(WORDINGS_SHOWN),
            "Items": wordings["items"].head(WORDINGS_SHOWN).astype(int),
            "Similarity": wordings.similarity.head(WORDINGS_SHOWN).astype(float),
        }), hide_index=True, width="stretch", column_config={
            "Items": st.column_config.NumberColumn(format=fmt.COUNT),
            "Similarity": st.column_config.NumberColumn(format="%.2f", help="Cosine similarity to the group's average"),
        }, key=f"faq_wordings_{row.cluster}")
        if len(wordings) > WORDINGS_SHOWN:
            st.caption(f"The {WORDINGS_SHOWN} most frequent of {len(wordings):,} wordings.")


def _method() -> None:
    with st.expander("How candidates are found"):
        st.markdown(HOW)
