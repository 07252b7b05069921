"""``shopbook pdf``: every brief of a run printed to A4 PDF by the system Chromium (issue 17),
at most three pages, a Chinese brief in an embedded CJK font, nothing fetched."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.report.test_briefs import _run
from tests.report.test_browser import _ensure_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def zh_ab_run(tmp_path_factory):
    """The A/B report with lang=zh on the shipped shop."""
    pytest.importorskip("playwright.sync_api")
    _ensure_chromium()
    result, _ = _run(
        tmp_path_factory, [ROOT / "notebooks" / "06_ab_test.ipynb"], "pdf", {"lang": "zh"}
    )
    return result


def test_each_brief_prints_to_a_short_pdf_in_a_cjk_font(zh_ab_run):
    from shopbook.report.pdf import brief_pdfs, briefs

    written = brief_pdfs(zh_ab_run.folder)
    assert [p.with_suffix(".html") for p in written] == briefs(zh_ab_run.folder)
    (pdf,) = written
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 1 <= pages <= 3, pages
    assert b"NotoSansCJK" in data  # the Chinese text is set in the packaged CJK font


def test_the_command_lists_the_pdfs_and_refuses_a_folder_that_is_not_a_run(zh_ab_run, tmp_path):
    from shopbook.cli import app

    done = CliRunner().invoke(app, ["pdf", str(zh_ab_run.folder)])
    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith("1 PDF")
    bad = CliRunner().invoke(app, ["pdf", str(tmp_path)])
    assert bad.exit_code == 2
    assert "is not a run folder (no summary.json)" in bad.output
