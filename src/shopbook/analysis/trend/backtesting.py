"""Rolling-origin backtests: one loop that scores any forecaster on the same origins."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from shopbook.analysis.result import Result
from shopbook.analysis.trend._common import default_season, note
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
        One row per method (``model``, ``seasonal naive`` for :func:`backtest`; the
        candidates' names for :func:`rolling_origin`): ``mase``, ``coverage80``,
        ``coverage95`` (share of actuals inside the intervals), averaged over the folds;
        ``points`` (forecasts scored) and ``seconds`` (mean time of one fit).
    folds
        One row per fold and method: ``origin`` (last training date), ``method``,
        ``mase``, ``coverage80``, ``coverage95``.
    predictions
        Every forecast made: ``origin``, ``method``, ``actual``, ``date``, ``mean``,
        ``lo80``, ``hi80``, ``lo95``, ``hi95``.
    model
        Description of the model (:func:`backtest`).
    models
        Method → description of its last fit.
    season
        The seasonal-naive season (steps), also the MASE scale's lag.
    notes
        Statements about the input.
    """

    folds: pd.DataFrame = field(default_factory=pd.DataFrame)
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)
    model: str = ""
    models: dict[str, str] = field(default_factory=dict)
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


#: What a backtest scores: a function of the training series and the horizon.
Candidate = Callable[[pd.Series, int], Forecast]


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
        "points": len(a),
    }


def first_fit_length(season: int) -> int:
    """The fewest periods the first fold of a backtest trains on: two seasons, at least 10."""
    return max(2 * season, 10)


def fold_origins(n: int, horizon: int, folds: int, step: int | None = None) -> list[int]:
    """Training lengths of the rolling origins: ``folds`` of them ``step`` apart, the last
    one ``horizon`` periods before the end of ``n`` (oldest first)."""
    step = step or horizon
    return [n - horizon - i * step for i in range(folds)][::-1]


def rolling_origin(
    series: pd.Series,
    horizon: int,
    candidates: Mapping[str, Candidate],
    folds: int = 3,
    *,
    step: int | None = None,
    errors: str = "raise",
) -> Backtest:
    """Score any forecasters on the same rolling origins: the one backtest loop.

    The last ``folds`` origins are ``step`` periods apart (default ``horizon``), the last
    one ``horizon`` periods before the end; at each every candidate is refitted on the
    data up to the origin and forecasts ``horizon`` periods. Errors are scaled by the
    in-sample mean absolute seasonal difference of each training set (MASE, Hyndman &
    Koehler 2006; lag = the seasonal-naive season); coverage is the share of actuals
    inside the 80% / 95% intervals; ``seconds`` is the mean time of one fit.

    Parameters
    ----------
    series
        A regular series with a DatetimeIndex.
    horizon
        Periods ahead per fold.
    candidates
        Name → function ``(train, horizon) -> Forecast``; table rows keep this order.
    folds
        Number of origins.
    step
        Periods between origins (default ``horizon``).
    errors
        ``"raise"``: a candidate's error stops the backtest; ``"note"``: the candidate is
        left out and its error is stated in the notes.

    Returns
    -------
    Backtest
        ``table`` (one row per candidate: ``mase``, ``coverage80``, ``coverage95``,
        ``points``, ``seconds``), ``folds``, ``predictions``, ``season``, ``notes``;
        ``models`` maps each candidate to the description of its last fit.

    Raises
    ------
    ValueError
        When the folds leave too little history for the first fit.
    """
    if errors not in ("raise", "note"):
        raise ValueError(f"errors must be 'raise' or 'note', found {errors!r}")
    reg = regularize(series)
    s, notes = reg.series, list(reg.notes)
    m = default_season(s)
    origins = fold_origins(len(s), horizon, folds, step)
    if origins[0] < first_fit_length(m):
        raise ValueError(
            f"{folds} folds of {horizon} periods leave too little history "
            f"({origins[0]} periods) for the first fit; use fewer folds"
        )
    preds, fold_rows = [], []
    models: dict[str, str] = {}
    seconds: dict[str, list[float]] = {}
    failed: set[str] = set()
    for o in origins:
        train, test = s.iloc[:o], s.iloc[o : o + horizon]
        a = test.to_numpy()
        scale = float(np.mean(np.abs(train.to_numpy()[m:] - train.to_numpy()[:-m])))
        for method, fit in candidates.items():
            if method in failed:
                continue
            t0 = time.perf_counter()
            try:
                res = fit(train, horizon)
            except Exception as exc:  # a candidate that cannot fit is left out, not fatal
                if errors == "raise":
                    raise
                failed.add(method)
                note(notes, f"{method} could not be fitted ({type(exc).__name__}: {exc}).")
                continue
            seconds.setdefault(method, []).append(time.perf_counter() - t0)
            models[method] = res.model
            f = res.table.iloc[: len(test)]
            fold_rows.append(_score(train.index[-1], method, f, a, scale))
            p = f.copy()
            p.insert(0, "actual", a)
            p.insert(0, "method", method)
            p.insert(0, "origin", train.index[-1])
            preds.append(p.reset_index())
    fold_df = pd.DataFrame(fold_rows)
    fold_df = fold_df[~fold_df["method"].isin(failed)] if len(fold_df) else fold_df
    cols = ["mase", "coverage80", "coverage95"]
    if len(fold_df):
        scores = fold_df.groupby("method", sort=False)[cols].mean()
        scores["points"] = fold_df.groupby("method", sort=False)["points"].sum()
        scores["seconds"] = [float(np.mean(seconds[k])) for k in scores.index]
    else:
        scores = pd.DataFrame(columns=[*cols, "points", "seconds"])
    scores.index.name = "method"
    pred_df = pd.concat(preds, ignore_index=True) if preds else pd.DataFrame()
    if len(pred_df):
        pred_df = pred_df[~pred_df["method"].isin(failed)].reset_index(drop=True)
    return Backtest(
        table=scores,
        folds=fold_df.reset_index(drop=True),
        predictions=pred_df,
        models={k: v for k, v in models.items() if k not in failed},
        season=m,
        notes=notes,
    )


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

    :func:`rolling_origin` with two candidates, ``model`` (:func:`forecast` with
    ``events`` and ``forecast_kwargs``) and ``seasonal naive``; MASE < 1 beats the
    in-sample seasonal naive, and the comparison that matters is the model's MASE
    against the seasonal naive's on the same folds. To let the backtest choose among
    several models, use :func:`~shopbook.analysis.trend.select_forecast`.

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
    m = default_season(regularize(series).series)

    def model(train: pd.Series, h: int) -> Forecast:
        return forecast(train, h, events, **forecast_kwargs)

    def naive(train: pd.Series, h: int) -> Forecast:
        return seasonal_naive(train, h, season=m)

    bt = rolling_origin(
        series, horizon, {"model": model, "seasonal naive": naive}, folds, step=step
    )
    bt.model = bt.models.get("model", "")
    return bt


def pick_forecast(bt: Backtest, model: Forecast, naive: Forecast) -> Forecast:
    """The forecast to show: the model's when it beat the seasonal naive in ``bt``.

    Otherwise the seasonal naive one, described as shown instead of the model
    (``model`` = :data:`NAIVE_INSTEAD`).
    """
    if bt.beats_naive:
        return model
    return replace(naive, model=NAIVE_INSTEAD)


__all__ = [
    "NAIVE_INSTEAD",
    "Backtest",
    "Candidate",
    "backtest",
    "fold_origins",
    "pick_forecast",
    "rolling_origin",
]
