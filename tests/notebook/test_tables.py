"""The one formatting layer (:mod:`shopbook.notebook.tables`, :mod:`~shopbook.notebook.columns`)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from shopbook import i18n
from shopbook.notebook import columns, tables
from shopbook.notebook.tables import formatted, show, styled


@pytest.fixture
def displayed(monkeypatch):
    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    monkeypatch.setitem(tables._STATE, "library_sent", False)
    monkeypatch.setitem(tables._STATE, "tables", 0)
    return shown


def _skus(n: int = 3) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": [f"S{i}" for i in range(n)],
            "revenue": [12_345.6 + i for i in range(n)],
            "margin": [0.269] * n,
            "change_pct": [-0.0378] * n,
            "units": [1200 + i for i in range(n)],
            "p_value": [0.0004] * n,
        }
    )


def test_each_kind_is_written_as_a_reader_expects():
    out = formatted(_skus(1), currency="CNY")
    assert list(out.columns) == [
        "SKU",
        "Revenue (CNY)",
        "Margin",
        "Relative change",
        "Units",
        "p-value (fixed horizon)",
    ]
    assert out.iloc[0].tolist() == ["S0", "12,346", "26.9%", "-3.8%", "1,200", "<0.001"]


def test_money_below_a_thousand_keeps_cents_and_missing_is_a_dash():
    out = formatted(pd.DataFrame({"aov": [156.6, None]}), currency="EUR")
    assert out.columns.tolist() == ["AOV (EUR)"]
    assert out["AOV (EUR)"].tolist() == ["156.60", "–"]


def test_kpi_rows_follow_their_unit_and_a_share_changes_in_points():
    kpi = pd.DataFrame(
        {
            "label": ["GMV", "Gross margin"],
            "unit": ["money", "share"],
            "value": [139_840.2, 0.269],
            "change": [-4_267.0, -0.0263],
        }
    )
    out = formatted(kpi, currency="CNY")
    assert out.values.tolist() == [
        ["GMV", "CNY", "139,840", "-4,267"],
        ["Gross margin", "%", "26.9%", "-2.6 pp"],
    ]


def test_a_named_index_becomes_a_column_and_a_leftover_row_number_goes():
    frame = pd.DataFrame(
        {"customers": [3, 4]}, index=pd.Index(["2024-01", "2024-02"], name="cohort")
    )
    assert formatted(frame).columns.tolist() == ["Cohort", "Customers"]
    assert formatted(frame.reset_index().iloc[[1]]).columns.tolist() == ["Cohort", "Customers"]


def test_unknown_columns_get_a_label_and_a_kind_from_name_and_dtype():
    frame = pd.DataFrame({"return_rate": [0.125], "basket_items": [3], "city": ["x"]})
    out = formatted(frame)
    assert out.columns.tolist() == ["Return rate", "Basket items", "City"]
    assert out.iloc[0].tolist() == ["12.5%", "3", "x"]


def test_overrides_and_register():
    frame = pd.DataFrame({"stock_value": [1234.5], "x": [0.5]})
    out = formatted(frame, currency="CNY", labels={"x": "Fill"}, kinds={"x": "percent"})
    assert out.columns.tolist() == ["Stock value", "Fill"]
    assert out.iloc[0, 1] == "50.0%"
    columns.register("stock_value", "Stock value", "money")
    assert formatted(frame, currency="CNY").columns[0] == "Stock value (CNY)"


def test_a_bad_kind_is_refused():
    with pytest.raises(ValueError, match="kind must be one of"):
        columns.Column("x", "percentage")


def test_a_table_comes_out_chinese_under_zh():
    with i18n.use_lang("zh"):
        out = formatted(_skus(1), currency="CNY")
        html = styled(_skus(1), currency="CNY").to_html()
    assert out.columns.tolist()[:3] == ["SKU", "销售额（元）", "毛利率"]
    assert "销售额（元）" in html
    assert "p 值（固定样本）" in out.columns


def test_styled_aligns_text_left_numbers_right_and_hides_the_index():
    html = styled(_skus(2), currency="CNY").to_html()
    assert "td.col1" in html and "text-align: right" in html
    assert 'class="row_heading' not in html  # no index column
    assert styled(_skus(2)).to_html() == styled(_skus(2)).to_html()  # deterministic


def test_a_short_table_is_static_and_a_long_one_interactive_offline(displayed):
    show(_skus(3), caption="Short")
    show(_skus(40), caption="Long", max_rows=10)
    short, long = displayed
    assert "ITable" not in short["text/html"]
    html = long["text/html"]
    assert "new ITable" in html and "S39" in html  # every row, in the table's data
    assert not re.search(r"<script[^>]+src=", html)  # nothing loaded from a CDN
    assert "unpkg" not in html and "cdn." not in html
    assert "first 10 of 40 rows" in long["text/plain"]
    assert "S39" not in long["text/plain"]
    # the library goes out once per kernel
    show(_skus(40), caption="Again")
    assert len(displayed[2]["text/html"]) < len(html) / 10


def test_the_text_fallback_is_deterministic(displayed):
    show(_skus(40), caption="Long")
    tables._STATE["library_sent"] = False
    tables._STATE["tables"] = 0
    show(_skus(40), caption="Long")
    assert displayed[0] == displayed[1]
