"""Figures of the cohort / LTV analysis (no computation beyond arranging what is drawn).

Every function takes the output of :mod:`shopbook.analysis.retention` or
:mod:`shopbook.analysis.clv`, draws on ``ax`` (or a new axes of the theme's size) and
returns the axes. Figures are titled and labelled with units; the shared theme is
applied by :func:`shopbook.notebook.setup` (:mod:`shopbook.viz.theme`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from shopbook.i18n import _
from shopbook.viz.theme import label, literal_context, new_axes

if TYPE_CHECKING:
    from shopbook.analysis.clv import SBGFit
    from shopbook.analysis.retention import SecondPurchase


def retention_heatmap(
    matrix: pd.DataFrame,
    ax: Axes | None = None,
    max_periods: int | None = 12,
    annotate: bool | None = None,
    title: str | None = None,
) -> Axes:
    """The retention triangle as a heatmap.

    Parameters
    ----------
    matrix
        :func:`shopbook.analysis.retention.retention_matrix` (cohorts × periods, shares);
        ``attrs["sizes"]`` (cohort sizes) and ``attrs["period"]`` are used when present.
    ax
        Axes to draw on.
    max_periods
        Show periods 0..``max_periods`` (period 0 is 100 % by definition and is dropped).
    annotate
        Write the percentages in the cells (default: when the grid is small).
    """
    import seaborn as sns

    period = _(matrix.attrs.get("period", "month"))
    m = matrix.drop(columns=[0], errors="ignore")
    if max_periods is not None:
        m = m.loc[:, [c for c in m.columns if c <= max_periods]]
    sizes = matrix.attrs.get("sizes")
    if sizes is not None:
        m = m.copy()
        m.index = [f"{c} (n={int(sizes.loc[c]):,})" for c in m.index]
    if annotate is None:
        annotate = m.shape[0] <= 30 and m.shape[1] <= 16
    ax = new_axes(ax, figsize=(8.0, max(3.0, 0.28 * len(m) + 1.5)))
    with literal_context(ax):  # seaborn draws the figure while it plots
        sns.heatmap(
            100 * m,
            ax=ax,
            cmap="Blues",
            annot=annotate,
            fmt=".0f",
            annot_kws={"fontsize": "x-small"},
            cbar_kws={"label": _("active (% of cohort)")},
            vmin=0,
            vmax=float(np.nanmax(100 * m.to_numpy())) if np.isfinite(m.to_numpy()).any() else 1,
        )
    return label(
        ax,
        title
        or _("Share of each cohort buying again, by {period}s since first purchase").format(
            period=period
        ),
        x=_("{period}s since first purchase").format(period=period),
        y=_("acquisition cohort"),
    )


def ltv_curves(
    curves: pd.DataFrame,
    ax: Axes | None = None,
    currency: str = "",
    max_cohorts: int = 12,
    title: str | None = None,
) -> Axes:
    """Cumulative revenue per acquired customer, one line per cohort.

    Parameters
    ----------
    curves
        :func:`shopbook.analysis.retention.ltv_curves` (cohorts × periods).
    currency
        Unit for the y axis label.
    max_cohorts
        Draw at most this many cohorts (evenly spaced, always the oldest and newest).
    """
    ax = new_axes(ax)
    idx = np.unique(
        np.linspace(0, len(curves) - 1, min(max_cohorts, len(curves))).round().astype(int)
    )
    import seaborn as sns

    colors = sns.color_palette("viridis", len(idx))
    for color, i in zip(colors, idx, strict=True):
        row = curves.iloc[i].dropna()
        ax.plot(row.index, row.to_numpy(), marker=".", color=color, label=str(curves.index[i]))
    ax.legend(title=_("cohort"), fontsize="small", ncol=2)
    return label(
        ax,
        title or _("Cumulative revenue per acquired customer (historical LTV)"),
        x=_("periods since first purchase"),
        y=_("revenue per customer"),
        y_unit=currency or None,
    )


def second_purchase_curve(
    result: SecondPurchase | Mapping[str, SecondPurchase],
    ax: Axes | None = None,
    marks: tuple[int, ...] = (7, 30),
    max_days: int | None = 365,
    title: str | None = None,
) -> Axes:
    """Kaplan–Meier share of customers who made a second purchase, by days since the first.

    Parameters
    ----------
    result
        :class:`shopbook.analysis.retention.SecondPurchase`, or a dict of them by segment.
    marks
        Days to mark with a vertical line and the share reached (e.g. the day-7 coupon).
    """
    ax = new_axes(ax)
    results = result if isinstance(result, Mapping) else {_("all customers"): result}
    for name, res in results.items():
        c = res.curve
        if max_days is not None:
            c = c[c["days"] <= max_days]
        ax.step(c["days"], 100 * c["share_repurchased"], where="post", label=_(str(name)))
        if len(results) == 1:
            ax.fill_between(c["days"], 100 * c["lower"], 100 * c["upper"], step="post", alpha=0.2)
    for d in marks:
        ax.axvline(d, color="0.5", lw=0.8, ls="--")
        if len(results) == 1:
            share = next(iter(results.values())).figures.get(f"share_within_{d}d")
            if share is not None and np.isfinite(share):
                ax.annotate(
                    _("day {d}: {share:.1f}%").format(d=d, share=100 * share),
                    xy=(d, 100 * share),
                    xytext=(4, 4),
                    textcoords="offset points",
                    fontsize="small",
                )
    if len(results) > 1:
        ax.legend(fontsize="small")
    return label(
        ax,
        title or _("Share of customers who came back for a second purchase"),
        x=_("days since first purchase"),
        y=_("came back"),
        y_unit="%",
    )


def holdout_by_frequency(
    table: pd.DataFrame, ax: Axes | None = None, unit: str = "purchases", title: str | None = None
) -> Axes:
    """Actual vs predicted holdout purchases per customer, by calibration frequency.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.clv.holdout_comparison` (the ``total`` row is left out).
    """
    ax = new_axes(ax)
    t = table.drop(index="total", errors="ignore")
    x = np.arange(len(t))
    ax.plot(x, t["actual"], marker="o", label="actual")
    ax.plot(x, t["predicted"], marker="s", ls="--", label="model")
    ax.set_xticks(x, list(t.index))
    ax.legend()
    return label(
        ax,
        title or _("Holdout purchases per customer: model vs actual"),
        x=_("repeat purchases in the calibration period"),
        y=_("mean holdout {unit}").format(unit=_(unit)),
    )


def tracking(
    track: pd.DataFrame, ax: Axes | None = None, cumulative: bool = True, title: str | None = None
) -> Axes:
    """Repeat purchases per period (or cumulative): actual vs model, holdout shaded.

    Parameters
    ----------
    track
        :func:`shopbook.analysis.clv.tracking`.
    cumulative
        Plot cumulative totals (else per period).
    """
    ax = new_axes(ax)
    a, e = ("actual_cum", "expected_cum") if cumulative else ("actual", "expected")
    ax.plot(track["period_start"], track[a], label=_("actual"))
    ax.plot(track["period_start"], track[e], ls="--", label="model")
    hold = track[track["holdout"]]
    if len(hold):
        ax.axvspan(
            hold["period_start"].iloc[0],
            track["period_start"].iloc[-1],
            color="0.9",
            zorder=0,
            label=_("holdout"),
        )
    ax.legend()
    ax.figure.autofmt_xdate()
    what = (
        _("Cumulative repeat purchases: model vs actual")
        if cumulative
        else _("Repeat purchases per period: model vs actual")
    )
    return label(ax, title or what, x=_("period"), y=_("repeat purchases"))


def prediction_errors(
    table: pd.DataFrame, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Holdout error by calibration-frequency group: (model − actual) per customer.

    Parameters
    ----------
    table
        :func:`shopbook.analysis.clv.holdout_comparison`.
    """
    ax = new_axes(ax)
    t = table.drop(index="total", errors="ignore")
    err = t["predicted"] - t["actual"]
    colors = ["tab:red" if v < 0 else "tab:blue" for v in err]
    ax.bar(list(t.index), err, color=colors)
    ax.axhline(0, color="0.3", lw=0.8)
    for i, (v, n) in enumerate(zip(err, t["customers"], strict=True)):
        ax.annotate(
            f"n={n:,}",
            xy=(i, v),
            xytext=(0, 3 if v >= 0 else -10),
            textcoords="offset points",
            ha="center",
            fontsize="x-small",
        )
    return label(
        ax,
        title or _("Model error per customer in the holdout (below 0: under-predicts)"),
        x=_("repeat purchases in the calibration period"),
        y=_("predicted − actual purchases"),
    )


def spend_vs_frequency(
    summary: pd.DataFrame, ax: Axes | None = None, currency: str = "", title: str | None = None
) -> Axes:
    """Mean repeat spend against repeat frequency (Gamma-Gamma's independence assumption).

    Parameters
    ----------
    summary
        ``frequency`` and ``monetary_value`` per customer; repeat buyers are drawn.
    """
    import seaborn as sns

    ax = new_axes(ax)
    rep = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    grouped = rep.assign(f=rep["frequency"].clip(upper=10))
    sns.boxplot(
        data=grouped,
        x="f",
        y="monetary_value",
        ax=ax,
        color="tab:blue",
        fliersize=1.5,
        native_scale=True,
    )
    ax.set_yscale("log")
    ax.set_xticks(range(1, 11), [str(i) for i in range(1, 10)] + ["10+"])
    return label(
        ax,
        title or _("Mean repeat spend by number of repeat purchases"),
        x=_("repeat purchases (calibration)"),
        y=_("mean spend per repeat purchase"),
        y_unit=currency or None,
    )


def value_distribution(
    values: pd.Series, ax: Axes | None = None, currency: str = "", title: str | None = None
) -> Axes:
    """Distribution of customer lifetime value (log-scaled x axis), with its share curve.

    Parameters
    ----------
    values
        CLV per customer (``customer_value(...)["clv"]``).
    """
    import seaborn as sns

    ax = new_axes(ax)
    v = pd.Series(values).astype(float)
    pos = v[v > 0]
    if len(pos):
        # The bulk of customers, not the few with a vanishing expectation, sets the x range.
        shown = pos[pos >= np.quantile(pos, 0.005)]
        sns.histplot(shown, bins=50, log_scale=True, ax=ax, color="tab:blue")
        q = np.quantile(pos, [0.5, 0.9])
        top = ax.get_ylim()[1]
        for (name, val), height in zip(
            zip((_("median"), _("90th pct")), q, strict=True), (0.92, 0.78), strict=True
        ):
            ax.axvline(val, color="0.3", ls="--", lw=0.8)
            ax.annotate(
                f"{name} {val:,.0f}",
                xy=(val, top * height),
                xytext=(3, 0),
                textcoords="offset points",
                fontsize="small",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8},
            )
    return label(
        ax,
        title or _("Model CLV per customer (discounted profit): how it is spread"),
        x=_("model CLV"),
        x_unit=currency or None,
        y=_("customers"),
    )


def value_by_segment(
    table: pd.DataFrame, ax: Axes | None = None, currency: str = "", title: str | None = None
) -> Axes:
    """Mean CLV per segment (horizontal bars), with customer counts.

    Parameters
    ----------
    table
        Index: segment; columns ``customers`` and ``mean_clv``.
    """
    ax = new_axes(ax)
    t = table.sort_values("mean_clv")
    ax.barh([str(i) for i in t.index], t["mean_clv"], color="tab:blue")
    for i, (v, n) in enumerate(zip(t["mean_clv"], t["customers"], strict=True)):
        ax.annotate(
            f"{v:,.0f}  (n={int(n):,})",
            xy=(v, i),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    return label(
        ax,
        title or _("Expected model CLV per customer by segment"),
        x=_("mean model CLV"),
        x_unit=currency or None,
        y=None,
    )


def survival_fit(
    survivors: Sequence[float] | np.ndarray,
    fit: SBGFit,
    ax: Axes | None = None,
    periods: int | None = None,
    title: str | None = None,
) -> Axes:
    """Observed survivors of a cohort and the sBG fit (and its projection).

    Parameters
    ----------
    survivors
        Counts at the start of periods 0, 1, … (the input of ``fit_sbg``).
    fit
        :class:`shopbook.analysis.clv.SBGFit`.
    periods
        Project up to this period (default twice the observed span).
    """
    ax = new_axes(ax)
    s = np.asarray(survivors, dtype=float)
    periods = periods or 2 * (len(s) - 1)
    proj = fit.projected_survivors(s[0], periods)
    ax.plot(np.arange(len(s)), 100 * s / s[0], marker="o", ls="", label=_("observed"))
    ax.plot(proj.index, 100 * proj / s[0], ls="--", label=_("sBG fit and projection"))
    ax.axvline(len(s) - 1, color="0.6", lw=0.8)
    ax.legend()
    return label(
        ax,
        title or _("Share of the cohort still subscribed"),
        x=_("period"),
        y=_("still active"),
        y_unit="%",
    )
