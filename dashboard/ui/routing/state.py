"""The Routing page's state.

- :class:`RoutingData`: what every tab reads once per run (active set, draft, units, items waiting at the hub),
  through cached accessors of :mod:`dashboard.ui.cache`;
- what one person's session keeps between runs, each behind a named ``st.session_state`` key and read and
  written only through the functions here: the draft being edited (:class:`DraftEdit`, key ``rt_edit``), the
  last replay (:class:`Replayed`, ``rt_replay``) and the open "discard the draft?" question;
- :func:`write` / :func:`run`: a write in one transaction that refreshes, once committed, every reader of what
  its use cases change (the map and the inboxes too when waiting items are routed), or says why it was refused.

The draft being edited is made again only when the draft itself changes identity (started, published,
discarded) or after your own save, so a refused save (an invalid rule, or someone else saved first) keeps your
edits in the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import Connection

from dashboard import errors
from dashboard.domain.access import NotPermitted, Viewer
from dashboard.domain.refusals import Refused
from dashboard.domain.routing import RuleError
from dashboard.queries import routing
from dashboard.queries.kpis import list_units
from dashboard.queries.routing import StoredRuleSet
from dashboard.services import routing as routing_service
from dashboard.ui import cache, data
from dashboard.ui.routing.rules_table import rules_frame
from dashboard.ui.text import md
from dashboard.whatif.replay import ReplayResult

T = TypeVar("T")

NOT_EDITOR = "Only admins and hub leads change routing rules; you see them read-only."
EDIT = "rt_edit"  # DraftEdit
REPLAY = "rt_replay"  # Replayed
CONFIRM_DISCARD = "rt_confirm_discard"  # True while "discard the draft?" waits for an answer
NOTE = "rt_note"  # the publish note's text area


# --- what every tab reads -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RoutingData:
    """The page's data for this run."""

    active: StoredRuleSet | None  # the published set new items are routed with
    draft: StoredRuleSet | None  # the shared draft, if one is being edited
    units: pd.DataFrame  # id, name, kind, headcount
    waiting: int  # items waiting unrouted in the hub's triage queue

    @property
    def names(self) -> dict[str, str]:
        """Unit id -> name."""
        return dict(zip(self.units.id, self.units.name))

    @property
    def spokes(self) -> list[str]:
        return self.units[self.units.kind == "spoke"].id.tolist()

    @property
    def hub(self) -> str:
        hubs = self.units[self.units.kind == "hub"].id.tolist()
        return hubs[0] if hubs else "hub"


@cache.reads("routing", "units", "items", max_entries=16)
def _data(viewer: Viewer) -> RoutingData:
    with data.engine().connect() as conn:
        return RoutingData(active=routing.active_rule_set(conn, viewer), draft=routing.current_draft(conn, viewer),
                           units=list_units(conn, viewer)[["id", "name", "kind", "headcount"]],
                           waiting=routing.waiting_count(conn, viewer))


@cache.reads("routing", max_entries=16)
def history(viewer: Viewer) -> pd.DataFrame:
    """Every saved rule set, newest first, with its rules."""
    with data.engine().connect() as conn:
        return routing.list_rule_sets(conn, viewer, with_rules=True)


@cache.reads("items", "units", lifetime="slow", max_entries=2)  # a window's items can be large: keep few
def replay_inputs(viewer: Viewer, days: int, now: dt.datetime) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The items the hub routed in the ``days`` before ``now``, and each spoke's staffing over them."""
    start = now - dt.timedelta(days=days)
    with data.engine().connect() as conn:
        return routing.replay_items(conn, viewer, start, now), routing.replay_staffing(conn, viewer, start, now)


def load(viewer: Viewer) -> RoutingData | None:
    """This run's data; None (after an error message) when a stored set is unusable or the viewer is refused."""
    try:
        return _data(viewer)
    except RuleError as exc:
        st.error("A stored rule set cannot be read: " + md("; ".join(exc.problems)), icon=":material/error:")
        return None
    except NotPermitted as exc:
        st.error(md(exc), icon=":material/block:")
        return None


