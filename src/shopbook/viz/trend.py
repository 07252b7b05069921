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
from matplotlib.lines import Line2D
from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter

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
from shopbook.features.periods import normalise_period, period_end
from shopbook.i18n import _, get_lang
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
    "gmv": _("GMV"),
    "orders": _("Orders"),
    "customers": _("Customers"),
    "aov": _("Average order value"),
    "units": _("Units"),
}
#: Period words as figures write them (translated when drawn).
_PERIOD_WORDS = {"day": _("day"), "week": _("week"), "month": _("month")}
_PERIOD_TITLES = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
_GROUP_WORDS = {"channel": _("channel"), "category": _("category"), "group": _("group")}


def _money_tick(v: float, pos: object = None) -> str:
    """A money tick: ``80k``, ``1.2M`` (``8万``, ``1.2亿`` in Chinese)."""
    if get_lang() == "zh":
        if abs(v) >= 1e8:
            return f"{v / 1e8:,.1f}亿"
        return f"{v / 1e4:,.0f}万" if abs(v) >= 1e5 else f"{v / 1e4:,.1f}万" if v else "0"
    if abs(v) >= 1e6:
        return f"{v / 1e6:,.1f}M"
    return f"{v / 1e3:,.0f}k" if abs(v) >= 1e4 else f"{v:,.0f}"


def _money_axis(ax: Axes, axis: str = "y") -> None:
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(_money_tick))


class ExactPercent(Formatter):
    """Percent ticks with as many decimals as the ticks need to be written exactly.

    ``PercentFormatter(decimals=0)`` writes ticks at 7.5 %, 12.5 % … as ``8%``, ``12%``;
    this writes ``7.5%``, ``10.0%``, ``12.5%`` (one precision for every tick of the axis).
    """

    def __init__(self, xmax: float = 1.0, most: int = 3) -> None:
        self.xmax, self.most = xmax, most
        self.decimals = 0

    def _digits(self, values: Sequence[float]) -> int:
        scaled = [100 * float(v) / self.xmax for v in values if np.isfinite(v)]
        for d in range(self.most + 1):
            if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in scaled):
                return d
        return self.most

    def format_ticks(self, values: list[float]) -> list[str]:
        self.decimals = self._digits(values)
        return [self(v) for v in values]

    def __call__(self, x: float, pos: object = None) -> str:
        value = 100 * float(x) / self.xmax
        if value == 0:
            value = 0.0  # no "-0%"
        return f"{value:.{self.decimals}f}%"


def _period_word(period: str) -> str:
    return _(_PERIOD_WORDS.get(period, period))


def _partial_mask(frame: pd.DataFrame, period: str, since: object, through: object) -> pd.Series:
    """Rows whose period is cut by the data's first (``since``) or last (``through``) day."""
    starts = pd.to_datetime(frame["period"])
    mask = pd.Series(False, index=frame.index)
    if period == "day":
        return mask
    if through is not None:
        mask |= pd.to_datetime(period_end(starts, period)) > pd.Timestamp(through)
    if since is not None:
        mask |= starts < pd.Timestamp(since)
    return mask


