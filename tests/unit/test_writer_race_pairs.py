"""Each pair of work-item writers raced on the same item, on a real SQLite file and a real PostgreSQL server:
routing's "route the waiting items" and the live simulator's batch, each against a lead's inbox action and an
import. Every outcome is one a person can be told about (the later writer works on the row the earlier one
wrote, skips an item someone holds, or is refused as a conflict), never a silent overwrite, and the rollups
equal a rebuild afterwards.

The interleavings are forced: the first writer is stopped in its thread right after it read the item (on
PostgreSQL that read holds the row lock; on SQLite a writer holds the file's write lock from its first write),
the second is started and either finishes, or waits on that lock (PostgreSQL: seen in pg_stat_activity; SQLite:
the second has reached its own read and the lock is seen held), and only then is the first let go.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import numpy as np
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from dashboard import store
from dashboard.db import work_items, write_transaction
from dashboard.domain.access import LOCAL_ADMIN, Role, Viewer
from dashboard.services import autoroute, items
from dashboard.services.imports import ingest
from loaders import simulate
from tests.factories import NOW, at, item, tiny_org
from tests.unit.test_autoroute import new_item, publish
from tests.unit.test_store import assert_rollups_match_rebuild

WAIT_S = 20  # the longest any step may take before the test gives up
HUB_LEAD = Viewer(user="hub lead", role=Role.HUB_LEAD)
SALES_LEAD = Viewer(user="sales lead", role=Role.SPOKE_LEAD, unit="sales")
IMPORT = "import"  # how stored() shows an import as the last editor
HEADER = "id,kind,source_unit,target_unit,channel,created_at,status,sla_hours,text\n"


@pytest.fixture
def org(engine):
    """x: routed to sales (the simulator moves it); w: a lead waiting unrouted at the hub (routing takes it)."""
    with engine.begin() as conn:
        tiny_org(conn)
        store.insert_work_items(conn, [
            item("x", "hub", "sales", at(1), value=100.0),
            new_item("w", kind="lead", target="hub", created=at(3), value=120.0),
        ])
    return engine


def postgres(engine) -> bool:
    return engine.dialect.name == "postgresql"


class PauseAfter:
    """Stops the first writer (its thread is named "first") right after its first call of ``owner.name``
    returned, until :attr:`go` is set; every other call passes straight through."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        real = getattr(owner, name)

        def paused(*args, **kwargs):
            result = real(*args, **kwargs)
            if threading.current_thread().name == "first" and not self.reached.is_set():
                self.reached.set()
                if not self.go.wait(WAIT_S):
                    raise AssertionError("the paused writer was never let go")
            return result

        monkeypatch.setattr(owner, name, paused)


class Arrival:
    """Set once the second writer (thread "second") returned from ``owner.name``: it has made its read."""

    def __init__(self, monkeypatch, owner, name: str) -> None:
        self.event = threading.Event()
        real = getattr(owner, name)

        def noted(*args, **kwargs):
            result = real(*args, **kwargs)
            if threading.current_thread().name == "second":
                self.event.set()
            return result

        monkeypatch.setattr(owner, name, noted)


def in_thread(work, name: str) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["result"] = work()
        except Exception as exc:  # noqa: BLE001 - the test asserts on what happened
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, outcome


def _sqlite_write_locked(engine) -> bool:
    probe = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc), exc
        return True
    finally:
        probe.close()


def _second_waits(engine, thread: threading.Thread, first_holds_file: bool, arrival: Arrival | None) -> bool:
    """False once ``thread`` finished; True once it waits on a lock the first writer holds (PostgreSQL: seen
    waiting; SQLite: the first holds the file's write lock, and the second has made its read when ``arrival`` is
    given). Bounded."""
    deadline = time.monotonic() + WAIT_S
    if first_holds_file:
        assert arrival is None or arrival.event.wait(WAIT_S), "the second writer never made its read"
        return True
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                return False
            if postgres(engine):
                waiting = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()")).scalar_one()
                conn.rollback()  # a fresh snapshot of pg_stat_activity each time
                if waiting:
                    return True
            time.sleep(0.02)
    raise AssertionError(f"the second writer neither finished nor waited on a lock within {WAIT_S} s")


