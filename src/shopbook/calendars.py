"""Shop calendars: public holidays, China's Spring Festival and make-up working days,
the e-commerce festivals and a shop's own recurring days, as dated events.

One place for every calendar the package knows. The synthetic shop plants its Spring
Festival dip on these days and the trend functions (changepoints, festival effects,
forecasts) take the events :func:`shop_calendar` returns.

Sources
-------
* Public holidays, China's official days off and its make-up working days (调休) come
  from the ``holidays`` package (``holidays.China``: the State Council's yearly notices
  from 2001; later years are estimated from the statutory days).
* The e-commerce festivals are not public holidays, so no library lists them; their
  rules are written here (:data:`ECOMMERCE_FESTIVALS`):

  ===========  ==========================================================================
  618          June 1–18, peak the 18th (JD's anniversary sale, now every platform's)
  Double 11    November 1–11, peak the 11th (双十一)
  Double 12    December 12, one day (双十二)
  520          May 20, one day ("我爱你", a gifting day)
  七夕          the 7th day of the 7th lunar month, one day (Chinese Valentine's day)
  年货节        the 21 days before the Spring Festival logistics stop, peak its last day
               (the New-Year goods festival: platforms run it in the three weeks before
               couriers stop for the holiday)
  ===========  ==========================================================================

* **Spring Festival** (春节): its event starts :data:`SPRING_FESTIVAL_LEAD_DAYS` days
  before the official days off (couriers and warehouses stop before the holiday: the
  "pre-heat" window of this event is the logistics stop), peaks on the first official
  day off and ends on the last (the block of days off around the Lunar New Year that
  ``holidays.China`` gives, weekends included, make-up working days excluded).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

import pandas as pd

#: Days before the first official day off when couriers stop (the Spring Festival
#: event's first window).
SPRING_FESTIVAL_LEAD_DAYS = 3

#: Length of 年货节 in days; it ends the day before the Spring Festival logistics stop.
NIANHUO_DAYS = 21

#: The e-commerce festivals with fixed Gregorian dates: name → (month, first day, peak
#: = last day, post-festival window in days or ``None`` for the caller's ``post_days``).
FIXED_FESTIVALS: dict[str, tuple[int, int, int, int | None]] = {
    "618": (6, 1, 18, None),
    "Double 11": (11, 1, 11, None),
    "Double 12": (12, 12, 12, 0),
    "520": (5, 20, 20, 0),
}

#: Every e-commerce festival the ``cn`` calendar knows, in the order they are listed.
ECOMMERCE_FESTIVALS: tuple[str, ...] = ("年货节", "520", "618", "七夕", "Double 11", "Double 12")

#: The currencies a calendar applies to (a festival calendar measured on a shop selling
#: in another currency is a Chinese calendar on a foreign shop). Countries not listed
#: are not checked.
CALENDAR_CURRENCIES: dict[str, tuple[str, ...]] = {
    "CN": ("CNY", "RMB"),
    "US": ("USD",),
    "GB": ("GBP",),
    "JP": ("JPY",),
    "DE": ("EUR",),
    "FR": ("EUR",),
    "IT": ("EUR",),
    "ES": ("EUR",),
    "NL": ("EUR",),
    "CA": ("CAD",),
    "AU": ("AUD",),
    "HK": ("HKD",),
    "TW": ("TWD",),
    "SG": ("SGD",),
    "KR": ("KRW",),
}

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _years(start: Any, end: Any) -> range:
    return range(pd.Timestamp(start).year, pd.Timestamp(end).year + 1)


def _china(years: Iterable[int]) -> Any:
    import holidays

    return holidays.China(years=list(years))


def lunar_new_year(year: int) -> date:
    """The first day of the Chinese lunar year (春节) in ``year`` (``holidays`` tables)."""
    from holidays.calendars.chinese import _ChineseLunisolar

    # holidays keeps its lunisolar table behind a private class; it is the library's
    # own source for every country's Lunar New Year and has no public accessor
    day, _ = _ChineseLunisolar().lunar_new_year_date(year)
    if day is None:
        raise ValueError(f"no Lunar New Year date known for {year}")
    return day


def makeup_workdays(start: Any, end: Any) -> list[date]:
    """China's make-up working days (调休 weekend days that are working days).

    From ``holidays.China(...).weekend_workdays``; years without an official notice yet
    have none.
    """
    s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    cn = _china(_years(start, end))
    return sorted(d for d in cn.weekend_workdays if s <= d <= e)


def china_days_off(start: Any, end: Any) -> list[date]:
    """China's official days off: public holidays and weekends, less make-up working days."""
    s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    cn = _china(_years(start, end))
    days = pd.date_range(s, e, freq="D").date
    return [d for d in days if not cn.is_working_day(d)]


