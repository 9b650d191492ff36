"""The rollups recomputed from the base tables (:func:`rebuild_rollups`): the oracle.

Deliberately an independent implementation of what the incremental path does (integer microsecond arithmetic
in the database, no Python), so the tests can compare the incremental rollups with it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, and_, case, cast, delete, extract, func, literal, literal_column, select

from dashboard.db import flow_hourly, kpi_hourly, kpi_observations, mix_hourly, text_hourly, work_items
from dashboard.domain.stats import CYCLE_BIN_COLUMNS, CYCLE_BIN_EDGES_H
from dashboard.store.rollups import FLOW_KEY, FLOW_SUMS, MIX_KEY, TEXT_KEY, text_key
from dashboard.store.timestamps import US_PER_HOUR, US_PER_SECOND


def _epoch_us(conn: Connection, column):
    """SQL for a stored timestamp as integer µs since the epoch, exact on both engines."""
    if conn.dialect.name == "sqlite":
        # stored text 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from the first 19 characters, microseconds
        # from the text. (strftime on the full text would round to milliseconds: .9995 s -> the next second.)
        seconds = cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)
        return seconds * US_PER_SECOND + cast(func.substr(column, 21, 6), BigInteger)
    return cast(extract("epoch", column) * US_PER_SECOND, BigInteger)


def _rebuild_flow_hourly(conn: Connection) -> None:
    """flow_hourly from work_items in one INSERT ... SELECT: creations and resolutions grouped separately."""
    wi = work_items.c
    route = (wi.source_unit, wi.target_unit, wi.kind)
    created_hour = (_epoch_us(conn, wi.created_at) // US_PER_HOUR).label("hour")
    created = select(
        created_hour, *route, func.count().label("created"),
        func.sum(func.coalesce(wi.value, 0.0)).label("created_value"),
        *[literal(0).label(c) for c in ("resolved", "resolved_in_sla")], literal(0.0).label("cycle_sum_h"),
        *[literal(0).label(c) for c in CYCLE_BIN_COLUMNS],
    ).group_by(created_hour, *route)

    # Materialised so the per-row expressions (epoch µs, histogram bin) are computed once, not per reference.
    resolved_rows = select(
        (_epoch_us(conn, wi.resolved_at) // US_PER_HOUR).label("hour"), *route,
        case((wi.resolved_at <= wi.due_at, 1), else_=0).label("in_sla"),
        (_epoch_us(conn, wi.resolved_at) - _epoch_us(conn, wi.created_at)).label("cycle_us"),
    ).where(wi.resolved_at.is_not(None)).cte("resolved_rows").prefix_with("MATERIALIZED")
    r = resolved_rows.c
    # bin = number of edges <= cycle time; edges are whole microseconds, so integer comparison is exact
    edges_us = [int(round(e * US_PER_HOUR)) for e in CYCLE_BIN_EDGES_H]
    binned = select(
        r.hour, r.source_unit, r.target_unit, r.kind, r.in_sla, r.cycle_us,
        sum((case((r.cycle_us >= e, 1), else_=0) for e in edges_us), literal(0)).label("bin"),
    ).cte("binned_rows").prefix_with("MATERIALIZED")
    b = binned.c
    resolved = select(
        b.hour, b.source_unit, b.target_unit, b.kind, literal(0).label("created"), literal(0.0).label("created_value"),
        func.count().label("resolved"), func.sum(b.in_sla).label("resolved_in_sla"),
        func.sum(b.cycle_us / literal(float(US_PER_HOUR))).label("cycle_sum_h"),
        *[func.sum(case((b.bin == i, 1), else_=0)).label(name) for i, name in enumerate(CYCLE_BIN_COLUMNS)],
    ).group_by(b.hour, b.source_unit, b.target_unit, b.kind)

    both = created.union_all(resolved).subquery("events")
    e = both.c
    total = select(
        e.hour, e.source_unit, e.target_unit, e.kind, *[func.sum(e[c]).label(c) for c in FLOW_SUMS],
    ).group_by(e.hour, e.source_unit, e.target_unit, e.kind)
    conn.execute(flow_hourly.insert().from_select([*FLOW_KEY, *FLOW_SUMS], total))


def _rebuild_kpi_hourly(conn: Connection) -> None:
    """kpi_hourly from kpi_observations; the last value is joined back on the unique (kpi_id, ts)."""
    ko = kpi_observations.c
    hour = (_epoch_us(conn, ko.ts) // US_PER_HOUR).label("hour")
    grouped = select(
        ko.kpi_id, hour, func.count().label("n"), func.sum(ko.value).label("sum"), func.max(ko.ts).label("last_ts"),
    ).group_by(ko.kpi_id, hour).subquery("g")
    g = grouped.c
    last = kpi_observations.alias("latest")
    rows = select(g.kpi_id, g.hour, g.n, g.sum, g.last_ts, last.c.value).select_from(
        grouped.join(last, and_(last.c.kpi_id == g.kpi_id, last.c.ts == g.last_ts))
    )
    conn.execute(kpi_hourly.insert().from_select(["kpi_id", "hour", "n", "sum", "last_ts", "last_value"], rows))


def sql_text_key(conn: Connection, column):
    """SQL for :func:`dashboard.store.rollups.text_key` of a text column: PostgreSQL's own sha256; on SQLite the
    Python function, registered on this connection."""
    if conn.dialect.name == "postgresql":
        return func.encode(func.sha256(func.convert_to(column, literal_column("'UTF8'"))), literal_column("'hex'"))
    conn.connection.driver_connection.create_function("hubspoke_text_key", 1, text_key, deterministic=True)
    return func.hubspoke_text_key(column)


def _rebuild_item_counts(conn: Connection) -> None:
    """mix_hourly and text_hourly (empty) filled from work_items: items per hour of creation, route, kind, channel and topic;
    items with a non-empty text per hour of creation, target and wording."""
    wi = work_items.c
    hour = (_epoch_us(conn, wi.created_at) // US_PER_HOUR).label("hour")
    topic_key = case((wi.topic.is_(None), literal("")), else_=literal("#") + wi.topic).label("topic_key")
    mix = select(wi.target_unit, hour, wi.source_unit, wi.kind, wi.channel, topic_key, func.min(wi.topic),
                 func.count()).group_by(wi.target_unit, hour, wi.source_unit, wi.kind, wi.channel, wi.topic)
    conn.execute(mix_hourly.insert().from_select([*MIX_KEY, "topic", "created"], mix))
    texts = select(wi.target_unit, hour, sql_text_key(conn, wi.text), wi.text, func.count()).where(
        wi.text.is_not(None), wi.text != "").group_by(wi.target_unit, hour, wi.text)
    conn.execute(text_hourly.insert().from_select([*TEXT_KEY, "text", "created"], texts))


def rebuild_rollups(conn: Connection) -> dict[str, int]:
    """Recompute flow_hourly, kpi_hourly, mix_hourly and text_hourly from the base tables; returns the row counts
    written.

    Used after bulk imports that bypass the incremental path, to repair drift, and as the tests' oracle.
    The work happens in the database (two INSERT ... SELECT ... GROUP BY statements), so millions of rows
    never travel to Python; it runs in the caller's transaction, so readers see old or new, never half.
    """
    conn.execute(delete(flow_hourly))
    conn.execute(delete(kpi_hourly))
    conn.execute(delete(mix_hourly))
    conn.execute(delete(text_hourly))
    _rebuild_flow_hourly(conn)
    _rebuild_kpi_hourly(conn)
    _rebuild_item_counts(conn)
    return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (flow_hourly, kpi_hourly, mix_hourly, text_hourly)}
