"""Deprecated: sales by period moved to :mod:`shopbook.features.sales`.

This module only re-exports it because notebooks owned by other engineers (02) still
import ``shopbook.features.kpis``; the integrator removes it once every notebook imports
:mod:`shopbook.features.sales`. ``normalise_freq`` and ``date_range`` are kept for them
too: new code uses :func:`shopbook.features.periods.normalise_period` and
:func:`shopbook.features.orders.order_span`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from shopbook.errors import ContractError
from shopbook.features.orders import order_span
from shopbook.features.periods import normalise_period
from shopbook.features.sales import *  # noqa: F403
from shopbook.features.sales import __all__ as _sales_all


def normalise_freq(freq: Any) -> str:
    """Deprecated: ``"day"``/``"D"`` → ``"D"``, ``"week"`` → ``"W"``, ``"month"`` → ``"M"``."""
    try:
        return {"day": "D", "week": "W", "month": "M"}[normalise_period(freq)]
    except ValueError:
        raise ValueError(f"freq must be one of D/W/M (day/week/month), found {freq!r}") from None


def date_range(
    orders: Any, statuses: Sequence[str] | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Deprecated: :func:`shopbook.features.orders.order_span` as midnight timestamps.

    Default: every order counts (whatever its status). Raises a ``ContractError`` when
    there is no order.
    """
    span = order_span(orders, statuses)
    if span is None:
        raise ContractError(
            table="orders",
            expected="at least one order",
            found="none",
            fix="load orders into the source",
        )
    return pd.Timestamp(span[0]), pd.Timestamp(span[1])


__all__ = [*_sales_all, "date_range", "normalise_freq"]  # noqa: PLE0604
