"""One vocabulary for time: a *period* is ``"day"``, ``"week"`` or ``"month"``.

Every function in Shopbook that aggregates over time takes ``period=`` with one of these
words (the older one-letter codes ``"D"``/``"W"``/``"M"`` and ``"daily"``/``"weekly"``/
``"monthly"`` are accepted and read as the same words). Weeks start on Monday; months on
the first. The translations to the engine's truncation unit and to pandas' frequency
live here and nowhere else.

A report *window* (:class:`Window`, :func:`resolve_window`) is a run of whole days
compared with the run of the same length just before it; a report ``end`` after the
data is clipped to the data's last day, with a sentence (:func:`end_note`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from shopbook.i18n import _

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


def period_end(start: Any, period: str) -> Any:
    """The last day of the period that starts on ``start`` (the day, Sunday, the month's last).

    ``start`` is a period start (:func:`period_start`) — a timestamp or a pandas Series
    of them; a period is complete on data through day ``t`` when its end is ``<= t``.
    """
    p = normalise_period(period)
    if p == "week":
        return start + pd.Timedelta(days=6)
    if p == "month":
        return start + pd.offsets.MonthEnd(0)
    return start


# ------------------------------------------------------------------ report windows


@dataclass(frozen=True)
class Window:
    """A window of whole days and the previous window of the same length."""

    start: pd.Timestamp
    end: pd.Timestamp
    prev_start: pd.Timestamp
    prev_end: pd.Timestamp

    @property
    def days(self) -> int:
        """Length in days."""
        return int((self.end - self.start).days) + 1

    def label(self) -> str:
        """``2024-12-23 to 2024-12-29``."""
        return _("{start} to {end}").format(
            start=f"{self.start:%Y-%m-%d}", end=f"{self.end:%Y-%m-%d}"
        )

    def prev_label(self) -> str:
        """The previous window as text."""
        return _("{start} to {end}").format(
            start=f"{self.prev_start:%Y-%m-%d}", end=f"{self.prev_end:%Y-%m-%d}"
        )

    def context_start(self, spans: int = 3) -> pd.Timestamp:
        """First day of a trend line that shows the windows in context.

        ``spans`` times the window's span (``end - start``, one day less than its
        length) before the previous window's start.
        """
        return self.prev_start - (self.end - self.start) * spans

    def outside(self, first_day: Any, last_day: Any) -> bool:
        """Whether the window lies wholly outside the days ``first_day`` to ``last_day``."""
        return bool(self.end < pd.Timestamp(first_day) or self.start > pd.Timestamp(last_day))


def resolve_window(start: Any, end: Any, last_day: Any) -> Window:
    """The window to report and the one before it.

    Parameters
    ----------
    start, end
        ISO dates (inclusive) or empty. Empty ``start`` and ``end``: the last full ISO
        week (Monday–Sunday) that ends on or before ``last_day``. Only ``start``: up to
        ``last_day``. Only ``end``: the 7 days ending on ``end``.
    last_day
        The last day with data (may be ``None`` when ``end`` is given).

    Returns
    -------
    Window

    Raises
    ------
    ValueError
        When ``end`` is before ``start``, or neither ``end`` nor ``last_day`` is given.
    """
    last = None if last_day is None else pd.Timestamp(last_day).normalize()
    if last is None and not end:
        raise ValueError("give end, or the last day with data")
    if not start and not end:
        assert last is not None
        e = last if last.dayofweek == 6 else last - pd.Timedelta(days=last.dayofweek + 1)
        s = e - pd.Timedelta(days=6)
    else:
        e = pd.Timestamp(end).normalize() if end else last
        assert e is not None
        s = pd.Timestamp(start).normalize() if start else e - pd.Timedelta(days=6)
    if e < s:
        raise ValueError(f"end {e.date()} is before start {s.date()}")
    n = (e - s).days + 1
    return Window(s, e, s - pd.Timedelta(days=n), s - pd.Timedelta(days=1))


def end_note(requested: str | dt.date | None, data_end: dt.date, what: str) -> str:
    """The sentence for a report ``end`` after the data: ``""`` when ``requested`` fits.

    A report never counts days the data do not hold: an ``end`` after the data's last day
    is clipped to it, and this sentence says so. ``what`` names what is counted
    (``"sales, demand and stock"``).
    """
    if requested is None or requested == "":
        return ""
    req = pd.Timestamp(requested).date()
    if req <= data_end:
        return ""
    return (
        f"The orders data end on {data_end}, {(req - data_end).days} days before the requested "
        f"end {req}: {what} are counted up to {data_end}, not on days the data do not hold."
    )


__all__ = [
    "end_note",
    "PANDAS_FREQ",
    "PERIODS",
    "PERIOD_DAYS",
    "TRUNCATE",
    "Window",
    "normalise_period",
    "period_end",
    "period_start",
    "resolve_window",
]
