"""Calibration: the as-is scenario estimated from observed work items, and how well it reproduces them.

Every work item is one item of one *stream*: the function its kind belongs to (``KIND_TO_FUNCTION``), the
spoke at its non-hub end, its kind and its origin (where it was created: the hub or the spoke). Who *works*
it is who accepts and resolves it: the target unit. So a lead the hub sends to Sales is Sales' CRM work, a
content request Sales sends to the hub is the hub's content work, and the as-is central share of a function
is the share of its items the hub works.

Over a window of ``days`` ending ``now`` (docs/whatif.md, "Calibration from observed work items", gives every
formula):

1. Office hours per unit: the stored ones, else read from when the unit picked up and finished work against
   when work reached it (:func:`dashboard.whatif.calendar.infer_hours`), else the default (an assumption).
2. Per stream: demand = items created in the window ÷ days; the arrival rhythm by hour of the week (shrunk
   towards the kind's, then everything's, where items are few); central share; SLA.
3. Per stream and worker, from items *resolved* in the window, on the worker's staffed clock: the time from
   reaching the team to resolution (its mean and variance), the pick-up part (reached → accepted) and the
   in-progress part (accepted → resolved); the transfer (created → routed) of items that cross the boundary.
4. Per team (the hub's per function, each spoke's shared one): its FTE on modelled work is its headcount
   (the hub's split by in-progress load), or fewer if the in-progress load needs fewer at the occupancy; its
   occupancy is the occupancy cap, lowered where the queueing model at the cap would make items wait longer
   than they were seen to wait before pick-up. Work per item = in-progress time × the team's flow efficiency
   (occupancy × FTE × productive hours ÷ in-progress load, at most 1).
5. The pick-up delay queueing does not explain (response) = observed pick-up − modelled wait, never counted
   twice; the variability (CV) of response + in-progress = what is left of the observed variance after the
   modelled wait's.
6. Where a worker never worked a stream, its times are derived from the other worker's (× the typical
   specialist/generalist work ratio) and the team's usual response; with neither, typical defaults. Every
   stream says which (``source``).
7. Patience of social listening (abandonment): from aged items nobody picked up, where there are any;
   otherwise "none observed" or the default. Error rates: from hand-backs where there are enough,
   otherwise the typical defaults (an assumption).

``fit`` compares per spoke the observed median and mean lead time and SLA share (:mod:`observed`) with the
calibrated model's: the check that the as-is is believable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from dashboard.whatif.calibration.assemble import assemble
from dashboard.whatif.calibration.evidence import gather
from dashboard.whatif.calibration.fit import fit_occupancy, residuals
from dashboard.whatif.calibration.rates import AGED_DAYS, MIN_AGED, MIN_HANDBACKS, MIN_UNANSWERED
from dashboard.whatif.calibration.report import report
from dashboard.whatif.calibration.result import CalibrationError, CalibrationResult
from dashboard.whatif.calibration.rows import (
    ITEM_COLUMNS,
    MIN_WINDOW_DAYS,
    TIME_COLUMNS,
    UNIT_COLUMNS,
    check_frames,
    week_hours,
)
from dashboard.whatif.calibration.streams import MIN_ITEMS, PROFILE_PSEUDO_ITEMS
from dashboard.whatif.inputs import FunctionInputs, GlobalInputs

__all__ = [
    "AGED_DAYS", "CALIBRATION_DAYS", "ITEM_COLUMNS", "KIND_TO_FUNCTION", "MIN_AGED", "MIN_HANDBACKS", "MIN_ITEMS",
    "MIN_UNANSWERED", "MIN_WINDOW_DAYS", "PROFILE_PSEUDO_ITEMS", "TIME_COLUMNS", "UNIT_COLUMNS", "CalibrationError",
    "CalibrationResult", "calibrate", "week_hours",
]

KIND_TO_FUNCTION: dict[str, str] = {
    "lead": "crm_lead_management",
    "escalation": "crm_lead_management",
    "mention": "social_listening",
    "complaint": "social_listening",
    "report": "analytics_reporting",
    "insight": "analytics_reporting",
    "promotion_notice": "campaign_planning",
    "request": "content_production",
}
CALIBRATION_DAYS = 30  # days of observed work the as-is is calibrated from (pages, promotions, command line)


def calibrate(items: pd.DataFrame, units: pd.DataFrame, now: dt.datetime | None = None, *,
              days: float = CALIBRATION_DAYS, kind_to_function: Mapping[str, str] | None = None,
              globals_: GlobalInputs | None = None, default_timezone: str = "UTC") -> CalibrationResult:
    """Estimate the as-is scenario from observed work items and units (see the package docstring).

    ``now`` ends the observation window (default: the latest timestamp in the data); it must be timezone-aware.
    Raises :class:`CalibrationError` when the data cannot support any estimate (no items, no hub, no spokes,
    less than a day of history, missing columns); weaker gaps fall back to documented defaults and are listed
    in ``flags``.
    """
    check_frames(items, units)
    mapping = dict(KIND_TO_FUNCTION if kind_to_function is None else kind_to_function)
    flags: list[str] = []
    ev, g = gather(items, units, now, days, mapping, globals_ or GlobalInputs(), default_timezone, flags)
    missing: dict[str, FunctionInputs] = {}

    def build(flows: Mapping[str, float], occupancy: Mapping[str, float], response=None, variability=None):
        return assemble(ev, g, flows, occupancy, response, variability, flags, missing)

    occupancy, flows, fitted = fit_occupancy(ev, g.occupancy_cap, build, flags)
    response, variability = residuals(ev, fitted)
    inputs = build(flows, occupancy, response, variability)
    return report(ev, items, mapping, inputs, occupancy, flows, fitted, missing, flags)
