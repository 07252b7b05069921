"""One vocabulary for time: a *period* is ``"day"``, ``"week"`` or ``"month"``.

Every function in Shopbook that aggregates over time takes ``period=`` with one of these
words (the older one-letter codes ``"D"``/``"W"``/``"M"`` and ``"daily"``/``"weekly"``/
``"monthly"`` are accepted and read as the same words). Weeks start on Monday; months on
the first. The translations to the engine's truncation unit and to pandas' frequency
live here and nowhere else.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

#: The periods, shortest first.
PERIODS: tuple[str, ...] = ("day", "week", "month")

_ALIASES = {
    "day": "day", "D": "day", "daily": "day",
    "week": "week", "W": "week", "weekly": "week",
    "month": "month", "M": "month", "monthly": "month",
}  # fmt: skip

#: ibis ``truncate`` unit of each period.
TRUNCATE: dict[str, str] = {"day": "D", "week": "W", "month": "M"}

#: pandas frequency of each period (weeks labelled by their Monday, months by their first day).
PANDAS_FREQ: dict[str, str] = {"day": "D", "week": "W-MON", "month": "MS"}

#: Length of a period in days, where it is fixed.
PERIOD_DAYS: dict[str, int] = {"day": 1, "week": 7}


def normalise_period(period: Any, allowed: tuple[str, ...] = PERIODS) -> str:
    """``"D"``/``"daily"``/``"day"`` → ``"day"``, and so on for week and month.

    Parameters
    ----------
    period
        A period word or alias.
    allowed
        The periods the caller supports (a subset of :data:`PERIODS`).

    Raises
    ------
    ValueError
        When ``period`` is not one of ``allowed``.
    """
    p = _ALIASES.get(period) if isinstance(period, str) else None
    if p is None or p not in allowed:
        raise ValueError(f"period must be one of {', '.join(allowed)}, found {period!r}")
    return p


def period_start(day: Any, period: str) -> pd.Timestamp:
    """The start of the period ``day`` falls in (the day, its week's Monday, its month's first)."""
    p = normalise_period(period)
    d = pd.Timestamp(day).normalize()
    if p == "week":
        return d - pd.Timedelta(days=d.dayofweek)
    if p == "month":
        return d.replace(day=1)
    return d


__all__ = ["PANDAS_FREQ", "PERIODS", "PERIOD_DAYS", "TRUNCATE", "normalise_period", "period_start"]
