"""Customer-level aggregates, built as ibis expressions that run in the engine.

Every function takes the contract ``orders`` table (an ibis table, e.g.
``validate(source).kept("orders")``, or a pandas DataFrame for small inputs) and returns
an **ibis expression** with one row per customer (or fewer). Only :func:`customer_summary`
without a ``calibration_end`` runs a scalar query (the last purchase day, by
:func:`shopbook.features.orders.order_span`). Get the small frame the models need with
:func:`shopbook.features.fetch` (``fetch(expr)``: ``expr.execute()``'s frame, faster).

Sections of this module
-----------------------
* Purchase events — :func:`purchase_days` (one row per customer per purchase day).
* BTYD summary (cohort / LTV, issue 6) — :func:`customer_summary` (frequency / recency /
  T / monetary value, calibration and holdout) and :func:`summary_patterns` (distinct
  rows with counts).
* RFM — in :mod:`shopbook.features.rfm` (:func:`~shopbook.features.rfm.customer_rfm`).
* Window to window — :func:`window_retention` (the buyers of the window before a window,
  and how many of them bought again in it: the counts behind churn) and
  :func:`retention_by_window` (the same for several windows in one query).

Which orders count
------------------
Purchases are :func:`shopbook.features.orders.purchases` (by default only ``status ==
'paid'``; refunded and cancelled orders are not), and spend is ``net_amount`` (what the
customer paid). Both are parameters. The span of the purchase days is
:func:`shopbook.features.orders.order_span`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import ibis
import pandas as pd

from shopbook.features.orders import (
    PURCHASE_STATUSES,
    in_window,
    money_sum,
    order_span,
    purchases,
)
from shopbook.features.periods import PERIOD_DAYS, normalise_period, resolve_window

#: The periods the BTYD summary measures durations in (a month has no fixed length).
SUMMARY_PERIODS: tuple[str, ...] = ("day", "week")


# ------------------------------------------------------------------- purchase events


def purchase_days(
    orders: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
    *,
    exact: bool = False,
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
        Money column summed per day (exactly, as a DECIMAL:
        :func:`~shopbook.features.orders.money_sum`).
    exact
        Keep ``amount`` a DECIMAL, for sums of these sums in the engine that must stay
        exact (:func:`customer_summary`, the cohorts); default float64.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``day`` (date), ``amount`` (float64, or DECIMAL with
        ``exact``), ``orders`` (int64).
    """
    t = purchases(orders, statuses)
    ts = t.order_ts
    if not (ts.type().is_timestamp() and ts.type().timezone is None):
        ts = ts.cast("timestamp")  # text (CSV) or zoned: a plain timestamp first
    t = t.mutate(day=ts.date())
    return t.group_by(["customer_id", "day"]).agg(
        amount=money_sum(t[amount]) if exact else money_sum(t[amount]).cast("float64"),
        orders=t.count(),
    )


# ----------------------------------------------------------------------- BTYD summary


