"""shopbook.viz.inventory: abc_xyz_heatmap, pareto, warning_bars."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import QuadMesh

from shopbook.viz import inventory
from shopbook.viz.theme import title_of


def test_abc_xyz_heatmap_nine_annotated_cells(draw):
    matrix = pd.DataFrame(
        [[12, 5, 1], [20, 14, 6], [30, 40, 1200]],
        index=pd.Index(list("ABC"), name="abc"),
        columns=pd.Index(list("XYZ"), name="xyz"),
    )
    ax = draw(inventory.abc_xyz_heatmap, matrix)
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert np.asarray(mesh.get_array()).size == 9
    assert [t.get_text() for t in ax.texts][-1] == "1,200"
    assert len(ax.texts) == 9
    assert title_of(ax) == "SKUs per ABC × XYZ class"
    assert ax.get_xlabel().startswith("XYZ")
    assert ax.get_ylabel() == "ABC (A = largest share of value)"
    assert ax.figure.axes[-1].get_ylabel() == "SKUs"  # colour bar names what cells count


def test_abc_xyz_heatmap_other_unit(draw_new):
    matrix = pd.DataFrame(np.ones((3, 3)), index=list("ABC"), columns=list("XYZ"))
    ax = draw_new(inventory.abc_xyz_heatmap, matrix, unit="revenue (CNY)", title="Value")
    assert ax.figure.axes[-1].get_ylabel() == "revenue (CNY)"
    assert title_of(ax) == "Value"


@pytest.fixture
def classes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sku": ["a", "b", "c", "d", "e"],
            "revenue": [10.0, 500.0, 40.0, 300.0, -5.0],
            "gross_profit": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )


def test_pareto_cumulative_share_largest_first(draw, classes):
    ax = draw(inventory.pareto, classes)
    curve, *cuts = ax.get_lines()
    assert len(curve.get_xdata()) == len(classes) + 1
    assert np.allclose(curve.get_xdata(), [0, 20, 40, 60, 80, 100])
    assert np.allclose(curve.get_ydata(), 100 * np.array([0, 500, 800, 840, 850, 850]) / 850)
    assert sorted(c.get_ydata()[0] for c in cuts) == [80, 95]
    assert [t.get_text() for t in ax.texts] == ["A up to 80%", "B up to 95%"]
    assert title_of(ax) == "Pareto curve of revenue"
    assert ax.get_xlabel() == "SKUs, largest first (% of SKUs)"
    assert ax.get_ylabel() == "Cumulative revenue (% of total)"


def test_pareto_other_value_and_cut_offs(draw_new, classes):
    ax = draw_new(inventory.pareto, classes, value="gross_profit", abc=(0.7, 0.9))
    assert title_of(ax) == "Pareto curve of gross profit"
    assert ax.get_ylabel() == "Cumulative gross profit (% of total)"
    assert [t.get_text() for t in ax.texts] == ["A up to 70%", "B up to 90%"]


def test_pareto_nothing_sold(draw, classes):
    ax = draw(inventory.pareto, classes.assign(revenue=0.0))
    assert np.allclose(ax.get_lines()[0].get_ydata(), 0)


@pytest.fixture
def counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": ["red", "amber", "green", "unknown"],
            "skus": [3, 12, 1480, 7],
            "overstock": [0, 1, 200, 0],
        }
    )


def test_warning_bars_one_bar_per_level_in_its_colour(draw, counts):
    ax = draw(inventory.warning_bars, counts)
    levels, overstock = ax.containers
    assert [b.get_width() for b in levels] == [3, 12, 1480, 7]
    assert [b.get_width() for b in overstock] == [0, 1, 200, 0]
    expected = [inventory.LEVEL_COLOURS[lv] for lv in counts["level"]]
    from matplotlib.colors import to_hex

    assert [to_hex(b.get_facecolor()) for b in levels] == expected
    assert [t.get_text() for t in ax.get_yticklabels()] == list(counts["level"])
    assert "1,480" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["of which overstock"]
    assert title_of(ax) == "Stock warnings"
    assert ax.get_xlabel() == "SKUs (count)"


def test_warning_bars_no_legend_without_overstock(draw_new, counts):
    ax = draw_new(inventory.warning_bars, counts.assign(overstock=0), title="Warnings")
    assert ax.get_legend() is None
    assert title_of(ax) == "Warnings"
