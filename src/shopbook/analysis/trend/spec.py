"""What the forecast fits: the series' scale, its orders and its regressors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopbook.analysis.trend._common import (
    DEFAULT_SEASONS,
    note,
    positive_log,
    seasons_in_steps,
    step_days,
)
from shopbook.analysis.trend.events import EventsLike, as_events, event_regressors
from shopbook.analysis.trend.series import regularize


@dataclass
class ForecastSpec:
    """What :func:`~shopbook.analysis.trend.forecast` fits: the model and its regressors.

    Built by :func:`forecast_spec`; exposed so a caller (or a test) can fit the very
    same model with statsmodels directly. A specification, not a result: its ``notes``
    are passed on to the :class:`~shopbook.analysis.trend.Forecast` made from it.

    Attributes
    ----------
    series
        The regular series (original scale).
    endog
        What the model sees: ``log(series)`` or ``series``.
    log
        Whether ``endog`` is on the log scale.
    order, seasonal_order
        SARIMAX orders.
    exog, exog_future
        Regressors over the history and the horizon (``None`` when there are none):
        short-season dummies (day of week), Fourier terms for the long seasons,
        event-window indicators.
    fixed
        The regression coefficients, estimated by OLS on first differences and held
        fixed while SARIMAX fits the ARMA part (``fit_constrained``).
    future_index
        The dates of the horizon.
    season
        The short season in steps (7 on daily data; 0 when none): dummies for SARIMAX,
        the seasonal component for ETS.
    notes
        What was repaired or dropped.
    """

    series: pd.Series
    endog: pd.Series
    log: bool
    order: tuple[int, int, int]
    seasonal_order: tuple[int, int, int, int]
    exog: pd.DataFrame | None
    exog_future: pd.DataFrame | None
    future_index: pd.DatetimeIndex
    season: int = 0
    fixed: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def fourier_terms(
    index: pd.DatetimeIndex, season: float, order: int, origin: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Sine/cosine pairs of a season of ``season`` steps of ``index``'s frequency.

    Parameters
    ----------
    index
        A regular DatetimeIndex.
    season
        Season length in steps (365 for yearly on daily data).
    order
        Number of harmonics.
    origin
        The date of step 0 (default ``index[0]``), so history and horizon line up.

    Returns
    -------
    pandas.DataFrame
        Columns ``sin<k>_<season>`` and ``cos<k>_<season>`` for ``k = 1..order``.
    """
    origin = index[0] if origin is None else origin
    step = step_days(index.freq or pd.tseries.frequencies.to_offset(pd.infer_freq(index)))
    t = ((index - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float) / step
    cols = {}
    for k in range(1, order + 1):
        cols[f"sin{k}_{season:g}"] = np.sin(2 * np.pi * k * t / season)
        cols[f"cos{k}_{season:g}"] = np.cos(2 * np.pi * k * t / season)
    return pd.DataFrame(cols, index=index)


def _season_dummies(index: pd.DatetimeIndex, m: int, origin: pd.Timestamp) -> pd.DataFrame:
    """Indicators of the position in a cycle of ``m`` steps (first position left out)."""
    step = step_days(index.freq)
    days = ((index - origin) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    pos = np.rint(days / step).astype(int) % m
    if m == 7 and step == 1.0:
        names = [f"{d:%a}" for d in pd.date_range(origin, periods=7, freq="D")]
    else:
        names = [f"season_{i}" for i in range(m)]
    return pd.DataFrame({names[i]: (pos == i).astype(float) for i in range(1, m)}, index=index)


def _event_columns(
    s: pd.Series,
    future: pd.DatetimeIndex,
    events: EventsLike,
    post_days: int,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Pooled event-window indicators over history and horizon (those it can estimate)."""
    evs = as_events(events, s.index[0], future[-1])
    if not evs:
        return None
    full = pd.date_range(s.index[0], future[-1], freq=s.index.freq)
    ind = event_regressors(full, evs, post_days, pooled=True)
    hist = ind.loc[s.index]
    seen = hist.columns[(hist > 0).any()]
    unseen = [c for c in ind.columns if c not in seen and (ind.loc[future, c] > 0).any()]
    if unseen:
        note(
            notes,
            "No past occurrence to learn from, so no effect is forecast for: "
            + ", ".join(unseen)
            + ".",
        )
    # a window present in the history but constant there cannot be estimated
    keep = [c for c in seen if hist[c].std() > 0]
    if not keep:
        return None
    return hist[keep], ind.loc[future, keep]


def _fixed_coefficients(
    endog: pd.Series, exog: pd.DataFrame, exog_f: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Regression coefficients by OLS on first differences (constant columns dropped).

    The model's errors are ARIMA(1,1,1), so the differenced regression is the consistent
    one; SARIMAX then estimates only the ARMA part. Estimating all of them jointly by MLE
    is ~10× slower on two years of days and gives the same forecasts to within noise.
    """
    import statsmodels.api as sm

    dy = np.diff(endog.to_numpy())
    dx = np.diff(exog.to_numpy(), axis=0)
    keep = np.abs(dx).sum(axis=0) > 0
    exog, exog_f = exog.loc[:, keep], exog_f.loc[:, keep]
    beta = sm.OLS(dy, dx[:, keep]).fit().params
    return exog, exog_f, dict(zip(exog.columns, map(float, beta), strict=True))


def forecast_spec(
    series: pd.Series,
    horizon: int,
    events: EventsLike = None,
    *,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    transform: str | None = "auto",
    fourier_order: int = 4,
    post_days: int = 7,
) -> ForecastSpec:
    """Choose the model :func:`~shopbook.analysis.trend.forecast` fits (see there)."""
    reg = regularize(series)
    s, notes = reg.series, reg.notes
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, found {horizon}")
    future = pd.date_range(s.index[-1], periods=horizon + 1, freq=s.index.freq)[1:]
    future.freq = s.index.freq
    steps = seasons_in_steps(s, seasons, notes, what="seasonal terms")
    use_log = positive_log(s, transform, notes)
    endog = np.log(s) if use_log else s.copy()
    season = 0
    fourier = list(steps)
    parts_h, parts_f = [], []
    if steps and steps[0] <= 24 and len(s) >= 3 * steps[0]:
        # the short season (day of week) as fixed effects: one dummy per position
        m = season = steps[0]
        fourier = steps[1:]
        parts_h.append(_season_dummies(s.index, m, s.index[0]))
        parts_f.append(_season_dummies(future, m, s.index[0]))
    step = step_days(s.index.freq)
    for p in fourier:
        # the exact season length (365 days → 52.14 weeks), so Fourier terms do not drift
        exact = float(next(d for d in seasons if int(round(float(d) / step)) == p)) / step
        k = max(1, min(fourier_order, int(p // 2)))
        parts_h.append(fourier_terms(s.index, exact, k, origin=s.index[0]))
        parts_f.append(fourier_terms(future, exact, k, origin=s.index[0]))
    ev = None
    if step >= 28:
        # event regressors only on daily and weekly data: a festival falls in the same month
        # (quarter) every year, so its indicator is one of the season terms, collinear with
        # them (singular fits, worse optima); without season terms (under two years) it is
        # still a fraction of one period, estimated from one or two points
        if as_events(events, s.index[0], future[-1]):
            note(
                notes,
                "Festivals fall in the same period every year on monthly or longer steps, so "
                "the seasonal terms carry their effect; festival effects are fitted on daily "
                "and weekly data only.",
            )
    else:
        ev = _event_columns(s, future, events, post_days, notes)
    if ev is not None:
        parts_h.append(ev[0])
        parts_f.append(ev[1])
    exog = exog_f = None
    fixed: dict[str, float] = {}
    if parts_h:
        exog, exog_f = pd.concat(parts_h, axis=1), pd.concat(parts_f, axis=1)
        exog_f.index = future
        exog, exog_f, fixed = _fixed_coefficients(endog, exog, exog_f)
    return ForecastSpec(
        series=s,
        endog=endog,
        log=use_log,
        order=(1, 1, 1),
        seasonal_order=(0, 0, 0, 0),
        exog=exog,
        exog_future=exog_f,
        future_index=future,
        season=season,
        fixed=fixed,
        notes=notes,
    )


__all__ = ["ForecastSpec", "forecast_spec", "fourier_terms"]