def race(engine, first, pause: PauseAfter, second, arrival: Arrival | None = None) -> tuple[dict, dict, bool]:
    """``first`` runs until ``pause`` stops it; then ``second`` runs until it finishes or waits on a lock the
    first holds; then the first goes on. Returns both outcomes ({"result": …} or {"error": …}) and whether the
    second waited."""
    t1, first_out = in_thread(first, "first")
    while not pause.reached.wait(0.02):
        assert t1.is_alive(), f"the first writer stopped before its read: {first_out}"
    first_holds_file = not postgres(engine) and _sqlite_write_locked(engine)  # asked before the second starts
    t2, second_out = in_thread(second, "second")
    try:
        waited = _second_waits(engine, t2, first_holds_file, arrival)
    finally:
        pause.go.set()
    for t in (t1, t2):
        t.join(WAIT_S)
        assert not t.is_alive(), "a writer never finished"
    return first_out, second_out, waited


def result(outcome: dict):
    assert "error" not in outcome, outcome["error"]
    return outcome["result"]


def stored(engine, item_id: str) -> tuple:
    """(status, version, last editor, target, text); an import's editor ("import #<id>") reads "import"."""
    wi = work_items.c
    with engine.connect() as conn:
        row = conn.execute(select(wi.status, wi.version, wi.updated_by, wi.target_unit, wi.text)
                           .where(wi.id == item_id)).one()
    by = IMPORT if (row.updated_by or "").startswith("import #") else row.updated_by
    return (row.status, row.version, by, row.target_unit, row.text)


def rollups_match(engine) -> None:
    with engine.begin() as conn:
        assert_rollups_match_rebuild(conn)


# --- the writers --------------------------------------------------------------------------------------


def route(engine):
    return lambda: write_transaction(engine, lambda conn: autoroute.route_waiting(conn, NOW), attempts=1)


def action(engine, viewer, unit: str, item_id: str, version: int = 1):
    return lambda: items.act(engine, viewer, unit, [(item_id, version)], "resolve", now=NOW)


def importing(engine, tmp_path, line: str):
    path = tmp_path / "items.csv"
    path.write_text(HEADER + line + "\n")
    return lambda: ingest(engine, path, viewer=LOCAL_ADMIN, tz=dt.UTC)


def w_line(text_: str = "from the file") -> str:
    return f"w,lead,hub,hub,social,{at(3).isoformat()},new,4,{text_}"


def x_line(text_: str = "from the file") -> str:
    return f"x,lead,hub,sales,web,{at(1).isoformat()},routed,4,{text_}"


def batch(engine, run_id: str = "r"):
    """One simulator batch as its loop writes it (its own transaction); the rate moves every open item."""
    with engine.connect() as conn:
        model = simulate.load_model(conn, now=NOW, force=True)

    def run():
        with engine.begin() as conn:
            return simulate.simulate_batch(conn, model, np.random.default_rng(5), simulate.IdSource(run_id=run_id),
                                           now=NOW, seconds=30, rate_per_min=120, pending_derived={})
    return run


@pytest.fixture
def rules(org):
    with org.begin() as conn:
        publish(conn)  # "leads" sends w to sales
    return org


# --- routing the waiting items x an inbox action ------------------------------------------------------


def test_routing_while_a_lead_resolves_the_waiting_item(rules, monkeypatch):
    """The lead read w (PostgreSQL: and holds it). PostgreSQL: routing skips the held item and the lead's
    resolution lands. SQLite: routing moves w first, and the lead is told it changed; nothing is overwritten."""
    pause = PauseAfter(monkeypatch, store.transitions, "_fetch_item")
    lead, routing, waited = race(rules, action(rules, HUB_LEAD, "hub", "w"), pause, route(rules))
    assert not waited
    (done,) = result(lead)
    if postgres(rules):
        assert result(routing) == 0 and done.ok
        assert stored(rules, "w")[:4] == ("resolved", 2, "hub lead", "hub")
    else:
        assert result(routing) == 1 and not done.ok and not done.failed
        assert "already changed by routing rules" in done.message and done.version == 2
        assert stored(rules, "w")[:4] == ("routed", 2, autoroute.ACTOR, "sales")
    rollups_match(rules)


