"""The SQLite file is the database: once an engine opened it, a deleted or replaced file is refused rather than
read stale, written into while unlinked, or silently re-created empty (dashboard.db.make_engine)."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dashboard import errors
from dashboard.db import make_engine


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "hub.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    yield engine, path
    engine.dispose()


def test_a_write_after_the_file_was_deleted_is_refused_and_nothing_is_created(db):
    engine, path = db
    for p in path.parent.glob("hub.db*"):
        p.unlink()
    for _ in range(2):  # the pooled connection, then a new one
        with pytest.raises(OperationalError) as caught:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (2)"))
        assert errors.kind(caught.value) == "cannot_open" and "was deleted or replaced" in str(caught.value)
    assert not path.exists()


def test_a_file_replaced_under_the_app_is_refused_until_a_restart(db, tmp_path):
    engine, path = db
    copy = tmp_path / "backup.db"
    shutil.copy(path, copy)
    path.unlink()
    shutil.move(copy, path)  # same name, another file (a restored backup)
    with pytest.raises(OperationalError, match="was deleted or replaced"):
        with engine.connect() as conn:
            conn.execute(text("SELECT count(*) FROM t"))
    fresh = make_engine(f"sqlite:///{path}")  # a restarted app opens the restored file
    with fresh.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 1
    fresh.dispose()


def test_a_new_database_file_is_still_created_on_first_use(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'hub.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    assert (tmp_path / "new" / "hub.db").exists()
    engine.dispose()
