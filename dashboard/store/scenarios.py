"""Writes to saved scenarios. The caller (:mod:`dashboard.services.scenarios`) checks the role and the owner,
validates the name and audits, in the caller's transaction."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, insert, update

from dashboard.db import scenarios


def insert_scenario(conn: Connection, *, name: str, owner: str, at: dt.datetime, description: str | None,
                    inputs: dict, inputs_version: int, results: dict | None) -> int:
    """A new scenario; returns its id. A name that exists already raises the database's IntegrityError (names are
    unique), which the caller turns into a sentence."""
    return int(conn.execute(insert(scenarios).values(
        name=name, owner=owner, created_at=at, description=description, inputs=inputs,
        inputs_version=inputs_version, results=results, updated_at=at)).inserted_primary_key[0])


def update_scenario(conn: Connection, scenario_id: int, *, at: dt.datetime, description: str | None, inputs: dict,
                    inputs_version: int, results: dict | None) -> None:
    """A stored scenario's description, inputs and results replaced (its name and owner stay)."""
    conn.execute(update(scenarios).where(scenarios.c.id == scenario_id).values(
        description=description, inputs=inputs, inputs_version=inputs_version, results=results, updated_at=at))


def delete_scenario(conn: Connection, scenario_id: int) -> None:
    conn.execute(delete(scenarios).where(scenarios.c.id == scenario_id))
