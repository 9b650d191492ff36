"""The planned changes' predicted effects are painted by what the table shows: a change that rounds to nothing
as displayed ("14.2 h → 14.2 h") is plain, not green or red."""

from __future__ import annotations

from dashboard.ui.operating_model.design import _predicted_direction


def test_a_change_that_reads_the_same_as_shown_is_not_painted():
    got = _predicted_direction({"lead_time_h": {"before": 14.24, "after": 14.18},
                                "cost_per_year": {"before": 1_000_000.0, "after": 1_000_400.0},
                                "sla_share": {"before": 0.9001, "after": 0.9002}})
    assert got["Lead time (mean)"] is None
    assert got["Cost / year"] is None
    assert got["Within SLA"] is None


def test_a_visible_change_is_better_or_worse_by_the_measures_direction():
    got = _predicted_direction({"lead_time_h": {"before": 14.2, "after": 12.0},
                                "sla_share": {"before": 0.90, "after": 0.85},
                                "handoffs": {"before": 1.0, "after": 1.5}})
    assert got["Lead time (mean)"] is True
    assert got["Within SLA"] is False
    assert got["Handoffs per item"] is False
    assert got["Cost / year"] is None  # no prediction
