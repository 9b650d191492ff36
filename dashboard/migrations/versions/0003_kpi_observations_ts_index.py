"""Index kpi_observations.ts: the overview corrects window edges from raw observations by time

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kpi_observations_ts", "kpi_observations", ["ts"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_kpi_observations_ts", table_name="kpi_observations")
