"""Customer-level aggregates, built as ibis expressions that run in the engine.

Every function takes the contract ``orders`` table (an ibis table, e.g.
``validate(source).kept("orders")``, or a pandas DataFrame for small inputs) and returns
an **ibis expression** with one row per customer (or fewer). Only scalar look-ups run a
query here (:func:`last_purchase_day`, and :func:`customer_summary` without a
``calibration_end``). Call ``.to_pandas()`` on the result to get the small frame the
models need.

Sections of this module
-----------------------
* Purchase events — :func:`purchase_days` (one row per customer per purchase day),
  :func:`first_purchase_day`, :func:`last_purchase_day`.
* BTYD summary (cohort / LTV, issue 6) — :func:`customer_summary` (frequency / recency /
  T / monetary value, calibration and holdout) and :func:`summary_patterns` (distinct
  rows with counts).
* RFM (issue 7) — :func:`rfm_base`.

Which orders count
------------------
By default only ``status == 'paid'`` orders are purchases (refunded and cancelled orders
are not), and spend is ``net_amount`` (what the customer paid). Both are parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import ibis
import pandas as pd

#: Model time units and their length in days.
TIME_UNITS: dict[str, int] = {"day": 1, "week": 7}

#: Statuses that count as purchases by default.
PURCHASE_STATUSES: tuple[str, ...] = ("paid",)


def as_table(orders: Any) -> ibis.Table:
    """An ibis table for ``orders`` (ibis tables pass through; DataFrames become memtables)."""
    if isinstance(orders, ibis.Table):
        return orders
    if isinstance(orders, pd.DataFrame):
        return ibis.memtable(orders)
    raise TypeError(
        f"expected an ibis table or a pandas DataFrame of orders, got {type(orders).__name__}"
    )


def _date(value: Any) -> date:
    return pd.Timestamp(value).date()


def _unit_days(time_unit: str) -> int:
    try:
        return TIME_UNITS[time_unit]
    except KeyError:
        raise ValueError(
            f"time_unit must be one of {list(TIME_UNITS)}, got {time_unit!r}"
        ) from None


# ------------------------------------------------------------------- purchase events


def purchase_days(
    orders: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> ibis.Table:
    """One row per customer per day with a purchase.

    Several orders of one customer on one day are one purchase event here, as in the
    BTYD literature and lifetimes (CDNOW has 1,774 such customer-days).

    Parameters
    ----------
    orders
        Contract ``orders``: needs ``customer_id``, ``order_ts``, ``status`` (when
        ``statuses`` is given) and the ``amount`` column.
    statuses
        Order statuses that count as purchases; ``None`` counts every order.
    amount
        Money column summed per day.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``day`` (date), ``amount`` (float64, summed), ``orders`` (int64).
    """
    t = as_table(orders)
    if statuses is not None:
        t = t.filter(t.status.isin(list(statuses)))
    t = t.mutate(day=t.order_ts.cast("timestamp").date())
    return t.group_by(["customer_id", "day"]).agg(
        amount=t[amount].cast("float64").sum(),
        orders=t.count(),
    )


def last_purchase_day(
    orders: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES
) -> date | None:
    """The last day with a purchase (executes one scalar query)."""
    days = purchase_days(orders, statuses)
    value = days.day.max().execute()
    return None if value is None or pd.isna(value) else _date(value)


def first_purchase_day(
    orders: Any, statuses: Sequence[str] | None = PURCHASE_STATUSES
) -> date | None:
    """The first day with a purchase (executes one scalar query)."""
    days = purchase_days(orders, statuses)
    value = days.day.min().execute()
    return None if value is None or pd.isna(value) else _date(value)


# ----------------------------------------------------------------------- BTYD summary


def customer_summary(
    orders: Any,
    calibration_end: Any = None,
    observation_end: Any = None,
    time_unit: str = "day",
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> ibis.Table:
    """The BTYD customer summary (lifetimes' conventions), computed in the engine.

    For every customer whose first purchase day is on or before ``calibration_end``:

    * ``frequency`` — distinct purchase days after the first, up to ``calibration_end``;
    * ``recency`` — days from the first to the last of those purchase days;
    * ``T`` — days from the first purchase day to ``calibration_end``;
    * ``monetary_value`` — mean ``amount`` per repeat purchase day (0 when frequency is 0);

    with ``recency`` and ``T`` divided by the length of ``time_unit`` (week = 7 days, as
    Fader & Hardie measure CDNOW and lifetimes' ``freq_multiplier=7``: purchases are
    still counted per distinct day). With ``observation_end`` the holdout columns
    ``frequency_holdout`` (purchase days in ``(calibration_end, observation_end]``),
    ``monetary_value_holdout`` (their mean amount, 0 if none) and ``duration_holdout``
    (in ``time_unit``) are added.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``amount``).
    calibration_end
        Last day of the calibration period (inclusive); default the last purchase day.
    observation_end
        Last day of the holdout period (inclusive), or ``None`` for no holdout.
    time_unit
        ``"day"`` or ``"week"``.
    statuses, amount
        See :func:`purchase_days`.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``first_purchase`` (date), ``frequency`` (int64), ``recency``,
        ``T``, ``monetary_value`` (float64), and the holdout columns when requested.

    Raises
    ------
    ValueError
        Unknown ``time_unit`` or ``observation_end`` not after ``calibration_end``.
    """
    unit = _unit_days(time_unit)
    days = purchase_days(orders, statuses, amount)
    if calibration_end is None:
        calibration_end = last_purchase_day(orders, statuses)
        if calibration_end is None:
            calibration_end = date.today()
    cal_end = _date(calibration_end)
    cal = days.filter(days.day <= ibis.date(cal_end))
    agg = cal.group_by("customer_id").agg(
        first_purchase=cal.day.min(),
        last_purchase=cal.day.max(),
        n_days=cal.count(),
        total=cal.amount.sum(),
        first_amount=cal.amount.argmin(cal.day),
    )
    repeat = agg.n_days - 1
    summary = agg.select(
        customer_id=agg.customer_id,
        first_purchase=agg.first_purchase,
        frequency=repeat.cast("int64"),
        recency=agg.last_purchase.delta(agg.first_purchase, unit="day").cast("float64") / unit,
        T=ibis.date(cal_end).delta(agg.first_purchase, unit="day").cast("float64") / unit,
        monetary_value=ibis.ifelse(
            repeat > 0, (agg.total - agg.first_amount) / repeat.cast("float64"), 0.0
        ).cast("float64"),
    )
    if observation_end is None:
        return summary.order_by("customer_id")  # a stable row order: reports stay reproducible
    obs_end = _date(observation_end)
    if obs_end <= cal_end:
        raise ValueError(f"observation_end {obs_end} must be after calibration_end {cal_end}")
    hold = days.filter((days.day > ibis.date(cal_end)) & (days.day <= ibis.date(obs_end)))
    hold = hold.group_by("customer_id").agg(
        frequency_holdout=hold.count(),
        monetary_value_holdout=hold.amount.mean(),
    )
    joined = summary.left_join(hold, summary.customer_id == hold.customer_id)
    return joined.select(
        *[joined[c] for c in summary.columns],
        frequency_holdout=joined.frequency_holdout.fill_null(0).cast("int64"),
        monetary_value_holdout=joined.monetary_value_holdout.fill_null(0.0).cast("float64"),
        duration_holdout=ibis.literal((obs_end - cal_end).days / unit, type="float64"),
    ).order_by("customer_id")


def summary_patterns(
    summary: ibis.Table, columns: Sequence[str] = ("frequency", "recency", "T")
) -> ibis.Table:
    """Distinct (frequency, recency, T) rows of a summary with their customer counts.

    The BTYD likelihood depends on a customer only through these three numbers, so a
    model fitted on the patterns (``fit_bgnbd(patterns, weights="customers")``) is the
    same fit at a fraction of the rows — the engine does the grouping.

    Parameters
    ----------
    summary
        The output of :func:`customer_summary`.
    columns
        Pattern columns.

    Returns
    -------
    ibis.Table
        ``columns`` plus ``customers`` (int64).
    """
    return summary.group_by(list(columns)).agg(customers=summary.count())


# --------------------------------------------------------------------------- RFM
# rfm_base is owned by the RFM analysis (issue 7); shopbook.analysis.rfm scores it.

#: Columns of ``orders`` that :func:`rfm_base` reads.
RFM_COLUMNS: tuple[str, ...] = ("customer_id", "order_ts", "status", "net_amount")


def rfm_base(
    orders: Any,
    asof: Any,
    lookback_days: int | None = None,
    statuses: Sequence[str] = PURCHASE_STATUSES,
) -> ibis.Table:
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
        ``monetary`` (sum of ``net_amount``, rounded to the cent so that equal totals
        tie exactly whatever the engine's summation order), ``recency`` (whole days
        from the date of the last order to ``asof``; at least 1).
    """
    asof = pd.Timestamp(asof).normalize()
    t = as_table(orders)
    window = [t.order_ts < asof.to_pydatetime(), t.status.isin(list(statuses))]
    if lookback_days is not None:
        start = asof - pd.Timedelta(days=int(lookback_days))
        window.append(t.order_ts >= start.to_pydatetime())
    w = t.filter(*window)
    agg = w.group_by("customer_id").aggregate(
        first_order=w.order_ts.min(),
        last_order=w.order_ts.max(),
        frequency=w.count(),
        monetary=w.net_amount.sum().round(2),
    )
    return agg.mutate(recency=ibis.literal(asof.date()).delta(agg.last_order.date(), unit="day"))
