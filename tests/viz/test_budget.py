"""Channel budget figures: each draws on the axes it is given and returns them, titled."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from shopbook.viz import budget as bviz
from shopbook.viz.theme import title_of


def test_figures_draw_and_return_their_axes():
    shares = pd.DataFrame(
        {"channel": ["a", "<b>"], "spend_share": [0.6, 0.4], "revenue_share": [0.5, 0.5]}
    )
    ax = bviz.share_bars(shares)
    assert title_of(ax) and len(ax.patches) == 4
    x = np.linspace(0, 1000, 20)
    curve = pd.DataFrame({"spend": x, "paid": x / (x + 300), "low": 0.8 * x / (x + 300)})
    curve["high"] = 1.2 * curve["paid"]
    fig, axes = plt.subplots(1, 2)
    got = bviz.response_curve(curve, "tmall", 400.0, ax=axes[0])
    assert got is axes[0] and "tmall" in title_of(got)
    table = pd.DataFrame(
        {
            "channel": ["a", "b"],
            "current": [100.0, 200.0],
            "recommended": [130.0, 170.0],
            "low": [70.0, 140.0],
            "high": [130.0, 260.0],
        }
    )
    assert bviz.allocation_bars(table, ax=axes[1]) is axes[1]
    plt.close("all")
