"""Festivals and promotions: dated events, their windows and their indicators.

An *event* is ``{"name", "start", "end"}`` (and optionally ``"peak"``, default ``end``).
Its effect is split into three windows:

* **pre-heat** — ``start`` to the day before ``peak``,
* **peak** — ``peak`` to ``end`` (one day for 618 and Double 11),
* **post** — the ``post_days`` days after ``end`` (the post-festival dip).

:func:`default_events` gives 618 (June 1–18, peak the 18th) and Double 11
(November 1–11, peak the 11th) for every year of a date range; ``events=None`` means
those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.trend._common import step_days

#: Window names, in time order.
WINDOWS = ("pre-heat", "peak", "post")

#: The festivals every notebook knows: (name, month, first day, peak = last day).
FESTIVALS: tuple[tuple[str, int, int, int], ...] = (("618", 6, 1, 18), ("Double 11", 11, 1, 11))


@dataclass(frozen=True)
class Event:
    """One dated occurrence of a festival or promotion.

    Attributes
    ----------
    name
        What it is called, e.g. ``"618"``.
    start, end
        First and last day (inclusive).
    peak
        The main day; ``start``..``peak - 1`` is the pre-heat, ``peak``..``end`` the peak.
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    peak: pd.Timestamp

    @property
    def label(self) -> str:
        """``name`` plus the year, e.g. ``618 2024``, unless the name holds the year."""
        year = str(self.peak.year)
        return self.name if year in self.name else f"{self.name} {year}"

    def windows(self, post_days: int = 7) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
        """The pre-heat, peak and post windows as inclusive (first day, last day)."""
        out: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
        if self.peak > self.start:
            out["pre-heat"] = (self.start, self.peak - pd.Timedelta(days=1))
        out["peak"] = (self.peak, self.end)
        if post_days > 0:
            out["post"] = (self.end + pd.Timedelta(days=1), self.end + pd.Timedelta(days=post_days))
        return out

    def span(self, post_days: int = 7) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last day of all its windows."""
        wins = self.windows(post_days).values()
        return min(a for a, _ in wins), max(b for _, b in wins)


#: What an ``events`` parameter may hold: event dicts or :class:`Event` objects, or ``None``.
EventsLike = Iterable[Mapping[str, Any] | Event] | None


def default_events(start: Any, end: Any) -> list[dict[str, Any]]:
    """618 and Double 11 for every year from ``start`` to ``end``.

    Parameters
    ----------
    start, end
        Dates (anything :func:`pandas.Timestamp` accepts).

    Returns
    -------
    list of dict
        ``{"name", "start", "end", "peak"}`` per occurrence (dates as ISO strings),
        ordered by date.
    """
    y0, y1 = pd.Timestamp(start).year, pd.Timestamp(end).year
    out = []
    for year in range(y0, y1 + 1):
        for name, month, first, peak in FESTIVALS:
            out.append(
                {
                    "name": name,
                    "start": f"{year}-{month:02d}-{first:02d}",
                    "end": f"{year}-{month:02d}-{peak:02d}",
                    "peak": f"{year}-{month:02d}-{peak:02d}",
                }
            )
    return out


def event_list(
    start: Any,
    end: Any,
    *,
    festivals: bool = True,
    extra: Iterable[Mapping[str, Any]] = (),
    ahead: int = 0,
) -> list[dict[str, Any]]:
    """The events a report measures: the festivals of every year, then the caller's own.

    Parameters
    ----------
    start, end
        The first and last day of the data.
    festivals
        Include 618 and Double 11 (:func:`default_events`) for every year from ``start``
        to ``end + ahead`` days.
    extra
        Further ``{"name", "start", "end"[, "peak"]}`` events, appended as given.
    ahead
        Days after ``end`` that count too (a forecast horizon: next year's festival).

    Returns
    -------
    list of dict
        The festivals (when asked for) followed by ``extra``.
    """
    last = pd.Timestamp(end) + pd.Timedelta(days=ahead)
    own: list[dict[str, Any]] = [dict(ev) for ev in extra]
    return (default_events(start, last) if festivals else []) + own


def _as_event(i: int, ev: Mapping[str, Any]) -> Event:
    missing = [k for k in ("name", "start", "end") if k not in ev]
    if missing:
        raise ValueError(
            f"event {i} ({dict(ev)!r}) lacks {', '.join(missing)}: "
            "write events as {name: ..., start: YYYY-MM-DD, end: YYYY-MM-DD}"
        )
    try:
        s0 = pd.Timestamp(ev["start"]).normalize()
        s1 = pd.Timestamp(ev["end"]).normalize()
        pk = pd.Timestamp(ev.get("peak") or ev["end"]).normalize()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"event {ev['name']!r}: dates must be YYYY-MM-DD ({exc})") from None
    if s1 < s0:
        raise ValueError(f"event {ev['name']!r} ends ({s1.date()}) before it starts ({s0.date()})")
    if not s0 <= pk <= s1:
        raise ValueError(f"event {ev['name']!r}: peak {pk.date()} is not between start and end")
    return Event(str(ev["name"]), s0, s1, pk)


def as_events(events: EventsLike, start: Any = None, end: Any = None) -> list[Event]:
    """Normalise an ``events`` parameter to :class:`Event` objects.

    Parameters
    ----------
    events
        A list of ``{"name", "start", "end"[, "peak"]}`` dicts (or :class:`Event`);
        ``None`` means :func:`default_events` between ``start`` and ``end``; ``[]`` none.
    start, end
        The date range for the default events.

    Raises
    ------
    ValueError
        When an event lacks a key, has unparseable dates, ends before it starts or has
        its peak outside its dates.
    """
    if events is None:
        if start is None or end is None:
            return []
        events = default_events(start, end)
    out = [ev if isinstance(ev, Event) else _as_event(i, ev) for i, ev in enumerate(events)]
    return sorted(out, key=lambda e: (e.start, e.name))


def event_windows(events: Iterable[Event], post_days: int = 7) -> pd.DataFrame:
    """One row per event window.

    Returns
    -------
    pandas.DataFrame
        Columns ``event`` (name), ``occurrence`` (label with the year), ``window``
        (pre-heat / peak / post), ``start``, ``end`` (inclusive), ``days``.
    """
    rows = []
    for ev in events:
        for w, (a, b) in ev.windows(post_days).items():
            rows.append(
                {
                    "event": ev.name,
                    "occurrence": ev.label,
                    "window": w,
                    "start": a,
                    "end": b,
                    "days": int((b - a).days) + 1,
                }
            )
    return pd.DataFrame(rows, columns=["event", "occurrence", "window", "start", "end", "days"])


def event_regressors(
    index: pd.DatetimeIndex, events: Iterable[Event], post_days: int = 7, pooled: bool = True
) -> pd.DataFrame:
    """Window indicators on ``index``.

    For a daily index a column is 1 on the window's days and 0 elsewhere; for a coarser
    index (weekly, monthly) it is the share of the period's days inside the window.

    Parameters
    ----------
    index
        A regular DatetimeIndex with a ``freq``.
    events
        :class:`Event` objects.
    post_days
        Length of the post-festival window.
    pooled
        ``True``: one column per event *name* and window (``618: peak``), shared by all
        years — what a forecast needs to carry an effect into next year. ``False``: one
        column per occurrence (``618 2024: peak``).

    Returns
    -------
    pandas.DataFrame
        Float indicators, indexed like ``index``; columns in event/window order.
    """
    freq = index.freq or pd.infer_freq(index)
    if freq is None:
        raise ValueError("the index needs a regular frequency")
    offset = pd.tseries.frequencies.to_offset(freq)
    days = pd.date_range(
        index[0].normalize(), (index[-1] + offset).normalize() - pd.Timedelta(days=1), freq="D"
    )
    if len(days) == 0:
        days = pd.DatetimeIndex([index[0].normalize()])
    cols: dict[str, Any] = {}
    for ev in events:
        key = ev.name if pooled else ev.label
        for w, (a, b) in ev.windows(post_days).items():
            name = f"{key}: {w}"
            hit = ((days >= a) & (days <= b)).astype(float)
            cols[name] = cols.get(name, 0) + hit
    daily = pd.DataFrame(cols, index=days)
    if step_days(offset) == 1.0 and len(daily.index) == len(index) and (daily.index == index).all():
        return daily
    # a coarser series: share of the period's days inside each window
    bins = np.searchsorted(index.values, daily.index.values, side="right") - 1
    out = daily.groupby(bins).mean()
    out = out.reindex(range(len(index)), fill_value=0.0)
    out.index = index
    return out


__all__ = [
    "FESTIVALS",
    "WINDOWS",
    "Event",
    "EventsLike",
    "as_events",
    "default_events",
    "event_list",
    "event_regressors",
    "event_windows",
]
