"""Writes to routing rule sets: the one shared draft (created, saved, discarded, published), the archive, and
rule sets loaded whole (:func:`insert_rule_sets`, the demo's history).

Every change to the draft carries the version the editor read (``WHERE id = :id AND status = 'draft' AND version
= :version``) and reports whether it matched, so of two editors holding the same version exactly one wins; the
caller (:mod:`dashboard.services.routing`) explains a miss and audits a hit, in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from dashboard.db import routing_rule_sets


def insert_routing_draft(conn: Connection, *, rules: Any, name: str, based_on: int | None, by: str,
                         at: dt.datetime) -> int:
    """A new draft at version 1; returns its id."""
    return int(conn.execute(insert(routing_rule_sets).values(
        status="draft", name=name, rules=rules, based_on=based_on, version=1,
        created_by=by, created_at=at, updated_by=by, updated_at=at)).inserted_primary_key[0])


def save_routing_draft(conn: Connection, draft_id: int, version: int | None, *, rules: Any, name: str | None,
                       by: str, at: dt.datetime) -> bool:
    """The draft's rules (and name, when given) replaced and its version bumped, if it is still the draft at
    ``version``; returns whether it was."""
    r = routing_rule_sets.c
    values = dict(rules=rules, version=r.version + 1, updated_by=by, updated_at=at)
    if name:
        values["name"] = name
    done = conn.execute(update(routing_rule_sets).where(r.id == draft_id, r.status == "draft", r.version == version)
                        .values(**values)).rowcount
    return done == 1


def delete_routing_draft(conn: Connection, draft_id: int, version: int) -> bool:
    """The draft deleted if it is still the draft at ``version``; returns whether it was."""
    r = routing_rule_sets.c
    done = conn.execute(delete(routing_rule_sets).where(r.id == draft_id, r.status == "draft", r.version == version)
                        ).rowcount
    return done == 1


def publish_routing_draft(conn: Connection, draft_id: int, version: int, *, note: str, by: str,
                          at: dt.datetime) -> bool:
    """The draft made the active set if it is still the draft at ``version``; returns whether it was. The set
    active before stays active until :func:`archive_active_rule_sets`."""
    r = routing_rule_sets.c
    done = conn.execute(update(routing_rule_sets).where(r.id == draft_id, r.status == "draft", r.version == version)
                        .values(status="active", note=note, published_by=by, published_at=at,
                                updated_by=by, updated_at=at)).rowcount
    return done == 1


def archive_active_rule_sets(conn: Connection, *, keep: int) -> list[int]:
    """Every active set but ``keep`` (the one just published) archived; returns their ids."""
    r = routing_rule_sets.c
    archived = list(conn.execute(select(r.id).where(r.status == "active", r.id != keep)).scalars())
    if archived:
        conn.execute(update(routing_rule_sets).where(r.id.in_(archived)).values(status="archived"))
    return archived


def insert_rule_sets(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> list[int]:
    """Rule sets as given (status, rules, version, who and when from each row), in order, each based on the one
    inserted before it (the first on none; a ``based_on`` in a row is overridden); returns their ids."""
    ids: list[int] = []
    for row in rows:
        values = dict(row) | {"based_on": ids[-1] if ids else None}
        ids.append(int(conn.execute(insert(routing_rule_sets).values(**values)).inserted_primary_key[0]))
    return ids
