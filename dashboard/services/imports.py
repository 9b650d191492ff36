"""The file import as a use case: CSV or Parquet in, validated rows upserted, refused rows quarantined with reasons.

:func:`ingest` checks the viewer's role (hub leads and admins import), streams the file in chunks (memory stays
bounded whatever the file size), validates each chunk against the data contract (:mod:`dashboard.ingest`),
upserts the valid rows by their natural key through :mod:`dashboard.store` (rollups follow in the same
transaction), writes every refused row to the ``quarantine`` table with its row number, raw cells and reasons,
and records the import in the audit trail. The whole file is one transaction (:func:`dashboard.db.write_transaction`,
run again after a lost race): an error midway (a malformed line, a lost connection) leaves the database exactly
as it was, and the attempt is recorded as a failed import afterwards. A file whose bytes were imported before
(same SHA-256) is skipped unless forced; re-importing overlapping data changes nothing because rows are compared
before they are written (inserted / updated / unchanged). It writes work items and journeys, units, KPIs and their
observations, and campaigns, depending on the file's kind.

Row numbers are as a spreadsheet shows them: the header is row 1, the first data row is row 2 (Parquet:
the first record is row 1). Blank lines are skipped and not counted.

Whatever can be judged per row is: a time outside what both databases store, a NUL character, a cell of a
UTF-8 file holding bytes that are no character (see :mod:`dashboard.ingest.contract` for the rules) quarantine
that row, naming the column, and the rest of the file imports. Only what makes the whole file unreadable refuses
it (:mod:`dashboard.ingest.source`): no header, a binary file, a line with more cells than the header, a damaged
Parquet file. Rows that pass the contract but are probably wrong (dated in the future, due more than a year after
the import, an item sent from a spoke to itself, times out of order, more conversions than leads) are imported
and counted in ``ImportReport.oddities`` and its warnings, with the first row numbers of each
(:mod:`dashboard.ingest.oddities`).

Work items without a target (``target_unit`` empty or no such column) that come from the hub are routed by the
ACTIVE routing rule set (:mod:`dashboard.services.autoroute`): target, priority, rule, SLA and due time as the
matching rule says, routed at their creation time (so importing the file again changes nothing). An item no rule
matches, and every such item while no rule set is active, is kept **unrouted**: it waits at the hub (target = the
hub, status new) for the hub to triage it or for a rule set to route it, and the report says how many
("N routed by rules, M left unrouted"). Rows are never dropped for it. An item from a spoke without a target
is quarantined: spokes send their work to the hub, so the file must say where it goes.

Customer journeys (kind ``journeys``) are upserted by id like the rest (:func:`dashboard.store.upsert_journeys`).
They and the work items naming them in ``journey_id`` may come in either order: an item whose journey is not
loaded (yet) is imported all the same (the report warns how many journeys are missing) and attribution, which starts
from the journeys table, leaves it out until its journey arrives.

Why one module of about 520 lines: these are the steps of one transaction (read ahead, route, de-duplicate,
upsert, quarantine, record) and are read together; everything that needs no database is in :mod:`dashboard.ingest`,
and the SQL that writes (the import log, quarantine, journeys) is in :mod:`dashboard.store`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from dashboard import audit, store
from dashboard.db import (
    imports,
    journeys,
    kpi_observations,
    kpis,
    quarantine,
    units,
    work_items,
    write_transaction,
)
from dashboard.domain.access import NotPermitted, Viewer, require_viewer, who_may_open
from dashboard.ingest.columns import Columns, choose_kind
from dashboard.ingest.contract import KEYS, all_columns
from dashboard.ingest.errors import IngestError
from dashboard.ingest.errors import first_line as _first_line
from dashboard.ingest.keys import KeySet
from dashboard.ingest.oddities import Oddities
from dashboard.ingest.report import ImportReport, Problem
from dashboard.ingest.source import CHUNK_ROWS, SourceFile, open_source, read_chunks
from dashboard.ingest.validate import Checked, due_past_latest, refuse, undecodable, validate_frame
from dashboard.services import autoroute
from dashboard.services.changes import writes

REFERENCE_CHUNK_ROWS = 1_000_000  # units, KPIs, campaigns: read whole (a KPI's parent may come later)
BYTES_PER_ROW = 100  # a rough guess of a row's size, to tell a big file (bulk load) from a small one
STAGED_ROWS = 50_000  # work items on PostgreSQL: from this many rows (guessed from the size) the staged upsert
MAX_PROBLEMS = 100  # problems kept in the report; the quarantine table keeps them all
JOURNEY_BATCH = 5_000  # rows per statement when journeys are compared, inserted and updated (store.upsert_journeys)


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _require_importer(viewer: object) -> Viewer:
    v = require_viewer(viewer)
    if not v.can_import:
        raise NotPermitted(f"{v.user} may not import data ({who_may_open('upload')} can)")
    return v


def _previous_import(engine: Engine, kind: str, content_hash: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(imports.c.id, imports.c.started_at, imports.c.file_name, imports.c.status)
            .where(imports.c.kind == kind, imports.c.content_hash == content_hash,
                   imports.c.status.in_(("ok", "quarantined")))
            .order_by(imports.c.id.desc()).limit(1)
        ).mappings().first()
    return dict(row) if row else None


@writes("items", "units", "kpis", "campaigns", "imports")
def ingest(
    engine: Engine,
    path: str | Path,
    *,
    viewer: Viewer,
    kind: str | None = None,
    mapping: Mapping[str, str] | None = None,
    source: str | None = None,
    name: str | None = None,
    dry_run: bool = False,
    force: bool = False,
    tz: ZoneInfo | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    chunk_rows: int | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Import one file; see the module doc. Raises IngestError (nothing written) for file-level problems."""
    import time

    who = _require_importer(viewer)
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    display = name or Path(path).name
    try:
        src = open_source(path, name=name, encoding=encoding, delimiter=delimiter)
        cols = choose_kind(src, kind, mapping)
    except IngestError as exc:  # recorded too, so the data-health page shows the attempt
        attempt = ImportReport(display, kind or "unknown", source or Path(display).stem, "", 0, dry_run=dry_run)
        _record_failure(engine, attempt, who, now, exc.plain, dry_run)
        raise
    kind = cols.kind
    report = ImportReport(src.name, kind, source or Path(src.name).stem, src.sha256, src.size, dry_run=dry_run,
                          warnings=list(src.warnings))
    if cols.ignored:
        report.warnings.append(f"{src.name}: ignored column(s) not in the {kind} contract: {', '.join(map(str, cols.ignored))}")
    prev = _previous_import(engine, kind, src.sha256)
    if prev and not force:
        report.skipped, report.previous = True, prev
        return report
    tz = tz or ZoneInfo("UTC")
    def fresh(r: ImportReport) -> ImportReport:
        return dataclasses.replace(r, warnings=list(r.warnings), problems=list(r.problems), oddities=list(r.oddities))

    blank = fresh(report)

    def load(conn) -> None:  # one transaction; run again from a blank report if it lost a race as a whole
        nonlocal report
        report = fresh(blank)
        report.import_id = store.start_import(
            conn, source=report.source, file_name=src.name, kind=kind, content_hash=src.sha256, size_bytes=src.size,
            started_at=now, imported_by=who.user)
        _load(conn, src, cols, report, tz, now, chunk_rows)
        if report.rows_read == 0:
            report.warnings.append(f"{src.name}: the header is there but there are no data rows; nothing to import")
        store.finish_import(
            conn, report.import_id, status=report.status, finished_at=dt.datetime.now(dt.UTC),
            rows_read=report.rows_read, inserted=report.inserted, updated=report.updated,
            unchanged=report.unchanged, quarantined=report.quarantined, message="\n".join(report.warnings) or None)
        if dry_run:
            raise _DryRun
        audit.record(conn, who, "import", f"{src.name} ({kind})",
                     f"import #{report.import_id}: {report.rows_read:,} rows read, {report.inserted:,} inserted, "
                     f"{report.updated:,} updated, {report.unchanged:,} unchanged, {report.quarantined:,} quarantined")

    try:
        write_transaction(engine, load, also=_inserted_meanwhile)
    except _DryRun:
        report.import_id = None
    except IngestError as exc:
        _record_failure(engine, report, who, now, exc.plain, dry_run)
        raise
    except (store.StoreError, DataError, IntegrityError) as exc:  # a value the checks above let through
        refused = _first_line(exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc)
        message = f"{src.name}: the database refused a value ({refused}); nothing was imported"
        _record_failure(engine, report, who, now, message, dry_run)
        raise IngestError(message) from None
    except DBAPIError as exc:  # the database itself (lost, locked, full): recorded when it still can be
        _record_failure(engine, report, who, now, f"{src.name}: {_first_line(exc.orig or exc)}; nothing was imported",
                        dry_run)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _inserted_meanwhile(exc: BaseException) -> bool:
    """A new key another import inserted and committed while this one was running (PostgreSQL unique violation):
    running the import again finds the row and updates it instead."""
    return isinstance(exc, IntegrityError) and getattr(exc.orig, "sqlstate", None) == "23505"


