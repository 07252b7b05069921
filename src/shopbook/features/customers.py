"""Customer-level aggregates, built as ibis expressions that run in the engine.

Every function takes the contract ``orders`` table (an ibis table, e.g.
``validate(source).kept("orders")``, or a pandas DataFrame for small inputs) and returns
an **ibis expression** with one row per customer (or fewer); nothing is executed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd

#: Statuses that count as purchases by default.
PURCHASE_STATUSES: tuple[str, ...] = ("paid",)


def as_table(orders: Any) -> ibis.Table:
    """An ibis table for ``orders`` (ibis tables pass through; DataFrames become memtables)."""
    if isinstance(orders, ibis.Table):
        return orders
    if isinstance(orders, pd.DataFrame):
        return ibis.memtable(orders)
    raise TypeError(f"expected an ibis table or a pandas DataFrame of orders, got {type(orders).__name__}")


# --------------------------------------------------------------------------- RFM
# rfm_base is owned by the RFM analysis (issue 7); shopbook.analysis.rfm scores it.

#: Columns of ``orders`` that :func:`rfm_base` reads.
RFM_COLUMNS: tuple[str, ...] = ("customer_id", "order_ts", "status", "net_amount")


def rfm_base(orders: Any, asof: Any, lookback_days: int | None = None,
             statuses: Sequence[str] = PURCHASE_STATUSES) -> ibis.Table:
    """Recency, frequency and monetary value per customer, as an ibis expression.

    The aggregation runs in the engine that holds ``orders`` (DuckDB, Postgres, Spark,
    …); executing the result brings back one row per customer.

    Parameters
    ----------
    orders : ibis.Table or pandas.DataFrame
        Contract ``orders``; needs ``customer_id``, ``order_ts`` (timestamp),
        ``status`` and ``net_amount``.
    asof : datetime-like
        The first day *not* counted (midnight). Orders with ``order_ts < asof`` count.
    lookback_days : int, optional
        Count only orders on or after ``asof - lookback_days`` days; ``None`` counts the
        whole history before ``asof``.
    statuses : sequence of str
        Order statuses that count as purchases; default only ``paid`` (refunded and
        cancelled orders are neither frequency nor money).

    Returns
    -------
    ibis.Table
        One row per customer with at least one counted order: ``customer_id``,
        ``first_order`` and ``last_order`` (timestamps), ``frequency`` (orders, int),
        ``monetary`` (sum of ``net_amount``, rounded to the cent so that equal totals
        tie exactly whatever the engine's summation order), ``recency`` (whole days
        from the date of the last order to ``asof``; at least 1).
    """
    asof = pd.Timestamp(asof).normalize()
    t = as_table(orders)
    window = [t.order_ts < asof.to_pydatetime(), t.status.isin(list(statuses))]
    if lookback_days is not None:
        start = asof - pd.Timedelta(days=int(lookback_days))
        window.append(t.order_ts >= start.to_pydatetime())
    w = t.filter(*window)
    agg = w.group_by("customer_id").aggregate(
        first_order=w.order_ts.min(),
        last_order=w.order_ts.max(),
        frequency=w.count(),
        monetary=w.net_amount.sum().round(2),
    )
    return agg.mutate(
        recency=ibis.literal(asof.date()).delta(agg.last_order.date(), unit="day")
    )
