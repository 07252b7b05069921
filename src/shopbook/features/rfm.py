"""Recency, frequency and monetary value per customer, computed in the engine.

The RFM analysis (:mod:`shopbook.analysis.rfm`) scores and names customers on the small
frame these functions bring back (one row per customer); everything that reads the
``orders`` table runs here, where the data lives.

* :func:`scoring_day` — the scoring day (the first day *not* counted) for a report's
  ``end``, never past the data: an ``end`` after the last order scores as of the data's
  end and says so (:class:`ScoringDay`); :func:`rfm_asof` is its day alone;
* :func:`rfm_base` — the per-customer aggregate as an ibis expression;
* :func:`customer_rfm` — the same, executed: a pandas frame with typed columns and the
  window it covers in ``attrs``.

Which orders count: purchases (:data:`shopbook.features.orders.PURCHASE_STATUSES`,
``paid`` by default) with ``order_ts`` before midnight of ``asof`` (and, with
``lookback_days``, on or after ``asof - lookback_days``); money is ``net_amount``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    PURCHASE_STATUSES,
    as_table,
    in_window,
    money_sum,
    order_span,
    purchases,
)
from shopbook.features.periods import end_note

#: Columns of ``orders`` that :func:`rfm_base` reads.
ORDER_COLUMNS: tuple[str, ...] = ("customer_id", "order_ts", "status", "net_amount")

#: Columns of :func:`customer_rfm`, in order.
CUSTOMER_RFM_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "first_order",
    "last_order",
    "frequency",
    "monetary",
    "recency",
)


def check_orders(orders: Any) -> ir.Table:
    """The ``orders`` table as ibis, after checking the columns RFM reads.

    Returns
    -------
    ibis.Table
        ``orders`` as an ibis table (a DataFrame becomes a memtable).

    Raises
    ------
    ContractError
        A column of :data:`ORDER_COLUMNS` is missing, ``order_ts`` is not a timestamp or
        ``net_amount`` is not a number.
    TypeError
        ``orders`` is neither an ibis table nor a pandas DataFrame.
    """
    t = as_table(orders)
    schema = t.schema()
    missing = [c for c in ORDER_COLUMNS if c not in schema]
    if missing:
        raise ContractError(
            table="orders",
            column=missing[0],
            expected=f"columns {', '.join(ORDER_COLUMNS)}",
            found="columns " + ", ".join(schema.names),
            fix="pass contract orders (validated, e.g. report.kept('orders')) or map the "
            "column in the column mapping",
        )
    if not schema["order_ts"].is_timestamp():
        raise ContractError(
            table="orders",
            column="order_ts",
            expected="a timestamp",
            found=str(schema["order_ts"]),
            fix="pass validated orders (shopbook.data.validation.validate), which types the column",
        )
    if not schema["net_amount"].is_numeric():
        raise ContractError(
            table="orders",
            column="net_amount",
            expected="a number",
            found=str(schema["net_amount"]),
            fix="pass validated orders (shopbook.data.validation.validate)",
        )
    return t


def _day(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(None)
    return ts.normalize()


@dataclass(frozen=True)
class ScoringDay:
    """The day customers are scored on, and why when it is not the day asked for.

    Attributes
    ----------
    asof
        Midnight of the first day *not* counted (orders before it count).
    requested
        The ``end`` asked for (the last day to count), ``None`` when none was given.
    data_end
        The day of the last order of any status.
    """

    asof: pd.Timestamp
    requested: pd.Timestamp | None
    data_end: dt.date

    @property
    def end(self) -> pd.Timestamp:
        """The last day counted (the day before :attr:`asof`)."""
        return self.asof - pd.Timedelta(days=1)

    @property
    def clipped(self) -> bool:
        """Whether ``end`` lay after the data and the scores are as of the data's end."""
        return self.requested is not None and self.requested.date() > self.data_end

    @property
    def note(self) -> str:
        """A sentence for the report when :attr:`clipped` (empty otherwise)."""
        if self.requested is None:
            return ""
        return end_note(self.requested, self.data_end, "recency, frequency and money")


def scoring_day(orders: Any, end: Any = None) -> ScoringDay:
    """The scoring day for a report's ``end``: the day after it, never past the data.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``net_amount``).
    end
        The last day to count; ``None`` or ``""`` takes the day of the last order of any
        status. An ``end`` after that day is moved back to it (the scores would otherwise
        count days without data as days without a purchase, and every customer would
        look lapsed); :attr:`ScoringDay.note` says so.

    Returns
    -------
    ScoringDay

    Raises
    ------
    ContractError
        ``orders`` lacks a needed column, or has no rows.
    """
    span = order_span(check_orders(orders), statuses=None)
    if span is None:
        raise ContractError(
            table="orders",
            expected="at least one order",
            found="no rows",
            fix="check the source and the validation report (were all rows rejected?)",
        )
    last = pd.Timestamp(span[1]).normalize()
    requested = _day(end) if end is not None and end != "" else None
    day = last if requested is None or requested > last else requested
    return ScoringDay(day + pd.Timedelta(days=1), requested, last.date())


def rfm_asof(orders: Any, end: Any = None) -> pd.Timestamp:
    """The scoring day: the day after ``end`` (at most the last order's day), or the day
    after the last order.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``net_amount``).
    end
        The last day counted; ``None`` or ``""`` (or a day after the last order) takes
        the day of the last order of any status (one scalar query).

    Returns
    -------
    pandas.Timestamp
        Midnight of the first day *not* counted (:attr:`ScoringDay.asof` of
        :func:`scoring_day`).

    Raises
    ------
    ContractError
        ``orders`` lacks a needed column, or has no rows.
    """
    return scoring_day(orders, end).asof


