"""The data-health report and every report's header in Chinese (issue 17).

* the data-health table's reject reasons are translated when shown (templates keep the
  column, value or line), while the reasons the validation layer stores stay English;
* notebook 00, run with ``lang=zh`` on a small dirty source and rendered, shows its
  reject reasons, table headers, parameter table and header labels in Chinese;
* every parameter's ``# comment`` (shown in the run-parameters table) has a zh entry.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import nbformat
import pandas as pd
import pytest

from shopbook.data import health
from shopbook.data.contract import TABLES
from shopbook.data.validation import validate
from shopbook.data.validation.reasons import rules
from shopbook.i18n import catalogue, placeholders, use_lang
from shopbook.notebook.tables import formatted
from shopbook.report import render
from tests.builders import orders_frame

ROOT = Path(__file__).parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CJK = re.compile(r"[\u4e00-\u9fff]")


def _dirty_source(path: Path) -> Path:
    """Orders with an unknown status, a missing customer, a negative amount and a
    duplicate id; the rest are clean."""
    orders = orders_frame(
        [
            ("c1", "2024-03-01 10:00", 100.0),
            ("c2", "2024-03-02 10:00", 80.0),
            ("c3", "2024-03-03 10:00", 60.0, "lost_in_post"),
            (None, "2024-03-04 10:00", 50.0),
            ("c4", "2024-03-05 10:00", -5.0),
            ("c5", "2024-03-06 10:00", 70.0),
        ]
    )
    orders["gross_amount"] = orders["net_amount"]
    orders = pd.concat([orders, orders.iloc[[0]]], ignore_index=True)  # a duplicate order_id
    con = duckdb.connect(str(path))
    try:
        con.register("frame", orders)
        con.execute('CREATE TABLE "orders" AS SELECT * FROM frame')
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    return _dirty_source(tmp_path_factory.mktemp("dirty") / "dirty.duckdb")


def test_every_reject_reason_of_the_contract_reads_chinese() -> None:
    reasons = {reason for name in TABLES for reason, _col in rules(name)}
    assert len(reasons) > 100
    english = {r: health.reason_text(r, "zh") for r in reasons}
    untranslated = [r for r, zh in english.items() if zh == r or not CJK.search(zh)]
    assert not untranslated, untranslated[:10]
    assert health.reason_text("unknown status", "zh") == "未知的 status"
    assert health.reason_text("unknown status 'x'", "zh") == "未知的 status 'x'"
    assert health.reason_text("null order_id", "zh") == "order_id 为空"
    assert health.reason_text("malformed CSV row (a.csv line 4): 5 fields, expected 4", "zh") == (
        "CSV 行格式错误（a.csv 第 4 行）：5 个字段，应为 4 个"
    )
    assert health.reason_text("null order_id", "en") == "null order_id"
    assert health.reason_text("something new", "zh") == "something new"  # as it is


def test_reason_templates_keep_their_placeholders() -> None:
    zh = catalogue("zh")
    for _pattern, template in health._REASONS:
        assert template in zh, template
        assert placeholders(zh[template]) == placeholders(template)


def test_the_health_table_shows_chinese_reasons_and_keeps_english_ones(dirty) -> None:
    report = validate(str(dirty))
    table = report.health_table()
    stored = set(table["reason"]) - {""}
    assert {"unknown status", "null customer_id", "duplicate order_id"} <= stored
    with use_lang("zh"):
        shown = formatted(table)
        ready = formatted(health.readiness(report))
    assert list(shown.columns) == ["表", "读取行数", "保留行数", "拒收行数", "原因", "行数"]
    reasons = set(shown["原因"]) - {"–", ""}
    assert {"未知的 status", "customer_id 为空", "重复的 order_id"} <= reasons, reasons
    assert all(CJK.search(r) for r in reasons), reasons
    # the stored reasons (what tests and the consistency checks match on) are unchanged
    assert set(report.health_table()["reason"]) - {""} == stored
    assert set(report.rejects("orders").execute()["reason"]) == stored
    assert set(ready["状态"]) <= {"可运行", "部分可运行", "无法运行"}
    assert any(t.startswith(("需要 ", "缺少 ")) for t in ready["缺失"])


def test_every_parameter_description_has_a_chinese_entry() -> None:
    zh = catalogue("zh")
    for path in NOTEBOOKS:
        notes = render.parameter_notes(nbformat.read(path, as_version=4))
        assert "source" in notes or path.stem.startswith("06"), path.name
        missing = [k for k, v in notes.items() if v not in zh or not CJK.search(zh[v])]
        assert not missing, f"{path.name}: no zh entry for the description of {missing}"


def test_the_header_labels_and_parameter_table_are_chinese() -> None:
    nb = nbformat.read(ROOT / "notebooks" / "00_data_health.ipynb", as_version=4)
    entry = {
        "notebook": "00_data_health",
        "status": "ok",
        "parameters": {"lang": "zh", "sample_rows": 5},
        "parameter_notes": render.parameter_notes(nb),
        "freshness": {"data_end": {"orders": "2024-12-31"}},
    }
    with use_lang("zh"):
        html = str(render.header_html(entry, {"job": "adhoc", "run_id": "r"}, False, False))
    for word in ("运行参数", "参数", "数值", "说明", "数据截止", "任务", "每张表显示的拒收行数"):
        assert word in html, word
    assert "<code>sample_rows</code>" in html  # the name stays the code name
    assert "rejected rows shown per table" not in html


@pytest.mark.slow
def test_a_zh_data_health_report_reads_chinese(dirty, tmp_path) -> None:
    """Notebook 00 run (papermill) with lang=zh on the dirty source, then rendered."""
    from shopbook.report.execute import Progress
    from shopbook.report.plan import plan
    from shopbook.report.runs import run

    _, tasks = plan(
        [str(ROOT / "notebooks" / "00_data_health.ipynb")],
        job="zh",
        params={"lang": "zh"},
        source=str(dirty),
    )
    result = run(tasks, job="zh", out=tmp_path, progress=Progress(quiet=True), handle_signals=False)
    summary = json.loads((result.folder / "summary.json").read_text(encoding="utf-8"))
    entry = summary["notebooks"][0]
    assert entry["status"] in ("ok", "stale"), entry.get("error")
    page = (result.folder / entry["files"]["html"]).read_text(encoding="utf-8")
    for word in ("未知的 status", "customer_id 为空", "重复的 order_id", "原因", "拒收行数"):
        assert word in page, word
    for word in ("运行参数", "数值", "报告语言"):
        assert word in page, word
    for english in (
        "unknown status",
        "null customer_id",
        "Contract tables",
        "Rows read",
        "Order id",
    ):
        text = re.sub(r"<(script|style|pre|code)\b.*?</\1>", "", page, flags=re.S)
        text = re.sub(r'<div class="jp-InputArea.*?</div>\s*</div>', "", text, flags=re.S)
        assert english not in re.sub(r"<[^>]+>", " ", text), english


def test_a_hash_inside_a_default_value_is_not_taken_for_the_description() -> None:
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(
        'token: str = "ab#secret-part"  # an API token\nrows: int = 2\n# a plain comment'
    )
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    assert render.parameter_notes(nb) == {"token": "an API token"}
