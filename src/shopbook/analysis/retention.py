"""Retention of acquisition cohorts: triangles, revenue, LTV curves, time to second purchase.

The aggregation runs in the engine (:mod:`shopbook.features.cohorts`); these functions
shape the small frames it brings back:

* :func:`cohort_table` — cohort × period activity (from
  :func:`shopbook.features.cohorts.cohort_activity`) with censoring marked; then
  :func:`retention_matrix`, :func:`revenue_matrix`, :func:`ltv_curves`,
  :func:`pooled_retention` and :func:`retention_by_segment` read that table;
* :func:`repurchase_rates` and :func:`time_to_second_purchase` read the counts of
  :func:`shopbook.features.cohorts.second_purchase_times`.

Censoring is explicit everywhere: a cohort cell whose period is not complete by the
``end`` of the data is ``NaN`` (not 0), and time to second purchase is estimated with
Kaplan–Meier so that recently acquired customers, who have not had time to come back,
do not bias the shares down.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.features.cohorts import COHORT_PERIODS
from shopbook.features.periods import normalise_period

__all__ = [
    "SecondPurchase",
    "cohort_labels",
    "cohort_table",
    "ltv_curves",
    "pooled_retention",
    "repurchase_rates",
    "retention_by_segment",
    "retention_matrix",
    "revenue_matrix",
    "second_purchase_shares",
    "time_to_second_purchase",
]


def _check_period(period: str) -> str:
    return normalise_period(period, COHORT_PERIODS)


def _period_end(start: pd.Series, k: pd.Series, period: str) -> pd.Series:
    """Last day of period ``k`` of cohorts starting at ``start``."""
    if period == "month":
        first = pd.to_datetime(
            {
                "year": start.dt.year + (start.dt.month - 1 + k + 1) // 12,
                "month": (start.dt.month - 1 + k + 1) % 12 + 1,
                "day": 1,
            }
        )
        return first - pd.Timedelta(days=1)
    return start + pd.to_timedelta(7 * (k + 1) - 1, unit="D")


def cohort_table(activity: pd.DataFrame, end: Any, period: str = "month") -> pd.DataFrame:
    """Cohort × period activity as a long table, with censoring marked.

    Parameters
    ----------
    activity
        :func:`shopbook.features.cohorts.cohort_activity` executed: ``cohort`` (period
        start), ``period`` (int), [``segment``], ``active``, ``purchases``, ``orders``,
        ``revenue``.
    end
        Last day of data (e.g. the last purchase day,
        :func:`shopbook.features.orders.order_span`).
    period
        The cohorts' period, ``"month"`` or ``"week"``, as ``activity`` was built.

    Returns
    -------
    pandas.DataFrame
        One row per cohort × period (× segment) from 0 to the last period of the data,
        including periods without activity: ``cohort`` (timestamp), ``period`` (int),
        [``segment``], ``customers`` (cohort size), ``active``, ``purchases``,
        ``orders``, ``revenue``, ``retention`` (active / customers),
        ``revenue_per_customer``, ``cum_revenue_per_customer`` and ``complete`` (the
        period ended on or before ``end``). Incomplete cells have NaN ratios.

    Raises
    ------
    ValueError
        When ``activity`` is empty (no purchases) or ``period`` is unknown.
    """
    period = _check_period(period)
    if activity.empty:
        raise ValueError("no purchases in orders (after the status filter): no cohorts to show")
    act = activity.copy()
    end_day = pd.Timestamp(end).normalize()
    act["cohort"] = pd.to_datetime(act["cohort"])
    keys = ["cohort"] + (["segment"] if "segment" in act.columns else [])
    sizes = act[act["period"] == 0].set_index(keys)["active"].rename("customers")
    # Full grid: every period from 0 to the one containing end_day.
    rows = []
    for key, size in sizes.items():
        cohort = key[0] if isinstance(key, tuple) else key
        if period == "month":
            last_k = (end_day.year * 12 + end_day.month) - (cohort.year * 12 + cohort.month)
        else:
            last_k = (end_day - cohort).days // 7
        ks = np.arange(0, max(last_k, 0) + 1)
        frame = pd.DataFrame({"period": ks})
        for name, value in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
            frame[name] = value
        frame["customers"] = size
        rows.append(frame)
    grid = pd.concat(rows, ignore_index=True)
    out = grid.merge(act, on=keys + ["period"], how="left")
    for c in ("active", "purchases", "orders"):
        out[c] = out[c].fillna(0).astype("int64")
    out["revenue"] = out["revenue"].fillna(0.0).astype("float64")
    out["complete"] = _period_end(out["cohort"], out["period"], period) <= end_day
    ok = out["complete"]
    out["retention"] = np.where(ok, out["active"] / out["customers"], np.nan)
    out["revenue_per_customer"] = np.where(ok, out["revenue"] / out["customers"], np.nan)
    out = out.sort_values(keys + ["period"]).reset_index(drop=True)
    cum = out.groupby(keys)["revenue"].cumsum() / out["customers"]
    out["cum_revenue_per_customer"] = np.where(ok, cum, np.nan)
    cols = keys + [
        "period",
        "customers",
        "active",
        "purchases",
        "orders",
        "revenue",
        "retention",
        "revenue_per_customer",
        "cum_revenue_per_customer",
        "complete",
    ]
    return out[cols]


def cohort_labels(days: Any, period: str = "month") -> pd.Index:
    """The cohort label of each day: ``"YYYY-MM"`` for months, the week's Monday
    ``"YYYY-MM-DD"`` for weeks.

    Parameters
    ----------
    days
        Dates (cohort starts, or any day: it is labelled with the period it falls in).
    period
        ``"month"`` or ``"week"``.

    Returns
    -------
    pandas.Index
        Strings, named ``cohort``, in the order of ``days``.
    """
    c = pd.DatetimeIndex(pd.to_datetime(days)).normalize()
    if _check_period(period) == "month":
        return pd.Index(c.strftime("%Y-%m"), name="cohort")
    monday = c - pd.to_timedelta(c.dayofweek, unit="D")
    return pd.Index(monday.strftime("%Y-%m-%d"), name="cohort")


def _wide(table: pd.DataFrame, value: str, period: str) -> pd.DataFrame:
    m = table.pivot(index="cohort", columns="period", values=value)
    m.index = cohort_labels(m.index, period)
    m.columns.name = "period"
    return m


def retention_matrix(table: pd.DataFrame, period: str = "month") -> pd.DataFrame:
    """The retention triangle: share of each cohort active in period k after acquisition.

    Parameters
    ----------
    table
        :func:`cohort_table` output (without segments).
    period
        The cohorts' period, ``"month"`` or ``"week"``.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (``"YYYY-MM"`` or the week's Monday ``"YYYY-MM-DD"``), columns
        ``period`` 0, 1, 2, …; values in [0, 1] (period 0 is 1 by definition), NaN where
        not yet observed. ``.attrs["sizes"]`` holds the cohort sizes and
        ``.attrs["period"]`` the period (read by :func:`shopbook.viz.cohort.retention_heatmap`).
    """
    period = _check_period(period)
    m = _wide(table, "retention", period)
    sizes = table[table["period"] == 0].set_index("cohort")["customers"]
    sizes.index = m.index
    m.attrs["sizes"] = sizes
    m.attrs["period"] = period
    return m


def revenue_matrix(
    table: pd.DataFrame, period: str = "month", per_customer: bool = False
) -> pd.DataFrame:
    """Revenue of each cohort in each period since acquisition (total or per acquired customer).

    ``table`` is :func:`cohort_table` output; same shape and censoring as
    :func:`retention_matrix`; values in the orders' currency.
    """
    if per_customer:
        return _wide(table, "revenue_per_customer", period)
    t = table.assign(revenue=np.where(table["complete"], table["revenue"], np.nan))
    return _wide(t, "revenue", period)


def ltv_curves(table: pd.DataFrame, period: str = "month") -> pd.DataFrame:
    """Cumulative revenue per acquired customer by cohort and period since acquisition.

    Parameters
    ----------
    table
        :func:`cohort_table` output.
    period
        The cohorts' period.

    Returns
    -------
    pandas.DataFrame
        Wide, like :func:`retention_matrix`; a row is the observed (historical) LTV curve
        of one cohort, NaN beyond the last complete period.
    """
    return _wide(table, "cum_revenue_per_customer", period)


def repurchase_rates(times: pd.DataFrame, period: str = "month") -> pd.DataFrame:
    """Share of each cohort that came back on a later day (so far), plus the total.

    Recent cohorts have had less time to come back; read this with
    :func:`time_to_second_purchase`, which corrects for that.

    Parameters
    ----------
    times
        :func:`shopbook.features.cohorts.second_purchase_times` executed with
        ``segments=cohort_segments(orders, period)``: ``days``, ``repeated``,
        ``segment`` (the cohort start), ``customers``.
    period
        The cohorts' period.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (and ``"all"``), columns ``customers``, ``repeaters``,
        ``repurchase_rate``.
    """
    df = times.copy()
    df["repeaters"] = np.where(df["repeated"], df["customers"], 0)
    out = df.groupby("segment")[["customers", "repeaters"]].sum()
    out.index = cohort_labels(out.index, period)
    out.index.name = "cohort"
    out.loc["all"] = out.sum()
    out["repurchase_rate"] = out["repeaters"] / out["customers"]
    return out.astype({"customers": "int64", "repeaters": "int64"})


def retention_by_segment(table: pd.DataFrame, periods: Sequence[int] = (1, 2, 3)) -> pd.DataFrame:
    """Pooled retention at a few periods after acquisition, per segment.

    For each segment and k, ``Σ active / Σ customers`` over the cohorts whose period k is
    complete (so every cell compares like with like).

    Parameters
    ----------
    table
        :func:`cohort_table` of an activity split by segment (``segment`` column).
    periods
        The k to report.

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; ``customers`` and one column ``period_k`` per k (share).
    """
    if "segment" not in table.columns:
        raise ValueError("the cohort table has no segment column: build it with segments=")
    t = table
    sizes = t[t["period"] == 0].groupby("segment")["customers"].sum()
    out = pd.DataFrame({"customers": sizes})
    for k in periods:
        cell = (
            t[(t["period"] == k) & t["complete"]].groupby("segment")[["active", "customers"]].sum()
        )
        out[f"period_{k}"] = cell["active"] / cell["customers"]
    return out.sort_values("customers", ascending=False)


@dataclass
class SecondPurchase:
    """Time from first to second purchase day.

    Attributes
    ----------
    curve
        Kaplan–Meier estimate: ``days`` and ``share_repurchased`` (1 − S(days)), with
        pointwise 95% bounds ``lower``, ``upper``.
    gaps
        Observed gaps of customers who came back: ``days``, ``customers``.
    figures
        ``customers``, ``repeaters``, ``median_gap_days`` (among repeaters),
        ``km_median_days`` (NaN when fewer than half ever come back), and
        ``share_within_<d>d`` (Kaplan–Meier) for each ``within``.
    """

    curve: pd.DataFrame
    gaps: pd.DataFrame
    figures: pd.Series


def _km(days: np.ndarray, event: np.ndarray, weights: np.ndarray) -> pd.DataFrame:
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(days, event.astype(int), freq_weights=weights)
    share = 1 - sf.surv_prob
    half = 1.959964 * sf.surv_prob_se  # Greenwood standard errors
    return pd.DataFrame(
        {
            "days": sf.surv_times,
            "share_repurchased": share,
            "lower": np.clip(share - half, 0, 1),
            "upper": np.clip(share + half, 0, 1),
        }
    )


def _share_at(curve: pd.DataFrame, d: float) -> float:
    before = curve[curve["days"] <= d]
    return float(before["share_repurchased"].iloc[-1]) if len(before) else 0.0


def time_to_second_purchase(
    times: pd.DataFrame, within: Sequence[int] = (7, 30)
) -> SecondPurchase | dict[str, SecondPurchase]:
    """How long customers take to come back, censoring handled by Kaplan–Meier.

    Parameters
    ----------
    times
        :func:`shopbook.features.cohorts.second_purchase_times` executed: ``days``,
        ``repeated``, [``segment``], ``customers``.
    within
        Days at which to report the share that has come back (e.g. the day-7 coupon).

    Returns
    -------
    SecondPurchase
        Or ``{segment: SecondPurchase}`` when ``times`` has a ``segment`` column.

    Raises
    ------
    ValueError
        When ``times`` is empty (no purchases).

    Notes
    -----
    A same-day second order is not a second purchase here (purchases are distinct days),
    so the smallest gap is 1 day. Kaplan–Meier by statsmodels (``SurvfuncRight`` with
    frequency weights over the distinct durations computed in the engine).
    """
    if times.empty:
        raise ValueError("no purchases in orders (after the status filter)")
    if "segment" in times.columns:
        return {
            str(seg): _second_purchase(g, within) for seg, g in times.groupby("segment", sort=True)
        }
    return _second_purchase(times, within)


def _second_purchase(df: pd.DataFrame, within: Sequence[int]) -> SecondPurchase:
    df = df.groupby(["days", "repeated"], as_index=False)["customers"].sum().sort_values("days")
    rep = df[df["repeated"]]
    n = int(df["customers"].sum())
    n_rep = int(rep["customers"].sum())
    gaps = rep[["days", "customers"]].reset_index(drop=True)
    if n_rep:
        curve = _km(
            df["days"].to_numpy(float),
            df["repeated"].to_numpy(bool),
            df["customers"].to_numpy(float),
        )
        cum = np.cumsum(rep["customers"].to_numpy())
        median_gap = float(rep["days"].to_numpy()[np.searchsorted(cum, n_rep / 2)])
        reach = curve[curve["share_repurchased"] >= 0.5]
        km_median = float(reach["days"].iloc[0]) if len(reach) else float("nan")
    else:
        curve = pd.DataFrame(
            {"days": [0.0], "share_repurchased": [0.0], "lower": [0.0], "upper": [0.0]}
        )
        median_gap = km_median = float("nan")
    figures = {
        "customers": n,
        "repeaters": n_rep,
        "median_gap_days": median_gap,
        "km_median_days": km_median,
    }
    for d in within:
        figures[f"share_within_{d}d"] = _share_at(curve, d)
    return SecondPurchase(curve=curve, gaps=gaps, figures=pd.Series(figures))


def pooled_retention(table: pd.DataFrame, periods: Sequence[int] = (1, 2, 3)) -> pd.Series:
    """Share of acquired customers active k periods later, pooled over complete cohorts.

    Parameters
    ----------
    table
        :func:`cohort_table` output.
    periods
        The k to report.

    Returns
    -------
    pandas.Series
        Index ``k``; ``Σ active / Σ customers`` over the cohorts whose period k is
        complete (NaN when none is).
    """
    out = {}
    for k in periods:
        cell = table[(table["period"] == k) & table["complete"]]
        out[k] = cell["active"].sum() / cell["customers"].sum() if len(cell) else np.nan
    return pd.Series(out, name="retention").rename_axis("period")


def second_purchase_shares(
    results: Mapping[str, SecondPurchase], within: Sequence[int] = (7, 30)
) -> pd.DataFrame:
    """The shares that came back within ``within`` days, one row per segment.

    Parameters
    ----------
    results
        :func:`time_to_second_purchase` by segment (computed with these ``within``).
    within
        The days reported.

    Returns
    -------
    pandas.DataFrame
        Index: the segments; columns ``share_within_<d>d``.
    """
    table = pd.DataFrame({k: v.figures for k, v in results.items()}).T
    return table[[f"share_within_{d}d" for d in within]]
