"""A minimal Streamlit client: the browser's websocket protocol, without a browser (for the load benchmark).

One :class:`StreamlitSession` is one browser tab: it opens ``/_stcore/stream`` (subprotocol ``streamlit``),
asks for the first run the way the frontend does (a ``rerun_script`` BackMsg with the page's query string and
URL path, no page hash yet), and reads every ForwardMsg. Like the browser it then follows ``auto_rerun``
(what ``st.fragment(run_every=...)`` sends): every ``interval`` seconds it asks for a rerun of that fragment
(``rerun_script`` with ``fragment_id`` and ``is_auto_rerun``). Unlike the browser it waits for a fragment
run to finish before asking for the next; a tick that comes while a run is still going is counted as an
overrun instead of being queued, so every timing is one request -> its ``script_finished``.

What counts as an error (:attr:`SessionStats.errors`): an exception element (an uncaught exception in the
script), an ``st.error`` alert, a warning matching one of ``error_warnings`` (e.g. the overview's "database
stopped answering"), a compile error, ``page_not_found``, a run that does not finish within
``run_timeout``, and a connection the server closed or broke. Other warnings are kept in
:attr:`SessionStats.warnings`.

Not emulated: widget states (every rerun sends none, i.e. every widget at its default), the forward-message
cache (no ``cached_message_hashes``: the server sends every message in full, as to a fresh tab), heartbeats,
reconnection. Localhost only: :func:`ws_url` refuses other hosts.

Everything runs on one asyncio event loop (the ``websockets`` client that Streamlit already depends on), so
twenty sessions cost one thread. :func:`run_sessions` is the synchronous entry point.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MAX_MESSAGE = 64 * 1024 * 1024  # a plotly figure of a big map is a few MB at most


def ws_url(base_url: str) -> str:
    """``http://127.0.0.1:8501`` -> ``ws://127.0.0.1:8501/_stcore/stream``; refuses anything not on this machine."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "ws") or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(f"the load client only talks to a local server (got {base_url!r})")
    return urllib.parse.urlunsplit(("ws", parts.netloc, parts.path.rstrip("/") + "/_stcore/stream", "", ""))


@dataclass
class SessionStats:
    """What one session saw. Times in seconds."""

    name: str
    first_run_s: float | None = None
    fragment_runs_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    overruns: int = 0  # auto-rerun ticks skipped because the previous fragment run had not finished
    full_runs_for_fragment: int = 0  # fragment reruns the server answered with a whole-page run
    messages: int = 0
    bytes_received: int = 0
    session_id: str | None = None


@dataclass
class LoadResult:
    sessions: list[SessionStats]
    seconds: float

    @property
    def fragment_runs_s(self) -> list[float]:
        return [t for s in self.sessions for t in s.fragment_runs_s]

    @property
    def first_runs_s(self) -> list[float]:
        return [s.first_run_s for s in self.sessions if s.first_run_s is not None]

    @property
    def errors(self) -> list[str]:
        return [f"{s.name}: {e}" for s in self.sessions for e in s.errors]

    @property
    def overruns(self) -> int:
        return sum(s.overruns for s in self.sessions)

    def summary(self) -> str:
        frag, first = self.fragment_runs_s, self.first_runs_s
        return (f"{len(self.sessions)} sessions, {self.seconds:.0f} s: first run p95 {p95(first) * 1000:.0f} ms, "
                f"{len(frag)} fragment runs p50 {p50(frag) * 1000:.0f} ms p95 {p95(frag) * 1000:.0f} ms, "
                f"{self.overruns} overruns, {len(self.errors)} errors")


