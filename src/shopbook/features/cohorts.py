"""Acquisition-cohort aggregates, built as ibis expressions that run in the engine.

A customer's *cohort* is the period (month or week, :mod:`shopbook.features.periods`) of
their first purchase day (:func:`shopbook.features.orders.first_purchases`). All functions
take contract ``orders`` (an ibis table or a small pandas DataFrame) and return ibis
expressions whose results are small: one row per cohort × period, per day, or per
distinct duration. Purchases are ``paid`` orders by default and are counted per distinct
purchase day, as in :mod:`shopbook.features.customers`. The retention analysis
(:mod:`shopbook.analysis.retention`) shapes what these bring back.

* :func:`cohort_activity` — activity of each cohort in each period since acquisition;
* :func:`cohort_segments` — each customer's cohort as a segment label;
* :func:`acquisition_segments`, :func:`available_segments` — splits worth showing;
* :func:`second_purchase_times` — days to the second purchase day, with censoring;
* :func:`purchase_calendar` — daily acquisitions and repeat purchases (BTYD tracking).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd

from shopbook.features.customers import purchase_days
from shopbook.features.orders import PURCHASE_STATUSES, as_table, first_purchases
from shopbook.features.periods import TRUNCATE, normalise_period

#: The periods a cohort can span.
COHORT_PERIODS: tuple[str, ...] = ("week", "month")


def _check_period(period: str) -> str:
    """The period word (``"week"`` or ``"month"``; aliases accepted)."""
    return normalise_period(period, COHORT_PERIODS)


def _day(value: Any) -> Any:
    """An ibis date literal for a date-like value."""
    return ibis.date(pd.Timestamp(value).date())


def cohort_segments(
    orders: Any, period: str = "month", statuses: Sequence[str] | None = PURCHASE_STATUSES
) -> ibis.Table:
    """Each customer's acquisition cohort, as a segment label.

    Parameters
    ----------
    orders
        Contract ``orders``.
    period
        ``"month"`` or ``"week"`` (weeks start on Monday).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``segment`` (string: the first day of the cohort's period,
        ``YYYY-MM-DD``), for every customer with a purchase.
    """
    unit = TRUNCATE[_check_period(period)]
    first = first_purchases(orders, statuses)
    start = first.first_day.truncate(unit)
    return first.select("customer_id", segment=start.strftime("%Y-%m-%d"))


def acquisition_segments(
    orders: Any,
    customers: Any = None,
    by: str = "channel",
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ibis.Table:
    """A segment label per customer for cohort splits.

    Parameters
    ----------
    orders
        Contract ``orders``.
    customers
        Contract ``customers`` (needed unless ``by == "channel"``).
    by
        ``"channel"`` — channel of the first order (from ``orders``); any other value is a
        column of ``customers`` (``acquisition_channel``, ``region``, ``member_tier``).
        Customers without a value get ``"(unknown)"``.
    statuses
        See :func:`shopbook.features.orders.first_purchases`.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``segment`` (string), for every customer with a purchase.
    """
    first = first_purchases(orders, statuses)
    if by == "channel":
        return first.select(
            "customer_id", segment=first.first_channel.cast("string").fill_null("(unknown)")
        )
    if customers is None:
        raise ValueError(f"segment by {by!r} needs the customers table")
    c = as_table(customers)
    if by not in c.columns:
        raise ValueError(f"customers has no column {by!r}; it has {list(c.columns)}")
    c = c.select("customer_id", seg=c[by].cast("string"))
    j = first.left_join(c, first.customer_id == c.customer_id)
    return j.select(customer_id=j.customer_id, segment=j.seg.fill_null("(unknown)"))


def _period_index(first: ibis.Value, current: ibis.Value, period: str) -> ibis.Value:
    """Whole periods from cohort start ``first`` to period start ``current`` (both truncated)."""
    if _check_period(period) == "month":
        return (current.year() * 12 + current.month()) - (first.year() * 12 + first.month())
    return (current.delta(first, unit="day") / 7).cast("int64")


def cohort_activity(
    orders: Any,
    period: str = "month",
    segments: ibis.Table | None = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> ibis.Table:
    """Activity of each acquisition cohort in each period since acquisition.

    Parameters
    ----------
    orders
        Contract ``orders``.
    period
        ``"month"`` or ``"week"`` (ISO weeks starting Monday).
    segments
        Optional ``customer_id``, ``segment`` table (:func:`acquisition_segments`); the
        result is then split by ``segment`` too.
    statuses, amount
        Which orders count, and the money column.

    Returns
    -------
    ibis.Table
        ``cohort`` (date: period start), ``period`` (int, 0 = acquisition period),
        [``segment``], ``active`` (customers with a purchase day in the period),
        ``purchases`` (purchase days), ``orders`` and ``revenue``. The cohort size is
        ``active`` at period 0.
    """
    unit = TRUNCATE[_check_period(period)]
    days = purchase_days(orders, statuses, amount, exact=True)
    first = days.group_by("customer_id").agg(first_day=days.day.min())
    j = days.join(first, "customer_id")
    j = j.mutate(cohort=j.first_day.truncate(unit), current=j.day.truncate(unit))
    j = j.mutate(period=_period_index(j.cohort, j.current, period))
    keys = ["cohort", "period"]
    if segments is not None:
        j = j.join(segments.select("customer_id", "segment"), "customer_id")
        keys.append("segment")
    return j.group_by(keys).agg(
        active=j.customer_id.nunique(),
        purchases=j.count(),
        orders=j.orders.sum(),
        revenue=j.amount.sum().cast("float64"),
    )


def purchase_calendar(
    orders: Any,
    calibration_end: Any,
    end: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> tuple[ibis.Table, ibis.Table]:
    """Daily acquisitions and repeat purchases of the customers acquired by ``calibration_end``.

    The inputs of the BTYD tracking (:func:`shopbook.analysis.clv.tracking`).

    Parameters
    ----------
    orders
        Contract ``orders``.
    calibration_end
        Customers whose first purchase day is on or before it are tracked.
    end
        Last day counted.
    statuses
        See :func:`shopbook.features.customers.purchase_days`.

    Returns
    -------
    (births, repeats)
        ``births``: ``first_day``, ``customers``; ``repeats``: ``day``,
        ``repeat_purchases`` (purchase days after each customer's first, up to ``end``).
    """
    days = purchase_days(orders, statuses)
    first = days.group_by("customer_id").agg(first_day=days.day.min())
    first = first.filter(first.first_day <= _day(calibration_end))
    births = first.group_by("first_day").agg(customers=first.count())
    j = days.join(first, "customer_id")
    j = j.filter((j.day > j.first_day) & (j.day <= _day(end)))
    repeats = j.group_by("day").agg(repeat_purchases=j.count())
    return births, repeats


def second_purchase_times(
    orders: Any,
    end: Any = None,
    segments: ibis.Table | None = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ibis.Table:
    """Days from first to second purchase day, with censoring, as counts.

    Customers with a second purchase day contribute ``days`` = the gap and
    ``repeated = True``; the others are censored at ``end − first day`` (``repeated =
    False``). Rows are distinct (days, repeated[, segment]) with customer counts, which is
    all a Kaplan–Meier estimate needs.

    Parameters
    ----------
    orders
        Contract ``orders``.
    end
        Last day observed; default the last purchase day in ``orders``.
    segments
        Optional ``customer_id``, ``segment`` table to split by.
    statuses
        See :func:`shopbook.features.customers.purchase_days`.

    Returns
    -------
    ibis.Table
        ``days`` (int64), ``repeated`` (bool), [``segment``], ``customers`` (int64).
    """
    days = purchase_days(orders, statuses)
    if end is not None:
        days = days.filter(days.day <= _day(end))
    ranked = days.mutate(rank=ibis.row_number().over(group_by=days.customer_id, order_by=days.day))
    firsts = ranked.filter(ranked["rank"] == 0).select("customer_id", first_day="day")
    seconds = ranked.filter(ranked["rank"] == 1).select(cid="customer_id", second_day="day")
    j = firsts.left_join(seconds, firsts.customer_id == seconds.cid)
    end_day = _day(end) if end is not None else days.day.max().as_scalar()
    j = j.select(
        customer_id=j.customer_id,
        repeated=j.second_day.notnull(),
        days=ibis.ifelse(
            j.second_day.notnull(),
            j.second_day.delta(j.first_day, unit="day"),
            end_day.delta(j.first_day, unit="day"),
        ).cast("int64"),
    )
    keys = ["days", "repeated"]
    if segments is not None:
        j = j.join(segments.select("customer_id", "segment"), "customer_id")
        keys.append("segment")
    return j.group_by(keys).agg(customers=j.count())


def available_segments(
    orders: Any,
    customers: Any = None,
    columns: Sequence[str] = ("acquisition_channel", "region"),
) -> dict[str, ibis.Table]:
    """Segmentations worth splitting cohorts by: those with at least two known values.

    Runs one small query per candidate (how many labels it has, whether it repeats an
    earlier one).

    Parameters
    ----------
    orders
        Contract ``orders``.
    customers
        Contract ``customers`` or ``None`` (then only the first-order channel is tried).
    columns
        ``customers`` columns to try.

    Returns
    -------
    dict
        ``{name: customer_id/segment ibis table}`` (:func:`acquisition_segments`); names
        are ``"first-order channel"`` and the ``customers`` column names. Empty when
        nothing varies (e.g. CDNOW: one channel, no customers table); a segmentation that
        labels every customer as an earlier one does is left out.
    """
    candidates = {"first-order channel": acquisition_segments(orders)}
    if customers is not None:
        for col in columns:
            if col in customers.columns:
                candidates[col] = acquisition_segments(orders, customers, by=col)
    out: dict[str, ibis.Table] = {}
    for name, seg in candidates.items():
        known = seg.filter(seg.segment != "(unknown)")
        if int(known.segment.nunique().execute()) < 2:
            continue
        if any(_same_labels(seg, other) for other in out.values()):
            continue  # e.g. acquisition_channel that is always the first order's channel
        out[name] = seg
    return out


def _same_labels(a: ibis.Table, b: ibis.Table) -> bool:
    """Whether two customer_id/segment tables give every customer the same label."""
    other = b.select(cid="customer_id", other="segment")
    j = a.join(other, a.customer_id == other.cid)
    return int(j.filter(j.segment != j.other).count().execute()) == 0
