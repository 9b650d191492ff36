"""What each use case changes, by name, so that whatever reads those names is refreshed after it runs.

A use case declares its names with :func:`writes`; the UI's cache (:mod:`dashboard.ui.cache`) clears every
accessor that reads one of them after the use case returns. Every use case also writes the audit trail, so
``"audit"`` is always among its names.

The names (what a reader of each depends on):

- ``items``: work items, their rollups (the map, the overview, inboxes, health checks) and journeys;
- ``routing``: routing rule sets (draft, active, archived);
- ``scenarios``: saved scenarios;
- ``cycle``: the operating-model cycle: assessments, the target model and its planned changes;
- ``units``: the hub and the spokes (names, headcount, office hours);
- ``users``: people, their roles and spokes;
- ``kpis``: KPI definitions and observations;
- ``faq``: answers to common questions and their feedback;
- ``imports``: the file import's log (every attempt, failed ones too) and its quarantined rows;
- ``campaigns``: marketing campaigns (spend, leads, conversions and revenue per channel and period);
- ``audit``: the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

NAMES = frozenset({"items", "routing", "scenarios", "cycle", "units", "users", "kpis", "faq", "imports", "campaigns",
                   "audit"})

F = TypeVar("F", bound=Callable)


def writes(*names: str) -> Callable[[F], F]:
    """Declare the data a use case changes (besides the audit trail, always included)."""
    unknown = set(names) - NAMES
    if unknown:
        raise ValueError(f"unknown data name(s) {sorted(unknown)}; known: {sorted(NAMES)}")

    def declare(fn: F) -> F:
        fn.__writes__ = frozenset(names) | {"audit"}  # type: ignore[attr-defined]
        return fn

    return declare


def changed_by(use_case: Callable) -> frozenset[str]:
    """The names a use case declared with :func:`writes`; an undeclared one is a programming error."""
    try:
        return use_case.__writes__  # type: ignore[attr-defined]
    except AttributeError:
        raise TypeError(f"{getattr(use_case, '__qualname__', use_case)!r} does not declare what it writes "
                        "(dashboard.services.changes.writes)") from None
