"""HTTPS for the service: uvicorn's TLS settings, the ASGI "tls" extension, and client
certificates bound to access points' API keys."""