def customer_summary(
    orders: Any,
    calibration_end: Any = None,
    observation_end: Any = None,
    period: str = "day",
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
    amount: str = "net_amount",
) -> ibis.Table:
    """The BTYD customer summary (lifetimes' conventions), computed in the engine.

    For every customer whose first purchase day is on or before ``calibration_end``:

    * ``frequency`` — distinct purchase days after the first, up to ``calibration_end``;
    * ``recency`` — days from the first to the last of those purchase days;
    * ``T`` — days from the first purchase day to ``calibration_end``;
    * ``monetary_value`` — mean ``amount`` per repeat purchase day (0 when frequency is 0);

    with ``recency`` and ``T`` divided by the length of ``period`` (week = 7 days, as
    Fader & Hardie measure CDNOW and lifetimes' ``freq_multiplier=7``: purchases are
    still counted per distinct day). With ``observation_end`` the holdout columns
    ``frequency_holdout`` (purchase days in ``(calibration_end, observation_end]``),
    ``monetary_value_holdout`` (their mean amount, 0 if none) and ``duration_holdout``
    (in periods) are added.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``, ``amount``).
    calibration_end
        Last day of the calibration period (inclusive); default the last purchase day.
    observation_end
        Last day of the holdout period (inclusive), or ``None`` for no holdout.
    period
        The durations' unit: ``"day"`` or ``"week"`` (:mod:`shopbook.features.periods`).
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
        Unknown ``period`` or ``observation_end`` not after ``calibration_end``.
    """
    unit = PERIOD_DAYS[normalise_period(period, SUMMARY_PERIODS)]
    days = purchase_days(orders, statuses, amount, exact=True)
    if calibration_end is None:
        span = order_span(orders, statuses)
        calibration_end = span[1] if span is not None else date.today()
    cal_end = pd.Timestamp(calibration_end).date()
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
            repeat > 0,
            (agg.total - agg.first_amount).cast("float64") / repeat.cast("float64"),
            0.0,
        ).cast("float64"),
    )
    if observation_end is None:
        return summary.order_by("customer_id")  # a stable row order: reports stay reproducible
    obs_end = pd.Timestamp(observation_end).date()
    if obs_end <= cal_end:
        raise ValueError(f"observation_end {obs_end} must be after calibration_end {cal_end}")
    hold = days.filter(in_window(days.day, cal_end + pd.Timedelta(days=1), obs_end))
    hold = hold.group_by("customer_id").agg(
        frequency_holdout=hold.count(),
        monetary_value_holdout=hold.amount.sum().cast("float64") / hold.count().cast("float64"),
    )
    joined = summary.left_join(hold, summary.customer_id == hold.customer_id)
    return joined.select(
        *[joined[c] for c in summary.columns],
        frequency_holdout=joined.frequency_holdout.fill_null(0).cast("int64"),
        monetary_value_holdout=joined.monetary_value_holdout.fill_null(0.0).cast("float64"),
        # days / unit computed by the engine as a double: a float literal would be a
        # DECIMAL in DuckDB, which ibis then turns into float64 one value per row.
        duration_holdout=ibis.literal((obs_end - cal_end).days, type="int64").cast("float64")
        / unit,
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


# ------------------------------------------------------------------ window to window


def retention_by_window(
    orders: Any,
    windows: Mapping[str, tuple[Any, Any]],
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """:func:`window_retention` of several windows, in one query.

    Parameters
    ----------
    orders, statuses
        As in :func:`window_retention`.
    windows
        ``{name: (start, end)}`` (days, inclusive; they may overlap).

    Returns
    -------
    pandas.DataFrame
        Indexed by the window names (in the order given; index ``window``):
        ``before_start``, ``before_end``, ``previous_buyers``, ``retained`` as in
        :func:`window_retention`.
    """
    # each window and the window of the same length just before it
    spans = {
        name: (w.prev_start, w.prev_end, w.start, w.end)
        for name, w in ((n, resolve_window(a, b, None)) for n, (a, b) in windows.items())
    }
    every = sorted({(x, y) for b0, b1, a, b in spans.values() for x, y in ((b0, b1), (a, b))})
    flag = {span: f"__in_{i}" for i, span in enumerate(every)}
    paid = purchases(orders, statuses)
    # one pass over the windows' purchases, a row per customer: whether they bought in
    # each window (distincts and joins per window read the orders again, about 2x the time)
    lo, hi = min(x for x, _ in every), max(y for _, y in every)
    rows = paid.filter(in_window(paid.order_ts, lo, hi))
    each = rows.group_by("customer_id").aggregate(
        **{name: in_window(rows.order_ts, x, y).any() for (x, y), name in flag.items()}
    )
    counts = {}
    for i, (b0, b1, a, b) in enumerate(spans.values()):
        before, now = each[flag[(b0, b1)]], each[flag[(a, b)]]
        counts[f"p{i}"] = each.count(where=before)
        counts[f"r{i}"] = each.count(where=before & now)
    got = each.aggregate(**counts).execute().iloc[0]
    return pd.DataFrame(
        {
            "before_start": [s[0] for s in spans.values()],
            "before_end": [s[1] for s in spans.values()],
            "previous_buyers": [int(got[f"p{i}"] or 0) for i in range(len(spans))],
            "retained": [int(got[f"r{i}"] or 0) for i in range(len(spans))],
        },
        index=pd.Index(list(windows), name="window"),
    )


def window_retention(
    orders: Any,
    start: Any,
    end: Any,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> dict[str, Any]:
    """The buyers of the window just before ``start``–``end`` and how many bought again.

    The window before is as long as the window (``L`` days ending the day before
    ``start``). A customer is a buyer of a window when they have a purchase
    (:func:`shopbook.features.orders.purchases`) in it; churn is
    ``1 − retained / previous_buyers``.

    Parameters
    ----------
    orders
        Contract ``orders`` (``customer_id``, ``order_ts``, ``status``).
    start, end
        The window (days, inclusive).
    statuses
        Order statuses that count as purchases.

    Returns
    -------
    dict
        ``before_start``, ``before_end`` (the window before, Timestamps),
        ``previous_buyers`` (customers with a purchase in it) and ``retained`` (those of
        them with a purchase in the window) — ints.
    """
    row = retention_by_window(orders, {"window": (start, end)}, statuses).iloc[0]
    return {
        "before_start": row["before_start"],
        "before_end": row["before_end"],
        "previous_buyers": int(row["previous_buyers"]),
        "retained": int(row["retained"]),
    }
