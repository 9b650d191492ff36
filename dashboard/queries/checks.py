"""Data for the cross-team check panels on spoke pages (each scoped to a unit the viewer may see)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, and_, func, literal, select, union_all

from dashboard.db import (
    campaigns,
    flow_hourly,
    hour_parts,
    hour_start,
    mix_hourly,
    promotions,
    text_hourly,
    to_hour,
    units,
    work_items,
)
from dashboard.domain.access import require_unit, require_viewer

PROMOTIONS_ENDED_DAYS = 7  # an ended promotion stays listed this long: its complaints often come afterwards
PANELS = {  # id -> title; a unit's `panels` column lists the ids its page shows
    "lead_capacity": "Marketing leads vs sales capacity",
    "promotions": f"Promotions: active, upcoming and ended in the last {PROMOTIONS_ENDED_DAYS} days",
    "channel_roi": "Spend, revenue and ROI by channel",
    "routed_topics": "Routed topics and recurring questions",
}


def unit_panels(conn: Connection, viewer, unit: str) -> list[str]:
    require_unit(viewer, unit)
    raw = conn.execute(select(units.c.panels).where(units.c.id == unit)).scalar_one_or_none() or ""
    return [p.strip() for p in raw.split(",") if p.strip() in PANELS]


def unit_row(conn: Connection, viewer, unit: str) -> dict | None:
    require_unit(viewer, unit)
    row = conn.execute(select(units).where(units.c.id == unit)).mappings().first()
    return dict(row) if row else None


def daily_arrivals(conn: Connection, viewer, unit: str, kinds: list[str], start: dt.datetime, end: dt.datetime,
                   tz: dt.tzinfo = dt.UTC) -> pd.Series:
    """Items of ``kinds`` routed to the unit per calendar day in ``tz``, for the complete days inside [start, end).

    A day cut by ``start``, by ``end`` (today, still filling up) or by the unit's first such item ever (its data
    began that day) is left out; a complete day without items counts as zero. Indexed by date, oldest first,
    consecutive; empty when no whole day fits. Counts come from the hourly rollup (hour of creation)."""
    require_unit(viewer, unit)
    fh = flow_hourly.c
    cond = and_(fh.target_unit == unit, fh.kind.in_(kinds), fh.created > 0)
    first = conn.execute(select(func.min(fh.hour)).where(cond)).scalar_one()
    if first is None:
        return pd.Series(dtype=float)
    begin = max(start, hour_start(int(first)))
    first_day = _local_midnight(begin, tz, up=True)
    stop_day = _local_midnight(end, tz, up=False)  # exclusive
    if first_day >= stop_day:
        return pd.Series(dtype=float)
    lo, hi = _at_midnight(first_day, tz), _at_midnight(stop_day, tz)
    rows = pd.DataFrame(  # hourly sums from SQL; days are formed in pandas (portable across engines and zones)
        conn.execute(
            select(fh.hour, func.sum(fh.created).label("n"))
            .where(cond, fh.hour >= to_hour(lo), fh.hour < to_hour(hi))
            .group_by(fh.hour)
        ).all(),
        columns=["hour", "n"],
    )
    days = [first_day + dt.timedelta(days=i) for i in range((stop_day - first_day).days)]
    if rows.empty:
        return pd.Series(0.0, index=days)
    rows["day"] = pd.to_datetime(rows.hour * 3600, unit="s", utc=True).dt.tz_convert(tz).dt.date
    return rows.groupby("day").n.sum().astype(float).reindex(days, fill_value=0.0)


def _local_midnight(moment: dt.datetime, tz: dt.tzinfo, *, up: bool) -> dt.date:
    """The date whose midnight in ``tz`` is the first at or after ``moment`` (``up``) or the last at or before it."""
    day = moment.astimezone(tz).date()
    if up and _at_midnight(day, tz) < moment:
        day += dt.timedelta(days=1)
    return day


def _at_midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tz).astimezone(dt.UTC)


def promotions_with_volume(conn: Connection, viewer, unit: str, now: dt.datetime, margin_days: int = 2) -> pd.DataFrame:
    """Promotions active, upcoming or ended within the last PROMOTIONS_ENDED_DAYS days (column ``state``), with
    complaints and mentions routed to the unit from ``margin_days`` before each promotion to ``margin_days``
    after it."""
    require_unit(viewer, unit)
    p = promotions.c
    promos = pd.DataFrame(
        conn.execute(select(p.id, p.name, p.channel, p.starts_at, p.ends_at, p.description)
                     .where(p.ends_at >= now - dt.timedelta(days=PROMOTIONS_ENDED_DAYS)).order_by(p.starts_at)).mappings().all(),
        columns=["id", "name", "channel", "starts_at", "ends_at", "description"],
    )
    wi = work_items.c
    counts = []
    for row in promos.itertuples():
        lo, hi = row.starts_at - dt.timedelta(days=margin_days), row.ends_at + dt.timedelta(days=margin_days)
        n = conn.execute(
            select(func.count()).where(wi.target_unit == unit, wi.kind.in_(["complaint", "mention"]),
                                       wi.created_at >= lo, wi.created_at < hi)
        ).scalar_one()
        counts.append(int(n))
    promos["complaints_and_mentions"] = counts
    promos["state"] = [
        "active" if s <= now < e else ("upcoming" if s > now else "ended") for s, e in zip(promos.starts_at, promos.ends_at)
    ]
    return promos


def campaign_frame(conn: Connection, viewer, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Campaign periods overlapping [start, end] (finance, hub leads and executives)."""
    require_viewer(viewer)
    c = campaigns.c
    return pd.DataFrame(
        conn.execute(select(c.channel, c.period_start, c.period_end, c.budget, c.spend, c.leads, c.conversions, c.revenue)
                     .where(c.period_end >= start, c.period_start <= end)).mappings().all(),
        columns=["channel", "period_start", "period_end", "budget", "spend", "leads", "conversions", "revenue"],
    )


