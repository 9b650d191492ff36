"""What a calibration returns, the as-is scenario with the evidence behind it, and what it raises when the
data cannot support one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard.domain.refusals import Refused
from dashboard.whatif.inputs import FunctionInputs, InputError, ScenarioInputs, function_label


class CalibrationError(Refused):
    """The observed data cannot support an as-is scenario (the message says why and what is needed)."""


@dataclass(frozen=True)
class CalibrationResult:
    """The calibrated as-is scenario and the evidence behind it.

    - ``inputs``: as-is :class:`ScenarioInputs` (start the Scenarios page from these).
    - ``fit``: per spoke (index ``spoke``): ``name``, ``items_resolved``, observed and modelled median and mean
      lead time with their relative errors, observed and modelled SLA share with the difference in points.
    - ``function_fit``: the same per function.
    - ``estimates``: per stream and worker: items, the observed times, what the model uses, and ``source``.
    - ``calendars``: per unit: office hours, time zone, where they come from, hours a week.
    - ``pools``: per team: headcount used, FTE on modelled work, occupancy, flow efficiency, observed pick-up
      and modelled wait.
    - ``missing_functions``: functions without observed items, in the typical version :meth:`with_missing` adds.
    - ``flags``: what was assumed or dropped, in words.
    """

    inputs: ScenarioInputs
    fit: pd.DataFrame
    function_fit: pd.DataFrame
    estimates: pd.DataFrame
    calendars: pd.DataFrame
    pools: pd.DataFrame
    window_days: float
    start: dt.datetime
    end: dt.datetime
    items_used: int
    missing_functions: dict[str, FunctionInputs] = field(default_factory=dict)
    flags: tuple[str, ...] = field(default_factory=tuple)

    def with_missing(self, function: str) -> ScenarioInputs:
        """The as-is with a function that had no observed items added in its typical version (an assumption)."""
        if function not in self.missing_functions:
            raise InputError([f"{function_label(function)} is not missing from the as-is"])
        return self.inputs.model_copy(update={"functions": {**self.inputs.functions,
                                                            function: self.missing_functions[function]}})

    @property
    def max_error(self) -> float:
        """The largest of the per-spoke relative errors of median and mean lead time (0.1 = 10 %)."""
        fit = self.fit[self.fit.items_resolved > 0]
        if fit.empty:
            return float("nan")
        return float(np.nanmax(np.abs(fit[["median_error", "mean_error"]].to_numpy())))

    @property
    def max_sla_points(self) -> float:
        fit = self.fit[self.fit.items_resolved > 0]
        return float(np.nanmax(np.abs(fit["sla_error_pts"].to_numpy()))) if not fit.empty else float("nan")
