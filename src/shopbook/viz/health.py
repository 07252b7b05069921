"""Figures of the data-health report (drawing only; numbers come from shopbook.data.health)."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from shopbook.i18n import _
from shopbook.viz.theme import label, new_axes


def kept_rejected(
    tables: pd.DataFrame, ax: Axes | None = None, title: str = _("Rows kept and rejected per table")
) -> Axes:
    """Horizontal bars: kept and rejected rows per table (log scale when sizes differ a lot).

    Parameters
    ----------
    tables
        Columns ``table, kept, rejected`` (e.g. :func:`shopbook.data.health.tables`);
        rows with nothing read are left out.
    ax
        Axes to draw on (default: a new figure).
    title
        The figure's title (English; shown in the current language).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    data = tables[(tables["kept"] + tables["rejected"]) > 0].iloc[::-1]
    names = data["table"].astype(str).tolist()
    ax.barh(names, data["kept"], label=_("kept"), color="C0")
    ax.barh(names, data["rejected"], left=data["kept"], label=_("rejected"), color="C3")
    total = data["kept"] + data["rejected"]
    if len(total) and total.max() / max(total.min(), 1) > 100:
        ax.set_xscale("log")
    ax.legend(loc="lower right")
    return label(ax, title=_(title), x=_("Rows"), x_unit=_("count"))
