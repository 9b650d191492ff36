"""The upload page's parts: file in, preview, column mapping, validation report, then the import.

Nothing is written until the user presses Import after a dry run shows what would happen; the import itself
is the use case :func:`dashboard.services.imports.ingest` the command line uses too (one transaction, quarantine,
idempotent); the preview is :func:`dashboard.ingest.preview.preview`, which writes nothing.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import errors
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.ingest.contract import KIND_ORDER, KINDS, all_columns, describe, required_columns
from dashboard.ingest.errors import IngestError
from dashboard.ingest.preview import Preview
from dashboard.ingest.report import ImportReport
from dashboard.ingest.source import delimiter_name
from dashboard.services.imports import ingest
from dashboard.settings import get_settings
from dashboard.ui import data
from dashboard.ui.text import md

SAMPLES = Path(__file__).resolve().parents[2] / "loaders" / "samples"
KIND_LABELS = {
    "work_items": "Work items (leads, complaints, reports …)", "kpi_observations": "KPI observations",
    "kpis": "KPIs (the KPI tree)", "units": "Units (hub and spokes)", "campaigns": "Campaigns (spend and returns)",
    "journeys": "Customer journeys (conversions and revenue, for attribution)",
}
NOT_MAPPED = "— not in the file —"
KIND_NOUNS = {"units": "units", "kpis": "KPIs", "campaigns": "campaigns", "kpi_observations": "KPI observations",
              "journeys": "customer journeys", "work_items": "work items"}


def intro() -> str:
    """What the page imports: every kind the importer accepts, in the order files that depend on each other
    load (a KPI needs its unit, an observation its KPI)."""
    nouns = [KIND_NOUNS.get(k, k.replace("_", " ")) for k in KIND_ORDER]
    return (f"Load your own exports: {', '.join(nouns[:-1])} or {nouns[-1]} (when one file refers to another, "
            "load them in this order). Re-importing a file changes nothing; rows that fail the checks go to "
            "quarantine (see Data health) and can be fixed.")


def plain(exc: Exception) -> str:
    """An import error as this page says it: without the command line's options (``IngestError.plain``)."""
    return str(getattr(exc, "plain", None) or exc)


def stored_upload(uploaded) -> Path | None:
    """The upload written to a per-session temp file (the importer streams from disk); None when empty."""
    content = uploaded.getvalue()
    if not content:
        return None
    digest = hashlib.sha256(content).hexdigest()[:16]
    folder = Path(st.session_state.setdefault("_upload_dir", tempfile.mkdtemp(prefix="hubspoke-upload-")))
    path = folder / f"{digest}{Path(uploaded.name).suffix.lower() or '.csv'}"
    if not path.exists():
        for old in folder.iterdir():  # one upload at a time per session
            old.unlink(missing_ok=True)
        path.write_bytes(content)
    return path


def file_facts(p: Preview) -> None:
    src = p.source
    facts = [f"**{md(src.name)}**", f"{src.size / 1024:,.1f} KB", src.format.upper()]
    if src.format == "csv":
        facts += [f"encoding {src.encoding}", f"delimiter {delimiter_name(src.delimiter)}"]
    st.caption(" · ".join(facts))
    for warning in src.warnings:
        st.warning(warning, icon=":material/warning:")


def pick_kind(p: Preview) -> str:
    default = KINDS.index(p.kind) if p.kind in KINDS else 0
    return st.selectbox("What does the file hold?", KINDS, index=default, format_func=KIND_LABELS.get,
                        key="upload_kind", help="Guessed from the header; change it if the guess is wrong.")


def mapping_step(p: Preview, kind: str) -> dict[str, str]:
    """One select box per contract column: which file column feeds it (auto-matched names preselected)."""
    header = [str(c) for c in p.source.header]
    auto = {v: k for k, v in (p.columns.rename if p.columns and p.columns.kind == kind else {}).items()}
    required = set(required_columns(kind))
    missing = [c for c in required if c not in auto]
    with st.expander("Column mapping", expanded=bool(missing), icon=":material/swap_horiz:"):
        if missing:
            st.info(f"Choose the file columns for: {', '.join(missing)}.", icon=":material/info:")
        mapping: dict[str, str] = {}
        cols = st.columns(3)
        for i, target in enumerate(all_columns(kind)):
            options = [NOT_MAPPED, *header]
            current = auto.get(target)
            choice = cols[i % 3].selectbox(
                f"{target}{' *' if target in required else ''}", options,
                index=options.index(current) if current in options else 0, key=f"map_{kind}_{target}",
            )
            if choice != NOT_MAPPED:
                mapping[choice] = target
        st.caption("\\* required")
    return mapping


def contract_help(kind: str) -> None:
    with st.expander(f"Data contract: {KIND_LABELS.get(kind, kind)}", icon=":material/rule:"):
        st.dataframe(describe(kind), hide_index=True, width="stretch", column_config={
            "column": st.column_config.TextColumn("Column", pinned=True), "type": "Type",
            "required": st.column_config.CheckboxColumn("Required"), "rule": st.column_config.TextColumn("Rule")})
        st.caption("Timestamps: ISO 8601 (2026-11-23 10:30, 2026-11-23T10:30:00+01:00, …Z). Times without an "
                   f"offset are read in {get_settings().import_tz.key}. Empty cells are missing values.")
        sample = SAMPLES / f"{kind}.csv"
        if sample.exists():
            st.download_button("Download a sample file", sample.read_bytes(), file_name=sample.name,
                               mime="text/csv", icon=":material/download:", key=f"sample_{kind}")


