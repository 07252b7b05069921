"""Channel budget features: daily spend and intake per channel, and the month's economics.

Everything aggregates in the engine and returns one row per day-channel (a few thousand
rows) or per month-channel:

* :func:`channel_days` — per day and channel: marketing ``spend``, ``new_customers``
  (customers whose **first purchase**, :func:`shopbook.features.orders.first_purchases`,
  falls on that day, by its channel — or by the customer's ``acquisition_channel`` when a
  ``customers`` table gives one), ``first_revenue`` (GMV of those first purchases),
  ``orders`` and ``gmv`` of every purchase. Channels with orders but no spend rows are
  kept with zero spend: they are the shop's **organic baseline**, the intake nobody paid
  for, which carries the days' common demand (festivals, weekdays, growth) that the
  response model of :mod:`shopbook.analysis.budget` separates from spend.
* :func:`monthly_economics` — the same per calendar month and channel, with gross profit
  from :func:`shopbook.features.sales.margin` when order lines are given: the inputs of
  the KPI brief's CAC, ROAS and ROI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd

from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    GMV_AMOUNT,
    PURCHASE_STATUSES,
    as_table,
    first_purchases,
    gmv,
    in_window,
    money_sum,
    purchases,
)
from shopbook.features.sales.margin import margin

__all__ = ["DAY_COLUMNS", "channel_days", "monthly_economics", "spend_span"]

#: The columns of :func:`channel_days`, in order.
DAY_COLUMNS = ("date", "channel", "spend", "new_customers", "first_revenue", "orders", "gmv")


def spend_span(marketing_spend: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The first and last day of the ``marketing_spend`` table (``None`` when it is empty)."""
    s = as_table(marketing_spend)
    row = s.aggregate(lo=s.date.min(), hi=s.date.max()).execute().iloc[0]
    if pd.isna(row["lo"]):
        return None
    return pd.Timestamp(row["lo"]).normalize(), pd.Timestamp(row["hi"]).normalize()