def _record_failure(engine: Engine, report: ImportReport, who: Viewer, now: dt.datetime, message: str,
                    dry_run: bool) -> None:
    """The failed attempt, for the data-health page (its rows were rolled back)."""
    if dry_run:
        return
    try:
        with engine.begin() as conn:
            store.record_failed_import(
                conn, source=report.source, file_name=report.file_name, kind=report.kind,
                content_hash=report.content_hash, size_bytes=report.size_bytes, started_at=now,
                finished_at=dt.datetime.now(dt.UTC), message=message, imported_by=who.user)
    except Exception:  # the database itself is the problem: the caller reports the original error
        pass


def _load(conn, src: SourceFile, cols: Columns, report: ImportReport, tz: ZoneInfo, now: dt.datetime,
          chunk_rows: int | None) -> None:
    kind = cols.kind
    known_units = set(conn.execute(select(units.c.id)).scalars())
    known_kpis = set(conn.execute(select(kpis.c.id)).scalars())
    open_keys = set(conn.execute(select(quarantine.c.row_key).where(
        quarantine.c.kind == kind, quarantine.c.status == "open", quarantine.c.row_key.is_not(None))).scalars())
    seen = KeySet()
    oddities = Oddities(now, autoroute.hub_ids(conn))
    given = list(cols.rename.values())
    written_by = f"import #{report.import_id}"
    size = chunk_rows or (CHUNK_ROWS if kind in ("work_items", "kpi_observations", "journeys") else REFERENCE_CHUNK_ROWS)

    dialect = conn.dialect.name
    columns = [c for c in all_columns(kind) if c in given]
    rules = _Routing.read(conn) if kind == "work_items" else None
    rows_guess = src.size // BYTES_PER_ROW
    # The engine's bulk path for a big file of work items. PostgreSQL: COPY into a temporary table and set-based
    # statements (store.upsert_staged_work_items). Into a table that was empty when the import began there is
    # nothing to compare (ids repeated in the file are quarantined): no stored row is looked up and PostgreSQL
    # copies straight into work_items (SQLite: this import holds the write lock since start_import; PostgreSQL: an
    # id another writer inserted meanwhile fails with a unique violation and the import runs again). Indexes
    # are built once at the end (below).
    staged = kind == "work_items" and dialect == "postgresql" and rows_guess >= STAGED_ROWS
    none_stored = (kind == "work_items" and (dialect == "sqlite" or staged)
                   and conn.execute(select(work_items.c.id).limit(1)).first() is None)

    def prepare(rows: pd.DataFrame) -> store.PreparedItems | store.StagedItems:
        if staged:
            return store.stage_work_items(rows, written_by=written_by, at=now)
        return store.prepare_work_items(rows, written_by=written_by, at=now, dialect=dialect)

    def checked_chunks() -> Iterator[tuple[pd.DataFrame, Checked, list[tuple[np.ndarray, object]], tuple]]:
        """Read, validate and (work items) route and convert to driver rows: all off the connection, one chunk
        ahead. Work items come as parts (row numbers, prepared rows): rows with a target, and rows routed here
        (written with their routing columns too)."""
        for chunk in read_chunks(src, size):
            named = chunk[list(cols.rename)].rename(columns=cols.rename)
            checked = validate_frame(kind, named, tz, known_units=set(known_units),
                                     known_kpis=known_kpis if kind == "kpi_observations" else None)
            if src.damaged_utf8:
                checked = refuse(checked, undecodable(named))
            parts: list[tuple[np.ndarray, object]] = []
            outcome: tuple = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
            if kind == "work_items" and len(checked.valid):
                checked, routed, outcome = rules.route(checked, known_units)
                repeated = checked.keys.loc[checked.valid.index].duplicated(keep="first").to_numpy()
                first = checked.valid[~repeated]  # the first of each key; later ones are quarantined
                given_target = ~first.index.isin(routed.index)
                if given_target.any():
                    rows = first[given_target]
                    parts.append((rows.index.to_numpy(), prepare(rows[columns])))
                rows = routed.loc[routed.index.isin(first.index)]
                if len(rows):
                    parts.append((rows.index.to_numpy(),
                                  prepare(rows[list(dict.fromkeys([*columns, *autoroute.ROUTED_COLUMNS]))])))
            yield chunk, checked, parts, outcome

    # A big file into an empty table (a first import; on SQLite also into a table holding fewer rows than the
    # file brings) builds the table's indexes once at the end.
    table = {"work_items": work_items, "kpi_observations": kpi_observations}.get(kind)
    bulk: AbstractContextManager[object]
    if table is None:
        bulk = nullcontext()
    elif kind == "work_items" and dialect == "sqlite" and not none_stored:
        bulk = store.deferred_indexes_when_larger(conn, table, rows_guess)
    else:
        bulk = store.deferred_indexes(conn, table, rows_guess)
    with bulk:
        for chunk, checked, parts, outcome in _ahead(checked_chunks()):
            report.rows_read += len(chunk)
            report.formula_cells += checked.formula_cells
            errors = checked.errors
            valid = checked.valid
            if kind == "kpis":  # a parent must exist already or arrive (valid) in the same file, transitively
                while True:
                    orphan = (valid.parent_id.notna() & ~valid.parent_id.isin(known_kpis | set(valid["id"]))).to_numpy()
                    if not orphan.any():
                        break
                    errors = pd.concat([errors, pd.Series("parent_id: unknown KPI (load the parent first or in the same file)",
                                                          index=valid.index[orphan])])
                    valid = valid[~orphan]
            keep, dup_errors = _drop_duplicates(conn, kind, valid, checked.keys, seen)
            valid = valid[keep]
            errors = pd.concat([errors, dup_errors]).sort_index()
            oddities.look(kind, valid)
            if len(valid):
                frame = valid[columns]
                if kind == "work_items":
                    counts = store.UpsertCounts()
                    for rows, prepared in parts:  # only the rows still kept (not duplicates of earlier rows)
                        kept = np.isin(rows, valid.index.to_numpy())
                        prepared = prepared if kept.all() else prepared.take(kept)
                        if isinstance(prepared, store.StagedItems):
                            done = store.upsert_staged_work_items(conn, prepared, none_stored=none_stored)
                        else:
                            done = store.upsert_work_items(conn, prepared, none_stored=none_stored)
                        counts.inserted += done.inserted
                        counts.updated += done.updated
                        counts.unchanged += done.unchanged
                    report.routed_by_rules += int(np.isin(outcome[0], valid.index.to_numpy()).sum())
                    report.unrouted += int(np.isin(outcome[1], valid.index.to_numpy()).sum())
                elif kind == "kpi_observations":
                    counts = store.upsert_kpi_observations(conn, frame)
                elif kind == "journeys":
                    counts = store.upsert_journeys(conn, frame, batch_size=JOURNEY_BATCH)
                else:
                    counts = store.upsert_reference(conn, kind, frame)
                report.inserted += counts.inserted
                report.updated += counts.updated
                report.unchanged += counts.unchanged
                if kind == "units":
                    known_units |= set(valid["id"])
                if kind == "kpis":
                    known_kpis |= set(valid["id"])
                if open_keys:
                    fixed = set(checked.keys.loc[valid.index]) & open_keys
                    if fixed:
                        store.mark_quarantine_fixed(conn, kind, fixed, report.import_id)
                        open_keys -= fixed
            if len(errors):
                _quarantine(conn, kind, chunk, errors, checked.keys, cols, report)
    if report.formula_cells:
        report.warnings.append(f"{src.name}: {report.formula_cells:,} free-text cell(s) start with = + - or @; "
                               "they are stored as text and neutralised in every CSV export")
    report.oddities = oddities.found()
    report.warnings.extend(o.text(src.name) for o in report.oddities)
    if rules is not None:
        rules.warn(src.name, report)
    if kind == "work_items" and "journey_id" in columns:
        missing = _journeys_not_loaded(conn)
        if missing:
            report.warnings.append(f"{src.name}: work items name {missing:,} journey(s) that are not loaded (yet); "
                                   "attribution leaves them out until a journeys file with those ids is imported")


