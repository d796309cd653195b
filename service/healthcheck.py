"""`python -m service.healthcheck`: the container's health check of its own `abis serve`.

Exit 0 when /healthz on 127.0.0.1:$ABIS_PORT answers 200, else 1. Over HTTPS it does not
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


def probe_url_and_context() -> tuple[str, ssl.SSLContext | None]:
    port = os.environ.get("ABIS_PORT", "8000")
    if not os.environ.get("ABIS_TLS_CERT"):
        return f"http://127.0.0.1:{port}/healthz", None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    cert, key = os.environ.get("ABIS_HEALTHCHECK_CERT"), os.environ.get("ABIS_HEALTHCHECK_KEY")
    if cert and key:
        context.load_cert_chain(cert, key)
    return f"https://127.0.0.1:{port}/healthz", context


def main() -> int:
    url, context = probe_url_and_context()
    try:
        with urllib.request.urlopen(url, timeout=4, context=context) as answer:  # noqa: S310
            return 0 if answer.status == 200 else 1
    except (OSError, ValueError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
