"""Client certificates bound to API keys: a table of its own beside `api_keys`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base


class ClientCertificateRow(Base):
    """The one client certificate a key must arrive with (by SHA-256 of its DER form)."""

    __tablename__ = "client_certificates"

    key_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("api_keys.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))  # for operators' listings; not checked
    bound_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