class _Routing:
    """Routing of the work items that arrive without a target, with the rule set active when the import began."""

    def __init__(self, rule_set, hubs: list[str], problems: list[str]) -> None:
        self.rule_set, self.hubs, self.problems = rule_set, hubs, problems

    @classmethod
    def read(cls, conn) -> _Routing:
        problems: list[str] = []
        try:
            rule_set = autoroute.active_rule_set(conn)
        except autoroute.InvalidActiveRules as exc:
            rule_set, problems = None, list(exc.problems)
        return cls(rule_set, autoroute.hub_ids(conn), problems)

    def route(self, checked: Checked, known_units: set[str]) -> tuple[Checked, pd.DataFrame, tuple[np.ndarray, np.ndarray]]:
        """(``checked`` with spoke items lacking a target moved to the errors, the routed rows, (row numbers
        routed by rules, row numbers left unrouted)). A rule naming a unit this database does not have leaves
        the item unrouted (as the simulator does) rather than failing the import."""
        valid = checked.valid
        empty = valid.target_unit.isna().to_numpy() if "target_unit" in valid else np.ones(len(valid), dtype=bool)
        none = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
        if not empty.any():
            return checked, valid.iloc[:0], none
        from_hub = valid.source_unit.isin(self.hubs).to_numpy()
        refused = empty & ~from_hub
        errors = checked.errors
        if refused.any():
            reason = ("target_unit: missing; only items from the hub are routed by the rules (give the target of "
                      "an item from a spoke)") if self.hubs else "target_unit: missing, and there is no hub to route it"
            errors = pd.concat([errors, pd.Series(reason, index=valid.index[refused], dtype=object)]).sort_index()
            valid = valid[~refused]
            empty = empty[~refused]
            checked = Checked(valid=valid, errors=errors, keys=checked.keys, formula_cells=checked.formula_cells)
        todo = valid[empty]
        if todo.empty:
            return checked, todo, none
        parts = []
        for hub in self.hubs:
            mine = todo[todo.source_unit == hub]
            if len(mine):
                done = autoroute.apply(self.rule_set, mine, hub, None)
                unknown = ~done.target_unit.isin(known_units)
                if unknown.any():
                    done = pd.concat([done[~unknown], autoroute.apply(None, mine[unknown.to_numpy()], hub, None)])
                parts.append(done)
        routed = pd.concat(parts).sort_index()
        # Created near the end of 9999 and given a rule's longer SLA. Judged from created_at + sla_hours rather
        # than the routed due_at: pandas reads an object column holding the year 10000 back as 1972.
        late = due_past_latest(routed.created_at, routed.sla_hours)
        if late.any():
            checked = refuse(checked, pd.Series(ROUTED_PAST_LATEST, index=routed.index[late], dtype=object))
            routed = routed[~late]
        waiting = routed.target_unit.isin(self.hubs).to_numpy()
        return checked, routed, (routed.index[~waiting].to_numpy(), routed.index[waiting].to_numpy())

    def warn(self, name: str, report: ImportReport) -> None:
        if self.problems:
            report.warnings.append(f"{name}: the active routing rule set is not valid, so items without a target "
                                   f"were left unrouted: {'; '.join(self.problems)[:500]}")
        if self.rule_set is None and report.unrouted and not self.problems:
            report.warnings.append(f"{name}: no routing rule set is active: {report.unrouted:,} item(s) without a "
                                   "target wait unrouted at the hub until the hub routes them or a rule set is published")


