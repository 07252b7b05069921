"""Figures of the RFM report (figures only: the numbers come from :mod:`shopbook.analysis.rfm`).

Every function takes ``ax=None`` (a new figure of the theme's size when ``None``),
draws with seaborn/matplotlib's object API, and returns the axes.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from shopbook.i18n import _
from shopbook.viz.theme import label, literal_context, new_axes

_BY = {"segment": _("segment"), "layer": _("layer")}

if TYPE_CHECKING:
    from matplotlib.axes import Axes


def segment_bars(
    segments: pd.DataFrame,
    by: str = "segment",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Share of customers and share of revenue per segment, side by side.

    Parameters
    ----------
    segments
        :func:`shopbook.analysis.rfm.segment_table` output: ``by``,
        ``customer_share``, ``revenue_share`` (fractions), best segment first.
    by
        ``"segment"`` or ``"layer"``.
    ax
        Axes to draw on (default: a new figure).
    title
        Default "Customers and revenue by {by}".
    """
    import seaborn as sns
    from matplotlib.container import BarContainer

    ax = new_axes(ax, figsize=(8.0, 0.38 * len(segments) + 1.6))
    long = segments.melt(
        id_vars=[by],
        value_vars=["customer_share", "revenue_share"],
        var_name="measure",
        value_name="share",
    )
    long["measure"] = long["measure"].map(
        {"customer_share": _("customers"), "revenue_share": _("revenue")}
    )
    long[by] = long[by].map(lambda v: _(str(v)))
    long["share"] = long["share"].fillna(0.0) * 100
    sns.barplot(
        data=long,
        y=by,
        x="share",
        hue="measure",
        order=[_(str(v)) for v in segments[by]],
        ax=ax,
        orient="h",
    )
    for container in ax.containers:
        if isinstance(container, BarContainer):
            ax.bar_label(container, fmt="%.0f%%", fontsize="x-small", padding=2)
    ax.legend(title=None, loc="lower right")
    return label(
        ax,
        title=title or _("Customers and revenue by {by}").format(by=_(_BY.get(by, by))),
        x=_("Share of total"),
        x_unit="%",
        y="",
    )


def score_grid(
    grid: pd.DataFrame,
    names: pd.DataFrame | None = None,
    ax: Axes | None = None,
    title: str = _("Customers per R × FM score"),
) -> Axes:
    """The 5 × 5 R × FM grid as a heatmap of customer counts, cells named by segment.

    Parameters
    ----------
    grid
        :func:`shopbook.analysis.rfm.score_grid` output (R 5 on top, FM 1..5 across).
    names
        Optional frame of the same shape with the segment of each cell (from
        :func:`shopbook.analysis.rfm.segment_grid`), written under the count.
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(8.0, 5.2))
    counts = grid.to_numpy()
    annot = np.array([[f"{c:,}" for c in row] for row in counts], dtype=object)
    if names is not None:
        nm = names.reindex(index=grid.index, columns=grid.columns).to_numpy()
        annot = np.array(
            [
                [f"{a}\n{textwrap.fill(_(str(n)), 14)}" for a, n in zip(ra, rn, strict=True)]
                for ra, rn in zip(annot, nm, strict=True)
            ],
            dtype=object,
        )
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            grid,
            annot=annot,
            fmt="",
            cmap="Blues",
            cbar_kws={"label": _("customers")},
            linewidths=0.5,
            linecolor="white",
            ax=ax,
            annot_kws={"fontsize": "x-small"},
        )
    return label(
        ax,
        title=_(title),
        x=_("FM score (frequency and money, 5 = most)"),
        y=_("R score (5 = most recent)"),
    )


def silhouette_curve(
    silhouette: pd.Series,
    chosen: int | None = None,
    ax: Axes | None = None,
    title: str = _("Choosing the number of clusters"),
) -> Axes:
    """Mean silhouette per number of clusters, the chosen k marked.

    Parameters
    ----------
    silhouette
        :attr:`shopbook.analysis.rfm.ClusterResult.silhouette` (index k).
    chosen
        The chosen k (``ClusterResult.k``).
    """
    ax = new_axes(ax)
    ax.plot(silhouette.index, silhouette.to_numpy(), marker="o")
    if chosen is not None and chosen in silhouette.index:
        ax.plot(
            [chosen],
            [silhouette[chosen]],
            marker="o",
            markersize=12,
            fillstyle="none",
            color="C3",
            linestyle="none",
            label=_("chosen: k = {k}").format(k=chosen),
        )
        ax.legend(loc="best")
    ax.set_xticks(list(silhouette.index))
    return label(
        ax,
        title=_(title),
        x=_("Number of clusters k"),
        y=_("Mean silhouette (−1 to 1, higher is better)"),
    )


def cluster_snake(
    centers: pd.DataFrame,
    ax: Axes | None = None,
    title: str = _("What sets the clusters apart"),
) -> Axes:
    """Each cluster's mean standardised recency, frequency and monetary value (a snake plot).

    Parameters
    ----------
    centers
        :func:`shopbook.analysis.rfm.cluster_centers` output: one row per cluster,
        columns the features, values in standard deviations from the mean.
    """
    ax = new_axes(ax)
    for i, (k, row) in enumerate(centers.iterrows()):
        ax.plot(
            [_(str(c)) for c in row.index],
            row.to_numpy(),
            marker="o",
            label=_("cluster {k}").format(k=k),
            color=f"C{i % 10}",
        )
    ax.axhline(0, color="0.5", linewidth=0.8)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    return label(ax, title=_(title), x="", y=_("Cluster mean"), y_unit=_("SD from all customers"))


def migration_heatmap(
    counts: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Segment transitions: colour and each cell's first line are the same quantity.

    Each cell is coloured by the share of its row's customers (%), and says that share
    on its first line with the number of customers under it (``61%`` / ``1,981``): the
    colour, the number read first and the colour bar are one unit. The title says so.

    Parameters
    ----------
    counts
        :attr:`shopbook.analysis.rfm.Migration.counts` (from-segment rows × to-segment
        columns).
    title
        Default "Where each segment's customers went"; the unit line is added under it.
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(9.5, 0.5 * len(counts) + 2.6))
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0).fillna(0.0) * 100
    annot = pd.DataFrame(
        [
            [
                f"{s:.0f}%\n{int(v):,}" if s >= 0.5 else f"<1%\n{int(v):,}" if v else ""
                for s, v in zip(sr, vr, strict=True)
            ]
            for sr, vr in zip(shares.to_numpy(), counts.to_numpy(), strict=True)
        ],
        index=counts.index,
        columns=counts.columns,
    )
    counts = counts.rename(index=lambda v: _(str(v)), columns=lambda v: _(str(v)))
    shares.index, shares.columns = counts.index, counts.columns
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            shares,
            annot=annot,
            fmt="",
            cmap="Blues",
            vmin=0,
            vmax=100,
            linewidths=0.5,
            linecolor="white",
            cbar_kws={"label": _("Share of the row's customers (%)")},
            ax=ax,
            annot_kws={"fontsize": 7},
        )
    ax.tick_params(axis="x", labelrotation=45)
    for tick in ax.get_xticklabels():
        tick.set_horizontalalignment("right")
    unit = _("cells: % of the row's customers (colour), customers below")
    return label(
        ax,
        title=(title or _("Where each segment's customers went")) + "\n" + unit,
        x=_("Segment at the later date"),
        y=_("Segment at the earlier date"),
    )


__all__ = ["cluster_snake", "migration_heatmap", "score_grid", "segment_bars", "silhouette_curve"]
