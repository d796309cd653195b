"""The matcher's public API is pinned: `__all__` and every public signature.

The matcher is a library the service, the benchmarks and the load tests build on; a change to
what it exports must be a decision, not an accident. If the change is meant, regenerate the
pinned copy and commit it with the change:

    .venv/bin/python -m tests.unit.matcher.test_public_api --update
"""

from __future__ import annotations

import enum
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import matcher

PINNED = Path(__file__).with_name("public_api.json")


def _signature(obj: Any) -> str:
    return str(inspect.signature(obj))


def _describe(obj: Any) -> dict[str, Any]:
    if inspect.isclass(obj) and issubclass(obj, enum.Enum):
        return {"kind": "enum", "members": {m.name: repr(m.value) for m in obj}}
    if inspect.isclass(obj):
        members: dict[str, str] = {"__init__": _signature(obj.__init__)}
        for name, value in inspect.getmembers(obj):
            if name.startswith("_"):
                continue
            if isinstance(inspect.getattr_static(obj, name), property):
                members[name] = "property"
            elif inspect.isfunction(value) or inspect.ismethod(value):
                members[name] = _signature(value)
        bases = [base.__name__ for base in obj.__mro__[1:] if base is not object]
        return {"kind": "class", "bases": bases, "members": members}
    if inspect.isfunction(obj):
        return {"kind": "function", "signature": _signature(obj)}
    return {"kind": "value", "repr": repr(obj)}


def surface() -> dict[str, Any]:
    """What `import matcher` offers: the names in `__all__`, each with its signatures."""
    return {"__all__": list(matcher.__all__),
            "names": {name: _describe(getattr(matcher, name)) for name in matcher.__all__}}


def test_every_exported_name_exists_once() -> None:
    assert all(hasattr(matcher, name) for name in matcher.__all__)
    assert len(set(matcher.__all__)) == len(matcher.__all__)


def test_the_public_api_is_the_pinned_one() -> None:
    pinned = json.loads(PINNED.read_text())
    assert surface() == pinned, (
        "matcher's public API changed; if that is meant, run "
        "`.venv/bin/python -m tests.unit.matcher.test_public_api --update` and commit the file"
    )


if __name__ == "__main__" and sys.argv[1:] == ["--update"]:
    PINNED.write_text(json.dumps(surface(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {PINNED}")
