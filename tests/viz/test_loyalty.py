"""viz.loyalty: each figure draws what it is given on the axes it is given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopbook.i18n import use_lang
from shopbook.viz import loyalty as lv
from shopbook.viz.theme import title_of


def test_repurchase_curves_draw_one_line_per_segment_in_percent(draw):
    days = np.arange(0, 11)
    curves = pd.concat(
        [
            pd.DataFrame(
                {
                    "segment": s,
                    "day": days,
                    "survival": 1 - k * days / 20,
                    "ci_low": 1 - k * days / 18,
                    "ci_high": 1 - k * days / 22,
                }
            )
            for s, k in (("all", 1.0), ("gold", 1.5))
        ]
    ).assign(repurchased=lambda d: 1 - d["survival"])
    ax = draw(lv.repurchase_curves, curves)
    assert len(ax.lines) == 2 and ax.lines[1].get_ydata()[-1] == 75.0
    assert title_of(ax) == "Customers with a second purchase"
    with use_lang("zh"):
        assert title_of(draw(lv.repurchase_curves, curves)) == "产生第二次购买的顾客"


def test_hazard_marks_the_peak_and_the_coupon_day(draw):
    t = pd.DataFrame({"day": [3, 4, 5], "hazard": [0.01, 0.02, 0.015]})
    t["ci_low"], t["ci_high"] = t.hazard * 0.8, t.hazard * 1.2
    ax = draw(lv.hazard, t, 4.0, 3.0, 5.0, 7)
    xs = sorted(line.get_xdata()[0] for line in ax.lines[1:])
    assert xs == [4.0, 7]


def test_bunching_draws_bins_and_the_counterfactual(draw):
    lower = np.arange(0, 400, 5.0)
    h = pd.DataFrame(
        {
            "lower": lower,
            "center": lower + 2.5,
            "orders": np.arange(80),
            "counterfactual": np.arange(80) + 0.5,
            "excluded": False,
        }
    )
    ax = draw(lv.bunching, h, [199.0], currency="CNY")
    assert len(ax.patches) == 80 and "CNY" in ax.get_xlabel()


def test_migration_and_uplift(draw):
    counts = pd.DataFrame([[5, 1], [2, 7]], index=["a", "b"], columns=["a", "b"])
    ax = draw(lv.migration_heatmap, counts)
    assert sorted(t.get_text() for t in ax.texts) == ["1", "2", "5", "7"]
    row = pd.DataFrame(
        [
            {
                "treated_rate": 0.12,
                "comparison_rate": 0.08,
                "uplift": 0.04,
                "ci_low": 0.02,
                "ci_high": 0.06,
                "days": 7,
            }
        ]
    )
    ax = draw(lv.uplift, row)
    assert [round(p.get_width(), 6) for p in ax.patches] == [12.0, 8.0]
    assert "7 days" in title_of(ax)
