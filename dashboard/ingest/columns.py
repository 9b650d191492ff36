"""Matching a file's header to the data contract: which kind the file holds, and which file column feeds each
contract column (an explicit mapping first, then names that normalise equal: ``Created At`` is ``created_at``).

:func:`match_columns` matches as far as it can (the upload page preselects what matched and asks for the rest);
:func:`choose_kind` settles the kind and mapping for an import, or says what is wrong with an
:class:`~dashboard.ingest.errors.IngestError` (with the command line's ``--map`` / ``--kind`` hint beside it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.ingest.contract import KINDS, all_columns, infer_kind, normalise_header, required_columns
from dashboard.ingest.errors import IngestError
from dashboard.ingest.source import DELIMITERS, SourceFile


@dataclass
class Columns:
    """How a file's header matches a kind's contract: what feeds each contract column, what is left over."""

    kind: str | None  # None: the header fits no kind (and none was given)
    rename: dict[str, str]  # file column -> contract column
    ignored: list[str]  # file columns outside the contract
    missing: list[str]  # required contract columns nobody maps to
    fits: str | None = None  # another kind whose required columns the header has, when that is not ``kind``

    @property
    def matched(self) -> dict[str, str]:
        """Contract column -> the file column that feeds it."""
        return {target: col for col, target in self.rename.items()}


def resolve_columns(header: list[str], kind: str, mapping: Mapping[str, str] | None = None,
                    name: str = "the file") -> Columns:
    """Match the file's header to the contract: explicit mapping first, then names that normalise equal."""
    contract = all_columns(kind)
    mapping = {k: v for k, v in (mapping or {}).items() if v}
    bad = [v for v in mapping.values() if v not in contract]
    if bad:
        raise IngestError(f"{name}: the mapping names unknown {kind} column(s) {', '.join(bad)}; "
                          f"choose from {', '.join(contract)}")
    missing_source = [k for k in mapping if k not in header]
    if missing_source:
        raise IngestError(f"{name}: the mapping names column(s) {', '.join(missing_source)} that the file does not have")
    rename: dict[str, str] = {col: mapping[col] for col in header if col in mapping}
    for col in header:
        target = normalise_header(col)
        if col not in rename and target in contract and target not in rename.values():
            rename[col] = target
    ignored = [c for c in header if c not in rename]
    missing = [c for c in required_columns(kind) if c not in rename.values()]
    return Columns(kind, rename, ignored, missing)


def match_columns(header: list[str], kind: str | None = None, mapping: Mapping[str, str] | None = None,
                  name: str = "the file") -> Columns:
    """The kind (given, or the one the header fits) and the matching of the header to its contract, however
    incomplete: every column that matched stays matched and ``missing`` names exactly the required columns
    still unfed (the upload page preselects the first and asks for the second). Without a kind, a header holding
    at least half of a kind's required columns (two or more) is taken to be that kind; one fitting no kind gives
    ``kind`` None. Raises IngestError only for a mapping that names columns that do not exist."""
    header = [str(c) for c in header]
    given = list(header) + list((mapping or {}).values())
    guessed = infer_kind(given)
    if kind is None and guessed is None:  # a kind most of whose required columns are there: name the rest
        normal = {normalise_header(c) for c in given}
        share = {k: len(set(required_columns(k)) & normal) / len(required_columns(k)) for k in KINDS}
        best = max(share, key=lambda k: share[k])
        if share[best] >= 0.5 and len(set(required_columns(best)) & normal) >= 2:  # an `id` alone says nothing
            kind = best
    kind = kind or guessed
    if kind is None:
        return Columns(None, {}, header, [])
    cols = resolve_columns(header, kind, mapping, name)
    if cols.missing and guessed and guessed != kind:
        cols.fits = guessed
    return cols


def _duplicate_headers(header: list[str]) -> list[str]:
    seen, dup = set(), []
    for c in header:
        n = normalise_header(c)
        if n in seen and n:
            dup.append(c)
        seen.add(n)
    return dup


MAP_OPTION = "(--map 'file column=contract column')"


def choose_kind(src: SourceFile, kind: str | None, mapping: Mapping[str, str] | None = None) -> Columns:
    """The kind (given or inferred from the header) and its column mapping, or a message saying what is wrong."""
    if not [c for c in src.header if str(c).strip()]:
        raise IngestError(f"{src.name}: the header row is empty")
    dup = _duplicate_headers(src.header)
    if dup:
        raise IngestError(f"{src.name}: column(s) {', '.join(dup)} appear more than once in the header")
    if kind is not None and kind not in KINDS:
        raise IngestError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    cols = match_columns(src.header, kind, mapping, src.name)
    if cols.kind is None:
        shown = ", ".join(map(str, src.header[:8])) + (" …" if len(src.header) > 8 else "")
        raise IngestError(f"{src.name}: cannot tell what the file holds from its header ({shown}); say what kind of "
                          "data it is and map its columns", cli=f"(--kind and {MAP_OPTION[1:-1]})", columns=cols)
    if cols.missing:
        them = "it" if len(cols.missing) == 1 else "them"
        if cols.fits:
            raise IngestError(
                f"{src.name}: missing required {cols.kind} column(s) {', '.join(cols.missing)}. The header fits "
                f"{cols.fits}: is this the wrong file, or does it hold {cols.fits}?",
                cli=f"(--kind {cols.fits}; or map the columns: {MAP_OPTION[1:-1]})", columns=cols)
        hint = ""
        if len(src.header) == 1 and any(d in str(src.header[0]) for d in DELIMITERS):
            hint = " The whole header is one column: is the delimiter wrong?"
        raise IngestError(f"{src.name}: missing required {cols.kind} column(s) {', '.join(cols.missing)}.{hint} "
                          f"Rename {them} in the file or map {them} to columns of the file.",
                          cli=MAP_OPTION, columns=cols)
    return cols