def test_a_lead_resolving_an_item_routing_has_listed(rules, monkeypatch):
    """Routing listed w (PostgreSQL: locked it). PostgreSQL: the lead waits, then is told routing changed it.
    SQLite: the lead's resolution lands, and routing, reading w again under the write lock, leaves it alone."""
    pause = PauseAfter(monkeypatch, autoroute, "waiting_items")
    routing, lead, waited = race(rules, route(rules), pause, action(rules, HUB_LEAD, "hub", "w"),
                                 Arrival(monkeypatch, store.transitions, "_fetch_item"))
    (done,) = result(lead)
    if postgres(rules):
        assert waited and result(routing) == 1
        assert not done.ok and "already changed by routing rules" in done.message and done.version == 2
        assert stored(rules, "w")[:4] == ("routed", 2, autoroute.ACTOR, "sales")
    else:
        assert not waited and done.ok and result(routing) == 0
        assert stored(rules, "w")[:4] == ("resolved", 2, "hub lead", "hub")
    rollups_match(rules)


def test_a_lead_resolving_an_item_routing_is_about_to_update(rules, monkeypatch):
    """Routing read w for its update (between that read and the update): on both engines the lead waits for it
    and is then told routing changed the item."""
    pause = PauseAfter(monkeypatch, store.reroute, "check_units_exist")  # in reroute_work_items: after its read
    routing, lead, waited = race(rules, route(rules), pause, action(rules, HUB_LEAD, "hub", "w"),
                                 Arrival(monkeypatch, store.transitions, "_fetch_item"))
    (done,) = result(lead)
    assert waited and result(routing) == 1
    assert not done.ok and "already changed by routing rules" in done.message and done.version == 2
    assert stored(rules, "w")[:4] == ("routed", 2, autoroute.ACTOR, "sales")
    rollups_match(rules)


# --- routing the waiting items x an import --------------------------------------------------------------


def test_routing_while_an_import_updates_the_waiting_item(rules, monkeypatch, tmp_path):
    """Routing listed w before the import committed, then waits for it and leaves the changed item alone
    (PostgreSQL: skips the held row without waiting); the next routing takes the item as imported."""
    pause = PauseAfter(monkeypatch, store, "upsert_work_items")
    imported, routing, waited = race(rules, importing(rules, tmp_path, w_line()), pause, route(rules),
                                     Arrival(monkeypatch, autoroute, "waiting_items"))
    assert waited is not postgres(rules) and result(routing) == 0
    assert result(imported).updated == 1
    assert stored(rules, "w") == ("new", 2, IMPORT, "hub", "from the file")
    rollups_match(rules)
    assert route(rules)() == 1
    assert stored(rules, "w")[:4] == ("routed", 3, autoroute.ACTOR, "sales")
    rollups_match(rules)


@pytest.mark.parametrize("paused_after", ["waiting_items", "reroute_read"])
def test_an_import_of_an_item_routing_has_read(rules, monkeypatch, tmp_path, paused_after):
    """When routing holds w (PostgreSQL: from its listing; both engines: from the read before its update), the
    import waits, compares its file with the routed row and writes the file's version over it (routing, then
    the import, as if one after the other). SQLite, routing paused after its listing: the import lands first and
    routing, reading w again under the write lock, leaves it alone."""
    pause = (PauseAfter(monkeypatch, autoroute, "waiting_items") if paused_after == "waiting_items"
             else PauseAfter(monkeypatch, store.reroute, "check_units_exist"))
    routing, imported, waited = race(rules, route(rules), pause, importing(rules, tmp_path, w_line()))
    assert result(imported).updated == 1
    if postgres(rules) or paused_after == "reroute_read":
        assert waited and result(routing) == 1
        assert stored(rules, "w") == ("new", 3, IMPORT, "hub", "from the file")
    else:
        assert not waited and result(routing) == 0
        assert stored(rules, "w") == ("new", 2, IMPORT, "hub", "from the file")
    rollups_match(rules)


# --- the simulator's batch x an inbox action --------------------------------------------------------


