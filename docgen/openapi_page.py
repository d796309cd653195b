"""The HTTP API reference: the app's OpenAPI document, rendered to Markdown at build time.

Rendered by essentials-openapi into plain Markdown, so the page needs no script or asset from
the internet (the service's own `/docs` page is another matter).
"""

from __future__ import annotations

import json
import re
from typing import Any

from openapidocs.mk.v3 import OpenAPIV3DocumentationHandler

from service.api.app import create_app
from service.settings import Settings

HEADER = """# HTTP API (OpenAPI)

Generated from the FastAPI app (`service/api/app.py`) by `docgen/openapi_page.py`; the same
document a running service serves at `/openapi.json`, also here as
[openapi.json](openapi.json). Who may call each route: [Roles](roles.md).

"""


def document() -> dict[str, Any]:
    # The app's routes and models do not depend on the settings' values; no runtime is built.
    spec: dict[str, Any] = create_app(Settings(_env_file=None)).openapi()
    return spec


def render_json(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def render(spec: dict[str, Any]) -> str:
    body = str(OpenAPIV3DocumentationHandler(spec, style="MARKDOWN").write())
    # Its comment banner and its own title would come before ours.
    body = body.split("-->", 1)[-1].lstrip()
    _, _, body = body.partition("\n")
    # Responses one level below their operation, so the table of contents lists operations.
    body = re.sub(r"^### Response ", "#### Response ", body, flags=re.MULTILINE)
    return HEADER + body
