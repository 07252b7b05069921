"""shopbook.viz.abtest: units_over_time, split_shares, lifts, posterior_lift, sequential,
cuped_intervals, segments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shopbook.viz import abtest
from shopbook.viz.theme import title_of


def _data_lines(ax, n: int):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) == n]


def _yticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


@pytest.fixture
def daily() -> pd.DataFrame:
    days = pd.date_range("2024-05-01", periods=7, freq="D")
    return pd.DataFrame(
        {
            "day": list(days) * 2,
            "variant": ["control"] * 7 + ["treatment"] * 7,
            "units": [10, 12, 9, 11, 10, 8, 12, 11, 10, 10, 12, 9, 9, 11],
        }
    )


def test_units_over_time_one_line_per_variant(draw, daily):
    ax = draw(abtest.units_over_time, daily)
    lines = _data_lines(ax, 7)
    assert len(lines) == 2
    assert sorted(ln.get_ydata()[0] for ln in lines) == [10, 11]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["control", "treatment"]
    assert ax.get_legend().get_title().get_text() == "Variant"
    assert ax.get_ylim()[0] == 0
    assert title_of(ax) == "Units assigned per day"
    assert ax.get_xlabel() == "Day"
    assert ax.get_ylabel() == "Units assigned (per day)"


def test_units_over_time_cumulative(draw_new, daily):
    ax = draw_new(abtest.units_over_time, daily, cumulative=True)
    tops = sorted(ln.get_ydata()[-1] for ln in _data_lines(ax, 7))
    assert tops == [72, 72]
    assert title_of(ax) == "Units assigned so far"
    assert ax.get_ylabel() == "Units assigned (cumulative)"
    assert daily["units"].iloc[-1] == 11  # the input is not changed


def test_split_shares_observed_and_intended_bars(draw):
    srm = pd.DataFrame(
        {"variant": ["control", "treatment"], "share": [0.52, 0.48], "expected_share": [0.5, 0.5]}
    )
    ax = draw(abtest.split_shares, srm)
    bars = [p for c in ax.containers for p in c]
    assert len(bars) == 4
    assert sorted(round(b.get_height(), 6) for b in bars) == [0.48, 0.5, 0.5, 0.52]
    assert sorted(t.get_text() for t in ax.texts) == ["48.0%", "50.0%", "50.0%", "52.0%"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["observed", "intended"]
    assert title_of(ax) == "Share of units per variant"
    assert ax.get_ylabel() == "Share of units (%)"


@pytest.fixture
def metrics() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "variant": ["treatment"] * 3,
            "metric": ["conversion", "revenue per unit", "refund rate"],
            "rel_lift": [0.05, -0.04, 0.01],
            "rel_lo": [0.02, -0.07, -0.02],
            "rel_hi": [0.08, -0.01, 0.04],
            "abs_lift": [0.004, -1.2, 0.001],
            "abs_lo": [0.001, -2.0, -0.002],
            "abs_hi": [0.007, -0.4, 0.004],
            "p_adjusted": [0.001, 0.03, 0.5],
        }
    )


def test_lifts_one_interval_per_metric_coloured_by_significance(draw, metrics):
    import seaborn as sns

    ax = draw(abtest.lifts, metrics)
    assert _yticks(ax) == ["conversion", "revenue per unit", "refund rate"]
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert [ln.get_xdata()[0] for ln in points] == [0.05, -0.04, 0.01]
    pal = sns.color_palette()
    assert [ln.get_color() for ln in points] == [pal[2], pal[3], "0.45"]
    assert title_of(ax) == "Lift vs control with 95% confidence intervals"
    assert ax.get_xlabel() == "Relative lift (%)"
    assert len(ax.get_legend().get_texts()) == 3


def test_lifts_absolute_several_variants(draw_new, metrics):
    two = pd.concat([metrics, metrics.assign(variant="treatment B")], ignore_index=True)
    ax = draw_new(abtest.lifts, two, relative=False, alpha=0.1)
    assert len(_yticks(ax)) == 6
    assert _yticks(ax)[0] == "conversion · treatment"
    assert title_of(ax) == "Lift vs control with 90% confidence intervals"
    assert ax.get_xlabel() == "Absolute lift"


def test_posterior_lift_histogram_density_and_chance(draw):
    draws = np.random.default_rng(0).normal(0.03, 0.01, 4000)
    ax = draw(abtest.posterior_lift, draws, 0.9987)
    assert len(ax.patches) == 80
    assert any(len(ln.get_xdata()) > 50 for ln in ax.get_lines())  # the density curve
    assert "P(treatment beats control) = 99.9%" in [t.get_text() for t in ax.texts]
    assert title_of(ax) == "Posterior of the relative lift in conversion"
    assert ax.get_xlabel() == "Relative lift (%)"
    assert ax.get_ylabel() == "Density"


@pytest.fixture
def view() -> pd.DataFrame:
    days = pd.date_range("2024-05-01", periods=10, freq="D")
    lift = np.full(10, 0.01)
    width = 0.02 / np.sqrt(np.arange(1, 11))
    return pd.DataFrame(
        {
            "day": days,
            "abs_lift": lift,
            "naive_lo": lift - width,
            "naive_hi": lift + width,
            "cs_lo": lift - 2 * width,
            "cs_hi": lift + 2 * width,
        }
    )


def test_sequential_estimate_interval_and_confidence_sequence(draw, view):
    ax = draw(abtest.sequential, view, unit="pp")
    lines = _data_lines(ax, 10)
    assert len(lines) == 3  # naive low, naive high, estimate
    assert len(ax.collections) == 1  # the confidence sequence band
    assert np.allclose(lines[-1].get_ydata(), view["abs_lift"])
    assert len(ax.get_legend().get_texts()) == 3
    assert title_of(ax) == "Cumulative lift over time"
    assert ax.get_xlabel() == "Day"
    assert ax.get_ylabel() == "Absolute lift (pp)"


def test_sequential_relative_to_control(draw_new, view):
    ax = draw_new(abtest.sequential, view, relative_to=0.1)
    assert np.allclose(_data_lines(ax, 10)[-1].get_ydata(), 0.1)
    assert ax.get_ylabel() == "Lift (% of control)"


def test_cuped_intervals_raw_and_adjusted(draw):
    table = pd.DataFrame(
        {
            "estimate": ["raw", "CUPED"],
            "abs_lift": [1.5, 1.2],
            "abs_lo": [-0.5, 0.4],
            "abs_hi": [3.5, 2.0],
        }
    )
    ax = draw(abtest.cuped_intervals, table, unit="CNY")
    assert _yticks(ax) == ["raw", "CUPED"]
    points = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert [ln.get_xdata()[0] for ln in points] == [1.5, 1.2]
    assert title_of(ax) == "Lift in revenue per unit: raw vs CUPED"
    assert ax.get_xlabel() == "Absolute lift (CNY)"


def test_segments_one_interval_per_segment(draw):
    table = pd.DataFrame(
        {
            "dimension": ["device", "device", "channel"],
            "segment": ["mobile", "desktop", "tmall"],
            "rel_lift": [0.06, 0.02, np.nan],
            "rel_lo": [0.01, -0.03, np.nan],
            "rel_hi": [0.11, 0.07, np.nan],
        }
    )
    ax = draw(abtest.segments, table)
    assert _yticks(ax) == ["device: mobile", "device: desktop"]  # no estimate: left out
    assert title_of(ax) == "Lift in conversion by segment (exploratory)"
    assert ax.get_xlabel() == "Relative lift (%)"


def test_segments_new_figure(draw_new):
    table = pd.DataFrame(
        {"dimension": ["d"], "segment": ["s"], "rel_lift": [0.1], "rel_lo": [0], "rel_hi": [0.2]}
    )
    ax = draw_new(abtest.segments, table)
    assert _yticks(ax) == ["d: s"]
