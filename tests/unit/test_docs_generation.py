"""The docs generators refuse what would make a page wrong, and the offline check catches
remote fetches."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from docgen import check_offline, roles_page, settings_page
from docgen.roles_page import Access

ROUTES = roles_page.source()


class _Undocumented(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="X_")
    known: int = Field(default=1, description="documented")
    forgotten: int = 2


def test_a_setting_without_a_description_stops_the_build() -> None:
    with pytest.raises(settings_page.UndocumentedSetting, match="forgotten"):
        settings_page.rows(_Undocumented)  # type: ignore[arg-type]


def test_every_service_setting_is_on_the_page() -> None:
    from service.settings import Settings

    page = settings_page.render()
    assert all(f"`ABIS_{name.upper()}`" in page for name in Settings.model_fields)


def _spec(*operations: tuple[str, str]) -> dict[str, object]:
    paths: dict[str, dict[str, object]] = {}
    for method, path in operations:
        paths.setdefault(path, {})[method.lower()] = {}
    return {"paths": paths}


def test_the_role_table_must_name_exactly_the_routes() -> None:
    served = _spec(*((row.method, row.path) for row in ROUTES))
    roles_page.check(ROUTES, served)
    with pytest.raises(roles_page.RoleTableDrift, match="/v1/new"):
        roles_page.check(ROUTES, _spec(*((r.method, r.path) for r in ROUTES), ("GET", "/v1/new")))
    with pytest.raises(roles_page.RoleTableDrift, match="/gone"):
        roles_page.check((*ROUTES, Access("GET", "/gone", "supervisor", "nothing")), served)


def test_the_offline_check_flags_what_a_page_fetches_not_what_it_links(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text('<a href="https://example.org/">a link</a>')
    (tmp_path / "page.html").write_text(
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
    )
    (tmp_path / "style.css").write_text("body { background: url('https://img.example/b.png') }")
    found = check_offline.remote_fetches(tmp_path)
    assert len(found) == 3
    assert check_offline.main([str(tmp_path)]) == 1
    (tmp_path / "page.html").write_text('<script src="assets/local.js"></script>')
    (tmp_path / "style.css").write_text("body { background: url('img/b.png') }")
    assert check_offline.main([str(tmp_path)]) == 0
