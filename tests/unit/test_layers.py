"""The parts of the layer contract import-linter cannot express (the rest is in pyproject.toml, run by `make lint`):
no module takes another module's private names, the query modules only read, and pages stay off the data layers.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = ("dashboard", "loaders", "pages")
WRITE_CALLS = {"insert", "update", "delete"}  # sqlalchemy statement builders, called or as table methods
# Modules of dashboard/queries that still write; each moves to dashboard/services (the list only shrinks).
QUERIES_STILL_WRITING: set[str] = set()
PAGES_MAY_NOT_IMPORT = ("dashboard.queries", "dashboard.store", "dashboard.db", "sqlalchemy", "loaders")
PAGE_EXCEPTIONS: set[tuple[str, str]] = set()  # (page file, module) a page still imports from the data layers


def _python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in _python_files(*FIRST_PARTY):
        for module, names, line in _imports(_tree(path)):
            if not module.startswith(FIRST_PARTY):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            private += [part for part in module.split(".") if part.startswith("_") and not part.startswith("__")]
            if private:
                found.append(f"{path.relative_to(ROOT)}:{line}: {module} -> {', '.join(private)}")
    assert found == [], "private names used across modules (make them public or move the caller):\n" + "\n".join(found)


def _writes(tree: ast.Module) -> list[str]:
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
        owner = fn.value.id if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) else None
        if name in WRITE_CALLS and owner not in {"dict", "self"}:
            out.append(f"{name}() at line {node.lineno}")
        elif owner in {"store", "audit"} and name != "search":
            out.append(f"{owner}.{name}() at line {node.lineno}")
    return out


def test_query_modules_only_read():
    found = {}
    for path in _python_files("dashboard/queries"):
        if path.stem in QUERIES_STILL_WRITING:
            continue
        writes = _writes(_tree(path))
        if writes:
            found[path.stem] = writes
    assert found == {}, f"dashboard/queries writes (move these into a use case in dashboard/services): {found}"


def test_the_modules_allowed_to_write_still_do():
    for stem in QUERIES_STILL_WRITING:  # a module that stopped writing leaves the list
        assert _writes(_tree(ROOT / "dashboard" / "queries" / f"{stem}.py")), stem


def test_pages_stay_off_the_data_layers():
    found = []
    for path in _python_files("pages"):
        for module, _names, line in _imports(_tree(path)):
            if module.startswith(PAGES_MAY_NOT_IMPORT) and (path.name, module) not in PAGE_EXCEPTIONS:
                found.append(f"{path.name}:{line}: {module}")
    assert found == [], "pages import through dashboard.ui (and call services), not the data layers:\n" + "\n".join(found)
