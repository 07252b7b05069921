"""Briefs as PDF, for e-mailing: each brief of a run printed by headless Chromium.

``shopbook pdf RUN_FOLDER`` (the folder ``shopbook run`` prints as ``run:``) writes
``<brief>.pdf`` beside every brief of the run, A4 with its backgrounds, and lists them.
Printing uses Playwright driving the system's Chromium (Debian: ``apt-get install
chromium``; another binary through ``SHOPBOOK_CHROMIUM``): nothing is downloaded, and
the page may load only its own file (any other request is refused), so a PDF holds
exactly what the self-contained brief does. The packaged Noto Sans CJK is added to the
fonts Chromium sees, so a Chinese brief prints in a CJK font on any machine.

Playwright (``pip install playwright``; no ``playwright install`` is needed) is a
development dependency: the command says so when it is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from shopbook.report.jobs import RunError

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: Where Chromium is looked for, after ``SHOPBOOK_CHROMIUM``.
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Chromium switches for a sandbox-less, quiet, offline headless run.
ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def find_chromium() -> str:
    """The Chromium binary to print with.

    Raises
    ------
    RunError
        When none is found, with how to install one.
    """
    env = os.environ.get("SHOPBOOK_CHROMIUM", "")
    if env:
        if not Path(env).exists():
            raise RunError(f"SHOPBOOK_CHROMIUM={env} does not exist")
        return env
    for p in CHROMIUM_PATHS:
        if Path(p).exists():
            return p
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise RunError(
        "no Chromium to print with: install Debian's chromium package "
        "(apt-get install chromium) or set SHOPBOOK_CHROMIUM to a Chromium binary"
    )


def _fontconfig(folder: Path) -> Path:
    """A fontconfig file: the system fonts plus the packaged Noto Sans CJK."""
    import cvttf_NotoSansCJK_Regular as packaged

    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<dir>{Path(packaged.__file__).parent}</dir>"
        f"<cachedir>{folder / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    return conf


def briefs(folder: str | os.PathLike) -> list[Path]:
    """The brief pages of a run folder, in the run's order (from its ``summary.json``).

    Raises
    ------
    RunError
        When ``folder`` is not a run folder.
    """
    root = Path(folder)
    summary = root / "summary.json"
    if not summary.is_file():
        raise RunError(f"{root} is not a run folder (no summary.json): give the 'run:' folder")
    entries = json.loads(summary.read_text(encoding="utf-8")).get("notebooks", [])
    return [
        root / e["files"]["brief"]
        for e in entries
        if (e.get("files") or {}).get("brief") and (root / e["files"]["brief"]).is_file()
    ]


@contextmanager
def offline_page(chromium: str | None = None) -> Iterator[Page]:
    """A headless Chromium page at 1280 × 800 that may load only local files, with the
    packaged CJK font among its fonts (the page the PDFs, the brief tests and the
    screenshots all use).

    Parameters
    ----------
    chromium
        The binary (default: :func:`find_chromium`).

    Raises
    ------
    RunError
        No Chromium, or Playwright not installed.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise RunError(
            "PDFs need Playwright: pip install playwright (it drives the system Chromium; "
            "no browser download)"
        ) from None
    binary = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="shopbook-chromium-") as tmp:
        env: dict[str, str | float | bool] = {
            **os.environ,
            "FONTCONFIG_FILE": str(_fontconfig(Path(tmp))),
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=binary, args=list(ARGS), headless=True, env=env
            )
            try:
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                context.route(
                    "**/*",
                    lambda r: (
                        r.continue_()
                        if r.request.url.startswith(("file://", "data:", "about:"))
                        else r.abort()
                    ),
                )
                yield context.new_page()
            finally:
                browser.close()


def brief_pdfs(folder: str | os.PathLike) -> list[Path]:
    """Print every brief of the run in ``folder`` to a PDF beside it.

    Returns
    -------
    list of Path
        The PDFs written (``<brief>.pdf``), in the run's order.

    Raises
    ------
    RunError
        Not a run folder, no Chromium, or Playwright not installed.
    """
    pages = briefs(folder)
    out: list[Path] = []
    if not pages:
        return out
    with offline_page() as page:
        for brief in pages:
            page.goto(brief.resolve().as_uri(), wait_until="load")
            target = brief.with_suffix(".pdf")
            page.pdf(
                path=str(target),
                format="A4",
                print_background=True,
                margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"},
            )
            out.append(target)
    return out