# --- what a session keeps -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DraftEdit:
    """The draft as the editor shows it: the rules as a table, the default rule, the name, and the draft version
    it was read at (a save carries it, so a save over someone else's newer one is refused)."""

    draft_id: int
    version: int
    token: int  # part of the editor's widget keys: a new token shows a fresh table
    rules: pd.DataFrame  # rules_table.COLUMNS
    default: dict  # the default rule as data (target_unit, priority, sla_hours)
    name: str


def _edit_of(stored: StoredRuleSet, before: DraftEdit | None) -> DraftEdit:
    return DraftEdit(draft_id=stored.id, version=stored.version, token=(before.token if before else 0) + 1,
                     rules=rules_frame(stored.rule_set), default=stored.rule_set.default.model_dump(),
                     name=stored.name)


def _edit() -> DraftEdit | None:
    return st.session_state.get(EDIT)


def editing(draft: StoredRuleSet) -> DraftEdit:
    """The editing state for ``draft``, made again only when the draft itself changed identity."""
    current = _edit()
    if current is None or current.draft_id != draft.id:
        current = st.session_state[EDIT] = _edit_of(draft, current)
    return current


def restart_editing(stored: StoredRuleSet) -> None:
    """Edit ``stored`` from now on (after your own save, or reloading a colleague's): a fresh table."""
    st.session_state[EDIT] = _edit_of(stored, _edit())


def stop_editing() -> None:
    """The draft is gone (discarded or published)."""
    st.session_state.pop(EDIT, None)


@dataclass(frozen=True, eq=False)
class Replayed:
    """The last replay of this session: which draft version, over how many days, when, and its result (without
    the per-item decisions, which are as long as the window's items)."""

    draft_id: int
    version: int
    days: int
    result: ReplayResult
    at: dt.datetime

    def of(self, draft: StoredRuleSet) -> bool:
        """Whether this replay is of ``draft`` as it is now saved."""
        return (self.draft_id, self.version) == (draft.id, draft.version)


def last_replay() -> Replayed | None:
    return st.session_state.get(REPLAY)


def keep_replay(replayed: Replayed) -> None:
    st.session_state[REPLAY] = replayed


def discard_asked() -> bool:
    return bool(st.session_state.get(CONFIRM_DISCARD))


def ask_discard(asking: bool = True) -> None:
    """Open (or, with ``False``, close) the "discard the draft?" question."""
    if asking:
        st.session_state[CONFIRM_DISCARD] = True
    else:
        st.session_state.pop(CONFIRM_DISCARD, None)


def published() -> None:
    """After a publish: the draft, its replay and the note are done with."""
    for key in (EDIT, REPLAY, NOTE):
        st.session_state.pop(key, None)


# --- writes ---------------------------------------------------------------------------------------------------


def run(work: Callable[[Connection], T], *use_cases: Callable) -> T | None:
    """Run ``work`` (calling ``use_cases``) in one transaction; once committed, refresh the readers of what the
    use cases change. On a refusal show why (the form keeps its input) and return None."""
    try:
        with data.engine().begin() as conn:
            done = work(conn)
    except RuleError as exc:
        st.error("Not saved — fix these problems (your edits are still in the table):\n"
                 + "\n".join(f"- {md(p)}" for p in exc.problems), icon=":material/error:")
    except (routing_service.StaleDraft, routing_service.DraftExists) as exc:
        st.error(md(exc), icon=":material/error:")
        cache.changed(*use_cases)  # a colleague changed the same data: the next run reads their version
    except (NotPermitted, Refused) as exc:  # e.g. a publish without a note; any other error is a bug, not advice
        st.error(md(exc), icon=":material/error:")
    except errors.DATABASE_ERRORS as exc:
        data.write_failed(exc, "Nothing was saved; your edits are still in the table, so you can try again.")
    else:
        cache.changed(*use_cases)
        return done
    return None


def write(viewer: Viewer, use_case: Callable[..., T], *args, **kwargs) -> T | None:
    """:func:`run` for one use case: ``use_case(conn, viewer, *args, **kwargs)``."""
    return run(lambda conn: use_case(conn, viewer, *args, **kwargs), use_case)
