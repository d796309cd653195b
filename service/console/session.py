"""The console's session: a short-lived signed cookie naming the API key that signed in.

The cookie holds the key's public id, a random session id and an expiry, signed with an HMAC
key derived from the master key (every API worker derives the same one, so no session store is
shared). It never holds the key's secret. Each request re-reads the key's row, so a revoked or
expired key ends its sessions at once; signing out also forgets the session id in this process.
CSRF: SameSite=Strict, plus a per-session token in every form that changes state.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

COOKIE = "abis_console"
SIGN_IN_COOKIE = "abis_console_signin"  # the sign-in form's CSRF token (double submit)


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    key_id: str
    session_id: str
    expires: dt.datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and checks session cookies and their CSRF tokens."""

    def __init__(self, master_key: bytes, lifetime: dt.timedelta) -> None:
        self._key = HKDF(hashes.SHA256(), 32, salt=None,
                         info=b"abis console session").derive(master_key)
        self.lifetime = lifetime
        self._ended: dict[str, dt.datetime] = {}  # signed-out session ids, until they expire
        self._lock = threading.Lock()

    def _mac(self, purpose: bytes, payload: bytes) -> str:
        return _b64(hmac.new(self._key, purpose + b"\x00" + payload, hashlib.sha256).digest())

    def issue(self, key_id: str, now: dt.datetime) -> tuple[str, ConsoleSession]:
        session = ConsoleSession(key_id, secrets.token_urlsafe(16), now + self.lifetime)
        payload = orjson.dumps({"k": key_id, "s": session.session_id,
                                "e": int(session.expires.timestamp())})
        return f"{_b64(payload)}.{self._mac(b'session', payload)}", session

    def read(self, cookie: str | None, now: dt.datetime) -> ConsoleSession | None:
        """The session a cookie stands for; None if absent, forged, expired or signed out."""
        if not cookie or cookie.count(".") != 1:
            return None
        encoded, mac = cookie.split(".")
        try:
            payload = _unb64(encoded)
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(b"session", payload)):
            return None
        fields = orjson.loads(payload)
        session = ConsoleSession(str(fields["k"]), str(fields["s"]),
                                 dt.datetime.fromtimestamp(int(fields["e"]), dt.UTC))
        if session.expires <= now:
            return None
        with self._lock:
            if session.session_id in self._ended:
                return None
        return session

    def end(self, session: ConsoleSession, now: dt.datetime) -> None:
        with self._lock:
            self._ended = {sid: until for sid, until in self._ended.items() if until > now}
            self._ended[session.session_id] = session.expires

    def csrf_token(self, session: ConsoleSession) -> str:
        return self._mac(b"csrf", session.session_id.encode())

    def csrf_ok(self, session: ConsoleSession, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf_token(session))
