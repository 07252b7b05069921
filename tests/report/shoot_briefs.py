"""Screenshots of the 01 and 06 briefs in English and Chinese, for the docs (issue 17).

Runs the two notebooks on the shipped shop once per language (as ``shopbook run 01 06
-p lang=…`` does) and photographs each brief in headless Chromium at 1280 × 800, full
page, with the packaged Noto Sans CJK — the same browser set-up as
``tests/report/test_briefs.py``::

    .venv/bin/python -m tests.report.shoot_briefs docs/screenshots

writes ``brief_01_en.png``, ``brief_01_zh.png``, ``brief_06_en.png``, ``brief_06_zh.png``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "data" / "shop.duckdb"
NOTEBOOKS = ("01_kpi_brief", "06_ab_test")


def _run(out: Path, lang: str) -> dict[str, Path]:
    """Run the notebooks in ``lang``; ``{notebook: brief page}``."""
    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    paths = [str(ROOT / "notebooks" / f"{n}.ipynb") for n in NOTEBOOKS]
    _, tasks = plan(paths, job=f"shots_{lang}", params={"lang": lang}, source=str(SHIPPED))
    result = run(
        tasks,
        job=f"shots_{lang}",
        out=out,
        progress=Progress(quiet=True),
        handle_signals=False,
    )
    summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
    pages = {}
    for entry in summary["notebooks"]:
        if entry["status"] not in ("ok", "stale"):
            raise SystemExit(
                f"{entry['notebook']} ({lang}) {entry['status']}: {entry.get('error')}"
            )
        pages[entry["notebook"]] = result.folder / entry["files"]["brief"]
    return pages


def shoot(folder: Path) -> list[Path]:
    """Write the four screenshots into ``folder``; their paths."""
    from shopbook.report.pdf import offline_page
    from tests.report.test_browser import _ensure_chromium

    folder.mkdir(parents=True, exist_ok=True)
    shots = []
    with tempfile.TemporaryDirectory(prefix="shopbook-shots-") as tmp:
        pages = {lang: _run(Path(tmp) / lang, lang) for lang in ("en", "zh")}
        with offline_page(_ensure_chromium()) as page:
            for lang, briefs in pages.items():
                for name, path in briefs.items():
                    page.goto(path.resolve().as_uri(), wait_until="load")
                    shot = folder / f"brief_{name[:2]}_{lang}.png"
                    page.screenshot(path=str(shot), full_page=True)
                    shots.append(shot)
    return shots


if __name__ == "__main__":
    for shot in shoot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(shot, shot.stat().st_size)