def p95(values: Sequence[float]) -> float:
    """The 95th percentile (nearest rank); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def p50(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


class StreamlitSession:
    """One browser tab on ``page`` (URL path without the leading slash, "" for the default page) with
    ``query`` (e.g. ``"unit=sales"``). Use :meth:`open`, then :meth:`follow_live` and/or :meth:`close`."""

    def __init__(self, base_url: str, page: str = "", query: str = "", *, name: str | None = None,
                 run_timeout: float = 60.0, error_warnings: Sequence[str] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        self.url = ws_url(base_url)
        self.headers = dict(headers or {})  # sent with the websocket handshake, e.g. a load balancer's cookie
        self.response_headers: Mapping[str, str] = {}  # the handshake's answer (e.g. which replica took it)
        self.page, self.query = page.strip("/"), query.lstrip("?")
        self.browser_url = base_url.rstrip("/") + "/" + self.page + (f"?{self.query}" if self.query else "")
        self.stats = SessionStats(name or f"session-{uuid.uuid4().hex[:6]}")
        self.run_timeout = run_timeout
        self._error_warnings = [re.compile(p, re.I) for p in error_warnings]
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._finished: asyncio.Queue[int | None] = asyncio.Queue()
        self._closing = False
        self._run = "first run"  # which run the deltas being read belong to, for error messages
        self.page_script_hash = ""
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval (s), as the server asked

    # --- connection -------------------------------------------------------------------------------------

    async def open(self) -> float:
        """Connect and run the page once, like a browser opening the URL; returns (and records) that time."""
        t0 = time.perf_counter()
        try:
            self._ws = await connect(self.url, subprotocols=[Subprotocol("streamlit")], max_size=MAX_MESSAGE,
                                     proxy=None, open_timeout=self.run_timeout, ping_interval=None,
                                     additional_headers=self.headers or None)
            self.response_headers = self._ws.response.headers if self._ws.response is not None else {}
        except Exception as exc:  # noqa: BLE001 - refused, timed out, reset: reported, not raised
            self.stats.errors.append(f"cannot connect: {type(exc).__name__}: {exc}")
            return float("nan")
        self._reader = asyncio.create_task(self._read(), name=f"{self.stats.name}-reader")
        await self._send_rerun()
        if await self._wait_finished() is not None:
            self.stats.first_run_s = time.perf_counter() - t0
        return self.stats.first_run_s if self.stats.first_run_s is not None else float("nan")

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 5)
            except Exception:  # noqa: BLE001 - closing a broken connection is not news
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._reader is not None and not self._reader.done()

    # --- runs -------------------------------------------------------------------------------------------

    async def rerun_fragment(self, fragment_id: str) -> float | None:
        """Ask for one auto-rerun of ``fragment_id``; the seconds until its script_finished, None on failure."""
        self._run = "fragment rerun"
        t0 = time.perf_counter()
        await self._send_rerun(fragment_id=fragment_id)
        status = await self._wait_finished()
        if status is None:
            return None
        took = time.perf_counter() - t0
        if status != ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            self.stats.full_runs_for_fragment += 1
        self.stats.fragment_runs_s.append(took)
        return took

    async def follow_live(self, until: float) -> None:
        """Follow the server's auto_rerun requests like the browser's timers until ``time.monotonic()`` passes
        ``until``: one tick per ``interval`` after the auto_rerun arrived, skipping (counting) ticks missed
        while a run was still going."""
        next_tick: dict[str, float] = {}
        while self.connected and time.monotonic() < until:
            now = time.monotonic()
            for fid, interval in self.auto_reruns.items():
                next_tick.setdefault(fid, now + interval)
            for fid in [f for f in next_tick if f not in self.auto_reruns]:
                del next_tick[fid]
            if not next_tick:
                await asyncio.sleep(min(0.2, max(0.0, until - now)))
                continue
            fid = min(next_tick, key=next_tick.get)
            wait = next_tick[fid] - now
            if now + wait >= until:
                await asyncio.sleep(max(0.0, until - now))
                break
            await asyncio.sleep(max(0.0, wait))
            await self.rerun_fragment(fid)
            interval = self.auto_reruns.get(fid)
            if interval is None:
                continue
            nxt = next_tick[fid] + interval
            while nxt <= time.monotonic():
                self.stats.overruns += 1
                nxt += interval
            next_tick[fid] = nxt

    async def _send_rerun(self, fragment_id: str | None = None) -> None:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        if fragment_id:
            cs.fragment_id = fragment_id
            cs.is_auto_rerun = True
            cs.page_script_hash = self.page_script_hash
        else:  # the first run: the server finds the page from its URL path, as for a fresh tab
            cs.page_name = self.page
        cs.context_info.timezone = "UTC"
        cs.context_info.timezone_offset = 0
        cs.context_info.locale = "en-US"
        cs.context_info.url = self.browser_url
        cs.context_info.is_embedded = False
        cs.context_info.color_scheme = "light"
        assert self._ws is not None
        try:
            await self._ws.send(msg.SerializeToString())
        except ConnectionClosed as exc:
            self._note_closed(exc)

    async def _wait_finished(self) -> int | None:
        """Wait for the current run's script_finished and return its status; None (and an error) on timeout
        or disconnect."""
        try:
            return await asyncio.wait_for(self._finished.get(), self.run_timeout)
        except TimeoutError:
            self.stats.errors.append(f"{self._run}: no script_finished within {self.run_timeout:g} s")
            return None

    # --- reading ----------------------------------------------------------------------------------------

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                self.stats.messages += 1
                self.stats.bytes_received += len(raw)
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                self._handle(msg)
        except ConnectionClosed as exc:
            self._note_closed(exc)
        except Exception as exc:  # noqa: BLE001 - a client bug must show up as an error, not a hang
            self.stats.errors.append(f"client failed reading: {type(exc).__name__}: {exc}")
        else:
            self._note_closed(None)
        finally:
            self._finished.put_nowait(None)  # wake a waiter

    def _note_closed(self, exc: ConnectionClosed | None) -> None:
        if not self._closing:
            why = f" ({exc})" if exc is not None else ""
            msg = f"disconnected by the server{why}"
            if msg not in self.stats.errors:
                self.stats.errors.append(msg)

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "delta":
            self._delta(msg.delta)
        elif kind == "new_session":
            ns = msg.new_session
            self.stats.session_id = ns.initialize.session_id or self.stats.session_id
            self.page_script_hash = ns.page_script_hash or self.page_script_hash
        elif kind == "navigation":
            self.page_script_hash = msg.navigation.page_script_hash or self.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self.auto_reruns[msg.auto_rerun.fragment_id] = msg.auto_rerun.interval
        elif kind == "stop_auto_rerun":
            for fid in msg.stop_auto_rerun.fragment_ids:
                self.auto_reruns.pop(fid, None)
        elif kind == "page_not_found":
            self.stats.errors.append(f"{self._run}: page not found ({msg.page_not_found.page_name!r})")
        elif kind == "session_event" and msg.session_event.WhichOneof("type") == "script_compilation_exception":
            exc = msg.session_event.script_compilation_exception
            self.stats.errors.append(f"{self._run}: compile error {exc.type}: {exc.message[:200]}")
        elif kind == "script_finished":
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # another run follows (st.rerun, st.switch_page): wait for that one
            if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                self.stats.errors.append(f"{self._run}: finished with a compile error")
            self._finished.put_nowait(status)

    def _delta(self, delta) -> None:
        if delta.WhichOneof("type") != "new_element":
            return
        el = delta.new_element
        which = el.WhichOneof("type")
        if which == "exception":
            self.stats.errors.append(f"{self._run}: exception {el.exception.type}: {el.exception.message[:200]}")
        elif which == "alert":
            text = el.alert.body[:200]
            if el.alert.format == Alert.ERROR:
                self.stats.errors.append(f"{self._run}: st.error: {text}")
            elif el.alert.format == Alert.WARNING:
                if any(p.search(el.alert.body) for p in self._error_warnings):
                    self.stats.errors.append(f"{self._run}: st.warning: {text}")
                else:
                    self.stats.warnings.append(f"{self._run}: {text}")


async def open_sessions(base_url: str, n: int, *, page: str = "", query: str = "", ramp: float = 0.0,
                        run_timeout: float = 60.0, error_warnings: Sequence[str] = (),
                        prefix: str = "s") -> list[StreamlitSession]:
    """Open ``n`` sessions (each runs the page once), their starts spread evenly over ``ramp`` seconds."""
    sessions = [StreamlitSession(base_url, page, query, name=f"{prefix}{i:02d}", run_timeout=run_timeout,
                                 error_warnings=error_warnings) for i in range(n)]

    async def start(i: int, s: StreamlitSession) -> None:
        await asyncio.sleep(ramp * i / max(n, 1))
        await s.open()

    await asyncio.gather(*(start(i, s) for i, s in enumerate(sessions)))
    return sessions


async def close_all(sessions: Sequence[StreamlitSession]) -> None:
    await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)


async def load(base_url: str, sessions: int, seconds: float, *, page: str = "", query: str = "",
               ramp: float = 2.0, run_timeout: float = 60.0, error_warnings: Sequence[str] = (),
               while_open: Callable[[list[StreamlitSession]], Awaitable[None]] | None = None) -> LoadResult:
    """Open ``sessions`` tabs, follow their live fragments for ``seconds`` (counted after the last tab
    opened), close them. ``while_open`` (if given) is awaited instead of following: for idle sessions."""
    t0 = time.monotonic()
    tabs = await open_sessions(base_url, sessions, page=page, query=query, ramp=ramp, run_timeout=run_timeout,
                               error_warnings=error_warnings)
    try:
        if while_open is not None:
            await while_open(tabs)
        else:
            until = time.monotonic() + seconds
            await asyncio.gather(*(t.follow_live(until) for t in tabs if t.connected))
    finally:
        await close_all(tabs)
    return LoadResult([t.stats for t in tabs], time.monotonic() - t0)


def run_sync(coro):
    """Run a coroutine to completion on a fresh event loop in its own thread, so it also works where this
    thread already runs a loop (e.g. under Playwright's sync API in the same test session)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def run_sessions(base_url: str, sessions: int, seconds: float, **kw) -> LoadResult:
    """Synchronous :func:`load` on a fresh event loop."""
    return run_sync(load(base_url, sessions, seconds, **kw))
