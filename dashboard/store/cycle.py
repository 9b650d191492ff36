"""Writes of the operating-model cycle: maturity assessments, target models and their planned changes.

The caller (:mod:`dashboard.services.cycle`) checks the role, validates and audits, in the caller's transaction;
the demo loader writes a whole cycle as generated (:func:`insert_assessments`, :func:`insert_planned_change_rows`).
A planned change carries a version: :func:`update_planned_change` only matches the version the editor read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, insert, select, update

from dashboard.db import maturity_assessments, planned_changes, target_models


def insert_assessment(conn: Connection, *, function: str, at: dt.datetime, author: str, note: str | None,
                      scores: Mapping[str, int]) -> int:
    """One maturity assessment (the four component scores by column name); returns its id."""
    return int(conn.execute(insert(maturity_assessments).values(
        function=function, assessed_at=at, author=author, note=note, **scores,
    )).inserted_primary_key[0])


def insert_assessments(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Maturity assessments as given (the columns of ``maturity_assessments`` by name), in one statement: a
    history loaded whole. Returns the number of rows."""
    records = [dict(r) for r in rows]
    if records:
        conn.execute(insert(maturity_assessments), records)
    return len(records)


def supersede_target_models(conn: Connection, *, by: str, at: dt.datetime) -> list[int]:
    """Every current target model superseded and its changes still planned dropped (version bumped); returns the
    superseded ids. All of them, so two promotions at once cannot leave two current targets behind."""
    current = select(target_models.c.id).where(target_models.c.status == "current")
    superseded = [int(i) for i in conn.execute(current).scalars()]
    if superseded:
        conn.execute(update(target_models).where(target_models.c.id.in_(superseded)).values(status="superseded"))
        p = planned_changes.c
        conn.execute(update(planned_changes).where(p.target_model_id.in_(superseded), p.status == "planned")
                     .values(status="dropped", version=p.version + 1, updated_by=by, updated_at=at))
    return superseded


def insert_target_model(conn: Connection, **values: Any) -> int:
    """A new target model (the columns of ``target_models`` by name); returns its id."""
    return int(conn.execute(insert(target_models).values(**values)).inserted_primary_key[0])


def insert_planned_changes(conn: Connection, target_model_id: int, changes: Iterable[Mapping[str, Any]], *, by: str,
                           at: dt.datetime) -> None:
    """The target model's planned changes, each at version 1 with status ``planned`` (owner, due date, function,
    shares … from each mapping)."""
    for change in changes:
        conn.execute(insert(planned_changes).values(
            target_model_id=target_model_id, status="planned", version=1, updated_by=by, updated_at=at, **change,
        ))


def insert_planned_change_rows(conn: Connection, target_model_id: int, rows: Iterable[Mapping[str, Any]]) -> int:
    """The target model's planned changes as given, status, version, who and when included (a done change too), in
    one statement: a cycle loaded whole. Returns the number of rows."""
    records = [dict(r) | {"target_model_id": target_model_id} for r in rows]
    if records:
        conn.execute(insert(planned_changes), records)
    return len(records)


def update_planned_change(conn: Connection, change_id: int, version: int, *, by: str, at: dt.datetime,
                          changes: Mapping[str, Any]) -> bool:
    """The given columns of a planned change written and its version bumped, if it is still at ``version``;
    returns whether it was (False: a concurrent writer got there between the caller's read and this write)."""
    p = planned_changes.c
    result = conn.execute(update(planned_changes).where(p.id == change_id, p.version == version)
                          .values(version=p.version + 1, updated_by=by, updated_at=at, **changes))
    return result.rowcount == 1