def rfm_base(
    orders: Any,
    asof: Any,
    lookback_days: int | None = None,
    statuses: Sequence[str] = PURCHASE_STATUSES,
) -> ir.Table:
    """Recency, frequency and monetary value per customer, as an ibis expression.

    The aggregation runs in the engine that holds ``orders`` (DuckDB, Postgres, Spark,
    …); executing the result brings back one row per customer.

    Parameters
    ----------
    orders : ibis.Table or pandas.DataFrame
        Contract ``orders``; needs ``customer_id``, ``order_ts`` (timestamp),
        ``status`` and ``net_amount``.
    asof : datetime-like
        The first day *not* counted (midnight). Orders with ``order_ts < asof`` count.
    lookback_days : int, optional
        Count only orders on or after ``asof - lookback_days`` days; ``None`` counts the
        whole history before ``asof``.
    statuses : sequence of str
        Order statuses that count as purchases; default only ``paid`` (refunded and
        cancelled orders are neither frequency nor money).

    Returns
    -------
    ibis.Table
        One row per customer with at least one counted order: ``customer_id``,
        ``first_order`` and ``last_order`` (timestamps), ``frequency`` (orders, int),
        ``monetary`` (sum of ``net_amount``, exact to the cent as a DECIMAL sum, so that
        equal totals tie exactly whatever the engine and its summation order),
        ``recency`` (whole days from the date of the last order to ``asof``; at least 1).
    """
    asof = pd.Timestamp(asof).normalize()
    t = purchases(orders, tuple(statuses))
    if lookback_days is None:
        w = t.filter(t.order_ts < asof.to_pydatetime())
    else:  # the whole days [asof - lookback_days, asof - 1 day]
        start = asof - pd.Timedelta(days=int(lookback_days))
        w = t.filter(in_window(t.order_ts, start, asof - pd.Timedelta(days=1)))
    agg = w.group_by("customer_id").aggregate(
        first_order=w.order_ts.min(),
        last_order=w.order_ts.max(),
        frequency=w.count(),
        monetary=money_sum(w.net_amount).cast("float64"),
    )
    return agg.mutate(recency=ibis.literal(asof.date()).delta(agg.last_order.date(), unit="day"))


def customer_rfm(
    orders: Any,
    asof: Any = None,
    *,
    lookback_days: int | None = None,
    statuses: Sequence[str] = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Recency, frequency and monetary value per customer, as a small pandas frame.

    Runs :func:`rfm_base` in the engine that holds ``orders`` and brings back one row per
    customer, sorted by ``customer_id``.

    Parameters
    ----------
    orders
        Contract ``orders`` as an ibis table (aggregated where it lives) or a pandas
        DataFrame (aggregated in an embedded DuckDB); needs ``customer_id``,
        ``order_ts`` (timestamp), ``status`` and ``net_amount``.
    asof
        The first day not counted; default :func:`rfm_asof` (the day after the last
        order).
    lookback_days
        Count only the orders of the last ``lookback_days`` days before ``asof``;
        ``None`` counts the whole history.
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    pandas.DataFrame
        :data:`CUSTOMER_RFM_COLUMNS`: ``customer_id`` (str), ``first_order``,
        ``last_order`` (timestamps), ``frequency`` and ``recency`` (int64, recency in
        days), ``monetary`` (float64). ``attrs`` holds ``asof``, ``window_start``
        (``None`` without a lookback) and ``statuses``; when no order counts the frame
        is empty and ``attrs["order_span"]`` holds the first and last day of the orders
        of any status (``None`` when there are none), so a caller can say why.

    Raises
    ------
    ContractError
        A needed column is missing or untyped.
    ValueError
        ``lookback_days`` is not a positive number of days.
    """
    t = check_orders(orders)
    day = rfm_asof(t) if asof is None else _day(asof)
    if lookback_days is not None and int(lookback_days) < 1:
        raise ValueError(
            f"lookback_days must be a positive number of days or None, not {lookback_days!r}"
        )
    # Sorted in the engine: sorting 1.9 M customer ids as Python strings in pandas took
    # longer than the whole aggregation of 10 M orders in DuckDB.
    expr = rfm_base(t, day, lookback_days=lookback_days, statuses=tuple(statuses))
    base = fetch(expr.order_by("customer_id"))
    base = base[list(CUSTOMER_RFM_COLUMNS)].reset_index(drop=True)
    base["customer_id"] = base["customer_id"].astype(str)
    base["frequency"] = base["frequency"].astype("int64")
    base["recency"] = base["recency"].astype("int64")
    base["monetary"] = base["monetary"].astype("float64")
    base.attrs.update(
        asof=day,
        window_start=None if lookback_days is None else day - pd.Timedelta(days=int(lookback_days)),
        statuses=tuple(statuses),
    )
    if base.empty:
        base.attrs["order_span"] = order_span(t, statuses=None)
    return base


__all__ = [
    "CUSTOMER_RFM_COLUMNS",
    "ORDER_COLUMNS",
    "ScoringDay",
    "check_orders",
    "customer_rfm",
    "rfm_asof",
    "rfm_base",
    "scoring_day",
]