def spring_festival_days_off(year: int) -> tuple[date, date]:
    """First and last official day off of the Spring Festival block in ``year``.

    The run of consecutive days off (``holidays.China``: holidays, weekends, less the
    make-up working days) that contains the Lunar New Year's day.
    """
    ny = lunar_new_year(year)
    cn = _china([year - 1, year, year + 1])
    first = last = ny
    while not cn.is_working_day(first - timedelta(days=1)):
        first -= timedelta(days=1)
    while not cn.is_working_day(last + timedelta(days=1)):
        last += timedelta(days=1)
    return first, last


# --- 七夕: the 7th day of the 7th lunar month ------------------------------------
# No installed library converts lunar dates (holidays ships tables only for the
# festivals countries observe; 七夕 is not a public holiday anywhere), so the month is
# found astronomically here: a Chinese month starts on the day (UTC+8) of a new moon and
# the 7th month is the one holding the principal solar term 处暑 (sun at 150°). New
# moons by Meeus, *Astronomical Algorithms* ch. 49 (error ≲ 1 minute); the sun's
# apparent longitude by Meeus ch. 25 (low precision, ≲ 0.01°). Tests check the new
# moons against holidays' Lunar New Year and Mid-Autumn tables for 1950–2050.

_J2000 = 2451545.0
_UNIX_JD = 2440587.5
_BEIJING = 8 / 24


def _new_moon_jde(k: int) -> float:
    """Julian ephemeris day of the ``k``-th new moon after 2000-01-06 (Meeus 49)."""
    t = k / 1236.85
    jde = (
        2451550.09766
        + 29.530588861 * k
        + 0.00015437 * t**2
        - 0.000000150 * t**3
        + 0.00000000073 * t**4
    )
    e = 1 - 0.002516 * t - 0.0000074 * t**2
    r = math.radians
    m = r(2.5534 + 29.10535670 * k - 0.0000014 * t**2 - 0.00000011 * t**3)
    mp = r(201.5643 + 385.81693528 * k + 0.0107582 * t**2 + 0.00001238 * t**3)
    f = r(160.7108 + 390.67050284 * k - 0.0016118 * t**2 - 0.00000227 * t**3)
    om = r(124.7746 - 1.56375588 * k + 0.0020672 * t**2 + 0.00000215 * t**3)
    sin = math.sin
    corr = (
        -0.40720 * sin(mp)
        + 0.17241 * e * sin(m)
        + 0.01608 * sin(2 * mp)
        + 0.01039 * sin(2 * f)
        + 0.00739 * e * sin(mp - m)
        - 0.00514 * e * sin(mp + m)
        + 0.00208 * e * e * sin(2 * m)
        - 0.00111 * sin(mp - 2 * f)
        - 0.00057 * sin(mp + 2 * f)
        + 0.00056 * e * sin(2 * mp + m)
        - 0.00042 * sin(3 * mp)
        + 0.00042 * e * sin(m + 2 * f)
        + 0.00038 * e * sin(m - 2 * f)
        - 0.00024 * e * sin(2 * mp - m)
        - 0.00017 * sin(om)
        - 0.00007 * sin(mp + 2 * m)
        + 0.00004 * sin(2 * mp - 2 * f)
        + 0.00004 * sin(3 * m)
        + 0.00003 * sin(mp + m - 2 * f)
        + 0.00003 * sin(2 * mp + 2 * f)
        - 0.00003 * sin(mp + m + 2 * f)
        + 0.00003 * sin(mp - m + 2 * f)
        - 0.00002 * sin(mp - m - 2 * f)
        - 0.00002 * sin(3 * mp + m)
        + 0.00002 * sin(4 * mp)
    )
    return jde + corr


def _beijing_day(jd: float) -> date:
    return date(1970, 1, 1) + timedelta(days=math.floor(jd - _UNIX_JD + _BEIJING))


def _sun_longitude(jd: float) -> float:
    """Apparent geometric longitude of the sun in degrees (Meeus 25, low precision)."""
    t = (jd - _J2000) / 36525
    l0 = 280.46646 + 36000.76983 * t + 0.0003032 * t * t
    m = math.radians(357.52911 + 35999.05029 * t - 0.0001537 * t * t)
    c = (
        (1.914602 - 0.004817 * t - 0.000014 * t * t) * math.sin(m)
        + (0.019993 - 0.000101 * t) * math.sin(2 * m)
        + 0.000289 * math.sin(3 * m)
    )
    om = math.radians(125.04 - 1934.136 * t)
    return (l0 + c - 0.00569 - 0.00478 * math.sin(om)) % 360


