"""The settings reference, from `service.settings.Settings` (every field, its ABIS_* variable)."""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from docgen.tables import table
from service.settings import Settings

HEADER = """# Settings

Generated from `service/settings.py` by `docgen/settings_page.py`: every setting the service
reads, as an environment variable. Secrets are never defaults; outside dev mode the master key
and the audit key must be configured (see [Keys](../operators/keys.md)).

"""


class UndocumentedSetting(Exception):
    """A setting without a `description=`: operators would not know what it does."""


def _type(info: FieldInfo) -> str:
    annotation: Any = info.annotation
    if get_origin(annotation) is Literal:
        return " or ".join(f"`{value}`" for value in get_args(annotation))
    text = getattr(annotation, "__name__", None) or str(annotation)
    return str(text).replace("typing.", "").replace("pathlib.", "")


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined or info.default is None:
        return "none"
    if isinstance(info.default, bool):
        return "true" if info.default else "false"
    return f"`{info.default}`"


def _constraints(info: FieldInfo) -> str:
    parts = []
    for item in info.metadata:
        for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(item, name, None) is not None:
                parts.append(f"{symbol} {getattr(item, name)}")
    return ", ".join(parts)


def rows(settings_class: type[Settings] = Settings) -> list[tuple[str, str, str, str, str]]:
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    found = []
    for name, info in settings_class.model_fields.items():
        if not info.description:
            raise UndocumentedSetting(f"{settings_class.__name__}.{name} has no description=")
        found.append((f"`{prefix}{name.upper()}`", _type(info), _default(info),
                      _constraints(info), info.description))
    return found


def render() -> str:
    return HEADER + table(("variable", "type", "default", "allowed", "meaning"), rows())
