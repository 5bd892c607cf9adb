"""Browser fixtures: the real web server in a process of its own, and Chromium driven by Playwright.

The server is `python -m node.web.serve` on port 0 (its "Listening on" line says where), serving a
node built by `tests.web.conftest.build_node`. Chromium is Debian's (/usr/bin/chromium); Playwright
never downloads a browser here. `axe_violations` runs axe-core (a vendored copy, MPL-2.0) against
WCAG 2.2 A and AA, and `look_at` checks a page with it and saves a screenshot for people to view.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import WebUser, build_node

CHROMIUM = Path(os.environ.get("MASH_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
START_TIMEOUT = 20.0
ACTION_TIMEOUT_MS = 10_000

if not CHROMIUM.exists():
    raise RuntimeError(
        f"no Chromium at {CHROMIUM}: `make test` installs it (apt-get install chromium)"
    )

from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright  # noqa: E402


@dataclass(frozen=True)
class RunningNode:
    base_url: str
    users: dict[str, WebUser]
    directory: Path


@pytest.fixture(scope="session")
def running_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    directory = tmp_path_factory.mktemp("browser-node")
    people = build_node(directory)
    log = (directory / "server.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node.web.serve",
            "--config",
            str(directory / "node.toml"),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        line = _first_line(process)
        assert line.startswith("Listening on http://127.0.0.1:"), line
        yield RunningNode(line.removeprefix("Listening on ").strip(), people, directory)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
        log.close()
    assert code == 0, (directory / "server.log").read_text()


def _first_line(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    if not ready:
        process.kill()
        raise AssertionError(f"the server printed nothing in {START_TIMEOUT} s")
    return process.stdout.readline()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """Console errors and uncaught exceptions a page produced (CSP violations show up here)."""

    messages: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(message.text)

    def exception(self, error: Any) -> None:
        self.messages.append(str(error))


def open_page(
    browser: Browser, node: RunningNode, *, javascript: bool = True
) -> tuple[Page, Problems]:
    context = browser.new_context(base_url=node.base_url, java_script_enabled=javascript)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    problems = Problems()
    page.on("console", problems.console)
    page.on("pageerror", problems.exception)
    return page, problems


@pytest.fixture
def page(browser: Browser, running_node: RunningNode) -> Iterator[tuple[Page, Problems]]:
    opened, problems = open_page(browser, running_node)
    yield opened, problems
    opened.context.close()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """What axe-core finds against WCAG 2.2 A and AA on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    violations: list[dict[str, Any]] = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")),
            }));
        }""",
        WCAG_TAGS,
    )
    return violations


def look_at(page: Page, name: str, *, axe: bool = True) -> None:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png and check it with axe
    (which needs JavaScript: Playwright cannot evaluate scripts in a page that has it off)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if axe:
        assert axe_violations(page) == [], f"accessibility problems on {name}"
