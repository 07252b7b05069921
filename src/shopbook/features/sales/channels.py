"""Sales, new customers, spend, gross profit, traffic and the session funnel per channel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from shopbook.features import funnel as F
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    PURCHASE_STATUSES,
    as_table,
    first_purchases,
    gmv,
    in_window,
    money_sum,
    purchases,
)
from shopbook.features.periods import (
    Window,
)
from shopbook.features.sales.margin import margin


def channel_economics(
    orders: Any,
    start: Any,
    end: Any,
    *,
    marketing_spend: Any = None,
    order_items: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Sales, new customers, marketing spend (and gross profit) per channel in a window.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    start, end
        The window (days, inclusive).
    marketing_spend
        Contract ``marketing_spend`` (``date``, ``channel``, ``spend``,
        ``impressions``, ``clicks``), optional.
    order_items
        Contract ``order_items``, optional: adds the :func:`margin` columns per channel.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        One row per channel seen in orders or spend: ``channel``, ``orders``, ``gmv``,
        ``customers`` (distinct buyers), ``new_customers``; with spend ``spend``,
        ``impressions``, ``clicks`` (0 for channels without spend rows); with lines
        ``revenue_costed``, ``cogs``, ``gross_profit``, ``uncosted_share``.
    """
    o = as_table(orders)
    paid = purchases(o, statuses)
    paid = paid.filter(in_window(paid.order_ts, start, end))
    sales = fetch(
        paid.group_by("channel").aggregate(
            orders=paid.order_id.nunique(),
            gmv=gmv(paid),
            customers=paid.customer_id.nunique(),
        )
    )
    first = first_purchases(o, statuses)
    first = first.filter(in_window(first.first_ts, start, end))
    new = fetch(first.group_by(channel=first.first_channel).aggregate(new_customers=first.count()))
    out = sales.merge(new, on="channel", how="outer")
    if marketing_spend is not None:
        s = as_table(marketing_spend)
        s = s.filter(in_window(s.date, start, end))
        aggs = {"spend": money_sum(s.spend).cast("float64")}
        for c in ("impressions", "clicks"):
            if c in s.columns:
                aggs[c] = s[c].cast("float64").sum()
        sp = fetch(s.group_by("channel").aggregate(**aggs))
        out = out.merge(sp, on="channel", how="outer")
    if order_items is not None:
        m = margin(o, order_items, start, end, by="channel", statuses=statuses)
        out = out.merge(
            m[["channel", "revenue_costed", "cogs", "gross_profit", "uncosted_share"]],
            on="channel",
            how="left",
        )
    for c in ("orders", "customers", "new_customers"):
        out[c] = out[c].fillna(0).astype("int64")
    for c in ("gmv", "spend", "impressions", "clicks"):
        if c in out:
            out[c] = out[c].astype("float64").fillna(0.0)
    return out.sort_values("channel", ignore_index=True)


def channel_kpis(
    orders: Any,
    window: Window,
    *,
    sessions: Any = None,
    marketing_spend: Any = None,
    order_items: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """:func:`channel_economics` of the window with each channel's session funnel.

    Parameters
    ----------
    orders, marketing_spend, order_items, statuses
        As in :func:`channel_economics`.
    window
        The window (its previous window is not used).
    sessions
        Contract ``sessions``, optional: adds the funnel counts and traffic per channel.

    Returns
    -------
    pandas.DataFrame
        :func:`channel_economics`' columns and, with sessions, ``sessions``,
        ``product_view``, ``cart``, ``checkout``, ``order`` (sessions with an order of
        any status), ``paid`` (sessions whose order is a purchase), ``visitors`` (UV of
        the channel) and ``pageviews`` (PV) — ints; 0 for a channel without sessions,
        and the sales columns 0 for a channel with sessions only.
    """
    out = channel_economics(
        orders,
        window.start,
        window.end,
        marketing_spend=marketing_spend,
        order_items=order_items,
        statuses=statuses,
    )
    if sessions is not None:
        fun = F.funnel(
            sessions,
            None,
            "channel",
            start=window.start,
            end=window.end,
            orders=orders,
            statuses=statuses,
        )
        out = out.merge(fun, on="channel", how="outer")
        for c in (*F.COUNTS, *F.TRAFFIC, F.PAID, "orders", "customers", "new_customers"):
            out[c] = out[c].fillna(0).astype("int64")
        out["gmv"] = out["gmv"].fillna(0.0)
    return out
