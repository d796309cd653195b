"""Database triggers that make the audit tables append-only.

UPDATE is refused except the retention purge's: blanking an event's content while keeping its
chain columns, for events whose `purge_after` a purge grant covers. DELETE of events and any
change to checkpoints is refused outright; subjects may be deleted only by a granted purge.
The triggers stop mistakes and application bugs; the hash chain and signed checkpoints are what
detect a database administrator who drops them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

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

SQLITE = [
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

POSTGRESQL = [
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


def install_triggers(connection: Connection) -> None:
    statements = SQLITE if connection.dialect.name == "sqlite" else POSTGRESQL
    for statement in statements:
        connection.execute(text(statement))