def _ahead(items: Iterator, depth: int = 1) -> Iterator:
    """Produce ``items`` in a background thread, ``depth`` ahead of the consumer.

    Reading and validating the next chunk (pandas, which releases the GIL in its parsers and kernels)
    overlaps with writing this one to the database. Memory stays bounded: at most ``depth`` finished items
    wait. An error in the producer is raised in the consumer; a consumer that stops early stops the producer.
    """
    import queue
    import threading

    done, stop = object(), threading.Event()
    q: queue.Queue = queue.Queue(maxsize=depth)

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((done, None))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put((done, exc))

    worker = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item, exc = q.get()
            if item is done:
                if exc is not None:
                    raise exc
                return
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def _drop_duplicates(conn, kind: str, valid: pd.DataFrame, keys: pd.Series, seen: KeySet
                     ) -> tuple[np.ndarray, pd.Series]:
    """Which valid rows to keep: a row whose key an earlier row of the file already had goes to quarantine
    (the first one wins). Returns the keep mask and the duplicates' reasons."""
    if valid.empty:
        return np.ones(0, dtype=bool), pd.Series(dtype=object)
    k = keys.loc[valid.index]
    rows = valid.index.to_numpy(dtype=np.int64)
    h = KeySet.hashes(k)
    in_chunk = k.duplicated(keep="first").to_numpy()  # exact within the chunk
    first = seen.first_rows(h)
    earlier = first > 0
    if earlier.any():  # confirm: the earlier row's key is stored by now (a hash collision would not be)
        earlier[earlier] = _stored(conn, kind, valid[earlier])
    if in_chunk.any():
        first_in_chunk = pd.Series(rows, index=k.to_numpy()).groupby(level=0).transform("min").to_numpy()
        first = np.where(in_chunk & ~earlier, first_in_chunk, first)
    dup = earlier | in_chunk
    seen.add(h[~dup], rows[~dup])
    label = "/".join(KEYS[kind])
    reasons = pd.Series([f"{label}: duplicate of row {r} in the same file (the first one was imported)"
                         for r in first[dup]], index=valid.index[dup], dtype=object)
    return ~dup, reasons


