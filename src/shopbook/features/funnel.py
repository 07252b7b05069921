"""Session funnel, channel economics, margin and stock value — aggregated where the data lives.

Every function takes validated contract tables as ibis tables
(:meth:`shopbook.data.validation.ValidationReport.kept`; a pandas DataFrame is turned
into a memtable) and executes **one** aggregate query; what comes back is small (one row
per day × channel × device, or one row per channel).

Sections
--------
* Funnel — :func:`funnel_expr` / :func:`funnel`: sessions → product view → cart →
  checkout → order counts per period and group (``channel``, ``device``).
* Channel economics — :func:`channel_economics`: orders, GMV, new customers,
  marketing spend (and gross profit with order lines) per channel in a date window,
  the inputs of CAC and ROI.
* Margin — :func:`margin`: revenue, revenue with a known unit cost, cost of goods sold.
* Stock — :func:`stock_value`: average daily stock value at unit cost.

Definitions
-----------
A session reaches the stages ``product_view`` (``product_views > 0``), ``cart``
(``added_to_cart``), ``checkout`` (``reached_checkout``) and ``order`` (``order_id`` not
null). Stages are counted as flagged, not forced to nest.

A window is the closed day range ``[start, end]`` (``end`` inclusive, whole days).
Only ``paid`` orders count as sales; GMV is ``net_amount``. A **new customer** of the
window is one whose first paid order ever falls in it; they belong to the channel of that
first order. Order amounts are spread over the order's lines in proportion to
``quantity × unit_price`` (as :func:`shopbook.features.kpis.kpis` does), so line revenue
adds up to GMV.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features.customers import as_table
from shopbook.features.kpis import by_columns, normalise_freq

#: Funnel stages after ``sessions``, in order.
STAGES = ("product_view", "cart", "checkout", "order")
#: Count columns of :func:`funnel`.
COUNTS = ("sessions", *STAGES)


def _bounds(start: Any, end: Any) -> tuple[dt.datetime, dt.datetime]:
    lo = pd.Timestamp(start).normalize()
    hi = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    if hi <= lo:
        raise ValueError(f"end {pd.Timestamp(end).date()} is before start {lo.date()}")
    return lo.to_pydatetime(), hi.to_pydatetime()


def _in_window(col: ir.Value, start: Any, end: Any) -> ir.BooleanValue:
    lo, hi = _bounds(start, end)
    if col.type().is_date():
        return (col >= lo.date()) & (col < hi.date())
    return (col >= lo) & (col < hi)


# ----------------------------------------------------------------------------- funnel


def funnel_expr(
    sessions: Any,
    freq: str | None = "D",
    by: str | Sequence[str] | None = "channel",
    *,
    start: Any = None,
    end: Any = None,
) -> ir.Table:
    """The ibis expression behind :func:`funnel` (nothing is executed).

    Parameters
    ----------
    sessions
        Contract ``sessions``: ``session_ts``, ``product_views``, ``added_to_cart``,
        ``reached_checkout``, ``order_id`` and the ``by`` columns.
    freq
        ``"D"``/``"W"``/``"M"`` for one row per period (column ``period``), or ``None``
        for one row per group over the whole window.
    by
        Group columns (``channel``, ``device``), or ``None``.
    start, end
        Optional window (days, inclusive); both or neither.

    Returns
    -------
    ibis.Table
        ``period`` (when ``freq``), the ``by`` columns, ``sessions``, ``product_view``,
        ``cart``, ``checkout``, ``order`` (int64).
    """
    t = as_table(sessions)
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    if start is not None:
        t = t.filter(_in_window(t.session_ts, start, end))
    keys = by_columns(by)
    if freq is not None:
        t = t.mutate(period=t.session_ts.truncate(normalise_freq(freq)).cast("timestamp"))
        keys = ["period", *keys]
    one = ibis.literal(1, "int64")
    zero = ibis.literal(0, "int64")
    metrics = dict(
        sessions=t.count(),
        product_view=ibis.ifelse(t.product_views > 0, one, zero).sum(),
        cart=ibis.ifelse(t.added_to_cart, one, zero).sum(),
        checkout=ibis.ifelse(t.reached_checkout, one, zero).sum(),
        order=ibis.ifelse(t.order_id.notnull(), one, zero).sum(),
    )
    if not keys:
        return t.aggregate(**metrics)
    return t.group_by(keys).aggregate(**metrics).order_by(keys)


def funnel(
    sessions: Any,
    freq: str | None = "D",
    by: str | Sequence[str] | None = "channel",
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Sessions and the sessions reaching each funnel stage, per period and group.

    See :func:`funnel_expr` for the parameters.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, when ``freq``), the ``by`` columns and the int64 counts
        ``sessions``, ``product_view``, ``cart``, ``checkout``, ``order``. Periods and
        groups without sessions have no row.
    """
    frame = funnel_expr(sessions, freq, by, start=start, end=end).execute()
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    for c in COUNTS:
        frame[c] = frame[c].fillna(0).astype("int64")
    frame.attrs["freq"] = None if freq is None else normalise_freq(freq)
    frame.attrs["by"] = by_columns(by)
    return frame


