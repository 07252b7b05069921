"""shopbook.viz.elasticity: price_variation, promo_calendar, elasticity_forest, shrinkage,
cross_price_heatmap, price_curves, promo_depth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, QuadMesh

from shopbook.analysis.elasticity import CrossPrice, PriceRecommendation
from shopbook.viz import elasticity
from shopbook.viz.theme import title_of


def _points(ax) -> int:
    return sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))


def _yticks(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def test_price_variation_one_point_per_sku_with_a_spread(draw):
    diag = pd.DataFrame(
        {
            "category": ["Beauty", "Beauty", "Food", "Food", "Toys"],
            "sku": ["b1", "b2", "f1", "f2", "t1"],
            "spread": [0.3, 0.02, 0.25, np.nan, 0.0],
            "learnable": [True, False, True, False, False],
        }
    )
    ax = draw(elasticity.price_variation, diag)
    assert _points(ax) == 4  # f2 has no spread
    assert _yticks(ax) == ["Beauty", "Food", "Toys"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["enough variation", "too little to learn from"]
    xs = sorted(x for c in ax.collections for x, _ in c.get_offsets())
    assert xs == pytest.approx([0, 2, 25, 30])  # percent
    assert title_of(ax) == "How much each SKU's price moved"
    assert ax.get_xlabel() == "Price spread over the period, max / min − 1 (%)"


def test_promo_calendar_one_cell_per_group_and_week(draw):
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    calendar = pd.DataFrame(
        {"Beauty": np.linspace(0, 1, 30), "Food": np.zeros(30)}, index=pd.Index(weeks)
    )
    ax = draw(elasticity.promo_calendar, calendar)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    cells = np.asarray(mesh.get_array()).reshape(2, 30)
    assert cells[0, -1] == pytest.approx(100)  # shares drawn in percent
    assert _yticks(ax) == ["Beauty", "Food"]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "2024-01-01" and len(ticks) == 15  # every second week labelled
    assert ax.figure.axes[-1].get_ylabel() == "SKUs on promotion (%)"
    assert title_of(ax) == "Share of SKUs on promotion, by week"
    assert ax.get_xlabel() == "Week starting"


@pytest.fixture
def estimates() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["Beauty", "Food", "Beauty", "Food", "Toys"],
            "method": ["log-log", "log-log", "DML", "DML", "DML"],
            "elasticity": [-1.8, -0.9, -1.6, -1.1, np.nan],
            "ci_low": [-2.2, -1.2, -2.0, -1.5, np.nan],
            "ci_high": [-1.4, -0.6, -1.2, -0.7, np.nan],
        }
    )


def test_elasticity_forest_one_interval_per_group_and_method_with_truth(draw, estimates):
    ax = draw(elasticity.elasticity_forest, estimates, truth={"Beauty": -1.7, "Toys": -2.0})
    assert len(ax.containers) == 2  # one errorbar set per method
    assert [len(c.lines[0].get_xdata()) for c in ax.containers] == [2, 2]
    assert _yticks(ax) == ["Beauty", "Food"]  # Toys has no estimate
    assert _points(ax) == 1  # the planted truth of Beauty (Toys is not drawn)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(legend) == {"log-log", "DML", "planted truth"}
    assert title_of(ax) == "Own-price elasticity with 95% intervals"
    assert ax.get_xlabel() == "Elasticity (% change in units per 1% price change)"


def test_elasticity_forest_without_methods(draw_new, estimates):
    one = estimates[estimates["method"] == "DML"].drop(columns="method")
    ax = draw_new(elasticity.elasticity_forest, one, method=None)
    assert len(ax.containers) == 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["estimate"]


@pytest.fixture
def shrunk() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "category": ["Beauty"] * 3 + ["Food"] * 2,
            "elasticity": [-2.5, -1.0, -1.8, -0.5, np.nan],
            "shrunk": [-2.0, -1.3, -1.7, -0.8, -0.9],
            "prior_mean": [-1.6] * 3 + [-0.9] * 2,
        }
    )


def test_shrinkage_raw_and_shrunk_point_per_sku(draw, shrunk):
    ax = draw(elasticity.shrinkage, shrunk)
    assert _points(ax) == 2 * 4  # raw and shrunk for each SKU with both
    assert _yticks(ax) == ["Beauty", "Food"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["raw", "shrunk", "category mean"]
    assert title_of(ax) == "Per-SKU elasticities, raw and shrunk toward their category"
    assert ax.get_xlabel() == "Elasticity"


def test_shrinkage_is_deterministic(draw, shrunk):
    def offsets(ax):
        return [c.get_offsets().tolist() for c in ax.collections if isinstance(c, PathCollection)]

    assert offsets(draw(elasticity.shrinkage, shrunk)) == offsets(
        draw(elasticity.shrinkage, shrunk)
    )


@pytest.fixture
def cross() -> CrossPrice:
    skus = ["s1", "s2", "s3"]
    m = pd.DataFrame([[-1.5, 0.4, np.nan], [0.2, -1.1, 0.0], [0.1, -0.3, -2.0]], skus, skus)
    return CrossPrice(matrix=m, se=m.abs() * 0.1, ci_low=m - 0.3, ci_high=m + 0.3, n_periods=40)


def test_cross_price_heatmap_cells_with_intervals(draw, cross):
    ax = draw(elasticity.cross_price_heatmap, cross, names={"s1": "Lipstick"})
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert np.asarray(mesh.get_array()).size == 9
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) >= 8  # every estimated pair is written in
    assert texts[0] == "-1.50\n[-1.80, -1.20]"
    assert _yticks(ax) == ["Lipstick", "s2", "s3"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Lipstick", "s2", "s3"]
    assert title_of(ax) == "Cross-price elasticities (row: demand of; column: price of)"
    assert ax.get_xlabel() == "Price of" and ax.get_ylabel() == "Demand of"


@pytest.mark.xfail(
    reason="seaborn does not annotate masked (NaN) cells, so the '–' the function writes for "
    "a pair not estimated never shows",
    strict=False,
)
def test_cross_price_heatmap_marks_the_pair_not_estimated(draw, cross):
    ax = draw(elasticity.cross_price_heatmap, cross)
    assert [t.get_text() for t in ax.texts].count("–") == 1


def test_cross_price_heatmap_new_figure(draw_new, cross):
    ax = draw_new(elasticity.cross_price_heatmap, cross, title="Cross")
    assert title_of(ax) == "Cross"


@pytest.fixture
def rec() -> PriceRecommendation:
    price = np.linspace(80, 120, 21)
    q = (price / 100) ** -1.8
    curve = pd.DataFrame(
        {
            "price": price,
            "quantity_index": q,
            "revenue_index": price * q / 100,
            "profit_index": (price - 50) * q / 100,
        }
    )
    for col in ("revenue_index", "profit_index"):
        curve[f"{col}_low"] = curve[col] * 0.95
        curve[f"{col}_high"] = curve[col] * 1.05
    return PriceRecommendation(
        table=curve,
        price=112.5,
        bounds=(80.0, 120.0),
        price_range=(105.0, 120.0),
        current_price=100.0,
        elasticity=-1.8,
        unit_cost=50.0,
    )


def test_price_curves_revenue_profit_current_and_best(draw, rec):
    ax = draw(elasticity.price_curves, rec, currency="CNY")
    curves = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 21]
    assert len(curves) == 2
    assert np.allclose(curves[0].get_ydata(), 100 * rec.curve["revenue_index"])
    assert len(ax.collections) == 2  # the two bands
    assert len(ax.patches) == 1  # the range of best prices
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Revenue", "Gross profit", "current 100.00", "best in range 112.50"]
    assert ax.get_xlim() == (80.0, 120.0)
    assert title_of(ax) == "Revenue and gross profit against price (observed range only)"
    assert ax.get_xlabel() == "Price (CNY)"
    assert ax.get_ylabel() == "Per unit sold today, as % of today's revenue (%)"


def test_price_curves_single_best_price_without_bands(draw_new, rec):
    rec.table = rec.curve[["price", "quantity_index", "revenue_index", "profit_index"]]
    rec.price_range = (112.5, 112.5)
    ax = draw_new(elasticity.price_curves, rec)
    assert len(ax.collections) == 0 and len(ax.patches) == 0
    assert ax.get_xlabel() == "Price"


def test_promo_depth_one_bar_per_estimated_term(draw):
    table = pd.DataFrame(
        {
            "term": ["depth 10–20%", "depth 20–30%", "depth 30%+", "week after"],
            "kind": ["depth", "depth", "depth", "post"],
            "uplift": [0.15, 0.4, np.nan, -0.1],
            "uplift_low": [0.05, 0.3, np.nan, -0.2],
            "uplift_high": [0.25, 0.5, np.nan, 0.0],
        }
    )
    ax = draw(elasticity.promo_depth, table)
    bars = [p for c in ax.containers for p in getattr(c, "patches", [])]
    assert [round(b.get_height(), 6) for b in bars] == [15, 40, -10]  # percent; NaN left out
    assert [t.get_text() for t in ax.get_xticklabels()] == list(table["term"])
    assert title_of(ax) == "Units uplift by discount depth, and after a promotion"
    assert ax.get_ylabel() == "Units vs. a regular week (%)"


def test_price_variation_jitters_the_same_every_time_and_leaves_numpy_as_it_was(draw):
    diag = pd.DataFrame(
        {"category": ["A"] * 6, "spread": np.linspace(0, 0.5, 6), "learnable": [True] * 6}
    )
    np.random.seed(7)
    expected_next = np.random.random()
    np.random.seed(7)
    first = [c.get_offsets().tolist() for c in draw(elasticity.price_variation, diag).collections]
    assert np.random.random() == expected_next  # the caller's generator is untouched
    again = [c.get_offsets().tolist() for c in draw(elasticity.price_variation, diag).collections]
    assert first == again
