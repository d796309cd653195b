"""`python -m service.healthcheck [PATH]`: the container's health check of its own service.

Exit 0 when PATH (default /healthz; /readyz for readiness) on 127.0.0.1:$ABIS_PORT answers
200, else 1. Kubernetes uses it as an exec probe where the service requires client
certificates, since the kubelet's HTTPS probes present none. Over HTTPS it does not
verify the server's certificate (it checks its own process, by address, not an identity);
when the service requires client certificates it presents ABIS_HEALTHCHECK_CERT and
ABIS_HEALTHCHECK_KEY, a certificate the client CA signed for this purpose (bound to no key:
/healthz needs none).
"""

from __future__ import annotations

import os
import ssl
import sys
import urllib.request


def probe_url_and_context(path: str = "/healthz") -> tuple[str, ssl.SSLContext | None]:
    port = os.environ.get("ABIS_PORT", "8000")
    if not os.environ.get("ABIS_TLS_CERT"):
        return f"http://127.0.0.1:{port}{path}", None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    cert, key = os.environ.get("ABIS_HEALTHCHECK_CERT"), os.environ.get("ABIS_HEALTHCHECK_KEY")
    if cert and key:
        context.load_cert_chain(cert, key)
    return f"https://127.0.0.1:{port}{path}", context


def main(arguments: list[str]) -> int:
    path = arguments[0] if arguments else "/healthz"
    if path not in ("/healthz", "/readyz"):
        print("usage: python -m service.healthcheck [/healthz | /readyz]", file=sys.stderr)
        return 2
    url, context = probe_url_and_context(path)
    try:
        with urllib.request.urlopen(url, timeout=4, context=context) as answer:  # noqa: S310
            return 0 if answer.status == 200 else 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
