"""File imports and quarantined rows: what was loaded from which file, and the rows refused with reasons

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from dashboard.db import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rows_read", sa.BigInteger(), nullable=False),
        sa.Column("inserted", sa.BigInteger(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("unchanged", sa.BigInteger(), nullable=False),
        sa.Column("quarantined", sa.BigInteger(), nullable=False),
        sa.Column("message", sa.Text()),
        sa.Column("imported_by", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_imports"),
    )
    op.create_index("ix_imports_kind_content_hash", "imports", ["kind", "content_hash"])
    op.create_index("ix_imports_started_at", "imports", ["started_at"])
    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("row_number", sa.BigInteger(), nullable=False),
        sa.Column("row_key", sa.String(300)),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("fixed_by_import", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
        sa.ForeignKeyConstraint(["import_id"], ["imports.id"], name="fk_quarantine_import_id_imports"),
        sa.ForeignKeyConstraint(["fixed_by_import"], ["imports.id"], name="fk_quarantine_fixed_by_import_imports"),
    )
    op.create_index("ix_quarantine_import_id", "quarantine", ["import_id"])
    op.create_index("ix_quarantine_kind_row_key", "quarantine", ["kind", "row_key"])
    op.create_index("ix_quarantine_status", "quarantine", ["status"])


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_table("imports")
