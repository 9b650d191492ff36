"""The UI's cache of database reads, and the one way to refresh it after a write.

This is the only module that calls ``st.cache_data`` / ``st.cache_resource`` for data (the two exceptions are
not data and say so where they are: the engine pool in :mod:`dashboard.ui.data` and the sign-in return pages in
:mod:`dashboard.ui.identity`). A page never clears caches by hand: it says which use case ran, and everything
that reads what that use case changes is cleared.

**Declaring a read.** An accessor names the data it reads (the names of :mod:`dashboard.services.changes`:
``items``, ``routing``, ``scenarios``, ``cycle``, ``units``, ``users``, ``kpis``, ``faq``, ``imports``,
``campaigns``, ``audit``)::

    from dashboard.ui import cache

    @cache.reads("items", "units", "kpis", max_entries=64)       # lifetime "live" unless told otherwise
    def overview(viewer: Viewer, window: str) -> OverviewData:
        with data.engine().connect() as conn:
            return load_overview(conn, viewer, window, ...)

    data.overview(viewer, "24h")     # no url argument: the database URL is part of the key, in here

Arguments are hashed as ``st.cache_data`` hashes them (a parameter named with a leading ``_`` is not); name
every table the function reads, directly or through another accessor it calls. ``shared=True`` keeps one shared
object per key (``st.cache_resource``: a plotly figure ``st.plotly_chart`` only reads) instead of a copy per
call. ``spinner`` is ``show_spinner``.

**Expiry and concurrent readers.** However many sessions ask for the same key at once, the function runs once:
Streamlit holds a lock per key while it computes, and the others wait for that result ("single flight"). With
``refresh="background"`` (for what many sessions read on a timer: the live overview) an expired entry does not
make anyone wait: the reader that finds it expired gets the last value and starts one recomputation in a
background thread (at most one per key), and every later reader gets the new value once it is there. The
expired value is served for at most one more lifetime (Streamlit's ``runner.cacheBackgroundRefreshTTLMultiplier``,
2 by default); after that, or when there is no value yet, or after a write cleared it, readers wait for one
computation as usual. A function refreshed in the background runs without a session: it must use no
``st.session_state`` and draw nothing. A lifetime of 0 (no caching) always computes in the foreground.

**Pure computations** (a figure or a model result built from arguments hashed by value) read no data and need
no refresh: ``@cache.computed(lifetime="figures", shared=True, max_entries=512)``; ``lifetime=None`` keeps a
result until ``max_entries`` evicts it.

**Lifetimes** are named (:data:`LIFETIMES`), each a setting read when the cached function is first built (its
first call), not at import, and built again when the setting changes: ``"live"`` (``DASHBOARD_CACHE_TTL_SECONDS``,
the figures pages show), ``"slow"`` (``DASHBOARD_CACHE_SLOW_SECONDS``: lists that change rarely), ``"checks"``
(``DASHBOARD_CACHE_CHECKS_SECONDS``: the data-quality scan), ``"calibration"``
(``DASHBOARD_CACHE_CALIBRATION_SECONDS``: the what-if as-is), ``"figures"`` (``DASHBOARD_CACHE_FIGURE_SECONDS``:
computed figures). A lifetime only bounds how stale data written *elsewhere* (the simulator, the command line)
may look; a write made through this process refreshes its readers at once, and on PostgreSQL those of the other
replicas too, before their next cached read (:mod:`dashboard.ui.changefeed`).

**After a write.** Every use case in :mod:`dashboard.services` declares what it changes
(``@writes("routing")``, always with ``"audit"``). Once its transaction has committed::

    with data.engine().begin() as conn:
        routing.publish(conn, viewer, draft_id, version, note)
        moved = routing.route_waiting(conn, viewer)
    cache.changed(routing.publish, routing.route_waiting)    # routing, items and audit readers: all cleared

A use case that commits by itself (it takes the engine, e.g. ``items.act``) runs through :func:`after`, which
clears its readers when it returns or raises (some items may be written before a fault)::

    outcomes = cache.after(act, data.engine(), viewer, unit, selected, action, note=note)

:func:`invalidate` clears by name; :func:`changed` is that, with the names a use case declared.
``accessor.clear()`` is left for a person's explicit "compute again" (the quality checks' button), never for
a write.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, Generic, Literal, ParamSpec, TypeVar

import streamlit as st
from sqlalchemy import Connection

from dashboard.services.changes import NAMES, changed_by
from dashboard.settings import get_settings
from dashboard.ui import changefeed

P = ParamSpec("P")
R = TypeVar("R")
Refresh = Literal["foreground", "background"]

# lifetime name -> the setting (seconds) it is read from; docs/configuration.md gives each default and its source
LIFETIMES = {
    "live": "cache_ttl_seconds",
    "slow": "cache_slow_seconds",
    "checks": "cache_checks_seconds",
    "calibration": "cache_calibration_seconds",
    "figures": "cache_figure_seconds",
}
_DATABASE = "database_url"  # the keyword under which an accessor's cached function gets the URL (so it is hashed)


def lifetime(name: str | None) -> float | None:
    """Seconds a named lifetime lasts now (None: until evicted)."""
    if name is None:
        return None
    return float(getattr(get_settings(), LIFETIMES[name]))


class Accessor(Generic[P, R]):
    """A cached function: called like the function it wraps; built (with its lifetime) on the first call."""

    def __init__(self, fn: Callable[P, R], names: frozenset[str], lifetime: str | None, *, keyed: bool,
                 shared: bool, max_entries: int | None, spinner: bool | str, refresh: Refresh = "foreground"):
        functools.update_wrapper(self, fn)
        self.fn, self.names, self.lifetime, self.keyed, self.refresh = fn, names, lifetime, keyed, refresh
        self._options = dict(max_entries=max_entries, show_spinner=spinner)
        self._decorator = st.cache_resource if shared else st.cache_data
        self._built: tuple[float | None, Any] | None = None  # (lifetime it was built with, the cached function)

    def _cached(self):
        seconds = lifetime(self.lifetime)
        built = self._built
        if built is None or built[0] != seconds:
            target: Callable = self.fn
            if self.keyed:
                fn = self.fn

                def keyed(*args, database_url: str, **kwargs):
                    return fn(*args, **kwargs)

                # Streamlit names a function's cache by module, qualified name and source, and the positional
                # arguments by the signature: all the wrapped function's (inspect follows __wrapped__).
                target = functools.update_wrapper(keyed, fn)
            mode = self.refresh if seconds else "foreground"  # a background refresh needs a positive lifetime
            built = self._built = (seconds, self._decorator(ttl=seconds, refresh_mode=mode, **self._options)(target))
        return built[1]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        url = get_settings().database_url
        if other := changefeed.received(url):  # another replica's writes: no query, nothing on SQLite
            _clear(other)
        if self.keyed:
            kwargs[_DATABASE] = url
        return self._cached()(*args, **kwargs)

    def clear(self) -> None:
        """Forget every cached result of this accessor (a person's "compute again"; writes use the names)."""
        if self._built is not None:
            self._built[1].clear()

    def __repr__(self) -> str:
        return f"<cached {self.__module__}.{self.__qualname__} reads {sorted(self.names)}>"


_ACCESSORS: dict[str, Accessor] = {}  # "module.qualname" -> accessor (a reloaded module replaces its own)


def _known(names: Iterable[str]) -> frozenset[str]:
    names = frozenset(names)
    unknown = names - NAMES
    if unknown:
        raise ValueError(f"unknown data name(s) {sorted(unknown)}; known: {sorted(NAMES)}")
    return names


def reads(*names: str, lifetime: str = "live", shared: bool = False, max_entries: int | None = None,
          spinner: bool | str = False, refresh: Refresh = "foreground") -> Callable[[Callable[P, R]], Accessor[P, R]]:
    """Cache a database read, keyed by its arguments and the database URL, cleared by a write of any of ``names``;
    ``refresh="background"``: see "Expiry and concurrent readers" above."""
    if not names:
        raise ValueError("name the data this accessor reads (dashboard.services.changes.NAMES)")
    declared = _known(names)
    if lifetime not in LIFETIMES:
        raise ValueError(f"unknown lifetime {lifetime!r}; known: {sorted(LIFETIMES)}")

    def register(fn: Callable[P, R]) -> Accessor[P, R]:
        accessor = Accessor(fn, declared, lifetime, keyed=True, shared=shared, max_entries=max_entries,
                            spinner=spinner, refresh=refresh)
        _ACCESSORS[f"{fn.__module__}.{fn.__qualname__}"] = accessor
        return accessor

    return register


def computed(*, lifetime: str | None = None, shared: bool = False, max_entries: int | None = None,
             spinner: bool | str = False) -> Callable[[Callable[P, R]], Accessor[P, R]]:
    """Cache a pure computation on its arguments (hashed by value): it reads no data, so no write clears it."""
    if lifetime is not None and lifetime not in LIFETIMES:
        raise ValueError(f"unknown lifetime {lifetime!r}; known: {sorted(LIFETIMES)} or None")

    def wrap(fn: Callable[P, R]) -> Accessor[P, R]:
        return Accessor(fn, frozenset(), lifetime, keyed=False, shared=shared, max_entries=max_entries,
                        spinner=spinner)

    return wrap


def readers(*names: str) -> list[Accessor]:
    """The accessors that read any of ``names`` (all of them without names)."""
    wanted = _known(names) if names else NAMES
    return [a for a in _ACCESSORS.values() if a.names & wanted]


def _clear(names: Iterable[str]) -> None:
    for accessor in readers(*names):
        accessor.clear()


def invalidate(*names: str) -> None:
    """Clear every accessor that reads any of ``names``, in this process and, on PostgreSQL, in every other app
    process on the same database (:mod:`dashboard.ui.changefeed`; replicas clear them before their next read)."""
    if not names:
        return
    known = _known(names)
    _clear(known)
    changefeed.announce(get_settings().database_url, known)


def changed(*use_cases: Callable) -> None:
    """After the use cases' transaction committed: clear the readers of everything they declare they change."""
    invalidate(*frozenset().union(*(changed_by(u) for u in use_cases)))


def after(use_case: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a use case that commits by itself, then clear the readers of what it changes (also when it raises:
    some of its writes may have committed). One that writes in the caller's transaction is refused: clear after
    that transaction commits, with :func:`changed`."""
    names = changed_by(use_case)
    if any(isinstance(a, Connection) for a in (*args, *kwargs.values())):
        raise TypeError(f"{use_case.__qualname__} writes in the caller's transaction: call cache.changed() after it "
                        "commits")
    try:
        return use_case(*args, **kwargs)
    finally:
        invalidate(*names)
