"""SQL pieces several writers share: the dialect's INSERT (which has ON CONFLICT) and ``column IN (values)``
for any number of values.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, func, literal, select
from sqlalchemy import column as sa_column
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.store.results import StoreError

IN_CHUNK = 500  # values per IN (...) list; far below SQLite's variable limit


def dialect_insert(conn: Connection, table: Table):
    """The dialect's INSERT construct, which (unlike the generic one) supports ON CONFLICT."""
    name = conn.dialect.name
    if name == "sqlite":
        return sqlite_insert(table)
    if name == "postgresql":
        return pg_insert(table)
    raise StoreError(f"unsupported database dialect {name!r}: use SQLite or PostgreSQL")


def where_key_in(conn: Connection, column, values: list[Any]):
    """``column IN (values)`` as one bound parameter, however many values: a JSON array unpacked by
    SQLite's json_each, an array compared with ANY on PostgreSQL (no statement per 500 values)."""
    if conn.dialect.name == "sqlite":
        import json

        inner = select(sa_column("value")).select_from(func.json_each(literal(json.dumps(values))))
        return column.in_(inner)
    from sqlalchemy import ARRAY, String, any_

    return column == any_(literal(values, type_=ARRAY(String)))
