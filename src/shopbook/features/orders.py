"""What an order means: the one home of the order concepts every notebook shares.

Each concept is defined here once and used everywhere else (features build on these
expressions; analysis receives the frames they produce):

* **purchase** — an order whose ``status`` is in :data:`PURCHASE_STATUSES` (``paid``;
  refunded and cancelled orders are not purchases). Every function takes ``statuses``
  so a caller can widen it; ``None`` counts every order.
* **placed order** — an order that was placed and not cancelled: ``status`` in
  :data:`PLACED_STATUSES` (``paid`` or ``refunded``; what an experiment counts as a
  unit's orders, a refund being a guardrail, not a missing order).
* **window** — whole days, both ends inclusive: :func:`window_bounds` turns
  ``start``/``end`` into ``[start 00:00, end + 1 day 00:00)`` and :func:`in_window`
  tests a timestamp or date column against it; :func:`window_of` names the window (of
  several that do not overlap) a row falls in and :func:`in_windows` keeps the rows of
  such windows, named, to count them all in one pass.
* **first purchase** — each customer's earliest purchase: :func:`first_purchases`.
* **order span** — the first and last day with a purchase: :func:`order_span`.
* **currency** — the dataset's one currency: :func:`currency`.
* **line share** — an order line's share of its order's amount: :func:`line_shares`.
* **GMV** — the sum of ``net_amount`` (what customers paid) over purchases:
  :func:`gmv` (as an ibis aggregate) and the ``amount`` column of :func:`purchases`.
* **money** — summed in the engine as a DECIMAL (:data:`MONEY`: whole cents), so a
  total is exact and the same on every engine and every run, whatever order the engine
  adds rows in: :func:`money_sum`. Only the total is turned into a float.

Every function takes the contract ``orders`` table as an ibis table (or a small pandas
DataFrame, wrapped as a memtable) and returns an ibis expression, except the scalar
look-ups :func:`order_span` and :func:`currency`, which run one small query.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt_
import ibis.expr.types as ir
import pandas as pd

from shopbook.features.periods import end_note

#: Order statuses that count as purchases by default.
PURCHASE_STATUSES: tuple[str, ...] = ("paid",)

#: Order statuses of orders that were placed and not cancelled (paid, or paid and later
#: refunded): pass as ``statuses=`` to count every order a customer placed.
PLACED_STATUSES: tuple[str, ...] = ("paid", "refunded")

#: The money column that GMV sums by default (what the customer paid).
GMV_AMOUNT = "net_amount"

#: Decimal places money is summed to: cents (:data:`MONEY`).
MONEY_SCALE = 2
#: Decimal places of an amount spread over order lines (:func:`line_shares`): a line's
#: part of its order is rounded to a millionth, so the parts of an order add up to its
#: amount to well within a cent, and their sums are exact and reproducible.
SHARE_SCALE = 6
#: The engine type money is summed in: DECIMAL(18, 2). Floats added in the engine's
#: order differ in the last digits from run to run and from engine to engine; a decimal
#: sum is exact (DuckDB widens it to DECIMAL(38, 2), PostgreSQL to NUMERIC, Spark to
#: DECIMAL(28, 2)).
MONEY = dt_.Decimal(precision=18, scale=MONEY_SCALE)


def money(value: ir.NumericValue, scale: int = MONEY_SCALE) -> ir.DecimalValue:
    """A money value as an engine DECIMAL rounded to ``scale`` decimal places."""
    return value.cast(dt_.Decimal(precision=18 if scale <= MONEY_SCALE else 24, scale=scale))


def line_money(price: ir.NumericValue, quantity: ir.NumericValue) -> ir.DecimalValue:
    """A line's money: ``price × quantity`` as DECIMAL(18, 2), exact.

    The price is rounded to the cent first (:func:`money`). The product is cast back to
    DECIMAL(18, 2): DuckDB types DECIMAL(18, 2) × BIGINT as DECIMAL(38, 2), 128-bit, and
    summing 100 M of those took 10 % more CPU than the same sums of 64-bit decimals
    (``products.sku_features``: 114 against 104 CPU s). A line worth 10¹⁶ does not occur.
    """
    return money(money(price) * quantity.cast("int64"))


def money_sum(value: ir.NumericValue, scale: int = MONEY_SCALE) -> ir.DecimalScalar:
    """The exact sum of a money column: each value to ``scale`` places, added as DECIMAL.

    Cast the result to float64 (``.cast("float64")``) only once it is a total: a sum of
    sums stays exact when both are DECIMAL.
    """
    return money(value, scale).sum()


def as_table(orders: Any) -> ir.Table:
    """An ibis table for ``orders`` (ibis tables pass through; DataFrames become memtables)."""
    if isinstance(orders, ir.Table):
        return orders
    if isinstance(orders, pd.DataFrame):
        return ibis.memtable(orders)
    raise TypeError(f"expected an ibis table or a pandas DataFrame, got {type(orders).__name__}")


def purchases(orders: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES) -> ir.Table:
    """The orders that count as purchases.

    Parameters
    ----------
    orders
        Contract ``orders`` (needs ``status`` when ``statuses`` is given).
    statuses
        Order statuses that count as purchases; ``None`` keeps every order.

    Returns
    -------
    ibis.Table
        The same columns, filtered.
    """
    t = as_table(orders)
    if statuses is None:
        return t
    return t.filter(t.status.isin(list(statuses)))


def window_bounds(start: Any, end: Any) -> tuple[dt.datetime, dt.datetime]:
    """A window of whole days as ``[start 00:00, end + 1 day 00:00)``.

    Raises
    ------
    ValueError
        When ``end`` is before ``start``.
    """
    lo = pd.Timestamp(start).normalize()
    hi = pd.Timestamp(end).normalize() + pd.Timedelta(days=1)
    if hi <= lo:
        raise ValueError(f"end {pd.Timestamp(end).date()} is before start {lo.date()}")
    return lo.to_pydatetime(), hi.to_pydatetime()


def in_window(col: ir.Value, start: Any, end: Any) -> ir.BooleanValue:
    """Whether a timestamp or date column falls in the days ``start`` to ``end`` (inclusive)."""
    lo, hi = window_bounds(start, end)
    if col.type().is_date():
        return (col >= lo.date()) & (col < hi.date())
    return (col >= lo) & (col < hi)


def window_of(col: ir.Value, windows: Mapping[str, tuple[Any, Any]]) -> ir.StringValue:
    """The name of the window a timestamp or date column falls in (null: in none).

    Parameters
    ----------
    col
        A timestamp or date column.
    windows
        ``{name: (start, end)}``, windows of whole days (:func:`in_window`).

    Raises
    ------
    ValueError
        When two windows overlap (a row would be in both) or ``windows`` is empty.
    """
    if not windows:
        raise ValueError("give at least one window")
    spans = sorted((window_bounds(a, b), name) for name, (a, b) in windows.items())
    for ((_, hi), first), ((lo, _), second) in zip(spans, spans[1:], strict=False):
        if lo < hi:
            raise ValueError(f"windows {first!r} and {second!r} overlap")
    cases = [(in_window(col, a, b), ibis.literal(name)) for name, (a, b) in windows.items()]
    return ibis.cases(*cases, else_=ibis.null("string"))


def in_windows(t: ir.Table, column: str, windows: Mapping[str, tuple[Any, Any]]) -> ir.Table:
    """The rows of ``t`` whose ``column`` falls in one of ``windows``, tagged with its name.

    Several windows counted in one pass over the rows: group by the tag (the KPI
    brief's window and the one before it). The rows are first filtered to the days from
    the first window's start to the last one's end, a plain range the engine can use to
    skip data (Parquet row groups, partitions) before it names each row's window.

    Parameters
    ----------
    t
        Any table with ``column``, a timestamp or date column.
    windows
        ``{name: (start, end)}``: windows of whole days that do not overlap
        (:func:`window_of`).

    Returns
    -------
    ibis.Table
        ``t``'s columns and ``window`` (the name).
    """
    tag = window_of(t[column], windows)  # checks the windows
    lo = min(pd.Timestamp(a) for a, _ in windows.values())
    hi = max(pd.Timestamp(b) for _, b in windows.values())
    t = t.filter(in_window(t[column], lo, hi)).mutate(window=tag)
    return t.filter(t.window.notnull())


def gmv(orders: ir.Table, amount: str = GMV_AMOUNT) -> ir.FloatingScalar:
    """GMV of ``orders`` as an ibis aggregate: the exact (DECIMAL) sum of ``amount`` to
    the cent, as float64 (:func:`money_sum`).

    Filter to purchases (and a window) first: ``gmv(purchases(o))``.
    """
    return money_sum(orders[amount]).cast("float64")


def line_shares(order_items: Any) -> ir.Table:
    """Each order line's share of its order, to spread an order amount over its lines.

    A line's share is its value ``quantity × unit_price`` over the order's total line
    value; the lines of an order worth nothing share it equally. The shares of an order
    add up to 1, so ``amount × line_share`` over an order's lines adds up to its amount.

    Parameters
    ----------
    order_items
        Contract ``order_items`` (``order_id``, ``quantity``, ``unit_price``; any other
        columns are kept).

    Returns
    -------
    ibis.Table
        The same rows and columns plus ``line_share`` (float64).
    """
    it = as_table(order_items)
    it = it.mutate(__line=(it.quantity * it.unit_price).cast("float64"))
    w = ibis.window(group_by=it.order_id)
    it = it.mutate(__tot=it.__line.sum().over(w), __n=it.order_id.count().over(w))
    share = ibis.ifelse(it.__tot > 0, it.__line / it.__tot, 1.0 / it.__n.cast("float64"))
    return it.mutate(line_share=share).drop("__line", "__tot", "__n")


def first_purchases(orders: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES) -> ir.Table:
    """Each customer's first purchase: when, and through which channel.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``channel``, ``status``).
    statuses
        Order statuses that count as purchases (``None``: all).

    Returns
    -------
    ibis.Table
        One row per customer: ``customer_id``, ``first_ts`` (timestamp),
        ``first_day`` (date), ``first_channel`` (channel of the earliest order).
    """
    t = purchases(orders, statuses)
    ts = t.order_ts.cast("timestamp")
    agg = t.group_by("customer_id").agg(first_ts=ts.min(), first_channel=t.channel.argmin(ts))
    return agg.mutate(first_day=agg.first_ts.date())


def order_span(
    orders: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES, end: Any = None
) -> tuple[dt.date, dt.date] | None:
    """The first and the last day with a purchase (one scalar query).

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_ts``, ``status``).
    statuses
        Order statuses that count (``None``: every order).
    end
        Only orders on or before this day count (``None``: all).

    Returns
    -------
    (datetime.date, datetime.date) or None
        ``None`` when there is no such order.
    """
    t = purchases(orders, statuses)
    end_day = None if end is None or end == "" else pd.Timestamp(end).date()
    if end_day is not None:
        t = t.filter(t.order_ts.cast("timestamp").date() <= end_day)
    ts = t.order_ts.cast("timestamp")
    row = t.aggregate(first=ts.min(), last=ts.max()).execute().iloc[0]
    if pd.isna(row["first"]):
        return None
    return pd.Timestamp(row["first"]).date(), pd.Timestamp(row["last"]).date()


@dataclass(frozen=True)
class OrdersThrough:
    """The result of :func:`orders_through`.

    Attributes
    ----------
    orders
        The orders placed on or before ``last_day`` (an ibis table).
    first_day, last_day
        The first day with an order and the last day counted: the report's ``end``, or
        the data's last day when ``end`` is empty or after it.
    data_end
        The data's last day with an order.
    note
        The sentence for an ``end`` after the data (:func:`~shopbook.features.periods.end_note`),
        else ``""``.
    """

    orders: Any
    first_day: dt.date
    last_day: dt.date
    data_end: dt.date
    note: str


def orders_through(
    orders: Any, end: Any = None, statuses: Sequence[str] | None = None, what: str = "sales"
) -> OrdersThrough | None:
    """The orders up to a report's ``end`` — never past the data's last day.

    Parameters
    ----------
    orders
        Contract ``orders`` (``order_ts``, ``status``).
    end
        The report's last day (``None`` / ``""``: the data's last day).
    statuses
        Statuses whose days span the data (``None``: every order, as a trend counts days
        with any order).
    what
        What is counted, for the sentence when ``end`` lies after the data.

    Returns
    -------
    OrdersThrough or None
        ``None`` when there is no order on or before ``end``.
    """
    t = as_table(orders)
    span = order_span(t, statuses=statuses)
    if span is None:
        return None
    first, data_end = span
    requested = None if end is None or end == "" else pd.Timestamp(end).date()
    last = data_end if requested is None else min(requested, data_end)
    if last < first:
        return None
    kept = t.filter(in_window(t.order_ts, first, last))
    return OrdersThrough(kept, first, last, data_end, end_note(end, data_end, what))


def currency(orders: Any) -> str:
    """The dataset's currency code (the contract allows one per dataset); ``""`` when unknown."""
    t = as_table(orders)
    if "currency" not in t.columns:
        return ""
    value = t.currency.max().execute()
    return "" if value is None or pd.isna(value) else str(value)


__all__ = [
    "OrdersThrough",
    "orders_through",
    "GMV_AMOUNT",
    "MONEY",
    "MONEY_SCALE",
    "SHARE_SCALE",
    "PLACED_STATUSES",
    "PURCHASE_STATUSES",
    "as_table",
    "currency",
    "first_purchases",
    "gmv",
    "in_window",
    "line_shares",
    "money",
    "money_sum",
    "order_span",
    "purchases",
    "in_windows",
    "window_bounds",
    "window_of",
]
