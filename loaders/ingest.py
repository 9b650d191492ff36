"""File import: CSV or Parquet in, validated rows upserted, refused rows quarantined with reasons.

``ingest`` streams the file in chunks (memory stays bounded whatever the file size), validates each chunk
against the data contract (:mod:`loaders.contract`), upserts the valid rows by their natural key through
:mod:`dashboard.store` (rollups follow in the same transaction) and writes every refused row to the
``quarantine`` table with its row number, raw cells and reasons. The whole file is one transaction: an
error midway (a malformed line, a lost connection) leaves the database exactly as it was, and the attempt is
recorded as a failed import afterwards. A file whose bytes were imported before (same SHA-256) is skipped
unless forced; re-importing overlapping data changes nothing because rows are compared before they are
written (inserted / updated / unchanged).

Row numbers are as a spreadsheet shows them: the header is row 1, the first data row is row 2 (Parquet:
the first record is row 1). Blank lines are skipped and not counted.

Whatever can be judged per row is: a time outside what both databases store, a NUL character, a cell of a
UTF-8 file holding bytes that are no character (see :mod:`loaders.contract` for the rules) quarantine that row,
naming the column, and the rest of the file imports. Only what makes the whole file unreadable refuses it:
no header, a binary file, a line with more cells than the header, a damaged Parquet file. The encoding is
found by :func:`sniff_encoding` (UTF-8, UTF-16 and UTF-32 with or without a byte-order mark, else
Windows-1252), the same for the command line and the upload page. Rows that pass the contract but are
probably wrong (dated in the future, due more than a year after the import, an item sent from a spoke to
itself, times out of order, more conversions than leads) are imported and counted in ``ImportReport.oddities`` and its warnings, with the first
row numbers of each.

Work items without a target (``target_unit`` empty or no such column) that come from the hub are routed by the
ACTIVE routing rule set (:mod:`dashboard.services.autoroute`): target, priority, rule, SLA and due time as the matching rule
says, routed at their creation time (so importing the file again changes nothing). An item no rule matches,
and every such item while no rule set is active, is kept **unrouted**: it waits at the hub (target = the hub,
status new) for the hub to triage it or for a rule set to route it, and the report says how many
("N routed by rules, M left unrouted"). Rows are never dropped for it. An item from a spoke without a target
is quarantined: spokes send their work to the hub, so the file must say where it goes.

Customer journeys (kind ``journeys``) are upserted by id like the rest (:func:`upsert_journeys`). They and the
work items naming them in ``journey_id`` may come in either order: an item whose journey is not loaded (yet)
is imported all the same (the report warns how many journeys are missing) and attribution, which starts
from the journeys table, leaves it out until its journey arrives.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from sqlalchemy import (
    Engine,
    String,
    bindparam,
    func,
    insert,
    select,
    type_coerce,
    update,
)
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
from dashboard.domain import format as fmt
from dashboard.domain.access import NotPermitted, Role, Viewer, require_viewer
from dashboard.services import autoroute as routing
from loaders.contract import (
    KEYS,
    KINDS,
    Checked,
    all_columns,
    due_past_latest,
    infer_kind,
    normalise_header,
    required_columns,
    validate_frame,
)

CHUNK_ROWS = 100_000
REFERENCE_CHUNK_ROWS = 1_000_000  # units, KPIs, campaigns: read whole (a KPI's parent may come later)
BYTES_PER_ROW = 100  # a rough guess of a row's size, to tell a big file (bulk load) from a small one
MAX_PROBLEMS = 100  # problems kept in the report; the quarantine table keeps them all
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
PARQUET_MAGIC = b"PAR1"
IMPORTERS = (Role.ADMIN, Role.HUB_LEAD)


class IngestError(Exception):
    """The file cannot be imported at all (nothing was written); the message names the file.

    ``str(error)`` is the message as the command line prints it, with the option that helps there (``--map``,
    ``--kind``, ``--encoding``); ``error.plain`` is the same message without command-line options, for the
    upload page (where those choices are widgets) and the failed-import record. When the columns were the
    problem, ``error.columns`` is the matching as far as it got (:func:`match_columns`).
    """

    def __init__(self, message: str, *, cli: str = "", columns: Columns | None = None) -> None:
        super().__init__(f"{message} {cli}" if cli else message)
        self.plain = message
        self.columns = columns


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


# The order files of several kinds must be loaded in (a KPI needs its unit, an observation its KPI).
# Journeys and work items may come in either order (an item naming a journey not loaded yet is kept).
KIND_ORDER = ("units", "kpis", "campaigns", "kpi_observations", "journeys", "work_items")
JOURNEY_BATCH = 5_000  # rows per statement when journeys are compared, inserted and updated


def peek_kind(path: str | Path) -> str | None:
    """The kind a file's header suggests, from its first bytes only (for ordering several files)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(SAMPLE_BYTES)
        if head.startswith(PARQUET_MAGIC):
            import pyarrow.parquet as pq

            return infer_kind(list(pq.ParquetFile(path).schema_arrow.names))
        codec = (_marked_or_wide(head) or Encoding("utf-8", "UTF-8")).codec
        text = head.decode(codec, errors="replace").lstrip("\ufeff")
        line = next((ln for ln in text.splitlines() if ln.strip()), "")
        return infer_kind(next(csv.reader([line], delimiter=max(DELIMITERS, key=line.count)))) if line else None
    except Exception:  # unreadable: the import itself will say why
        return None


