"""The calendar and the purchase clock: daily intensity, hour profile, clock days."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopbook.calendars import spring_festival_event
from shopbook.data.synthetic.parameters import (
    CNY_DATES,
    CNY_DIP,
    FESTIVALS,
    HOUR_WEIGHTS,
    MEMBER_DAY,
    MIN_DAYS,
    WEEKLY,
    YEARLY_AMPLITUDE,
    YEARLY_PEAK_DOY,
)


@dataclass(frozen=True)
class _Calendar:
    start: pd.Timestamp
    end: pd.Timestamp
    n: int
    days: pd.DatetimeIndex

    @classmethod
    def make(cls, start: Any, end: Any) -> _Calendar:
        try:
            s, e = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"start and end must be dates, got {start!r} and {end!r}") from exc
        n = (e - s).days + 1
        if n < MIN_DAYS:
            raise ValueError(
                f"the synthetic shop needs at least {MIN_DAYS} days; got {start} … {end} ({n} days)"
            )
        if e + pd.Timedelta(days=1) > pd.Timestamp.now():
            raise ValueError(
                f"end {e.date()} must be in the past (data in the future would be rejected)"
            )
        if s.year < min(CNY_DATES) or e.year > max(CNY_DATES):
            raise ValueError(
                f"dates must lie in {min(CNY_DATES)}–{max(CNY_DATES)}, got {s.date()} … {e.date()}"
            )
        return cls(s, e, n, pd.date_range(s, periods=n, freq="D"))

    def day(self, date: pd.Timestamp) -> int:
        return int((pd.Timestamp(date) - self.start).days)

    def iso(self, d: int | float) -> str:
        return (self.start + pd.Timedelta(days=int(d))).date().isoformat()


def member_day_since(cal: _Calendar) -> int:
    """The first member day: the first ``MEMBER_DAY["weekday"]`` on or after ``since``."""
    d = int(round(MEMBER_DAY["since"] * cal.n))
    dow = int(cal.days[min(d, cal.n - 1)].dayofweek)
    return d + (MEMBER_DAY["weekday"] - dow) % 7


def _member_days(cal: _Calendar) -> np.ndarray:
    """1.0 on the member days (the weekday from :func:`member_day_since` on), else 0."""
    on = (cal.days.dayofweek.to_numpy() == MEMBER_DAY["weekday"]) & (
        np.arange(cal.n) >= member_day_since(cal)
    )
    return on.astype(float)


def _hour_cdf(weights: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()


_HOURS = np.arange(25, dtype=float)


def _to_clock(t: np.ndarray, m: np.ndarray, gday: np.ndarray, hcdf: np.ndarray) -> np.ndarray:
    d = np.clip(np.floor(t).astype(np.int64), 0, len(m) - 1)
    frac = np.clip(t - d, 0.0, 1.0)
    return gday[d] + m[d] * np.interp(frac * 24.0, _HOURS, hcdf)


@dataclass
class _Clock:
    m: np.ndarray  # daily multiplier
    m0: np.ndarray  # without festivals (member days kept)
    uplift: np.ndarray  # festival uplift per day (fraction)
    gday: np.ndarray  # clock at the start of each day, length n + 1
    hcdf: np.ndarray
    events: list[dict[str, Any]]
    norm: float

    @classmethod
    def make(cls, cal: _Calendar) -> _Clock:
        days = cal.days
        weekly = WEEKLY[days.dayofweek.to_numpy()]
        yearly = 1.0 + YEARLY_AMPLITUDE * np.cos(
            2 * np.pi * (days.dayofyear.to_numpy() - YEARLY_PEAK_DOY) / 365.25
        )
        uplift = np.zeros(cal.n)
        events: list[dict[str, Any]] = []
        per_year = 0.0
        for key, f in FESTIVALS.items():
            k = np.arange(f["first_day"], f["peak_day"] + 1)
            u = f["base_uplift"] + (f["peak_uplift"] - f["base_uplift"]) * np.exp(
                -(f["peak_day"] - k) / f["decay_days"]
            )
            per_year += u.sum()
            for year in range(cal.start.year, cal.end.year + 1):
                dates = pd.to_datetime([f"{year}-{f['month']:02d}-{x:02d}" for x in k])
                idx = (dates - cal.start).days.to_numpy()
                inside = (idx >= 0) & (idx < cal.n)
                if not inside.any():
                    continue
                uplift[idx[inside]] = u[inside]
                events.append(
                    {
                        "festival": key,
                        "year": year,
                        "days": idx[inside],
                        "uplift": u[inside],
                        "complete": bool(inside.all()),
                    }
                )
        cny_days = 0
        years = range(cal.start.year, cal.end.year + 1)
        for year in years:
            sf = spring_festival_event(year)
            dates = pd.date_range(sf["start"], sf["end"], freq="D")
            cny_days += len(dates)
            idx = (dates - cal.start).days.to_numpy()
            inside = (idx >= 0) & (idx < cal.n)
            if not inside.any():
                continue
            u = np.full(len(dates), CNY_DIP["uplift"])
            uplift[idx[inside]] = u[inside]
            events.append(
                {
                    "festival": "cny",
                    "year": year,
                    "days": idx[inside],
                    "uplift": u[inside],
                    "complete": bool(inside.all()),
                    "new_year_day": pd.Timestamp(CNY_DATES[year]).date().isoformat(),
                    "days_off": (sf["peak"], sf["end"]),
                }
            )
        per_year += cny_days / len(years) * CNY_DIP["uplift"]
        member = _member_days(cal)
        per_year += MEMBER_DAY["uplift"] * member.sum() / cal.n * 365.25
        norm = 1.0 + per_year / 365.25
        # the member day multiplies the weekly pattern; festival uplifts are relative to
        # the same day without the festival (member day kept)
        m0 = weekly * yearly * (1.0 + MEMBER_DAY["uplift"] * member) / norm
        m = m0 * (1.0 + uplift)
        gday = np.concatenate([[0.0], np.cumsum(m)])
        return cls(m, m0, uplift, gday, _hour_cdf(HOUR_WEIGHTS), events, norm)

    def to_clock(self, t: np.ndarray) -> np.ndarray:
        return _to_clock(t, self.m, self.gday, self.hcdf)

    def from_clock(self, u: np.ndarray) -> np.ndarray:
        d = np.clip(np.searchsorted(self.gday, u, side="right") - 1, 0, len(self.m) - 1)
        f = np.clip((u - self.gday[d]) / self.m[d], 0.0, 1.0)
        t = d + np.interp(f, self.hcdf, _HOURS) / 24.0
        return np.minimum(t, len(self.m) - 1e-6)

    def time_in_day(self, d: np.ndarray, u01: np.ndarray) -> np.ndarray:
        """Calendar time on day ``d`` at quantile ``u01`` of the hour profile."""
        return d + np.minimum(np.interp(u01, self.hcdf, _HOURS) / 24.0, 1 - 1e-6)


def _monday_on_or_after(cal: _Calendar, d: int) -> int:
    dow = int(cal.days[min(d, cal.n - 1)].dayofweek)
    return min(d + (7 - dow) % 7, cal.n - 1)


def clock_days(truth: dict[str, Any], ts: Any) -> np.ndarray:
    """Purchase-clock days since the shop's start, for timestamps.

    The clock is the integral of the shop's purchase intensity (``truth["purchase_clock"]``):
    a day with multiplier 3 (a festival peak) counts as three clock days, spread over
    its hours by the hour profile. BG/NBD holds exactly on this clock.

    Parameters
    ----------
    truth
        ``Shop.truth``.
    ts
        Timestamps (anything :func:`pandas.to_datetime` reads), within the shop's days.

    Returns
    -------
    numpy.ndarray
        Clock days since the start (float).
    """
    pcfg = truth["purchase_clock"]
    m = np.asarray(pcfg["daily_multiplier"], dtype=float)
    gday = np.concatenate([[0.0], np.cumsum(m)])
    hcdf = _hour_cdf(np.asarray(pcfg["hour_weights"], dtype=float))
    t = pd.to_datetime(pd.Series(np.asarray(ts).ravel() if not isinstance(ts, pd.Series) else ts))
    days = (t - pd.Timestamp(pcfg["start"])).dt.total_seconds().to_numpy() / 86400.0
    return _to_clock(days, m, gday, hcdf)
