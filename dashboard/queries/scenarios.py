"""Saved scenarios as read from the database: name, description, owner, versioned inputs and their results.

Anyone who may see scenarios can list and open them; saving, duplicating and deleting are use cases in
:mod:`dashboard.services.scenarios`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.db import scenarios
from dashboard.domain.access import require_viewer


@dataclass(frozen=True)
class Saved:
    id: int
    name: str
    description: str | None
    owner: str
    inputs_version: int
    inputs: dict
    results: dict | None
    created_at: dt.datetime
    updated_at: dt.datetime


def list_scenarios(conn: Connection, viewer) -> pd.DataFrame:
    require_viewer(viewer)
    s = scenarios.c
    rows = conn.execute(select(s.id, s.name, s.description, s.owner, s.updated_at).order_by(s.updated_at.desc())).mappings().all()
    return pd.DataFrame(rows, columns=["id", "name", "description", "owner", "updated_at"])


def get_scenario(conn: Connection, viewer, scenario_id: int) -> Saved | None:
    require_viewer(viewer)
    row = conn.execute(select(scenarios).where(scenarios.c.id == scenario_id)).mappings().first()
    return Saved(**row) if row else None
