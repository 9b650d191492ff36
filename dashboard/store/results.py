"""What a write refuses with (the errors) and what it reports back (the results)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class StoreError(Exception):
    """Base class: a write was refused; the message says which rows and why."""


class InvalidRowsError(StoreError, ValueError):
    """Input rows are malformed (missing columns, unknown values, impossible timestamps)."""


class UnknownItemError(StoreError, LookupError):
    """The work item id does not exist."""


class InvalidTransitionError(StoreError, ValueError):
    """The requested status cannot follow the item's current status (or ``at`` precedes its creation)."""


@dataclass(frozen=True)
class TransitionResult:
    """Outcome of :func:`transition_item`.

    ``ok`` is False when another writer changed the item first (its version moved on): nothing was written
    and ``item`` is the current row, so the caller can show it and let the user decide.
    """

    ok: bool
    item: dict[str, Any]

    @property
    def conflict(self) -> bool:
        return not self.ok

    @property
    def version(self) -> int:
        return int(self.item["version"])


@dataclass
class UpsertCounts:
    """What an upsert did with the rows it was given."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
