"""Rolling-origin backtest of the forecast against the seasonal naive forecast."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import default_season
from shopbook.analysis.trend.events import EventsLike
from shopbook.analysis.trend.models import Forecast, forecast, seasonal_naive
from shopbook.analysis.trend.series import regularize

#: The description of the seasonal naive forecast when it is shown instead of the model.
NAIVE_INSTEAD = "seasonal naive (the model did not beat it)"


@dataclass(kw_only=True)
class Backtest(Result):
    """The result of :func:`backtest`.

    Attributes
    ----------
    table
        One row per method (``model``, ``seasonal naive``): ``mase``, ``coverage80``,
        ``coverage95`` (share of actuals inside the intervals), averaged over the folds.
    folds
        One row per fold and method: ``origin`` (last training date), ``method``,
        ``mase``, ``coverage80``, ``coverage95``.
    predictions
        Every forecast made: ``origin``, ``method``, ``actual``, ``date``, ``mean``,
        ``lo80``, ``hi80``, ``lo95``, ``hi95``.
    model
        Description of the model.
    season
        The seasonal-naive season (steps), also the MASE scale's lag.
    notes
        Statements about the input.
    """

    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: str = ""
    season: int = 1

    @property
    def mase_model(self) -> float:
        """The model's MASE over the folds."""
        return float(self.table.loc["model", "mase"])

    @property
    def mase_naive(self) -> float:
        """The seasonal naive forecast's MASE over the same folds."""
        return float(self.table.loc["seasonal naive", "mase"])

    @property
    def beats_naive(self) -> bool:
        """Whether the model's MASE is below the seasonal naive's."""
        return self.mase_model < self.mase_naive


def _score(
    origin: pd.Timestamp, method: str, f: pd.DataFrame, a: np.ndarray, scale: float
) -> dict[str, Any]:
    err = np.abs(a - f["mean"].to_numpy())
    return {
        "origin": origin,
        "method": method,
        "mase": float(err.mean() / scale) if scale else np.nan,
        "coverage80": float(np.mean((a >= f["lo80"]) & (a <= f["hi80"]))),
        "coverage95": float(np.mean((a >= f["lo95"]) & (a <= f["hi95"]))),
    }


def backtest(
    series: pd.Series,
    horizon: int,
    folds: int = 3,
    *,
    step: int | None = None,
    events: EventsLike = None,
    **forecast_kwargs: Any,
) -> Backtest:
    """Rolling-origin backtest of :func:`forecast` against the seasonal naive forecast.

    The last ``folds`` origins are ``step`` periods apart (default ``horizon``), the last
    one ``horizon`` periods before the end; at each the model is refitted on the data up
    to the origin and forecasts ``horizon`` periods. Errors are scaled by the in-sample
    mean absolute seasonal difference of each training set (MASE, Hyndman & Koehler
    2006); MASE < 1 beats the in-sample seasonal naive, and the comparison that matters
    is the model's MASE against the seasonal naive's on the same folds.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    horizon
        Periods ahead per fold.
    folds
        Number of origins.
    step
        Periods between origins (default ``horizon``).
    events
        As in :func:`forecast`.
    **forecast_kwargs
        Passed to :func:`forecast` (``model``, ``transform``, …).

    Returns
    -------
    Backtest
        ``table`` (scores per method), ``folds``, ``predictions``, ``model``,
        ``season``, ``notes``.

    Raises
    ------
    ValueError
        When the folds leave too little history for the first fit.
    """
    reg = regularize(series)
    s = reg.series
    step = step or horizon
    m = default_season(s)
    origins = [len(s) - horizon - i * step for i in range(folds)][::-1]
    if origins[0] < max(2 * m, 10):
        raise ValueError(
            f"{folds} folds of {horizon} periods leave too little history "
            f"({origins[0]} periods) for the first fit; use fewer folds"
        )
    preds, fold_rows = [], []
    desc = ""
    for o in origins:
        train, test = s.iloc[:o], s.iloc[o : o + horizon]
        scale = float(np.mean(np.abs(train.to_numpy()[m:] - train.to_numpy()[:-m])))
        fc = forecast(train, horizon, events, **forecast_kwargs)
        desc = fc.model
        nv = seasonal_naive(train, horizon, season=m)
        for method, res in (("model", fc), ("seasonal naive", nv)):
            f = res.table.iloc[: len(test)]
            a = test.to_numpy()
            fold_rows.append(_score(train.index[-1], method, f, a, scale))
            p = f.copy()
            p.insert(0, "actual", a)
            p.insert(0, "method", method)
            p.insert(0, "origin", train.index[-1])
            preds.append(p.reset_index())
    fold_df = pd.DataFrame(fold_rows)
    scores = fold_df.groupby("method", sort=False)[["mase", "coverage80", "coverage95"]].mean()
    scores.index.name = "method"
    return Backtest(
        table=scores,
        folds=fold_df,
        predictions=pd.concat(preds, ignore_index=True),
        model=desc,
        season=m,
        notes=reg.notes,
    )


def pick_forecast(bt: Backtest, model: Forecast, naive: Forecast) -> Forecast:
    """The forecast to show: the model's when it beat the seasonal naive in ``bt``.

    Otherwise the seasonal naive one, described as shown instead of the model
    (``model`` = :data:`NAIVE_INSTEAD`).
    """
    if bt.beats_naive:
        return model
    return replace(naive, model=NAIVE_INSTEAD)


__all__ = ["NAIVE_INSTEAD", "Backtest", "backtest", "pick_forecast"]
