"""shopbook.viz.health.kept_rejected."""

from __future__ import annotations

import pandas as pd

from shopbook.viz import health
from shopbook.viz.theme import title_of


def _tables(**rows: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(name, kept, rejected) for name, (kept, rejected) in rows.items()],
        columns=["table", "kept", "rejected"],
    )


def test_kept_rejected_one_kept_and_one_rejected_bar_per_table_read(draw):
    tables = _tables(orders=(900, 12), order_items=(2000, 3), sessions=(0, 0))
    ax = draw(health.kept_rejected, tables)
    bars = [p for c in ax.containers for p in c]
    assert len(bars) == 2 * 2  # the table with nothing read is left out
    assert [t.get_text() for t in ax.get_yticklabels()] == ["order_items", "orders"]
    kept, rejected = ax.containers
    assert [b.get_width() for b in kept] == [2000, 900]
    assert [b.get_width() for b in rejected] == [3, 12]
    assert [b.get_x() for b in rejected] == [2000, 900]  # stacked after the kept rows
    assert title_of(ax) == "Rows kept and rejected per table"
    assert ax.get_xlabel() == "Rows (count)"
    assert ax.get_xscale() == "linear"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["kept", "rejected"]


def test_kept_rejected_log_scale_when_sizes_differ_a_lot(draw):
    ax = draw(health.kept_rejected, _tables(orders=(50_000, 0), products=(40, 2)))
    assert ax.get_xscale() == "log"


def test_kept_rejected_custom_title_and_new_figure(draw_new):
    ax = draw_new(health.kept_rejected, _tables(orders=(5, 1)), title="Health")
    assert title_of(ax) == "Health"


def test_kept_rejected_nothing_read(draw):
    ax = draw(health.kept_rejected, _tables(orders=(0, 0)))
    assert [p for c in ax.containers for p in c] == []
    assert ax.get_xlabel() == "Rows (count)"


def test_kept_rejected_draws_the_health_overview_of_a_shop(draw, shop_report):
    from shopbook.data import health as data_health

    overview = data_health.tables(shop_report)
    ax = draw(health.kept_rejected, overview)
    read = overview[(overview["kept"] + overview["rejected"]) > 0]
    assert len([p for c in ax.containers for p in c]) == 2 * len(read)
    assert sorted(t.get_text() for t in ax.get_yticklabels()) == sorted(read["table"])
