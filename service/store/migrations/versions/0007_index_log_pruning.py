"""index log pruning: replicas report what they still need; the horizon of pruned rows

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 02:40:00

`index_log_replicas` holds, per shard replica, the sequence after which it may still need the
log (its last snapshot's). The writer deletes log rows below the lowest report (keeping a
retention floor) and records how far in `index_log_horizon`: a shard whose snapshot is older
than that horizon rebuilds its partition from the store instead of replaying.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_log_replicas",
        sa.Column("replica", sa.String(200), primary_key=True),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("needs_after", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
    )
    horizon = op.create_table(
        "index_log_horizon",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("pruned_through", sa.BigInteger(), nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(horizon, [{"id": 1, "pruned_through": 0, "pruned_at": None}])


def downgrade() -> None:
    op.drop_table("index_log_horizon")
    op.drop_table("index_log_replicas")
