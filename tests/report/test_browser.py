"""Open the rendered reports in a real headless Chromium (Debian's ``chromium``).

The setup installs Chromium with apt-get when it is missing (CI runs as root). Playwright's
Python package drives it; its own browser downloads are never used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.report.conftest import HOSTILE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _ensure_chromium() -> str:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.fail(
            f"{CHROMIUM} is missing; install Debian's chromium package (apt-get install chromium)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(
        ["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600
    )
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"],
        check=True,
        env=env,
        capture_output=True,
        timeout=1200,
    )
    assert os.path.exists(CHROMIUM)
    return CHROMIUM


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    path = _ensure_chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield b
        b.close()


class Page:
    """A page plus everything it did: console errors, outside requests, dialogs."""

    def __init__(self, browser):
        self.context = browser.new_context()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.dialogs: list[str] = []

        def route(r):
            url = r.request.url
            if url.startswith(("file://", "data:", "about:")):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort()

        self.context.route("**/*", route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d):
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def open(self, path: Path):
        self.page.goto(path.resolve().as_uri(), wait_until="load")
        self.page.wait_for_timeout(200)  # let any (unexpected) script run

    def links(self) -> list[str]:
        return self.page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")


def _local(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def test_index_and_every_report_in_chromium(browser, runs):
    reports = runs["reports"]
    p = Page(browser)
    p.open(reports / "index.html")
    assert p.page.title() == "Shopbook reports"
    index_links = p.links()
    assert index_links, "the index links the reports"
    pages = []
    for url in index_links:
        assert url.startswith("file://"), url
        target = _local(url)
        assert target.is_file(), f"index link does not resolve: {url}"
        pages.append(target)
    assert len(pages) == 2 * (2 + 3)  # html + brief for every notebook of both runs

    for target in pages:
        p.open(target)
        # links in the header (index, the other version) and inside the page resolve
        for url in p.links():
            if url.startswith("file://"):
                parsed = urlparse(url)
                assert _local(url).exists(), f"{target.name}: broken link {url}"
                if parsed.fragment and _local(url) == target:
                    assert p.page.evaluate(
                        "id => !!document.getElementById(id)", unquote(parsed.fragment)
                    ), f"{target.name}: anchor #{parsed.fragment} has no target"
        # every image decodes
        broken = p.page.evaluate(
            "Array.from(document.images)"
            ".filter(i => !(i.complete && i.naturalWidth > 0))"
            ".map(i => i.src.slice(0, 60))"
        )
        assert broken == [], f"{target.name}: images that do not decode: {broken}"
        # the table of contents of a full report lands on its headings (a brief has none)
        toc = p.page.eval_on_selector_all(
            "nav.shopbook-toc a", "els => els.map(a => a.getAttribute('href'))"
        )
        if target.name.endswith(".brief.html"):
            assert toc == [], f"{target.name}: a brief is one page, without contents"
            continue
        assert toc, f"{target.name}: no table of contents"
        for href in toc:
            p.page.click(f'nav.shopbook-toc a[href="{href}"]')
            landed = p.page.evaluate(
                """id => { const el = document.getElementById(id); if (!el) return false;
                           const r = el.getBoundingClientRect();
                           return r.top >= -2 && r.top < innerHeight; }""",
                unquote(href[1:]),
            )
            assert landed, f"{target.name}: TOC link {href} did not land"
    assert p.errors == [], f"console errors: {p.errors}"
    assert p.outside == [], f"requests left file://: {p.outside}"
    assert p.dialogs == [], f"a dialog opened (script injection): {p.dialogs}"
    p.context.close()


def test_hostile_names_render_as_text(browser, runs):
    folder = runs["good"].folder
    p = Page(browser)
    for name in ("10_ok.html", "10_ok.brief.html", "00_data_health.html"):
        p.open(folder / name)
        text = p.page.inner_text("body")
        assert HOSTILE[0] in text, f"{name}: the product name is not shown as text"
        if name.startswith("10_"):
            assert HOSTILE[1] in text
        assert (
            p.page.evaluate("document.querySelectorAll('img[src=\"x\"], img[onerror]').length") == 0
        )
        scripts = p.page.evaluate("Array.from(document.scripts).map(s => s.textContent)")
        assert not any("alert(1)" in s for s in scripts)
    assert p.dialogs == [] and p.errors == [] and p.outside == []
    p.context.close()
