"""Driver-level bulk writes: rows as column arrays straight to the driver, bypassing SQLAlchemy's
per-value processing (``executemany`` on SQLite, ``COPY`` on PostgreSQL), a big SQLite page cache while a big
batch is written, and indexes built once after a big load into an empty table (:func:`deferred_indexes`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, func, literal, select
from sqlalchemy.exc import DBAPIError

DEFAULT_BATCH = 50_000  # rows per driver call: big enough to amortise overhead, small enough for memory
BULK_CACHE_ROWS = 20_000  # from this many rows a bulk write gets a big SQLite page cache ...
BULK_CACHE_KIB = -262_144  # ... of 256 MiB (negative = KiB in SQLite's PRAGMA cache_size)


def driver_null(dialect: str) -> Any:
    """What a missing value is sent as. SQLite stores a bound NaN as NULL, and binding a float is several
    times cheaper in Python's sqlite3 than binding None (which goes through the adapter protocol); COPY
    into PostgreSQL needs a real None."""
    return float("nan") if dialect == "sqlite" else None


def with_null(values: np.ndarray, null: Any) -> np.ndarray:
    """A column with every missing entry (None in text columns, NaN in numbers) replaced by ``null``."""
    missing = np.isnan(values) if values.dtype.kind == "f" else np.equal(values, None)
    if not missing.any():
        return values
    out = values.astype(object, copy=True)
    out[missing] = null
    return out


def driver_rows(cols: Sequence[np.ndarray]) -> Iterable[tuple]:
    """Row tuples streamed from column lists (``tolist`` converts numpy scalars to Python in C)."""
    return zip(*[c.tolist() for c in cols])


@contextmanager
def bulk_cache(conn: Connection, rows: int) -> Iterator[None]:
    """On SQLite, a large page cache while a big batch is written, then the connection's old setting.

    Every work item updates six indexes; with SQLite's default 2 MB cache a million-row load spends most of
    its time re-reading index pages. The setting is per connection, so it is put back for the pool.
    """
    if conn.dialect.name != "sqlite" or rows < BULK_CACHE_ROWS:
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {BULK_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


BULK_INDEX_ROWS = 50_000  # from this many rows, a load into an EMPTY table builds its indexes afterwards


@contextmanager
def deferred_indexes(conn: Connection, table: Table, rows: int) -> Iterator[bool]:
    """Load ``rows`` into ``table`` with its secondary indexes (and, on PostgreSQL, its foreign keys) built
    once at the end instead of row by row; yields whether it did.

    Only for a big load into an empty table (a demo or a first import): building an index over sorted
    data once is several times cheaper than maintaining it per row, and re-adding a foreign key checks all
    rows in one join instead of one trigger query per row. Everything happens in the caller's transaction,
    so a failed load leaves the indexes as they were. On PostgreSQL, readers of the table wait for the
    load to commit (DROP INDEX takes an exclusive lock) instead of seeing the emptied table. Primary keys
    and unique constraints stay: the load still refuses duplicates.
    """
    with _deferred(conn, table, rows, 1) as done:
        yield done


@contextmanager
def deferred_indexes_when_larger(conn: Connection, table: Table, rows: int) -> Iterator[bool]:
    """:func:`deferred_indexes`, and on SQLite also for a load of more rows than ``table`` holds (a file larger
    than the table): rebuilding the indexes over all rows once is then cheaper than maintaining them for every
    new one. SQLite's readers keep reading their snapshot meanwhile, so nobody waits; on PostgreSQL dropping an
    index would lock the table's readers out for the whole load, so there only an empty table is loaded so."""
    with _deferred(conn, table, rows, rows if conn.dialect.name == "sqlite" else 1) as done:
        yield done


@contextmanager
def _deferred(conn: Connection, table: Table, rows: int, table_rows_below: int) -> Iterator[bool]:
    if rows < BULK_INDEX_ROWS or _holds_rows(conn, table, table_rows_below):
        yield False
        return
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        # Python's sqlite3 opens its transaction at the first INSERT/UPDATE/DELETE: a DROP INDEX before that
        # would commit on its own and survive a rollback. Callers write something first (the demo empties the
        # tables); otherwise the indexes are simply maintained row by row.
        yield False
        return
    from sqlalchemy.schema import AddConstraint, DropConstraint

    indexes = sorted(table.indexes, key=lambda ix: ix.name)
    fks = sorted(table.foreign_key_constraints, key=lambda fk: fk.name) if conn.dialect.name == "postgresql" else []
    for fk in fks:
        conn.execute(DropConstraint(fk))
    for ix in indexes:
        ix.drop(conn)
    yield True
    for ix in indexes:
        ix.create(conn)
    for fk in fks:
        conn.execute(AddConstraint(fk))


def _holds_rows(conn: Connection, table: Table, at_least: int) -> bool:
    """Whether ``table`` holds at least ``at_least`` rows (counts no further than that)."""
    some = select(literal(1).label("one")).select_from(table).limit(at_least).subquery()
    return conn.execute(select(func.count()).select_from(some)).scalar_one() >= at_least


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """PostgreSQL COPY on the connection's own transaction (far faster than INSERT for bulk loads)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = f"COPY {quote(table.name)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    except conn.dialect.dbapi.Error as exc:  # the same exception types as statements through SQLAlchemy
        raise DBAPIError.instance(sql, None, exc, conn.dialect.dbapi.Error) from exc


def _copy_columns(conn: Connection, table: Table, columns: Sequence[str], cols: Sequence[np.ndarray]) -> None:
    """PostgreSQL COPY of column arrays (driver form: text timestamps, None for missing) as CSV written by
    Arrow in C: formatting rows one by one in Python costs as much as the server's whole load."""
    import pyarrow as pa

    copy_arrow(conn, table.name, pa.table({name: pa.array(values, from_pandas=True) for name, values in zip(columns, cols)}))


def arrow_csv(data: Any) -> Any:
    """An Arrow table as COPY's CSV, written by Arrow in C. Arrow quotes every string and leaves nulls
    unquoted-empty, which is exactly how COPY's CSV format tells an empty string ("") from NULL; timestamps
    without a zone are written as ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    buffer = pa.BufferOutputStream()
    pa_csv.write_csv(data, buffer, pa_csv.WriteOptions(include_header=False, batch_size=65_536))
    return buffer.getvalue()


def copy_arrow(conn: Connection, table_name: str, data: Any, csv: Any = None) -> None:
    """PostgreSQL COPY of an Arrow table (its column names are the target's) as CSV (:func:`arrow_csv`;
    ``csv``: already rendered)."""
    quote = conn.dialect.identifier_preparer.quote
    sql = (f"COPY {quote(table_name)} ({', '.join(quote(c) for c in data.column_names)}) FROM STDIN "
           "WITH (FORMAT csv)")
    raw = conn.connection.driver_connection
    payload = memoryview(csv if csv is not None else arrow_csv(data))
    try:
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for start in range(0, len(payload), 1 << 20):
                copy.write(payload[start:start + (1 << 20)])
    except conn.dialect.dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, conn.dialect.dbapi.Error) from exc


def bulk_write(conn: Connection, table: Table, columns: Sequence[str], cols: Sequence[np.ndarray]) -> None:
    """Rows given as column arrays (already in driver form) in one executemany / COPY."""
    if conn.dialect.name == "postgresql":
        _copy_columns(conn, table, columns, cols)
        return
    rows = driver_rows(cols)
    sql = str(table.insert().compile(dialect=conn.dialect, column_keys=list(columns)))
    conn.exec_driver_sql(sql, list(rows))