def _stored(conn, kind: str, rows: pd.DataFrame) -> np.ndarray:
    """Whether each row's natural key is in the database (used only to confirm rare hash matches)."""
    from dashboard.db import campaigns

    out = []
    for r in rows.itertuples(index=False):
        if kind == "work_items":
            q = select(func.count()).where(work_items.c.id == r.id)
        elif kind == "journeys":
            q = select(func.count()).where(journeys.c.id == r.id)
        elif kind == "kpi_observations":
            q = select(func.count()).where(kpi_observations.c.kpi_id == r.kpi_id,
                                           kpi_observations.c.ts == r.ts.to_pydatetime())
        elif kind == "campaigns":
            q = select(func.count()).where(campaigns.c.channel == r.channel, campaigns.c.period_start == r.period_start)
        else:
            q = select(func.count()).select_from(units if kind == "units" else kpis).where(
                (units.c.id if kind == "units" else kpis.c.id) == r.id)
        out.append(conn.execute(q).scalar_one() > 0)
    return np.array(out, dtype=bool)


def _journeys_not_loaded(conn) -> int:
    """How many distinct journeys work items name that the journeys table does not have."""
    wi, j = work_items.c, journeys.c
    return conn.execute(
        select(func.count(wi.journey_id.distinct())).select_from(
            work_items.outerjoin(journeys, j.id == wi.journey_id))
        .where(wi.journey_id.is_not(None), j.id.is_(None))
    ).scalar_one()


