"""Every input of the KPI brief's table for a window and the window before it.

:func:`brief_kpis` is :func:`shopbook.features.sales.window_kpis` (sales, buyers, LTV
cohort, margin, spend, funnel, stock value) with what the operators' KPIs add:

* traffic — ``visitors`` (UV: distinct ``visitor_id``) and ``pageviews`` (PV) of the
  window's sessions, and ``paid`` (sessions whose order is a purchase; refunded and
  cancelled orders are not), from :func:`shopbook.features.funnel.funnel`;
* window to window — ``previous_buyers`` and ``retained`` from
  :func:`shopbook.features.customers.retention_by_window` (the counts behind churn).

:func:`month_to_date` gathers what the brief's monthly targets need: the same window
inputs for the month containing a day, up to that day, and the daily GMV, orders and new
customers of the history before it.

Nothing is redefined here: purchases, windows and GMV are those of
:mod:`shopbook.features.orders`; the KPIs themselves are computed from these counts by
:func:`shopbook.analysis.kpi.kpi_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shopbook.features import funnel as F
from shopbook.features.customers import retention_by_window
from shopbook.features.fetching import fetch
from shopbook.features.orders import PURCHASE_STATUSES, as_table, first_purchases, in_window
from shopbook.features.periods import Window, period_end, period_start, resolve_window
from shopbook.features.sales import fill_periods, kpis, window_kpis

#: Traffic columns :func:`brief_kpis` adds when sessions are given.
TRAFFIC_COLUMNS = (*F.TRAFFIC, F.PAID)


def brief_kpis(
    orders: Any,
    window: Window,
    *,
    order_items: Any = None,
    sessions: Any = None,
    marketing_spend: Any = None,
    inventory: Any = None,
    ltv_days: int = 365,
    cohort_days: int = 90,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """The KPI brief's inputs for a window and the window before it (in the engine).

    Parameters
    ----------
    orders, window, order_items, marketing_spend, inventory, ltv_days, cohort_days, statuses
        As in :func:`shopbook.features.sales.window_kpis`.
    sessions
        Contract ``sessions`` (``session_ts``, ``visitor_id``, ``pageviews``,
        ``product_views``, ``added_to_cart``, ``reached_checkout``, ``order_id``),
        optional: the funnel counts and traffic.

    Returns
    -------
    pandas.DataFrame
        :func:`~shopbook.features.sales.window_kpis`' frame (rows ``current``,
        ``previous``) with ``previous_buyers`` and ``retained`` (buyers of the window
        of the same length before each row's window, and those of them who bought in
        it) and, with sessions, ``visitors``, ``pageviews``, ``paid`` (ints).
    """
    # the sessions' funnel counted here, with the traffic and the paid sessions (one
    # query for both windows), rather than by window_kpis and again here
    out = window_kpis(
        orders,
        window,
        order_items=order_items,
        marketing_spend=marketing_spend,
        inventory=inventory,
        ltv_days=ltv_days,
        cohort_days=cohort_days,
        statuses=statuses,
    )
    windows = {str(name): (row["start"], row["end"]) for name, row in out.iterrows()}
    retention = retention_by_window(orders, windows, statuses)
    extra = [retention[["previous_buyers", "retained"]]]
    if sessions is not None:
        f = F.funnel_by_window(sessions, windows, orders=orders, statuses=statuses)
        # where window_kpis puts the funnel counts: before the stock columns
        columns = list(out.columns)
        at = next((i for i, c in enumerate(columns) if c.startswith("stock_")), len(columns))
        out = pd.concat([out.iloc[:, :at], f[list(F.COUNTS)], out.iloc[:, at:]], axis=1)
        extra.append(f[list(TRAFFIC_COLUMNS)])
    return out.join(extra)


@dataclass(frozen=True)
class MonthToDate:
    """A month's inputs up to a day (:func:`month_to_date`).

    Attributes
    ----------
    values
        :func:`~shopbook.features.sales.window_kpis`' frame whose ``current`` window is
        the month's first day to ``end`` (``previous``: as many days just before).
    daily
        ``period`` (day), ``gmv``, ``orders``, ``new_customers`` — every day of the
        ``history_days`` up to ``end`` (from the first sale on), days without sales as
        zeros.
    month_start, month_end, end
        The month and the last day counted.
    """

    values: pd.DataFrame
    daily: pd.DataFrame
    month_start: pd.Timestamp
    month_end: pd.Timestamp
    end: pd.Timestamp


def month_to_date(
    orders: Any,
    end: Any,
    *,
    order_items: Any = None,
    marketing_spend: Any = None,
    history_days: int = 730,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> MonthToDate:
    """The inputs of the month's targets: the month so far and the daily history (in the engine).

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    end
        The last day counted (a report window's end); the month is the one containing it.
    order_items, marketing_spend
        As in :func:`shopbook.features.sales.window_kpis` (margin; spend and CAC).
    history_days
        Days of daily history up to ``end`` (what a forecast of the rest of the month fits).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    MonthToDate
        ``values``, ``daily``, ``month_start``, ``month_end``, ``end``.
    """
    e = pd.Timestamp(end).normalize()
    m0 = period_start(e, "month")
    window = resolve_window(m0, e, None)
    values = window_kpis(
        orders, window, order_items=order_items, marketing_spend=marketing_spend, statuses=statuses
    )
    by_day = kpis(as_table(orders), "day", statuses=statuses)
    h0 = e - pd.Timedelta(days=history_days - 1)
    if len(by_day):  # the history starts with the first sale, not with days before the shop
        h0 = max(h0, pd.Timestamp(by_day["period"].min()))
    daily = fill_periods(by_day, "day", start=h0, end=e)
    daily = daily[(daily["period"] >= h0) & (daily["period"] <= e)]
    first = first_purchases(orders, statuses)
    first = first.filter(in_window(first.first_ts, h0, e))
    new = fetch(first.group_by("first_day").aggregate(new_customers=first.count()))
    new["period"] = pd.to_datetime(new["first_day"]).astype("datetime64[ns]")
    daily = daily[["period", "gmv", "orders"]].merge(
        new[["period", "new_customers"]], on="period", how="left"
    )
    daily["new_customers"] = daily["new_customers"].fillna(0).astype("int64")
    return MonthToDate(values, daily.reset_index(drop=True), m0, period_end(m0, "month"), e)


__all__ = ["TRAFFIC_COLUMNS", "MonthToDate", "brief_kpis", "month_to_date"]
