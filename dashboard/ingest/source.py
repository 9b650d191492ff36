"""Reading an import file: format, encoding, delimiter, header, and its rows as text in chunks.

:func:`open_source` looks at a file (CSV or Parquet) without loading it: size, SHA-256, encoding, delimiter and
header, or an :class:`~dashboard.ingest.errors.IngestError` when only what makes the whole file unreadable is
wrong: no header, a binary file, a line with more cells than the header, a damaged Parquet file.
:func:`read_chunks` then streams it as text frames indexed by row number as a spreadsheet shows them (the header
is row 1, the first data row row 2; Parquet: the first record is row 1; blank lines are skipped and not counted).

The encoding is found by :func:`sniff_encoding` (UTF-8, UTF-16 and UTF-32 with or without a byte-order mark,
else Windows-1252), the same for the command line and the upload page. A UTF-8 file with a few bytes that are no
character is read as UTF-8 with those bytes as U+FFFD, so that only the rows holding them are quarantined
(:func:`dashboard.ingest.validate.undecodable`). :func:`peek_kind` reads only the first bytes, to order several
files.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard.domain import format as fmt
from dashboard.ingest.contract import infer_kind
from dashboard.ingest.errors import IngestError
from dashboard.ingest.errors import first_line as _first_line

CHUNK_ROWS = 100_000
SAMPLE_BYTES = 64 * 1024
DELIMITERS = (",", ";", "\t", "|")
PARQUET_MAGIC = b"PAR1"


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
    forced: set[str] | None = set(_numeric_looking(src))
    delivered = 0  # chunks handed out so far: a read started again skips them
    while True:
        try:
            for chunk in _csv_chunks(src, chunk_rows, forced, skip=delivered):
                delivered += 1
                yield chunk
            return
        except _NotText as exc:  # a column read as numbers: read the file again with it as text
            forced = forced | exc.columns if forced is not None and exc.columns - forced else None


class _NotText(Exception):
    def __init__(self, columns: set[str]) -> None:
        super().__init__(", ".join(sorted(columns)))
        self.columns = columns


NUMERIC_LOOKING = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity|nan)|true|false",
                             re.IGNORECASE)


def _numeric_looking(src: SourceFile) -> list[str]:
    """Header columns whose cells in the first bytes of the file are all numbers or true/false (or empty): read as
    text from the start, so the parser does not read them as numbers (see :func:`_csv_chunks`)."""
    try:
        with src.path.open("rb") as fh:
            text = fh.read(SAMPLE_BYTES).decode(src.encoding, errors="replace").lstrip("\ufeff")
        rows = list(csv.reader(io.StringIO(text), delimiter=src.delimiter))[1:-1]  # the last may be cut short
    except (csv.Error, LookupError):
        return list(src.header)
    looking = []
    for i, name in enumerate(src.header):
        cells = [r[i].strip() for r in rows if len(r) > i and r[i].strip()]
        if not cells or all(NUMERIC_LOOKING.fullmatch(c) for c in cells):
            looking.append(name)
    return looking


def _csv_chunks(src: SourceFile, chunk_rows: int, as_text: set[str] | None, skip: int) -> Iterator[pd.DataFrame]:
    """The CSV in chunks of text, skipping the first ``skip`` chunks.

    Every cell must come out as the text in the file. Asking the parser for text in every column (``dtype=str``)
    costs about five times as much as letting it infer each column's type, which yields text anyway for any
    column that is not all numbers or booleans. So only ``as_text`` columns (those that look numeric in the
    first bytes) are read as text explicitly; a column the parser still reads as numbers or booleans in some
    chunk raises :class:`_NotText` (the caller reads the file again with that column as text too). A column of
    only missing cells is text already (NaN). ``as_text=None``: every column as text (the last resort).
    """
    dtype: type | dict[str, type] = str if as_text is None else dict.fromkeys(as_text, str)
    reader = pd.read_csv(
        src.path, sep=src.delimiter, dtype=dtype, keep_default_na=False, na_values=[], encoding=src.encoding,
        chunksize=chunk_rows, skip_blank_lines=True, engine="c", quotechar='"',
        encoding_errors="replace" if src.damaged_utf8 else "strict",  # U+FFFD marks the rows to quarantine
        index_col=False,
    )
    start = 2
    number = 0
    try:
        for chunk in reader:
            chunk.index = pd.RangeIndex(start, start + len(chunk))
            start += len(chunk)
            number += 1
            if number <= skip:
                continue
            numeric = {str(c) for c, t in chunk.dtypes.items() if not isinstance(t, pd.StringDtype)}
            for column in list(numeric):
                if chunk[column].isna().all():  # only missing cells: nothing was read as a number
                    chunk[column] = chunk[column].astype("str")
                    numeric.discard(column)
            if numeric:
                raise _NotText(numeric)
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
