"""Festivals and promotions: dated events, their windows and their indicators.

An *event* is ``{"name", "start", "end"}`` (and optionally ``"peak"``, default ``end``;
``"post"``, its own post-festival window in days; ``"calendar"``, the calendar it comes
from). Its effect is split into three windows:

* **pre-heat** — ``start`` to the day before ``peak`` (for the Spring Festival: the
  logistics stop before the official days off),
* **peak** — ``peak`` to ``end`` (one day for 618 and Double 11),
* **post** — the ``post_days`` days after ``end`` (the post-festival dip), or the
  event's own ``post``.

Calendars (China's Spring Festival and e-commerce festivals, other countries' public
holidays, a shop's member and new-product days) are built by
:func:`shopbook.calendars.shop_calendar`; :func:`event_list` is the report's use of it.
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
from shopbook.calendars import FIXED_FESTIVALS, shop_calendar
from shopbook.i18n import translate

#: Window names, in time order.
WINDOWS = ("pre-heat", "peak", "post")

#: The festivals every notebook knows: (name, month, first day, peak = last day).
FESTIVALS: tuple[tuple[str, int, int, int], ...] = tuple(
    (name, *FIXED_FESTIVALS[name][:3]) for name in ("618", "Double 11")
)


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
    post
        Its own post-festival window in days (``None``: the caller's ``post_days``).
    calendar
        The calendar it comes from (``"cn"``, a country code; ``None``: the shop's own).
    """

    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    peak: pd.Timestamp
    post: int | None = None
    calendar: str | None = None

    @property
    def label(self) -> str:
        """``name`` plus the year, e.g. ``618 2024``, unless the name holds the year."""
        year, name = str(self.peak.year), translate(self.name)  # 春节 2024 in Chinese
        return name if year in self.name else f"{name} {year}"

    def windows(self, post_days: int = 7) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
        """The pre-heat, peak and post windows as inclusive (first day, last day).

        ``post_days`` is the caller's post window; the event's own ``post`` wins.
        """
        if self.post is not None:
            post_days = self.post
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
    calendar: str = "cn",
    member_day: int | str | None = None,
    member_since: Any = None,
    new_product_day: int | None = None,
    new_product_since: Any = None,
) -> list[dict[str, Any]]:
    """The events a report measures: the shop calendar of every year, then the caller's own.

    A thin use of :func:`shopbook.calendars.shop_calendar` from ``start`` to
    ``end + ahead`` days.

    Parameters
    ----------
    start, end
        The first and last day of the data.
    festivals
        Include the calendar's days: with ``calendar="cn"`` the Spring Festival and the
        e-commerce festivals (年货节, 520, 618, 七夕, Double 11, Double 12); with a
        country code its public holidays. ``False``: none of them (the member and
        new-product days and ``extra`` still count).
    extra
        Further ``{"name", "start", "end"[, "peak", "post"]}`` events, appended as given.
    ahead
        Days after ``end`` that count too (a forecast horizon: next year's festival).
    calendar
        ``"cn"`` (default), ``"none"`` or a country code (``"US"``, ``"GB"``, …).
    member_day, member_since
        The weekly member day (a weekday, ``"Wed"`` or 0–6) and the day it started.
    new_product_day, new_product_since
        The monthly new-product day (1–28) and the day it started.

    Returns
    -------
    list of dict
        The calendar's events (when asked for), the shop's recurring days, then ``extra``.
    """
    last = pd.Timestamp(end) + pd.Timedelta(days=ahead)
    return shop_calendar(
        start,
        last,
        calendar if festivals else "none",
        member_day=member_day,
        member_since=member_since,
        new_product_day=new_product_day,
        new_product_since=new_product_since,
        extra=extra,
    )


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
    post = ev.get("post")
    if post is not None and (not isinstance(post, int | np.integer) or post < 0):
        raise ValueError(f"event {ev['name']!r}: post must be a whole number of days ≥ 0")
    if s1 < s0:
        raise ValueError(f"event {ev['name']!r} ends ({s1.date()}) before it starts ({s0.date()})")
    if not s0 <= pk <= s1:
        raise ValueError(f"event {ev['name']!r}: peak {pk.date()} is not between start and end")
    cal = ev.get("calendar")
    return Event(
        str(ev["name"]),
        s0,
        s1,
        pk,
        None if post is None else int(post),
        None if cal is None else str(cal),
    )


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
