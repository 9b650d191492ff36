"""Spoke page checks: panels per unit, capacity per FTE, promotions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

import dashboard.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("panels", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("capacity_per_fte_day", sa.Float(), nullable=True))
    op.create_table(
        "promotions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("starts_at", dashboard.db.UTCDateTime(), nullable=False),
        sa.Column("ends_at", dashboard.db.UTCDateTime(), nullable=False),
        sa.Column("notice_item_id", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )


def downgrade() -> None:
    op.drop_table("promotions")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("capacity_per_fte_day")
        batch_op.drop_column("panels")
