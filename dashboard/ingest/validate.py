"""Validation of a chunk of text cells against the data contract (:mod:`dashboard.ingest.contract`), at ingest speed.

:func:`validate_frame` checks a whole chunk with pandas and gives every bad row its own reasons, each naming the
column; :func:`validate_row` is the reference: one row through the pydantic model (tests run the same rows
through both and require them to agree). :func:`refuse` and :func:`undecodable` add what an importer finds on top
of the contract (a damaged UTF-8 file's cells).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from pydantic import ValidationError

from dashboard.domain.vocabulary import Status
from dashboard.ingest.contract import (
    BOOLS,
    DUE_PAST_LATEST,
    EARLIEST,
    FORMULA_START,
    HAS_NUL,
    ISO_DATE,
    KEYS,
    LATEST,
    MAX_MAGNITUDE,
    MODELS,
    NO_CONVERSION,
    NOT_IN_RANGE,
    PATTERN_HELP,
    TOO_BIG,
    WHOLE,
    base_type,
    cell_checks,
    constraints,
    field_type,
)


@dataclass
class Checked:
    """A validated chunk. ``valid`` is typed and keeps the chunk's index (the row positions)."""

    valid: pd.DataFrame
    errors: pd.Series  # index = row position in the chunk; value = "; "-joined "column: problem"
    keys: pd.Series  # every row's natural key as text (typed value where it parsed, else the raw text)
    formula_cells: int  # free-text cells that start like a formula (kept verbatim; exports neutralise them)


class _Reasons:
    """Collects (mask, reason) pairs; only rows with a problem ever get a list."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.masks: list[tuple[np.ndarray, str]] = []

    def flag(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.masks.append((m, reason))

    def any(self) -> np.ndarray:
        out = np.zeros(len(self.index), dtype=bool)
        for m, _ in self.masks:
            out |= m
        return out

    def joined(self) -> pd.Series:
        bad = self.any()
        if not bad.any():
            return pd.Series([], dtype=object, index=self.index[:0])
        where = np.flatnonzero(bad)
        texts: dict[int, list[str]] = {int(i): [] for i in where}
        for m, reason in self.masks:
            for i in np.flatnonzero(m):
                texts[int(i)].append(reason)
        return pd.Series(["; ".join(texts[int(i)]) for i in where], index=self.index[where], dtype=object)


NAIVE = r"^\d{4}-\d\d-\d\d(?:[T ]\d\d(?::\d\d(?::\d\d(?:[.,]\d+)?)?)?)?$"  # ISO without an offset


def _localize(naive: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Naive local times in ``tz``. In the hour clocks repeat when summer time ends the earlier (summer)
    reading is taken; a time in the hour skipped when it starts is read one hour later (02:15 -> 03:15),
    which keeps distinct readings distinct."""
    summer = np.ones(len(naive), dtype=bool)
    return naive.dt.tz_localize(tz, ambiguous=summer, nonexistent=pd.Timedelta(hours=1))


def parse_timestamps(text: pd.Series, tz: ZoneInfo) -> pd.Series:
    """ISO 8601 text (mixed spellings allowed) as UTC; naive values are local to ``tz``. NaT where invalid."""
    present = (text.notna() & (text != "")).to_numpy(dtype=bool)
    us = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    if present.any():
        us[present] = _parse_us(text if present.all() else text[present], tz)
    return pd.Series(us.view("datetime64[us]"), index=text.index).dt.tz_localize("UTC")


def _as_us(parsed: pd.Series) -> np.ndarray:
    return parsed.dt.tz_convert("UTC").astype("datetime64[us, UTC]").array.asi8.copy()


def _parse_us(values: pd.Series, tz: ZoneInfo) -> np.ndarray:
    """Non-empty cells as int64 µs since the epoch (NaT's integer where invalid)."""
    try:  # fast path: a column that is all naive or all one offset parses in one go
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce")
        if parsed.dt.tz is None:
            parsed = _localize(parsed, tz)
        return _as_us(parsed)
    except (ValueError, TypeError):
        pass
    naive = values.str.fullmatch(NAIVE, na=False).to_numpy(dtype=bool)
    us = np.empty(len(values), dtype=np.int64)
    if naive.any():
        us[naive] = _as_us(_localize(pd.to_datetime(values[naive], format="ISO8601", errors="coerce"), tz))
    if not naive.all():
        us[~naive] = _as_us(pd.to_datetime(values[~naive], format="ISO8601", errors="coerce", utc=True))
    return us


def _is_utc(tz: Any) -> bool:
    return tz is dt.UTC or getattr(tz, "key", None) in ("UTC", "Etc/UTC")


def _key_text(values: pd.Series, ftype: str) -> pd.Series:
    if ftype == "datetime":
        return values.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if ftype == "date":
        return pd.Series([v.isoformat() if isinstance(v, dt.date) else None for v in values], index=values.index)
    return values.astype(object)


