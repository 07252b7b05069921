"""Sales KPIs per period, channel and category — aggregated where the data lives.

:func:`kpis` builds one ibis expression over validated contract tables
(:meth:`shopbook.data.validation.ValidationReport.kept`) and returns a small frame: one
row per period (day, ISO week, month) and group, with

* ``gmv`` — the sum of the order amount (``net_amount`` by default: what customers
  paid; pass ``amount="gross_amount"`` for value before order discounts),
* ``orders`` — distinct orders,
* ``customers`` — distinct customers (counted in the period itself, so weekly customers
  are not the sum of daily ones),
* ``aov`` — average order value, ``gmv / orders``,
* ``units`` — units sold, when order lines are used.

Only orders whose ``status`` is in ``statuses`` count (default: ``paid``; refunded and
cancelled orders are not sales).

Groups
------
``by`` may name order columns (``channel``) and product columns (``category``,
``brand``, ``sku``). A product split needs ``order_items`` and ``products``: each
order's amount is spread over its lines in proportion to the lines' value
(``quantity × unit_price``; equally when the lines are worth nothing), so the groups of
an order add up exactly to the order's amount, and an order with lines in two
categories counts as one order (and one customer) in each. Lines whose SKU is not in
``products`` fall in the group ``(unknown)``.

Periods
-------
``period`` is the start of the period as a timestamp: the day, the Monday of the ISO
week, the first of the month. Periods without orders have no row; :func:`fill_periods`
and :func:`to_series` add them with zeros (no order that day means no sales that day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.errors import ContractError

#: The KPI columns, in output order.
METRICS = ("gmv", "orders", "customers", "aov")

_FREQ = {
    "D": "D",
    "day": "D",
    "daily": "D",
    "W": "W",
    "week": "W",
    "weekly": "W",
    "M": "M",
    "month": "M",
    "monthly": "M",
}
#: pandas frequency of each period kind.
PANDAS_FREQ = {"D": "D", "W": "W-MON", "M": "MS"}
UNKNOWN = "(unknown)"


def normalise_freq(freq: str) -> str:
    """``"day"``/``"D"`` → ``"D"``, ``"week"``/``"W"`` → ``"W"``, ``"month"``/``"M"`` → ``"M"``."""
    try:
        return _FREQ[freq]
    except (KeyError, TypeError):
        raise ValueError(f"freq must be one of D/W/M (day/week/month), found {freq!r}") from None


def by_columns(by: str | Sequence[str] | None) -> list[str]:
    """A ``by=`` argument (``None``, one column or several) as a list of column names."""
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def kpis_expr(
    orders: ir.Table,
    freq: str = "D",
    by: str | Sequence[str] | None = None,
    *,
    order_items: ir.Table | None = None,
    products: ir.Table | None = None,
    amount: str = "net_amount",
    statuses: Sequence[str] = ("paid",),
) -> ir.Table:
    """The ibis expression behind :func:`kpis` (nothing is executed).

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``status``,
        the ``amount`` column and any ``by`` columns that are order columns).
    freq
        ``"D"``, ``"W"`` or ``"M"`` (or ``day``/``week``/``month``).
    by
        Group columns from ``orders`` or ``products``.
    order_items, products
        Contract ``order_items`` (``order_id``, ``sku``, ``quantity``, ``unit_price``)
        and ``products`` (``sku`` and the product ``by`` columns); needed for product
        groups, and ``order_items`` alone adds ``units``.
    amount
        The order column summed as GMV.
    statuses
        Order statuses that count as sales.

    Returns
    -------
    ibis.Table
        ``period``, the ``by`` columns, ``gmv``, ``orders``, ``customers``, ``aov`` and,
        with order lines, ``units``; ordered by group and period.

    Raises
    ------
    ContractError
        When a ``by`` column is in neither table, or a product column is asked for
        without ``order_items`` and ``products``.
    """
    f = normalise_freq(freq)
    groups = by_columns(by)
    if amount not in orders.columns:
        raise ContractError(
            table="orders",
            column=amount,
            expected="an amount column",
            found="columns " + ", ".join(orders.columns),
            fix="pass amount='net_amount' or 'gross_amount'",
        )
    o = orders.filter(orders.status.isin(list(statuses)))
    o = o.mutate(
        period=o.order_ts.truncate(f).cast("timestamp"), __amount=o[amount].cast("float64")
    )
    order_groups = [g for g in groups if g in orders.columns]
    product_groups = [g for g in groups if g not in orders.columns]
    if product_groups:
        missing_tables = [
            n for n, t in (("order_items", order_items), ("products", products)) if t is None
        ]
        if missing_tables:
            raise ContractError(
                table=" and ".join(missing_tables),
                column=product_groups[0],
                expected=f"the {' and '.join(missing_tables)} table(s) to split sales by {', '.join(product_groups)}",
                found="orders only",
                fix="use a source with order_items and products, or group by an order column",
            )
        unknown = [g for g in product_groups if g not in products.columns]
        if unknown:
            raise ContractError(
                table="products",
                column=unknown[0],
                expected="a column of orders or products",
                found="orders: "
                + ", ".join(orders.columns)
                + "; products: "
                + ", ".join(products.columns),
                fix="group by an existing column",
            )
    if order_items is None:
        agg = o.group_by(["period", *order_groups]).aggregate(
            gmv=o.__amount.sum(), orders=o.order_id.nunique(), customers=o.customer_id.nunique()
        )
        agg = agg.mutate(gmv=agg.gmv.fill_null(0.0))
        units = False
    else:
        items = order_items
        if product_groups:
            p = products.select("sku", *product_groups)
            items = items.left_join(p, "sku").select(items, *[p[g] for g in product_groups])
            items = items.mutate(
                **{g: items[g].cast("string").fill_null(UNKNOWN) for g in product_groups}
            )
        items = items.mutate(__line=(items.quantity * items.unit_price).cast("float64"))
        w = ibis.window(group_by=items.order_id)
        items = items.mutate(
            __order_lines=items.__line.sum().over(w), __n_lines=items.order_id.count().over(w)
        )
        share = ibis.ifelse(
            items.__order_lines > 0,
            items.__line / items.__order_lines,
            1.0 / items.__n_lines.cast("float64"),
        )
        items = items.mutate(__share=share)
        j = o.inner_join(items, o.order_id == items.order_id)
        lines = j.select(
            "period",
            *order_groups,
            *product_groups,
            order_id=o.order_id,
            customer_id=o.customer_id,
            value=o.__amount * items.__share,
            quantity=items.quantity,
        )
        agg = lines.group_by(["period", *groups]).aggregate(
            gmv=lines.value.sum(),
            orders=lines.order_id.nunique(),
            customers=lines.customer_id.nunique(),
            units=lines.quantity.sum(),
        )
        agg = agg.mutate(gmv=agg.gmv.fill_null(0.0))
        units = True
    agg = agg.mutate(
        aov=ibis.ifelse(agg.orders > 0, agg.gmv / agg.orders.cast("float64"), ibis.null("float64"))
    )
    cols = ["period", *groups, "gmv", "orders", "customers", "aov"] + (["units"] if units else [])
    return agg.select(*cols).order_by([*groups, "period"])


def kpis(
    orders: ir.Table,
    freq: str = "D",
    by: str | Sequence[str] | None = None,
    *,
    order_items: ir.Table | None = None,
    products: ir.Table | None = None,
    amount: str = "net_amount",
    statuses: Sequence[str] = ("paid",),
) -> pd.DataFrame:
    """GMV, orders, customers and AOV per period (and group), computed in the engine.

    See :func:`kpis_expr` for the parameters and the module docstring for definitions.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, period start), the ``by`` columns, ``gmv`` (float),
        ``orders``, ``customers`` (int), ``aov`` (float) and, with order lines,
        ``units``. Periods without sales have no row (see :func:`fill_periods`).
    """
    frame = kpis_expr(
        orders,
        freq,
        by,
        order_items=order_items,
        products=products,
        amount=amount,
        statuses=statuses,
    ).execute()
    frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    for c in ("orders", "customers", "units"):
        if c in frame:
            frame[c] = frame[c].astype("int64")
    frame["gmv"] = frame["gmv"].astype("float64")
    frame["aov"] = frame["aov"].astype("float64")
    frame.attrs["freq"] = normalise_freq(freq)
    frame.attrs["by"] = by_columns(by)
    return frame


def date_range(
    orders: ir.Table, statuses: Sequence[str] | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day with an order (of the given statuses; default any).

    Returns
    -------
    (pandas.Timestamp, pandas.Timestamp)
        Midnight of the first and of the last day.

    Raises
    ------
    ContractError
        When there is no order.
    """
    t = orders if statuses is None else orders.filter(orders.status.isin(list(statuses)))
    row = t.aggregate(first=t.order_ts.min(), last=t.order_ts.max()).execute().iloc[0]
    if pd.isna(row["first"]):
        raise ContractError(
            table="orders",
            expected="at least one order",
            found="none",
            fix="load orders into the source",
        )
    return pd.Timestamp(row["first"]).normalize(), pd.Timestamp(row["last"]).normalize()


