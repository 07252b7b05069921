"""Figures of the channel budget (notebook 08); they draw what they are given.

Every function takes ``ax=None`` (a new figure of the theme's size when ``None``) and
returns the axes. Tables come from :mod:`shopbook.analysis.budget`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from shopbook.i18n import _
from shopbook.viz.theme import label, literal_text, new_axes

__all__ = ["allocation_bars", "response_curve", "share_bars"]


def share_bars(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Spend share against revenue share per channel, side by side.

    Parameters
    ----------
    table
        One row per channel: ``channel``, ``spend_share``, ``revenue_share``
        (:func:`shopbook.analysis.budget.month_columns`).
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    t = table.sort_values("spend_share")
    pos = range(len(t))
    ax.barh([p + 0.2 for p in pos], t["spend_share"], height=0.4, label=_("Share of spend"))
    ax.barh([p - 0.2 for p in pos], t["revenue_share"], height=0.4, label=_("Share of revenue"))
    ax.set_yticks(list(pos), [str(c) for c in t["channel"]])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="lower right")
    label(ax, _("Spend share and revenue share by channel"), x=_("Share"), y=_("Channel"))
    return literal_text(ax)


def response_curve(
    curve: pd.DataFrame,
    channel: str,
    current: float | None = None,
    ax: Axes | None = None,
    currency: str = "CNY",
) -> Axes:
    """A channel's response curve with its interval and the current operating point.

    Parameters
    ----------
    curve
        :meth:`shopbook.analysis.budget.ResponseFit.curve` output: ``spend``, ``paid``,
        ``low``, ``high``.
    channel
        The channel's name (title).
    current
        The current daily spend, marked on the curve.
    ax
        Axes to draw on.
    currency
        The spend's currency (axis unit).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    ax.fill_between(curve["spend"], curve["low"], curve["high"], alpha=0.25, label=_("Interval"))
    ax.plot(curve["spend"], curve["paid"], label=_("Expected"))
    if current is not None:
        y = float(np.interp(current, curve["spend"], curve["paid"]))
        ax.plot([current], [y], "o", color="C3", label=_("Current spend"))
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right")
    label(
        ax,
        _("{channel}: new customers bought by spend").format(channel=channel),
        x=_("Steady daily spend"),
        x_unit=currency,
        y=_("Paid new customers per day"),
    )
    return literal_text(ax)


def allocation_bars(table: pd.DataFrame, ax: Axes | None = None, currency: str = "CNY") -> Axes:
    """Current and recommended monthly spend per channel, with each channel's bounds.

    Parameters
    ----------
    table
        :class:`shopbook.analysis.budget.Allocation` ``table``: ``channel``, ``current``,
        ``recommended``, ``low``, ``high``.
    ax
        Axes to draw on.
    currency
        The spend's currency (axis unit).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    t = table.sort_values("current")
    pos = list(range(len(t)))
    ax.barh([p + 0.2 for p in pos], t["current"], height=0.4, label=_("Current"))
    ax.barh([p - 0.2 for p in pos], t["recommended"], height=0.4, label=_("Recommended"))
    ax.hlines([p - 0.2 for p in pos], t["low"], t["high"], color="black", lw=1)
    ax.plot(t["low"], [p - 0.2 for p in pos], "|", color="black", label=_("Bounds"))
    ax.plot(t["high"], [p - 0.2 for p in pos], "|", color="black")
    ax.set_yticks(pos, [str(c) for c in t["channel"]])
    ax.legend(loc="lower right")
    label(
        ax,
        _("Monthly budget by channel: current and recommended"),
        x=_("Spend per month"),
        x_unit=currency,
        y=_("Channel"),
    )
    return literal_text(ax)
