"""How a brief is cut from a notebook, and the headline cards (no kernel but the shared runs)."""

from __future__ import annotations

import json

import nbformat as nbf
import pandas as pd
import pytest

from shopbook.i18n import use_lang
from shopbook.notebook.cards import Card, cards_from_table, cards_html, tone
from shopbook.report import brief
from tests.report.conftest import HOSTILE


def _nb(*cells):
    nb = nbf.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def test_tone_knows_whether_up_is_good():
    assert tone(0.05, "up") == "good" and tone(-0.05, "up") == "bad"
    assert tone(0.05, "down") == "bad" and tone(-0.05, "down") == "good"
    assert tone(0.001, "up") == "flat" and tone(0.05, None) == "neutral"
    assert tone(None, "up") == tone(float("nan"), "up") == "neutral"
    with pytest.raises(ValueError, match="better"):
        tone(0.1, "sideways")


def test_cards_escape_and_colour():
    page = cards_html(
        [
            Card(HOSTILE[0], 12.5, unit="<b>u</b>", change=-0.2, versus="<i>last</i>"),
            Card("CAC", 30, change=-0.2, better="down"),
        ]
    )
    assert HOSTILE[0] not in page and "<b>u</b>" not in page and "<i>last</i>" not in page
    assert page.count('class="sb-card"') == 2
    assert "sb-bad" in page and "sb-good" in page  # the same fall: bad for one, good for CAC
    assert "▼ -20.0%" in page


def test_cards_from_a_kpi_table_use_units_and_direction():
    table = pd.DataFrame(
        {
            "metric": ["gmv", "cac", "payment_conversion"],
            "label": ["GMV", "CAC", "Payment conversion"],
            "unit": ["money", "money", "share"],
            "value": [139840.2, 95.0, 0.2516],
            "change_pct": [-0.03, 0.1, float("nan")],
        }
    )
    gmv, cac, conv = cards_from_table(table, ["gmv", "cac", "payment_conversion", "nope"], "CNY")
    assert (gmv.unit, gmv.fmt, gmv.better) == ("CNY", ",.0f", "up")
    assert cac.better == "down" and tone(cac.change, cac.better) == "bad"
    assert conv.fmt == ".1%" and conv.change is None
    assert "139,840 CNY" in cards_html([gmv]) and "25.2%" in cards_html([conv])


def test_cards_speak_chinese_in_a_zh_session():
    with use_lang("zh"):
        page = cards_html([Card("Share rejected", 3, unit="of 8", change=0.5, versus="W51")])
    assert "拒收占比" in page and "3 / 8" in page and "对比 W51" in page


def test_markers_are_removed_from_code():
    src = "# NBVAL_CHECK_OUTPUT\nheadline('x', 1)\n  # NBVAL_SKIP\nx = 1  # noqa: E501\n"
    assert brief.strip_markers(src) == "headline('x', 1)\nx = 1  # noqa: E501\n"


def test_brief_is_the_tagged_cells_and_the_opening_question():
    nb = _nb(
        nbf.v4.new_markdown_cell("# Title\n\nDid it work? More text.\n\nAnd more."),
        _tagged(nbf.v4.new_code_cell("p = 1"), "parameters"),
        _tagged(nbf.v4.new_markdown_cell("## Decision"), "brief"),
        _tagged(nbf.v4.new_code_cell("cards()"), "brief"),
        nbf.v4.new_markdown_cell("## Model internals"),
        nbf.v4.new_code_cell("fit()"),
    )
    cut = brief.brief_cells(nb)
    assert [c.source for c in cut.cells] == ["*Did it work?*", "## Decision", "cards()"]
    # without a brief tag: every cell but the parameters
    nb.cells = [c for c in nb.cells if "brief" not in c.metadata.get("tags", [])]
    assert [c.source for c in brief.brief_cells(nb).cells][1:] == ["## Model internals", "fit()"]


def test_failed_section_names_the_heading_above_the_error():
    err = nbf.v4.new_output("error", ename="ValueError", evalue="bad data\nsecond", traceback=[])
    cell = nbf.v4.new_code_cell("raise")
    cell.outputs = [err]
    nb = _nb(nbf.v4.new_markdown_cell("## 2. Funnel\n\ntext"), cell)
    assert brief.failed_section(nb) == ("2. Funnel", "ValueError: bad data")
    assert brief.brief_cells(nb).cells[1].outputs == []  # the header says it, once


def test_zh_markdown_is_translated_when_rendered():
    nb = _nb(nbf.v4.new_markdown_cell("## Decision"), nbf.v4.new_markdown_cell("not in it"))
    nb.metadata["papermill"] = {"parameters": {"lang": "zh"}}
    lang = brief.notebook_lang(nb)
    assert lang == "zh"
    assert [c.source for c in brief.prepare(nb, lang).cells] == ["## 决策", "not in it"]
    assert brief.notebook_lang(nb, {"parameters": {"lang": "xx"}}) == "en"


def test_failed_brief_says_which_section_and_points_to_the_full_report(runs):
    folder = runs["bad"].folder
    summary = json.loads((folder / "summary.json").read_text())
    entry = next(e for e in summary["notebooks"] if e["notebook"] == "20_fail")
    page = (folder / entry["files"]["brief"]).read_text(encoding="utf-8")
    assert "The section “Before” failed: ValueError: planted failure: the data is wrong" in page
    assert 'href="20_fail.html#papermill-error-cell"' in page
    assert "An Exception was encountered" not in page and "Traceback" not in page
    full = (folder / entry["files"]["html"]).read_text(encoding="utf-8")
    assert 'id="papermill-error-cell"' in full


def test_full_report_hides_tool_markers(runs):
    folder = runs["good"].folder
    page = (folder / "00_data_health.html").read_text(encoding="utf-8")
    assert "NBVAL" not in page
    assert "ⓘ" not in page or "sb-info" in page
