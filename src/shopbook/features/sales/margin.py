"""Revenue, cost of goods sold and gross profit of the purchases in a window."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features._groups import by_columns
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    PURCHASE_STATUSES,
    SHARE_SCALE,
    as_table,
    in_window,
    line_money,
    line_shares,
    money,
    money_sum,
    purchases,
)


def _window_lines(
    orders: ir.Table,
    order_items: ir.Table,
    start: Any,
    end: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ir.Table:
    """Purchase lines in the window with spread revenue and (nullable) cost."""
    o = purchases(orders, statuses)
    o = o.filter(in_window(o.order_ts, start, end))
    it = line_shares(order_items)
    j = o.inner_join(it, o.order_id == it.order_id)
    return j.select(
        channel=o.channel,
        order_id=o.order_id,
        sku=it.sku,
        revenue=money(o.net_amount.cast("float64") * it.line_share, SHARE_SCALE),
        cost=line_money(it.unit_cost, it.quantity),
    )


def margin(
    orders: Any,
    order_items: Any,
    start: Any,
    end: Any,
    by: str | None = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Revenue, cost of goods sold and gross profit of the purchases in a window.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``order_ts``, ``status``, ``net_amount`` and
        ``by``).
    order_items
        Contract ``order_items`` (``order_id``, ``quantity``, ``unit_price``,
        ``unit_cost`` — nullable).
    start, end
        The window (days, inclusive).
    by
        An order column to group by (``channel``), or ``None``.
    statuses
        Order statuses that count as sales.

    Returns
    -------
    pandas.DataFrame
        ``by`` (when given), ``revenue`` (line revenue, adds up to GMV of orders with
        lines), ``revenue_costed`` (revenue of lines with a unit cost), ``cogs`` (their
        cost), ``gross_profit`` (``revenue_costed - cogs``), ``margin``
        (``gross_profit / revenue_costed``) and ``uncosted_share`` (share of revenue
        without a unit cost).
    """
    lines = _window_lines(as_table(orders), as_table(order_items), start, end, statuses)
    keys = by_columns(by)
    has_cost = lines.cost.notnull()
    metrics = dict(  # exact DECIMAL sums, turned into floats once they are totals
        revenue=money_sum(lines.revenue, SHARE_SCALE).cast("float64"),
        revenue_costed=money_sum(
            ibis.ifelse(has_cost, lines.revenue, ibis.literal(0).cast(lines.revenue.type())),
            SHARE_SCALE,
        ).cast("float64"),
        cogs=money_sum(lines.cost).cast("float64"),
    )
    agg = lines.group_by(keys).aggregate(**metrics) if keys else lines.aggregate(**metrics)
    frame = fetch(agg)
    for c in ("revenue", "revenue_costed", "cogs"):
        frame[c] = frame[c].astype("float64").fillna(0.0)
    frame["gross_profit"] = frame["revenue_costed"] - frame["cogs"]
    frame["margin"] = frame["gross_profit"] / frame["revenue_costed"].where(
        frame["revenue_costed"] > 0
    )
    frame["uncosted_share"] = 1.0 - frame["revenue_costed"] / frame["revenue"].where(
        frame["revenue"] > 0
    )
    return frame.sort_values(keys, ignore_index=True) if keys else frame
