"""Every imported platform shop runs every notebook (issue 15): ``shopbook run --job all``
on the shop each preset's fixture imports. A module of its own, so the test runner can run
these (about a minute and a half each) beside the rest of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.data.test_presets import PRESETS, import_preset

#: The notebooks `--job all` runs on an imported shop: every one (02's forecast is skipped
#: with the history it needs on these seven weeks of orders).
NOTEBOOKS = ["00", "01", "02", "03", "04", "05", "06", "07"]


@pytest.mark.parametrize(
    "preset",
    [pytest.param(p, marks=pytest.mark.slow) for p in PRESETS],
)
def test_imported_shop_runs_every_notebook(preset, tmp_path):
    """``shopbook run --job all`` on the imported shop: the notebooks finish, and the
    sections a shop of orders and lines cannot support (products, sessions…) are skipped.
    About 1.5 minutes each on a quiet machine (8 notebooks)."""
    out, _ = import_preset(preset, tmp_path)
    reports = tmp_path / "reports"
    shopbook = Path(sys.executable).parent / "shopbook"
    env = {**os.environ, "SHOPBOOK_REPORTS": str(reports)}
    start = time.monotonic()
    done = subprocess.run(
        [str(shopbook), "run", "--job", "all", *NOTEBOOKS, "--source", str(out)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    elapsed = time.monotonic() - start
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # one run folder (a "latest" link to it, where the report layer writes one, is the same)
    (summary,) = {p.resolve() for p in reports.glob("all/*/summary.json")}
    runs = json.loads(summary.read_text(encoding="utf-8"))["notebooks"]
    assert {r["notebook"][:2] for r in runs} == set(NOTEBOOKS)
    assert {r["status"] for r in runs} == {"ok"}, [(r["notebook"], r["error"]) for r in runs]
    skipped = [
        p.name
        for p in summary.parent.glob("*.ipynb")
        if "application/vnd.shopbook.skipped+json" in p.read_text(encoding="utf-8")
    ]
    assert skipped, "no notebook skipped a section on a shop without products or sessions"
    print(f"{preset}: {len(runs)} notebooks in {elapsed:.0f} s")
