"""One home for every write (docs/architecture.md, "… a write"): SQL that changes data is written only in the store
(``dashboard/store/``), the audit primitive (``dashboard/audit.py``), the schema (``dashboard/db.py``) and the
migrations. Use cases (``dashboard/services/``) check the role, call the store and audit; queries, the UI, pages
and the loaders call use cases or store primitives and write no SQL of their own. The audit trail is written by
use cases only, and the UI does not call the store around them.

Checked on the syntax tree of every module, so a new write in the wrong place fails here whatever its shape: a
SQLAlchemy ``insert``/``update``/``delete`` (imported, or called on a table of ``dashboard.db``), raw SQL that
inserts, updates, deletes, truncates or copies, or ``DataFrame.to_sql``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sqlalchemy import Table

from dashboard import db

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ("dashboard", "loaders", "pages", "streamlit_app.py")
HOMES = ("dashboard/store/", "dashboard/audit.py", "dashboard/db.py", "dashboard/migrations/")
# Modules that still write SQL of their own, each with where it goes; the list only shrinks (a module that stopped
# writing must leave it, see test_the_modules_still_writing_do).
STILL_WRITING: set[str] = set()  # empty: every write is in its home
SQL_BUILDERS = {"insert", "update", "delete", "Insert", "Update", "Delete"}
TABLE_WRITES = {"insert", "update", "delete"}
# raw SQL that changes data, as the code base writes it (keywords in capitals), at the start of a string
RAW_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|TRUNCATE|REPLACE\s+INTO|MERGE\s+INTO"
                       r"|UPSERT|COPY\s.*\bFROM\s+STDIN)\b", re.DOTALL)
RAW_WRITE_ANY_CASE = re.compile(RAW_WRITE.pattern, re.DOTALL | re.IGNORECASE)  # for strings handed to a driver
RAW_CALLS = {"text", "exec_driver_sql", "execute", "executemany", "executescript"}
TABLES = {name for name, value in vars(db).items() if isinstance(value, Table)}


def _files() -> list[Path]:
    out = []
    for entry in CHECKED:
        path = ROOT / entry
        out += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return out


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _is_home(rel: str) -> bool:
    return any(rel == h or (h.endswith("/") and rel.startswith(h)) for h in HOMES)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _literal_text(node: ast.AST) -> str | None:
    """A string literal's text; an f-string's with ``{}`` for each replacement field."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _is_table(node: ast.AST, tables: set[str], db_modules: set[str]) -> bool:
    """A table of dashboard.db by name (``users``, ``db.users``). Any other receiver of a bare ``.insert()``,
    ``.update()`` or ``.delete()`` is taken for a table too: the list, frame, set and hash methods of those names
    take arguments."""
    if isinstance(node, ast.Name):
        return node.id in tables
    return (isinstance(node, ast.Attribute) and node.attr in TABLES and isinstance(node.value, ast.Name)
            and node.value.id in db_modules)


def sql_writes(tree: ast.Module) -> list[str]:
    """Every place in a module that writes SQL of its own, as 'what at line N'."""
    builders: set[str] = set()  # local names of sqlalchemy's insert/update/delete
    sa_modules: set[str] = set()  # local names of sqlalchemy (or a submodule)
    tables: set[str] = set()  # local names of dashboard.db tables
    db_modules: set[str] = set()  # local names of dashboard.db
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                local = alias.asname or alias.name
                if node.module.startswith("sqlalchemy") and alias.name in SQL_BUILDERS:
                    builders.add(local)
                    found.append(f"imports {node.module}.{alias.name} at line {node.lineno}")
                elif node.module == "dashboard.db" and alias.name in TABLES:
                    tables.add(local)
                elif node.module == "dashboard" and alias.name == "db":
                    db_modules.add(local)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sqlalchemy"):
                    sa_modules.add(alias.asname or alias.name.split(".")[0])
                elif alias.name == "dashboard.db" and alias.asname:
                    db_modules.add(alias.asname)
    parts = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
    skip = _docstrings(tree) | parts  # an f-string is read whole, not its pieces again
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if isinstance(fn, ast.Name) and fn.id in builders:
                found.append(f"{fn.id}() at line {node.lineno}")
            elif isinstance(fn, ast.Attribute):
                owner = fn.value
                if fn.attr in SQL_BUILDERS and isinstance(owner, ast.Name) and owner.id in sa_modules:
                    found.append(f"{owner.id}.{fn.attr}() at line {node.lineno}")
                elif fn.attr in TABLE_WRITES and (_is_table(owner, tables, db_modules) or not (node.args or node.keywords)):
                    found.append(f"{ast.unparse(owner)}.{fn.attr}() at line {node.lineno}")
                elif fn.attr == "to_sql":
                    found.append(f"to_sql() at line {node.lineno}")
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if name in RAW_CALLS and node.args:
                text = _literal_text(node.args[0])
                if text is not None and RAW_WRITE_ANY_CASE.match(text) and not RAW_WRITE.match(text):
                    found.append(f"raw SQL {text.split()[0]!r} at line {node.lineno}")
        text = _literal_text(node) if id(node) not in skip else None
        if text is not None and RAW_WRITE.match(text):
            found.append(f"raw SQL {text.split()[0]!r} at line {node.lineno}")
    return list(dict.fromkeys(found))


