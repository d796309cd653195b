"""Accuracy evaluation of identification: metrics, the HTTP client that gathers scores, reports."""