# --- reading the file ----------------------------------------------------------------------------------


@dataclass
class SourceFile:
    path: Path
    name: str  # what messages call it (an upload's original name, not the temp file)
    format: str  # csv | parquet
    size: int
    sha256: str
    header: list[str]
    encoding: str = "utf-8"  # the Python codec that reads it
    delimiter: str = ","
    warnings: list[str] = field(default_factory=list)
    encoding_label: str = "UTF-8"  # the encoding as people call it
    damaged_utf8: bool = False  # UTF-8 with a few bytes that are no character: their rows are quarantined


BOMS = (  # the four-byte UTF-32 marks first: UTF-32-LE's begins with UTF-16-LE's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 (big-endian, with a byte-order mark)"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 (with a byte-order mark)"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 (little-endian, with a byte-order mark)"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 (big-endian, with a byte-order mark)"),
)
WIDE = (  # without a mark: which byte positions are zero in text that is mostly ASCII (CSV headers always are)
    ("utf-32-le", 4, (1, 2, 3), "UTF-32 (little-endian)"), ("utf-32-be", 4, (0, 1, 2), "UTF-32 (big-endian)"),
    ("utf-16-le", 2, (1,), "UTF-16 (little-endian)"), ("utf-16-be", 2, (0,), "UTF-16 (big-endian)"),
)
BINARY_MAGIC = (  # what people upload by mistake, and what to do instead
    (b"PK\x03\x04", "a zip archive or an Excel workbook (.xlsx): save the sheet as CSV UTF-8 and import that"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls): save the sheet as CSV UTF-8 and import that"),
    (b"\x1f\x8b", "gzip-compressed: unpack it first"),
    (b"%PDF", "a PDF document, not CSV or Parquet"),
    (b"\x89PNG", "an image, not CSV or Parquet"), (b"\xff\xd8\xff", "an image, not CSV or Parquet"),
    (b"GIF8", "an image, not CSV or Parquet"), (b"SQLite format 3\x00", "a SQLite database, not CSV or Parquet"),
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # control characters no header holds (tab, CR, LF do)


@dataclass(frozen=True)
class Encoding:
    """How a file's bytes are text: the codec to read it with, its name for people, and what to tell them."""

    codec: str
    label: str
    warning: str | None = None  # a guess the user should know about (without the file's name)
    damaged_utf8: bool = False  # UTF-8 with a few bytes that are no character


def _marked_or_wide(head: bytes) -> Encoding | None:
    """UTF-8/16/32 recognised from the first bytes alone: a byte-order mark, or the zero bytes of UTF-16/32
    text without one. None: decide from the whole file (UTF-8, else a Windows code page)."""
    for mark, codec, label in BOMS:
        if head.startswith(mark):
            return Encoding(codec, label)
    for codec, width, zero_at, label in WIDE:
        n = len(head) - len(head) % width
        if n < 2 * width:
            continue
        lanes = [head[i:n:width] for i in range(width)]
        zero = [lane.count(0) / len(lane) for lane in lanes]
        if all(zero[i] >= 0.4 for i in zero_at) and all(zero[i] <= 0.05 for i in range(width) if i not in zero_at):
            try:
                head[:n].decode(codec)
            except UnicodeDecodeError:
                continue
            return Encoding(codec, label, f"has no byte-order mark; read as {label}")
    return None


def sniff_encoding(path: str | Path) -> Encoding:
    """The encoding of a text file, for the command line and the upload page alike.

    A byte-order mark settles it (UTF-8, UTF-16 or UTF-32, either byte order), as do the zero bytes of UTF-16
    or UTF-32 text without one. Otherwise the whole file is read once: valid UTF-8 is UTF-8; UTF-8 with a few
    bytes that are no character (a pasted Windows-1252 "é" among proper UTF-8 text) is still UTF-8, and the
    rows holding those bytes are quarantined rather than every accented letter of the file being misread;
    a file with more bytes that are no UTF-8 character than UTF-8 characters beyond ASCII is Windows-1252 (or
    Latin-1 when even that fails), with a warning.
    """
    path = Path(path)
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    return _scan(path, head)[1]


NON_ASCII = re.compile(r"[^\x00-\x7f\ufffd]")


def _utf8_tally(path: Path, digest=None, skip: int = 0) -> tuple[int, int]:
    """(characters beyond ASCII that are proper UTF-8, bytes that are no UTF-8 character) after the first
    ``skip`` bytes, in one pass that also feeds ``digest``. Pure ASCII blocks (most of an export) are only hashed."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    good = bad = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            if digest is not None:
                digest.update(block)
            block, skip = block[skip:], max(skip - len(block), 0)
            if block.isascii() and not decoder.getstate()[0]:
                continue
            text = decoder.decode(block)
            bad += max(text.count("\ufffd") - block.count(b"\xef\xbf\xbd"), 0)  # a written U+FFFD is text
            good += len(NON_ASCII.findall(text))
    bad += decoder.decode(b"", final=True).count("\ufffd")
    return good, bad


def _decide_8bit(path: Path, tally: tuple[int, int], *, utf8_mark: bool) -> Encoding:
    good, bad = tally
    codec, label = ("utf-8-sig", "UTF-8 (with a byte-order mark)") if utf8_mark else ("utf-8", "UTF-8")
    if not bad:
        return Encoding(codec, label)
    if good >= bad or utf8_mark:
        return Encoding(codec, label, f"{fmt.count(bad)} byte(s) are not UTF-8 (the rest of the file is); the rows "
                                      "holding them are quarantined", damaged_utf8=True)
    codec = "cp1252" if _decodes(path, "cp1252") else "latin-1"
    label = "Windows-1252" if codec == "cp1252" else "Latin-1"
    return Encoding(codec, label, f"not UTF-8, so read as {label}; if accented letters look wrong, save it as CSV "
                                  "UTF-8 and import it again")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _scan(path: Path, head: bytes) -> tuple[str, Encoding]:
    """SHA-256 of the bytes and the encoding (as :func:`sniff_encoding` finds it), in one streaming pass."""
    marked = _marked_or_wide(head)
    if marked is not None and marked.codec != "utf-8-sig":  # UTF-16/32: only the hash
        return _sha256(path), marked
    digest = hashlib.sha256()
    tally = _utf8_tally(path, digest, skip=len(codecs.BOM_UTF8) if marked else 0)
    return digest.hexdigest(), _decide_8bit(path, tally, utf8_mark=marked is not None)


def open_source(path: str | Path, *, name: str | None = None, encoding: str | None = None,
                delimiter: str | None = None) -> SourceFile:
    """Look at a file: format, size, hash, encoding, delimiter and header. Raises IngestError if unreadable."""
    path = Path(path)
    name = name or path.name
    if not path.is_file():
        raise IngestError(f"{name}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise IngestError(f"{name}: the file is empty (0 bytes); nothing to import")
    with path.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if head.startswith(PARQUET_MAGIC) or path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        sha = _sha256(path)
        try:
            header = list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:  # pyarrow raises several types for damaged files
            raise IngestError(f"{name}: not a readable Parquet file ({_first_line(exc)}); "
                              "was it truncated or cut short by the upload?") from None
        return SourceFile(path, name, "parquet", size, sha, header, encoding_label="")
    for magic, what in BINARY_MAGIC:
        if head.startswith(magic):
            raise IngestError(f"{name}: looks like {what}")
    sha, found = _scan(path, head)
    src = SourceFile(path, name, "csv", size, sha, [])
    if encoding:
        src.encoding = src.encoding_label = encoding
    else:
        src.encoding, src.encoding_label, src.damaged_utf8 = found.codec, found.label, found.damaged_utf8
        if found.warning:
            src.warnings.append(f"{name}: {found.warning}")
    try:  # the sample may end inside a character; the whole file's encoding was checked by _scan
        text = head.decode(src.encoding, errors="replace" if encoding or src.damaged_utf8 else "ignore")
    except LookupError as exc:
        raise IngestError(f"{name}: unknown encoding {src.encoding!r} ({_first_line(exc)})") from None
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    first_line = next((ln for ln in lines if ln.strip()), "")
    if not first_line:
        raise IngestError(f"{name}: has no header row (only blank lines)")
    if CONTROL.search(first_line):  # a NUL in a data row is that row's problem; in the header, the file is binary
        raise IngestError(f"{name}: looks like a binary file, not CSV or Parquet (its first line holds control "
                          "characters such as NUL)")
    src.delimiter = delimiter or max(DELIMITERS, key=first_line.count)
    if src.delimiter != "," and not delimiter:
        src.warnings.append(f"{name}: read with {delimiter_name(src.delimiter)} as the delimiter")
    records = csv.reader(io.StringIO(text), delimiter=src.delimiter)
    src.header = next(records)
    try:  # pandas would silently make a first data row with one cell too many the index
        first = next((r for r in records if r), None)
    except csv.Error:
        first = None
    whole = size <= SAMPLE_BYTES or text.count("\n") >= 2  # the first data row is entirely in the sample
    if first is not None and len(first) > len(src.header) and whole:
        raise IngestError(f"{name}: row 2 has {len(first)} cells but the header has {len(src.header)} columns — "
                          f"a missing quote around a value that contains {delimiter_name(src.delimiter)}s? "
                          "Nothing was imported.")
    return src


def _decodes(path: Path, encoding: str) -> bool:
    try:
        with path.open(encoding=encoding) as fh:
            while fh.read(1 << 20):
                pass
        return True
    except UnicodeDecodeError:
        return False


def delimiter_name(d: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(d, repr(d))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def read_chunks(src: SourceFile, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The file as text DataFrames (original column names), indexed by spreadsheet row number."""
    if src.format == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(src.path)
            start = 1
            for batch in pf.iter_batches(batch_size=chunk_rows):
                frame = batch.to_pandas()
                text = pd.DataFrame({c: _as_text(frame[c]) for c in frame.columns})
                text.index = pd.RangeIndex(start, start + len(text))
                start += len(text)
                yield text
        except IngestError:
            raise
        except Exception as exc:
            raise IngestError(f"{src.name}: could not read the Parquet data ({_first_line(exc)})") from None
        return
    reader = pd.read_csv(
        src.path, sep=src.delimiter, dtype=str, keep_default_na=False, na_values=[], encoding=src.encoding,
        chunksize=chunk_rows, skip_blank_lines=True, engine="c", quotechar='"',
        encoding_errors="replace" if src.damaged_utf8 else "strict",  # U+FFFD marks the rows to quarantine
        index_col=False,
    )
    start = 2
    try:
        for chunk in reader:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            yield chunk
    except pd.errors.ParserError as exc:
        raise IngestError(f"{src.name}: {_parser_message(str(exc), src)}") from None
    except UnicodeDecodeError as exc:
        raise IngestError(f"{src.name}: not valid {src.encoding_label} near row {start} ({exc.reason}); save it as "
                          "CSV UTF-8 and import it again", cli="(or pass --encoding)") from None
    finally:
        reader.close()


def _parser_message(text: str, src: SourceFile) -> str:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        want, line, saw = m.groups()
        return (f"row {line} has {saw} cells but the header has {want} columns — a missing quote around a value "
                f"that contains {delimiter_name(src.delimiter)}s? Nothing was imported.")
    return f"malformed CSV ({_first_line(Exception(text))}); nothing was imported"


def _as_text(values: pd.Series) -> pd.Series:
    """A Parquet column as the text a CSV would hold (timestamps ISO 8601, missing empty)."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
        out = values.map(lambda v: v.isoformat() if pd.notna(v) else "")
        return out.astype("string")
    out = values.astype("string")
    if pd.api.types.is_bool_dtype(values):
        out = out.str.lower()
    return out.fillna("")


# --- columns -------------------------------------------------------------------------------------------


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
        best = max(share, key=share.get)
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


# --- de-duplication across chunks ----------------------------------------------------------------------


class KeySet:
    """The natural keys seen so far in this file, as 64-bit hashes with the row that had each.

    Memory is 16 bytes a row whatever the key length (a 30M-row file: ~0.5 GB), kept as a few sorted runs
    merged like a log-structured tree. A hash match is confirmed by the caller (the first row's key is in
    the database by then), so a collision cannot quarantine a row wrongly.
    """

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    @staticmethod
    def hashes(keys: pd.Series) -> np.ndarray:
        return pd.util.hash_array(keys.to_numpy(dtype=object)).view(np.int64)

    def first_rows(self, hashes: np.ndarray) -> np.ndarray:
        """For each hash, the row number it was first seen at (0 when new)."""
        out = np.zeros(len(hashes), dtype=np.int64)
        for h, rows in self.runs:
            pos = np.searchsorted(h, hashes).clip(0, len(h) - 1)
            hit = (h[pos] == hashes) & (out == 0)
            out[hit] = rows[pos[hit]]
        return out

    def add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable")
        self.runs.append((hashes[order], rows[order]))
        while len(self.runs) > 1 and len(self.runs[-1][0]) * 2 >= len(self.runs[-2][0]):
            (h2, r2), (h1, r1) = self.runs.pop(), self.runs.pop()
            h, r = np.concatenate([h1, h2]), np.concatenate([r1, r2])
            order = np.argsort(h, kind="stable")
            self.runs.append((h[order], r[order]))


# --- the import ----------------------------------------------------------------------------------------


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _require_importer(viewer: object) -> Viewer:
    v = require_viewer(viewer)
    if v.role not in IMPORTERS:
        raise NotPermitted(f"{v.user} may not import data (hub leads and admins can)")
    return v


def previous_import(engine: Engine, kind: str, content_hash: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(imports.c.id, imports.c.started_at, imports.c.file_name, imports.c.status)
            .where(imports.c.kind == kind, imports.c.content_hash == content_hash,
                   imports.c.status.in_(("ok", "quarantined")))
            .order_by(imports.c.id.desc()).limit(1)
        ).mappings().first()
    return dict(row) if row else None


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
    prev = previous_import(engine, kind, src.sha256)
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
        report.import_id = conn.execute(insert(imports).values(
            source=report.source, file_name=src.name, kind=kind, content_hash=src.sha256, size_bytes=src.size,
            started_at=now, status="running", rows_read=0, inserted=0, updated=0, unchanged=0, quarantined=0,
            imported_by=who.user,
        ).returning(imports.c.id)).scalar_one()
        _load(conn, src, cols, report, tz, now, chunk_rows)
        if report.rows_read == 0:
            report.warnings.append(f"{src.name}: the header is there but there are no data rows; nothing to import")
        conn.execute(update(imports).where(imports.c.id == report.import_id).values(
            status=report.status, finished_at=dt.datetime.now(dt.UTC), rows_read=report.rows_read,
            inserted=report.inserted, updated=report.updated, unchanged=report.unchanged,
            quarantined=report.quarantined, message="\n".join(report.warnings) or None,
        ))
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
            conn.execute(insert(imports).values(
                source=report.source, file_name=report.file_name, kind=report.kind, content_hash=report.content_hash,
                size_bytes=report.size_bytes, started_at=now, finished_at=dt.datetime.now(dt.UTC),
                status="failed", rows_read=0, inserted=0, updated=0, unchanged=0, quarantined=0, message=message,
                imported_by=who.user,
            ))
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
    oddities = _Oddities(now, routing.hub_ids(conn))
    given = list(cols.rename.values())
    written_by = f"import #{report.import_id}"
    size = chunk_rows or (CHUNK_ROWS if kind in ("work_items", "kpi_observations", "journeys") else REFERENCE_CHUNK_ROWS)

    dialect = conn.dialect.name
    columns = [c for c in all_columns(kind) if c in given]
    rules = _Routing.read(conn) if kind == "work_items" else None

    def checked_chunks() -> Iterator[tuple[pd.DataFrame, Checked, list[tuple[np.ndarray, object]], tuple]]:
        """Read, validate and (work items) route and convert to driver rows: all off the connection, one chunk
        ahead. Work items come as parts (row numbers, prepared rows): rows with a target, and rows routed here
        (written with their routing columns too)."""
        for chunk in read_chunks(src, size):
            named = chunk[list(cols.rename)].rename(columns=cols.rename)
            checked = validate_frame(kind, named, tz, known_units=set(known_units),
                                     known_kpis=known_kpis if kind == "kpi_observations" else None)
            if src.damaged_utf8:
                checked = _refuse(checked, _undecodable(named))
            parts: list[tuple[np.ndarray, object]] = []
            outcome: tuple = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
            if kind == "work_items" and len(checked.valid):
                checked, routed, outcome = rules.route(checked, known_units)
                repeated = checked.keys.loc[checked.valid.index].duplicated(keep="first").to_numpy()
                first = checked.valid[~repeated]  # the first of each key; later ones are quarantined
                given_target = ~first.index.isin(routed.index)
                if given_target.any():
                    rows = first[given_target]
                    parts.append((rows.index.to_numpy(), store.prepare_work_items(
                        rows[columns], written_by=written_by, at=now, dialect=dialect)))
                rows = routed.loc[routed.index.isin(first.index)]
                if len(rows):
                    parts.append((rows.index.to_numpy(), store.prepare_work_items(
                        rows[list(dict.fromkeys([*columns, *routing.ROUTED_COLUMNS]))], written_by=written_by,
                        at=now, dialect=dialect)))
            yield chunk, checked, parts, outcome

    # A big file into an empty table (a first import) builds the table's indexes once at the end.
    table = {"work_items": work_items, "kpi_observations": kpi_observations}.get(kind)
    bulk = store.deferred_indexes(conn, table, src.size // BYTES_PER_ROW) if table is not None else nullcontext()
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
                        done = store.upsert_work_items(conn, prepared if kept.all() else prepared.take(kept))
                        counts.inserted += done.inserted
                        counts.updated += done.updated
                        counts.unchanged += done.unchanged
                    report.routed_by_rules += int(np.isin(outcome[0], valid.index.to_numpy()).sum())
                    report.unrouted += int(np.isin(outcome[1], valid.index.to_numpy()).sum())
                elif kind == "kpi_observations":
                    counts = store.upsert_kpi_observations(conn, frame)
                elif kind == "journeys":
                    counts = upsert_journeys(conn, frame)
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
                        _mark_fixed(conn, kind, fixed, report.import_id)
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
            rule_set = routing.active_rule_set(conn)
        except routing.InvalidActiveRules as exc:
            rule_set, problems = None, list(exc.problems)
        return cls(rule_set, routing.hub_ids(conn), problems)

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
                done = routing.apply(self.rule_set, mine, hub, None)
                unknown = ~done.target_unit.isin(known_units)
                if unknown.any():
                    done = pd.concat([done[~unknown], routing.apply(None, mine[unknown.to_numpy()], hub, None)])
                parts.append(done)
        routed = pd.concat(parts).sort_index()
        # Created near the end of 9999 and given a rule's longer SLA. Judged from created_at + sla_hours rather
        # than the routed due_at: pandas reads an object column holding the year 10000 back as 1972.
        late = due_past_latest(routed.created_at, routed.sla_hours)
        if late.any():
            checked = _refuse(checked, pd.Series(ROUTED_PAST_LATEST, index=routed.index[late], dtype=object))
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


# --- journeys ------------------------------------------------------------------------------------------


def _instants(values: pd.Series) -> np.ndarray:
    """Timestamps (aware datetimes, naive-UTC ISO text or a datetime64 column) as µs since the epoch in UTC,
    NaN where missing (exact as floats: µs stay below 2**53 until the year 2255)."""
    if values.dtype == object:
        values = pd.to_datetime(values, utc=True, format="ISO8601")
    naive = values.dt.tz_convert(None).to_numpy(dtype="datetime64[us]")
    return np.where(np.isnat(naive), np.nan, naive.view(np.int64).astype(float))


def _stored_journeys(conn, ids: list[str], columns: list[str]) -> pd.DataFrame:
    """The stored values of ``columns`` for those of ``ids`` that exist; times as µs (float, NaN = none)."""
    j = journeys.c
    text = conn.dialect.name == "sqlite"  # SQLite keeps ISO text: parse it in one vectorised call
    wanted = [type_coerce(j[c], String).label(c) if text and c != "revenue" else j[c] for c in columns]
    rows = conn.execute(select(j.id, *wanted).where(store.where_key_in(conn, j.id, ids))).all()
    stored = pd.DataFrame({c: pd.Series(list(v), dtype=object)
                           for c, v in zip(["id", *columns], zip(*rows) if rows else [()] * (len(columns) + 1))})
    for c in columns:
        if c == "revenue":
            stored[c] = pd.to_numeric(stored[c], errors="coerce").fillna(0.0).astype(float)
        else:
            stored[c] = _instants(stored[c]) if len(stored) else np.empty(0)
    return stored


def upsert_journeys(conn, rows: pd.DataFrame) -> store.UpsertCounts:
    """Customer journeys by id: new ones inserted, changed ones updated (only the columns given: a file
    without ``revenue`` keeps the stored revenue), identical ones counted unchanged and left alone.

    ``rows`` is validated contract output (``id`` and ``started_at`` always; ``converted_at`` and ``revenue``
    when the file has them), ids unique. Compared in batches of :data:`JOURNEY_BATCH` ids; every statement
    binds its values (new journeys go in through :func:`dashboard.store.insert_journeys`). No rollup depends
    on journeys, and their work items may be imported before or after.
    """
    counts = store.UpsertCounts()
    if rows.empty:
        return counts
    columns = [c for c in ("started_at", "converted_at", "revenue") if c in rows.columns]
    j = journeys.c
    for start in range(0, len(rows), JOURNEY_BATCH):
        part = rows.iloc[start:start + JOURNEY_BATCH]
        ids = part["id"].tolist()
        stored = _stored_journeys(conn, ids, columns)
        at = pd.Index(stored["id"].to_numpy(dtype=object)).get_indexer(ids)  # -1: not stored yet
        known = at >= 0
        same = known.copy()
        for c in columns:
            now = part[c].to_numpy(dtype=float) if c == "revenue" else _instants(part[c])
            old = np.where(known, stored[c].to_numpy(dtype=float)[at.clip(0)] if len(stored) else np.nan, np.nan)
            same &= (now == old) | (np.isnan(now) & np.isnan(old))
        changed = known & ~same
        counts.inserted += int((~known).sum())
        counts.updated += int(changed.sum())
        counts.unchanged += int(same.sum())
        if (~known).any():  # the store's bulk path: COPY on PostgreSQL, pre-rendered text on SQLite
            store.insert_journeys(conn, part[~known], batch_size=JOURNEY_BATCH)
        if changed.any():
            conn.execute(
                update(journeys).where(j.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in columns}),
                [{f"b_{k}": v for k, v in r.items()} for r in _journey_records(part[changed], columns)])
    return counts


def _journey_records(part: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Driver rows: aware UTC datetimes (None when missing) and plain floats."""
    out = {"id": part["id"].tolist()}
    for c in columns:
        if c == "revenue":
            out[c] = part[c].astype(float).tolist()
        else:
            values = part[c].dt.to_pydatetime()
            out[c] = [None if v is pd.NaT or v is None else v for v in values]
    return [dict(zip(out, values)) for values in zip(*out.values())]


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
UNDECODABLE = "not valid UTF-8 (bytes that are no character, shown as \ufffd)"


def _refuse(checked: Checked, reasons: pd.Series) -> Checked:
    """``checked`` with more rows refused: ``reasons`` (row -> reason) joins a row's other reasons, if any."""
    if reasons.empty:
        return checked
    errors = pd.concat([checked.errors, reasons]).groupby(level=0, sort=True).agg("; ".join)
    return Checked(valid=checked.valid.drop(index=reasons.index, errors="ignore"), errors=errors.astype(object),
                   keys=checked.keys, formula_cells=checked.formula_cells)


def _undecodable(named: pd.DataFrame) -> pd.Series:
    """Row -> reason for the contract cells holding U+FFFD, which is what a byte that is no UTF-8 character is
    read as in a damaged UTF-8 file."""
    found: dict[int, list[str]] = {}
    for column in named.columns:
        hit = named[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
        for row in named.index[hit]:
            found.setdefault(row, []).append(f"{column}: {UNDECODABLE}")
    return pd.Series({row: "; ".join(r) for row, r in found.items()}, dtype=object)


@dataclass
class Oddity:
    """Rows imported as given that are probably wrong: how many, and the first row numbers, for the summary."""

    check: str  # future | due_far_ahead | to_itself | out_of_order | conversions_over_leads
    what: str  # follows "N row(s)": "have more conversions than leads"
    count: int = 0
    rows: list[int] = field(default_factory=list)  # the first few, as a spreadsheet numbers them
    columns: list[str] = field(default_factory=list)  # the columns that showed it (future: which dates)

    def text(self, file_name: str) -> str:
        shown = ", ".join(map(str, self.rows)) + (", …" if self.count > len(self.rows) else "")
        return (f"{file_name}: {fmt.count(self.count)} row(s) {self.what} (row{'s' if self.count > 1 else ''} "
                f"{shown}); imported as given: check them at the source")


class _Oddities:
    """Counts rows that pass the contract but are probably wrong: dates in the future, an item due more than a
    year after the import (an SLA or due time typed wrong; items already dated in the future are counted there
    only), an item sent from a unit to itself, times out of order, more conversions than leads. They are imported
    (they are not invalid) and the report warns about each kind with its count and the first rows. An item from a
    hub to itself is not counted: that is how an item waits unrouted at the hub."""

    ROWS_SHOWN = 5
    DUE_AHEAD = dt.timedelta(days=365)  # an item due later than this after the import was probably typed wrong
    EVENTS = {"work_items": ("created_at", "routed_at", "accepted_at", "resolved_at"), "kpi_observations": ("ts",),
              "journeys": ("started_at", "converted_at"), "campaigns": ("period_start",)}
    ORDER = (("routed_at", "created_at"), ("accepted_at", "created_at"), ("accepted_at", "routed_at"),
             ("resolved_at", "accepted_at"), ("resolved_at", "routed_at"))  # the first must not be before the second

    def __init__(self, now: dt.datetime, hubs: list[str]) -> None:
        self.after = pd.Timestamp(now).tz_convert("UTC") + pd.Timedelta(days=1)  # a day's grace for clocks and zones
        self.due_after = pd.Timestamp(now).tz_convert("UTC") + self.DUE_AHEAD
        self.hubs = hubs
        self.seen: dict[str, Oddity] = {}

    def _add(self, check: str, what: str, rows: pd.Index, columns: list[str] = ()) -> None:
        if len(rows) == 0:
            return
        odd = self.seen.setdefault(check, Oddity(check, what))
        odd.count += len(rows)
        odd.rows.extend(int(r) for r in rows[: self.ROWS_SHOWN - len(odd.rows)])
        odd.columns.extend(c for c in columns if c not in odd.columns)

    def look(self, kind: str, valid: pd.DataFrame) -> None:
        if valid.empty:
            return
        future = np.zeros(len(valid), dtype=bool)
        late_columns = []
        for column in self.EVENTS.get(kind, ()):
            if column not in valid:
                continue
            values = valid[column]
            if kind == "campaigns":
                late = np.array([v is not None and v > self.after.date() for v in values], dtype=bool)
            else:
                late = (values.notna() & (values > self.after)).to_numpy()
            if late.any():
                late_columns.append(column)
            future |= late
        self._add("future", "are dated in the future", valid.index[future], late_columns)
        if kind == "work_items" and "created_at" in valid and "sla_hours" in valid:
            self._add("due_far_ahead", f"are due more than a year after the import (due_at, or created_at + "
                      f"sla_hours, later than {fmt.moment(self.due_after)} UTC)",
                      valid.index[self._due_after(valid) & ~future])
        if kind == "work_items" and "target_unit" in valid:
            itself = (valid.target_unit.notna() & (valid.target_unit == valid.source_unit)
                      & ~valid.source_unit.isin(self.hubs)).to_numpy()
            self._add("to_itself", "send an item from a unit to itself (source_unit equals target_unit)",
                      valid.index[itself])
        if kind == "work_items":
            wrong = np.zeros(len(valid), dtype=bool)
            for later, earlier in self.ORDER:
                if later in valid and earlier in valid:
                    wrong |= (valid[later].notna() & valid[earlier].notna() & (valid[later] < valid[earlier])).to_numpy()
            self._add("out_of_order", "have times out of order (routed or accepted before created, or resolved before "
                      "routed or accepted)", valid.index[wrong])
        if kind == "campaigns":
            more = (valid.conversions > valid.leads).to_numpy()
            self._add("conversions_over_leads", "have more conversions than leads", valid.index[more])

    def _due_after(self, valid: pd.DataFrame) -> np.ndarray:
        """Where an item's due time (``due_at``, else ``created_at + sla_hours``) is past :attr:`due_after`; in
        microseconds as floats, since a due time near 9999 is past what pandas' timestamps hold."""
        def micros(times: pd.Series) -> np.ndarray:
            values = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
            return np.where(np.isnat(values), np.nan, values.view(np.int64).astype(float))

        limit = (self.due_after.to_pydatetime() - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) / dt.timedelta(
            microseconds=1)
        with np.errstate(invalid="ignore", over="ignore"):
            due = micros(valid.created_at) + pd.to_numeric(valid.sla_hours, errors="coerce").to_numpy(float) * 3_600e6
            if "due_at" in valid and pd.api.types.is_datetime64_any_dtype(valid.due_at):
                given = micros(valid.due_at)
                due = np.where(np.isnan(given), due, given)
            return np.nan_to_num(due, nan=-np.inf) > limit

    def found(self) -> list[Oddity]:
        def said(odd: Oddity) -> Oddity:
            if odd.check != "future":
                return odd
            when = f"{', '.join(odd.columns)} later than {fmt.moment(self.after)} UTC, a day after the import"
            return replace(odd, what=f"{odd.what} ({when})")

        return [said(odd) for odd in self.seen.values()]


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
    conn.execute(insert(quarantine), records)
    report.quarantined += len(records)


def _mark_fixed(conn, kind: str, keys: set[str], import_id: int) -> None:
    q = quarantine.c
    for chunk in store._chunks(sorted(keys), store.IN_CHUNK):
        conn.execute(update(quarantine).where(q.kind == kind, q.status == "open", q.import_id != import_id,
                                              q.row_key.in_(chunk)).values(status="fixed", fixed_by_import=import_id))


# --- preview (the upload page) -------------------------------------------------------------------------


@dataclass
class Preview:
    source: SourceFile
    kind: str | None
    columns: Columns | None
    rows: pd.DataFrame  # the first rows as text, original column names
    message: str | None = None  # why the kind or columns could not be settled


def preview(path: str | Path, *, name: str | None = None, kind: str | None = None,
            mapping: Mapping[str, str] | None = None, rows: int = 20) -> Preview:
    """The first rows, the kind and the column mapping, without touching the database. When the columns do not
    fit, ``columns`` still holds every column that matched (and names the missing ones) and ``message`` says
    what is wrong without command-line options."""
    src = open_source(path, name=name)
    first = next(read_chunks(src, rows), pd.DataFrame(columns=src.header))
    try:
        cols = choose_kind(src, kind, mapping)
        return Preview(src, cols.kind, cols, first)
    except IngestError as exc:
        cols = exc.columns
        return Preview(src, cols.kind if cols else kind, cols if cols and cols.kind else None, first, exc.plain)


__all__ = ["ingest", "upsert_journeys", "IngestError", "ImportReport", "Problem", "open_source", "read_chunks", "choose_kind",
           "resolve_columns", "match_columns", "Columns", "preview", "Preview", "KeySet", "CHUNK_ROWS", "sniff_encoding",
           "Encoding", "Oddity"]
