"""Figures of the product & inventory report (numbers from :mod:`shopbook.analysis.inventory`).

Every function takes ``ax=None`` (a new figure of the theme's size when ``None``),
draws with seaborn/matplotlib's object API, and returns the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from shopbook.i18n import _
from shopbook.viz.theme import label, literal_context, new_axes

#: What an ABC value is, as figures name it (translated when drawn).
_VALUES = {"revenue": _("revenue"), "gross_profit": _("gross profit"), "units": _("units")}

#: Colour of each warning level.
LEVEL_COLOURS = {"red": "#c0392b", "amber": "#e6a817", "green": "#2e8b57", "unknown": "#999999"}


def abc_xyz_heatmap(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    unit: str = "SKUs",
    title: str = _("SKUs per ABC × XYZ class"),
) -> Axes:
    """The 3 × 3 ABC × XYZ matrix as an annotated heatmap.

    Parameters
    ----------
    matrix
        :func:`shopbook.analysis.inventory.abc_xyz_matrix` output (index A–C, columns X–Z).
    unit
        What the cells count (colour-bar label).
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(6.0, 4.2))
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            matrix,
            annot=True,
            fmt=",.0f",
            cmap="Blues",
            cbar_kws={"label": _(unit)},
            linewidths=0.5,
            linecolor="white",
            ax=ax,
        )
    return label(
        ax,
        title=_(title),
        x=_("XYZ (X steady … Z erratic weekly demand)"),
        y=_("ABC (A = largest share of value)"),
    )


def pareto(
    classes: pd.DataFrame,
    value: str = "revenue",
    ax: Axes | None = None,
    abc: tuple[float, float] = (0.8, 0.95),
    title: str | None = None,
) -> Axes:
    """Cumulative share of ``value`` against the share of SKUs (largest first), ABC cut-offs marked.

    Parameters
    ----------
    classes
        One row per SKU with ``value`` (e.g. :func:`~shopbook.analysis.inventory.abc_xyz` output).
    abc
        Cut-offs drawn as horizontal lines.
    """
    ax = new_axes(ax, figsize=(7.0, 4.2))
    v = np.sort(pd.to_numeric(classes[value], errors="coerce").fillna(0).clip(lower=0).to_numpy())[
        ::-1
    ]
    total = v.sum()
    cum = np.concatenate([[0.0], np.cumsum(v) / total]) if total > 0 else np.zeros(len(v) + 1)
    x = np.linspace(0, 100, len(v) + 1)
    ax.plot(x, cum * 100, color="#1f77b4", lw=2)
    for cut, name in zip(abc, ("A", "B"), strict=True):
        ax.axhline(cut * 100, color="0.5", ls="--", lw=1)
        ax.annotate(
            _("{name} up to {cut:.0%}").format(name=name, cut=cut),
            xy=(100, cut * 100),
            xytext=(-4, -12),
            textcoords="offset points",
            ha="right",
            fontsize="small",
            color="0.35",
        )
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 102)
    what = _(_VALUES.get(value, value.replace("_", " ")))
    return label(
        ax,
        title=title or _("Pareto curve of {value}").format(value=what),
        x=_("SKUs, largest first"),
        x_unit=_("% of SKUs"),
        y=_("Cumulative {value}").format(value=what),
        y_unit=_("% of total"),
    )


def warning_bars(
    counts: pd.DataFrame, ax: Axes | None = None, title: str = _("Stock warnings")
) -> Axes:
    """SKUs per warning level, overstocked SKUs hatched within each bar.

    Parameters
    ----------
    counts
        :func:`shopbook.analysis.inventory.warning_counts` output (``level``, ``skus``,
        ``overstock``).
    """
    ax = new_axes(ax, figsize=(6.0, 3.2))
    levels = list(counts["level"])
    colours = [LEVEL_COLOURS.get(lv, "#999999") for lv in levels]
    y = np.arange(len(levels))
    bars = ax.barh(y, counts["skus"], color=colours)
    ax.barh(
        y,
        counts["overstock"],
        color="none",
        edgecolor="black",
        hatch="//",
        lw=0,
        label=_("of which overstock"),
    )
    ax.bar_label(bars, labels=[f"{n:,}" for n in counts["skus"]], padding=3, fontsize="small")
    ax.set_yticks(y, [_(str(lv)) for lv in levels])
    ax.invert_yaxis()
    if counts["overstock"].sum():
        ax.legend(loc="lower right")
    return label(ax, title=_(title), x="SKUs", x_unit=_("count"), y="")
