"""Tell the other app processes what changed: the cross-process signal several replicas need for their caches.

Each app process caches its reads (:mod:`dashboard.ui.cache`) and clears them by name when a write made through
it commits. A replica that did not make the write only sees it when its cached results expire. This module
carries the names (:data:`dashboard.services.changes.NAMES`) from the process that wrote to every other process
on the same PostgreSQL database, with PostgreSQL's ``LISTEN``/``NOTIFY``: no table, no migration, no polling.

- :func:`announce` (``url``, names), after the writer's transaction has committed: one ``pg_notify`` on the channel
  :data:`CHANNEL` with the payload ``"<origin> name,name"``, where the origin names this process, so it skips its
  own announcements. A failure (the database is away) is swallowed and reported as False: the lifetimes still
  bound how stale the other replicas may look.
- :func:`received` (``url``): the names other processes announced since the last call. No query: a lock and a set
  filled by one listener thread per database, started by the first call. After the listener lost its connection
  (a restart of the database) it returns every name once, since announcements in between were missed.

On SQLite both do nothing: a SQLite file is served by one process (several replicas need PostgreSQL).

The UI's cache calls them (docs/deployment.md, "Caches and replicas")::

    def invalidate(*names):                                   # after a write of this process
        ...clear the readers of names...
        changefeed.announce(get_settings().database_url, names)

    names = changefeed.received(get_settings().database_url)  # before a cached read (cheap: no query)
    ...clear the readers of names, without announcing them again...

A notification is delivered to the listeners connected when it is sent; PostgreSQL drops none of them while the
listener is connected. A connection pooler in transaction mode (PgBouncer) does not pass ``LISTEN`` on: point
:func:`received` at the database itself.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterable

from dashboard.services.changes import NAMES

CHANNEL = "hubspoke_changes"
ORIGIN = f"{os.getpid()}-{secrets.token_hex(4)}"  # this process, in every payload it sends
CONNECT_TIMEOUT = 5  # seconds
WAIT = 1.0  # seconds the listener waits for a notification before it looks at its stop flag
BACKOFF_MAX = 30.0  # seconds between reconnection attempts, at most


def _postgres(url: str) -> bool:
    return url.startswith("postgresql")


def _dsn(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (``postgresql+psycopg://…`` -> ``postgresql://…``)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def payload(names: Iterable[str], origin: str = ORIGIN) -> str:
    known = sorted(set(names) & NAMES)
    return f"{origin} {','.join(known)}"


def parse(text: str) -> tuple[str, frozenset[str]]:
    """(origin, names) of a payload; names outside :data:`NAMES` are dropped (another version's names)."""
    origin, _, names = text.partition(" ")
    return origin, frozenset(n for n in names.split(",") if n) & NAMES


# --- announcing -------------------------------------------------------------------------------------------------

_senders: dict[str, object] = {}  # url -> an open autocommit psycopg connection
_send_lock = threading.Lock()


def announce(url: str, names: Iterable[str], *, origin: str = ORIGIN) -> bool:
    """Tell every other process on ``url``'s database that ``names`` changed (call after the commit). True when
    PostgreSQL took the notification; False on SQLite, for no known name, or when the database did not answer."""
    text = payload(names, origin)
    if not _postgres(url) or text.endswith(" "):
        return False
    import psycopg

    with _send_lock:
        for attempt in (1, 2):  # a connection the server closed since the last write: open a new one once
            conn = _senders.get(url)
            try:
                if conn is None:
                    conn = _senders[url] = psycopg.connect(_dsn(url), autocommit=True,
                                                           connect_timeout=CONNECT_TIMEOUT)
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, text))  # type: ignore[attr-defined]
                return True
            except psycopg.Error:
                _senders.pop(url, None)
                if conn is not None:
                    conn.close()  # type: ignore[attr-defined]
                if attempt == 2:
                    return False
    return False


# --- listening --------------------------------------------------------------------------------------------------


class Listener:
    """One thread holding one connection that ``LISTEN``\\ s on :data:`CHANNEL`; collects the names other
    processes announce until :meth:`take` hands them over."""

    def __init__(self, url: str, origin: str = ORIGIN) -> None:
        self.url, self.origin = url, origin
        self._pending: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()  # set while LISTEN is in place
        self.connections = 0  # how many times it connected (a reconnect counts)
        self._thread = threading.Thread(target=self._run, name=f"changefeed-{CHANNEL}", daemon=True)
        self._thread.start()

    def take(self) -> frozenset[str]:
        with self._lock:
            names, self._pending = frozenset(self._pending), set()
        return names

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _add(self, names: Iterable[str]) -> None:
        with self._lock:
            self._pending.update(names)

    def _run(self) -> None:
        import psycopg

        backoff = 1.0
        while not self._stop.is_set():
            try:
                with psycopg.connect(_dsn(self.url), autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")  # a constant: channel names cannot be bound
                    if self.connections:
                        self._add(NAMES)  # announcements sent while we were away are lost: treat all as changed
                    self.connections += 1
                    self.connected.set()
                    backoff = 1.0
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAIT):
                            origin, names = parse(note.payload)
                            if origin != self.origin:
                                self._add(names)
            except psycopg.Error:
                pass
            finally:
                self.connected.clear()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, BACKOFF_MAX)


_listeners: dict[str, Listener] = {}
_listen_lock = threading.Lock()


def _listening(url: str) -> Listener:
    found = _listeners.get(url)
    if found is None:
        with _listen_lock:
            found = _listeners.get(url)
            if found is None:
                found = _listeners[url] = Listener(url)
    return found


def received(url: str) -> frozenset[str]:
    """The names other processes announced on ``url``'s database since the last call (empty on SQLite). The first
    call starts listening, so what was announced before it is not seen: nothing of it was cached yet."""
    if not _postgres(url):
        return frozenset()
    return _listening(url).take()


def listener(url: str) -> Listener | None:
    """The running listener of ``url`` (None before the first :func:`received`)."""
    return _listeners.get(url)


def close_all() -> None:
    """Stop every listener and close every announcing connection of this process (tests; a clean shutdown)."""
    with _listen_lock:
        for lst in _listeners.values():
            lst.stop()
        _listeners.clear()
    with _send_lock:
        for conn in _senders.values():
            conn.close()  # type: ignore[attr-defined]
        _senders.clear()


def wait_connected(url: str, timeout: float = 10.0) -> bool:
    """Start listening on ``url`` if needed and wait until ``LISTEN`` is in place (tests, start-up)."""
    found = _listening(url) if _postgres(url) else None
    deadline = time.monotonic() + timeout
    while found is not None and not found.connected.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    return found is not None and found.connected.is_set()
