"""The spoke page reads per-hour counts and the open items routed to a unit instead of scanning items

- ``ix_work_items_open_target``: a partial index of the open items (``resolved_at IS NULL``) by target and creation
  time; the inbox's default view (open statuses) and its count read only those rows.
- ``mix_hourly``: items created per hour, route, kind, channel and topic (the inbox's filter options, routed topics).
- ``text_hourly``: items with a non-empty text created per hour, target and wording (recurring questions); keyed
  by the text's sha256, as a text may be longer than an index entry may be on PostgreSQL.

Both tables are filled from the stored items here (one INSERT ... SELECT each) and kept in step by every write
(``dashboard.store.rollups``); ``store.rebuild_rollups`` recomputes them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_work_items_open_target", "work_items", ["target_unit", "created_at"], unique=False,
                    sqlite_where=sa.text("resolved_at IS NULL"), postgresql_where=sa.text("resolved_at IS NULL"))
    op.create_table(
        "mix_hourly",
        sa.Column("target_unit", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("source_unit", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("topic_key", sa.String(length=80), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("target_unit", "hour", "source_unit", "kind", "channel", "topic_key",
                                name=op.f("pk_mix_hourly")),
    )
    op.create_index("ix_mix_hourly_source_unit_hour", "mix_hourly", ["source_unit", "hour"], unique=False)
    op.create_table(
        "text_hourly",
        sa.Column("target_unit", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("text_key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("target_unit", "hour", "text_key", name=op.f("pk_text_hourly")),
    )
    _fill(op.get_bind())


def _text_key(text: str) -> str:  # dashboard.store.rollups.text_key, frozen here as this revision wrote it
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _fill(conn) -> None:
    """Both tables from the stored items: one INSERT ... SELECT each (the hour of created_at, whole hours since the
    epoch, as the store computes it)."""
    if conn.dialect.name == "postgresql":
        hour = "floor(extract(epoch FROM created_at) / 3600)::integer"
        key = "encode(sha256(convert_to(text, 'UTF8')), 'hex')"
    else:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC
        hour = "CAST(strftime('%s', substr(created_at, 1, 19)) AS INTEGER) / 3600"
        key = "hubspoke_text_key(text)"
        conn.connection.driver_connection.create_function("hubspoke_text_key", 1, _text_key, deterministic=True)
    conn.exec_driver_sql(
        "INSERT INTO mix_hourly (target_unit, hour, source_unit, kind, channel, topic_key, topic, created) "
        f"SELECT target_unit, {hour}, source_unit, kind, channel, CASE WHEN topic IS NULL THEN '' ELSE '#' || topic END, "
        "min(topic), count(*) FROM work_items GROUP BY target_unit, 2, source_unit, kind, channel, topic")
    conn.exec_driver_sql(
        "INSERT INTO text_hourly (target_unit, hour, text_key, text, created) "
        f"SELECT target_unit, {hour}, {key}, text, count(*) FROM work_items WHERE text IS NOT NULL AND text <> '' "
        "GROUP BY target_unit, 2, text")


def downgrade() -> None:
    op.drop_table("text_hourly")
    op.drop_index("ix_mix_hourly_source_unit_hour", table_name="mix_hourly")
    op.drop_table("mix_hourly")
    op.drop_index("ix_work_items_open_target", table_name="work_items")
