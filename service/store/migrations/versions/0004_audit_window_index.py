"""audit events: an (at, seq) index instead of (at)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 08:30:00

A supervisor's query of a recent time window finds the window's first event in this index
alone; with the index on `at` only, each candidate cost a table read (0.7 s for the last five
minutes of a million-event log, 4.5 s before the query used the window at all).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_events_at_seq", "audit_events", ["at", "seq"], unique=False)
    op.drop_index("ix_audit_events_at", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_at", "audit_events", ["at"], unique=False)
    op.drop_index("ix_audit_events_at_seq", table_name="audit_events")
