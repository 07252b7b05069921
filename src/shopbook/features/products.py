"""Per-SKU sales, demand and stock — aggregated where the data lives.

:func:`sku_features` builds ibis expressions over validated contract tables
(:meth:`shopbook.data.validation.ValidationReport.kept`) and returns one row per SKU:

* **Sales** of paid orders up to ``end``: ``units``, ``revenue`` (quantity × unit
  price), ``orders`` (distinct orders with the SKU), ``first_sale``, ``last_sale``.
* **Gross profit.** ``unit_cost`` is nullable. ``gross_profit`` is the sum of
  ``quantity × (unit_price − unit_cost)`` over the lines *that have a cost*;
  ``cost_coverage`` is the share of the SKU's revenue on such lines and ``margin`` is
  ``gross_profit`` over that revenue. A SKU with no costed line has ``gross_profit``,
  ``margin`` missing (``cost_coverage`` 0); one with some costed lines has a profit of
  those lines only — ``cost_coverage < 1`` says so. The frame's ``attrs`` count both
  (``skus_without_cost``, ``skus_partial_cost``).
* **Weekly demand** for XYZ: weeks are 7-day blocks counted back from ``end`` (the last
  block ends on ``end``, so every block is complete), from the later of the first paid
  order day and the SKU's ``launch_date``; a week without sales counts as 0 units.
  ``weekly_mean``, ``weekly_sd`` (ddof 1) over ``weeks`` such weeks (at most
  ``max_weeks``).
* **Recent daily demand** for safety stock: the last ``recent_days`` days up to ``end``
  (fewer for a SKU launched within them), zero days included: ``mean_daily``,
  ``sd_daily`` (ddof 1), ``recent_units``. Sales lost while out of stock are not seen
  (demand is censored); ``stockout_days`` counts the recent days with ``on_hand`` 0 so a
  reader can judge.
* **Stock** from ``inventory``: each SKU's latest snapshot on or before ``end``
  (``snapshot_date``, ``on_hand``, ``on_order``) and ``days_of_cover = on_hand /
  mean_daily`` (infinite when there is stock and no recent demand, 0 without stock).

The SKUs are those in ``products``, sold in the window, or in ``inventory``; a SKU with
no sales has zeros for its sales and demand. Only the per-SKU aggregates reach Python;
the arithmetic that turns sums into means and deviations runs on that small frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features._engine import count_if
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    PURCHASE_STATUSES,
    line_money,
    money_sum,
    order_span,
    purchases,
)
from shopbook.features.periods import end_note

#: Output columns of :func:`sku_features`, in order.
COLUMNS = (
    "sku",
    "name",
    "category",
    "lead_time_days",
    "units",
    "revenue",
    "orders",
    "gross_profit",
    "margin",
    "cost_coverage",
    "first_sale",
    "last_sale",
    "weeks",
    "weekly_mean",
    "weekly_sd",
    "recent_days",
    "recent_units",
    "mean_daily",
    "sd_daily",
    "snapshot_date",
    "on_hand",
    "on_order",
    "stockout_days",
    "days_of_cover",
)


def _sales_span(
    orders: ir.Table, end: str | dt.date | None, statuses: Sequence[str] | None
) -> tuple[dt.date, dt.date, dt.date]:
    """First purchase day, the last day counted, and the data's last order day.

    The last day counted is ``end``, or the data's last order day (any status) when
    ``end`` is empty or lies after it: days after the data are not days without sales.

    Raises
    ------
    ContractError
        When there is no purchase (up to ``end``).
    """
    any_span = order_span(orders, None)
    end_d = None if end is None or end == "" else pd.Timestamp(end).date()
    data_end = any_span[1] if any_span is not None else None
    if end_d is None or (data_end is not None and end_d > data_end):
        end_d = data_end
    span = order_span(orders, statuses, end=end_d) if end_d is not None else None
    if span is None or data_end is None or end_d is None:
        status = ", ".join(statuses) if statuses is not None else "any"
        raise ContractError(
            table="orders",
            column="status",
            expected=f"at least one order with status {status}"
            + (f" on or before {end_d}" if end_d else ""),
            found="none",
            fix="check the source, or choose a later end",
        )
    return span[0], end_d, data_end


def sku_features(
    orders: ir.Table,
    order_items: ir.Table,
    products: ir.Table | None = None,
    inventory: ir.Table | None = None,
    *,
    end: str | dt.date | None = None,
    recent_days: int = 28,
    max_weeks: int | None = 52,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """One row per SKU: sales, gross profit, weekly and recent daily demand, stock on hand.

    Parameters
    ----------
    orders
        Contract ``orders``: ``order_id``, ``order_ts``, ``status``.
    order_items
        Contract ``order_items``: ``order_id``, ``sku``, ``quantity``, ``unit_price``,
        ``unit_cost`` (nullable).
    products
        Contract ``products`` (optional): ``sku``, ``name``, ``category``,
        ``launch_date``, ``lead_time_days`` (nullable). Without it these columns are
        missing and every SKU's history starts at the first paid order day.
    inventory
        Contract ``inventory`` (optional): ``date``, ``sku``, ``on_hand``, ``on_order``.
        Without it (or when it is empty) the stock columns are missing.
    end
        Last day counted (``YYYY-MM-DD``); default — and for an ``end`` after the data —
        the day of the last order (any status): a day after the data is not a day
        without sales. ``attrs["end_note"]`` then says so.
    recent_days
        Days of recent daily demand (for safety stock and days of cover).
    max_weeks
        Most weeks of weekly demand used (``None``: the whole history).
    statuses
        Order statuses that count as sales.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS` (see the module docstring), sorted by revenue
        (highest first) then SKU. ``attrs``: ``start``, ``end`` (the last day counted),
        ``requested_end`` (``end`` as given, or ``None``), ``data_end`` (the last order
        day), ``end_note`` (a sentence when ``end`` lay after the data, else ``""``),
        ``recent_days``, ``snapshot_date`` (the latest stock snapshot on or before
        ``end``, ``None`` without one), ``inventory_end`` (the inventory's last day),
        ``skus_without_cost``, ``skus_partial_cost``, ``has_products``, ``has_inventory``.

    Raises
    ------
    ValueError
        When ``recent_days`` < 2 or ``max_weeks`` < 2.
    ContractError
        When there is no paid order up to ``end``.
    """
    if recent_days < 2:
        raise ValueError(
            "recent_days must be at least 2 (a standard deviation needs two days), "
            f"found {recent_days}"
        )
    if max_weeks is not None and max_weeks < 2:
        raise ValueError(f"max_weeks must be at least 2 or None, found {max_weeks}")
    start, end_d, data_end = _sales_span(orders, end, statuses)
    end_lit = ibis.literal(end_d)
    total_days = (end_d - start).days + 1

    o = purchases(orders, statuses)
    o = o.select("order_id", day=o.order_ts.date())
    o = o.filter(o.day <= end_d)
    items = order_items
    j = items.inner_join(o, items.order_id == o.order_id)
    lines = j.select(
        sku=items.sku,
        order_id=items.order_id,
        age=end_lit.delta(o.day, unit="day"),
        day=o.day,
        quantity=items.quantity.cast("int64"),
        revenue=line_money(items.unit_price, items.quantity),
        cost=line_money(items.unit_cost, items.quantity),
    )
    costed = lines.cost.notnull()
    totals = lines.group_by("sku").aggregate(  # money as exact DECIMAL sums, then floats
        units=lines.quantity.sum(),
        revenue=money_sum(lines.revenue).cast("float64"),
        orders=lines.order_id.nunique(),
        costed_revenue=money_sum(ibis.ifelse(costed, lines.revenue, 0)).cast("float64"),
        cogs=money_sum(lines.cost).cast("float64"),
        costed_lines=count_if(costed),
        first_sale=lines.day.min(),
        last_sale=lines.day.max(),
    )

    # the SKU universe and each SKU's first counted day
    universe = lines.select("sku")
    has_products = products is not None
    has_inventory = inventory is not None and int(inventory.count().execute()) > 0
    # without products or stock the SKUs are those sold and every span is the whole history:
    # the totals are the base, and no further pass over the lines finds the SKUs or spans
    sold_only = not has_products and not has_inventory
    if products is not None:
        universe = universe.union(products.select("sku"))
    if inventory is not None and has_inventory:
        universe = universe.union(inventory.filter(inventory.date <= end_d).select("sku"))
    universe = universe.distinct()
    if products is not None:
        p = products.select("sku", "name", "category", "launch_date", "lead_time_days")
        base = universe.left_join(p, universe.sku == p.sku).select(
            universe.sku, p.name, p.category, p.lead_time_days, launch=p.launch_date
        )
        first_day = ibis.greatest(base.launch.fill_null(start), ibis.literal(start))
        base = base.mutate(span=ibis.greatest(end_lit.delta(first_day, unit="day") + 1, 0))
        base = base.drop("launch")
    else:
        base = (totals if sold_only else universe).mutate(span=ibis.literal(total_days))

    def counted(span: Any, least: Any) -> tuple[Any, Any]:
        """The weeks and recent days counted for a SKU sold over ``span`` days."""
        weeks = span // 7 if max_weeks is None else least(span // 7, max_weeks)
        return weeks, least(span, recent_days)

    weeks_n, recent_n = counted(base.span, ibis.least)
    base = base.mutate(weeks=weeks_n.cast("int64"), recent_n=recent_n.cast("int64"))
    n_weeks, n_recent = counted(total_days, min)  # every SKU's, when all spans are the same

    # weekly demand: 7-day blocks back from end; sums and sums of squares (zero weeks add 0)
    wk = (
        lines.mutate(week=(lines.age // 7).cast("int64"))
        .group_by(["sku", "week"])
        .aggregate(w=lambda t: t.quantity.sum())
    )
    if sold_only:  # the same number of weeks for every SKU
        wk = wk.filter(wk.week < n_weeks)
    else:
        wk = wk.inner_join(base.select("sku", "weeks"), "sku")
        wk = wk.filter(wk.week < wk.weeks)
    wk = wk.group_by("sku").aggregate(
        w1=wk.w.sum().cast("float64"), w2=(wk.w * wk.w).sum().cast("float64")
    )
    dy = (
        lines.filter(lines.age < recent_days)
        .group_by(["sku", "age"])
        .aggregate(q=lambda t: t.quantity.sum())
    )
    if sold_only:
        dy = dy.filter(dy.age < n_recent)
    else:
        dy = dy.inner_join(base.select("sku", "recent_n"), "sku")
        dy = dy.filter(dy.age < dy.recent_n)
    dy = dy.group_by("sku").aggregate(
        d1=dy.q.sum().cast("float64"), d2=(dy.q * dy.q).sum().cast("float64")
    )

    out = base if sold_only else base.left_join(totals, "sku").drop("sku_right")
    out = out.left_join(wk, "sku").drop("sku_right")
    out = out.left_join(dy, "sku").drop("sku_right")
    if inventory is not None and has_inventory:
        inv = inventory.filter(inventory.date <= end_d)
        latest = inv.mutate(last=inv.date.max().over(group_by=inv.sku))
        latest = (
            latest.filter(latest.date == latest["last"])
            .group_by("sku")
            .aggregate(
                snapshot_date=latest.date.max(),
                on_hand=latest.on_hand.max(),
                on_order=latest.on_order.max(),
            )
        )
        outs = inv.filter((inv.on_hand == 0) & (end_lit.delta(inv.date, unit="day") < recent_days))
        outs = outs.group_by("sku").aggregate(stockout_days=outs.date.nunique())
        out = out.left_join(latest, "sku").drop("sku_right")
        out = out.left_join(outs, "sku").drop("sku_right")
    frame = fetch(out)
    result = _finish(
        frame,
        start=start,
        end=end_d,
        recent_days=recent_days,
        has_products=has_products,
        has_inventory=has_inventory,
    )
    result.attrs.update(
        requested_end=None if end is None or end == "" else pd.Timestamp(end).date(),
        data_end=data_end,
        end_note=end_note(end, data_end, "sales, demand and stock"),
        inventory_end=_inventory_end(inventory) if has_inventory else None,
    )
    return result


def _inventory_end(inventory: ir.Table) -> dt.date | None:
    """The last day of the inventory table (any SKU)."""
    value = inventory.date.max().execute()
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def _finish(
    f: pd.DataFrame,
    *,
    start: dt.date,
    end: dt.date,
    recent_days: int,
    has_products: bool,
    has_inventory: bool,
) -> pd.DataFrame:
    """Means and deviations from the engine's sums; profit; cover. Small frame only."""
    f = f.copy()
    for c in ("units", "orders", "costed_lines"):
        f[c] = f[c].fillna(0).astype("int64")
    for c in ("revenue", "costed_revenue", "w1", "w2", "d1", "d2"):
        f[c] = f[c].astype("float64").fillna(0.0)
    f["gross_profit"] = np.where(
        f["costed_lines"] > 0, f["costed_revenue"] - f["cogs"].astype("float64"), np.nan
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        f["margin"] = np.where(
            f["costed_revenue"] > 0, f["gross_profit"] / f["costed_revenue"], np.nan
        )
        f["cost_coverage"] = np.where(
            f["revenue"] > 0,
            f["costed_revenue"] / f["revenue"],
            np.where(f["units"] > 0, 1.0 * (f["costed_lines"] > 0), np.nan),
        )

    def mean_sd(s1: pd.Series, s2: pd.Series, n: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        n = n.astype("float64").to_numpy()
        s1, s2 = s1.to_numpy(), s2.to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(n > 0, s1 / n, np.nan)
            var = np.where(n > 1, (s2 - s1 * s1 / np.where(n > 0, n, 1)) / (n - 1), np.nan)
        return mean, np.sqrt(np.clip(var, 0.0, None))

    f["weeks"] = f["weeks"].astype("int64")
    f["recent_days"] = f["recent_n"].astype("int64")
    f["weekly_mean"], f["weekly_sd"] = mean_sd(f["w1"], f["w2"], f["weeks"])
    f["recent_units"] = f["d1"].astype("int64")
    f["mean_daily"], f["sd_daily"] = mean_sd(f["d1"], f["d2"], f["recent_days"])
    for c in ("first_sale", "last_sale"):
        f[c] = pd.to_datetime(f[c])
    if has_inventory:
        f["snapshot_date"] = pd.to_datetime(f["snapshot_date"])
        f["on_hand"] = f["on_hand"].astype("Int64")
        f["on_order"] = f["on_order"].astype("Int64")
        f["stockout_days"] = pd.to_numeric(f["stockout_days"]).fillna(0).astype("int64")
        hand = f["on_hand"].astype("float64").to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            f["days_of_cover"] = np.where(hand == 0, 0.0, hand / f["mean_daily"].to_numpy())
    else:
        f["snapshot_date"] = pd.NaT
        for c in ("on_hand", "on_order"):
            f[c] = pd.array([pd.NA] * len(f), dtype="Int64")
        f["stockout_days"] = pd.array([pd.NA] * len(f), dtype="Int64")
        f["days_of_cover"] = np.nan
    if not has_products:
        f["name"] = None
        f["category"] = None
        f["lead_time_days"] = np.nan
    f["lead_time_days"] = f["lead_time_days"].astype("Float64").astype("float64")
    f = f.sort_values(["revenue", "sku"], ascending=[False, True], ignore_index=True)
    out = f[list(COLUMNS)]
    sold = out["units"] > 0
    out.attrs.update(
        start=start,
        end=end,
        recent_days=recent_days,
        has_products=has_products,
        has_inventory=has_inventory,
        snapshot_date=(
            pd.Timestamp(out["snapshot_date"].max()).date()
            if has_inventory and out["snapshot_date"].notna().any()
            else None
        ),
        skus_without_cost=int((sold & (out["cost_coverage"] == 0)).sum()),
        skus_partial_cost=int(
            (sold & (out["cost_coverage"] > 0) & (out["cost_coverage"] < 1)).sum()
        ),
    )
    return out
