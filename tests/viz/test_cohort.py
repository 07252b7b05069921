"""shopbook.viz.cohort: retention_heatmap, ltv_curves, second_purchase_curve,
holdout_by_frequency, tracking, prediction_errors, spend_vs_frequency,
value_distribution, value_by_segment, survival_fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from shopbook.analysis.clv import fit_sbg
from shopbook.analysis.retention import SecondPurchase
from shopbook.viz import cohort
from shopbook.viz.theme import title_of


def _data_lines(ax):
    return [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]


@pytest.fixture
def matrix() -> pd.DataFrame:
    cohorts = ["2024-01", "2024-02", "2024-03"]
    m = pd.DataFrame(
        [[1.0, 0.3, 0.2, 0.15], [1.0, 0.25, 0.18, np.nan], [1.0, 0.28, np.nan, np.nan]],
        index=cohorts,
        columns=[0, 1, 2, 3],
    )
    m.attrs["sizes"] = pd.Series([120, 80, 1500], index=cohorts)
    m.attrs["period"] = "month"
    return m


def test_retention_heatmap_one_cell_per_cohort_and_period(draw, matrix):
    ax = draw(cohort.retention_heatmap, matrix)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (3, 3)  # period 0 (100 % by definition) is dropped
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == ["2024-01 (n=120)", "2024-02 (n=80)", "2024-03 (n=1,500)"]
    assert len(ax.texts) == 6  # small grid: the known cells are written in
    assert "30" in [t.get_text() for t in ax.texts]
    assert title_of(ax) == "Share of each cohort buying again, by months since first purchase"
    assert ax.get_xlabel() == "months since first purchase"
    assert ax.get_ylabel() == "acquisition cohort"
    assert ax.figure.axes[-1].get_ylabel() == "active (% of cohort)"  # the colour bar


def test_retention_heatmap_max_periods_and_no_annotations(draw_new, matrix):
    matrix.attrs.clear()
    ax = draw_new(cohort.retention_heatmap, matrix, max_periods=2, annotate=False, title="R")
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert mesh.get_array().shape == (3, 2)
    assert len(ax.texts) == 0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024-01", "2024-02", "2024-03"]
    assert title_of(ax) == "R"


def test_ltv_curves_at_most_max_cohorts_with_oldest_and_newest(draw):
    curves = pd.DataFrame(
        np.cumsum(np.full((5, 4), 10.0), axis=1),
        index=[f"2024-0{i}" for i in range(1, 6)],
        columns=[0, 1, 2, 3],
    )
    curves.iloc[4, 2:] = np.nan
    ax = draw(cohort.ltv_curves, curves, currency="CNY", max_cohorts=3)
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == ["2024-01", "2024-03", "2024-05"]
    assert len(lines[0].get_xdata()) == 4 and len(lines[-1].get_xdata()) == 2  # NaN dropped
    assert title_of(ax) == "Cumulative revenue per acquired customer (historical LTV)"
    assert ax.get_xlabel() == "periods since first purchase"
    assert ax.get_ylabel() == "revenue per customer (CNY)"


def _second_purchase(scale: float = 1.0) -> SecondPurchase:
    days = np.arange(0, 400, 10)
    share = scale * (1 - np.exp(-days / 120))
    curve = pd.DataFrame(
        {"days": days, "share_repurchased": share, "lower": share * 0.9, "upper": share * 1.1}
    )
    gaps = pd.DataFrame({"days": [5, 20], "customers": [3, 4]})
    figures = pd.Series(
        {"customers": 100, "repeaters": 30, "share_within_7d": 0.12, "share_within_30d": 0.25}
    )
    return SecondPurchase(curve=curve, gaps=gaps, figures=figures)


def test_second_purchase_curve_one_segment_band_and_marks(draw):
    ax = draw(cohort.second_purchase_curve, _second_purchase())
    (step,) = _data_lines(ax)
    assert step.get_xdata().max() <= 365  # max_days
    assert len(ax.collections) == 1  # the confidence band
    rules = [ln for ln in ax.get_lines() if ln is not step]
    assert sorted(r.get_xdata()[0] for r in rules) == [7, 30]
    assert [t.get_text() for t in ax.texts] == ["day 7: 12.0%", "day 30: 25.0%"]
    assert ax.get_legend() is None
    assert title_of(ax) == "Share of customers who came back for a second purchase"
    assert ax.get_xlabel() == "days since first purchase"
    assert ax.get_ylabel() == "came back (%)"


def test_second_purchase_curve_segments(draw_new):
    result = {"tmall": _second_purchase(), "site": _second_purchase(0.5)}
    ax = draw_new(cohort.second_purchase_curve, result, marks=(7,), max_days=None)
    steps = _data_lines(ax)
    assert len(steps) == 2
    assert steps[0].get_xdata().max() == 390
    assert len(ax.collections) == 0 and len(ax.texts) == 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["tmall", "site"]


@pytest.fixture
def holdout() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customers": [500, 200, 50, 750],
            "actual": [0.2, 0.8, 1.6, 0.4],
            "predicted": [0.25, 0.7, 1.8, 0.42],
        },
        index=pd.Index(["0", "1", "2+", "total"], name="calibration_frequency"),
    )


def test_holdout_by_frequency_actual_and_model_per_group(draw, holdout):
    ax = draw(cohort.holdout_by_frequency, holdout)
    actual, model = ax.get_lines()
    assert np.allclose(actual.get_ydata(), [0.2, 0.8, 1.6])  # the total row is left out
    assert np.allclose(model.get_ydata(), [0.25, 0.7, 1.8])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2+"]
    assert title_of(ax) == "Holdout purchases per customer: model vs actual"
    assert ax.get_xlabel() == "repeat purchases in the calibration period"
    assert ax.get_ylabel() == "mean holdout purchases"


def test_holdout_by_frequency_unit(draw_new, holdout):
    ax = draw_new(cohort.holdout_by_frequency, holdout, unit="orders", title="T")
    assert ax.get_ylabel() == "mean holdout orders"
    assert title_of(ax) == "T"


@pytest.fixture
def track() -> pd.DataFrame:
    weeks = pd.date_range("2024-01-01", periods=10, freq="W-MON")
    actual = np.arange(10.0)
    expected = actual + 0.5
    return pd.DataFrame(
        {
            "period_start": weeks,
            "actual": actual,
            "expected": expected,
            "actual_cum": actual.cumsum(),
            "expected_cum": expected.cumsum(),
            "holdout": [False] * 6 + [True] * 4,
        }
    )


def test_tracking_cumulative_with_the_holdout_shaded(draw, track):
    ax = draw(cohort.tracking, track)
    actual, model = ax.get_lines()
    assert np.allclose(actual.get_ydata(), track["actual_cum"])
    assert np.allclose(model.get_ydata(), track["expected_cum"])
    assert len(ax.patches) == 1
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["actual", "model", "holdout"]
    assert title_of(ax) == "Cumulative repeat purchases: model vs actual"
    assert ax.get_ylabel() == "repeat purchases"


def test_tracking_per_period_without_holdout(draw_new, track):
    ax = draw_new(cohort.tracking, track.assign(holdout=False), cumulative=False)
    assert np.allclose(ax.get_lines()[0].get_ydata(), track["actual"])
    assert len(ax.patches) == 0
    assert title_of(ax) == "Repeat purchases per period: model vs actual"


def test_prediction_errors_one_bar_per_group(draw, holdout):
    ax = draw(cohort.prediction_errors, holdout)
    bars = [p for c in ax.containers for p in c]
    assert [b.get_height() for b in bars] == pytest.approx([0.05, -0.1, 0.2])
    assert [t.get_text() for t in ax.texts] == ["n=500", "n=200", "n=50"]
    assert title_of(ax).startswith("Model error per customer in the holdout")
    assert ax.get_ylabel() == "predicted − actual purchases"


def test_prediction_errors_new_figure(draw_new, holdout):
    ax = draw_new(cohort.prediction_errors, holdout, title="Errors")
    assert title_of(ax) == "Errors"


@pytest.fixture
def rfm_summary() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    freq = rng.integers(0, 14, n)
    money = np.where(freq > 0, rng.lognormal(4, 0.5, n), 0.0)
    return pd.DataFrame({"frequency": freq, "monetary_value": money})


def test_spend_vs_frequency_boxes_of_repeat_buyers_on_a_log_axis(draw, rfm_summary):
    ax = draw(cohort.spend_vs_frequency, rfm_summary, currency="CNY")
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "10+"
    assert len(ax.get_xticklabels()) == 10
    assert len(ax.patches) == 10  # one box per repeat frequency 1..10+
    assert title_of(ax) == "Mean repeat spend by number of repeat purchases"
    assert ax.get_xlabel() == "repeat purchases (calibration)"
    assert ax.get_ylabel() == "mean spend per repeat purchase (CNY)"


def test_spend_vs_frequency_without_currency(draw_new, rfm_summary):
    ax = draw_new(cohort.spend_vs_frequency, rfm_summary)
    assert ax.get_ylabel() == "mean spend per repeat purchase"


def test_value_distribution_histogram_with_median_and_90th(draw):
    values = pd.Series(np.random.default_rng(1).lognormal(5, 1, 2000))
    values.iloc[:50] = 0.0
    ax = draw(cohort.value_distribution, values, currency="CNY")
    assert ax.get_xscale() == "log"
    assert len(ax.patches) == 50  # bins
    notes = [t.get_text() for t in ax.texts]
    positive = values[values > 0]
    assert notes == [
        f"median {np.quantile(positive, 0.5):,.0f}",
        f"90th pct {np.quantile(positive, 0.9):,.0f}",
    ]
    assert title_of(ax) == "Model CLV per customer (discounted profit): how it is spread"
    assert ax.get_xlabel() == "model CLV (CNY)"
    assert ax.get_ylabel() == "customers"


def test_value_distribution_nothing_positive_still_labelled(draw_new):
    ax = draw_new(cohort.value_distribution, pd.Series([0.0, 0.0]))
    assert len(ax.patches) == 0
    assert ax.get_xlabel() == "model CLV"


def test_value_by_segment_bars_smallest_first_with_counts(draw):
    table = pd.DataFrame(
        {"customers": [100, 2500, 40], "mean_clv": [300.0, 50.0, 900.0]},
        index=["Loyal", "New", "Champions"],
    )
    ax = draw(cohort.value_by_segment, table, currency="CNY")
    bars = [p for c in ax.containers for p in c]
    assert [b.get_width() for b in bars] == [50.0, 300.0, 900.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["New", "Loyal", "Champions"]
    assert [t.get_text() for t in ax.texts] == ["50  (n=2,500)", "300  (n=100)", "900  (n=40)"]
    assert title_of(ax) == "Expected model CLV per customer by segment"
    assert ax.get_xlabel() == "mean model CLV (CNY)"


def test_survival_fit_observed_points_and_projection(draw):
    survivors = [1000, 631, 468, 382, 326]
    fit = fit_sbg(survivors)
    ax = draw(cohort.survival_fit, survivors, fit)
    observed, projected, now = ax.get_lines()
    assert np.allclose(observed.get_ydata(), [100, 63.1, 46.8, 38.2, 32.6])
    assert projected.get_xdata().max() == 8  # twice the observed span
    assert now.get_xdata()[0] == 4
    assert title_of(ax) == "Share of the cohort still subscribed"
    assert ax.get_xlabel() == "period"
    assert ax.get_ylabel() == "still active (%)"


def test_survival_fit_projection_horizon(draw_new):
    survivors = [1000, 631, 468, 382, 326]
    ax = draw_new(cohort.survival_fit, survivors, fit_sbg(survivors), periods=12)
    assert ax.get_lines()[1].get_xdata().max() == 12


# ------------------------------------------------------------ from the analysis itself


def test_the_retention_figures_draw_what_the_analysis_returns(draw, shop_report):
    from shopbook.analysis import retention
    from shopbook.features import cohorts as fc
    from shopbook.features.orders import order_span

    orders = shop_report.kept("orders")
    _, last_day = order_span(orders)
    activity = fc.cohort_activity(orders, "month").to_pandas()
    cohorts = retention.cohort_table(activity, last_day, "month")

    triangle = retention.retention_matrix(cohorts, "month")
    ax = draw(cohort.retention_heatmap, triangle)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    shown = [c for c in triangle.columns if c != 0 and c <= 12]
    assert mesh.get_array().shape == (len(triangle), len(shown))

    ltv = retention.ltv_curves(cohorts, "month")
    ax = draw(cohort.ltv_curves, ltv, currency="CNY")
    assert len(ax.get_lines()) == min(12, len(ltv))

    second = retention.time_to_second_purchase(
        fc.second_purchase_times(orders).to_pandas(), within=(7, 30)
    )
    ax = draw(cohort.second_purchase_curve, second)
    assert len(ax.texts) == 2  # the day-7 and day-30 shares
