"""The UI caches data in one place (dashboard.ui.cache), and every write says by name what it changes.

A page refreshes what a write changed by the write's names (``cache.changed(use_case)``), so the two halves
must hold: no cached read outside the cache module (it would not be cleared by any write), and no use case
without its names (``changed_by`` would refuse it at the worst moment: after the write committed).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import dashboard.services
from dashboard.services.changes import NAMES, changed_by
from dashboard.ui import cache

ROOT = Path(__file__).resolve().parents[2]
CACHE_MODULE = "dashboard/ui/cache.py"
# The only Streamlit caches outside the cache module, neither of them data (each says why where it is):
NOT_DATA = {
    ("dashboard/ui/data.py", "engine_for"),  # the connection pool: one per URL for the process's life
    ("dashboard/ui/identity.py", "_wanted_pages"),  # process memory of pages asked for while signed out
}
CACHES = {"cache_data", "cache_resource"}
# Public functions of the services that only read (they write nothing, so declare nothing):
READS = {"dashboard.services.cycle.as_is", "dashboard.services.cycle.preview_promotion"}
NOT_USE_CASES = {"changes", "autoroute"}  # the names themselves; the system's routing of new items (no viewer)
WRITE_MARKERS = {"record", "insert", "update", "delete"}  # audit.record, SQL writes: what a read never calls


def _sources():
    files = [ROOT / "streamlit_app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "dashboard").rglob("*.py"),
             *(ROOT / "loaders").rglob("*.py")]
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        if "/migrations/" not in rel:
            yield rel, ast.parse(path.read_text(encoding="utf-8"))


def _streamlit_caches(tree: ast.AST) -> list[tuple[str, int]]:
    """(enclosing function or "<module>", line) of every st.cache_data / st.cache_resource use (a decorator
    counts for the function it decorates)."""
    found = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Attribute) and child.attr in CACHES:
                found.append((where, child.lineno))
            visit(child, child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else where)

    visit(tree, "<module>")
    return found


def test_no_module_but_the_cache_module_caches_data_with_streamlit():
    outside = []
    for rel, tree in _sources():
        if rel == CACHE_MODULE:
            continue
        for where, line in _streamlit_caches(tree):
            if (rel, where) not in NOT_DATA:
                outside.append(f"{rel}:{line} ({where})")
    assert not outside, ("cache data through dashboard.ui.cache (@cache.reads / @cache.computed), so a write "
                         f"clears it by name: {outside}")


def test_the_exceptions_are_still_there_and_say_why():
    for rel, name in NOT_DATA:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert name in {where for where, _ in _streamlit_caches(tree)}, f"{rel}: {name} no longer caches: drop it"
        lines = (ROOT / rel).read_text(encoding="utf-8").splitlines()
        at = next(i for i, text in enumerate(lines) if text.startswith(f"def {name}("))
        assert "Not data" in "\n".join(lines[max(0, at - 4):at]), f"{rel}: say why {name} is not in the cache module"


def _use_case_modules():
    for info in pkgutil.iter_modules(dashboard.services.__path__):
        if info.name not in NOT_USE_CASES:
            yield importlib.import_module(f"dashboard.services.{info.name}")


def _public_functions(module):
    return [f for name, f in vars(module).items()
            if inspect.isfunction(f) and f.__module__ == module.__name__ and not name.startswith("_")]


def test_every_public_use_case_declares_what_it_writes():
    undeclared = [f"{f.__module__}.{f.__qualname__}" for m in _use_case_modules() for f in _public_functions(m)
                  if f"{f.__module__}.{f.__qualname__}" not in READS and not hasattr(f, "__writes__")]
    assert not undeclared, f"decorate with dashboard.services.changes.writes(...): {undeclared}"
    for m in _use_case_modules():
        for f in _public_functions(m):
            if hasattr(f, "__writes__"):
                assert "audit" in changed_by(f) and changed_by(f) <= NAMES


def _calls(fn) -> set[str]:
    """Names a function calls, following the module's private helpers it calls."""
    module = inspect.getmodule(fn)
    seen, todo, called = set(), [fn], set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        for node in ast.walk(ast.parse(inspect.getsource(f).lstrip())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                called.add(name)
                helper = getattr(module, name, None)
                if inspect.isfunction(helper) and helper.__module__ == module.__name__:
                    todo.append(helper)
    return called


@pytest.mark.parametrize("qualified", sorted(READS))
def test_the_functions_listed_as_reads_write_nothing(qualified):
    module, name = qualified.rsplit(".", 1)
    fn = getattr(importlib.import_module(module), name)
    assert not hasattr(fn, "__writes__"), f"{qualified} declares writes: take it off READS"
    assert not _calls(fn) & WRITE_MARKERS, f"{qualified} writes: declare what with @writes(...)"


def test_every_cached_read_names_known_data_and_takes_no_database_url():
    import dashboard.ui  # noqa: F401  (every view module registers its accessors on import)

    for info in pkgutil.walk_packages(dashboard.ui.__path__, "dashboard.ui."):
        importlib.import_module(info.name)
    readers = cache.readers()
    assert readers, "no accessor registered"
    for accessor in readers:
        assert accessor.names and accessor.names <= NAMES, accessor
        params = inspect.signature(accessor.fn).parameters
        assert "url" not in params and "database_url" not in params, (
            f"{accessor}: the cache module keys by the database URL; take the parameter out")


def test_invalidating_a_name_clears_its_readers_and_no_others():
    calls = []

    @cache.reads("routing")
    def rules(viewer: str) -> int:
        calls.append(("rules", viewer))
        return len(calls)

    @cache.reads("items", "units")
    def inbox(viewer: str) -> int:
        calls.append(("inbox", viewer))
        return len(calls)

    first_rules, first_inbox = rules("ada"), inbox("ada")
    assert (rules("ada"), inbox("ada")) == (first_rules, first_inbox)  # cached
    cache.invalidate("routing")
    assert rules("ada") != first_rules and inbox("ada") == first_inbox
    from dashboard.services.routing import publish, route_waiting

    cache.changed(publish, route_waiting)  # routing, items, audit
    assert inbox("ada") not in (first_inbox,)
    with pytest.raises(ValueError, match="unknown data name"):
        cache.invalidate("item")


def test_a_use_case_in_the_callers_transaction_is_refused_by_after(sqlite_engine):
    from dashboard.services.units import set_office_hours

    with sqlite_engine.connect() as conn, pytest.raises(TypeError, match=r"cache\.changed"):
        cache.after(set_office_hours, conn, None, "hub", None, None)


def test_a_lifetime_is_read_when_the_cached_function_is_built(monkeypatch):
    from dashboard.settings import get_settings

    @cache.reads("kpis", lifetime="slow")
    def figures(viewer: str) -> str:
        return viewer

    monkeypatch.setenv("DASHBOARD_CACHE_SLOW_SECONDS", "123")
    get_settings.cache_clear()
    try:
        figures("ada")
        assert figures._built[0] == 123.0  # type: ignore[attr-defined]
        monkeypatch.setenv("DASHBOARD_CACHE_SLOW_SECONDS", "7")
        get_settings.cache_clear()
        figures("ada")
        assert figures._built[0] == 7.0  # type: ignore[attr-defined]
    finally:
        monkeypatch.delenv("DASHBOARD_CACHE_SLOW_SECONDS")
        get_settings.cache_clear()
