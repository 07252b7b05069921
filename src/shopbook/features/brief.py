"""Every input of the KPI brief's table for a window and the window before it.

:func:`brief_kpis` is :func:`shopbook.features.sales.window_kpis` (sales, buyers, LTV
cohort, margin, spend, funnel, stock value) with what the operators' KPIs add:

* traffic — ``visitors`` (UV: distinct ``visitor_id``) and ``pageviews`` (PV) of the
  window's sessions, and ``paid`` (sessions whose order is a purchase; refunded and
  cancelled orders are not), from :func:`shopbook.features.funnel.funnel`;
* window to window — ``previous_buyers`` and ``retained`` from
  :func:`shopbook.features.customers.window_retention` (the counts behind churn).

Nothing is redefined here: purchases, windows and GMV are those of
:mod:`shopbook.features.orders`; the KPIs themselves are computed from these counts by
:func:`shopbook.analysis.kpi.kpi_table`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from shopbook.features import funnel as F
from shopbook.features.customers import window_retention
from shopbook.features.orders import PURCHASE_STATUSES
from shopbook.features.periods import Window
from shopbook.features.sales import window_kpis

#: Traffic columns :func:`brief_kpis` adds when sessions are given.
TRAFFIC_COLUMNS = (*F.TRAFFIC, F.PAID)


def brief_kpis(
    orders: Any,
    window: Window,
    *,
    order_items: Any = None,
    sessions: Any = None,
    marketing_spend: Any = None,
    inventory: Any = None,
    ltv_days: int = 365,
    cohort_days: int = 90,
    statuses: Sequence[str] | None = PURCHASE_STATUSES,
) -> pd.DataFrame:
    """The KPI brief's inputs for a window and the window before it (in the engine).

    Parameters
    ----------
    orders, window, order_items, marketing_spend, inventory, ltv_days, cohort_days, statuses
        As in :func:`shopbook.features.sales.window_kpis`.
    sessions
        Contract ``sessions`` (``session_ts``, ``visitor_id``, ``pageviews``,
        ``product_views``, ``added_to_cart``, ``reached_checkout``, ``order_id``),
        optional: the funnel counts and traffic.

    Returns
    -------
    pandas.DataFrame
        :func:`~shopbook.features.sales.window_kpis`' frame (rows ``current``,
        ``previous``) with ``previous_buyers`` and ``retained`` (buyers of the window
        of the same length before each row's window, and those of them who bought in
        it) and, with sessions, ``visitors``, ``pageviews``, ``paid`` (ints).
    """
    out = window_kpis(
        orders,
        window,
        order_items=order_items,
        sessions=sessions,
        marketing_spend=marketing_spend,
        inventory=inventory,
        ltv_days=ltv_days,
        cohort_days=cohort_days,
        statuses=statuses,
    )
    extra: dict[str, dict[str, int]] = {}
    for name, row in out.iterrows():
        r = window_retention(orders, row["start"], row["end"], statuses)
        v = {"previous_buyers": r["previous_buyers"], "retained": r["retained"]}
        if sessions is not None:
            f = F.funnel(
                sessions, None, None, start=row["start"], end=row["end"], orders=orders,
                statuses=statuses,
            )  # fmt: skip
            for c in TRAFFIC_COLUMNS:
                v[c] = int(f[c].iloc[0]) if len(f) else 0
        extra[str(name)] = v
    return out.join(pd.DataFrame.from_dict(extra, orient="index"))


__all__ = ["TRAFFIC_COLUMNS", "brief_kpis"]
