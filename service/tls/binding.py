"""Binding an API key to the client certificate of its access point.

A key stolen from a Member State's access point should not work from anywhere else: with
mutual TLS on (ABIS_TLS_CLIENT_CA), a key bound to a certificate is accepted only on a
connection whose verified client certificate is that one. The binding is by the SHA-256 of
the certificate's DER form, so a re-issued certificate (same name, new key) needs a new
binding: deliberate, it is the access point's identity that rotates.

The check runs after the key itself authenticated; a mismatch is the same 401 as a bad key
(the caller learns nothing about which half failed), and the audit event and the failed-
authentication metric say why.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
import threading
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service.errors import InvalidInput, NotFound, Unauthenticated
from service.store.models import ApiKeyRow
from service.tls.models import ClientCertificateRow

MISMATCH = "client-certificate"  # the reason recorded for a refused binding


def fingerprint_of_pem(pem: str) -> str:
    """SHA-256 (hex) of a PEM certificate's DER form."""
    try:
        der = ssl.PEM_cert_to_DER_cert(pem)
    except ValueError as error:
        raise InvalidInput("not a PEM certificate") from error
    return hashlib.sha256(der).hexdigest()


def presented_fingerprint(scope: Mapping[str, Any]) -> str | None:
    """The fingerprint of the client certificate of this request's connection, if any."""
    chain = scope.get("extensions", {}).get("tls", {}).get("client_cert_chain") or []
    return fingerprint_of_pem(chain[0]) if chain else None


def bind(session: Session, key_id: str, pem: str, now: dt.datetime) -> ClientCertificateRow:
    """Bind `key_id` to the certificate `pem` (replacing an earlier binding)."""
    from cryptography import x509

    if session.get(ApiKeyRow, key_id) is None:
        raise NotFound(f"no key {key_id}")
    try:
        subject = x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()
    except ValueError as error:
        raise InvalidInput("not a PEM certificate") from error
    row = session.get(ClientCertificateRow, key_id) or ClientCertificateRow(key_id=key_id)
    row.sha256, row.subject, row.bound_at = fingerprint_of_pem(pem), subject[:500], now
    session.add(row)
    return row


def unbind(session: Session, key_id: str) -> bool:
    row = session.get(ClientCertificateRow, key_id)
    if row is None:
        return False
    session.delete(row)
    return True


class Bindings:
    """Which certificate each key needs, cached like the keys themselves (ABIS_AUTH_CACHE_SECONDS):
    a new or removed binding takes effect within that time."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._cached: dict[str, tuple[str | None, float]] = {}
        self._lock = threading.Lock()

    def expected(self, key_id: str) -> str | None:
        """The fingerprint `key_id` is bound to (None: not bound). Blocking: call in a thread
        unless `cached` answered."""
        with self._sessions() as session:
            row = session.get(ClientCertificateRow, key_id)
            expected = row.sha256 if row is not None else None
        if self._ttl > 0:
            with self._lock:
                if len(self._cached) >= 10_000:
                    self._cached.clear()
                self._cached[key_id] = (expected, time.monotonic() + self._ttl)
        return expected

    def cached(self, key_id: str) -> tuple[bool, str | None]:
        """(found, fingerprint) from the cache, without I/O."""
        entry = self._cached.get(key_id)
        if entry is None or time.monotonic() >= entry[1]:
            return False, None
        return True, entry[0]


def check(expected: str | None, presented: str | None) -> None:
    """Refuse a bound key arriving without its certificate."""
    if expected is not None and presented != expected:
        raise Unauthenticated("the API key is not valid on this connection")


async def require_bound_certificate(bindings: Bindings, scope: Mapping[str, Any],
                                    key_id: str) -> None:
    """Raise Unauthenticated when `key_id` is bound to a certificate this connection lacks."""
    from fastapi.concurrency import run_in_threadpool

    found, expected = bindings.cached(key_id)
    if not found:
        expected = await run_in_threadpool(bindings.expected, key_id)
    check(expected, presented_fingerprint(scope))
