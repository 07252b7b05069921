"""The KPI brief's window: its sales, buyers, LTV cohort, spend, funnel and stock value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features import funnel as F
from shopbook.features import stock
from shopbook.features._engine import count_if
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    GMV_AMOUNT,
    PURCHASE_STATUSES,
    as_table,
    first_purchases,
    in_window,
    in_windows,
    money_sum,
    purchases,
    window_bounds,
)
from shopbook.features.periods import Window
from shopbook.features.sales.margin import margin_by_window


def sales_by_window(
    orders: Any,
    windows: Mapping[str, tuple[Any, Any]],
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """:func:`window_sales` of several windows, in one query.

    Parameters
    ----------
    orders, statuses
        As in :func:`window_sales`.
    windows
        ``{name: (start, end)}``: windows of whole days that do not overlap.

    Returns
    -------
    pandas.DataFrame
        Indexed by the window names (in the order given; index ``window``): ``gmv``
        (float), ``orders``, ``active``, ``new``, ``returning``, ``repeaters`` (ints; a
        window without purchases: zeros).
    """
    return _sales_frame(fetch(_sales_expr(orders, windows, statuses)), windows)


def _first_ts(orders: Any, statuses: Sequence[str] | None) -> ir.Table:
    """``customer_id``, ``first_ts``: the one first-purchase table both queries share."""
    return first_purchases(orders, statuses).select("customer_id", "first_ts")


def _sales_expr(
    orders: Any, windows: Mapping[str, tuple[Any, Any]], statuses: Sequence[str] | None
) -> ir.Table:
    """:func:`sales_by_window`'s aggregate: a row per window with purchases."""
    o = as_table(orders)
    paid = in_windows(purchases(o, statuses), "order_ts", windows)
    per = paid.group_by(["window", "customer_id"]).aggregate(
        n=paid.order_id.nunique(), gmv=money_sum(paid[GMV_AMOUNT])
    )
    # new: a buyer of a window whose first purchase ever is in it, i.e. not before its
    # start (in the same query as the buyers' counts)
    first = _first_ts(o, statuses)
    per = per.left_join(first, "customer_id").select(per, first_ts=first.first_ts)
    start = ibis.cases(
        *[(per.window == name, window_bounds(a, b)[0]) for name, (a, b) in windows.items()]
    )
    return per.group_by("window").aggregate(
        active=per.count(),
        repeaters=count_if(per.n >= 2),
        orders=per.n.sum(),
        gmv=per.gmv.sum().cast("float64"),  # a sum of exact sums: exact
        new=count_if(per.first_ts >= start),
    )


def _sales_frame(got: pd.DataFrame, windows: Mapping[str, Any]) -> pd.DataFrame:
    frame = got.set_index("window").reindex(list(windows))
    out = pd.DataFrame(index=frame.index)
    out["gmv"] = frame["gmv"].astype("float64").fillna(0.0)
    for c in ("orders", "active", "new", "repeaters"):
        out[c] = pd.to_numeric(frame[c]).fillna(0).astype("int64")
    out["returning"] = out["active"] - out["new"]
    return out[["gmv", "orders", "active", "new", "returning", "repeaters"]]


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
    row = sales_by_window(orders, {"window": (start, end)}, statuses).iloc[0]
    return {"gmv": float(row["gmv"]), **{c: int(row[c]) for c in row.index if c != "gmv"}}


def spend_total(marketing_spend: Any, start: Any, end: Any) -> float:
    """Marketing spend of all channels in a window (``date``, ``spend``); 0 without rows."""
    s = as_table(marketing_spend)
    total = money_sum(s.filter(in_window(s.date, start, end)).spend).cast("float64").execute()
    return float(total or 0.0)


