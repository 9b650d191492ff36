"""The operating-model cycle as read from the database: maturity assessments (Assess), the target operating model
promoted from a saved scenario (Design), its planned changes (Implement) and the done changes as chart annotations.

Every public function takes ``(conn, viewer, ...)`` and checks access first: every role may read. Saving an
assessment, promoting a scenario and updating a change are use cases in :mod:`dashboard.services.cycle`.

"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import Connection, select

from dashboard.db import maturity_assessments, planned_changes, target_models
from dashboard.domain.access import require_unit, require_viewer

if TYPE_CHECKING:  # the what-if model is imported where it is used: the overview reads annotations only
    pass

STATUSES = ("planned", "done", "dropped")
COMPONENTS = ("structure", "processes", "data_management", "technology")  # dashboard.domain.maturity.COMPONENTS
ASSESSMENT_COLUMNS = ["id", "function", "assessed_at", "author", *COMPONENTS, "note"]
CHANGE_COLUMNS = ["id", "target_model_id", "function", "from_placement", "to_placement", "from_share", "to_share",
                  "label", "units", "owner", "due_on", "status", "done_on", "predicted", "version", "updated_by",
                  "updated_at"]
ANNOTATION_COLUMNS = ["id", "date", "label", "units", "function"]


@dataclass(frozen=True)
class TargetModel:
    id: int
    scenario_id: int | None
    scenario_name: str
    inputs: dict
    results: dict | None
    status: str
    note: str | None
    promoted_by: str
    promoted_at: dt.datetime
    changes: pd.DataFrame


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or dt.datetime.now(dt.UTC)


# --- Assess ---------------------------------------------------------------------------------------------------


def assessments(conn: Connection, viewer, function: str | None = None) -> pd.DataFrame:
    """Past assessments, oldest first (all functions, or one); columns ASSESSMENT_COLUMNS + overall."""
    require_viewer(viewer)
    a = maturity_assessments.c
    stmt = select(*[a[c] for c in ASSESSMENT_COLUMNS]).order_by(a.assessed_at, a.id)
    if function is not None:
        stmt = stmt.where(a.function == function)
    frame = pd.DataFrame(conn.execute(stmt).all(), columns=ASSESSMENT_COLUMNS)
    frame["assessed_at"] = pd.to_datetime(frame["assessed_at"], utc=True)
    frame["note"] = frame["note"].astype(object).where(frame["note"].notna(), None)
    frame["overall"] = frame[list(COMPONENTS)].astype(float).mean(axis=1) if len(frame) else pd.Series(dtype=float)
    return frame


# --- Design ---------------------------------------------------------------------------------------------------


def _changes(conn: Connection, target_model_id: int) -> pd.DataFrame:
    p = planned_changes.c
    rows = conn.execute(select(*[p[c] for c in CHANGE_COLUMNS]).where(p.target_model_id == target_model_id)
                        .order_by(p.id)).all()
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _current_row(conn: Connection):
    t = target_models.c
    return conn.execute(select(target_models).where(t.status == "current")
                        .order_by(t.promoted_at.desc(), t.id.desc())).mappings().first()


def target_model(conn: Connection, viewer) -> TargetModel | None:
    """The current target operating model with its planned changes, or None before the first promotion."""
    require_viewer(viewer)
    row = _current_row(conn)
    if row is None:
        return None
    return TargetModel(**{k: row[k] for k in ("id", "scenario_id", "scenario_name", "inputs", "results", "status",
                                              "note", "promoted_by", "promoted_at")},
                       changes=_changes(conn, int(row["id"])))


def target_history(conn: Connection, viewer) -> pd.DataFrame:
    """Every target model ever promoted, newest first (id, scenario_name, status, promoted_by, promoted_at)."""
    require_viewer(viewer)
    t = target_models.c
    cols = ["id", "scenario_name", "status", "promoted_by", "promoted_at", "note"]
    rows = conn.execute(select(*[t[c] for c in cols]).order_by(t.promoted_at.desc(), t.id.desc())).all()
    return pd.DataFrame(rows, columns=cols)


# --- Implement ------------------------------------------------------------------------------------------------

def annotations(conn: Connection, viewer, start: dt.datetime | dt.date, end: dt.datetime | dt.date,
                unit: str | None = None) -> pd.DataFrame:
    """Done changes dated in [start, end] (by day), oldest first: id, date, label, units (list of spoke ids, empty =
    every spoke), function. With ``unit`` (a spoke's page) only the changes that touch it or every spoke, and
    only for a viewer who may open that spoke."""
    v = require_unit(viewer, unit) if unit is not None else require_viewer(viewer)
    del v
    first = start.date() if isinstance(start, dt.datetime) else start
    last = end.date() if isinstance(end, dt.datetime) else end
    p = planned_changes.c
    rows = conn.execute(select(p.id, p.done_on, p.label, p.units, p.function)
                        .where(p.status == "done", p.done_on >= first, p.done_on <= last)
                        .order_by(p.done_on, p.id)).all()
    out = []
    for r in rows:
        touched = [u.strip() for u in (r.units or "").split(",") if u.strip()]
        if unit is not None and touched and unit not in touched:
            continue
        out.append((int(r.id), r.done_on, r.label, touched, r.function))
    return pd.DataFrame(out, columns=ANNOTATION_COLUMNS)
