"""Forecasts with prediction intervals: SARIMAX or ETS, and the seasonal naive benchmark."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from threadpoolctl import threadpool_limits

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import DEFAULT_SEASONS, default_season, note
from shopbook.analysis.trend.events import EventsLike
from shopbook.analysis.trend.series import regularize
from shopbook.analysis.trend.spec import ForecastSpec, forecast_spec
from shopbook.i18n import _

COLUMNS = ("mean", "lo80", "hi80", "lo95", "hi95")

#: The statsmodels models :func:`forecast` fits by name.
MODELS = ("sarimax", "ets", "ets_undamped")

#: Start-value messages statsmodels' SARIMAX warns with while it searches; the fit goes on.
_START_CHATTER = (
    "Non-stationary starting autoregressive parameters",
    "Non-invertible starting MA parameters",
    "Non-invertible starting seasonal moving average",
    "Non-stationary starting seasonal autoregressive",
)


@dataclass(kw_only=True)
class Forecast(Result):
    """The result of :func:`forecast` and :func:`seasonal_naive`.

    Attributes
    ----------
    table
        Indexed by the horizon's dates (``date``): ``mean``, ``lo80``, ``hi80``,
        ``lo95``, ``hi95``.
    model
        A description of the model (``SARIMAX(1,1,1) with 20 regressors on log values``,
        ``seasonal naive (season 7)``, …).
    spec
        The :class:`ForecastSpec` fitted (``None`` for the seasonal naive).
    results
        The statsmodels results (``None`` for a constant series or the seasonal naive).
    season
        The seasonal-naive season in steps (``None`` for a model forecast).
    """

    model: str = ""
    spec: ForecastSpec | None = None
    results: Any = None
    season: int | None = None


def _intervals(mu: np.ndarray, sd: np.ndarray, log: bool, index: pd.DatetimeIndex) -> pd.DataFrame:
    z80, z95 = stats.norm.ppf(0.9), stats.norm.ppf(0.975)
    out = pd.DataFrame(index=index)

    def f(v: Any) -> Any:
        return np.exp(v) if log else v

    # on the log scale the mean of the log-normal is exp(mu + sd²/2); bounds map exactly
    out["mean"] = np.exp(mu + sd**2 / 2) if log else mu
    out["lo80"], out["hi80"] = f(mu - z80 * sd), f(mu + z80 * sd)
    out["lo95"], out["hi95"] = f(mu - z95 * sd), f(mu + z95 * sd)
    out.index.name = "date"
    return out


def _fit_sarimax(spec: ForecastSpec) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    mod = SARIMAX(spec.endog, exog=spec.exog, order=spec.order, seasonal_order=spec.seasonal_order)
    if spec.fixed:
        return mod.fit_constrained(spec.fixed, disp=False)
    return mod.fit(disp=False)


def _fit_ets(spec: ForecastSpec, damped: bool = True) -> Any:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    m = spec.season
    mod = ETSModel(
        spec.endog,
        error="add",
        trend="add",
        damped_trend=damped,
        seasonal="add" if m else None,
        seasonal_periods=m or None,
    )
    return mod.fit(disp=False)


def _sarimax(spec: ForecastSpec, horizon: int) -> tuple[Any, np.ndarray, np.ndarray, str]:
    res = _fit_sarimax(spec)
    fc = res.get_forecast(horizon, exog=spec.exog_future)
    mu = np.asarray(fc.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
    seas = f"x{spec.seasonal_order}" if any(spec.seasonal_order) else ""
    desc = (
        f"SARIMAX{spec.order}{seas}".replace(" ", "")
        + (_(" with {n} regressors").format(n=spec.exog.shape[1]) if spec.exog is not None else "")
        + (_(" on log values") if spec.log else "")
    )
    return res, mu, sd, desc


def _ets(
    spec: ForecastSpec, horizon: int, notes: list[str], damped: bool = True
) -> tuple[Any, np.ndarray, np.ndarray, str]:
    res = _fit_ets(spec, damped)
    pr = res.get_prediction(start=len(spec.endog), end=len(spec.endog) + horizon - 1)
    mu = np.asarray(pr.predicted_mean, dtype=float)
    sd = np.sqrt(np.asarray(pr.var_pred_mean, dtype=float))
    m = spec.season
    desc = f"ETS(A,{'Ad' if damped else 'A'},{'A' if m else 'N'}{', ' + str(m) if m else ''})" + (
        _(" on log values") if spec.log else ""
    )
    if spec.exog is not None and spec.exog.shape[1] > max(spec.season - 1, 0):
        note(notes, "ETS takes no regressors: events and long seasons are not modelled.")
    return res, mu, sd, desc


def _fit_quietly(
    spec: ForecastSpec, horizon: int, model: str, notes: list[str]
) -> tuple[Any, np.ndarray, np.ndarray, str]:
    """Fit ``model``; statsmodels' optimiser chatter becomes a note, other warnings pass.

    SARIMAX and ETS warn while their optimiser searches (start values, a likelihood that
    stopped improving before its tolerance). The fitted model is still used — the
    backtest judges it — so those warnings are expected and harmless: a non-converged
    fit is stated in the notes, start-value messages are dropped, and any other warning
    is raised again for the caller to see.
    """
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(map(repr, MODELS))}, found {model!r}")
    # one BLAS thread: the matrices are tiny, and OpenBLAS' threads busy-wait — on a shared
    # two-core machine a SARIMAX fit took 10-25× longer with them than without
    with (
        threadpool_limits(limits=1, user_api="blas"),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        if model == "sarimax":
            out = _sarimax(spec, horizon)
        else:
            out = _ets(spec, horizon, notes, damped=model == "ets")
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            note(
                notes,
                "The model's likelihood optimisation stopped before it converged; "
                "the backtest shows how far its forecasts can be trusted.",
            )
        elif not str(w.message).startswith(_START_CHATTER):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def forecast(
    series: pd.Series,
    horizon: int,
    events: EventsLike = None,
    *,
    model: str = "sarimax",
    seasons: Sequence[float] = DEFAULT_SEASONS,
    transform: str | None = "auto",
    fourier_order: int = 4,
    post_days: int = 7,
) -> Forecast:
    """Forecast the next ``horizon`` periods with 80% and 95% prediction intervals.

    ``model="sarimax"`` (default): statsmodels SARIMAX — a regression with ARIMA(1,1,1)
    errors — on ``log(y)`` (``y`` when it has zeros or negatives). Regressors: dummies
    for the shortest season when it is at most 24 steps (day of week on daily data),
    Fourier terms for the longer seasons (yearly, when the series covers two years) and
    one indicator per event name and window (pre-heat, peak, post), shared across years
    so last year's 618 informs this year's. The regression coefficients are estimated
    by OLS on the differenced series and held fixed while SARIMAX estimates the ARMA
    part by maximum likelihood (see :class:`ForecastSpec`). ``model="ets"``:
    statsmodels ETS (additive errors, damped additive trend, additive season ``m``) on
    the same scale, without regressors; ``model="ets_undamped"``: the same with an
    undamped trend (Holt-Winters). To let a backtest choose among these and
    statsforecast's automatic models, use
    :func:`~shopbook.analysis.trend.select_forecast`.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex (daily, weekly, monthly…).
    horizon
        Number of periods to forecast.
    events
        ``{"name", "start", "end"[, "peak"]}`` dicts; ``None``: 618 and Double 11 in every
        year of history and horizon; ``[]``: no event regressors.
    model
        ``"sarimax"``, ``"ets"`` or ``"ets_undamped"``.
    seasons
        Seasonal lengths in days, as in :func:`~shopbook.analysis.trend.decompose`.
    transform
        ``"auto"``, ``"log"`` or ``None``.
    fourier_order
        Harmonics per long season.
    post_days
        Post-festival window length.

    Returns
    -------
    Forecast
        ``table`` indexed by the horizon's dates: ``mean``, ``lo80``, ``hi80``,
        ``lo95``, ``hi95`` (on the log scale ``mean`` is the log-normal mean and the
        bounds are the transformed quantiles); ``model`` (a description), ``spec``,
        ``results`` (the statsmodels results), ``notes``.
    """
    spec = forecast_spec(
        series,
        horizon,
        events,
        seasons=seasons,
        transform=transform,
        fourier_order=fourier_order,
        post_days=post_days,
    )
    notes = spec.notes
    s = spec.series
    if float(s.std()) == 0.0:
        note(notes, "The series is constant: the forecast repeats it, with no uncertainty.")
        v = np.full(horizon, float(s.iloc[-1]))
        out = pd.DataFrame({c: v for c in COLUMNS}, index=spec.future_index)
        out.index.name = "date"
        return Forecast(table=out, notes=notes, model="constant", spec=spec)
    res, mu, sd, desc = _fit_quietly(spec, horizon, model, notes)
    out = _intervals(mu, sd, spec.log, spec.future_index)
    return Forecast(table=out, notes=notes, model=desc, spec=spec, results=res)


def seasonal_naive(series: pd.Series, horizon: int, season: int | None = None) -> Forecast:
    """The seasonal naive forecast: each future period repeats the same period one season ago.

    Intervals are normal with σ the root mean square of the in-sample seasonal differences
    (the residuals of the method), widening with the number of whole seasons ahead
    (Hyndman & Athanasopoulos, *FPP3* §5.5; R ``forecast::snaive`` and statsforecast use the
    same σ). Their standard deviation around their mean, used before, ignores a trend in
    the differences and gave intervals far too narrow.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    horizon
        Periods ahead.
    season
        Season length in steps; default 7 for daily, 52 for weekly, 12 for monthly data
        (1 — the plain naive forecast — when the series is shorter than two seasons).

    Returns
    -------
    Forecast
        ``table`` with ``mean``, ``lo80``, ``hi80``, ``lo95``, ``hi95`` indexed by the
        horizon's dates; ``season``, ``model``, ``notes``.
    """
    reg = regularize(series)
    s = reg.series
    m = season or default_season(s)
    if len(s) <= m:
        m = 1
    future = pd.date_range(s.index[-1], periods=horizon + 1, freq=s.index.freq)[1:]
    v = s.to_numpy()
    h = np.arange(1, horizon + 1)
    k = (h - 1) // m
    mu = v[len(v) - m + (h - 1) % m]
    resid = v[m:] - v[:-m]
    sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
    sd = sigma * np.sqrt(k + 1)
    out = _intervals(mu, sd, False, future)
    return Forecast(table=out, notes=reg.notes, season=m, model=f"seasonal naive (season {m})")


__all__ = ["Forecast", "forecast", "seasonal_naive"]