def validate_frame(kind: str, raw: pd.DataFrame, tz: ZoneInfo, *, known_units: set[str] | None = None,
                   known_kpis: set[str] | None = None) -> Checked:
    """Validate a chunk whose columns are contract names holding text (missing cells empty or NA).

    Every row comes out either typed in ``valid`` or with reasons in ``errors``. Referential checks run
    when the known ids are given. Duplicates are not judged here (the importer sees the whole file). A field
    checked by a function (office hours, time zone) keeps what the function returns (the canonical spelling).
    """
    model = MODELS[kind]
    index = raw.index
    reasons = _Reasons(index)
    out = pd.DataFrame(index=index)
    key_parts: dict[str, pd.Series] = {}
    formula_cells = 0
    for name, field in model.model_fields.items():
        ftype = field_type(model, name)
        c = constraints(model, name)
        codes: np.ndarray | None = None
        if name in raw.columns:  # a column that repeats itself is judged once per distinct cell
            cells, codes = _distinct(raw[name])
            col = cells.astype("string").str.strip()
        else:
            col = pd.Series(pd.NA, index=index, dtype="string")
        flag = reasons.flag if codes is None else _Broadcast(reasons, codes).flag
        empty = (col.isna() | (col == "")).to_numpy()
        if field.is_required():
            flag(empty, f"{name}: missing")
        if name in raw.columns:
            flag(col.str.contains("\x00", regex=False).fillna(False).to_numpy(dtype=bool), f"{name}: {HAS_NUL}")
        if ftype == "datetime":
            val = parse_timestamps(col, tz)
            flag(val.isna().to_numpy() & ~empty,
                         f"{name}: not an ISO 8601 timestamp such as 2026-11-23 10:30 or 2026-11-23T10:30:00+01:00")
            outside = (val.notna() & ((val < EARLIEST) | (val > LATEST))).to_numpy()
            flag(outside, f"{name}: {NOT_IN_RANGE}")
            val = val.where(~outside)  # like an unreadable cell: no rule between columns blames it again
        elif ftype == "date":
            iso = col.str.fullmatch(ISO_DATE).fillna(False).to_numpy(dtype=bool)
            parsed = pd.to_datetime(col.where(iso), format="%Y-%m-%d", errors="coerce")
            flag(parsed.isna().to_numpy() & ~empty, f"{name}: not a date such as 2026-11-23")
            val = pd.Series(np.array(parsed.dt.date.to_numpy(), dtype=object), index=col.index)
            val[parsed.isna().to_numpy()] = None
        elif ftype in ("float", "int"):
            num = pd.to_numeric(col.where(~empty), errors="coerce").astype("float64")
            arr = num.to_numpy()
            not_number = np.isnan(arr) & ~empty
            flag(not_number, f"{name}: not a number")
            finite = np.isfinite(arr)
            flag(~finite & ~np.isnan(arr), f"{name}: not a finite number")
            flag(finite & (np.abs(arr) > MAX_MAGNITUDE), f"{name}: {TOO_BIG}")
            if ftype == "int":
                whole = col.str.fullmatch(WHOLE).fillna(False).to_numpy(dtype=bool)
                flag(finite & ~whole, f"{name}: not a whole number")
            else:
                flag(col.str.contains("_", regex=False).fillna(False).to_numpy(dtype=bool) & ~empty,
                             f"{name}: not a number")
            if "ge" in c:
                flag(finite & (arr < c["ge"]), f"{name}: must be ≥ {c['ge']:g}")
            if "gt" in c:
                flag(finite & (arr <= c["gt"]), f"{name}: must be > {c['gt']:g}")
            if "le" in c:
                flag(finite & (arr > c["le"]), f"{name}: must be ≤ {c['le']:,}")
            if not field.is_required() and field.default is not None:
                num = num.where(~empty, float(field.default))
            val = num
        elif ftype == "bool":
            val = col.str.lower().map(BOOLS)
            flag(val.isna().to_numpy() & ~empty, f"{name}: not true or false")
            val = val.astype(object).where(val.notna(), field.default if not field.is_required() else None)
        else:
            val = col.astype(object).where(~empty, None)
            checks = cell_checks(model, name)
            readable = ~empty
            if ftype == "enum":
                allowed = [m.value for m in base_type(field.annotation)]
                flag(~empty & ~col.isin(allowed).fillna(False).to_numpy(dtype=bool),
                             f"{name}: not one of {', '.join(allowed)}")
            if "max_length" in c:
                too_long = (col.str.len() > c["max_length"]).fillna(False).to_numpy(dtype=bool)
                flag(too_long, f"{name}: longer than {c['max_length']} characters")
                readable &= ~too_long
            if "pattern" in c:
                ok = col.str.fullmatch(c["pattern"]).fillna(False).to_numpy(dtype=bool)
                flag(~empty & ~ok, f"{name}: only {PATTERN_HELP[c['pattern']]}")
            elif checks:
                val = _run_checks(name, val, readable, checks, flag)
            elif ftype == "str":
                formula = col.str.startswith(FORMULA_START).fillna(False).to_numpy(dtype=bool)
                formula_cells += int((formula if codes is None else formula[codes]).sum())
            if ftype == "enum" and not field.is_required() and field.default is not None:
                val = val.where(~empty, getattr(field.default, "value", field.default))
        out[name] = _rows(val, codes, index)
        if name in KEYS[kind]:
            typed = _key_text(val, ftype)
            key_parts[name] = _rows(typed.where(typed.notna(), col.astype(object)), codes, index)
    _cross_field_checks(kind, out, reasons, known_units, known_kpis)
    parts = [key_parts[k].astype("string").fillna("") for k in KEYS[kind]]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + "|" + part
    keys = keys.astype(object)
    errors = reasons.joined()
    valid = out[~reasons.any()]
    return Checked(valid=valid, errors=errors, keys=keys, formula_cells=formula_cells)


