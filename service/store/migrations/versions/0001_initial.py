"""initial schema: datasets, hits, keys, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:23:57.715631
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The audit tables' append-only triggers as they were at this revision: a migration must not
# import live code, which moves on (service/audit/triggers.py holds today's, for the tests).
_PURGE_ALLOWED = """
    NEW.seq = OLD.seq AND NEW.hash = OLD.hash AND NEW.prev_hash = OLD.prev_hash
    AND NEW.body_hash = OLD.body_hash AND NEW.at = OLD.at AND NEW.purge_after = OLD.purge_after
    AND NEW.body IS NULL AND NEW.operation IS NULL
    AND NEW.actor_member_state IS NULL AND NEW.actor_key_id IS NULL
    AND EXISTS (SELECT 1 FROM audit_purge_grants g WHERE OLD.purge_after < g.purge_before)
"""
_SUBJECT_PURGE_ALLOWED = """
    EXISTS (SELECT 1 FROM audit_events e, audit_purge_grants g
            WHERE e.seq = OLD.seq AND e.purge_after < g.purge_before)
"""
_REFUSE = "audit records are append-only"

_SQLITE = [
    f"""CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events
        WHEN NOT ({_PURGE_ALLOWED}) BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events
        BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_subjects_no_update BEFORE UPDATE ON audit_subjects
        BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_subjects_no_delete BEFORE DELETE ON audit_subjects
        WHEN NOT ({_SUBJECT_PURGE_ALLOWED}) BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update
        BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete
        BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, '{_REFUSE}'); END""",
]

_POSTGRESQL = [
    f"""CREATE OR REPLACE FUNCTION abis_audit_events_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'UPDATE' AND ({_PURGE_ALLOWED}) THEN RETURN NEW; END IF;
          RAISE EXCEPTION '{_REFUSE}';
        END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION abis_audit_subjects_guard() RETURNS trigger AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND ({_SUBJECT_PURGE_ALLOWED}) THEN RETURN OLD; END IF;
          RAISE EXCEPTION '{_REFUSE}';
        END $$ LANGUAGE plpgsql""",
    f"""CREATE OR REPLACE FUNCTION abis_audit_refuse() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION '{_REFUSE}'; END $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS audit_events_guard ON audit_events",
    """CREATE TRIGGER audit_events_guard BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION abis_audit_events_guard()""",
    "DROP TRIGGER IF EXISTS audit_subjects_guard ON audit_subjects",
    """CREATE TRIGGER audit_subjects_guard BEFORE UPDATE OR DELETE ON audit_subjects
        FOR EACH ROW EXECUTE FUNCTION abis_audit_subjects_guard()""",
    "DROP TRIGGER IF EXISTS audit_checkpoints_guard ON audit_checkpoints",
    """CREATE TRIGGER audit_checkpoints_guard BEFORE UPDATE OR DELETE ON audit_checkpoints
        FOR EACH ROW EXECUTE FUNCTION abis_audit_refuse()""",
]


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("unit", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoints_seq"), ["seq"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=True),
        sa.Column("actor_member_state", sa.String(length=2), nullable=True),
        sa.Column("actor_key_id", sa.String(length=24), nullable=True),
        sa.Column("purge_after", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_events_actor_key_id"), ["actor_key_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_actor_member_state"), ["actor_member_state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_operation"), ["operation"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_events_purge_after"), ["purge_after"], unique=False
        )

    op.create_table(
        "audit_purge_grants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("purge_before", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "datasets",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("reference_number", sa.String(length=30), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.Column("gallery_group", sa.SmallInteger(), nullable=False),
        sa.Column("transmitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retention_until", sa.Date(), nullable=False),
        sa.Column("marked", sa.Boolean(), nullable=False),
        sa.Column("sequence_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference_number"),
    )
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_datasets_member_state"), ["member_state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_datasets_retention_until"), ["retention_until"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_datasets_sequence_id"), ["sequence_id"], unique=False)

    op.create_table(
        "quality_refusals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reference_number", sa.String(length=30), nullable=False),
        sa.Column("member_state", sa.String(length=2), nullable=False),
        sa.Column("category", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("quality_refusals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quality_refusals_reference_number"), ["reference_number"], unique=False
        )

    op.create_table(
        "audit_subjects",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=2), nullable=False),
        sa.Column("value", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["audit_events.seq"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_subjects_seq"), ["seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_subjects_value"), ["value"], unique=False)

    op.create_table(
        "hits",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("probe_dataset_id", sa.BigInteger(), nullable=True),
        sa.Column("probe_reference_number", sa.String(length=30), nullable=False),
        sa.Column("probe_member_state", sa.String(length=2), nullable=False),
        sa.Column("probe_category", sa.SmallInteger(), nullable=False),
        sa.Column("matched_dataset_id", sa.BigInteger(), nullable=True),
        sa.Column("matched_member_state", sa.String(length=2), nullable=False),
        sa.Column("matched_category", sa.SmallInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("modality", sa.String(length=12), nullable=False),
        sa.Column("false_hit", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["matched_dataset_id"], ["datasets.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["probe_dataset_id"], ["datasets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hits_matched_dataset_id"), ["matched_dataset_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hits_probe_dataset_id"), ["probe_dataset_id"], unique=False
        )
    # The audit tables are append-only from the start.
    bind = op.get_bind()
    for statement in _SQLITE if bind.dialect.name == "sqlite" else _POSTGRESQL:
        bind.execute(sa.text(statement))


def downgrade() -> None:
    with op.batch_alter_table("hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hits_probe_dataset_id"))
        batch_op.drop_index(batch_op.f("ix_hits_matched_dataset_id"))

    op.drop_table("hits")
    with op.batch_alter_table("audit_subjects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_subjects_value"))
        batch_op.drop_index(batch_op.f("ix_audit_subjects_seq"))

    op.drop_table("audit_subjects")
    with op.batch_alter_table("quality_refusals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quality_refusals_reference_number"))

    op.drop_table("quality_refusals")
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_sequence_id"))
        batch_op.drop_index(batch_op.f("ix_datasets_retention_until"))
        batch_op.drop_index(batch_op.f("ix_datasets_member_state"))

    op.drop_table("datasets")
    op.drop_table("audit_purge_grants")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_purge_after"))
        batch_op.drop_index(batch_op.f("ix_audit_events_operation"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_member_state"))
        batch_op.drop_index(batch_op.f("ix_audit_events_actor_key_id"))

    op.drop_table("audit_events")
    with op.batch_alter_table("audit_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_checkpoints_seq"))

    op.drop_table("audit_checkpoints")
    op.drop_table("api_keys")