def period_start(day: Any, freq: str) -> pd.Timestamp:
    """The start of the period ``day`` falls in (day, Monday of the week, first of the month)."""
    f = normalise_freq(freq)
    d = pd.Timestamp(day).normalize()
    if f == "W":
        return d - pd.Timedelta(days=d.dayofweek)
    if f == "M":
        return d.replace(day=1)
    return d


def fill_periods(
    frame: pd.DataFrame, freq: str | None = None, *, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """Add the periods without sales (zeros; ``aov`` missing) to a :func:`kpis` frame.

    Parameters
    ----------
    frame
        A :func:`kpis` frame (``period``, group columns, metrics).
    freq
        ``D``/``W``/``M``; default ``frame.attrs["freq"]``.
    start, end
        Range to cover (any day inside the first/last period); default the frame's.

    Returns
    -------
    pandas.DataFrame
        Every period × every group seen, in the same columns.
    """
    f = normalise_freq(freq or frame.attrs.get("freq", "D"))
    groups = [
        c
        for c in frame.columns
        if c not in ("period", "gmv", "orders", "customers", "aov", "units")
    ]
    lo = period_start(start if start is not None else frame["period"].min(), f)
    hi = period_start(end if end is not None else frame["period"].max(), f)
    periods = pd.date_range(lo, hi, freq=PANDAS_FREQ[f], name="period")
    if groups:
        keys = frame[groups].drop_duplicates()
        grid = keys.merge(pd.DataFrame({"period": periods}), how="cross")
    else:
        grid = pd.DataFrame({"period": periods})
    out = grid.merge(frame, on=["period", *groups], how="left")
    for c in ("gmv",):
        out[c] = out[c].fillna(0.0)
    for c in ("orders", "customers", "units"):
        if c in out:
            out[c] = out[c].fillna(0).astype("int64")
    out = out[[c for c in frame.columns]].sort_values([*groups, "period"], ignore_index=True)
    out.attrs.update(frame.attrs)
    return out


def to_series(
    frame: pd.DataFrame,
    metric: str = "gmv",
    freq: str | None = None,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.Series:
    """One KPI of an ungrouped :func:`kpis` frame as a regular time series.

    Periods without sales are 0 (``aov``: missing). The index has its ``freq`` set
    (``D``, ``W-MON``, ``MS``), ready for :mod:`shopbook.analysis.trend`.

    Parameters
    ----------
    frame
        A :func:`kpis` frame without group columns.
    metric
        ``gmv``, ``orders``, ``customers``, ``aov`` or ``units``.
    freq, start, end
        As in :func:`fill_periods`.

    Returns
    -------
    pandas.Series
        Named ``metric``, indexed by period start.
    """
    f = normalise_freq(freq or frame.attrs.get("freq", "D"))
    filled = fill_periods(frame, f, start=start, end=end)
    extra = [
        c
        for c in filled.columns
        if c not in ("period", "gmv", "orders", "customers", "aov", "units")
    ]
    if extra:
        raise ValueError(f"the frame is grouped by {extra}; select one group or aggregate first")
    s = filled.set_index("period")[metric].astype("float64")
    s.index = pd.DatetimeIndex(s.index, freq=PANDAS_FREQ[f], name="period")
    s.name = metric
    return s


def has_categories(tables: Sequence[str]) -> bool:
    """Whether a source's tables allow a product split (``order_items`` and ``products``)."""
    return "order_items" in tables and "products" in tables


__all__ = [
    "METRICS",
    "PANDAS_FREQ",
    "UNKNOWN",
    "date_range",
    "fill_periods",
    "has_categories",
    "kpis",
    "kpis_expr",
    "normalise_freq",
    "period_start",
    "to_series",
]