RECURRING_COLUMNS = ["question", "items", "wordings", "examples"]


def routed_topics(conn: Connection, viewer, unit: str, start: dt.datetime, end: dt.datetime,
                  limit: int = 2_000) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Topics of items routed to the unit (counts by kind, most items first), and recurring questions: the texts
    routed to it, grouped by similar wording with the method of the Routing page's FAQ candidates
    (:func:`dashboard.domain.faq.candidates`), keeping the groups that are questions asked at least twice —
    columns question (the most frequent wording), items, wordings, examples (other wordings). ``limit``: the most frequent
    distinct texts read (the FAQ method's own cap). Counted from the hourly rollups ``mix_hourly`` and ``text_hourly``
    for the whole hours of the window and from the raw items of its partial first and last hours."""
    require_unit(viewer, unit)
    return _topic_counts(conn, unit, start, end), _recurring(_text_counts(conn, unit, start, end, limit), limit)


def _window_union(unit: str, start: dt.datetime, end: dt.datetime, rollup, rollup_columns: list, raw_columns: list,
                  *raw_conditions):
    """One subquery of (columns..., n): the rollup's rows of the window's whole hours (n = their count) and the
    raw items of its partial hours (n = 1 each); None when the window is empty."""
    wi = work_items.c
    hours, edges = hour_parts(start, end)
    parts = []
    if hours is not None:
        parts.append(select(*rollup_columns, rollup.c.created.label("n"))
                     .where(rollup.c.target_unit == unit, rollup.c.hour >= hours[0], rollup.c.hour <= hours[1]))
    for lo, hi in edges:
        parts.append(select(*raw_columns, literal(1).label("n"))
                     .where(wi.target_unit == unit, wi.created_at >= lo, wi.created_at < hi, *raw_conditions))
    return union_all(*parts).subquery("counted") if parts else None


def _topic_counts(conn: Connection, unit: str, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Items routed to the unit created in [start, end) per topic ("(no topic)" for none) and kind."""
    wi, mh = work_items.c, mix_hourly.c
    found = _window_union(unit, start, end, mix_hourly, [mh.topic, mh.kind], [wi.topic, wi.kind])
    rows = []
    if found is not None:
        t = found.c
        items = func.sum(t.n).label("items")
        rows = conn.execute(select(func.coalesce(t.topic, "(no topic)").label("topic"), t.kind, items)
                            .group_by(t.topic, t.kind)  # not by the coalesce: PostgreSQL binds its literal twice
                            .order_by(items.desc(), t.topic, t.kind)).all()
    return pd.DataFrame(rows, columns=["topic", "kind", "items"]).astype({"items": "int64"})


def _text_counts(conn: Connection, unit: str, start: dt.datetime, end: dt.datetime, limit: int) -> pd.DataFrame:
    """The ``limit`` most frequent non-empty texts of items routed to the unit created in [start, end), with how
    many items carry each (most first, then by text)."""
    wi, th = work_items.c, text_hourly.c
    found = _window_union(unit, start, end, text_hourly, [th.text], [wi.text], wi.text.is_not(None), wi.text != "")
    rows = []
    if found is not None:
        x = found.c
        items = func.sum(x.n).label("items")
        rows = conn.execute(select(x.text, items).group_by(x.text).order_by(items.desc(), x.text)
                            .limit(int(limit))).all()
    return pd.DataFrame(rows, columns=["text", "items"]).astype({"items": "int64"})


def _recurring(texts: pd.DataFrame, limit: int) -> pd.DataFrame:
    from dashboard.domain import faq

    if texts.empty:
        return pd.DataFrame(columns=RECURRING_COLUMNS)
    found = faq.candidates(texts, min_items=2, max_texts=int(limit)).clusters
    found = found[found.question.astype(bool)]
    recurring = pd.DataFrame({"question": found.leader, "items": found["items"], "wordings": found.wordings,
                              "examples": [" · ".join(e for e in ex if e != lead)
                                           for ex, lead in zip(found.examples, found.leader)]})
    return recurring.reset_index(drop=True)