def kpi_lines(
    frame: pd.DataFrame,
    metric: str = "gmv",
    by: str | None = None,
    ax: Axes | None = None,
    period: str = "day",
    currency: str = "",
    top: int = 8,
    since: object = None,
    through: object = None,
) -> Axes:
    """One KPI over time, one line per group; periods the data cover only in part are marked.

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
    since, through
        The data's first and last day. A week or month they cut (the first week begins
        before ``since``, the last ends after ``through``) is not a full period: it is
        drawn as a hollow marker joined by a dotted segment, and the legend says so,
        so a partial last week does not read as a crash. ``None``: every period is
        taken as complete.
    """
    ax = new_axes(ax)
    word = normalise_period(period)
    data = frame.copy()
    partial = _partial_mask(data, word, since, through)
    groups: list[object] = [None]
    if by:
        order = data.groupby(by)["gmv"].sum().sort_values(ascending=False).index[:top]
        data, partial = data[data[by].isin(order)], partial[data[by].isin(order)]
        # groups named in the reader's language (channels, categories with a catalogue entry)
        data[by], order = data[by].map(lambda v: _(str(v))), pd.Index([_(str(v)) for v in order])
        palette = dict(zip(order, sns.color_palette(n_colors=len(order)), strict=True))
        sns.lineplot(
            data=data[~partial],
            x="period",
            y=metric,
            hue=by,
            hue_order=list(order),
            palette=palette,
            ax=ax,
            linewidth=1.2,
        )
        groups = list(order)
    else:
        sns.lineplot(data=data[~partial], x="period", y=metric, ax=ax, linewidth=1.2)
        palette = {None: ax.get_lines()[-1].get_color() if ax.get_lines() else "C0"}
    if partial.any():
        _mark_partial(ax, data, partial, metric, by, groups, palette)
        handles, texts = ax.get_legend_handles_labels()
        note = _("Partial {word}, not comparable (hollow, dotted)").format(word=_period_word(word))
        ax.legend(
            handles
            + [Line2D([], [], color="0.4", linestyle=":", marker="o", markerfacecolor="white")],
            texts + [note],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0) if by else None,  # groups: beside the lines, not on them
            fontsize="small",
            title=_(_GROUP_WORDS.get(str(by), str(by))) if by else None,
        )
    elif by and (legend := ax.get_legend()) is not None:
        legend.set_title(_(_GROUP_WORDS.get(str(by), str(by))))
    ax.set_ylim(bottom=0)
    if metric in ("gmv", "aov"):
        _money_axis(ax)
    ax.figure.autofmt_xdate()
    name = _(_METRIC_LABELS.get(metric, metric))
    unit = currency if metric in ("gmv", "aov") and currency else None
    per = _period_word(word)
    if by:
        title = _("{name} per {word} by {by}").format(
            name=name, word=per, by=_(_GROUP_WORDS.get(by, by))
        )
    else:
        title = _("{name} per {word}").format(name=name, word=per)
    y_unit = (
        _("{unit} per {word}").format(unit=unit, word=per) if unit and metric == "gmv" else unit
    ) or (_("per {word}").format(word=per) if metric != "aov" else None)
    return label(ax, title, x=_(_PERIOD_TITLES.get(word, word)), y=name, y_unit=y_unit)


