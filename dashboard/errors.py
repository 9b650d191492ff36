"""One place that turns a database exception into a sentence a person can act on (no streamlit here).

The app's pages, the command line and the simulator all say the same thing about the same fault:
what happened, the driver's own first line (passwords removed), what to do, and — for writes — what was
kept. ``kind`` sorts faults into:

- ``unreachable``: the server cannot be reached or the connection was lost (refused, closed, shut down,
  restarting, no such host). Temporary: the app retries by itself, the simulator waits and retries.
- ``disk_full``: PostgreSQL SQLSTATE 53100, SQLite ``SQLITE_FULL``.
- ``read_only``: PostgreSQL 25006 (a standby, or ``default_transaction_read_only``), SQLite ``SQLITE_READONLY``.
- ``cannot_open``: SQLite ``SQLITE_CANTOPEN`` (missing folder, no permission).
- ``locked``: SQLite ``SQLITE_BUSY``/``SQLITE_LOCKED`` after the busy timeout, PostgreSQL lock timeouts.
- ``conflict``: PostgreSQL 40P01 (deadlock detected) and 40001 (serialization failure): two writers waited for
  each other and the server cancelled one. Nothing of it was written; running it again normally succeeds.
- ``busy``: every pooled connection stayed busy (SQLAlchemy's pool timeout).
- ``other``: anything else from the database.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

try:  # the PostgreSQL driver is optional for SQLite-only installs
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a dependency of the project
    psycopg = None

DATABASE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, sqlite3.Error) + ((psycopg.Error,) if psycopg else ())

KEPT_INPUT = "Nothing was saved; your input is still here, so you can try again."
KEPT_NOTHING = "Nothing from the failed step was written."

# SQLite primary result codes (https://sqlite.org/rescode.html)
_SQLITE = {5: "locked", 6: "locked", 8: "read_only", 13: "disk_full", 14: "cannot_open"}
# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html)
_PG_CONNECTION = {"57P01", "57P02", "57P03", "57P05"}  # admin / crash shutdown, cannot connect now, idle timeout
_PG = {"53100": "disk_full", "25006": "read_only", "55P03": "locked", "53300": "busy",
       "40P01": "conflict", "40001": "conflict"}

_HEAD = {  # (what could not be done, what happened)
    "unreachable": ("Cannot reach", "the connection failed or was lost"),
    "disk_full": ("Cannot write to", "its disk is full"),
    "read_only": ("Cannot write to", "it is read-only"),
    "cannot_open": ("Cannot open", "the database file cannot be opened"),
    "locked": ("Cannot write to", "another program kept it locked for longer than the wait limit"),
    "conflict": ("Cannot write to", "another change to the same rows got in the way, even after retrying"),
    "busy": ("Cannot reach", "all its connections stayed busy"),
    "other": ("Cannot use", "it refused the operation"),
}
_TODO = {
    "unreachable": "It may be stopped or restarting: check that it is running and that DASHBOARD_DATABASE_URL "
                   "points at it.",
    "disk_full": "Free space on the disk that holds it (or raise its quota), then try again.",
    "read_only": "Check that this app may write the database file and its folder (SQLite keeps -wal and -shm "
                 "files beside it) and that the disk is not mounted read-only; on PostgreSQL, connect to the "
                 "primary server, not a read-only standby.",
    "cannot_open": "Check that its folder exists and that this app may read and write there.",
    "locked": "Try again in a moment; if it stays locked, look for a long-running import or a stuck process.",
    "conflict": "Try again in a moment.",
    "busy": "Try again in a moment; if it keeps happening, raise DASHBOARD_POOL_SIZE or look for slow queries.",
    "other": "If it keeps happening, give an admin this message.",
}


def _orig(exc: BaseException) -> BaseException:
    return getattr(exc, "orig", None) or exc


def kind(exc: BaseException) -> str:
    """Which fault this is (see the module doc)."""
    orig = _orig(exc)
    if isinstance(exc, PoolTimeout):
        return "busy"
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(orig, sqlite3.Error):
        if code is not None:
            return _SQLITE.get(code & 0xFF, "other")
        text = str(orig).lower()  # older drivers: the message is all there is
        for needle, found in (("disk is full", "disk_full"), ("readonly", "read_only"),
                              ("unable to open", "cannot_open"), ("locked", "locked")):
            if needle in text:
                return found
        return "other"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    if psycopg is not None and isinstance(orig, psycopg.Error):
        state = getattr(orig, "sqlstate", None) or ""
        if state in _PG:
            return _PG[state]
        if state.startswith("08") or state in _PG_CONNECTION:
            return "unreachable"
        # no SQLSTATE: the client library itself failed (refused, closed, lost) — a connection problem
        if isinstance(orig, (psycopg.OperationalError, psycopg.InterfaceError)) and not state:
            return "unreachable"
    return "other"


def is_transient(exc: BaseException) -> bool:
    """True for a write that lost a race and rolled back as a whole (a deadlock, a serialization failure, a lock
    wait past its limit): running the same transaction again is safe and normally succeeds."""
    return kind(exc) in ("conflict", "locked")


def is_connection_loss(exc: BaseException) -> bool:
    """True when the database could not be reached or the connection dropped: worth waiting and retrying."""
    return kind(exc) == "unreachable"


def reason(exc: BaseException, url: str | None = None) -> str:
    """The driver's first line, at most 200 characters, with the URL's password (if any) masked."""
    text = str(_orig(exc)).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(_orig(exc)).__name__)
    password = None
    if url:
        try:
            password = make_url(url).password
        except Exception:  # an unparseable URL: nothing to mask that we can find
            password = None
    if password:
        first = first.replace(str(password), "***")
    return first[:200]


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # unparseable: show only what follows the credentials
        return url.split("@")[-1]


def explain(exc: BaseException, *, url: str | None = None, kept: str | None = None, lead: str | None = None,
            code: bool = True) -> str:
    """One paragraph: what could not be done and why, the driver's reason, what to do, and what was kept.

    ``url`` names the database (password hidden); ``kept`` is appended (e.g. :data:`KEPT_INPUT` for a form);
    ``lead`` replaces the opening verb (the CLI says "cannot use"); ``code`` wraps the URL in backticks
    (markdown, for the app)."""
    k = kind(exc)
    verb, what = _HEAD[k]
    where = ""
    if url:
        shown = safe_url(url)
        where = f" at `{shown}`" if code else f" at {shown}"
    text = f"{lead or verb} the database{where}: {what} ({reason(exc, url)}). {_TODO[k]}"
    return f"{text} {kept}" if kept else text
