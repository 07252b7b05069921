"""The session funnel — counted where the data lives.

:func:`funnel_expr` / :func:`funnel` count sessions and the sessions reaching each stage
per period and group (``channel``, ``device``) in **one** aggregate query over the
validated contract ``sessions`` (:meth:`shopbook.data.validation.ValidationReport.kept`;
a pandas DataFrame is turned into a memtable); what comes back is small (one row per
day × channel × device, or one row per channel). :func:`stage_rates` turns the counts
into step-by-step pass rates (pandas, no engine).

A session reaches the stages ``product_view`` (``product_views > 0``), ``cart``
(``added_to_cart``), ``checkout`` (``reached_checkout``) and ``order`` (``order_id`` not
null). Stages are counted as flagged, not forced to nest. A window is whole days, both
ends included (:func:`shopbook.features.orders.in_window`). Sales, margin and channel
economics are in :mod:`shopbook.features.sales`; stock value in
:mod:`shopbook.features.stock`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from shopbook.features._groups import by_columns
from shopbook.features.orders import as_table, in_window
from shopbook.features.periods import TRUNCATE, normalise_period

#: Funnel stages after ``sessions``, in order.
STAGES = ("product_view", "cart", "checkout", "order")
#: Count columns of :func:`funnel`.
COUNTS = ("sessions", *STAGES)


# ----------------------------------------------------------------------------- funnel


def funnel_expr(
    sessions: Any,
    period: str | None = "day",
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
    period
        ``"day"``/``"week"``/``"month"`` (or ``"D"``/``"W"``/``"M"``) for one row per
        period (column ``period``), or ``None`` for one row per group over the whole
        window.
    by
        Group columns (``channel``, ``device``), or ``None``.
    start, end
        Optional window (days, inclusive); both or neither.

    Returns
    -------
    ibis.Table
        ``period`` (when ``period``), the ``by`` columns, ``sessions``, ``product_view``,
        ``cart``, ``checkout``, ``order`` (int64).
    """
    t = as_table(sessions)
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    if start is not None:
        t = t.filter(in_window(t.session_ts, start, end))
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
    )
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
) -> pd.DataFrame:
    """Sessions and the sessions reaching each funnel stage, per period and group.

    See :func:`funnel_expr` for the parameters.

    Returns
    -------
    pandas.DataFrame
        ``period`` (datetime64, when ``period``), the ``by`` columns and the int64 counts
        ``sessions``, ``product_view``, ``cart``, ``checkout``, ``order``. Periods and
        groups without sessions have no row.
    """
    frame = funnel_expr(sessions, period, by, start=start, end=end).execute()
    if "period" in frame:
        frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
    for c in COUNTS:
        # a window without sessions sums to NULL (object dtype): numeric first, then 0
        frame[c] = pd.to_numeric(frame[c]).fillna(0).astype("int64")
    frame.attrs["period"] = None if period is None else normalise_period(period)
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


__all__ = ["COUNTS", "STAGES", "funnel", "funnel_expr", "stage_rates"]
