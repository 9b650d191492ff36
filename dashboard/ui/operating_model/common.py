"""What the Operating model page's tabs share: cached reads (:mod:`dashboard.ui.cache`, refreshed by any write of
the operating-model cycle), labels, dates in the organisation's zone, and the one-time message after a write."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from dashboard.domain import format as fmt
from dashboard.domain.access import Viewer
from dashboard.queries import cycle
from dashboard.settings import get_settings
from dashboard.ui import cache, data

PLACEMENT_LABELS = {"hub": "Hub", "spokes": "Spokes", "hybrid": "Hybrid"}
STATUS_LABELS = {"planned": "Planned", "done": "Done", "dropped": "Dropped"}
READ_ONLY = "Read-only: hub leads and admins {what}."
FLASH = "om"  # the message of the write that led to this run, shown once above the tabs (dashboard.ui.flash)


@cache.reads("cycle", max_entries=32)
def assessments(viewer: Viewer) -> pd.DataFrame:
    with data.engine().connect() as conn:
        return cycle.assessments(conn, viewer)


@cache.reads("cycle", max_entries=32)
def target(viewer: Viewer) -> cycle.TargetModel | None:
    with data.engine().connect() as conn:
        return cycle.target_model(conn, viewer)


def today() -> dt.date:
    """Today in the organisation's zone (what "done today" means to the person marking it)."""
    return dt.datetime.now(get_settings().tz).date()


def when(ts) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return fmt.moment(pd.Timestamp(ts), get_settings().tz)


def day(value) -> str:
    return "—" if value is None or pd.isna(value) else fmt.day(pd.Timestamp(value))


def unit_names(viewer: Viewer) -> dict[str, str]:
    units = data.units(viewer)
    return dict(zip(units.id, units.name))


def spokes_text(units, names: dict[str, str]) -> str:
    """A change's spokes by name ("All spokes" when it names none)."""
    listed = [u for u in (units.split(",") if isinstance(units, str) else units or []) if u]
    return ", ".join(names.get(u, u) for u in listed) if listed else "All spokes"
