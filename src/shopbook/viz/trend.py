"""Figures of the market-trend report (no computation beyond arranging what they are given).

Every function takes ``ax=None`` (a new figure of the theme's size is made when it is
``None``), draws with seaborn/matplotlib's object-oriented API and returns the axes
(:func:`decomposition` takes and returns an array of axes). The inputs are the frames of
:mod:`shopbook.features.sales` and the results of :mod:`shopbook.analysis.trend`; time
granularity is a period word (``"day"``, ``"week"``, ``"month"``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from shopbook.analysis.trend import (
    Backtest,
    Changepoints,
    Decomposition,
    EventEffects,
    Forecast,
    GrowthShare,
    Selection,
    Shares,
)
from shopbook.features.periods import normalise_period
from shopbook.viz.theme import FIGSIZE, label, literal_text, new_axes

__all__ = [
    "kpi_lines",
    "decomposition",
    "changepoints",
    "event_effects",
    "forecast",
    "backtest",
    "forecast_candidates",
    "growth_share",
    "channel_share",
]

_METRIC_LABELS = {
    "gmv": "GMV",
    "orders": "Orders",
    "customers": "Customers",
    "aov": "Average order value",
    "units": "Units",
}


def _money_axis(ax: Axes, axis: str = "y") -> None:
    fmt = FuncFormatter(
        lambda v, _: (
            f"{v / 1e6:,.1f}M"
            if abs(v) >= 1e6
            else (f"{v / 1e3:,.0f}k" if abs(v) >= 1e4 else f"{v:,.0f}")
        )
    )
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def kpi_lines(
    frame: pd.DataFrame,
    metric: str = "gmv",
    by: str | None = None,
    ax: Axes | None = None,
    period: str = "day",
    currency: str = "",
    top: int = 8,
) -> Axes:
    """One KPI over time, one line per group.

    Parameters
    ----------
    frame
        :func:`shopbook.features.sales.kpis` output: ``period``, ``metric`` and ``by``.
    metric
        ``gmv``, ``orders``, ``customers``, ``aov``.
    by
        Group column (channel, category) or ``None``.
    period
        ``day``/``week``/``month`` (the frame's granularity), for the axis label.
    currency
        Unit of money metrics.
    top
        Show the ``top`` largest groups (by total ``gmv``), the rest are left out.
    """
    ax = new_axes(ax)
    data = frame.copy()
    if by:
        order = data.groupby(by)["gmv"].sum().sort_values(ascending=False).index[:top]
        data = data[data[by].isin(order)]
        sns.lineplot(
            data=data, x="period", y=metric, hue=by, hue_order=list(order), ax=ax, linewidth=1.2
        )
    else:
        sns.lineplot(data=data, x="period", y=metric, ax=ax, linewidth=1.2)
    ax.set_ylim(bottom=0)
    if metric in ("gmv", "aov"):
        _money_axis(ax)
    ax.figure.autofmt_xdate()
    word = normalise_period(period)
    name = _METRIC_LABELS.get(metric, metric)
    unit = currency if metric in ("gmv", "aov") and currency else None
    return label(
        ax,
        f"{name} per {word}" + (f" by {by}" if by else ""),
        x=word.capitalize(),
        y=name,
        y_unit=(f"{unit} per {word}" if unit and metric == "gmv" else unit)
        or (f"per {word}" if metric != "aov" else None),
    )


def decomposition(
    dec: Decomposition, axes: Sequence[Axes] | np.ndarray | None = None, unit: str = ""
) -> np.ndarray:
    """Observed, trend, each seasonal component and the remainder, stacked.

    Parameters
    ----------
    dec
        :func:`shopbook.analysis.trend.decompose` result (its ``table``, ``method`` and
        ``sources``: a season from Fourier terms and a spline trend say so in their label).
    axes
        A sequence of ``len(dec.table.columns)`` axes sharing x (default: a new figure).
    unit
        Unit of the series (e.g. ``CNY``).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
    """
    table = dec.table
    cols = list(table.columns)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(
            len(cols), 1, sharex=True, figsize=(FIGSIZE[0], 1.5 * len(cols) + 0.8)
        )
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    names = {"observed": "Observed", "trend": "Trend", "resid": "Remainder"}
    sources = getattr(dec, "sources", {}) or {}
    for ax, col in zip(axes, cols, strict=True):
        season = col.removeprefix("seasonal_")
        title = names.get(col, f"Season {season}")
        if sources.get(col, "").startswith("Fourier"):
            title += "\n(Fourier)"  # a season too short for STL says how it was estimated
        elif sources.get(col) == "cubic spline":
            title += "\n(spline)"
        ax.plot(table.index, table[col], linewidth=0.8 if col in ("observed", "resid") else 1.3)
        ax.set_ylabel(title, fontsize="small")
        _money_axis(ax)
    axes[0].set_title(f"Decomposition: {dec.method}" + (f" ({unit})" if unit else ""))
    axes[-1].set_xlabel("Day")
    axes[0].figure.autofmt_xdate()
    for ax in axes:
        literal_text(ax)
    return axes


def changepoints(
    dec: Decomposition, cps: Changepoints, ax: Axes | None = None, unit: str = ""
) -> Axes:
    """The deseasonalised series, its fitted piecewise trend and the dated changepoints.

    Parameters
    ----------
    dec
        :func:`~shopbook.analysis.trend.decompose` result (``observed`` and seasonal
        columns).
    cps
        :func:`~shopbook.analysis.trend.changepoints` result (``date``, ``change_pct``;
        ``segments``).
    """
    ax = new_axes(ax)
    deseason = dec.deseasonalised
    ax.plot(deseason.index, deseason, color="0.7", linewidth=0.7, label="Deseasonalised")
    seg = cps.segments
    if len(seg) and np.isfinite(np.asarray(seg, dtype=float)).any():
        ax.plot(seg.index, seg, linewidth=1.8, label="Piecewise trend")
    for _, r in cps.table.iterrows():
        ax.axvline(r["date"], color="C3", linestyle="--", linewidth=1)
        ax.annotate(
            f"{r['date']:%Y-%m-%d}\n{r['change_pct']:+.0%}",
            xy=(r["date"], 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -2),
            textcoords="offset points",
            fontsize="x-small",
            va="top",
            color="C3",
        )
    _money_axis(ax)
    ax.legend(loc="lower right")
    ax.figure.autofmt_xdate()
    return label(ax, "Trend changepoints", x="Day", y="Deseasonalised value", y_unit=unit or None)


def event_effects(effects: EventEffects, ax: Axes | None = None) -> Axes:
    """Uplift of each festival window against its baseline, with confidence intervals.

    Parameters
    ----------
    effects
        :func:`~shopbook.analysis.trend.event_effects` result (its ``table`` and
        ``level``).
    """
    ax = new_axes(ax)
    data = effects.table.reset_index(drop=True)
    windows = ["pre-heat", "peak", "post", "total"]
    ypos = np.arange(len(data))[::-1]
    level = effects.level
    for i, (_, r) in enumerate(data.iterrows()):
        colour = f"C{windows.index(r['window']) if r['window'] in windows else 4}"
        ax.errorbar(
            r["uplift_pct"],
            ypos[i],
            xerr=[[r["uplift_pct"] - r["uplift_pct_lo"]], [r["uplift_pct_hi"] - r["uplift_pct"]]],
            fmt="o",
            color=colour,
            capsize=3,
            markersize=4,
        )
    ax.axvline(0, color="0.3", linewidth=0.8)
    ax.set_yticks(
        ypos,
        [f"{o} · {w}" for o, w in zip(data["occurrence"], data["window"], strict=True)],
        fontsize="small",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    fig = ax.figure
    if isinstance(fig, Figure):  # not a subfigure: grow it to fit one row per window
        fig.set_size_inches(FIGSIZE[0], max(FIGSIZE[1], 0.28 * len(data) + 1))
    return label(
        ax,
        f"Festival uplift vs counterfactual baseline ({level:.0%} CI)",
        x="Uplift",
        x_unit="% of baseline",
    )


def forecast(
    history: pd.Series,
    forecast: Forecast,
    ax: Axes | None = None,
    unit: str = "",
    last: int | None = 180,
    title: str | None = None,
) -> Axes:
    """Recent history and the forecast with its 80% and 95% prediction intervals.

    Parameters
    ----------
    history
        The observed series.
    forecast
        :func:`~shopbook.analysis.trend.forecast` (or ``seasonal_naive``) result.
    last
        Periods of history shown.
    title
        Default: ``Forecast: <the forecast's model>``.
    """
    ax = new_axes(ax)
    fc = forecast.table
    h = history.iloc[-last:] if last else history
    ax.plot(h.index, h, color="0.35", linewidth=0.9, label="Observed")
    ax.fill_between(
        fc.index, fc["lo95"], fc["hi95"], color="C0", alpha=0.15, linewidth=0, label="95% interval"
    )
    ax.fill_between(
        fc.index, fc["lo80"], fc["hi80"], color="C0", alpha=0.3, linewidth=0, label="80% interval"
    )
    ax.plot(fc.index, fc["mean"], color="C0", linewidth=1.5, label="Forecast")
    _money_axis(ax)
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return label(
        ax,
        title or f"Forecast: {forecast.model}",
        x="Date",
        y="Value",
        y_unit=unit or None,
    )


def backtest(
    bt: Backtest, ax: Axes | None = None, unit: str = "", methods: Sequence[str] | None = None
) -> Axes:
    """Backtest forecasts of each method (the model and the seasonal naive) against the actuals.

    Parameters
    ----------
    bt
        :class:`~shopbook.analysis.trend.Backtest` (of :func:`~shopbook.analysis.trend.backtest`,
        or ``Selection.backtest``).
    methods
        The methods drawn (default: every row of ``bt.table``); the first solid, the others
        dotted.
    """
    ax = new_axes(ax)
    p = bt.predictions
    methods = list(bt.table.index) if methods is None else list(methods)
    actual = p[p["method"] == methods[0]]
    ax.plot(actual["date"], actual["actual"], color="0.3", linewidth=1, label="Actual")
    for i, method in enumerate(methods):
        q = p[p["method"] == method]
        for j, (_, fold) in enumerate(q.groupby("origin")):
            ax.plot(
                fold["date"],
                fold["mean"],
                color=f"C{i}",
                linewidth=1.2,
                linestyle="-" if i == 0 else ":",
                label=f"{method} (MASE {bt.table.loc[method, 'mase']:.2f})" if j == 0 else None,
            )
    _money_axis(ax)
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return label(ax, "Rolling-origin backtest", x="Date", y="Value", y_unit=unit or None)


def forecast_candidates(sel: Selection, ax: Axes | None = None) -> Axes:
    """Backtest MASE of each forecast candidate; the chosen one highlighted.

    Parameters
    ----------
    sel
        :func:`~shopbook.analysis.trend.select_forecast` result. The dashed line is the
        seasonal naive's MASE; bars to its left beat it.
    """
    ax = new_axes(ax)
    t = sel.table.dropna(subset=["mase"])
    colors = ["C0" if c else "0.7" for c in t["chosen"]]
    ax.barh(list(t.index)[::-1], t["mase"].to_numpy()[::-1], color=colors[::-1])
    if "seasonal naive" in t.index:
        ax.axvline(t.loc["seasonal naive", "mase"], color="0.3", linestyle="--", linewidth=1)
    for y, v in enumerate(t["mase"].to_numpy()[::-1]):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize="small")
    return label(ax, f"Forecast candidates: {sel.winner} chosen", x="Backtest MASE")


def growth_share(gs: GrowthShare, by: str = "category", ax: Axes | None = None) -> Axes:
    """Growth–share matrix: share of GMV (x), growth (y), bubble size = GMV.

    Parameters
    ----------
    gs
        :func:`~shopbook.analysis.trend.growth_share` result (its ``table``,
        ``market_growth`` and ``share_threshold``).
    """
    ax = new_axes(ax)
    data = gs.table.copy()
    sizes = 2000 * data["value"] / data["value"].max()
    sns.scatterplot(
        data=data,
        x="share",
        y="growth",
        hue="quadrant",
        size=sizes,
        sizes=(60, 2000),
        alpha=0.6,
        legend=False,
        ax=ax,
        hue_order=["star", "cash cow", "question mark", "dog"],
    )
    for _, r in data.iterrows():
        ax.annotate(
            str(r[by]), (r["share"], r["growth"]), fontsize="small", ha="center", va="center"
        )
    market = gs.market_growth
    if np.isfinite(market):
        ax.axhline(market, color="0.4", linestyle="--", linewidth=0.8)
        ax.annotate(
            "shop growth",
            xy=(1, market),
            xycoords=("axes fraction", "data"),
            fontsize="x-small",
            ha="right",
            va="bottom",
            color="0.4",
        )
    thr = gs.share_threshold
    if np.isfinite(thr) and thr:
        ax.axvline(thr, color="0.4", linestyle=":", linewidth=0.8)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    period = data["period"].iloc[0] if len(data) else ""
    compared = data["compared_to"].iloc[0] if len(data) else ""
    return label(
        ax,
        f"Growth–share matrix by {by}",
        x="Share of GMV",
        x_unit=str(period),
        y="GMV growth",
        y_unit=f"vs {compared}",
    )


def channel_share(
    mix: Shares,
    ax: Axes | None = None,
    period: str = "month",
    order: Sequence[str] | None = None,
) -> Axes:
    """Each channel's share of GMV per period, stacked.

    Parameters
    ----------
    mix
        :func:`~shopbook.analysis.trend.shares` result (its ``table``: periods × groups,
        rows sum to 1).
    period
        ``day``/``week``/``month``, for the axis label.
    order
        Groups in stacking order (default: largest mean share first).
    """
    ax = new_axes(ax)
    wide = mix.table
    cols = (
        list(order) if order is not None else list(wide.mean().sort_values(ascending=False).index)
    )
    ax.stackplot(
        wide.index, *[wide[c].to_numpy() for c in cols], labels=[str(c) for c in cols], alpha=0.85
    )
    ax.set_ylim(0, 1)
    ax.set_xlim(wide.index[0], wide.index[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title=wide.columns.name)
    ax.figure.autofmt_xdate()
    word = normalise_period(period)
    return label(
        ax,
        f"Share of GMV by {wide.columns.name or 'group'} per {word}",
        x=word.capitalize(),
        y="Share of GMV",
        y_unit="%",
    )
