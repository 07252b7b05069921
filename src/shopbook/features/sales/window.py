"""The KPI brief's window: its sales, buyers, LTV cohort, spend, funnel and stock value."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd

from shopbook.features import funnel as F
from shopbook.features import stock
from shopbook.features._engine import count_if
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
from shopbook.features.periods import (
    Window,
)
from shopbook.features.sales.margin import margin


def window_sales(
    orders: Any, start: Any, end: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES
) -> dict[str, Any]:
    """GMV, orders and the buyers of a window: active, new, returning and repeat buyers.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    start, end
        The window (days, inclusive).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    dict
        ``gmv`` (float), ``orders``, ``active`` (customers with a purchase in the
        window), ``new`` (customers whose first purchase ever is in it), ``returning``
        (``active - new``), ``repeaters`` (active customers with two or more purchases
        in it) — all ints.
    """
    o = as_table(orders)
    paid = purchases(o, statuses)
    paid = paid.filter(in_window(paid.order_ts, start, end))
    per = paid.group_by("customer_id").aggregate(
        n=paid.order_id.nunique(), gmv=money_sum(paid[GMV_AMOUNT])
    )
    row = (
        per.aggregate(
            active=per.count(),
            repeaters=count_if(per.n >= 2),
            orders=per.n.sum(),
            gmv=per.gmv.sum().cast("float64"),  # a sum of exact sums: exact
        )
        .execute()
        .iloc[0]
    )
    first = first_purchases(o, statuses)
    new = int(first.filter(in_window(first.first_ts, start, end)).count().execute())
    active = int(row["active"])
    return {
        "gmv": float(row["gmv"] or 0.0),
        "orders": int(row["orders"] or 0),
        "active": active,
        "new": new,
        "returning": active - new,
        "repeaters": int(row["repeaters"] or 0),
    }


def spend_total(marketing_spend: Any, start: Any, end: Any) -> float:
    """Marketing spend of all channels in a window (``date``, ``spend``); 0 without rows."""
    s = as_table(marketing_spend)
    total = money_sum(s.filter(in_window(s.date, start, end)).spend).cast("float64").execute()
    return float(total or 0.0)


def ltv(
    orders: Any,
    end: Any,
    ltv_days: int = 365,
    cohort_days: int = 90,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> dict[str, Any]:
    """Historical LTV of the latest cohort whose whole LTV horizon is observed by ``end``.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``net_amount``,
        ``channel``).
    end
        The last day observed.
    ltv_days
        LTV horizon: days after (and including) the first order.
    cohort_days
        Customers whose first purchase falls in the ``cohort_days`` ending ``ltv_days``
        before ``end`` form the cohort.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    dict
        ``ltv`` (mean net spend per customer, NaN without a cohort), ``customers``,
        ``cohort_start``, ``cohort_end``.
    """
    e = pd.Timestamp(end).normalize()
    c_end = e - pd.Timedelta(days=ltv_days)
    c_start = c_end - pd.Timedelta(days=cohort_days - 1)
    o = as_table(orders)
    first = first_purchases(o, statuses)
    cohort = first.filter(in_window(first.first_ts, c_start, c_end))
    paid = purchases(o, statuses)
    j = paid.inner_join(cohort, paid.customer_id == cohort.customer_id)
    horizon = j.first_ts.date().cast("timestamp") + ibis.interval(days=int(ltv_days))
    j = j.filter(j.order_ts < horizon)
    spend = float(gmv(j).execute() or 0.0)
    n = int(cohort.count().execute())
    return {
        "ltv": spend / n if n else np.nan,
        "customers": n,
        "cohort_start": c_start,
        "cohort_end": c_end,
    }


def _one_window(
    orders: Any,
    start: pd.Timestamp,
    end: pd.Timestamp,
    tables: dict[str, Any],
    ltv_days: int,
    cohort_days: int,
    statuses: Sequence[str] | None,
) -> dict[str, Any]:
    """Every input of the KPI table for one window (see :func:`window_kpis`)."""
    v: dict[str, Any] = dict(window_sales(orders, start, end, statuses))
    lt = ltv(orders, end, ltv_days, cohort_days, statuses)
    v.update(
        ltv=lt["ltv"],
        ltv_days=ltv_days,
        ltv_customers=lt["customers"],
        ltv_cohort_start=lt["cohort_start"],
        ltv_cohort_end=lt["cohort_end"],
    )
    items, sessions = tables.get("order_items"), tables.get("sessions")
    spend, inventory = tables.get("marketing_spend"), tables.get("inventory")
    if items is not None:
        m = margin(orders, items, start, end, statuses=statuses).iloc[0]
        for c in ("revenue", "revenue_costed", "cogs", "gross_profit", "margin", "uncosted_share"):
            v[c] = m[c]
    if spend is not None:
        v["spend"] = spend_total(spend, start, end)
    if sessions is not None:
        f = F.funnel(sessions, None, None, start=start, end=end)
        row = f.iloc[0] if len(f) else pd.Series(dict.fromkeys(F.COUNTS, 0))
        for c in F.COUNTS:
            v[c] = int(row[c])
    if inventory is not None and items is not None:
        st = stock.stock_value(inventory, items, start, end)
        v.update(stock_value=st["value"], stock_days=st["days"])
    return v


def window_kpis(
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
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    window
        The window and its previous window (:func:`shopbook.features.periods.resolve_window`).
    order_items
        Contract ``order_items`` (``unit_cost`` may be null): margin columns.
    sessions
        Contract ``sessions``: the funnel counts.
    marketing_spend
        Contract ``marketing_spend``: ``spend``.
    inventory
        Contract ``inventory`` (needs ``order_items`` for the unit cost): stock value.
    ltv_days, cohort_days
        See :func:`ltv`.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        Two rows, index ``window`` = ``current``, ``previous``, with the columns
        ``start``, ``end``, ``days``; :func:`window_sales`' ``gmv``, ``orders``,
        ``active``, ``new``, ``returning``, ``repeaters``; ``ltv``, ``ltv_days``,
        ``ltv_customers``, ``ltv_cohort_start``, ``ltv_cohort_end`` (:func:`ltv` at the
        window's end);
        with ``order_items`` :func:`margin`'s ``revenue``, ``revenue_costed``,
        ``cogs``, ``gross_profit``, ``margin``, ``uncosted_share``; with spend
        ``spend``; with sessions the funnel counts ``sessions``, ``product_view``,
        ``cart``, ``checkout``, ``order``; with inventory and order lines
        ``stock_value`` (mean daily stock value at unit cost) and ``stock_days``. A
        column is missing when its table is not given.
    """
    tables = dict(
        order_items=order_items,
        sessions=sessions,
        marketing_spend=marketing_spend,
        inventory=inventory,
    )
    rows = {}
    for name, (w0, w1) in (
        ("current", (window.start, window.end)),
        ("previous", (window.prev_start, window.prev_end)),
    ):
        values = _one_window(orders, w0, w1, tables, ltv_days, cohort_days, statuses)
        rows[name] = {"start": w0, "end": w1, "days": (w1 - w0).days + 1, **values}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("window")