def run(viewer: Viewer, path: Path, name: str, kind: str, mapping: dict[str, str], *, dry_run: bool,
        force: bool = False) -> ImportReport | None:
    """The import (or its dry run); file-level problems and refusals become messages, never tracebacks."""
    try:
        return ingest(data.engine(), path, viewer=viewer, kind=kind, mapping=mapping, name=name, dry_run=dry_run,
                      force=force, tz=get_settings().import_tz, source=Path(name).stem)
    except IngestError as exc:
        st.error(md(plain(exc)), icon=":material/error:")
    except NotPermitted as exc:
        st.error(md(exc), icon=":material/block:")
    except errors.DATABASE_ERRORS as exc:  # the file is one transaction: none of its rows were written
        data.write_failed(exc, f"Nothing from {name} was imported; the file is still here, so you can try again.")
    return None


def skipped_text(report: ImportReport) -> str:
    """The same bytes were imported before: when, and what "Import again" does."""
    p = report.previous or {}
    s = get_settings()
    started = pd.Timestamp(p["started_at"]) if p.get("started_at") is not None else None
    if started is not None and started.tzinfo is None:  # stored in UTC
        started = started.tz_localize("UTC")
    when = fmt.moment(started, s.tz)
    return (f"{report.file_name} was already imported as {KIND_NOUNS.get(report.kind, report.kind)} "
            f"(import #{p.get('id')}, {when} {s.timezone}); nothing was done. “Import again” reads it once more: "
            "rows that have not changed stay as they are.")


def imported_text(report: ImportReport) -> str:
    """What an import did, in words and whole numbers with separators."""
    n = fmt.count
    return (f"Imported {report.file_name} into {KIND_NOUNS.get(report.kind, report.kind)} (import #{report.import_id}): "
            f"{n(report.rows_read)} rows read, {n(report.inserted)} new, {n(report.updated)} changed, "
            f"{n(report.unchanged)} unchanged, {n(report.quarantined)} quarantined.")


def routing_note(report: ImportReport) -> str | None:
    """Work items without a target that the active rules routed (good news) and those left waiting, or None."""
    routed, waiting = report.routed_by_rules, report.unrouted
    if not routed and not waiting:
        return None
    parts = []
    if routed:
        verb = "would be" if report.dry_run else "was" if routed == 1 else "were"
        parts.append(f"{fmt.count(routed)} item{'s' if routed != 1 else ''} without a target {verb} routed by the "
                     "active rules")
    if waiting:
        one = waiting == 1
        who = fmt.count(waiting) if routed else f"{fmt.count(waiting)} item{'' if one else 's'} without a target"
        wait = "would wait" if report.dry_run else "waits" if one else "wait"
        parts.append(f"{who} match{'es' if one else ''} no rule and {wait} in the hub's triage queue until someone "
                     f"routes {'it' if one else 'them'}")
    return "; ".join(parts) + "."


def _routing_warning(report: ImportReport, warning: str) -> bool:
    """The importer's line that counts items routed by rules: shown as :func:`routing_note`, not as a warning."""
    return warning.endswith(f"items without a target: {report.routed_by_rules:,} routed by rules, "
                            f"{report.unrouted:,} left unrouted at the hub (no rule matched)")


def report_view(report: ImportReport) -> None:
    if report.skipped:
        st.info(md(skipped_text(report)), icon=":material/content_copy:")
        return
    tiles = st.container(horizontal=True)  # as many a row as fit: whole labels on a laptop and a phone
    for label, value in (("Rows read", report.rows_read), ("New", report.inserted), ("Changed", report.updated),
                         ("Unchanged", report.unchanged), ("Quarantined", report.quarantined)):
        tiles.metric(label, fmt.count(value), width="content", border=True)
    note = routing_note(report)
    if note and report.unrouted:
        st.info(note, icon=":material/alt_route:")
    elif note:
        st.success(note, icon=":material/alt_route:")
    for warning in report.warnings:
        if not (note and _routing_warning(report, warning)):
            st.warning(md(warning), icon=":material/warning:")
    if report.problems:
        shown = len(report.problems)
        st.markdown(f"**Rows that {'would be' if report.dry_run else 'were'} quarantined**"
                    + (f" (first {fmt.count(shown)} of {fmt.count(report.quarantined)})"
                       if report.quarantined > shown else ""))
        st.dataframe(pd.DataFrame({
            "row": [p.row for p in report.problems],
            "reasons": [p.reasons for p in report.problems],
            "found": [", ".join(f"{k} = {v!r}" for k, v in p.values.items()) for p in report.problems],
        }), hide_index=True, width="stretch", placeholder="—", column_config={
            "row": st.column_config.NumberColumn("Row", format="%d", help="As a spreadsheet numbers it: the header "
                                                 "is row 1"),
            "reasons": st.column_config.TextColumn("Reasons"), "found": st.column_config.TextColumn("Found")})
