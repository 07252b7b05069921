"""Figures of the KPI brief (no computation beyond arranging what they are given).

Every function takes ``ax=None`` (a new figure of the theme's size when ``None``) and
returns the axes. Tables come from :mod:`shopbook.features.funnel`,
:mod:`shopbook.features.sales` and :mod:`shopbook.analysis.kpi`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from shopbook.features.periods import Window
from shopbook.i18n import _
from shopbook.viz.theme import label, literal_text, new_axes

__all__ = ["funnel_by_channel", "kpi_sparklines", "return_on_spend", "roi_bars"]

_STAGES = {
    "sessions": _("Session"),
    "product_view": _("Product view"),
    "cart": _("Cart"),
    "checkout": _("Checkout"),
    "order": _("Order"),
}


def funnel_by_channel(channels: pd.DataFrame, ax: Axes | None = None, by: str = "channel") -> Axes:
    """Share of sessions reaching each funnel stage, one line per channel.

    Parameters
    ----------
    channels
        One row per channel: ``by`` and the counts ``sessions``, ``product_view``,
        ``cart``, ``checkout``, ``order`` (:func:`shopbook.features.funnel.funnel` with
        ``period=None``, or the ``table`` of :func:`shopbook.analysis.kpi.channel_table`).
    ax
        Axes to draw on.
    by
        Group column.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    data = channels[channels["sessions"] > 0]
    long = data.melt(id_vars=[by], value_vars=list(_STAGES), var_name="stage", value_name="count")
    long = long.merge(data[[by, "sessions"]], on=by)
    long["share"] = long["count"] / long["sessions"]
    stages = {k: _(v) for k, v in _STAGES.items()}
    long["stage"] = pd.Categorical(
        long["stage"].map(stages), categories=list(stages.values()), ordered=True
    )
    long[by] = long[by].map(lambda v: _(str(v)))
    sns.pointplot(data=long.sort_values("stage"), x="stage", y="share", hue=by, ax=ax, markersize=4)
    legend = ax.get_legend()
    if legend is not None:
        legend.set_title(_("Channel") if by == "channel" else by)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    return label(
        ax,
        _("Funnel by channel: share of sessions reaching each stage"),
        x=_("Stage"),
        y=_("Sessions"),
        y_unit=_("% of the channel's sessions"),
    )


def kpi_sparklines(
    daily: pd.DataFrame, metrics: dict[str, str], window: Window | None = None, axes: Any = None
) -> np.ndarray:
    """Small daily trend lines, one panel per KPI, with the window shaded.

    Parameters
    ----------
    daily
        One row per day: ``period`` and the ``metrics`` columns
        (:func:`shopbook.features.sales.daily_sales`).
    metrics
        Column → panel title with its unit, e.g. ``{"gmv": "GMV (CNY)"}``.
    window
        A :class:`shopbook.features.periods.Window` to shade (window and previous window).
    axes
        A sequence of at least ``len(metrics)`` axes (default: a new row of panels).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _fig, axes = plt.subplots(1, len(metrics), figsize=(2.6 * len(metrics), 2.2), squeeze=False)
        axes = axes[0]
    axes = np.asarray(axes).ravel()
    for ax, (col, title) in zip(axes, metrics.items(), strict=False):
        ax.plot(pd.to_datetime(daily["period"]), daily[col], lw=1)
        if window is not None:
            ax.axvspan(
                window.prev_start, window.prev_end + pd.Timedelta(days=1), color="0.85", lw=0
            )
            ax.axvspan(
                window.start, window.end + pd.Timedelta(days=1), color="C1", alpha=0.25, lw=0
            )
        ax.set_title(_(title), fontsize="small")
        ax.tick_params(labelsize="x-small")
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
        ax.set_xlabel("")
        literal_text(ax)
    return axes


def roi_bars(
    channels: pd.DataFrame, ax: Axes | None = None, basis: str = "gross profit", by: str = "channel"
) -> Axes:
    """A return / spend ratio per channel, one bar each; a reference line at 1.

    Kept for old callers: it draws the ``roi`` column as a ratio to spend. The KPI
    brief's ROI is (gross profit − spend) / spend, whose break-even is 0 — draw it, and
    ROAS, with :func:`return_on_spend`.

    Parameters
    ----------
    channels
        The ``table`` of :func:`shopbook.analysis.kpi.channel_table` with spend: ``by``
        and ``roi``.
    ax
        Axes to draw on.
    basis
        What the return is (``"gross profit"`` or ``"GMV"``), for the labels.
    by
        Group column.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    data = channels.dropna(subset=["roi"]).sort_values("roi", ascending=False)
    sns.barplot(data=data, x=by, y="roi", color="C0", ax=ax)
    ax.axhline(1.0, color="0.3", ls="--", lw=1)
    return label(
        ax,
        f"Channel ROI: {basis} per unit of spend",
        x="Channel",
        y=f"{basis[:1].upper() + basis[1:]} / spend",
        y_unit="ratio",
    )


#: metric → (title, y label, reference line, what the line means).
_RETURNS = {
    "roi": (_("Channel ROI: (gross profit − spend) / spend"), "ROI", 0.0, _("break-even")),
    "roas": (_("Channel ROAS: revenue / spend"), "ROAS", 1.0, _("revenue = spend")),
}


def return_on_spend(
    channels: pd.DataFrame, metric: str = "roi", ax: Axes | None = None, by: str = "channel"
) -> Axes:
    """ROI or ROAS per channel, one bar each, largest first, with its reference line.

    ROI's line is break-even (0: gross profit pays the spend back); ROAS's is revenue =
    spend (1). Channels whose value is NaN (no spend, or — for ROI — revenue without a
    unit cost) have no bar.

    Parameters
    ----------
    channels
        The ``table`` of :func:`shopbook.analysis.kpi.channel_table` with spend: ``by``
        and ``metric``.
    metric
        ``"roi"`` or ``"roas"``.
    ax
        Axes to draw on.
    by
        Group column.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if metric not in _RETURNS:
        raise ValueError(f"metric must be one of {sorted(_RETURNS)}, got {metric!r}")
    title, name, ref, meaning = _RETURNS[metric]
    ax = new_axes(ax)
    data = channels.dropna(subset=[metric]).sort_values(metric, ascending=False)
    data = data.assign(**{by: data[by].map(lambda v: _(str(v)))})
    sns.barplot(data=data, x=by, y=metric, color="C0", ax=ax)
    ax.axhline(ref, color="0.3", ls="--", lw=1, label=_(meaning))
    ax.legend(loc="best", fontsize="small")
    return label(ax, _(title), x=_("Channel"), y=name, y_unit=_("ratio"))
