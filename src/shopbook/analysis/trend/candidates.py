"""The forecasters a backtest chooses among: ours (statsmodels) and statsforecast's.

Each candidate is a function ``(train, horizon) -> Forecast`` built by
:func:`candidate_functions`, so :func:`~shopbook.analysis.trend.rolling_origin` scores
them all in one loop. :data:`CANDIDATES` lists them **from the simplest to the most
complex**; :func:`~shopbook.analysis.trend.select_forecast` breaks near-ties by that order.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from shopbook.analysis.trend._common import DEFAULT_SEASONS, default_season, note, seasons_in_steps
from shopbook.analysis.trend.events import EventsLike
from shopbook.analysis.trend.models import Forecast, forecast, seasonal_naive
from shopbook.analysis.trend.series import regularize

#: Candidate names, simplest first: seasonal naive (no parameter), ETS with an additive
#: trend (Holt-Winters), the same with a damped trend (one more parameter), statsforecast's
#: AutoETS (searches the ETS family), our SARIMAX (regression on season/festival terms with
#: ARIMA(1,1,1) errors), statsforecast's AutoARIMA (searches ARIMA orders) and MSTL
#: (a decomposition into several seasons plus AutoETS on the deseasonalised series).
CANDIDATES: tuple[str, ...] = (
    "seasonal naive",
    "ETS",
    "ETS damped",
    "AutoETS",
    "SARIMAX",
    "AutoARIMA",
    "MSTL",
)

#: Our candidates: name → ``model=`` of :func:`~shopbook.analysis.trend.forecast`.
_OURS = {"ETS": "ets_undamped", "ETS damped": "ets", "SARIMAX": "sarimax"}

_STATSFORECAST = ("AutoETS", "AutoARIMA", "MSTL")


def _statsforecast(
    kind: str, series: pd.Series, horizon: int, seasons: Sequence[float]
) -> Forecast:
    """A statsforecast model's forecast with 80% / 95% intervals, on the series' own scale.

    The season is the seasonal-naive one (7 on daily, 52 on weekly, 12 on monthly, 4 on
    quarterly data); MSTL takes every season of ``seasons`` the series has two full
    cycles of. AutoARIMA uses the approximate likelihood search on series longer than
    150 points or seasons longer than 12, as R's ``forecast::auto.arima`` does by default
    (the exact search takes ~8 s on two years of days, ~20 s on five years of weeks).
    """
    with warnings.catch_warnings():
        # statsforecast imports tqdm.auto, which warns in a notebook without ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        from statsforecast.models import MSTL, AutoARIMA, AutoETS

    reg = regularize(series)
    s, notes = reg.series, reg.notes
    m = default_season(s)
    y = s.to_numpy(dtype=float)
    model: Any
    if kind == "AutoETS":
        model = AutoETS(season_length=m)
        desc = "AutoETS"
    elif kind == "AutoARIMA":
        model = AutoARIMA(season_length=m, approximation=len(y) > 150 or m > 12)
        desc = "AutoARIMA"
    elif kind == "MSTL":
        steps = seasons_in_steps(s, seasons, [], what="seasons")
        if not steps:
            raise ValueError("MSTL needs two full cycles of at least one season")
        model = MSTL(season_length=steps)
        desc = f"MSTL(seasons {', '.join(map(str, steps))}) + AutoETS trend"
    else:
        raise ValueError(f"no statsforecast candidate {kind!r}")
    # one BLAS thread, as for our models (see models._fit_quietly)
    with (
        threadpool_limits(limits=1, user_api="blas"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        fitted = model.fit(y)
        out = fitted.predict(h=horizon, level=[80, 95])
    if any("convergence" in str(w.message) for w in caught):
        note(notes, f"{kind}'s optimiser reported a possible convergence problem.")
    if kind == "AutoETS":
        desc = str(fitted.model_["method"])  # e.g. "ETS(M,N,M)"
    elif kind == "AutoARIMA":
        from statsforecast.arima import arima_string

        desc = arima_string(fitted.model_).strip()  # e.g. "ARIMA(1,1,0)(0,1,0)[12]"
    future = pd.date_range(s.index[-1], periods=horizon + 1, freq=s.index.freq)[1:]
    cols = {"mean": "mean", "lo80": "lo-80", "hi80": "hi-80", "lo95": "lo-95", "hi95": "hi-95"}
    # statsforecast returns arrays or a frame indexed 0..h-1 (MSTL): values, not labels
    table = pd.DataFrame(
        {c: np.asarray(out[k], dtype=float) for c, k in cols.items()},
        index=pd.DatetimeIndex(future, name="date"),
    )
    if table.isna().to_numpy().any():
        raise ValueError(f"{kind} returned missing forecasts or bounds")
    return Forecast(table=table, notes=notes, model=f"{desc} (statsforecast)")


def candidate_functions(
    names: Sequence[str] = CANDIDATES,
    events: EventsLike = None,
    *,
    season: int | None = None,
    seasons: Sequence[float] = DEFAULT_SEASONS,
    transform: str | None = "auto",
    post_days: int = 7,
) -> dict[str, Callable[[pd.Series, int], Forecast]]:
    """The named candidates as functions ``(train, horizon) -> Forecast``.

    Parameters
    ----------
    names
        A subset of :data:`CANDIDATES`.
    events
        Festival/campaign dates for SARIMAX (as in
        :func:`~shopbook.analysis.trend.forecast`); fitted on daily and weekly data only.
    season
        The seasonal-naive season in steps (default: that of each training series).
    seasons, transform, post_days
        As in :func:`~shopbook.analysis.trend.forecast` (ETS and SARIMAX model
        ``log(y)`` when every value is positive; the statsforecast candidates model ``y``
        without event regressors, as statsforecast does out of the box).

    Returns
    -------
    dict
        Name → function, in the order of ``names``.
    """
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        raise ValueError(
            f"unknown forecast candidate(s) {unknown}; choose from {', '.join(CANDIDATES)}"
        )

    def ours(model: str) -> Callable[[pd.Series, int], Forecast]:
        def fit(train: pd.Series, h: int) -> Forecast:
            return forecast(
                train,
                h,
                events,
                model=model,
                seasons=seasons,
                transform=transform,
                post_days=post_days,
            )

        return fit

    def theirs(kind: str) -> Callable[[pd.Series, int], Forecast]:
        def fit(train: pd.Series, h: int) -> Forecast:
            return _statsforecast(kind, train, h, seasons)

        return fit

    def naive(train: pd.Series, h: int) -> Forecast:
        return seasonal_naive(train, h, season=season)

    out: dict[str, Callable[[pd.Series, int], Forecast]] = {}
    for n in names:
        out[n] = naive if n == "seasonal naive" else ours(_OURS[n]) if n in _OURS else theirs(n)
    return out


def is_statsforecast(name: str) -> bool:
    """Whether candidate ``name`` is one of statsforecast's models."""
    return name in _STATSFORECAST


__all__ = ["CANDIDATES", "candidate_functions", "is_statsforecast"]