DISTINCT_MIN_ROWS = 2_000  # from this many rows a column may be judged per distinct cell ...
DISTINCT_SAMPLE = 1_000  # ... when its first rows hold at most a tenth as many distinct cells


def _distinct(values: pd.Series) -> tuple[pd.Series, np.ndarray | None]:
    """(the cells to judge, each row's position among them or None). A column that repeats itself (kinds, units,
    channels, statuses, SLAs) is judged once per distinct cell: every check is a function of the cell alone,
    so the rows take their cell's outcome (:func:`_rows`, :class:`_Broadcast`). Other columns as they are."""
    if len(values) < DISTINCT_MIN_ROWS or values.iloc[:DISTINCT_SAMPLE].nunique(dropna=False) > DISTINCT_SAMPLE // 10:
        return values, None
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    if len(uniques) > len(values) // 4:
        return values, None
    return pd.Series(uniques, dtype=values.dtype, name=values.name), codes


def _rows(values: pd.Series, codes: np.ndarray | None, index: pd.Index) -> pd.Series:
    """Per-cell outcomes as per-row ones (``codes`` from :func:`_distinct`)."""
    if codes is None:
        return values
    if isinstance(values.dtype, np.dtype):  # numpy-backed (object, float): kept as it is, never re-inferred
        return pd.Series(values.to_numpy()[codes], index=index, dtype=values.dtype, name=values.name)
    return pd.Series(values.array.take(codes), index=index, name=values.name)


class _Broadcast:
    """``flag`` for per-distinct-cell masks: each row is flagged as its cell is."""

    def __init__(self, reasons: _Reasons, codes: np.ndarray) -> None:
        self.reasons, self.codes = reasons, codes

    def flag(self, mask: Any, reason: str) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            self.reasons.flag(m[self.codes], reason)


def _run_checks(name: str, cells: pd.Series, readable: np.ndarray, checks: list[Any], flag: Any) -> pd.Series:
    """Each distinct readable cell through the field's functions once: a refused cell gets the function's
    message (``office_hours: 'Mo-Fr' is not ...``), an accepted one becomes what the functions return."""
    accepted: dict[str, Any] = {}
    refused: dict[str, str] = {}
    for text in pd.unique(cells[readable]):
        value = text
        try:
            for check in checks:
                value = check(value)
        except ValueError as exc:  # reasons are "; "-joined: a ";" quoted from the cell is shown as ","
            refused[text] = f"{name}: {str(exc).replace(';', ',')}"
        else:
            accepted[text] = value
    messages = np.array([refused.get(t) if ok else None for t, ok in zip(cells, readable)], dtype=object)
    for message in dict.fromkeys(refused.values()):
        flag(messages == message, message)
    return pd.Series([accepted.get(t) if ok else t for t, ok in zip(cells, readable)], index=cells.index, dtype=object)


