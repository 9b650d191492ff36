"""What an import did (:class:`ImportReport`) and each refused row it shows (:class:`Problem`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dashboard.domain import format as fmt
from dashboard.ingest.oddities import Oddity


@dataclass
class Problem:
    row: int
    reasons: str
    values: dict[str, str]  # the cells of the columns the reasons name

    def __str__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"row {self.row}: {self.reasons}" + (f" (found {shown})" if shown else "")


@dataclass
class ImportReport:
    file_name: str
    kind: str
    source: str
    content_hash: str
    size_bytes: int
    dry_run: bool = False
    skipped: bool = False  # the same bytes were imported before (see ``previous``)
    previous: dict | None = None
    import_id: int | None = None
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    formula_cells: int = 0
    routed_by_rules: int = 0  # work items without a target that the active routing rules routed ...
    unrouted: int = 0  # ... and those left waiting unrouted at the hub
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    oddities: list[Oddity] = field(default_factory=list)  # imported as given but probably wrong (also in warnings)
    seconds: float = 0.0

    @property
    def status(self) -> str:
        return "quarantined" if self.quarantined else "ok"

    def summary(self) -> str:
        if self.skipped:
            p = self.previous or {}
            when = p.get("started_at")
            when = f"{fmt.moment(pd.Timestamp(when), 'UTC')} UTC" if when else "an earlier date"
            return (f"{self.file_name}: already imported as import #{p.get('id')} on {when} "
                    f"({self.kind}); nothing done. Use --force to import it again.")
        verb = "would import" if self.dry_run else "imported"
        routed = (f"; {self.routed_by_rules:,} routed by rules, {self.unrouted:,} left unrouted"
                  if self.routed_by_rules or self.unrouted else "")
        return (f"{self.file_name} ({self.kind}): {verb} — rows read {self.rows_read:,}, inserted {self.inserted:,}, "
                f"updated {self.updated:,}, unchanged {self.unchanged:,}, quarantined {self.quarantined:,}{routed}"
                + (" (dry run: nothing was written)" if self.dry_run else f" [import #{self.import_id}]"))
