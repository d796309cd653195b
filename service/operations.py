"""The names of audited operations, as the audit chain records them.

Each is stated where the action is declared: an HTTP route's row in `service.auth.policy`, a
use case that acts outside its route's name (console sign-in, bulk items), or a system task
(`system_audit`). The values are in every existing audit log: never change one (old logs must
keep verifying and answering queries by operation); add new ones. `tests/unit/
test_audit_operations.py` pins them.
"""

from __future__ import annotations

from enum import StrEnum


class Operation(StrEnum):
    TRANSMIT = "dataset:transmit"
    DATASET_READ = "dataset:read"
    AUDIT_QUERY = "audit:query"
    AUDIT_EXPORT = "audit:export"
    AUDIT_VERIFY = "audit:verify"
    AMEND = "dataset:amend"
    MARK = "dataset:mark"
    UNMARK = "dataset:unmark"
    EXTEND = "dataset:extend"
    ERASE = "dataset:erase"
    EXPIRE = "dataset:expire"
    FALSE_HIT = "hit:false"
    NOTIFICATIONS = "notification:read"
    ACKNOWLEDGE = "notification:ack"
    STATISTICS = "statistics:read"
    EVALUATION_SEARCH = "evaluation:search"
    BULK_LOAD = "dataset:bulk-load"
    SYSTEM_STATUS = "system:status"
    CONSOLE_SIGN_IN = "console:sign-in"
    CONSOLE_SIGN_OUT = "console:sign-out"
    THRESHOLDS = "matcher:thresholds"  # decision thresholds recalibrated (or computed by CLI)
    OTHER = "http:request"
    SECURITY_AUTH_FAILURES = "security:auth-failures"  # service.audit.security
    MASTER_KEY_ROTATION = "keys:rotate-master"  # service.cli.key_rotation
    AUDIT_KEY_ROTATION = "keys:rotate-audit"  # service.cli.key_rotation
