"""The state of a running service as operators and admins see it (no personal data)."""
