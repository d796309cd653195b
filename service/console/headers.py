"""Security headers for the console (and its assets): a strict Content-Security-Policy with no
inline script or style, no framing, no caching of pages that show audit data. The API docs
pages get a looser policy (FastAPI's Swagger page starts with an inline script, and both
viewers set inline styles) that still keeps every fetch on this server: ReDoc's sidebar would
otherwise load its logo from the internet."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_DOCS = ("/docs", "/redoc")
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",  # no-referrer would make form posts send `Origin: null`
    "cross-origin-opener-policy": "same-origin",
    "cache-control": "no-store",
}


class ConsoleHeaders:
    """Adds the headers to every response under /console, and a policy to the docs pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in _DOCS:
            await self.app(scope, receive, _with({"content-security-policy": DOCS_POLICY}, send))
            return
        if not scope["path"].startswith("/console"):
            await self.app(scope, receive, send)
            return

        headers = dict(_HEADERS)
        if scope.get("scheme") == "https":
            headers["strict-transport-security"] = "max-age=31536000"
        await self.app(scope, receive, _with(headers, send))


def _with(headers: dict[str, str], send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            response_headers = MutableHeaders(scope=message)
            for name, value in headers.items():
                response_headers[name] = value
        await send(message)

    return sending