def _cross_field_checks(kind: str, out: pd.DataFrame, reasons: _Reasons, known_units: set[str] | None,
                        known_kpis: set[str] | None) -> None:
    def unknown(column: str, known: set[str]) -> np.ndarray:
        return (out[column].notna() & ~out[column].isin(known)).to_numpy()

    if kind == "work_items":
        if known_units is not None:
            for column in ("source_unit", "target_unit"):
                reasons.flag(unknown(column, known_units), f"{column}: unknown unit (load it with the units first)")
        created, resolved = out.created_at, out.resolved_at
        reasons.flag((created.notna() & resolved.notna() & (resolved < created)).to_numpy(),
                     "resolved_at: before created_at")
        is_resolved = (out.status == Status.RESOLVED.value).to_numpy()
        reasons.flag(is_resolved & resolved.isna().to_numpy(), "resolved_at: missing for a resolved item")
        reasons.flag(out.status.notna().to_numpy() & ~is_resolved & resolved.notna().to_numpy(),
                     "status: resolved_at is set but the status is not resolved")
        reasons.flag(due_past_latest(created, out.sla_hours), DUE_PAST_LATEST)
    elif kind == "kpi_observations" and known_kpis is not None:
        reasons.flag(unknown("kpi_id", known_kpis), "kpi_id: unknown KPI (load it with the KPIs first)")
    elif kind == "kpis" and known_units is not None:
        reasons.flag(unknown("unit_id", known_units), "unit_id: unknown unit (load it with the units first)")
    elif kind == "campaigns":
        start, end = out.period_start, out.period_end
        both = start.notna() & end.notna()
        later = np.array([bool(b) and e < s for b, s, e in zip(both, start, end)], dtype=bool)
        reasons.flag(later, "period_end: before period_start")
    elif kind == "journeys":
        started, converted = out.started_at, out.converted_at
        reasons.flag((started.notna() & converted.notna() & (converted < started)).to_numpy(),
                     "converted_at: before started_at")
        unreadable = np.zeros(len(out), dtype=bool)  # an unreadable converted_at is blamed already: not "missing"
        for mask, reason in reasons.masks:
            if reason.startswith("converted_at: not"):
                unreadable |= mask
        reasons.flag(converted.isna().to_numpy() & ~unreadable & (out.revenue > 0).to_numpy(), NO_CONVERSION)


def due_past_latest(created: pd.Series, hours: pd.Series) -> np.ndarray:
    """Where ``created + hours`` passes :data:`LATEST` (False where either is missing)."""
    start = created.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[us]")
    start_us = np.where(np.isnat(start), np.nan, start.view(np.int64).astype(float))
    latest_us = (LATEST - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    with np.errstate(invalid="ignore", over="ignore"):
        due_us = start_us + pd.to_numeric(hours, errors="coerce").to_numpy(dtype=float) * 3_600e6
        return np.nan_to_num(due_us, nan=-np.inf) > latest_us


def validate_row(kind: str, row: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """The reference check of one row through the pydantic model: [] when valid, else the failing columns.

    Text cells are converted the way :func:`validate_frame` reads them (empty = missing, naive times local).
    """
    model = MODELS[kind]
    data: dict[str, Any] = {}
    for name in model.model_fields:
        cell = row.get(name)
        if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell).strip() == "":
            continue
        text = str(cell).strip()
        if field_type(model, name) == "datetime":
            parsed = parse_timestamps(pd.Series([text], dtype="string"), tz).iloc[0]
            try:  # text that is no ISO 8601 stays refused (pydantic alone would read "1700000000" as Unix time)
                data[name] = f"not ISO 8601: {text}" if pd.isna(parsed) else parsed.to_pydatetime()
            except ValueError:  # in UTC beyond what Python's datetime holds (the year 10000): refused
                data[name] = f"{text} (after the year 9999 in UTC)"
        else:
            data[name] = text
    try:
        model.model_validate(data)
    except ValidationError as exc:
        cols = set()
        for err in exc.errors():
            loc = err.get("loc") or ()
            if loc:
                cols.add(str(loc[0]))
            else:  # a model-level rule: its message starts with the column it blames
                cols.add(str(err.get("msg", "")).removeprefix("Value error, ").split(":")[0])
        return sorted(cols)
    return []


UNDECODABLE = "not valid UTF-8 (bytes that are no character, shown as \ufffd)"


def refuse(checked: Checked, reasons: pd.Series) -> Checked:
    """``checked`` with more rows refused: ``reasons`` (row -> reason) joins a row's other reasons, if any."""
    if reasons.empty:
        return checked
    errors = pd.concat([checked.errors, reasons]).groupby(level=0, sort=True).agg("; ".join)
    return Checked(valid=checked.valid.drop(index=reasons.index, errors="ignore"), errors=errors.astype(object),
                   keys=checked.keys, formula_cells=checked.formula_cells)


def undecodable(named: pd.DataFrame) -> pd.Series:
    """Row -> reason for the contract cells holding U+FFFD, which is what a byte that is no UTF-8 character is
    read as in a damaged UTF-8 file."""
    found: dict[int, list[str]] = {}
    for column in named.columns:
        hit = named[column].astype("string").str.contains("\ufffd", regex=False).fillna(False).to_numpy(dtype=bool)
        for row in named.index[hit]:
            found.setdefault(row, []).append(f"{column}: {UNDECODABLE}")
    return pd.Series({row: "; ".join(r) for row, r in found.items()}, dtype=object)
