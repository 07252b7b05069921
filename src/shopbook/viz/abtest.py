"""Figures of an A/B readout (no computation beyond arranging what they are given).

Every function takes ``ax=None`` (a new figure of the theme's size is made when it is
``None``), draws with seaborn/matplotlib's object-oriented API and returns the axes.
The tables they draw come from :mod:`shopbook.analysis.abtest` and
:mod:`shopbook.features.experiments`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.container import BarContainer
from matplotlib.ticker import PercentFormatter

from shopbook.i18n import _, translate
from shopbook.viz.theme import label, new_axes

__all__ = [
    "units_over_time",
    "split_shares",
    "lifts",
    "posterior_lift",
    "sequential",
    "cuped_intervals",
    "segments",
    "draw",
]


def units_over_time(daily: pd.DataFrame, ax: Axes | None = None, cumulative: bool = False) -> Axes:
    """Units newly assigned per day and variant.

    Parameters
    ----------
    daily
        Columns ``day`` (date), ``variant``, ``units`` (units first assigned that day).
    ax
        Axes to draw on.
    cumulative
        Plot the running total instead of the daily count.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    data = daily.sort_values(["variant", "day"]).copy()
    data["variant"] = data["variant"].astype(str).map(translate)
    if cumulative:
        data["units"] = data.groupby("variant")["units"].cumsum()
    hue = _("Variant")
    data[hue] = data["variant"]
    sns.lineplot(data=data, x="day", y="units", hue=hue, marker="o", markersize=3, ax=ax)
    ax.set_ylim(bottom=0)
    ax.figure.autofmt_xdate()
    return label(
        ax,
        _("Units assigned per day") if not cumulative else _("Units assigned so far"),
        x=_("Day"),
        y=_("Units assigned"),
        y_unit=_("per day") if not cumulative else _("cumulative"),
    )


