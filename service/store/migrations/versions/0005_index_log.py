"""index log and writer epoch: shards replay the gallery's changes; takeovers are fenced

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 23:30:00

`index_log` holds one row per gallery change (add, remove, mark), written in the batch's
transaction; a shard replays it from the sequence of its snapshot. `writer_epoch` holds the
epoch of the writer that holds the lease: each takeover increments it and shards refuse
requests of an older epoch.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_log",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("dataset_id", sa.BigInteger(), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("marked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    epoch = op.create_table(
        "writer_epoch",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.bulk_insert(epoch, [{"id": 1, "epoch": 0, "taken_at": None}])


def downgrade() -> None:
    op.drop_table("writer_epoch")
    op.drop_table("index_log")
