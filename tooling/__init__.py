"""Operator tooling around the service: synthetic galleries, the bulk loader, benchmarks and
accuracy evaluation. It may import `service`, `matcher` and `schemas`; the service never
imports it (an import-linter contract in pyproject.toml)."""
