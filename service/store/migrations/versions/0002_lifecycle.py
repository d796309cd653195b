"""notifications and statistics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 04:32:24.771505
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("recipient", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("about_reference_number", sa.String(length=30), nullable=False),
        sa.Column("about_member_state", sa.String(length=2), nullable=False),
        sa.Column("recipient_reference_numbers", sa.Text(), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_recipient"), ["recipient"], unique=False)

    op.create_table(
        "statistics",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("metric", sa.String(length=30), nullable=False),
        sa.Column("matched_category", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "member_state", "category", "metric", "matched_category"),
    )


def downgrade() -> None:
    op.drop_table("statistics")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_recipient"))

    op.drop_table("notifications")