def test_a_simulator_batch_while_a_lead_resolves_an_item(org, monkeypatch):
    """PostgreSQL: the batch skips the item the lead holds, and the resolution lands. SQLite: the batch moves
    it first and the lead is told it changed."""
    pause = PauseAfter(monkeypatch, store.transitions, "_fetch_item")
    lead, sim, waited = race(org, action(org, SALES_LEAD, "sales", "x"), pause, batch(org))
    assert not waited
    stats = result(sim)
    (done,) = result(lead)
    assert stats.created > 0 and stats.moved > 0
    if postgres(org):
        assert done.ok and stored(org, "x")[:3] == ("resolved", 2, "sales lead")
    else:
        assert not done.ok and "already changed by simulator" in done.message and done.version == 2
        assert stored(org, "x")[1:3] == (2, simulate.ACTOR)
    rollups_match(org)


def test_a_lead_resolving_an_item_a_simulator_batch_moved(org, monkeypatch):
    """The lead read x before the batch committed, waits for it, and is then told the simulator changed the
    item; nothing is overwritten."""
    pause = PauseAfter(monkeypatch, simulate, "_move_items")
    sim, lead, waited = race(org, batch(org), pause, action(org, SALES_LEAD, "sales", "x"),
                             Arrival(monkeypatch, store.transitions, "_fetch_item"))
    assert waited and result(sim).moved > 0
    (done,) = result(lead)
    assert not done.ok and "already changed by simulator" in done.message and done.version == 2
    assert stored(org, "x")[1:3] == (2, simulate.ACTOR)
    rollups_match(org)


# --- the simulator's batch x an import ---------------------------------------------------------------


def test_a_simulator_batch_while_an_import_updates_an_item(org, monkeypatch, tmp_path):
    """PostgreSQL: the batch skips the item the import holds. SQLite: the batch waits for the import's write
    lock and then moves the item as imported."""
    pause = PauseAfter(monkeypatch, store, "upsert_work_items")
    imported, sim, waited = race(org, importing(org, tmp_path, x_line()), pause, batch(org))
    assert waited is not postgres(org) and result(sim).moved > 0 and result(imported).updated == 1
    if postgres(org):
        assert stored(org, "x") == ("routed", 2, IMPORT, "sales", "from the file")
    else:
        assert stored(org, "x")[1:] == (3, simulate.ACTOR, "sales", "from the file")
    rollups_match(org)


def test_an_import_of_an_item_a_simulator_batch_moved(org, monkeypatch, tmp_path):
    """The import waits for the batch, then compares its file with the moved row and writes the file's version
    over it (the batch, then the import)."""
    pause = PauseAfter(monkeypatch, simulate, "_move_items")
    sim, imported, waited = race(org, batch(org), pause, importing(org, tmp_path, x_line()))
    assert waited and result(sim).moved > 0 and result(imported).updated == 1
    assert stored(org, "x") == ("routed", 3, IMPORT, "sales", "from the file")
    rollups_match(org)


SIM_ID_LINE = "sim-r-00000001,lead,hub,sales,web,{created},routed,4,from the file"


def test_an_import_of_the_ids_a_simulator_batch_is_inserting(org, monkeypatch, tmp_path):
    """The import waits for the batch (PostgreSQL: on the unique index, refused once the batch commits and run
    again), then finds the batch's item and updates it."""
    pause = PauseAfter(monkeypatch, simulate, "_move_items")
    line = SIM_ID_LINE.format(created=at(0.5).isoformat())
    sim, imported, waited = race(org, batch(org), pause, importing(org, tmp_path, line))
    assert waited and result(sim).created > 0
    report = result(imported)
    assert (report.inserted, report.updated) == (0, 1)
    assert stored(org, "sim-r-00000001")[2:] == (IMPORT, "sales", "from the file")
    rollups_match(org)


def test_a_simulator_batch_inserting_the_ids_an_import_is_inserting(org, monkeypatch, tmp_path):
    """The batch waits for the import and is refused (duplicate id) once it commits; its loop reports the batch
    as skipped and goes on. The imported item stays as imported and the whole batch rolled back."""
    pause = PauseAfter(monkeypatch, store, "upsert_work_items")
    line = SIM_ID_LINE.format(created=at(0.5).isoformat())
    imported, sim, waited = race(org, importing(org, tmp_path, line), pause, batch(org))
    assert waited and result(imported).inserted == 1
    assert isinstance(sim.get("error"), IntegrityError)
    assert stored(org, "sim-r-00000001") == ("routed", 1, IMPORT, "sales", "from the file")
    assert stored(org, "x")[1] == 1
    rollups_match(org)
