"""Alembic environment: always run programmatically by `service.store.schema` on a connection."""

from __future__ import annotations

from alembic import context

import service.audit.models  # noqa: F401  - registers the audit tables
import service.lifecycle.models  # noqa: F401
import service.statistics.models  # noqa: F401
import service.tls.models  # noqa: F401  - client certificates bound to keys
import service.writer.models  # noqa: F401
from service.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
