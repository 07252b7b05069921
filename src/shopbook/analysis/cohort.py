"""Acquisition cohorts: retention triangles, revenue, LTV curves, time to second purchase.

The aggregation runs in the engine (:mod:`shopbook.features.cohorts`); these functions
execute it and shape the small result. ``orders`` is contract ``orders`` as an ibis
table (e.g. ``validate(source).kept("orders")``) or a pandas DataFrame.

Censoring is explicit everywhere: a cohort cell whose period is not complete by the
``end`` of the data is ``NaN`` (not 0), and time to second purchase is estimated with
Kaplan–Meier so that recently acquired customers, who have not had time to come back,
do not bias the shares down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.features import cohorts as fc
from shopbook.features.customers import PURCHASE_STATUSES, last_purchase_day

__all__ = [
    "cohort_table",
    "retention_matrix",
    "revenue_matrix",
    "ltv_curves",
    "repurchase_rates",
    "retention_by_segment",
    "pooled_retention",
    "available_segments",
    "time_to_second_purchase",
    "SecondPurchase",
]


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


def cohort_table(
    orders: Any,
    period: str = "month",
    segments: Any = None,
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> pd.DataFrame:
    """Cohort × period activity as a long table, with censoring marked.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``amount``).
    period
        ``"month"`` or ``"week"``.
    segments
        Optional ``customer_id``, ``segment`` table (see
        :func:`shopbook.features.cohorts.acquisition_segments`).
    end
        Last day of data; default the last purchase day.
    statuses, amount
        Which orders count, and the money column.

    Returns
    -------
    pandas.DataFrame
        One row per cohort × period (× segment) from 0 to the last period of the data,
        including periods without activity: ``cohort`` (timestamp), ``period`` (int),
        [``segment``], ``customers`` (cohort size), ``active``, ``purchases``,
        ``orders``, ``revenue``, ``retention`` (active / customers),
        ``revenue_per_customer``, ``cum_revenue_per_customer`` and ``complete`` (the
        period ended on or before ``end``). Incomplete cells have NaN ratios.
    """
    act = fc.cohort_activity(orders, period, segments, statuses, amount).to_pandas()
    if act.empty:
        raise ValueError("no purchases in orders (after the status filter): no cohorts to show")
    end_day = pd.Timestamp(
        end if end is not None else last_purchase_day(orders, statuses)
    ).normalize()
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


def _label(cohorts: pd.Series | pd.Index, period: str) -> pd.Index:
    c = pd.DatetimeIndex(pd.to_datetime(cohorts))
    return pd.Index(
        c.strftime("%Y-%m") if period == "month" else c.strftime("%Y-%m-%d"), name="cohort"
    )


def _wide(table: pd.DataFrame, value: str, period: str) -> pd.DataFrame:
    m = table.pivot(index="cohort", columns="period", values=value)
    m.index = _label(m.index, period)
    m.columns.name = "period"
    return m


def retention_matrix(
    orders: Any,
    period: str = "month",
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """The retention triangle: share of each cohort active in period k after acquisition.

    Parameters
    ----------
    orders
        Contract ``orders`` (ibis table or DataFrame).
    period
        ``"month"`` or ``"week"``.
    end
        Last day of data; default the last purchase day. Periods not complete by then
        are NaN.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (``"YYYY-MM"`` or the week's Monday ``"YYYY-MM-DD"``), columns
        ``period`` 0, 1, 2, …; values in [0, 1] (period 0 is 1 by definition), NaN where
        not yet observed. ``.attrs["sizes"]`` holds the cohort sizes.
    """
    t = cohort_table(orders, period, end=end, statuses=statuses)
    m = _wide(t, "retention", period)
    sizes = t[t["period"] == 0].set_index("cohort")["customers"]
    sizes.index = m.index
    m.attrs["sizes"] = sizes
    m.attrs["period"] = period
    return m


def revenue_matrix(
    orders: Any,
    period: str = "month",
    per_customer: bool = False,
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> pd.DataFrame:
    """Revenue of each cohort in each period since acquisition (total or per acquired customer).

    Same shape and censoring as :func:`retention_matrix`; values in the orders' currency.
    """
    t = cohort_table(orders, period, end=end, statuses=statuses, amount=amount)
    if per_customer:
        return _wide(t, "revenue_per_customer", period)
    t = t.assign(revenue=np.where(t["complete"], t["revenue"], np.nan))
    return _wide(t, "revenue", period)


def ltv_curves(
    orders: Any,
    period: str = "month",
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> pd.DataFrame:
    """Cumulative revenue per acquired customer by cohort and period since acquisition.

    Returns
    -------
    pandas.DataFrame
        Wide, like :func:`retention_matrix`; a row is the observed (historical) LTV curve
        of one cohort, NaN beyond the last complete period.
    """
    t = cohort_table(orders, period, end=end, statuses=statuses, amount=amount)
    return _wide(t, "cum_revenue_per_customer", period)


def repurchase_rates(
    orders: Any,
    period: str = "month",
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Share of each cohort that came back on a later day (so far), plus the total.

    Recent cohorts have had less time to come back; read this with
    :func:`time_to_second_purchase`, which corrects for that.

    Returns
    -------
    pandas.DataFrame
        Index ``cohort`` (and ``"all"``), columns ``customers``, ``repeaters``,
        ``repurchase_rate``.
    """
    unit = fc._check_period(period)
    first = fc.first_purchases(orders, statuses)
    cohort = first.select("customer_id", segment=first.first_day.truncate(unit).cast("string"))
    df = fc.second_purchase_times(orders, end=end, segments=cohort, statuses=statuses).to_pandas()
    df["repeaters"] = np.where(df["repeated"], df["customers"], 0)
    out = df.groupby("segment")[["customers", "repeaters"]].sum()
    out.index = _label(out.index, period)
    out.index.name = "cohort"
    out.loc["all"] = out.sum()
    out["repurchase_rate"] = out["repeaters"] / out["customers"]
    return out.astype({"customers": "int64", "repeaters": "int64"})


def retention_by_segment(
    orders: Any,
    segments: Any,
    period: str = "month",
    periods: Sequence[int] = (1, 2, 3),
    end: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Pooled retention at a few periods after acquisition, per segment.

    For each segment and k, ``Σ active / Σ customers`` over the cohorts whose period k is
    complete (so every cell compares like with like).

    Returns
    -------
    pandas.DataFrame
        Index ``segment``; ``customers`` and one column ``period_k`` per k (share).
    """
    t = cohort_table(orders, period, segments=segments, end=end, statuses=statuses)
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
    summary
        ``customers``, ``repeaters``, ``median_gap_days`` (among repeaters),
        ``km_median_days`` (NaN when fewer than half ever come back), and
        ``share_within_<d>d`` (Kaplan–Meier) for each ``within``.
    """

    curve: pd.DataFrame
    gaps: pd.DataFrame
    summary: pd.Series


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
    orders: Any,
    end: Any = None,
    within: Sequence[int] = (7, 30),
    segments: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> SecondPurchase | dict[str, SecondPurchase]:
    """How long customers take to come back, censoring handled by Kaplan–Meier.

    Parameters
    ----------
    orders
        Contract ``orders``.
    end
        Last day observed; default the last purchase day.
    within
        Days at which to report the share that has come back (e.g. the day-7 coupon).
    segments
        Optional ``customer_id``, ``segment`` table; returns one result per segment.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    SecondPurchase
        Or ``{segment: SecondPurchase}`` with ``segments``.

    Notes
    -----
    A same-day second order is not a second purchase here (purchases are distinct days),
    so the smallest gap is 1 day. Kaplan–Meier by statsmodels (``SurvfuncRight`` with
    frequency weights over the distinct durations computed in the engine).
    """
    df = fc.second_purchase_times(orders, end=end, segments=segments, statuses=statuses).to_pandas()
    if df.empty:
        raise ValueError("no purchases in orders (after the status filter)")
    if segments is not None:
        return {
            str(seg): _second_purchase(g, within) for seg, g in df.groupby("segment", sort=True)
        }
    return _second_purchase(df, within)


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
    summary = {
        "customers": n,
        "repeaters": n_rep,
        "median_gap_days": median_gap,
        "km_median_days": km_median,
    }
    for d in within:
        summary[f"share_within_{d}d"] = _share_at(curve, d)
    return SecondPurchase(curve=curve, gaps=gaps, summary=pd.Series(summary))


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


def available_segments(
    orders: Any,
    customers: Any = None,
    columns: Sequence[str] = ("acquisition_channel", "region"),
) -> dict[str, Any]:
    """Segmentations worth splitting by: those with at least two known values.

    Parameters
    ----------
    orders
        Contract ``orders``.
    customers
        Contract ``customers`` or ``None`` (then only the first-order channel is tried).
    columns
        ``customers`` columns to try.

    Returns
    -------
    dict
        ``{name: customer_id/segment ibis table}``; names are ``"first-order channel"``
        and the ``customers`` column names. Empty when nothing varies (e.g. CDNOW: one
        channel, no customers table); a segmentation that labels every customer as an
        earlier one does is left out.
    """
    candidates = {"first-order channel": fc.acquisition_segments(orders)}
    if customers is not None:
        for col in columns:
            if col in customers.columns:
                candidates[col] = fc.acquisition_segments(orders, customers, by=col)
    out: dict[str, Any] = {}
    for name, seg in candidates.items():
        known = seg.filter(seg.segment != "(unknown)")
        if int(known.segment.nunique().execute()) < 2:
            continue
        if any(_same_labels(seg, other) for other in out.values()):
            continue  # e.g. acquisition_channel that is always the first order's channel
        out[name] = seg
    return out


def _same_labels(a: Any, b: Any) -> bool:
    """Whether two customer_id/segment tables give every customer the same label (in the engine)."""
    other = b.select(cid="customer_id", other="segment")
    j = a.join(other, a.customer_id == other.cid)
    return int(j.filter(j.segment != j.other).count().execute()) == 0
