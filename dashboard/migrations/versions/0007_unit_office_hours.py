"""Units get office hours and the time zone they are written in

Two nullable text columns on ``units``: adding a nullable column is instant on both engines (no table
rewrite). NULL means "not stated": the what-if model reads the unit's hours from its data instead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UNIT_COLUMNS = (("timezone", 64), ("office_hours", 200))


def upgrade() -> None:
    for name, length in UNIT_COLUMNS:
        op.add_column("units", sa.Column(name, sa.String(length)))


def downgrade() -> None:
    with op.batch_alter_table("units") as batch:
        for name, _ in reversed(UNIT_COLUMNS):
            batch.drop_column(name)
