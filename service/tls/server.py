"""Serving HTTPS with uvicorn, and the ASGI TLS extension uvicorn does not provide yet.

uvicorn terminates TLS (and verifies client certificates against a CA) but, up to at least
0.54, does not tell the application which certificate a client presented: the ASGI spec's
`tls` extension (`scope["extensions"]["tls"]["client_cert_chain"]`) is proposed upstream
(Kludex/uvicorn pull requests 1119, 2586, 3132, 3133) and not merged. uvicorn accepts an HTTP
protocol class in place of its name, so this module subclasses uvicorn's own protocol and adds
the extension, as the spec describes it, to every request of a TLS connection. The application
reads only the spec's keys, so it keeps working unchanged once uvicorn fills them itself.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from service.errors import ConfigurationError
from service.settings import Settings

try:  # uvicorn[standard] brings httptools; plain uvicorn has h11 only
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Http
except ImportError:  # pragma: no cover
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Http  # type: ignore[assignment]

# ASGI TLS extension: tls_version is the protocol's number on the wire.
_TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(ssl_object: ssl.SSLObject) -> dict[str, Any]:
    """The spec's `tls` entry for one connection (the leaf certificate only: Python before
    3.13 cannot read the verified chain back)."""
    der = ssl_object.getpeercert(binary_form=True)
    version = ssl_object.version()
    return {
        "server_cert": None,  # the ssl module cannot read the server's own certificate back
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)] if der else [],
        "client_cert_name": None,
        "client_cert_error": None,  # an unverified certificate never completes the handshake
        "tls_version": _TLS_VERSIONS.get(version or ""),
        "cipher_suite": None,  # the ssl module names ciphers, the spec wants their numbers
    }


class _WithTls:
    """Wraps the application for one connection, adding the connection's `tls` extension."""

    def __init__(self, app: ASGIApp, extension: dict[str, Any]) -> None:
        self.app = app
        self.extension = extension

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            scope["extensions"] = {**scope.get("extensions", {}), "tls": self.extension}
        await self.app(scope, receive, send)


class TlsAwareProtocol(_Http):
    """uvicorn's HTTP protocol, plus the ASGI `tls` extension on encrypted connections."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:  # the spec: no entry at all on plain connections
            self.app = _WithTls(self.app, tls_extension(ssl_object))


def uvicorn_tls_options(settings: Settings) -> dict[str, Any]:
    """uvicorn.run keyword arguments for the TLS settings (none: plain HTTP)."""
    if settings.tls_cert is None and settings.tls_key is None:
        if settings.tls_client_ca is not None:
            raise ConfigurationError("ABIS_TLS_CLIENT_CA needs ABIS_TLS_CERT and ABIS_TLS_KEY")
        return {}
    if settings.tls_cert is None or settings.tls_key is None:
        raise ConfigurationError("ABIS_TLS_CERT and ABIS_TLS_KEY go together")
    for path in (settings.tls_cert, settings.tls_key, settings.tls_client_ca):
        if path is not None and not path.is_file():
            raise ConfigurationError(f"TLS file {path} does not exist")
    options: dict[str, Any] = {
        "ssl_certfile": str(settings.tls_cert),
        "ssl_keyfile": str(settings.tls_key),
        "http": TlsAwareProtocol,
    }
    if settings.tls_client_ca is not None:
        options |= {"ssl_ca_certs": str(settings.tls_client_ca),
                    "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return options
