"""The KPI brief's metrics: one name, label, unit and definition each — defined here once.

The KPI table (:func:`shopbook.analysis.kpi.kpi_table`), the channel table
(:func:`shopbook.analysis.kpi.channel_table`) and the report's definitions table
(:func:`definitions`) all read :data:`METRICS`, so a metric is named and defined in one
place. Where operators use two families of the same idea, both are here under their
usual names: **payment conversion** (Tmall 生意参谋's 支付转化率, paying buyers / UV) and
**session conversion** (sessions with a paid order / sessions); **客单价** (paid amount
per paying buyer) and **AOV** (per paid order); **ROAS** (revenue / spend) and **ROI**
(profit after spend / spend). A paid order is a purchase of
:mod:`shopbook.features.orders` (``status == 'paid'``): refunded and cancelled orders
are never sales, buyers or conversions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class Metric:
    """One KPI: its ``layer``, ``name`` (the table's ``metric``), ``label``, ``unit``
    (money/count/share/ratio/days), ``definition`` (in words) and the tables it needs
    besides ``orders``."""

    layer: str
    name: str
    label: str
    unit: str
    definition: str
    needs: tuple[str, ...] = ()


_S, _I, _M = ("sessions",), ("order_items",), ("marketing_spend",)

#: The KPI brief's metrics, in the order of the KPI table.
METRICS: tuple[Metric, ...] = (
    Metric(
        "results",
        "gmv",
        "GMV (paid amount)",
        "money",
        "Σ net_amount (what customers paid) of the paid orders placed in the window",
    ),
    Metric("results", "orders", "Paid orders", "count", "orders placed in the window and paid"),
    Metric("results", "aov", "AOV (average order value)", "money", "paid amount / paid orders"),
    Metric(
        "results",
        "spend_per_buyer",
        "客单价 (paid amount per paying buyer)",
        "money",
        "paid amount / paying buyers",
    ),
    Metric(
        "results",
        "gross_profit",
        "Gross profit",
        "money",
        "revenue of the paid order lines with a unit cost − their cost (quantity × unit_cost)",
        _I,
    ),
    Metric(
        "results",
        "gross_margin",
        "Gross margin",
        "share",
        "gross profit / revenue of the paid order lines with a unit cost",
        _I,
    ),
    Metric("results", "spend", "Marketing spend", "money", "Σ marketing spend in the window", _M),
    Metric(
        "results",
        "roas",
        "ROAS",
        "ratio",
        "attributed revenue / spend: paid amount / marketing spend "
        "(per channel: last touch, by the order's channel)",
        _M,
    ),
    Metric(
        "results",
        "roi",
        "ROI",
        "ratio",
        "(gross profit − spend) / spend; below 0 the spend lost money; not computable "
        "where revenue has no unit cost (never replaced by revenue / spend, which is ROAS)",
        (*_M, *_I),
    ),
    Metric(
        "results",
        "cac",
        "CAC (customer acquisition cost)",
        "money",
        "marketing spend / new customers (per channel: by the channel of their first order)",
        _M,
    ),
    Metric(
        "users",
        "new_customers",
        "New customers",
        "count",
        "customers whose first paid order ever is in the window",
    ),
    Metric(
        "users",
        "active_customers",
        "Paying buyers (支付买家数)",
        "count",
        "distinct customers with a paid order in the window",
    ),
    Metric(
        "users",
        "returning_customers",
        "Returning customers",
        "count",
        "paying buyers − new customers",
    ),
    Metric(
        "users",
        "repurchase_rate",
        "Repurchase rate (复购率)",
        "share",
        "paying buyers with two or more paid orders in the window / paying buyers",
    ),
    Metric(
        "users",
        "churn_rate",
        "Churn rate (流失率)",
        "share",
        "customers with a paid order in the window of the same length just before who have "
        "none in this one / the customers with a paid order in that window before",
    ),
    Metric(
        "users",
        "ltv",
        "LTV (historical)",
        "money",
        "mean paid amount in the first ltv_days after the first order, of the latest cohort "
        "whose whole horizon is observed",
    ),
    Metric(
        "operations",
        "uv",
        "UV (unique visitors, 访客数)",
        "count",
        "distinct visitor_id of the window's sessions",
        _S,
    ),
    Metric(
        "operations",
        "pv",
        "PV (page views, 浏览量)",
        "count",
        "Σ pageviews of the window's sessions",
        _S,
    ),
    Metric("operations", "sessions", "Sessions", "count", "sessions started in the window", _S),
    Metric(
        "operations",
        "product_view",
        "Sessions with a product view",
        "count",
        "sessions with product_views > 0",
        _S,
    ),
    Metric("operations", "cart", "Sessions with an add to cart", "count", "added_to_cart", _S),
    Metric("operations", "checkout", "Sessions reaching checkout", "count", "reached_checkout", _S),
    Metric(
        "operations",
        "order",
        "Sessions with an order placed",
        "count",
        "sessions with an order_id, whatever its status",
        _S,
    ),
    Metric(
        "operations",
        "paid_sessions",
        "Sessions with a paid order",
        "count",
        "sessions whose order is paid (refunded and cancelled orders are not)",
        _S,
    ),
    Metric(
        "operations",
        "payment_conversion",
        "Payment conversion (支付转化率)",
        "share",
        "paying buyers / UV (per channel: the channel's paying buyers / its UV)",
        _S,
    ),
    Metric(
        "operations",
        "session_conversion",
        "Session conversion",
        "share",
        "sessions with a paid order / sessions (Wilson 95 % interval)",
        _S,
    ),
    Metric(
        "operations",
        "inventory_turnover",
        "Inventory turnover",
        "ratio",
        "cost of goods sold / average stock value at unit cost, over the window (not annualised)",
        ("inventory", *_I),
    ),
    Metric(
        "operations",
        "days_of_inventory",
        "Days of inventory",
        "days",
        "average stock value / cost of goods sold per day",
        ("inventory", *_I),
    ),
)

_BY_NAME = {m.name: m for m in METRICS}

#: (layer, metric, label, unit) of the KPI table, in order (from :data:`METRICS`).
ROWS: tuple[tuple[str, str, str, str], ...] = tuple(
    (m.layer, m.name, m.label, m.unit) for m in METRICS
)


def metric(name: str) -> Metric:
    """The :class:`Metric` called ``name``.

    Raises
    ------
    KeyError
        ``name`` is not a KPI of the brief (the message lists them).
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown KPI {name!r}; known: {', '.join(_BY_NAME)}") from None


def label(name: str) -> str:
    """The label of the metric ``name`` (see :data:`METRICS`)."""
    return metric(name).label


def definitions(names: Iterable[str] | None = None) -> pd.DataFrame:
    """The definitions table: one row per metric, in the KPI table's order.

    Parameters
    ----------
    names
        The metrics to list (default: all of :data:`METRICS`), e.g. the ``metric``
        column of a KPI table.

    Returns
    -------
    pandas.DataFrame
        ``layer``, ``metric``, ``label``, ``unit``, ``definition``, ``needs`` (the tables
        besides orders, comma-separated; empty when orders suffice).
    """
    keep = None if names is None else set(names)
    for n in keep or ():
        metric(n)  # unknown names fail loudly
    rows = [asdict(m) for m in METRICS if keep is None or m.name in keep]
    out = pd.DataFrame(rows, columns=[*Metric.__dataclass_fields__])
    out["needs"] = out["needs"].map(", ".join)
    return out.rename(columns={"name": "metric"})


__all__ = ["METRICS", "ROWS", "Metric", "definitions", "label", "metric"]
