"""Headless Chromium from Debian's package, driven by Playwright (never `playwright install`):
pages are watched for CSP violations and for any request that leaves the server, checked with
axe-core (WCAG 2.1 A/AA rules), and photographed for the docs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("ABIS_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
REPORTS = Path("reports/console")
DOCS = Path("docs/console")  # refreshed only when ABIS_CONSOLE_DOCS=1 (make console-screenshots)

# Report CSP violations from inside the page too (the console log names most, not all).
_WATCH_CSP = """
document.addEventListener('securitypolicyviolation', e => {
  window.__cspViolations = window.__cspViolations || [];
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)")


@dataclass
class Watch:
    """What a browser context did that a page must never do."""

    base_url: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_request(self, request: Any) -> None:
        url: str = request.url
        if not url.startswith((self.base_url, "data:", f"blob:{self.base_url}")):
            self.foreign_requests.append(url)

    def on_request_failed(self, request: Any) -> None:
        """A request the page's policy blocked never left the browser."""
        if request.failure == "csp" and request.url in self.foreign_requests:
            self.foreign_requests.remove(request.url)


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def context(launched: Any, base_url: str) -> Iterator[tuple[Any, Watch]]:
    """A fresh browser profile (no cookies) with its pages watched."""
    ctx = launched.new_context(base_url=base_url, viewport={"width": 1360, "height": 900})
    ctx.add_init_script(_WATCH_CSP)
    watch = Watch(base_url)
    ctx.on("console", watch.on_console)
    ctx.on("request", watch.on_request)
    ctx.on("requestfailed", watch.on_request_failed)
    try:
        yield ctx, watch
    finally:
        ctx.close()


def csp_violations(page: Any, watch: Watch) -> list[str]:
    seen: list[str] = page.evaluate("window.__cspViolations || []")
    logged = [text for text in watch.console_errors if "Content Security Policy" in text]
    return seen + logged


def serious_accessibility_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    return [f"{v['id']} ({v['impact']}): {v['help']} - {len(v['nodes'])} node(s)"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def screenshot(page: Any, name: str, full_page: bool = True) -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    path = REPORTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get("ABIS_CONSOLE_DOCS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)
    return path
