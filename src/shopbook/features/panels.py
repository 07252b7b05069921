"""Panels built in the engine: the SKU × week panel behind price elasticity.

:func:`sku_week_panel` turns validated ``order_items`` + ``orders`` (+ ``products``) into
one row per SKU and week, as an **ibis** expression: the join and the aggregation run
where the data lives (DuckDB by default, Spark or a warehouse otherwise) and only the
panel — a few hundred SKUs × a few hundred weeks — comes back to Python when the caller
executes it.

Columns of the panel
--------------------
``sku``, ``week`` (date of the week's first day, Monday by default), ``category`` (from
``products``; ``None`` without it), ``units`` (sum of quantity), ``revenue`` (sum of
quantity × paid unit price), ``avg_price`` (revenue / units: the average paid price),
``list_price`` (unit-weighted average list price), ``discount_depth`` (1 − revenue / list
revenue, the average fraction off the list price), ``promo`` (``discount_depth ≥
promo_threshold``), ``unit_cost`` (unit-weighted average over lines that have a cost;
``None`` if none do), ``lines`` (order lines, i.e. orders containing the SKU).

Only purchases count (:func:`shopbook.features.orders.purchases`, paid by default):
refunded and cancelled orders are not demand at a price. Order-level discounts (coupons,
thresholds) are not allocated to items — the paid unit price is what the item line says.

:func:`sku_week_frame` builds and executes the panel of a validation report (``None``
when the source has no order lines, e.g. CDNOW).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features._engine import flag
from shopbook.features.fetching import fetch
from shopbook.features.orders import PURCHASE_STATUSES, money, money_sum, purchases
from shopbook.features.periods import TRUNCATE

__all__ = ["PANEL_COLUMNS", "WEEKDAYS", "sku_week_frame", "sku_week_panel"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Columns of :func:`sku_week_panel`, in order.
PANEL_COLUMNS = (
    "sku",
    "week",
    "category",
    "units",
    "revenue",
    "avg_price",
    "list_price",
    "discount_depth",
    "promo",
    "unit_cost",
    "lines",
)


def sku_week_panel(
    order_items: ir.Table,
    orders: ir.Table,
    products: ir.Table | None = None,
    promo_threshold: float = 0.05,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    week_start: str = "monday",
) -> ir.Table:
    """The SKU × week panel as an ibis expression (nothing is executed).

    Parameters
    ----------
    order_items
        Validated order lines with ``order_id``, ``sku``, ``quantity``, ``unit_price``,
        ``list_price`` and ``unit_cost`` (nullable).
    orders
        Validated orders with ``order_id``, ``order_ts`` and ``status``.
    products
        Optional validated products with ``sku`` and ``category``; without it the
        ``category`` column is null.
    promo_threshold
        Discount depth (fraction off list) from which a SKU-week counts as promoted.
    statuses
        Order statuses that count as sales (default
        :data:`~shopbook.features.orders.PURCHASE_STATUSES`, only ``paid``; ``None``: all).
    week_start
        First day of the week (``"monday"`` … ``"sunday"``). Match it to the day your
        price changes usually take effect, so a week has one price rather than a mix.

    Returns
    -------
    ibis.Table
        One row per SKU and week with a sale, columns :data:`PANEL_COLUMNS`, ordered by
        ``sku`` and ``week``. Weeks without a sale have no row (there is no observed
        price for them). ``avg_price`` is ``0`` only when every unit was free;
        ``discount_depth`` is null when the list revenue is zero.

    Examples
    --------
    >>> report = validate(source, require=("orders", "order_items"))      # doctest: +SKIP
    >>> panel = fetch(sku_week_panel(report.kept("order_items"), report.kept("orders"),
    ...                              report.kept("products")))           # doctest: +SKIP
    """
    try:
        shift = WEEKDAYS.index(week_start.lower())
    except ValueError:
        raise ValueError(
            f"week_start must be one of {', '.join(WEEKDAYS)}, got {week_start!r}"
        ) from None
    bought = purchases(orders, statuses)
    ts = bought.order_ts.cast("timestamp")
    unit = TRUNCATE["week"]
    if shift:  # truncate() starts weeks on Monday: shift the clock so they start on week_start
        days = ibis.interval(days=shift)
        week = ((ts - days).truncate(unit) + days).cast("date")
    else:
        week = ts.truncate(unit).cast("date")
    paid = bought.select("order_id", week=week)
    items = order_items.select(
        "order_id",
        "sku",
        qty=order_items.quantity.cast("int64"),
        unit_price=money(order_items.unit_price),
        list_price=money(order_items.list_price),
        unit_cost=money(order_items.unit_cost),
    )
    lines = items.join(paid, "order_id")
    has_cost = lines.unit_cost.notnull()

    def total(price: ir.Value) -> ir.Value:  # Σ quantity × price: exact, then a float
        return money_sum(price * lines.qty).cast("float64")

    agg = lines.group_by(["sku", "week"]).aggregate(
        units=lines.qty.sum(),
        revenue=total(lines.unit_price),
        list_revenue=total(lines.list_price),
        cost=total(lines.unit_cost),
        cost_units=(flag(has_cost) * lines.qty).sum(),
        lines=lines.count(),
    )
    depth = (agg.list_revenue > 0).ifelse(1 - agg.revenue / agg.list_revenue, ibis.null("float64"))
    panel = agg.mutate(
        avg_price=agg.revenue / agg.units,
        list_price=agg.list_revenue / agg.units,
        discount_depth=depth,
        unit_cost=(agg.cost_units > 0).ifelse(agg.cost / agg.cost_units, ibis.null("float64")),
    ).mutate(promo=ibis._.discount_depth.fill_null(0.0) >= promo_threshold)
    if products is not None:
        cats = products.select("sku", "category")
        panel = panel.left_join(cats, "sku").select(~ibis.selectors.endswith("_right"))
    else:
        panel = panel.mutate(category=ibis.null("string"))
    return panel.select(*PANEL_COLUMNS).order_by(["sku", "week"])


def sku_week_frame(
    report: Any,
    promo_threshold: float = 0.05,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    week_start: str = "monday",
) -> pd.DataFrame | None:
    """The SKU × week panel of a validated source, executed (a small pandas frame).

    Parameters
    ----------
    report
        A :class:`~shopbook.data.validation.ValidationReport` holding ``orders`` and, for
        a panel, ``order_items`` (``products`` adds the category).
    promo_threshold, statuses, week_start
        As in :func:`sku_week_panel`.

    Returns
    -------
    DataFrame or None
        Columns :data:`PANEL_COLUMNS`, one row per SKU and week with a sale; ``None``
        when the source has no order lines (no ``order_items`` table, or no kept row in
        it): there are no prices per product.
    """
    items = report.tables.get("order_items")
    if items is None or not items.kept:
        return None
    products = report.kept("products") if "products" in report.tables else None
    expr = sku_week_panel(
        report.kept("order_items"),
        report.kept("orders"),
        products,
        promo_threshold=promo_threshold,
        statuses=statuses,
        week_start=week_start,
    )
    return fetch(expr)
