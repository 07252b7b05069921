"""shopbook.viz.rfm: segment_bars, score_grid, silhouette_curve, cluster_snake,
migration_heatmap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from shopbook.viz import rfm
from shopbook.viz.theme import title_of


def _mesh(ax) -> np.ndarray:
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    return np.asarray(mesh.get_array())


@pytest.fixture
def segments() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "segment": ["Champions", "Loyal", "At risk"],
            "customer_share": [0.1, 0.3, 0.6],
            "revenue_share": [0.5, 0.4, np.nan],
        }
    )


def test_segment_bars_customers_and_revenue_per_segment(draw, segments):
    ax = draw(rfm.segment_bars, segments)
    bars = [p for c in ax.containers for p in c]
    assert len(bars) == 2 * len(segments)
    widths = sorted(round(b.get_width(), 6) for b in bars)
    assert widths == [0.0, 10.0, 30.0, 40.0, 50.0, 60.0]  # percent; missing revenue is 0
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Champions", "Loyal", "At risk"]
    assert "50%" in [t.get_text() for t in ax.texts]  # bar labels
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["customers", "revenue"]
    assert title_of(ax) == "Customers and revenue by segment"
    assert ax.get_xlabel() == "Share of total (%)"


def test_segment_bars_by_layer(draw_new, segments):
    ax = draw_new(rfm.segment_bars, segments.rename(columns={"segment": "layer"}), by="layer")
    assert title_of(ax) == "Customers and revenue by layer"


@pytest.fixture
def grid() -> pd.DataFrame:
    counts = np.arange(25).reshape(5, 5) * 10
    return pd.DataFrame(
        counts, index=pd.Index([5, 4, 3, 2, 1], name="R"), columns=pd.Index([1, 2, 3, 4, 5])
    )


def test_score_grid_counts_and_segment_names(draw, grid):
    names = pd.DataFrame("Hibernating", index=grid.index, columns=grid.columns)
    names.loc[5, 5] = "Champions"
    ax = draw(rfm.score_grid, grid, names=names)
    assert _mesh(ax).shape == (5, 5)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 25
    assert "40\nChampions" in texts and "0\nHibernating" in texts
    assert title_of(ax) == "Customers per R × FM score"
    assert ax.get_xlabel() == "FM score (frequency and money, 5 = most)"
    assert ax.get_ylabel() == "R score (5 = most recent)"


def test_score_grid_counts_only(draw_new, grid):
    ax = draw_new(rfm.score_grid, grid, title="Grid")
    assert [t.get_text() for t in ax.texts][:2] == ["0", "10"]
    assert title_of(ax) == "Grid"


@pytest.fixture
def silhouette() -> pd.Series:
    return pd.Series([0.41, 0.47, 0.39, 0.35], index=[2, 3, 4, 5])


def test_silhouette_curve_marks_the_chosen_k(draw, silhouette):
    ax = draw(rfm.silhouette_curve, silhouette, chosen=3)
    curve, chosen = ax.get_lines()
    assert np.allclose(curve.get_ydata(), silhouette)
    assert list(chosen.get_xdata()) == [3]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["chosen: k = 3"]
    assert list(ax.get_xticks()) == [2, 3, 4, 5]
    assert title_of(ax) == "Choosing the number of clusters"
    assert ax.get_xlabel() == "Number of clusters k"
    assert ax.get_ylabel().startswith("Mean silhouette")


def test_silhouette_curve_without_a_choice(draw_new, silhouette):
    ax = draw_new(rfm.silhouette_curve, silhouette, chosen=9)
    assert len(ax.get_lines()) == 1
    assert ax.get_legend() is None


def test_cluster_snake_one_line_per_cluster(draw):
    centers = pd.DataFrame(
        [[-1.0, 1.2, 1.5], [0.2, -0.3, -0.4], [1.1, -0.8, -0.9]],
        index=pd.Index([0, 1, 2], name="cluster"),
        columns=["recency", "frequency", "monetary"],
    )
    ax = draw(rfm.cluster_snake, centers)
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 3]
    assert len(lines) == 3
    assert np.allclose(lines[0].get_ydata(), [-1.0, 1.2, 1.5])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["cluster 0", "cluster 1", "cluster 2"]
    assert title_of(ax) == "What sets the clusters apart"
    assert ax.get_ylabel() == "Cluster mean (SD from all customers)"


def test_migration_heatmap_row_shares_and_counts(draw):
    names = ["Champions", "Loyal", "Lost"]
    counts = pd.DataFrame([[30, 10, 0], [5, 15, 0], [0, 0, 0]], index=names, columns=names)
    ax = draw(rfm.migration_heatmap, counts)
    shares = _mesh(ax).reshape(3, 3)
    assert np.allclose(shares[0], [75, 25, 0])
    assert np.allclose(shares[2], [0, 0, 0])  # a row with nobody stays empty
    texts = [t.get_text() for t in ax.texts]
    # colour and text are the same quantity: the row's share first, the count under it
    assert texts.count("") == 5 and "75%\n30" in texts and "25%\n5" in texts
    assert title_of(ax).splitlines() == [
        "Where each segment's customers went",
        "cells: % of the row's customers (colour), customers below",
    ]
    assert ax.get_xlabel() == "Segment at the later date"
    assert ax.get_ylabel() == "Segment at the earlier date"
    assert ax.figure.axes[-1].get_ylabel() == "Share of the row's customers (%)"


def test_migration_heatmap_new_figure(draw_new):
    counts = pd.DataFrame([[1, 2], [3, 4]], index=["a", "b"], columns=["a", "b"])
    ax = draw_new(rfm.migration_heatmap, counts, title="Moves")
    assert title_of(ax).splitlines()[0] == "Moves"


# ------------------------------------------------------------ from the analysis itself


@pytest.fixture(scope="module")
def scored(shop_report):
    from shopbook.analysis import rfm as analysis
    from shopbook.features.rfm import customer_rfm, rfm_asof

    orders = shop_report.kept("orders")
    asof = rfm_asof(orders, None)
    customers = customer_rfm(orders, asof)
    earlier = customer_rfm(orders, asof - pd.Timedelta(days=90))
    return analysis.rfm_table(customers), customers, earlier


def test_the_rfm_report_figures_draw_what_the_analysis_returns(draw, scored):
    from shopbook.analysis import rfm as analysis

    table, customers, earlier = scored
    segments = analysis.segment_table(table)
    ax = draw(rfm.segment_bars, segments)
    assert len([p for c in ax.containers for p in c]) == 2 * len(segments)
    layers = analysis.segment_table(table, by="layer")
    ax = draw(rfm.segment_bars, layers, by="layer")
    assert len([p for c in ax.containers for p in c]) == 2 * len(layers)

    grid = analysis.score_grid(table)
    ax = draw(rfm.score_grid, grid, analysis.segment_grid(analysis.load_rules()))
    assert _mesh(ax).size == grid.size == 25
    assert int(_mesh(ax).sum()) == len(table)

    moves = analysis.migration(earlier, customers)
    assert moves.ok()
    ax = draw(rfm.migration_heatmap, moves.counts)
    assert _mesh(ax).size == moves.counts.size


def test_the_cluster_figures_draw_what_the_analysis_returns(draw, scored):
    from shopbook.analysis import rfm as analysis

    table = scored[0]
    clusters = analysis.cluster(table, k_range=range(2, 5), seed=0)
    assert clusters.ok()
    ax = draw(rfm.silhouette_curve, clusters.silhouette, clusters.k)
    assert len(ax.get_lines()[0].get_xdata()) == 3
    centers = analysis.cluster_centers(table, clusters)
    ax = draw(rfm.cluster_snake, centers)
    assert len([ln for ln in ax.get_lines() if len(ln.get_xdata()) == 3]) == len(centers)
