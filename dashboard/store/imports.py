"""The file import's log and quarantine: the ``imports`` row of each attempt and the rows it refused.

The caller (:mod:`dashboard.services.imports`) runs an import as one transaction: :func:`start_import` writes its
log row (status ``running``), :func:`quarantine_rows` the refused rows, :func:`mark_quarantine_fixed` the open
rows of earlier imports whose key this one loaded, and :func:`finish_import` the counts and status; a rollback
takes them all back with the data. A failed attempt is recorded afterwards with :func:`record_failed_import`,
in a transaction of its own. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, insert, update

from dashboard.db import imports, quarantine
from dashboard.store.sql import IN_CHUNK

_NO_ROWS = dict(rows_read=0, inserted=0, updated=0, unchanged=0, quarantined=0)


def start_import(conn: Connection, *, source: str, file_name: str, kind: str, content_hash: str, size_bytes: int,
                 started_at: dt.datetime, imported_by: str) -> int:
    """The log row of an import that is starting (status ``running``, no rows yet); returns its id."""
    return conn.execute(insert(imports).values(
        source=source, file_name=file_name, kind=kind, content_hash=content_hash, size_bytes=size_bytes,
        started_at=started_at, status="running", imported_by=imported_by, **_NO_ROWS,
    ).returning(imports.c.id)).scalar_one()


def finish_import(conn: Connection, import_id: int, *, status: str, finished_at: dt.datetime, rows_read: int,
                  inserted: int, updated: int, unchanged: int, quarantined: int, message: str | None) -> None:
    """An import's counts, status (``ok`` or ``quarantined``), end time and message (its warnings)."""
    conn.execute(update(imports).where(imports.c.id == import_id).values(
        status=status, finished_at=finished_at, rows_read=rows_read, inserted=inserted, updated=updated,
        unchanged=unchanged, quarantined=quarantined, message=message,
    ))


def record_failed_import(conn: Connection, *, source: str, file_name: str, kind: str, content_hash: str,
                         size_bytes: int, started_at: dt.datetime, finished_at: dt.datetime, message: str,
                         imported_by: str) -> None:
    """The log row of an attempt that wrote nothing (status ``failed``, no rows), for the data-health page."""
    conn.execute(insert(imports).values(
        source=source, file_name=file_name, kind=kind, content_hash=content_hash, size_bytes=size_bytes,
        started_at=started_at, finished_at=finished_at, status="failed", message=message, imported_by=imported_by,
        **_NO_ROWS,
    ))


def quarantine_rows(conn: Connection, records: Sequence[Mapping[str, Any]]) -> int:
    """Refused rows (``import_id``, ``kind``, ``row_number``, ``row_key``, ``raw``, ``reasons``, ``status``);
    returns how many."""
    if records:
        conn.execute(insert(quarantine), list(records))
    return len(records)


def mark_quarantine_fixed(conn: Connection, kind: str, keys: Collection[str], import_id: int) -> None:
    """Open quarantined rows of ``kind`` from other imports whose key ``import_id`` has now loaded: fixed by it."""
    q = quarantine.c
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start:start + IN_CHUNK]
        conn.execute(update(quarantine).where(q.kind == kind, q.status == "open", q.import_id != import_id,
                                              q.row_key.in_(chunk)).values(status="fixed", fixed_by_import=import_id))
