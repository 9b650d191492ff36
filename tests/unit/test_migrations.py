"""Alembic migrations create the schema the code declares, on both engines, and upgrade in steps."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dashboard.db import make_engine, metadata, migrate


def test_migrated_schema_matches_the_declared_one(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrading_from_the_first_revision_keeps_data(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0001")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO units (id, name, kind, headcount, cost_per_fte, sort_order) VALUES ('hub','Hub','hub',1,1,0)")
    migrate(engine)
    cols = {c["name"] for c in inspect(engine).get_columns("units")}
    assert {"panels", "capacity_per_fte_day", "timezone", "office_hours"} <= cols
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM units").scalar_one() == "Hub"
