"""The maturity self-assessment: guidance for every level, validation of a score set, overall and trend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.domain import maturity
from dashboard.whatif.inputs import FUNCTIONS

GOOD = dict(function="content_production", structure=2, processes=3, data_management=1, technology=4)


def test_guidance_for_every_component_and_level():
    assert set(maturity.GUIDANCE) == set(maturity.COMPONENTS)
    for component, levels in maturity.GUIDANCE.items():
        assert sorted(levels) == [1, 2, 3, 4, 5]
        assert all(10 < len(text) < 120 for text in levels.values()), component
        assert len(set(levels.values())) == 5
    assert maturity.level_text("structure", 1).startswith("1 · Ad hoc — No one owns the function")


def test_valid_scores_and_overall():
    scores = maturity.validate_scores({**GOOD, "note": "  "})
    assert scores.note is None
    assert scores.values == {"structure": 2, "processes": 3, "data_management": 1, "technology": 4}
    assert scores.overall == 2.5
    assert set(maturity.function_options()) == set(FUNCTIONS)


@pytest.mark.parametrize("change, problem", [
    ({"structure": 0}, "Structure: a whole number from 1 to 5 (got 0)"),
    ({"technology": 6}, "Technology: a whole number from 1 to 5 (got 6)"),
    ({"processes": 2.5}, "Processes: a whole number from 1 to 5 (got 2.5)"),
    ({"processes": "3"}, "Processes: a whole number from 1 to 5 (got '3')"),
    ({"function": "astrology"}, "function: unknown function 'astrology'"),
])
def test_bad_scores_are_refused_with_the_reason(change, problem):
    with pytest.raises(maturity.AssessmentError) as err:
        maturity.validate_scores({**GOOD, **change})
    assert any(p.startswith(problem) for p in err.value.problems), err.value.problems


def test_missing_component_is_named():
    data = dict(GOOD)
    del data["data_management"]
    with pytest.raises(maturity.AssessmentError, match="Data management: give a score from 1 to 5"):
        maturity.validate_scores(data)


def _history():
    t0 = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    return pd.DataFrame([
        dict(id=1, assessed_at=t0, structure=1, processes=2, data_management=1, technology=2),
        dict(id=3, assessed_at=t0 + dt.timedelta(days=60), structure=3, processes=3, data_management=2, technology=4),
        dict(id=2, assessed_at=t0 + dt.timedelta(days=30), structure=2, processes=2, data_management=2, technology=3),
    ])


def test_latest_two_change_and_summary():
    latest, previous = maturity.latest_two(_history())
    assert (latest["id"], previous["id"]) == (3, 2)
    assert maturity.change_since(latest, previous) == {"structure": 1, "processes": 1, "data_management": 0,
                                                       "technology": 1}
    assert maturity.summary(latest, previous) == "Overall 3.0 / 5 (+0.8 since the previous assessment)"
    only, none = maturity.latest_two(_history().iloc[:1])
    assert none is None and maturity.summary(only, None) == "Overall 1.5 / 5"
    assert maturity.latest_two(pd.DataFrame()) == (None, None)


def test_trend_is_long_and_ordered():
    long = maturity.trend(_history())
    assert len(long) == 3 * 5
    overall = long[long.component == "Overall"].score.tolist()
    assert overall == [1.5, 2.25, 3.0]
    assert set(long.component) == {"Structure", "Processes", "Data management", "Technology", "Overall"}
    assert maturity.trend(pd.DataFrame()).empty