def new_moons(start: Any, end: Any) -> list[date]:
    """Days (Beijing time) of the new moons from ``start`` to ``end``: the first days of
    the Chinese lunar months."""
    s, e = pd.Timestamp(start).date(), pd.Timestamp(end).date()
    k = math.floor((s.year + (s.timetuple().tm_yday - 1) / 365.25 - 2000) * 12.3685) - 1
    out: list[date] = []
    while True:
        d = _beijing_day(_new_moon_jde(k))
        if d > e:
            return out
        if d >= s:
            out.append(d)
        k += 1


def qixi(year: int) -> date:
    """七夕: the 7th day of the 7th Chinese lunar month in ``year``."""
    # 处暑: the day the sun's longitude passes 150° (late August), by bisection
    lo = (pd.Timestamp(year, 8, 10).to_julian_date(), pd.Timestamp(year, 9, 5).to_julian_date())
    a, b = lo
    for _ in range(50):
        mid = (a + b) / 2
        if _sun_longitude(mid) < 150.0:
            a = mid
        else:
            b = mid
    term = _beijing_day(b)
    month_start = max(d for d in new_moons(date(year, 6, 1), term) if d <= term)
    return month_start + timedelta(days=6)


# --- events -------------------------------------------------------------------------


def _event(
    name: str, start: date, end: date, peak: date, post: int | None, cal: str | None
) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "name": name,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "peak": peak.isoformat(),
    }
    if post is not None:
        ev["post"] = post
    if cal is not None:
        ev["calendar"] = cal
    return ev


def spring_festival_event(year: int, lead_days: int = SPRING_FESTIVAL_LEAD_DAYS) -> dict[str, Any]:
    """The Spring Festival of ``year`` as an event.

    ``start``: ``lead_days`` before the first official day off (the logistics stop);
    ``peak``: the first official day off; ``end``: the last official day off.
    """
    first, last = spring_festival_days_off(year)
    return _event("Spring Festival", first - timedelta(days=lead_days), last, first, None, "cn")


def _cn_events(year: int, names: Collection[str]) -> list[dict[str, Any]]:
    out = [spring_festival_event(year)]
    sf_start = date.fromisoformat(out[0]["start"])
    if "年货节" in names:
        end = sf_start - timedelta(days=1)
        out.append(_event("年货节", end - timedelta(days=NIANHUO_DAYS - 1), end, end, 0, "cn"))
    for name, (month, first, peak, post) in FIXED_FESTIVALS.items():
        if name in names:
            d0, d1 = date(year, month, first), date(year, month, peak)
            out.append(_event(name, d0, d1, d1, post, "cn"))
    if "七夕" in names:
        d = qixi(year)
        out.append(_event("七夕", d, d, d, 0, "cn"))
    return out


def _country_events(code: str, years: range) -> list[dict[str, Any]]:
    """A country's public holidays, consecutive days of one name as one event."""
    import holidays

    try:
        cal = holidays.country_holidays(code, years=list(years), language="en_US")
    except NotImplementedError:
        cal = None
    except (KeyError, ValueError):
        cal = holidays.country_holidays(code, years=list(years))
    if cal is None:
        raise ValueError(
            f"calendar {code!r} is not known: use 'cn', 'none' or a country code the "
            "holidays package supports (e.g. 'US', 'GB', 'DE')"
        )
    out: list[dict[str, Any]] = []
    for d, name in sorted(cal.items()):
        name = str(name).split(";")[0].replace(" (observed)", "").strip()
        last = out[-1] if out else None
        if last and last["name"] == name and date.fromisoformat(last["end"]) == d - timedelta(1):
            last["end"] = d.isoformat()
            continue
        out.append(_event(name, d, d, d, None, code))
    return out


def _recurring(
    name: str, days: pd.DatetimeIndex, since: Any, post: int = 0
) -> list[dict[str, Any]]:
    if since is not None:
        days = days[days >= pd.Timestamp(since)]
    return [_event(name, d.date(), d.date(), d.date(), post, None) for d in days]


def _weekday(member_day: int | str) -> int:
    if isinstance(member_day, str):
        key = member_day.strip().lower()[:3]
        if key not in _WEEKDAYS:
            raise ValueError(f"member_day {member_day!r}: give a weekday, e.g. 'Wed' or 2")
        return _WEEKDAYS.index(key)
    if not 0 <= int(member_day) <= 6:
        raise ValueError(f"member_day {member_day!r}: 0 (Monday) … 6 (Sunday)")
    return int(member_day)


