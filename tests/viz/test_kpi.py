"""shopbook.viz.kpi: funnel_by_channel, kpi_sparklines, roi_bars."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from shopbook.features.periods import Window
from shopbook.viz import kpi
from shopbook.viz.theme import title_of


@pytest.fixture
def channels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "channel": ["tmall", "jd", "site", "douyin"],
            "sessions": [1000, 400, 200, 0],
            "product_view": [600, 200, 150, 0],
            "cart": [200, 80, 40, 0],
            "checkout": [100, 40, 20, 0],
            "order": [50, 20, 10, 0],
            "roi": [2.5, 0.8, np.nan, 1.4],
        }
    )


def test_funnel_by_channel_one_line_per_channel_with_sessions(draw, channels):
    ax = draw(kpi.funnel_by_channel, channels)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["tmall", "jd", "site"]  # douyin had no sessions
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Session",
        "Product view",
        "Cart",
        "Checkout",
        "Order",
    ]
    five = [ln for ln in ax.get_lines() if len(ln.get_ydata()) == 5]
    assert len(five) == 3
    shares = sorted(tuple(np.round(ln.get_ydata(), 6)) for ln in five)
    assert (1.0, 0.6, 0.2, 0.1, 0.05) in shares  # tmall: counts over its sessions
    assert ax.get_ylim() == pytest.approx((0, 1.02))
    assert title_of(ax).startswith("Funnel by channel")
    assert ax.get_xlabel() == "Stage"
    assert ax.get_ylabel() == "Sessions (% of the channel's sessions)"


def test_funnel_by_channel_other_group_column(draw_new, channels):
    ax = draw_new(
        kpi.funnel_by_channel, channels.rename(columns={"channel": "device"}), by="device"
    )
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tmall", "jd", "site"]


@pytest.fixture
def daily() -> pd.DataFrame:
    days = pd.date_range("2024-06-01", periods=28, freq="D")
    return pd.DataFrame(
        {"period": days, "gmv": np.linspace(100, 200, 28), "orders": np.arange(28) % 7 + 1}
    )


def test_kpi_sparklines_one_panel_per_metric_with_the_window(daily):
    metrics = {"gmv": "GMV (CNY)", "orders": "Orders (count)"}
    window = Window(
        start=pd.Timestamp("2024-06-22"),
        end=pd.Timestamp("2024-06-28"),
        prev_start=pd.Timestamp("2024-06-15"),
        prev_end=pd.Timestamp("2024-06-21"),
    )
    fig, given = plt.subplots(1, 3)
    before = plt.get_fignums()
    out = kpi.kpi_sparklines(daily, metrics, window=window, axes=given)
    assert plt.get_fignums() == before
    assert list(out) == list(given)
    for ax, (col, title) in zip(out, metrics.items(), strict=False):
        assert title_of(ax) == title
        (line,) = ax.get_lines()
        assert len(line.get_ydata()) == len(daily)
        assert np.allclose(line.get_ydata(), daily[col])
        assert len(ax.patches) == 2  # previous window and window shaded
    assert len(given[2].get_lines()) == 0  # the spare panel is left alone


def test_kpi_sparklines_new_row_of_panels_without_window(daily):
    before = set(plt.get_fignums())
    out = kpi.kpi_sparklines(daily, {"gmv": "GMV (CNY)", "orders": "Orders"})
    assert len(set(plt.get_fignums()) - before) == 1
    assert len(out) == 2
    assert out[0].figure is out[1].figure
    assert all(len(ax.patches) == 0 for ax in out)


def test_roi_bars_one_bar_per_channel_with_roi_largest_first(draw, channels):
    ax = draw(kpi.roi_bars, channels)
    bars = [p for c in ax.containers for p in c]
    assert len(bars) == 3  # site has no ROI
    assert [b.get_height() for b in bars] == pytest.approx([2.5, 1.4, 0.8])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["tmall", "douyin", "jd"]
    assert any(np.allclose(ln.get_ydata(), 1.0) for ln in ax.get_lines())  # break-even
    assert title_of(ax) == "Channel ROI: gross profit per unit of spend"
    assert ax.get_xlabel() == "Channel"
    assert ax.get_ylabel() == "Gross profit / spend (ratio)"


def test_roi_bars_gmv_basis(draw_new, channels):
    ax = draw_new(kpi.roi_bars, channels, basis="GMV")
    assert title_of(ax) == "Channel ROI: GMV per unit of spend"
    assert ax.get_ylabel() == "GMV / spend (ratio)"
