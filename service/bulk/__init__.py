"""Bulk ingest: many transmissions in one streamed request, each through the single use case."""
