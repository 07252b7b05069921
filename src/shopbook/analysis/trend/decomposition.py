"""Trend and seasons: MSTL/STL decomposition and the average effect per season position."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import DEFAULT_SEASONS, note, seasons_in_steps, step_days
from shopbook.analysis.trend.series import regularize

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@dataclass(kw_only=True)
class Decomposition(Result):
    """The result of :func:`decompose`.

    Attributes
    ----------
    table
        Columns ``observed``, ``trend``, ``seasonal_<p>`` per kept season (``p`` in
        steps, e.g. ``seasonal_7``, ``seasonal_365``), ``resid``, indexed by date; the
        sum of all but ``observed`` equals ``observed``.
    seasons
        The kept season lengths in steps.
    method
        ``MSTL (periods 7, 365)``, ``STL (period 7)`` or ``moving average``.
    notes
        What was repaired or dropped.
    """

    seasons: list[int] = field(default_factory=list)
    method: str = ""

    @property
    def deseasonalised(self) -> pd.Series:
        """``observed`` minus every seasonal component."""
        t = self.table
        return t["observed"] - t.filter(like="seasonal_").sum(axis=1)


def decompose(
    series: pd.Series,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    *,
    robust: bool = True,
    **kwargs: Any,
) -> Decomposition:
    """Trend, seasonal components and remainder: MSTL (several seasons) or STL (one).

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (gaps are filled and stated).
    seasons
        Seasonal lengths **in days**: ``(7, 365)`` is weekly and yearly. They are
        converted to steps of the series (``365`` → 52 for weekly data, 12 for monthly);
        seasons shorter than two steps, or longer than half the series, are dropped
        (stated in the notes).
    robust
        Robust LOESS fits, so festival spikes do not bend the seasonal pattern
        (statsmodels' ``robust=True``).
    **kwargs
        Passed to :class:`statsmodels.tsa.seasonal.MSTL` (or ``STL`` for one season).

    Returns
    -------
    Decomposition
        ``table`` (``observed``, ``trend``, ``seasonal_<p>``…, ``resid``), ``seasons``
        (steps), ``method``, ``notes``.
    """
    from statsmodels.tsa.seasonal import MSTL, STL

    reg = regularize(series)
    s, notes = reg.series, reg.notes
    steps = seasons_in_steps(s, seasons, notes)
    frame = pd.DataFrame({"observed": s})
    if not steps:
        window = max(3, len(s) // 10) | 1
        trend = s.rolling(window, center=True, min_periods=1).mean()
        note(
            notes,
            f"No seasonal period fits the series: trend is a centred {window}-period "
            "moving average.",
        )
        frame["trend"] = trend
        frame["resid"] = s - trend
        return Decomposition(table=frame, notes=notes, seasons=[], method="moving average")
    if len(steps) == 1:
        res = STL(s, period=steps[0], robust=robust, **kwargs).fit()
        frame["trend"] = res.trend
        frame[f"seasonal_{steps[0]}"] = res.seasonal
        method = f"STL (period {steps[0]})"
    else:
        stl_kwargs = dict(kwargs.pop("stl_kwargs", {}) or {})
        stl_kwargs.setdefault("robust", robust)
        res = MSTL(s, periods=steps, stl_kwargs=stl_kwargs, **kwargs).fit()
        frame["trend"] = res.trend
        seas = res.seasonal
        for p in steps:
            frame[f"seasonal_{p}"] = seas[f"seasonal_{p}"]
        method = "MSTL (periods " + ", ".join(map(str, steps)) + ")"
    frame["resid"] = res.resid
    return Decomposition(table=frame, notes=notes, seasons=steps, method=method)


@dataclass(kw_only=True)
class SeasonalProfile(Result):
    """The result of :func:`seasonal_profile`.

    Attributes
    ----------
    table
        One row per position in the cycle (``weekday`` names for a weekly cycle on daily
        data, else ``position`` 0..season-1): ``effect`` (mean seasonal component, in the
        series' unit) and ``effect_pct`` (relative to the mean trend).
    """

    @property
    def best(self) -> tuple[Any, float]:
        """The position with the largest effect and its ``effect_pct``."""
        e = self.table["effect_pct"]
        return e.idxmax(), float(e.max())

    @property
    def worst(self) -> tuple[Any, float]:
        """The position with the smallest effect and its ``effect_pct``."""
        e = self.table["effect_pct"]
        return e.idxmin(), float(e.min())


def seasonal_profile(
    decomposition: Decomposition | pd.DataFrame, season: int = 7
) -> SeasonalProfile:
    """The average seasonal effect per position in the cycle, relative to the level.

    Parameters
    ----------
    decomposition
        A :func:`decompose` result (or its table) with ``trend`` and ``seasonal_<season>``.
    season
        The season length in steps (7: day of week on daily data).

    Returns
    -------
    SeasonalProfile
        ``table`` with ``effect`` and ``effect_pct`` per position; skipped when the
        decomposition has no such season (the series was too short for it).
    """
    dec = decomposition.table if isinstance(decomposition, Result) else decomposition
    col = f"seasonal_{season}"
    if col not in dec:
        return SeasonalProfile.skipped(
            f"the decomposition has no season of {season} periods (the series is too short)"
        )
    idx = dec.index
    if season == 7 and step_days(idx.freq or pd.tseries.frequencies.to_offset("D")) == 1.0:
        key = pd.Index(idx.dayofweek, name="weekday")
        names: list[str] | None = WEEKDAYS
    else:
        key = pd.Index(np.arange(len(idx)) % season, name="position")
        names = None
    eff = dec[col].groupby(key).mean()
    level = float(dec["trend"].mean())
    out = pd.DataFrame({"effect": eff, "effect_pct": eff / level if level else np.nan})
    if names:
        out.index = pd.Index([names[i] for i in out.index], name="weekday")
    return SeasonalProfile(table=out)


__all__ = ["Decomposition", "SeasonalProfile", "decompose", "seasonal_profile"]
