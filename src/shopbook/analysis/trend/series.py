"""A regular, gap-free series from whatever dated values the caller has."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import note
from shopbook.features.periods import PANDAS_FREQ, normalise_period


@dataclass(kw_only=True)
class RegularSeries(Result):
    """The result of :func:`regularize`.

    Attributes
    ----------
    series
        The regular series (float, with ``.index.freq`` set).
    notes
        What was repaired (duplicates summed, gaps filled).
    """

    series: pd.Series = field(default_factory=lambda: pd.Series(dtype="float64"))


def _infer_offset(s: pd.Series, period: str | None) -> pd.DateOffset:
    if period is not None:
        return pd.tseries.frequencies.to_offset(PANDAS_FREQ[normalise_period(period)])
    freq = s.index.freq or pd.infer_freq(s.index)
    if freq is None:
        step = pd.Series(s.index[1:] - s.index[:-1]).mode().iloc[0]
        freq = pd.tseries.frequencies.to_offset(step)
    return pd.tseries.frequencies.to_offset(freq)


def regularize(series: pd.Series, period: str | None = None) -> RegularSeries:
    """A regular, gap-free float series and the sentences that say what was repaired.

    Parameters
    ----------
    series
        Values indexed by a :class:`~pandas.DatetimeIndex` (any order, with gaps or
        duplicates).
    period
        ``"day"``, ``"week"`` (Mondays) or ``"month"`` (first days); default: inferred
        from the index (any regular spacing), else its most common spacing.

    Returns
    -------
    RegularSeries
        ``series`` (float, with ``.index.freq`` set) and ``notes``.

    Raises
    ------
    TypeError
        When the index is not a DatetimeIndex.
    ValueError
        When fewer than three values remain, or a date is off the period's grid.
    """
    notes: list[str] = []
    if not isinstance(series, pd.Series):
        series = pd.Series(series)
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError(
            "expected a Series indexed by dates (DatetimeIndex), found "
            f"{type(series.index).__name__}; set the index with series.index = pd.to_datetime(...)"
        )
    s = pd.to_numeric(series, errors="coerce").astype("float64")
    if s.index.tz is not None:
        s.index = s.index.tz_localize(None)
    s = s.sort_index()
    if s.index.has_duplicates:
        n_dup = int(s.index.duplicated().sum())
        s = s.groupby(level=0).sum(min_count=1)
        note(notes, f"{n_dup} duplicate timestamps were summed.")
    if len(s) < 3:
        raise ValueError(f"need at least 3 values, found {len(s)}")
    offset = _infer_offset(s, period)
    full = pd.date_range(s.index[0], s.index[-1], freq=offset)
    missing_dates = full.difference(s.index)
    off_grid = s.index.difference(full)
    if len(off_grid):
        raise ValueError(
            f"{len(off_grid)} timestamps are not on the {offset.freqstr} grid starting "
            f"{s.index[0].date()} (first: {off_grid[0]}); resample the series first"
        )
    s = s.reindex(full)
    n_nan = int(s.isna().sum())
    if n_nan:
        first = s.index[s.isna()][0]
        what = (f"{len(missing_dates)} missing dates" if len(missing_dates) else "") + (
            (" and " if len(missing_dates) else "") + f"{n_nan - len(missing_dates)} missing values"
            if n_nan > len(missing_dates)
            else ""
        )
        s = s.interpolate(method="time", limit_direction="both")
        note(notes, f"{what} (first {first.date()}) filled by linear interpolation.")
    s.index.freq = offset
    s.name = series.name
    return RegularSeries(series=s, notes=notes)


__all__ = ["RegularSeries", "regularize"]
