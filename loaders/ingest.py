"""The command line's file import: ``python -m loaders ingest PATH...`` (its options: loaders/__main__.py).

Files come from the server's disk as they are. Several files given without ``--kind`` are taken in the order
the data needs (units before KPIs before observations …, :data:`dashboard.ingest.contract.KIND_ORDER`), whatever
the shell's order, by the kind each header suggests (:func:`dashboard.ingest.source.peek_kind`). Each file is
imported by the use case :func:`dashboard.services.imports.ingest` (one transaction, quarantine, idempotent) as the
operator: whoever can run this command can already write to the database, so they import as an admin.

Printed: warnings and the first quarantined rows on stderr, one summary line per file on stdout. Exit code 2 when
a file could not be imported at all (the others are still imported), 1 when rows were quarantined (unless
``allow_quarantine``), else 0.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.domain.access import Role, Viewer
from dashboard.ingest.contract import KIND_ORDER
from dashboard.ingest.errors import IngestError
from dashboard.ingest.source import peek_kind
from dashboard.services.imports import ingest
from loaders.__main__ import EXIT_CONFIG, EXIT_REFUSED


def operator() -> Viewer:
    """Who imports from the command line: the account running it, as an admin."""
    return Viewer(user=f"{getpass.getuser()} (command line)", role=Role.ADMIN)


def in_load_order(paths: Sequence[str]) -> list[str]:
    """``paths`` with units before KPIs before observations …, by the kind each file's header suggests."""
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(paths, key=lambda p: rank.get(peek_kind(p) or "", len(rank)))


def import_files(engine: Engine, paths: Sequence[str], *, kind: str | None, mapping: Mapping[str, str],
                 source: str | None, dry_run: bool, force: bool, tz: ZoneInfo, encoding: str | None,
                 delimiter: str | None, show: int, allow_quarantine: bool) -> int:
    """Import each file and print what happened; returns the exit code (see the module doc)."""
    who = operator()
    code = 0
    if kind is None and len(paths) > 1:  # units before KPIs before observations, whatever the shell's order
        paths = in_load_order(paths)
    for path in paths:
        try:
            report = ingest(engine, path, viewer=who, kind=kind, mapping=mapping, source=source, dry_run=dry_run,
                            force=force, tz=tz, encoding=encoding, delimiter=delimiter)
        except IngestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            code = EXIT_CONFIG
            continue
        for warning in report.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for problem in report.problems[:show]:
            print(f"quarantined: {report.file_name} {problem}", file=sys.stderr)
        if report.quarantined > show:
            print(f"quarantined: … {report.quarantined - min(show, len(report.problems)):,} more; see the "
                  "Data health page or the quarantine table", file=sys.stderr)
        print(report.summary() + (f" in {report.seconds:.1f} s" if not report.skipped else ""))
        if report.quarantined and not allow_quarantine:
            code = max(code, EXIT_REFUSED)
    return code
