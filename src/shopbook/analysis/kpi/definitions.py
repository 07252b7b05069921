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

from shopbook.i18n import translate


def _(text: str) -> str:
    """Mark a label or definition for the catalogue; it is translated where it is shown."""
    return text


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
        _("GMV (paid amount)"),
        "money",
        _("Σ net_amount (what customers paid) of the paid orders placed in the window"),
    ),
    Metric(
        "results", "orders", _("Paid orders"), "count", _("orders placed in the window and paid")
    ),
    Metric(
        "results", "aov", _("AOV (average order value)"), "money", _("paid amount / paid orders")
    ),
    Metric(
        "results",
        "spend_per_buyer",
        _("客单价 (paid amount per paying buyer)"),
        "money",
        _("paid amount / paying buyers"),
    ),
    Metric(
        "results",
        "gross_profit",
        _("Gross profit"),
        "money",
        _("revenue of the paid order lines with a unit cost − their cost (quantity × unit_cost)"),
        _I,
    ),
    Metric(
        "results",
        "gross_margin",
        _("Gross margin"),
        "share",
        _("gross profit / revenue of the paid order lines with a unit cost"),
        _I,
    ),
    Metric(
        "results", "spend", _("Marketing spend"), "money", _("Σ marketing spend in the window"), _M
    ),
    Metric(
        "results",
        "roas",
        _("ROAS"),
        "ratio",
        _(
            "attributed revenue / spend: paid amount / marketing spend "
            "(per channel: last touch, by the order's channel)"
        ),
        _M,
    ),
    Metric(
        "results",
        "roi",
        _("ROI"),
        "ratio",
        _(
            "(gross profit − spend) / spend; below 0 the spend lost money; not computable "
            "where revenue has no unit cost (never replaced by revenue / spend, which is ROAS)"
        ),
        (*_M, *_I),
    ),
    Metric(
        "results",
        "cac",
        _("CAC (customer acquisition cost)"),
        "money",
        _("marketing spend / new customers (per channel: by the channel of their first order)"),
        _M,
    ),
    Metric(
        "users",
        "new_customers",
        _("New customers"),
        "count",
        _("customers whose first paid order ever is in the window"),
    ),
    Metric(
        "users",
        "active_customers",
        _("Paying buyers (支付买家数)"),
        "count",
        _("distinct customers with a paid order in the window"),
    ),
    Metric(
        "users",
        "returning_customers",
        _("Returning customers"),
        "count",
        _("paying buyers − new customers"),
    ),
    Metric(
        "users",
        "repurchase_rate",
        _("Repurchase rate (复购率)"),
        "share",
        _("paying buyers with two or more paid orders in the window / paying buyers"),
    ),
    Metric(
        "users",
        "churn_rate",
        _("Churn rate (流失率)"),
        "share",
        _(
            "customers with a paid order in the window of the same length just before who have "
            "none in this one / the customers with a paid order in that window before"
        ),
    ),
    Metric(
        "users",
        "ltv",
        _("LTV (historical)"),
        "money",
        _(
            "mean paid amount in the first ltv_days after the first order, of the latest cohort "
            "whose whole horizon is observed"
        ),
    ),
    Metric(
        "operations",
        "uv",
        _("UV (unique visitors, 访客数)"),
        "count",
        _("distinct visitor_id of the window's sessions"),
        _S,
    ),
    Metric(
        "operations",
        "pv",
        _("PV (page views, 浏览量)"),
        "count",
        _("Σ pageviews of the window's sessions"),
        _S,
    ),
    Metric(
        "operations", "sessions", _("Sessions"), "count", _("sessions started in the window"), _S
    ),
    Metric(
        "operations",
        "product_view",
        _("Sessions with a product view"),
        "count",
        _("sessions with product_views > 0"),
        _S,
    ),
    Metric(
        "operations", "cart", _("Sessions with an add to cart"), "count", _("added_to_cart"), _S
    ),
    Metric(
        "operations",
        "checkout",
        _("Sessions reaching checkout"),
        "count",
        _("reached_checkout"),
        _S,
    ),
    Metric(
        "operations",
        "order",
        _("Sessions with an order placed"),
        "count",
        _("sessions with an order_id, whatever its status"),
        _S,
    ),
    Metric(
        "operations",
        "paid_sessions",
        _("Sessions with a paid order"),
        "count",
        _("sessions whose order is paid (refunded and cancelled orders are not)"),
        _S,
    ),
    Metric(
        "operations",
        "payment_conversion",
        _("Payment conversion (支付转化率)"),
        "share",
        _("paying buyers / UV (per channel: the channel's paying buyers / its UV)"),
        _S,
    ),
    Metric(
        "operations",
        "session_conversion",
        _("Session conversion"),
        "share",
        _("sessions with a paid order / sessions (Wilson 95 % interval)"),
        _S,
    ),
    Metric(
        "operations",
        "inventory_turnover",
        _("Inventory turnover"),
        "ratio",
        _(
            "cost of goods sold / average stock value at unit cost, "
            "over the window (not annualised)"
        ),
        ("inventory", *_I),
    ),
    Metric(
        "operations",
        "days_of_inventory",
        _("Days of inventory"),
        "days",
        _("average stock value / cost of goods sold per day"),
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
    out["needs"] = out["needs"].map(lambda tables: translate(", ").join(map(translate, tables)))
    return out.rename(columns={"name": "metric"})


__all__ = ["METRICS", "ROWS", "Metric", "definitions", "label", "metric"]
