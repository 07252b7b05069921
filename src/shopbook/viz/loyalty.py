"""Figures of the loyalty report (figures only: the numbers come from
:mod:`shopbook.analysis.loyalty`).

Every function takes ``ax=None`` (a new figure of the theme's size when ``None``) and
returns the axes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shopbook.i18n import _
from shopbook.viz.theme import label, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def repurchase_curves(
    curves: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Share of customers with a second purchase by day, per segment.

    Parameters
    ----------
    curves
        :func:`shopbook.analysis.loyalty.repurchase_curves` ``table``: ``segment, day,
        repurchased, survival, ci_low, ci_high``.
    """
    ax = new_axes(ax, figsize=(8.0, 4.5))
    for seg, g in curves.groupby("segment", sort=False):
        (line,) = ax.plot(g["day"], 100 * g["repurchased"], label=str(seg), lw=1.6)
        if seg == curves["segment"].iloc[0]:
            ax.fill_between(
                g["day"],
                100 * (1 - g["ci_high"]),
                100 * (1 - g["ci_low"]),
                color=line.get_color(),
                alpha=0.2,
                lw=0,
            )
    ax.legend(fontsize="small")
    return label(
        ax,
        title or _("Customers with a second purchase"),
        x=_("days since the first purchase"),
        y=_("customers"),
        y_unit="%",
    )


def hazard(
    table: pd.DataFrame,
    peak_day: float,
    peak_low: float,
    peak_high: float,
    coupon_day: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """The smoothed daily hazard of the second purchase, its peak interval and the coupon day.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.loyalty.hazard_peak` ``table``: ``day, hazard, ci_low,
        ci_high``.
    """
    ax = new_axes(ax, figsize=(8.0, 4.0))
    ax.plot(table["day"], 100 * table["hazard"], lw=1.8, label=_("hazard"))
    ax.fill_between(table["day"], 100 * table["ci_low"], 100 * table["ci_high"], alpha=0.2, lw=0)
    ax.axvspan(peak_low, peak_high, color="tab:green", alpha=0.12, label=_("peak (95% interval)"))
    ax.axvline(peak_day, color="tab:green", lw=1.2)
    ax.axvline(coupon_day, color="tab:red", ls="--", lw=1.2, label=_("coupon day"))
    ax.legend(fontsize="small")
    return label(
        ax,
        title or _("Daily chance of a second purchase"),
        x=_("days since the first purchase"),
        y=_("second purchases per customer still waiting"),
        y_unit=_("% a day"),
    )


def bunching(
    histogram: pd.DataFrame,
    thresholds: Sequence[float],
    currency: str = "",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Orders by basket value against the smooth counterfactual, thresholds marked.

    Parameters
    ----------
    histogram
        :class:`shopbook.analysis.loyalty.Bunching` ``histogram``: ``lower, center,
        orders, counterfactual, excluded``.
    """
    ax = new_axes(ax, figsize=(8.5, 4.5))
    h = histogram
    width = float(np.diff(h["lower"]).min()) if len(h) > 1 else 1.0
    ax.bar(h["lower"], h["orders"], width=width, align="edge", color="0.7", label=_("orders"))
    cf = h[h["counterfactual"].notna()]
    ax.plot(
        cf["center"], cf["counterfactual"], color="tab:blue", lw=1.8, label=_("without the ladder")
    )
    for t in thresholds:
        ax.axvline(t, color="tab:red", ls="--", lw=1.0)
    ax.set_xlim(0, float(max(thresholds)) * 1.8 if len(thresholds) else None)
    ax.legend(fontsize="small")
    return label(
        ax,
        title or _("Basket values in the ladder windows"),
        x=_("basket value before discounts"),
        x_unit=currency or None,
        y=_("orders"),
    )


def migration_heatmap(
    counts: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Customers from each tier at the earlier review to each tier at the last one.

    Parameters
    ----------
    counts
        :class:`shopbook.analysis.loyalty.TierMigration` ``counts``.
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(6.5, 4.5))
    sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", cbar=False, ax=ax)
    return label(
        ax,
        title or _("Tier moves between the last two reviews"),
        x=_("tier now"),
        y=_("tier before"),
    )


def uplift(table: pd.DataFrame, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Repurchase rate of the offered and the comparison group, and the uplift's interval.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.loyalty.offer_uplift` ``table`` (one row).
    """
    ax = new_axes(ax, figsize=(6.5, 3.5))
    r = table.iloc[0]
    names = [_("offered"), _("comparison")]
    ax.barh(names, [100 * r["treated_rate"], 100 * r["comparison_rate"]], color=["tab:blue", "0.6"])
    ax.errorbar(
        [100 * r["comparison_rate"] + 100 * r["uplift"]],
        [names[0]],
        xerr=[[100 * (r["uplift"] - r["ci_low"])], [100 * (r["ci_high"] - r["uplift"])]],
        color="k",
        capsize=4,
    )
    return label(
        ax,
        title or _("Repurchase within {n} days of the send").format(n=int(r["days"])),
        x=_("customers who bought"),
        x_unit="%",
    )


def upgrade_discontinuity(
    sample: pd.DataFrame,
    table: pd.DataFrame,
    band: float,
    days: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Purchase within ``days`` after a review against the distance to the upgrade
    threshold: binned shares on each side and the fitted rates at the threshold.

    Parameters
    ----------
    sample
        :class:`shopbook.analysis.loyalty.UpgradeEffect` ``sample``: ``x`` (spend ÷
        threshold − 1), ``above``, ``bought_after``.
    table
        Its ``table`` (the first row, ``all``, gives the rates at the threshold).
    band, days
        Its bandwidth and outcome window.
    """
    ax = new_axes(ax, figsize=(7.5, 4.0))
    edges = np.linspace(-band, band, 13)
    s = sample.assign(bin=pd.cut(sample["x"], edges, right=False, labels=False))
    b = s.groupby("bin", observed=True).agg(
        x=("x", "mean"), rate=("bought_after", "mean"), n=("x", "size")
    )
    above = b["x"] >= 0
    ax.scatter(
        100 * b.loc[~above, "x"],
        100 * b.loc[~above, "rate"],
        color="0.5",
        s=18 + b.loc[~above, "n"] / 4,
        label=_("not moved up"),
    )
    ax.scatter(
        100 * b.loc[above, "x"],
        100 * b.loc[above, "rate"],
        color="tab:blue",
        s=18 + b.loc[above, "n"] / 4,
        label=_("moved up"),
    )
    r = table.iloc[0]
    ax.plot(
        [0, 0],
        [100 * r["rate_below"], 100 * r["rate_above"]],
        color="tab:red",
        lw=2.0,
        label=_("jump at the threshold"),
    )
    ax.axvline(0, color="tab:red", ls="--", lw=0.8)
    ax.legend(fontsize="small", loc="upper left")
    return label(
        ax,
        title
        or _("Purchase within {n} days after a review, by distance to the threshold").format(
            n=days
        ),
        x=_("12-month spend vs the upgrade threshold"),
        x_unit="%",
        y=_("members who bought"),
        y_unit="%",
    )
