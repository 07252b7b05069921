"""Sales per period (day, week, month) and group: GMV, orders, customers, AOV, units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features._groups import by_columns
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    GMV_AMOUNT,
    PURCHASE_STATUSES,
    SHARE_SCALE,
    gmv,
    line_shares,
    money_sum,
    purchases,
)
from shopbook.features.periods import (
    PANDAS_FREQ,
    TRUNCATE,
    normalise_period,
    period_start,
)

METRICS = ("gmv", "orders", "customers", "aov")
#: Group of the lines whose SKU is not in ``products``.
UNKNOWN = "(unknown)"
_VALUES = ("period", "gmv", "orders", "customers", "aov", "units")


def _check_groups(
    orders: ir.Table,
    amount: str,
    product_groups: list[str],
    order_items: ir.Table | None,
    products: ir.Table | None,
) -> None:
    """Raise a :class:`ContractError` for a missing amount or group column."""
    if amount not in orders.columns:
        raise ContractError(
            table="orders",
            column=amount,
            expected="an amount column",
            found="columns " + ", ".join(orders.columns),
            fix="pass amount='net_amount' or 'gross_amount'",
        )
    if not product_groups:
        return
    missing = [n for n, t in (("order_items", order_items), ("products", products)) if t is None]
    if missing or products is None:
        need = " and ".join(missing)
        raise ContractError(
            table=need,
            column=product_groups[0],
            expected=f"the {need} table(s) to split sales by {', '.join(product_groups)}",
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


def _line_kpis(
    o: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None,
    order_groups: list[str],
    product_groups: list[str],
) -> ir.Table:
    """KPIs per period and group from order lines (the order amount spread over them)."""
    items = order_items
    if product_groups and products is not None:
        p = products.select("sku", *product_groups)
        items = items.left_join(p, "sku").select(items, *[p[g] for g in product_groups])
        items = items.mutate(
            **{g: items[g].cast("string").fill_null(UNKNOWN) for g in product_groups}
        )
    items = line_shares(items)
    j = o.inner_join(items, o.order_id == items.order_id)
    lines = j.select(
        "period",
        *order_groups,
        *product_groups,
        order_id=o.order_id,
        customer_id=o.customer_id,
        value=o.__amount * items.line_share,
        quantity=items.quantity,
    )
    agg = lines.group_by(["period", *order_groups, *product_groups]).aggregate(
        gmv=money_sum(lines.value, SHARE_SCALE).cast("float64"),
        orders=lines.order_id.nunique(),
        customers=lines.customer_id.nunique(),
        units=lines.quantity.sum(),
    )
    return agg.mutate(gmv=agg.gmv.fill_null(0.0))


def kpis_expr(
    orders: ir.Table,
    period: str = "day",
    by: str | Sequence[str] | None = None,
    *,
    order_items: ir.Table | None = None,
    products: ir.Table | None = None,
    amount: str = GMV_AMOUNT,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ir.Table:
    """The ibis expression behind :func:`kpis` (nothing is executed).

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``status``,
        the ``amount`` column and any ``by`` columns that are order columns).
    period
        ``"day"``, ``"week"`` or ``"month"`` (the letters ``"D"``/``"W"``/``"M"`` are
        read as the same).
    by
        Group columns from ``orders`` or ``products``.
    order_items, products
        Contract ``order_items`` (``order_id``, ``sku``, ``quantity``, ``unit_price``)
        and ``products`` (``sku`` and the product ``by`` columns); needed for product
        groups, and ``order_items`` alone adds ``units``.
    amount
        The order column summed as GMV.
    statuses
        Order statuses that count as sales (``None``: every order).

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
    ValueError
        When ``period`` is not a period.
    """
    unit = TRUNCATE[normalise_period(period)]
    groups = by_columns(by)
    order_groups = [g for g in groups if g in orders.columns]
    product_groups = [g for g in groups if g not in orders.columns]
    _check_groups(orders, amount, product_groups, order_items, products)
    o = purchases(orders, statuses)
    o = o.mutate(period=o.order_ts.truncate(unit).cast("timestamp"))
    if order_items is None:
        agg = o.group_by(["period", *order_groups]).aggregate(
            gmv=gmv(o, amount), orders=o.order_id.nunique(), customers=o.customer_id.nunique()
        )
        agg = agg.mutate(gmv=agg.gmv.fill_null(0.0))
    else:
        o = o.mutate(__amount=o[amount].cast("float64"))
        agg = _line_kpis(o, order_items, products, order_groups, product_groups)
    agg = agg.mutate(
        aov=ibis.ifelse(agg.orders > 0, agg.gmv / agg.orders.cast("float64"), ibis.null("float64"))
    )
    units = ["units"] if order_items is not None else []
    return agg.select("period", *groups, *METRICS, *units).order_by([*groups, "period"])


def kpis(
    orders: ir.Table,
    period: str = "day",
    by: str | Sequence[str] | None = None,
    *,
    order_items: ir.Table | None = None,
    products: ir.Table | None = None,
    amount: str = GMV_AMOUNT,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """GMV, orders, customers and AOV per period (and group), computed in the engine.

    See :func:`kpis_expr` for the parameters and the module docstring for definitions.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, period start), the ``by`` columns, ``gmv`` (float),
        ``orders``, ``customers`` (int), ``aov`` (float) and, with order lines,
        ``units``. Periods without sales have no row (see :func:`fill_periods`).
        ``attrs``: ``period`` (the period word) and ``by``.
    """
    frame = fetch(
        kpis_expr(
            orders,
            period,
            by,
            order_items=order_items,
            products=products,
            amount=amount,
            statuses=statuses,
        )
    )
    frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    for c in ("orders", "customers", "units"):
        if c in frame:
            frame[c] = frame[c].astype("int64")
    frame["gmv"] = frame["gmv"].astype("float64")
    frame["aov"] = frame["aov"].astype("float64")
    frame.attrs["period"] = normalise_period(period)
    frame.attrs["by"] = by_columns(by)
    return frame


def fill_periods(
    frame: pd.DataFrame, period: str | None = None, *, start: Any = None, end: Any = None
) -> pd.DataFrame:
    """Add the periods without sales (zeros; ``aov`` missing) to a :func:`kpis` frame.

    Parameters
    ----------
    frame
        A :func:`kpis` frame (``period``, group columns, metrics).
    period
        ``day``/``week``/``month``; default ``frame.attrs["period"]``.
    start, end
        Range to cover (any day inside the first/last period); default the frame's.

    Returns
    -------
    pandas.DataFrame
        Every period × every group seen, in the same columns.
    """
    p = normalise_period(period or frame.attrs.get("period", "day"))
    groups = [c for c in frame.columns if c not in _VALUES]
    lo = period_start(start if start is not None else frame["period"].min(), p)
    hi = period_start(end if end is not None else frame["period"].max(), p)
    periods = pd.date_range(lo, hi, freq=PANDAS_FREQ[p], name="period")
    if groups:
        keys = frame[groups].drop_duplicates()
        grid = keys.merge(pd.DataFrame({"period": periods}), how="cross")
    else:
        grid = pd.DataFrame({"period": periods})
    out = grid.merge(frame, on=["period", *groups], how="left")
    out["gmv"] = out["gmv"].fillna(0.0)
    for c in ("orders", "customers", "units"):
        if c in out:
            out[c] = out[c].fillna(0).astype("int64")
    out = out[list(frame.columns)].sort_values([*groups, "period"], ignore_index=True)
    out.attrs.update(frame.attrs)
    return out


def to_series(
    frame: pd.DataFrame,
    metric: str = "gmv",
    period: str | None = None,
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
    period, start, end
        As in :func:`fill_periods`.

    Returns
    -------
    pandas.Series
        Named ``metric``, indexed by period start.
    """
    p = normalise_period(period or frame.attrs.get("period", "day"))
    filled = fill_periods(frame, p, start=start, end=end)
    extra = [c for c in filled.columns if c not in _VALUES]
    if extra:
        raise ValueError(f"the frame is grouped by {extra}; select one group or aggregate first")
    s = filled.set_index("period")[metric].astype("float64")
    s.index = pd.DatetimeIndex(s.index, freq=PANDAS_FREQ[p], name="period")
    s.name = metric
    return s


def daily_sales(orders: ir.Table, start: Any, end: Any) -> pd.DataFrame:
    """Daily :func:`kpis` from ``start`` to ``end``, days without sales filled with zeros.

    Parameters
    ----------
    orders
        Contract ``orders`` (as for :func:`kpis`).
    start, end
        First and last day shown (days after the last sale are not added).

    Returns
    -------
    pandas.DataFrame
        ``period`` (day), ``gmv``, ``orders``, ``customers``, ``aov``; one row per day
        from ``start`` (or the first sale, if later) on.
    """
    frame = fill_periods(kpis(orders, "day"), start=start, end=end)
    return frame[frame["period"] >= start]


def has_categories(tables: Sequence[str]) -> bool:
    """Whether a source's tables allow a product split (``order_items`` and ``products``)."""
    return "order_items" in tables and "products" in tables
