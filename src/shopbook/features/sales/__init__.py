"""Sales — aggregated where the data lives: by period, in a report window, per channel.

Every function takes validated contract tables
(:meth:`shopbook.data.validation.ValidationReport.kept`; a pandas DataFrame is turned
into a memtable) and returns a small frame or dict. What counts as a sale is defined
once in :mod:`shopbook.features.orders`: orders whose ``status`` is in ``statuses``
(default :data:`~shopbook.features.orders.PURCHASE_STATUSES`, ``paid``), GMV is the sum
of ``net_amount`` over them, a window is whole days with both ends included, and an
order's amount is spread over its lines by
:func:`~shopbook.features.orders.line_shares`.

Sections
--------
* **By period** — :func:`kpis` / :func:`kpis_expr`: one row per period (``day``,
  ``week`` — ISO weeks starting Monday — or ``month``) and group, with

  * ``gmv`` — the sum of the order amount (``net_amount`` by default: what customers
    paid; pass ``amount="gross_amount"`` for value before order discounts),
  * ``orders`` — distinct orders,
  * ``customers`` — distinct customers (counted in the period itself, so weekly
    customers are not the sum of daily ones),
  * ``aov`` — average order value, ``gmv / orders``,
  * ``units`` — units sold, when order lines are used.

  ``by`` may name order columns (``channel``) and product columns (``category``,
  ``brand``, ``sku``). A product split needs ``order_items`` and ``products``; an order
  with lines in two categories counts as one order (and one customer) in each; lines
  whose SKU is not in ``products`` fall in the group ``(unknown)``. ``period`` is the
  start of the period; periods without orders have no row — :func:`fill_periods` and
  :func:`to_series` add them with zeros (no order that day means no sales that day).
* **Margin** — :func:`margin`: revenue, revenue with a known unit cost, cost of goods
  (:func:`margin_by_window`: of several windows in one query).
* **The KPI brief's window** — :func:`window_sales` (GMV, orders, active, new and
  returning customers, repeat buyers), :func:`spend_total`, :func:`ltv`, and
  :func:`window_kpis`, which collects every input of the brief's KPI table for a window
  and the window before it (:class:`~shopbook.features.periods.Window`), each part for
  both windows in one query (:func:`sales_by_window`, :func:`ltv_by_window`,
  :func:`margin_by_window`; windows tagged by
  :func:`~shopbook.features.orders.in_windows`).
* **Channels** — :func:`channel_economics` (orders, GMV, new customers, spend and gross
  profit per channel) and :func:`channel_kpis` (the same with the session funnel).

A **new customer** of a window is one whose first purchase ever
(:func:`~shopbook.features.orders.first_purchases`) falls in it; they belong to the
channel of that first order.
"""

from shopbook.features._groups import by_columns
from shopbook.features.sales.by_period import (
    METRICS,
    UNKNOWN,
    daily_sales,
    fill_periods,
    has_categories,
    kpis,
    kpis_expr,
    to_series,
)
from shopbook.features.sales.channels import channel_economics, channel_kpis
from shopbook.features.sales.margin import margin, margin_by_window
from shopbook.features.sales.window import (
    ltv,
    ltv_by_window,
    sales_by_window,
    spend_total,
    window_kpis,
    window_sales,
)

__all__ = [
    "METRICS",
    "UNKNOWN",
    "by_columns",
    "channel_economics",
    "channel_kpis",
    "daily_sales",
    "fill_periods",
    "has_categories",
    "kpis",
    "kpis_expr",
    "ltv",
    "ltv_by_window",
    "margin",
    "margin_by_window",
    "sales_by_window",
    "spend_total",
    "to_series",
    "window_kpis",
    "window_sales",
]