ROUTED_PAST_LATEST = ("due_at: created_at + the routing rule's SLA passes 9999-12-31 23:59:59 UTC, the latest time "
                      "that can be stored")


def _quarantine(conn, kind: str, chunk: pd.DataFrame, errors: pd.Series, keys: pd.Series, cols: Columns,
                report: ImportReport) -> None:
    raw = chunk.loc[errors.index]
    back = {v: k for k, v in cols.rename.items()}
    records = []
    for row_number, reasons in errors.items():
        cells = {str(c): ("" if pd.isna(v) else str(v)) for c, v in raw.loc[row_number].items()}
        key = keys.get(row_number)
        records.append({
            "import_id": report.import_id, "kind": kind, "row_number": int(row_number),
            "row_key": (str(key)[:300] if key and not str(key).startswith("|") and str(key).strip("|")
                        and "\x00" not in str(key) else None),  # a key with a NUL can never be imported
            "raw": json.dumps(cells, ensure_ascii=False), "reasons": reasons, "status": "open",
        })
        if len(report.problems) < MAX_PROBLEMS:
            named = [r.split(":", 1)[0].strip() for r in reasons.split("; ")]
            values = {back.get(n, n): cells.get(back.get(n, n), "") for n in dict.fromkeys(named)
                      if back.get(n, n) in cells}
            report.problems.append(Problem(int(row_number), reasons, values))
    report.quarantined += store.quarantine_rows(conn, records)