def split_shares(srm_table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Observed vs intended share of units per variant.

    Parameters
    ----------
    srm_table
        :meth:`shopbook.analysis.abtest.SRMResult.table`: ``variant``, ``share``,
        ``expected_share``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    long = srm_table.melt(
        id_vars="variant",
        value_vars=["share", "expected_share"],
        var_name="kind",
        value_name="value",
    )
    long["kind"] = long["kind"].map({"share": _("observed"), "expected_share": _("intended")})
    long["variant"] = long["variant"].astype(str).map(translate)
    sns.barplot(data=long, x="variant", y="value", hue="kind", ax=ax)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    for cont in ax.containers:
        if isinstance(cont, BarContainer):  # every container of a bar plot
            ax.bar_label(cont, labels=[f"{b.get_height():.1%}" for b in cont], fontsize="small")
    ax.legend(title=None, loc="lower right")
    return label(
        ax, _("Share of units per variant"), x=_("Variant"), y=_("Share of units"), y_unit="%"
    )


def _forest(
    ax: Axes,
    names: Sequence[str],
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    colors: Sequence[Any] | None = None,
) -> None:
    y = np.arange(len(names))[::-1]
    colors = colors or sns.color_palette()[:1] * len(names)
    for yi, e, low, high, c in zip(y, est, lo, hi, colors, strict=True):
        if np.isfinite(low) and np.isfinite(high):
            ax.plot([low, high], [yi, yi], color=c, lw=2.5, solid_capstyle="round")
        if np.isfinite(e):
            ax.plot([e], [yi], "o", color=c, ms=7)
    ax.axvline(0, color="0.3", lw=1, ls="--")
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_yticks(y)
    ax.set_yticklabels(names)
    ax.grid(axis="y", visible=False)


def lifts(
    table: pd.DataFrame, ax: Axes | None = None, relative: bool = True, alpha: float = 0.05
) -> Axes:
    """Forest plot: the lift of every metric (and variant) with its confidence interval.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.abtest.metric_table`: ``variant``, ``metric``,
        ``rel_lift``, ``rel_lo``, ``rel_hi`` (or ``abs_*``), ``p_adjusted``.
    relative
        Plot relative lift (percent) rather than absolute.
    alpha
        Level used for colouring: significant rows (adjusted p < alpha) are highlighted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    pre = "rel" if relative else "abs"
    data = table.dropna(subset=[f"{pre}_lift"]) if f"{pre}_lift" in table else table.iloc[0:0]
    many = data["variant"].nunique() > 1 if "variant" in data else False
    names = [
        f"{translate(str(m))} · {translate(str(v))}" if many else translate(str(m))
        for m, v in zip(data["metric"], data.get("variant", data["metric"]), strict=True)
    ]
    pal = sns.color_palette()
    sig = data.get("p_adjusted", pd.Series(1.0, index=data.index)).fillna(1.0) < alpha
    colors = [
        pal[2] if s and e > 0 else pal[3] if s else "0.45"
        for s, e in zip(sig, data[f"{pre}_lift"], strict=True)
    ]
    _forest(
        ax,
        names,
        data[f"{pre}_lift"].to_numpy(float),
        data[f"{pre}_lo"].to_numpy(float),
        data[f"{pre}_hi"].to_numpy(float),
        colors,
    )
    if relative:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=pal[2], marker="o", lw=2.5, label=_("better (significant, adjusted)")),
        Line2D([], [], color=pal[3], marker="o", lw=2.5, label=_("worse (significant, adjusted)")),
        Line2D([], [], color="0.45", marker="o", lw=2.5, label=_("not significant")),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize="small")
    return label(
        ax,
        _("Lift vs control with {level:.0%} confidence intervals").format(level=1 - alpha),
        x=_("Relative lift") if relative else _("Absolute lift"),
        x_unit="%" if relative else None,
    )


def posterior_lift(draws: np.ndarray, chance_to_beat: float, ax: Axes | None = None) -> Axes:
    """Posterior distribution of the relative lift in conversion.

    Parameters
    ----------
    draws
        Posterior draws of the relative lift
        (:attr:`shopbook.analysis.abtest.BayesResult.lift_draws`).
    chance_to_beat
        ``P(treatment > control)``, written on the figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    d = np.asarray(draws, dtype=float)
    sns.histplot(
        d, bins=80, stat="density", ax=ax, color=sns.color_palette()[0], alpha=0.35, edgecolor=None
    )
    sns.kdeplot(d, ax=ax, color=sns.color_palette()[0], lw=2)
    ax.axvline(0, color="0.3", lw=1, ls="--")
    ax.text(
        0.98,
        0.95,
        _("P(treatment beats control) = {p:.1%}").format(p=chance_to_beat),
        transform=ax.transAxes,
        ha="right",
        va="top",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return label(
        ax,
        _("Posterior of the relative lift in conversion"),
        x=_("Relative lift"),
        x_unit="%",
        y=_("Density"),
    )


def sequential(
    view: pd.DataFrame,
    ax: Axes | None = None,
    x: str = "day",
    relative_to: float | None = None,
    unit: str | None = None,
) -> Axes:
    """Cumulative estimate over time with the fixed-horizon interval and the confidence sequence.

    Parameters
    ----------
    view
        :func:`shopbook.analysis.abtest.sequential_view`: ``x``, ``abs_lift``,
        ``naive_lo``, ``naive_hi``, ``cs_lo``, ``cs_hi``.
    x
        The time column.
    relative_to
        Divide by this (the control value) to show the lift in percent of control.
    unit
        Unit of the absolute lift (e.g. ``"pp"``, ``"CNY"``), when not relative.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax)
    k = 1.0 / relative_to if relative_to else 1.0
    pal = sns.color_palette()
    t = view[x]
    ax.fill_between(
        t,
        view["cs_lo"] * k,
        view["cs_hi"] * k,
        color=pal[0],
        alpha=0.18,
        label=_("always-valid confidence sequence"),
    )
    ax.plot(
        t,
        view["naive_lo"] * k,
        color=pal[1],
        lw=1,
        ls=":",
        label=_("fixed-horizon 95% CI (not peeking-safe)"),
    )
    ax.plot(t, view["naive_hi"] * k, color=pal[1], lw=1, ls=":")
    ax.plot(t, view["abs_lift"] * k, color=pal[0], lw=2, label=_("cumulative estimate"))
    ax.axhline(0, color="0.3", lw=1, ls="--")
    finite = np.concatenate(
        [view[c].to_numpy(float) * k for c in ("naive_lo", "naive_hi", "abs_lift")]
    )
    finite = finite[np.isfinite(finite)]
    if finite.size:
        span = finite.max() - finite.min()
        ax.set_ylim(finite.min() - 0.6 * span, finite.max() + 0.6 * span)
    if relative_to:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="upper right", fontsize="small")
    ax.figure.autofmt_xdate()
    return label(
        ax,
        _("Cumulative lift over time"),
        x=_("Day"),
        y=_("Lift (% of control)") if relative_to else _("Absolute lift"),
        y_unit=None if relative_to else unit,
    )


def cuped_intervals(table: pd.DataFrame, ax: Axes | None = None, unit: str | None = None) -> Axes:
    """Raw and CUPED-adjusted estimates with their intervals.

    Parameters
    ----------
    table
        :meth:`shopbook.analysis.abtest.CupedResult.table`: ``estimate``, ``abs_lift``,
        ``abs_lo``, ``abs_hi``.
    unit
        Unit of the lift (e.g. the currency).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(8.0, 2.8))
    pal = sns.color_palette()
    _forest(
        ax,
        [translate(str(e)) for e in table["estimate"]],
        table["abs_lift"].to_numpy(float),
        table["abs_lo"].to_numpy(float),
        table["abs_hi"].to_numpy(float),
        [pal[7 % len(pal)], pal[0]],
    )
    return label(ax, _("Lift in revenue per unit: raw vs CUPED"), x=_("Absolute lift"), x_unit=unit)


def segments(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Exploratory lift by segment.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.abtest.segment_table`: ``dimension``, ``segment``,
        ``rel_lift``, ``rel_lo``, ``rel_hi``.

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = table.dropna(subset=["rel_lift"]) if "rel_lift" in table else table.iloc[0:0]
    ax = new_axes(ax, figsize=(8.0, max(2.5, 0.45 * len(data) + 1)))
    pal = sns.color_palette()
    dims = list(dict.fromkeys(data["dimension"]))
    colors = [pal[dims.index(d) % len(pal)] for d in data["dimension"]]
    names = [
        f"{translate(str(d))}: {translate(str(s))}"
        for d, s in zip(data["dimension"], data["segment"], strict=True)
    ]
    _forest(
        ax,
        names,
        data["rel_lift"].to_numpy(float),
        data["rel_lo"].to_numpy(float),
        data["rel_hi"].to_numpy(float),
        colors,
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    return label(
        ax, _("Lift in conversion by segment (exploratory)"), x=_("Relative lift"), x_unit="%"
    )


def draw(figure: tuple[str, dict[str, Any]], ax: Axes | None = None) -> Axes:
    """Draw one figure of a report part (:class:`shopbook.analysis.abtest.Part`).

    Parameters
    ----------
    figure
        ``(name, arguments)``: one of the functions of this module and what to pass it.
    ax
        Axes to draw on; default: a new figure of the theme's size that pyplot does not
        manage, so a report that draws in a loop shows each figure where it is
        displayed (``display(draw(f).figure)``) and not again at the end of the cell.

    Returns
    -------
    matplotlib.axes.Axes
    """
    name, arguments = figure
    if name not in __all__ or name == "draw":
        raise ValueError(f"no figure {name!r} in shopbook.viz.abtest")
    if ax is None:
        from matplotlib.figure import Figure

        from shopbook.viz.theme import FIGSIZE

        ax = Figure(figsize=FIGSIZE).subplots()
    result: Axes = globals()[name](**arguments, ax=ax)
    return result
