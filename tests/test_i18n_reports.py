"""The reports in Chinese (issue 17): what a reader of a ``lang="zh"`` run sees in tables
and figures (every notebook text's zh entry is checked in ``test_i18n_notebooks.py``).

* the KPI brief's tables (01) show Chinese headers and 生意参谋 metric names, and the
  RFM report's (04) Chinese segment names and actions — table cells that are words are
  looked up in the catalogue;
* the figures of 01, 02, 04 and 07 title, label and annotate in Chinese, and the CLV
  model comparison's (03) labels are Chinese.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from shopbook.analysis import inventory as inv  # noqa: E402
from shopbook.analysis import kpi, rfm  # noqa: E402
from shopbook.analysis.trend import Changepoints, Decomposition, GrowthShare  # noqa: E402
from shopbook.i18n import catalogue, use_lang  # noqa: E402
from shopbook.notebook.tables import formatted  # noqa: E402
from shopbook.viz import inventory as inv_viz  # noqa: E402
from shopbook.viz import kpi as kpi_viz  # noqa: E402
from shopbook.viz import rfm as rfm_viz  # noqa: E402
from shopbook.viz import trend as trend_viz  # noqa: E402
from shopbook.viz.theme import rc, title_of  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")


def _all_cjk(texts: list[str]) -> list[str]:
    """The texts without a Chinese character (numbers, dashes and codes like ROAS aside)."""
    return [t for t in texts if re.search(r"[A-Za-z]{4,}", t) and not CJK.search(t)]


def test_kpi_brief_tables_have_chinese_headers_and_metric_names() -> None:
    table = kpi.definitions()
    with use_lang("zh"):
        shown = formatted(table.drop(columns=["metric"]))
    assert not _all_cjk(list(shown.columns)), list(shown.columns)
    names = list(shown.iloc[:, 1])  # the metric's label
    for word in ("支付金额（GMV）", "支付买家数", "支付转化率", "客单价", "复购率", "访客数"):
        assert word in names
    assert not _all_cjk(names), names
    assert not _all_cjk(list(shown.iloc[:, 0])), "layers"  # 经营结果 / 用户 / 运营


def test_rfm_tables_name_segments_and_actions_in_chinese() -> None:
    with use_lang("zh"):
        shown = formatted(rfm.rule_table(rfm.load_rules()))
    assert not _all_cjk(list(shown.columns)), list(shown.columns)
    cells = [str(v) for v in shown.to_numpy().ravel()]
    assert "重要价值客户" in cells and "已流失客户" in cells
    assert not _all_cjk(cells), _all_cjk(cells)[:5]


def test_inventory_reasons_and_role_rules_are_chinese() -> None:
    with use_lang("zh"):
        shown = formatted(inv.role_rules())
    assert not _all_cjk([str(v) for v in shown.to_numpy().ravel()])


@pytest.fixture(autouse=True)
def _close() -> None:
    plt.close("all")


def _texts(ax) -> list[str]:
    fig = ax.figure
    out = [title_of(ax), ax.get_xlabel(), ax.get_ylabel()]
    if ax.get_legend() is not None:
        out += [t.get_text() for t in ax.get_legend().get_texts()]
    out += [t.get_text() for t in ax.texts]
    out += [a.get_ylabel() for a in fig.axes if a is not ax]  # colour bars
    return [t for t in out if t]


def test_the_reports_figures_speak_chinese() -> None:
    weeks = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    kpis = pd.DataFrame({"period": weeks, "gmv": np.arange(6) * 10.0 + 100, "orders": 5})
    counts = pd.DataFrame(
        [[30, 10], [5, 15]], index=["Champions", "Lost"], columns=["Champions", "Lost"]
    )
    channels = pd.DataFrame(
        {"channel": ["tmall", "jd"], "roi": [0.5, -0.2], "roas": [2.0, 1.1], "sessions": 10}
        | {s: 5 for s in ("product_view", "cart", "checkout", "order")}
    )
    warn = pd.DataFrame({"level": ["red", "amber", "green"], "skus": [3, 4, 5], "overstock": 1})
    with use_lang("zh"), matplotlib.rc_context(rc("zh")):  # the CJK font, as setup(lang) does
        axes = [
            trend_viz.kpi_lines(kpis, "gmv", period="week", currency="CNY", through=weeks[-1]),
            rfm_viz.migration_heatmap(counts),
            kpi_viz.return_on_spend(channels, "roi"),
            kpi_viz.funnel_by_channel(channels),
            inv_viz.warning_bars(warn),
        ]
        for ax in axes:
            texts = _texts(ax)
            assert texts and not _all_cjk(texts), texts
        # data words are named in Chinese too: segments on the heatmap's ticks
        ticks = [t.get_text() for t in axes[1].get_yticklabels()]
        assert ticks == ["重要价值客户", "已流失客户"]


def test_changepoint_labels_are_stacked_when_dates_are_close() -> None:
    days = pd.date_range("2024-01-01", periods=200, freq="D")
    frame = pd.DataFrame({"observed": np.linspace(100, 200, 200), "seasonal_7": 0.0}, index=days)
    dec = Decomposition(table=frame, seasons=[7], method="STL")
    dates = pd.to_datetime(["2024-02-01", "2024-02-05", "2024-02-09", "2024-06-01"])
    cps = Changepoints(table=pd.DataFrame({"date": dates, "change_pct": [0.1, -0.2, 0.3, 0.1]}))
    ax = trend_viz.changepoints(dec, cps)
    offsets = [t.xyann[1] for t in ax.texts]
    assert len(set(offsets[:3])) == 3  # three close dates: three rows
    assert offsets[3] == offsets[0]  # a date far away goes back to the first row
    ax.figure.canvas.draw()
    boxes = [t.get_window_extent() for t in ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])


def test_growth_share_ticks_show_their_real_values() -> None:
    table = pd.DataFrame(
        {
            "category": ["a", "b", "c"],
            "share": [0.075, 0.175, 0.25],
            "growth": [0.7, 0.95, 1.2],
            "quadrant": ["dog", "star", "cash cow"],
            "value": [1.0, 2.0, 3.0],
            "period": "2024",
            "compared_to": "2023",
        }
    )
    ax = trend_viz.growth_share(GrowthShare(table=table, market_growth=0.9, share_threshold=0.12))
    ax.set_xticks([0.075, 0.1, 0.125, 0.15])
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["7.5%", "10.0%", "12.5%", "15.0%"]  # not 8%, 10%, 12%, 15%


def test_a_partial_last_week_is_marked_not_drawn_as_a_crash() -> None:
    weeks = pd.date_range("2024-01-01", periods=6, freq="W-MON")
    kpis = pd.DataFrame({"period": weeks, "gmv": [100.0, 110, 120, 130, 140, 20]})
    ax = trend_viz.kpi_lines(kpis, "gmv", period="week", through=weeks[-1] + pd.Timedelta(days=2))
    solid = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-" and len(ln.get_xdata()) > 2]
    assert len(solid) == 1 and list(solid[0].get_ydata()) == [100, 110, 120, 130, 140]
    hollow = [ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "white"]
    assert len(hollow) == 1 and list(hollow[0].get_ydata()) == [20]
    dotted = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(dotted) == 1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Partial week, not comparable (hollow, dotted)"]


def test_model_comparison_and_error_labels_are_chinese() -> None:
    from shopbook.analysis.clv.compare import ERROR_ROWS

    zh = catalogue("zh")
    assert all(label in zh for label in ERROR_ROWS.values())
