"""Routing rules, the operating-model cycle (assessments, target model, planned changes) and customer journeys

Work items gain four nullable columns (segment, priority, rule_id, journey_id): adding a nullable column is
instant on both engines (no table rewrite), so this runs in well under a second even at ten million items,
apart from the partial journey index, which only holds items that belong to a journey.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

from dashboard.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ITEM_COLUMNS = (("segment", 32), ("priority", 8), ("rule_id", 64), ("journey_id", 64))


def upgrade() -> None:
    for name, length in ITEM_COLUMNS:
        op.add_column("work_items", sa.Column(name, sa.String(length)))
    op.create_index("ix_work_items_journey", "work_items", ["journey_id", "created_at"],
                    sqlite_where=sa.text("journey_id IS NOT NULL"), postgresql_where=sa.text("journey_id IS NOT NULL"))
    op.create_table(
        "journeys",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("converted_at", UTCDateTime()),
        sa.Column("revenue", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_journeys"),
    )
    op.create_index("ix_journeys_started_at", "journeys", ["started_at"])
    op.create_table(
        "routing_rule_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("based_on", sa.Integer()),
        sa.Column("note", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("published_by", sa.String(320)),
        sa.Column("published_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_routing_rule_sets"),
    )
    op.create_index("ix_routing_rule_sets_status", "routing_rule_sets", ["status"])
    op.create_table(
        "maturity_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("function", sa.String(64), nullable=False),
        sa.Column("assessed_at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(320), nullable=False),
        sa.Column("structure", sa.Integer(), nullable=False),
        sa.Column("processes", sa.Integer(), nullable=False),
        sa.Column("data_management", sa.Integer(), nullable=False),
        sa.Column("technology", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_maturity_assessments"),
    )
    op.create_index("ix_maturity_assessments_function_at", "maturity_assessments", ["function", "assessed_at"])
    op.create_table(
        "target_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scenario_id", sa.Integer()),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON()),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("promoted_by", sa.String(320), nullable=False),
        sa.Column("promoted_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_target_models"),
    )
    op.create_table(
        "planned_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_model_id", sa.Integer(), nullable=False),
        sa.Column("function", sa.String(64), nullable=False),
        sa.Column("from_placement", sa.String(16), nullable=False),
        sa.Column("to_placement", sa.String(16), nullable=False),
        sa.Column("from_share", sa.Float()),
        sa.Column("to_share", sa.Float()),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("units", sa.Text()),
        sa.Column("owner", sa.String(320)),
        sa.Column("due_on", sa.Date()),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("done_on", sa.Date()),
        sa.Column("predicted", sa.JSON()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(320), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_planned_changes"),
        sa.ForeignKeyConstraint(["target_model_id"], ["target_models.id"],
                                name="fk_planned_changes_target_model_id_target_models"),
    )
    op.create_index("ix_planned_changes_status_done_on", "planned_changes", ["status", "done_on"])


def downgrade() -> None:
    op.drop_table("planned_changes")
    op.drop_table("target_models")
    op.drop_table("maturity_assessments")
    op.drop_table("routing_rule_sets")
    op.drop_index("ix_journeys_started_at", table_name="journeys")
    op.drop_table("journeys")
    op.drop_index("ix_work_items_journey", table_name="work_items")
    with op.batch_alter_table("work_items") as batch:
        for name, _ in reversed(ITEM_COLUMNS):
            batch.drop_column(name)