def channel_days(
    orders: Any,
    marketing_spend: Any,
    start: Any = None,
    end: Any = None,
    *,
    customers: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Spend, new paying customers, first-order revenue and sales per day and channel.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    marketing_spend
        Contract ``marketing_spend`` (``date``, ``channel``, ``spend``).
    start, end
        The days (inclusive); default: the first and last day of ``marketing_spend``.
    customers
        Contract ``customers`` (``customer_id``, ``acquisition_channel``), optional: a
        customer's new-customer channel is their ``acquisition_channel`` when it is set,
        else the channel of their first purchase.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        :data:`DAY_COLUMNS`: one row per day of the window and channel seen in spend or
        purchases (``date`` datetime64, ``channel`` str), ``spend`` (float, 0 on days
        without a spend row), ``new_customers`` and ``orders`` (int), ``first_revenue``
        and ``gmv`` (float). Sorted by channel and date.

    Raises
    ------
    ValueError
        When the window is empty (no spend rows and no ``start``/``end``).
    """
    s = as_table(marketing_spend)
    if start is None or end is None:
        span = spend_span(s)
        if span is None:
            raise ValueError("marketing_spend has no rows: give start and end")
        start = span[0] if start is None else start
        end = span[1] if end is None else end
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    s = s.filter(in_window(s.date, lo, hi))
    spend = fetch(
        s.group_by(date=s.date.cast("date"), channel=s.channel).aggregate(
            spend=s.spend.cast("float64").sum()
        )
    )
    o = as_table(orders)
    paid = purchases(o, statuses)
    paid = paid.filter(in_window(paid.order_ts, lo, hi))
    sales = fetch(
        paid.group_by(date=paid.order_ts.cast("timestamp").date(), channel=paid.channel).aggregate(
            orders=paid.order_id.nunique(), gmv=gmv(paid)
        )
    )
    new = _first_orders(o, lo, hi, customers, statuses)
    frames = [f.assign(date=pd.to_datetime(f["date"])) for f in (spend, sales, new)]
    channels = sorted(set().union(*(set(f["channel"].dropna().astype(str)) for f in frames)))
    grid = pd.MultiIndex.from_product(
        [channels, pd.date_range(lo, hi, freq="D")], names=["channel", "date"]
    )
    out = pd.DataFrame(index=grid)
    for f in frames:
        f = f.dropna(subset=["channel"]).astype({"channel": str})
        out = out.join(f.set_index(["channel", "date"]), how="left")
    out = out.reset_index()
    for c in ("spend", "first_revenue", "gmv"):
        out[c] = out[c].astype("float64").fillna(0.0)
    for c in ("new_customers", "orders"):
        out[c] = out[c].fillna(0).astype("int64")
    return out[list(DAY_COLUMNS)].sort_values(["channel", "date"], ignore_index=True)


def _first_orders(
    o: Any, lo: pd.Timestamp, hi: pd.Timestamp, customers: Any, statuses: Sequence[str] | None
) -> pd.DataFrame:
    """New customers and the GMV of their first purchases per day and channel."""
    first = first_purchases(o, statuses)
    first = first.filter(in_window(first.first_ts, lo, hi))
    channel = first.first_channel
    if customers is not None:
        c = as_table(customers)
        if "acquisition_channel" in c.columns:
            c = c.select(cid=c.customer_id, acq=c.acquisition_channel)
            first = first.left_join(c, first.customer_id == c.cid)
            channel = ibis.coalesce(first.acq, first.first_channel)
    first = first.mutate(new_channel=channel)
    paid = purchases(o, statuses)
    on = (paid.customer_id == first.customer_id) & (
        paid.order_ts.cast("timestamp") == first.first_ts
    )
    j = first.inner_join(paid, on)
    # DECIMAL until the daily total: a float sum of the customers' sums would depend on the
    # engine's thread order in its last digits (and 08's optimiser would carry them on)
    per = j.group_by(customer_id=j.customer_id, day=j.first_day, channel=j.new_channel).aggregate(
        revenue=money_sum(j[GMV_AMOUNT])
    )
    return fetch(
        per.group_by(date=per.day, channel=per.channel).aggregate(
            new_customers=per.count(), first_revenue=per.revenue.sum().cast("float64")
        )
    )


def monthly_economics(
    days: pd.DataFrame,
    orders: Any = None,
    order_items: Any = None,
    *,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Spend, sales, new customers and (with order lines) gross profit per month and channel.

    Parameters
    ----------
    days
        :func:`channel_days` output (``date``, ``channel``, ``spend``, ``new_customers``,
        ``first_revenue``, ``orders``, ``gmv``): its days are the window.
    orders, order_items
        Contract ``orders`` and ``order_items`` (``order_id``, ``quantity``,
        ``unit_price``, ``unit_cost``), optional: with both, gross profit per month and
        channel by :func:`shopbook.features.sales.margin` (one query).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        ``month`` (its first day, datetime64), ``channel``, ``days`` (days of the month in
        the window), ``spend``, ``new_customers``, ``first_revenue``, ``orders``, ``gmv``;
        with lines ``revenue_costed``, ``cogs``, ``gross_profit``, ``uncosted_share``.
    """
    d = days.assign(month=days["date"].dt.to_period("M").dt.to_timestamp())
    out = (
        d.groupby(["month", "channel"], as_index=False)
        .agg(
            days=("date", "nunique"),
            spend=("spend", "sum"),
            new_customers=("new_customers", "sum"),
            first_revenue=("first_revenue", "sum"),
            orders=("orders", "sum"),
            gmv=("gmv", "sum"),
        )
        .sort_values(["month", "channel"], ignore_index=True)
    )
    if orders is None or order_items is None or d.empty:
        return out
    o = as_table(orders)
    # margin() groups by one order column: the channel and month, joined by a separator
    key = o.channel.cast("string") + _SEP + o.order_ts.cast("timestamp").strftime("%Y-%m-01")
    m = margin(
        o.mutate(channel=key), order_items, d["date"].min(), d["date"].max(), "channel", statuses
    )
    parts = m["channel"].str.split(_SEP, n=1, expand=True)
    m = m.assign(channel=parts[0], month=pd.to_datetime(parts[1]))
    cols = ["month", "channel", "revenue_costed", "cogs", "gross_profit", "uncosted_share"]
    return out.merge(m[cols], on=["month", "channel"], how="left")


_SEP = "\x1f"
