"""Prometheus metrics: what the service exposes at /metrics (see docs/deployment.md).

Labels never carry personal data, reference numbers, raw paths or client addresses: requests
are labelled by route template, failed authentications by the key's Member State and access
point (unit) as recorded when the key was issued.
"""