def _audit_records(tree: ast.Module) -> list[str]:
    """Calls that write the audit trail: ``audit.record(...)``, or ``record(...)`` imported from dashboard.audit."""
    names = {alias.asname or alias.name for node in ast.walk(tree)
             if isinstance(node, ast.ImportFrom) and node.module == "dashboard.audit"
             for alias in node.names if alias.name == "record"}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if (isinstance(fn, ast.Attribute) and fn.attr == "record" and isinstance(fn.value, ast.Name)
                    and fn.value.id == "audit") or (isinstance(fn, ast.Name) and fn.id in names):
                out.append(f"audit record at line {node.lineno}")
    return out


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_only_the_store_the_audit_primitive_and_the_schema_write_sql():
    found = {}
    for path in _files():
        rel = _rel(path)
        if _is_home(rel) or rel in STILL_WRITING:
            continue
        writes = sql_writes(_tree(path))
        if writes:
            found[rel] = writes
    assert found == {}, ("SQL writes outside dashboard/store (add a primitive there and call it from the use case, "
                         f"docs/architecture.md): {found}")


def test_the_modules_still_writing_do():
    for rel in sorted(STILL_WRITING):  # a module that stopped writing (or moved) leaves the list
        path = ROOT / rel
        assert path.is_file() and sql_writes(_tree(path)), f"{rel} no longer writes SQL: take it off STILL_WRITING"


def test_the_homes_are_where_the_writes_are():
    """The check finds what it looks for: the store's own modules write (else it is looking at nothing)."""
    for rel in ("dashboard/store/rule_sets.py", "dashboard/store/bulk.py", "dashboard/store/users.py",
                "dashboard/audit.py"):
        assert sql_writes(_tree(ROOT / rel)), rel


def test_the_check_sees_every_shape_of_write_and_nothing_else():
    writes = [
        "from sqlalchemy import insert\nconn.execute(insert(t).values(a=1))",
        "from sqlalchemy.dialects.postgresql import insert as pg_insert\nstmt = pg_insert(t)",
        "import sqlalchemy as sa\nconn.execute(sa.update(t))",
        "from dashboard.db import users\nconn.execute(users.insert(), rows)",
        "from dashboard.db import work_items as wi\nconn.execute(wi.delete())",
        "from dashboard import db\nconn.execute(db.scenarios.update().values(a=1))",
        "sql = str(table.insert().compile(dialect=conn.dialect))",
        'copy_sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"',
        'conn.exec_driver_sql(f"TRUNCATE {names}")',
        'conn.execute(text("delete from audit_log where id = :id"), {"id": 1})',
        'SQL = "UPDATE units SET name = ? WHERE id = ?"',
        'sql = f"INSERT INTO {table} VALUES (?)"',
        'frame.to_sql("units", conn, if_exists="append")',
    ]
    for code in writes:
        assert sql_writes(ast.parse(code)), code
    reads = [
        'conn.execute(select(t).where(t.c.id == 1))',
        'frame.insert(0, "team", names)',
        'digest.update(block)',
        'st.session_state.update(name="x")',
        'from dashboard.queries import users\nusers.lookup(conn, "a")',
        'st.caption("Delete from the list the rows you do not want")',
        'conn.exec_driver_sql("VACUUM ANALYZE work_items")',
        '"""INSERT INTO is how the store writes (a docstring)"""',
    ]
    for code in reads:
        assert not sql_writes(ast.parse(code)), code


def test_the_audit_trail_is_written_by_use_cases():
    found = {}
    for path in _files():
        rel = _rel(path)
        if rel.startswith("dashboard/services/") or rel == "dashboard/audit.py":
            continue
        records = _audit_records(_tree(path))
        if records:
            found[rel] = records
    assert found == {}, ("audit records outside dashboard/services (make the write a use case, e.g. "
                         f"services.exports.record_export): {found}")


def test_the_ui_calls_use_cases_not_the_store():
    found = []
    for path in _files():
        rel = _rel(path)
        if not rel.startswith(("dashboard/ui/", "pages/")):
            continue
        for node in ast.walk(_tree(path)):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" for a in node.names] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            found += [f"{rel}:{node.lineno}: {n}" for n in names
                      if n == "dashboard.store" or n.startswith("dashboard.store.")]
    assert found == [], "the UI writes through dashboard/services, not the store:\n" + "\n".join(found)


def test_callers_use_the_stores_api():
    """Outside the store, ``store.<name>`` is a name of its ``__all__`` (dashboard/store/__init__.py) and nobody
    imports its modules: what the modules share among themselves stays theirs to change."""
    from dashboard import store

    found = []
    for path in _files():
        rel = _rel(path)
        if rel.startswith("dashboard/store/"):
            continue
        tree = _tree(path)
        local = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                 and node.module == "dashboard" for a in node.names if a.name == "store"}  # what the module calls it
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dashboard.store"):
                names = [a.name for a in node.names]
                if node.module != "dashboard.store" or set(names) - set(store.__all__):
                    found.append(f"{rel}:{node.lineno}: from {node.module} import {', '.join(names)}")
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in local
                  and node.attr not in store.__all__):
                found.append(f"{rel}:{node.lineno}: store.{node.attr}")
    assert found == [], "use dashboard.store's API (add the name to its __all__ if callers need it):\n" + "\n".join(found)