def stage_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Step-by-step pass rates of a :func:`funnel` frame (pandas, no engine).

    Parameters
    ----------
    counts
        Columns ``sessions``, ``product_view``, ``cart``, ``checkout``, ``order`` (plus
        any group columns, kept).

    Returns
    -------
    pandas.DataFrame
        The group columns and ``product_view`` (per session), ``add_to_cart`` (per
        product-view session), ``checkout`` (per cart), ``order`` (per checkout) and
        ``conversion`` (orders per session); NaN where the denominator is 0.
    """
    keep = [c for c in counts.columns if c not in COUNTS]
    out = counts[keep].copy()

    def ratio(a: str, b: str) -> pd.Series:
        den = counts[b].astype("float64")
        return counts[a].astype("float64").div(den.where(den > 0))

    out["product_view"] = ratio("product_view", "sessions")
    out["add_to_cart"] = ratio("cart", "product_view")
    out["checkout"] = ratio("checkout", "cart")
    out["order"] = ratio("order", "checkout")
    out["conversion"] = ratio("order", "sessions")
    return out


# ------------------------------------------------------------------ order lines, margin


def _lines(
    orders: ir.Table,
    order_items: ir.Table,
    start: Any,
    end: Any,
    statuses: Sequence[str] = ("paid",),
) -> ir.Table:
    """Paid order lines in the window with spread revenue and (nullable) cost."""
    o = orders.filter(orders.status.isin(list(statuses)), _in_window(orders.order_ts, start, end))
    it = order_items.mutate(__line=(order_items.quantity * order_items.unit_price).cast("float64"))
    w = ibis.window(group_by=it.order_id)
    it = it.mutate(__tot=it.__line.sum().over(w), __n=it.order_id.count().over(w))
    it = it.mutate(
        __share=ibis.ifelse(it.__tot > 0, it.__line / it.__tot, 1.0 / it.__n.cast("float64"))
    )
    j = o.inner_join(it, o.order_id == it.order_id)
    return j.select(
        channel=o.channel,
        order_id=o.order_id,
        sku=it.sku,
        revenue=o.net_amount.cast("float64") * it.__share,
        cost=(it.quantity * it.unit_cost).cast("float64"),
    )


def margin(
    orders: Any, order_items: Any, start: Any, end: Any, by: str | None = None
) -> pd.DataFrame:
    """Revenue, cost of goods sold and gross profit of paid orders in a window.

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

    Returns
    -------
    pandas.DataFrame
        ``by`` (when given), ``revenue`` (line revenue, adds up to GMV of orders with
        lines), ``revenue_costed`` (revenue of lines with a unit cost), ``cogs`` (their
        cost), ``gross_profit`` (``revenue_costed - cogs``), ``margin``
        (``gross_profit / revenue_costed``) and ``uncosted_share`` (share of revenue
        without a unit cost).
    """
    lines = _lines(as_table(orders), as_table(order_items), start, end)
    keys = by_columns(by)
    has_cost = lines.cost.notnull()
    metrics = dict(
        revenue=lines.revenue.sum(),
        revenue_costed=ibis.ifelse(has_cost, lines.revenue, 0.0).sum(),
        cogs=lines.cost.sum(),
    )
    agg = lines.group_by(keys).aggregate(**metrics) if keys else lines.aggregate(**metrics)
    frame = agg.execute()
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


def stock_value(inventory: Any, order_items: Any, start: Any, end: Any) -> dict[str, float]:
    """Average daily stock value at unit cost over a window.

    A SKU's unit cost is the quantity-weighted mean ``unit_cost`` of its order lines
    (all history; the inventory table carries no cost).

    Parameters
    ----------
    inventory
        Contract ``inventory`` (``date``, ``sku``, ``on_hand``).
    order_items
        Contract ``order_items`` (``sku``, ``quantity``, ``unit_cost``).
    start, end
        The window (days, inclusive).

    Returns
    -------
    dict
        ``value`` (mean over the window's inventory days of Σ on_hand × unit cost),
        ``days`` (days with a stock record), ``uncosted_units_share`` (share of on-hand
        units whose SKU has no known cost; they are left out of ``value``).
    """
    inv = as_table(inventory)
    it = as_table(order_items)
    it = it.filter(it.unit_cost.notnull())
    cost = it.group_by("sku").aggregate(
        unit_cost=(it.quantity * it.unit_cost).sum().cast("float64")
        / it.quantity.sum().cast("float64")
    )
    inv = inv.filter(_in_window(inv.date, start, end))
    j = inv.left_join(cost, inv.sku == cost.sku)
    daily = j.group_by(j.date).aggregate(
        value=(j.on_hand * j.unit_cost).sum().cast("float64"),
        units=j.on_hand.sum().cast("float64"),
        uncosted=ibis.ifelse(j.unit_cost.isnull(), j.on_hand, 0).sum().cast("float64"),
    )
    row = (
        daily.aggregate(
            value=daily.value.fill_null(0.0).mean(),
            days=daily.count(),
            units=daily.units.sum(),
            uncosted=daily.uncosted.sum(),
        )
        .execute()
        .iloc[0]
    )
    days = int(row["days"])
    units = float(row["units"] or 0.0)
    return {
        "value": float(row["value"]) if days else float("nan"),
        "days": days,
        "uncosted_units_share": float(row["uncosted"]) / units if units > 0 else float("nan"),
    }


# ----------------------------------------------------------------- channel economics


def new_customers_expr(orders: Any, statuses: Sequence[str] = ("paid",)) -> ir.Table:
    """First paid order of every customer: ``customer_id``, ``first_ts``, ``channel``.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``channel``, ``status``).
    statuses
        Statuses that count as purchases.
    """
    o = as_table(orders)
    o = o.filter(o.status.isin(list(statuses)))
    return o.group_by("customer_id").aggregate(
        first_ts=o.order_ts.min(), channel=o.channel.argmin(o.order_ts)
    )


def channel_economics(
    orders: Any, start: Any, end: Any, *, marketing_spend: Any = None, order_items: Any = None
) -> pd.DataFrame:
    """Sales, new customers, marketing spend (and gross profit) per channel in a window.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_id``, ``customer_id``, ``order_ts``, ``channel``,
        ``status``, ``net_amount``).
    start, end
        The window (days, inclusive).
    marketing_spend
        Contract ``marketing_spend`` (``date``, ``channel``, ``spend``,
        ``impressions``, ``clicks``), optional.
    order_items
        Contract ``order_items``, optional: adds the :func:`margin` columns per channel.

    Returns
    -------
    pandas.DataFrame
        One row per channel seen in orders or spend: ``channel``, ``orders``, ``gmv``,
        ``customers`` (distinct buyers), ``new_customers``; with spend ``spend``,
        ``impressions``, ``clicks`` (0 for channels without spend rows); with lines
        ``revenue_costed``, ``cogs``, ``gross_profit``, ``uncosted_share``.
    """
    o = as_table(orders)
    paid = o.filter(o.status == "paid", _in_window(o.order_ts, start, end))
    sales = (
        paid.group_by("channel")
        .aggregate(
            orders=paid.order_id.nunique(),
            gmv=paid.net_amount.cast("float64").sum(),
            customers=paid.customer_id.nunique(),
        )
        .execute()
    )
    first = new_customers_expr(o)
    first = first.filter(_in_window(first.first_ts, start, end))
    new = first.group_by("channel").aggregate(new_customers=first.count()).execute()
    out = sales.merge(new, on="channel", how="outer")
    if marketing_spend is not None:
        s = as_table(marketing_spend)
        s = s.filter(_in_window(s.date, start, end))
        aggs = {"spend": s.spend.cast("float64").sum()}
        for c in ("impressions", "clicks"):
            if c in s.columns:
                aggs[c] = s[c].cast("float64").sum()
        sp = s.group_by("channel").aggregate(**aggs).execute()
        out = out.merge(sp, on="channel", how="outer")
    if order_items is not None:
        m = margin(o, order_items, start, end, by="channel")
        out = out.merge(
            m[["channel", "revenue_costed", "cogs", "gross_profit", "uncosted_share"]],
            on="channel",
            how="left",
        )
    for c in ("orders", "customers", "new_customers"):
        out[c] = out[c].fillna(0).astype("int64")
    for c in ("gmv", "spend", "impressions", "clicks"):
        if c in out:
            out[c] = out[c].astype("float64").fillna(0.0)
    return out.sort_values("channel", ignore_index=True)


__all__ = [
    "COUNTS",
    "STAGES",
    "channel_economics",
    "funnel",
    "funnel_expr",
    "margin",
    "new_customers_expr",
    "stage_rates",
    "stock_value",
]
