"""The metric names a PromQL expression reads (enough of PromQL for our rules and dashboard)."""

from __future__ import annotations

import re

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")  # label matchers
_RANGES = re.compile(r"\[[^\]]*\]")  # range and subquery durations
_GROUPINGS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = frozenset({"and", "or", "unless", "bool", "offset", "by", "without", "on",
                       "ignoring", "group_left", "group_right", "inf", "nan", "Inf", "NaN"})


def metric_names(expression: str) -> set[str]:
    text = _STRINGS.sub('""', expression)
    text = _MATCHERS.sub("", text)
    text = _RANGES.sub("", text)
    text = _GROUPINGS.sub("", text)
    text = re.sub(r"\b\d+(\.\d+)?(e[+-]?\d+)?\b", "", text)  # numbers, incl. 1e3
    return {name for name in _IDENTIFIER.findall(text) if name not in _KEYWORDS}


def exposable_names(families: dict[str, str]) -> set[str]:
    """Every sample name the families (name -> type) can produce."""
    suffixes = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_sum", "_count",
                "_created"), "summary": ("", "_sum", "_count", "_created"), "gauge": ("",),
                "info": ("_info",), "untyped": ("",), "unknown": ("",)}
    return {name + suffix for name, kind in families.items() for suffix in suffixes[kind]}
