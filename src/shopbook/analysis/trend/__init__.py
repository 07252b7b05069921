"""Market trend: decomposition, changepoints, festival effects, forecasts, backtests.

Every function takes a regular :class:`pandas.Series` with a
:class:`~pandas.DatetimeIndex` (daily, weekly, monthly, …) — ours from
:mod:`shopbook.features.sales` or anyone else's — or a small per-period frame, and returns
a :class:`~shopbook.analysis.result.Result`: its ``table``, the ``notes`` a reader should
see beside it, and ``ok()`` / ``why()`` when it could not be computed. The models are
statsmodels' (STL/MSTL, GLSAR, SARIMAX, ETS) and ruptures' (changepoints); this package
only prepares the series, builds the regressors and reads the results back in business
terms.

Input problems are repaired *and stated* in the notes, never silently:

* gaps in the dates and missing values are filled by linear interpolation,
* duplicate timestamps are summed,
* seasons the series is too short for (fewer than two full cycles) are dropped,
* a series with zeros or negative values (refunds netted out) is modelled on its own
  scale instead of the log scale,
* an all-constant series (e.g. all zeros) gets a flat forecast with zero-width intervals.

Seasonal lengths (``seasons=(7, 365)``) are in **days**; the granularity of a per-period
frame is a *period* word (``"day"``, ``"week"``, ``"month"``).

Modules, one job each:

* :mod:`~shopbook.analysis.trend.series` — :func:`regularize` (a regular series),
* :mod:`~shopbook.analysis.trend.events` — festivals and their windows and indicators,
* :mod:`~shopbook.analysis.trend.decomposition` — MSTL/STL and the weekday profile,
* :mod:`~shopbook.analysis.trend.breaks` — dated breaks in the trend,
* :mod:`~shopbook.analysis.trend.effects` — festival uplifts against a baseline,
* :mod:`~shopbook.analysis.trend.spec` and :mod:`~shopbook.analysis.trend.models` —
  the forecast model and its forecasts; :mod:`~shopbook.analysis.trend.backtesting` — the
  one rolling-origin loop that scores any forecaster (and the model against the seasonal
  naive); :mod:`~shopbook.analysis.trend.candidates` — the forecasters to choose among
  (ours and statsforecast's); :mod:`~shopbook.analysis.trend.selection` — the default
  forecast, chosen per series by backtest; :mod:`~shopbook.analysis.trend.calibration` —
  measured coverage and split-conformal widening,
* :mod:`~shopbook.analysis.trend.growth_tables` — growth tables, shares, growth–share matrix.
"""

from shopbook.analysis.trend._common import DEFAULT_SEASONS
from shopbook.analysis.trend.backtesting import (
    NAIVE_INSTEAD,
    Backtest,
    Candidate,
    backtest,
    fold_origins,
    pick_forecast,
    rolling_origin,
)
from shopbook.analysis.trend.breaks import Changepoints, changepoints
from shopbook.analysis.trend.calibration import SHORTFALL_SE, calibrate, coverage_table
from shopbook.analysis.trend.candidates import CANDIDATES, candidate_functions
from shopbook.analysis.trend.decomposition import (
    Decomposition,
    SeasonalProfile,
    decompose,
    seasonal_profile,
)
from shopbook.analysis.trend.effects import EventEffects, event_effects
from shopbook.analysis.trend.events import (
    FESTIVALS,
    WINDOWS,
    Event,
    EventsLike,
    as_events,
    default_events,
    event_list,
    event_regressors,
    event_windows,
)
from shopbook.analysis.trend.growth_tables import (
    NOT_COMPARABLE,
    Growth,
    GrowthShare,
    Shares,
    complete_periods,
    growth,
    growth_share,
    period_label,
    shares,
)
from shopbook.analysis.trend.models import MODELS, Forecast, forecast, seasonal_naive
from shopbook.analysis.trend.selection import (
    NEAR_TIE,
    Selection,
    SelectionCheck,
    check_selection,
    choose,
    select_forecast,
)
from shopbook.analysis.trend.series import RegularSeries, regularize
from shopbook.analysis.trend.spec import ForecastSpec, forecast_spec, fourier_terms

__all__ = [
    "CANDIDATES",
    "DEFAULT_SEASONS",
    "MODELS",
    "NEAR_TIE",
    "SHORTFALL_SE",
    "FESTIVALS",
    "NAIVE_INSTEAD",
    "NOT_COMPARABLE",
    "WINDOWS",
    "Backtest",
    "Candidate",
    "Changepoints",
    "Decomposition",
    "Event",
    "EventEffects",
    "EventsLike",
    "Forecast",
    "ForecastSpec",
    "Growth",
    "GrowthShare",
    "RegularSeries",
    "SeasonalProfile",
    "Selection",
    "SelectionCheck",
    "Shares",
    "as_events",
    "backtest",
    "calibrate",
    "candidate_functions",
    "changepoints",
    "check_selection",
    "choose",
    "complete_periods",
    "coverage_table",
    "decompose",
    "default_events",
    "event_effects",
    "event_list",
    "event_regressors",
    "event_windows",
    "fold_origins",
    "forecast",
    "forecast_spec",
    "fourier_terms",
    "growth",
    "growth_share",
    "pick_forecast",
    "period_label",
    "regularize",
    "rolling_origin",
    "seasonal_naive",
    "seasonal_profile",
    "select_forecast",
    "shares",
]
