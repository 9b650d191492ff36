"""A covering index of the open items for a spoke's inbox in its default view

``ix_work_items_open_inbox`` holds the open items (``resolved_at IS NULL``) by target and creation time with the
status, due time and id (and ``resolved_at``, so SQLite counts it as covering): the inbox's count and the ids of its
page are read from the index alone. ``ix_work_items_open_target`` (0008) stays for the other filters and sorts.
PostgreSQL prices an index scan's table reads by how the index's first column follows the table's physical order;
by target they look random, and at 10M items it chose to read every open item of every unit through
``ix_work_items_resolved`` (0.1-0.2 s a query) instead. An index-only read has no table reads to price.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

COLUMNS = ["target_unit", "created_at", "status", "due_at", "id", "resolved_at"]


def upgrade() -> None:
    op.create_index("ix_work_items_open_inbox", "work_items", COLUMNS, unique=False,
                    sqlite_where=sa.text("resolved_at IS NULL"), postgresql_where=sa.text("resolved_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_work_items_open_inbox", table_name="work_items")