def shop_calendar(
    start: Any,
    end: Any,
    calendar: str = "cn",
    *,
    festivals: bool | Collection[str] = True,
    member_day: int | str | None = None,
    member_since: Any = None,
    new_product_day: int | None = None,
    new_product_since: Any = None,
    extra: Iterable[Mapping[str, Any]] = (),
) -> list[dict[str, Any]]:
    """The events of a shop's calendar between ``start`` and ``end``.

    Parameters
    ----------
    start, end
        First and last day (anything :func:`pandas.Timestamp` reads); every event of the
        years they span is listed (the trend functions drop those outside their data).
    calendar
        ``"cn"``: the Spring Festival (official days off from ``holidays.China``, with a
        :data:`SPRING_FESTIVAL_LEAD_DAYS`-day logistics stop before) and the e-commerce
        festivals; ``"none"``: no calendar events; a country code (``"US"``, ``"GB"``,
        …): that country's public holidays from ``holidays.country_holidays``.
    festivals
        With ``"cn"``: ``True`` all of :data:`ECOMMERCE_FESTIVALS`, ``False`` none (the
        Spring Festival only), or the names to include. Ignored for other calendars.
    member_day
        The weekly member day (会员日), a weekday (``"Wed"`` or 0 = Monday … 6); one
        one-day event a week. A member day every week of the data is the day of week
        itself and cannot be measured apart from it: give ``member_since``, the day the
        programme started.
    member_since
        First day of the member-day programme (default: from ``start``).
    new_product_day
        The monthly new-product day (上新日), a day of the month 1–28.
    new_product_since
        First day of the new-product days (default: from ``start``).
    extra
        Further ``{"name", "start", "end"[, "peak", "post"]}`` events, appended as given.

    Returns
    -------
    list of dict
        ``{"name", "start", "end", "peak"[, "post", "calendar"]}`` per occurrence (ISO
        dates): ``post`` is the event's own post-festival window (0 for one-day days such
        as 520 or a member day; absent: the caller's ``post_days``), ``calendar`` the
        calendar it comes from (``"cn"`` or the country code; absent for the shop's own
        days and ``extra``). The calendar's and the shop's days ordered by start date,
        then ``extra`` as given.
    """
    years = _years(start, end)
    key = str(calendar).strip()
    out: list[dict[str, Any]] = []
    if key.lower() == "cn":
        names = (
            ECOMMERCE_FESTIVALS
            if festivals is True
            else ()
            if festivals is False
            else tuple(festivals)
        )
        unknown = sorted(set(names) - set(ECOMMERCE_FESTIVALS))
        if unknown:
            raise ValueError(
                f"unknown festivals {unknown}: choose from {list(ECOMMERCE_FESTIVALS)}"
            )
        for y in years:
            out += _cn_events(y, names)
    elif key.lower() != "none":
        out += _country_events(key.upper(), years)
    s = pd.Timestamp(years.start, 1, 1)
    e = pd.Timestamp(years.stop - 1, 12, 31)
    if member_day is not None:
        wd = _weekday(member_day)
        days = pd.date_range(s, e, freq="D")
        out += _recurring("member day", days[days.dayofweek == wd], member_since)
    if new_product_day is not None:
        if not 1 <= int(new_product_day) <= 28:
            raise ValueError(f"new_product_day {new_product_day!r}: a day of the month, 1–28")
        days = pd.date_range(s, e, freq="MS") + pd.Timedelta(days=int(new_product_day) - 1)
        out += _recurring("new-product day", days, new_product_since)
    out.sort(key=lambda ev: (ev["start"], ev["name"]))
    return out + [dict(ev) for ev in extra]


def calendar_applies(calendar: str | None, currency: str | None) -> str | None:
    """Why a calendar does not apply to a shop selling in ``currency`` (``None``: it does,
    or it cannot be told).

    The rule: a calendar in :data:`CALENDAR_CURRENCIES` applies to shops whose currency
    is one of its country's; any other pair (or an unknown country or currency) is not
    judged.
    """
    if calendar is None or currency is None:
        return None
    wanted = CALENDAR_CURRENCIES.get(str(calendar).upper())
    if wanted is None or str(currency).upper() in wanted:
        return None
    return (
        f"the {calendar!r} calendar's days are {str(calendar).upper()} days and the shop "
        f"sells in {currency} (expected {'/'.join(wanted)}); pass calendar= for the "
        "shop's own country (or 'none' and your own events)"
    )


__all__ = [
    "CALENDAR_CURRENCIES",
    "ECOMMERCE_FESTIVALS",
    "FIXED_FESTIVALS",
    "NIANHUO_DAYS",
    "SPRING_FESTIVAL_LEAD_DAYS",
    "calendar_applies",
    "china_days_off",
    "lunar_new_year",
    "makeup_workdays",
    "new_moons",
    "qixi",
    "shop_calendar",
    "spring_festival_days_off",
    "spring_festival_event",
]
