"""The session funnel — counted where the data lives.

:func:`funnel_expr` / :func:`funnel` count sessions and the sessions reaching each stage
per period and group (``channel``, ``device``) — :func:`funnel_by_window` per window of
several — in **one** aggregate query over the
validated contract ``sessions`` (:meth:`shopbook.data.validation.ValidationReport.kept`;
a pandas DataFrame is turned into a memtable); what comes back is small (one row per
day × channel × device, or one row per channel). :func:`stage_rates` turns the counts
into step-by-step pass rates (pandas, no engine).

A session reaches the stages ``product_view`` (``product_views > 0``), ``cart``
(``added_to_cart``), ``checkout`` (``reached_checkout``) and ``order`` (``order_id`` not
null: an order was placed, whatever became of it). Stages are counted as flagged, not
forced to nest. Given ``orders``, ``paid`` counts the sessions whose order is a purchase
(:func:`shopbook.features.orders.purchases`: refunded and cancelled orders are not) —
the numerator of session conversion. Traffic is counted alongside: ``visitors`` (UV,
distinct ``visitor_id`` in the period and group — not additive over periods or groups)
and ``pageviews`` (PV, the sum of ``pageviews``). A window is whole days, both
ends included (:func:`shopbook.features.orders.in_window`). Sales, margin and channel
economics are in :mod:`shopbook.features.sales`; stock value in
:mod:`shopbook.features.stock`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features._groups import by_columns
from shopbook.features.fetching import fetch
from shopbook.features.orders import (
    PURCHASE_STATUSES,
    as_table,
    in_window,
    in_windows,
    purchases,
)
from shopbook.features.periods import TRUNCATE, normalise_period

#: Funnel stages after ``sessions``, in order.
STAGES = ("product_view", "cart", "checkout", "order")
#: Count columns of :func:`funnel`.
COUNTS = ("sessions", *STAGES)
#: Traffic columns of :func:`funnel`: UV (distinct visitors) and PV (page views).
TRAFFIC = ("visitors", "pageviews")
#: The column of :func:`funnel` counting sessions with a paid order (given ``orders``).
PAID = "paid"


# ----------------------------------------------------------------------------- funnel


def funnel_expr(
    sessions: Any,
    period: str | None = "day",
    by: str | Sequence[str] | None = "channel",
    *,
    start: Any = None,
    end: Any = None,
    orders: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> ir.Table:
    """The ibis expression behind :func:`funnel` (nothing is executed).

    Parameters
    ----------
    sessions
        Contract ``sessions``: ``session_ts``, ``visitor_id``, ``pageviews``,
        ``product_views``, ``added_to_cart``, ``reached_checkout``, ``order_id`` and the
        ``by`` columns.
    period
        ``"day"``/``"week"``/``"month"`` (or ``"D"``/``"W"``/``"M"``) for one row per
        period (column ``period``), or ``None`` for one row per group over the whole
        window.
    by
        Group columns (``channel``, ``device``), or ``None``.
    start, end
        Optional window (days, inclusive); both or neither.
    orders
        Contract ``orders`` (``order_id``, ``status``), optional: adds ``paid``.
    statuses
        Order statuses that count as purchases (default ``paid``).

    Returns
    -------
    ibis.Table
        ``period`` (when ``period``), the ``by`` columns, ``sessions``, ``product_view``,
        ``cart``, ``checkout``, ``order``, ``visitors``, ``pageviews`` and, given
        ``orders``, ``paid`` (int64).
    """
    t = as_table(sessions)
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    if start is not None:
        t = t.filter(in_window(t.session_ts, start, end))
    if orders is not None:
        # the session's order counts when it is a purchase, whenever it was stamped; of
        # the purchases only those the sessions name (a semi-join): the distinct ids of a
        # window's orders, not of the whole history (10 M lines: 0.4 s instead of 0.9 s)
        paid = purchases(orders, statuses)
        paid = paid.filter(paid.order_id.isin(t.order_id))
        paid_ids = paid.select("order_id").distinct()
        paid_ids = paid_ids.mutate(_paid=ibis.literal(1, "int64"))
        j = t.left_join(paid_ids, t.order_id == paid_ids.order_id)
        t = j.select(*[j[c] for c in t.columns], _paid=j._paid)
    keys = by_columns(by)
    if period is not None:
        unit = TRUNCATE[normalise_period(period)]
        t = t.mutate(period=t.session_ts.truncate(unit).cast("timestamp"))
        keys = ["period", *keys]
    one = ibis.literal(1, "int64")
    zero = ibis.literal(0, "int64")
    metrics = dict(
        sessions=t.count(),
        product_view=ibis.ifelse(t.product_views > 0, one, zero).sum(),
        cart=ibis.ifelse(t.added_to_cart, one, zero).sum(),
        checkout=ibis.ifelse(t.reached_checkout, one, zero).sum(),
        order=ibis.ifelse(t.order_id.notnull(), one, zero).sum(),
        visitors=t.visitor_id.nunique(),
        pageviews=t.pageviews.cast("int64").sum(),
    )
    if orders is not None:
        metrics[PAID] = t._paid.fill_null(0).sum()
    if not keys:
        return t.aggregate(**metrics)
    return t.group_by(keys).aggregate(**metrics).order_by(keys)


def funnel(
    sessions: Any,
    period: str | None = "day",
    by: str | Sequence[str] | None = "channel",
    *,
    start: Any = None,
    end: Any = None,
    orders: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """Sessions, traffic and the sessions reaching each funnel stage, per period and group.

    See :func:`funnel_expr` for the parameters.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, when ``period``), the ``by`` columns and the int64 counts
        ``sessions``, ``product_view``, ``cart``, ``checkout``, ``order``, ``visitors``
        (UV), ``pageviews`` (PV) and, given ``orders``, ``paid`` (sessions whose order
        is a purchase). Periods and groups without sessions have no row.
    """
    expr = funnel_expr(sessions, period, by, start=start, end=end, orders=orders, statuses=statuses)
    frame = fetch(expr)
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    for c in [*COUNTS, *TRAFFIC, *([PAID] if orders is not None else [])]:
        # a window without sessions sums to NULL (object dtype): numeric first, then 0
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype("int64")
    frame.attrs["period"] = None if period is None else normalise_period(period)
    frame.attrs["by"] = by_columns(by)
    return frame


def funnel_by_window(
    sessions: Any,
    windows: Mapping[str, tuple[Any, Any]],
    *,
    orders: Any = None,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """:func:`funnel` over each of several windows (no period, no group), in one query.

    Parameters
    ----------
    sessions, orders, statuses
        As in :func:`funnel_expr`.
    windows
        ``{name: (start, end)}``: windows of whole days that do not overlap.

    Returns
    -------
    pandas.DataFrame
        Indexed by the window names (in the order given; index ``window``): the int64
        counts of :func:`funnel` (zeros for a window without sessions).
    """
    t = in_windows(as_table(sessions), "session_ts", windows)
    frame = funnel(t, None, "window", orders=orders, statuses=statuses)
    frame = frame.set_index("window").reindex(list(windows))
    return frame.fillna(0).astype("int64")


def stage_rates(counts: pd.DataFrame) -> pd.DataFrame:
    """Step-by-step pass rates of a :func:`funnel` frame (pandas, no engine).

    Parameters
    ----------
    counts
        Columns ``sessions``, ``product_view``, ``cart``, ``checkout``, ``order`` and
        optionally ``paid`` (plus any group columns, kept; the traffic columns are
        dropped).

    Returns
    -------
    pandas.DataFrame
        The group columns and ``product_view`` (per session), ``add_to_cart`` (per
        product-view session), ``checkout`` (per cart), ``order`` (per checkout) and,
        when ``counts`` has ``paid``, ``conversion`` (sessions with a paid order per
        session — a refunded or cancelled order is not a conversion, so without
        ``paid`` there is no conversion column); NaN where the denominator is 0.
    """
    keep = [c for c in counts.columns if c not in (*COUNTS, *TRAFFIC, PAID)]
    out = counts[keep].copy()

    def ratio(a: str, b: str) -> pd.Series:
        den = counts[b].astype("float64")
        return counts[a].astype("float64").div(den.where(den > 0))

    out["product_view"] = ratio("product_view", "sessions")
    out["add_to_cart"] = ratio("cart", "product_view")
    out["checkout"] = ratio("checkout", "cart")
    out["order"] = ratio("order", "checkout")
    if PAID in counts:
        out["conversion"] = ratio(PAID, "sessions")
    return out


__all__ = [
    "COUNTS",
    "PAID",
    "STAGES",
    "TRAFFIC",
    "funnel",
    "funnel_by_window",
    "funnel_expr",
    "stage_rates",
]