def _mark_partial(
    ax: Axes,
    data: pd.DataFrame,
    partial: pd.Series,
    metric: str,
    by: str | None,
    groups: Sequence[object],
    palette: dict,
) -> None:
    """Each partial period: a hollow marker, joined to its full neighbour by a dotted line."""
    for group in groups:
        rows = data if group is None or by is None else data[data[by] == group]
        rows = rows.sort_values("period")
        cut = partial.loc[rows.index].to_numpy()
        x, y = pd.to_datetime(rows["period"]).to_numpy(), rows[metric].to_numpy(dtype=float)
        colour = palette.get(group, "C0")
        for i in np.flatnonzero(cut):
            j = i - 1 if i == len(rows) - 1 else i + 1  # the neighbour inside the data
            if 0 <= j < len(rows) and not cut[j]:
                ax.plot([x[j], x[i]], [y[j], y[i]], color=colour, linestyle=":", linewidth=1.2)
            ax.plot(
                [x[i]],
                [y[i]],
                linestyle="none",
                marker="o",
                markersize=5,
                markerfacecolor="white",
                markeredgecolor=colour,
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

        _fig, axes = plt.subplots(
            len(cols), 1, sharex=True, figsize=(FIGSIZE[0], 1.5 * len(cols) + 0.8)
        )
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    names = {"observed": _("Observed"), "trend": _("Trend"), "resid": _("Remainder")}
    sources = getattr(dec, "sources", {}) or {}
    for ax, col in zip(axes, cols, strict=True):
        season = col.removeprefix("seasonal_")
        title = names.get(col) or _("Season {season}").format(season=season)
        if sources.get(col, "").startswith("Fourier"):
            title += "\n" + _("(Fourier)")  # a season too short for STL says how it was estimated
        elif sources.get(col) == "cubic spline":
            title += "\n" + _("(spline)")
        ax.plot(table.index, table[col], linewidth=0.8 if col in ("observed", "resid") else 1.3)
        ax.set_ylabel(title, fontsize="small")
        _money_axis(ax)
    title = _("Decomposition: {method}").format(method=dec.method)
    axes[0].set_title(title + (f" ({unit})" if unit else ""))
    axes[-1].set_xlabel(_("Day"))
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

    Each changepoint's label (date and change) sits at the top of its rule; labels whose
    dates are close are stacked in rows, so none overlaps another.
    """
    ax = new_axes(ax)
    deseason = dec.deseasonalised
    ax.plot(deseason.index, deseason, color="0.7", linewidth=0.7, label=_("Deseasonalised"))
    seg = cps.segments
    if len(seg) and np.isfinite(np.asarray(seg, dtype=float)).any():
        ax.plot(seg.index, seg, linewidth=1.8, label=_("Piecewise trend"))
    table = cps.table.sort_values("date").reset_index(drop=True)
    dates = pd.to_datetime(table["date"])
    span = deseason.index if len(deseason) else pd.DatetimeIndex(dates)
    rows = _label_rows(dates, span.min(), span.max())
    for (_i, r), row in zip(table.iterrows(), rows, strict=True):
        ax.axvline(r["date"], color="C3", linestyle="--", linewidth=1)
        right = (
            len(span) > 1
            and (pd.Timestamp(r["date"]) - span.min()) / (span.max() - span.min()) > 0.85
        )  # near the right edge: the label goes left of its rule
        ax.annotate(
            f"{r['date']:%Y-%m-%d}\n{r['change_pct']:+.0%}",
            xy=(r["date"], 1),
            xycoords=("data", "axes fraction"),
            xytext=(-3 if right else 3, -2 - 22 * row),
            textcoords="offset points",
            fontsize="x-small",
            va="top",
            ha="right" if right else "left",
            color="C3",
        )
    _money_axis(ax)
    ax.legend(loc="lower right")
    ax.figure.autofmt_xdate()
    return label(
        ax,
        _("Trend changepoints"),
        x=_("Day"),
        y=_("Deseasonalised value"),
        y_unit=unit or None,
    )


def _label_rows(dates: pd.Series, first: object, last: object, gap: float = 0.12) -> list[int]:
    """A row for each date's label: the lowest row whose last label is ``gap`` of the span away."""
    width = (pd.Timestamp(last) - pd.Timestamp(first)) / pd.Timedelta(days=1) or 1.0
    ends: list[float] = []  # per row, the position of its last label
    rows = []
    for d in dates:
        x = (pd.Timestamp(d) - pd.Timestamp(first)) / pd.Timedelta(days=1) / width
        row = next((k for k, end in enumerate(ends) if x - end >= gap), len(ends))
        if row == len(ends):
            ends.append(x)
        ends[row] = x
        rows.append(row)
    return rows


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
    for i, (_i, r) in enumerate(data.iterrows()):
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
        [f"{_(o)} · {_(w)}" for o, w in zip(data["occurrence"], data["window"], strict=True)],
        fontsize="small",
    )
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    fig = ax.figure
    if isinstance(fig, Figure):  # not a subfigure: grow it to fit one row per window
        fig.set_size_inches(FIGSIZE[0], max(FIGSIZE[1], 0.28 * len(data) + 1))
    return label(
        ax,
        _("Festival uplift vs counterfactual baseline ({level:.0%} CI)").format(level=level),
        x=_("Uplift"),
        x_unit=_("% of baseline"),
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
    ax.plot(h.index, h, color="0.35", linewidth=0.9, label=_("Observed"))
    ax.fill_between(
        fc.index,
        fc["lo95"],
        fc["hi95"],
        color="C0",
        alpha=0.15,
        linewidth=0,
        label=_("95% interval"),
    )
    ax.fill_between(
        fc.index,
        fc["lo80"],
        fc["hi80"],
        color="C0",
        alpha=0.3,
        linewidth=0,
        label=_("80% interval"),
    )
    ax.plot(fc.index, fc["mean"], color="C0", linewidth=1.5, label=_("Forecast"))
    _money_axis(ax)
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return label(
        ax,
        title or _("Forecast: {model}").format(model=forecast.model),
        x=_("Date"),
        y=_("Value"),
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
    ax.plot(actual["date"], actual["actual"], color="0.3", linewidth=1, label=_("Actual"))
    for i, method in enumerate(methods):
        q = p[p["method"] == method]
        for j, (_origin, fold) in enumerate(q.groupby("origin")):
            ax.plot(
                fold["date"],
                fold["mean"],
                color=f"C{i}",
                linewidth=1.2,
                linestyle="-" if i == 0 else ":",
                label=f"{_(method)} (MASE {bt.table.loc[method, 'mase']:.2f})" if j == 0 else None,
            )
    _money_axis(ax)
    ax.legend(loc="upper left")
    ax.figure.autofmt_xdate()
    return label(ax, _("Rolling-origin backtest"), x=_("Date"), y=_("Value"), y_unit=unit or None)


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
    ax.barh([_(str(m)) for m in t.index][::-1], t["mase"].to_numpy()[::-1], color=colors[::-1])
    if "seasonal naive" in t.index:
        ax.axvline(t.loc["seasonal naive", "mase"], color="0.3", linestyle="--", linewidth=1)
    for y, v in enumerate(t["mase"].to_numpy()[::-1]):
        ax.text(v, y, f" {v:.2f}", va="center", fontsize="small")
    return label(
        ax,
        _("Forecast candidates: {winner} chosen").format(winner=_(str(sel.winner))),
        x=_("Backtest MASE"),
    )


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
    for _i, r in data.iterrows():
        ax.annotate(
            _(str(r[by])), (r["share"], r["growth"]), fontsize="small", ha="center", va="center"
        )
    market = gs.market_growth
    if np.isfinite(market):
        ax.axhline(market, color="0.4", linestyle="--", linewidth=0.8)
        ax.annotate(
            _("shop growth"),
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
    # ticks as they are: 7.5 %, 12.5 % (not 8 %, 12 %)
    ax.xaxis.set_major_formatter(ExactPercent(1.0))
    ax.yaxis.set_major_formatter(ExactPercent(1.0))
    period = data["period"].iloc[0] if len(data) else ""
    compared = data["compared_to"].iloc[0] if len(data) else ""
    return label(
        ax,
        _("Growth–share matrix by {by}").format(by=_(_GROUP_WORDS.get(by, by))),
        x=_("Share of GMV"),
        x_unit=str(period),
        y=_("GMV growth"),
        y_unit=_("vs {period}").format(period=compared),
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
        wide.index,
        *[wide[c].to_numpy() for c in cols],
        labels=[_(str(c)) for c in cols],
        alpha=0.85,
    )
    ax.set_ylim(0, 1)
    ax.set_xlim(wide.index[0], wide.index[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    group = str(wide.columns.name or "group")
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        title=_(_GROUP_WORDS.get(group, group)) if wide.columns.name else None,
    )
    ax.figure.autofmt_xdate()
    word = normalise_period(period)
    return label(
        ax,
        _("Share of GMV by {by} per {word}").format(
            by=_(_GROUP_WORDS.get(group, group)), word=_period_word(word)
        ),
        x=_(_PERIOD_TITLES.get(word, word)),
        y=_("Share of GMV"),
        y_unit="%",
    )
