"""Figures of the price-elasticity report (no computation: frames come from
:mod:`shopbook.analysis.elasticity`).

Every function takes ``ax=None`` (a new figure of the theme's size when omitted), draws
on it with the object-oriented API and returns the axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from shopbook.i18n import _, translate
from shopbook.viz.theme import label, literal_context, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from shopbook.analysis.elasticity import CrossPrice, PriceRecommendation

__all__ = [
    "price_variation",
    "promo_calendar",
    "elasticity_forest",
    "shrinkage",
    "cross_price_heatmap",
    "price_curves",
    "promo_depth",
]


def price_variation(
    diag: pd.DataFrame,
    group: str = "category",
    ax: Axes | None = None,
    title: str = _("How much each SKU's price moved"),
) -> Axes:
    """Price spread (max/min − 1) of every SKU, by group, learnable or not.

    Parameters
    ----------
    diag
        :func:`shopbook.analysis.elasticity.price_variation` output: ``group``,
        ``spread``, ``learnable``.
    """
    import seaborn as sns

    ax = new_axes(ax)
    d = diag.dropna(subset=["spread"]).copy()
    d["spread_pct"] = 100 * d["spread"]
    enough, little = _("enough variation"), _("too little to learn from")
    d["status"] = np.where(d["learnable"], enough, little)
    d[group] = d[group].astype(str).map(translate)
    order = sorted(d[group].astype(str).unique())
    # seaborn's jitter draws from numpy's global generator: seeded for this figure (so it
    # is the same in every run), the caller's generator state restored after
    state = np.random.get_state()
    np.random.seed(0)
    with literal_context(ax):  # seaborn draws the figure while it plots
        try:
            sns.stripplot(
                data=d.assign(**{group: d[group].astype(str)}),
                x="spread_pct",
                y=group,
                hue="status",
                order=order,
                hue_order=[enough, little],
                jitter=0.25,
                size=4,
                alpha=0.8,
                ax=ax,
            )
        finally:
            np.random.set_state(state)
    ax.legend(title=None, loc="lower right")
    return label(
        ax,
        title=translate(title),
        x=_("Price spread over the period, max / min − 1"),
        x_unit="%",
        y="",
    )


def promo_calendar(
    calendar: pd.DataFrame,
    ax: Axes | None = None,
    title: str = _("Share of SKUs on promotion, by week"),
) -> Axes:
    """Heat map of the promotion calendar.

    Parameters
    ----------
    calendar
        :func:`shopbook.analysis.elasticity.promo_calendar` output: index = week,
        one column per group, values = share on promotion (0–1).
    """
    import seaborn as sns

    ax = new_axes(ax)
    data = (100 * calendar.T).astype(float)
    data.columns = [
        pd.Timestamp(c).strftime("%Y-%m-%d") if not isinstance(c, (int, np.integer)) else str(c)
        for c in data.columns
    ]
    data.index = [translate(str(g)) for g in data.index]
    step = max(1, len(data.columns) // 12)
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            data,
            ax=ax,
            cmap="rocket_r",
            vmin=0,
            vmax=100,
            xticklabels=step,
            cbar_kws={"label": _("SKUs on promotion (%)")},
        )
    ax.tick_params(axis="x", labelrotation=45)
    for t in ax.get_xticklabels():
        t.set_horizontalalignment("right")
    return label(ax, title=translate(title), x=_("Week starting"), y="")


def elasticity_forest(
    table: pd.DataFrame,
    group: str = "category",
    method: str | None = "method",
    truth: dict[str, float] | None = None,
    ax: Axes | None = None,
    title: str = _("Own-price elasticity with 95% intervals"),
) -> Axes:
    """Estimates with intervals per group, one marker per method (and the truth if known).

    Parameters
    ----------
    table
        Rows with ``group``, ``elasticity``, ``ci_low``, ``ci_high`` (and ``method``).
    truth
        Optional ``{group: planted elasticity}`` drawn as black crosses.
    """
    ax = new_axes(ax)
    t = table.dropna(subset=["elasticity"]).copy()
    groups = sorted(t[group].astype(str).unique())
    methods = list(dict.fromkeys(t[method])) if method and method in t else [None]
    ypos = {g: i for i, g in enumerate(groups)}
    width = 0.6
    import seaborn as sns

    colors = sns.color_palette(n_colors=max(len(methods), 1))
    for k, m in enumerate(methods):
        sub = t if m is None else t[t[method] == m]
        off = (k - (len(methods) - 1) / 2) * (width / max(len(methods), 1))
        y = np.array([ypos[str(g)] for g in sub[group]]) + off
        ax.errorbar(
            sub["elasticity"],
            y,
            xerr=[sub["elasticity"] - sub["ci_low"], sub["ci_high"] - sub["elasticity"]],
            fmt="o",
            color=colors[k],
            capsize=3,
            label=translate(m) if m is not None else _("estimate"),
        )
    if truth:
        tx = [(truth[g], ypos[g]) for g in groups if g in truth]
        if tx:
            ax.scatter(
                [x for x, _y in tx],
                [y for _x, y in tx],
                marker="x",
                color="black",
                s=50,
                zorder=5,
                label=_("planted truth"),
            )
    ax.set_yticks(range(len(groups)), [translate(g) for g in groups])
    ax.invert_yaxis()
    ax.axvline(-1, color="0.6", lw=1, ls="--")
    ax.legend(loc="best")
    return label(
        ax, title=translate(title), x=_("Elasticity (% change in units per 1% price change)"), y=""
    )


def shrinkage(
    shrunk: pd.DataFrame,
    group: str = "category",
    ax: Axes | None = None,
    title: str = _("Per-SKU elasticities, raw and shrunk toward their category"),
) -> Axes:
    """Each SKU's raw estimate (hollow) and its empirical-Bayes shrunk value (filled).

    Parameters
    ----------
    shrunk
        :func:`shopbook.analysis.elasticity.shrink` output: ``group``, ``elasticity``,
        ``shrunk``, ``prior_mean``.
    """
    import seaborn as sns

    ax = new_axes(ax)
    d = shrunk.dropna(subset=["elasticity", "shrunk"])
    groups = sorted(d[group].astype(str).unique())
    colors = sns.color_palette(n_colors=2)
    rng = np.random.default_rng(0)  # fixed jitter: deterministic figures
    for i, g in enumerate(groups):
        sub = d[d[group].astype(str) == g]
        y = i + rng.uniform(-0.25, 0.25, len(sub))
        ax.hlines(y, sub["elasticity"], sub["shrunk"], color="0.75", lw=0.8)
        ax.scatter(
            sub["elasticity"],
            y,
            facecolors="none",
            edgecolors=colors[0],
            s=18,
            label=_("raw") if i == 0 else None,
        )
        ax.scatter(sub["shrunk"], y, color=colors[1], s=18, label=_("shrunk") if i == 0 else None)
        ax.vlines(
            sub["prior_mean"].iloc[0],
            i - 0.35,
            i + 0.35,
            color="black",
            lw=1.5,
            label=_("category mean") if i == 0 else "_nolegend_",
        )
    ax.set_yticks(range(len(groups)), [translate(g) for g in groups])
    ax.invert_yaxis()
    ax.legend(loc="best")
    return label(ax, title=translate(title), x=_("Elasticity"), y="")


def cross_price_heatmap(
    cross: CrossPrice,
    names: dict[Any, str] | None = None,
    ax: Axes | None = None,
    title: str = _("Cross-price elasticities (row: demand of; column: price of)"),
) -> Axes:
    """The elasticity matrix with its intervals written in each cell.

    Parameters
    ----------
    cross
        A :class:`shopbook.analysis.elasticity.CrossPrice`.
    names
        Optional display names per SKU.
    """
    import seaborn as sns

    ax = new_axes(ax)
    m = cross.matrix.astype(float)
    annot = m.copy().astype(object)
    for i in m.index:
        for j in m.columns:
            v, lo, hi = m.loc[i, j], cross.ci_low.loc[i, j], cross.ci_high.loc[i, j]
            annot.loc[i, j] = "–" if not np.isfinite(v) else f"{v:.2f}\n[{lo:.2f}, {hi:.2f}]"
    lim = float(np.nanmax(np.abs(m.to_numpy()))) if np.isfinite(m.to_numpy()).any() else 1.0
    labels = [str((names or {}).get(k, k)) for k in m.index]
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            m,
            annot=annot.to_numpy(),
            fmt="",
            cmap="vlag",
            center=0,
            vmin=-lim,
            vmax=lim,
            ax=ax,
            xticklabels=labels,
            yticklabels=labels,
            annot_kws={"fontsize": "small"},
            cbar_kws={"label": _("Elasticity")},
        )
    ax.tick_params(axis="x", labelrotation=30)
    for t in ax.get_xticklabels():
        t.set_horizontalalignment("right")
    return label(ax, title=translate(title), x=_("Price of"), y=_("Demand of"))


def price_curves(
    rec: PriceRecommendation,
    currency: str = "",
    ax: Axes | None = None,
    title: str = _("Revenue and gross profit against price (observed range only)"),
) -> Axes:
    """Revenue and gross-profit curves with their bands, the current and the best price.

    Parameters
    ----------
    rec
        A :class:`shopbook.analysis.elasticity.PriceRecommendation` that is ``ok()``; its
        ``curve`` spans only the observed price range.
    currency
        Unit for the price axis.
    """
    import seaborn as sns

    ax = new_axes(ax)
    c = rec.curve
    colors = sns.color_palette(n_colors=3)
    for name, col, k in (
        (_("Revenue"), "revenue_index", 0),
        (_("Gross profit"), "profit_index", 1),
    ):
        ax.plot(c["price"], 100 * c[col], color=colors[k], label=name)
        if f"{col}_low" in c:
            ax.fill_between(
                c["price"],
                100 * c[f"{col}_low"],
                100 * c[f"{col}_high"],
                color=colors[k],
                alpha=0.18,
            )
    ax.axvline(
        rec.current_price,
        color="0.4",
        ls=":",
        label=_("current {p:,.2f}").format(p=rec.current_price),
    )
    best = (
        _("best in range = current {p:,.2f}: keep it") if rec.keep else _("best in range {p:,.2f}")
    ).format(p=rec.price)
    ax.axvline(rec.price, color=colors[2], ls="--", label=best)
    if rec.price_range[0] != rec.price_range[1]:
        ax.axvspan(rec.price_range[0], rec.price_range[1], color=colors[2], alpha=0.08)
    ax.set_xlim(rec.bounds)
    ax.legend(loc="best", fontsize="small")
    return label(
        ax,
        title=translate(title),
        x=_("Price"),
        x_unit=currency or None,
        y=_("Per unit sold today, as % of today's revenue"),
        y_unit="%",
    )


def promo_depth(
    table: pd.DataFrame,
    ax: Axes | None = None,
    title: str = _("Units uplift by discount depth, and after a promotion"),
) -> Axes:
    """Uplift (``exp(coef) − 1``) per depth band and post-promotion period, with intervals.

    Parameters
    ----------
    table
        The ``table`` of :func:`shopbook.analysis.elasticity.promo_response`: ``term``,
        ``kind``, ``uplift``, ``uplift_low``, ``uplift_high``.
    """
    import seaborn as sns

    ax = new_axes(ax)
    t = table.reset_index(drop=True)
    colors = sns.color_palette(n_colors=2)
    col = [colors[0] if k == "depth" else colors[1] for k in t["kind"]]
    x = np.arange(len(t))
    ok = t["uplift"].notna().to_numpy()
    ax.bar(x[ok], 100 * t.loc[ok, "uplift"], color=[c for c, o in zip(col, ok, strict=True) if o])
    ax.errorbar(
        x[ok],
        100 * t.loc[ok, "uplift"],
        yerr=[
            100 * (t.loc[ok, "uplift"] - t.loc[ok, "uplift_low"]),
            100 * (t.loc[ok, "uplift_high"] - t.loc[ok, "uplift"]),
        ],
        fmt="none",
        color="black",
        capsize=3,
    )
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_xticks(x, [translate(str(v)) for v in t["term"]], rotation=20, ha="right")
    return label(ax, title=translate(title), x="", y=_("Units vs. a regular week"), y_unit="%")