def _cohort(end: Any, ltv_days: int, cohort_days: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first days of the LTV cohort of a window ending ``end`` (see :func:`ltv`)."""
    c_end = pd.Timestamp(end).normalize() - pd.Timedelta(days=ltv_days)
    return c_end - pd.Timedelta(days=cohort_days - 1), c_end


def ltv_by_window(
    orders: Any,
    ends: Mapping[str, Any],
    ltv_days: int = 365,
    cohort_days: int = 90,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """:func:`ltv` at several ends, in one query (the cohorts may overlap).

    Parameters
    ----------
    orders, ltv_days, cohort_days, statuses
        As in :func:`ltv`.
    ends
        ``{name: end}``: the last day observed of each.

    Returns
    -------
    pandas.DataFrame
        Indexed by the names (in the order given; index ``window``): ``ltv``,
        ``customers``, ``cohort_start``, ``cohort_end`` as in :func:`ltv`.
    """
    spans = {name: _cohort(end, ltv_days, cohort_days) for name, end in ends.items()}
    return _ltv_frame(fetch(_ltv_expr(orders, spans, ltv_days, statuses)), spans)


def _ltv_expr(
    orders: Any,
    spans: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]],
    ltv_days: int,
    statuses: Sequence[str] | None,
) -> ir.Table:
    """:func:`ltv_by_window`'s aggregate: cohort size ``n`` and ``spend`` per window."""
    o = as_table(orders)
    first = _first_ts(o, statuses)
    parts = [
        first.filter(in_window(first.first_ts, a, b)).mutate(window=ibis.literal(name))
        for name, (a, b) in spans.items()
    ]
    cohorts = parts[0] if len(parts) == 1 else ibis.union(*parts)
    # each member's spend in its first ltv_days days, once (a customer may be in two
    # cohorts), then summed per cohort: the same exact DECIMAL total as over the orders
    members = cohorts.select("customer_id", "first_ts").distinct()
    paid = purchases(o, statuses)
    j = paid.inner_join(members, "customer_id")
    horizon = j.first_ts.date().cast("timestamp") + ibis.interval(days=int(ltv_days))
    j = j.filter(j.order_ts < horizon)
    spend = j.group_by("customer_id").aggregate(spend=money_sum(j[GMV_AMOUNT]))
    c = cohorts.left_join(spend, "customer_id").select(cohorts.window, spend.spend)
    return c.group_by("window").aggregate(n=c.count(), spend=c.spend.sum().cast("float64"))


def _ltv_frame(
    got: pd.DataFrame, spans: Mapping[str, tuple[pd.Timestamp, pd.Timestamp]]
) -> pd.DataFrame:
    got = got.set_index("window").reindex(list(spans))
    n = pd.to_numeric(got["n"]).fillna(0).astype("int64")
    total = got["spend"].astype("float64").fillna(0.0)
    return pd.DataFrame(
        {
            "ltv": (total / n).where(n > 0),
            "customers": n,
            "cohort_start": [spans[k][0] for k in spans],
            "cohort_end": [spans[k][1] for k in spans],
        },
        index=got.index,
    )


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
    row = ltv_by_window(orders, {"window": end}, ltv_days, cohort_days, statuses).iloc[0]
    return {
        "ltv": float(row["ltv"]),
        "customers": int(row["customers"]),
        "cohort_start": row["cohort_start"],
        "cohort_end": row["cohort_end"],
    }


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
    # each part counts both windows in one query (they do not overlap: the previous one
    # ends the day before the window starts)
    windows = {
        "current": (window.start, window.end),
        "previous": (window.prev_start, window.prev_end),
    }
    out = pd.DataFrame(
        {
            "start": [a for a, _ in windows.values()],
            "end": [b for _, b in windows.values()],
            "days": window.days,  # the previous window is as long
        },
        index=pd.Index(list(windows), name="window"),
    )
    # the sales and the LTV cohorts in one query: they share the customers' first
    # purchases (a pass over every order, made once)
    spans = {name: _cohort(b, ltv_days, cohort_days) for name, (_, b) in windows.items()}
    sales = _sales_expr(orders, windows, statuses)
    cohort = _ltv_expr(orders, spans, ltv_days, statuses)
    both = sales.outer_join(cohort, "window")
    both = both.select(
        window=ibis.coalesce(sales.window, cohort.window),
        **{c: sales[c] for c in sales.columns if c != "window"},
        n=cohort.n,
        spend=cohort.spend,
    )
    got = fetch(both)  # a row per window with purchases or a cohort (the rest: zeros)
    out = out.join(_sales_frame(got, windows))
    lt = _ltv_frame(got, spans)
    out["ltv"] = lt["ltv"]
    out["ltv_days"] = ltv_days
    out["ltv_customers"] = lt["customers"]
    out["ltv_cohort_start"] = lt["cohort_start"]
    out["ltv_cohort_end"] = lt["cohort_end"]
    if order_items is not None:
        out = out.join(margin_by_window(orders, order_items, windows, statuses))
    if marketing_spend is not None:
        out["spend"] = [spend_total(marketing_spend, a, b) for a, b in windows.values()]
    if sessions is not None:
        out = out.join(F.funnel_by_window(sessions, windows)[list(F.COUNTS)])
    if inventory is not None and order_items is not None:
        st = [stock.stock_value(inventory, order_items, a, b) for a, b in windows.values()]
        out["stock_value"] = [x["value"] for x in st]
        out["stock_days"] = [x["days"] for x in st]
    return out
