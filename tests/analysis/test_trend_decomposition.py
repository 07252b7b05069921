"""shopbook.analysis.trend.decompose on short histories: STL/MSTL only with three full cycles
of a season, Fourier terms fitted jointly with a spline trend for one to three cycles (issue 14)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.seasonal import MSTL, STL

from shopbook.analysis import trend as T
from shopbook.viz.theme import title_of

DOW = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.2, 1.15]) - 1.05  # Mon..Sun, mean 0


def planted(
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    *,
    seed: int = 0,
    yearly_amp: float = 1500.0,
    second_harmonic: float = 0.0,
    linear: bool = False,
    spikes: bool = False,
    freq: str = "D",
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Additive daily series: a saturating (or linear) trend, weekly season, yearly sine, noise.

    Returns the series, the planted trend and the planted yearly component.
    """
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, end, freq="D")
    t = np.arange(len(idx), dtype=float)
    trend = 10_000 * (1 + 0.3 * t / 730) if linear else 10_000 * (1 + 0.6 * (1 - np.exp(-t / 250)))
    phase = 2 * np.pi * (idx.dayofyear.to_numpy() - 80) / 365.25
    yearly = yearly_amp * (np.sin(phase) + second_harmonic * np.sin(2 * phase + 1.0))
    y = trend + yearly + 5_000 * DOW[idx.dayofweek] + rng.normal(0, 600, len(idx))
    if spikes:  # festival peaks: four times the level on Jun 18 and Nov 11
        peak = ((idx.month == 6) & (idx.day == 18)) | ((idx.month == 11) & (idx.day == 11))
        y = np.where(peak, 4 * y, y)
    s = pd.Series(y, index=idx, name="gmv")
    tr, yr = pd.Series(trend, index=idx), pd.Series(yearly, index=idx)
    if freq != "D":
        return (
            s.resample(freq, label="left", closed="left").sum(),
            tr.resample(freq, label="left", closed="left").sum(),
            yr.resample(freq, label="left", closed="left").sum(),
        )
    return s, tr, yr


def linear_r2(values: pd.Series) -> float:
    """How much of a series a straight line explains (1.0: it is a straight line)."""
    x = np.arange(len(values), dtype=float)
    v = values.to_numpy(dtype=float)
    fit = np.polyval(np.polyfit(x, v, 1), x)
    return 1 - float(((v - fit) ** 2).sum() / ((v - v.mean()) ** 2).sum())


@pytest.fixture(scope="module")
def two_years():
    y, trend, yearly = planted()
    return y, trend, yearly, T.decompose(y)


def test_two_years_yearly_from_fourier_recovers_the_planted_season(two_years):
    y, trend, yearly, dec = two_years
    t = dec.table
    assert list(t.columns) == ["observed", "trend", "seasonal_7", "seasonal_365", "resid"]
    assert dec.seasons == [7, 365]
    assert dec.sources["seasonal_7"] == "MSTL" and dec.sources["trend"] == "cubic spline"
    assert dec.sources["seasonal_365"].startswith("Fourier terms")
    assert dec.method == "MSTL (period 7) + Fourier (period 365) + spline trend"
    assert np.corrcoef(t["seasonal_365"], yearly)[0, 1] > 0.95
    assert t["seasonal_365"].std() == pytest.approx(yearly.std(), rel=0.15)
    assert np.corrcoef(t["trend"], trend)[0, 1] > 0.99
    np.testing.assert_allclose(t.drop(columns="observed").sum(axis=1), t["observed"], rtol=1e-9)


def test_two_years_trend_is_not_a_line_and_the_remainder_is_not_zero(two_years):
    y, trend, _, dec = two_years
    t = dec.table
    assert linear_r2(trend) < 0.95  # the planted trend saturates
    assert linear_r2(t["trend"]) < 0.97
    # the remainder holds the noise (sd 600), not ~0 as MSTL's did on two years
    assert t["resid"].std() == pytest.approx(600, rel=0.2)
    mstl = MSTL(y.asfreq("D"), periods=(7, 365), stl_kwargs={"robust": True}).fit()
    assert mstl.resid.std() < 100 and linear_r2(mstl.trend) > 0.999  # what issue 14 saw


def test_notes_say_which_method_made_which_component(two_years):
    notes = two_years[3].notes
    assert len(notes) == 1
    text = notes[0]
    assert "weekly season by MSTL (period 7; 104 full cycles)" in text
    assert "yearly season (only 2.0 full cycles; STL and MSTL need 3) by Fourier terms" in text
    assert "chosen by BIC" in text and "cubic spline" in text and "remainder" in text
    assert "with the 86 festival days left out" in text  # 618 and Double 11, two years


def test_order_is_chosen_by_bic():
    y, _, yearly = planted(second_harmonic=0.8, seed=1)
    dec = T.decompose(y)
    assert dec.sources["seasonal_365"] != "Fourier terms (order 1)"
    assert np.corrcoef(dec.table["seasonal_365"], yearly)[0, 1] > 0.95
    one = T.decompose(planted(seed=1)[0])
    assert one.sources["seasonal_365"] == "Fourier terms (order 1)"


def test_robust_fit_is_not_bent_by_festival_spikes():
    y, _, yearly = planted(spikes=True, seed=2)
    robust = T.decompose(y).table
    assert np.corrcoef(robust["seasonal_365"], yearly)[0, 1] > 0.95
    spike_days = y.index[(y.index.day == 11) & (y.index.month == 11)]
    assert (robust.loc[spike_days, "resid"] > 20_000).all()  # the spikes stay in the remainder
    plain = T.decompose(y, robust=False)
    assert "robust" not in plain.notes[0]


def test_three_years_use_mstl_as_before():
    y, _, yearly = planted(end="2025-12-31", seed=3)
    dec = T.decompose(y)
    ref = MSTL(y.asfreq("D"), periods=(7, 365), stl_kwargs={"robust": True}).fit()
    assert dec.method == "MSTL (periods 7, 365)"
    assert set(dec.sources.values()) == {"MSTL", "rest"}
    np.testing.assert_allclose(dec.table["trend"], ref.trend, rtol=1e-10)
    np.testing.assert_allclose(dec.table["seasonal_365"], ref.seasonal["seasonal_365"], atol=1e-6)
    assert "by MSTL (periods 7, 365; 157 and 3.0 full cycles)" in dec.notes[0]
    assert "Fourier" not in dec.notes[0]


def test_between_one_and_two_cycles_fourier_with_a_warning():
    y, _, yearly = planted(end="2024-06-30", seed=4)  # 1.5 years
    dec = T.decompose(y)
    assert dec.sources["seasonal_365"].startswith("Fourier terms")
    assert np.corrcoef(dec.table["seasonal_365"], yearly)[0, 1] > 0.9
    assert "hard to tell apart" in dec.notes[-1]


def test_less_than_one_cycle_drops_the_season_and_says_so():
    y, _, _ = planted(end="2023-10-31", seed=5)
    dec = T.decompose(y)
    assert "seasonal_365" not in dec.table and dec.seasons == [7]
    assert any("less than one full season of 365 days" in n and "dropped" in n for n in dec.notes)
    ref = STL(y.asfreq("D"), period=7, robust=True).fit()
    np.testing.assert_allclose(dec.table["trend"], ref.trend, rtol=1e-10)
    assert dec.notes[-1].startswith("Decomposition: trend and weekly season by STL")


def test_weekly_data_over_two_years_fourier_only():
    y, _, yearly = planted(freq="W-MON", seed=6)
    dec = T.decompose(y)
    assert list(dec.table.columns) == ["observed", "trend", "seasonal_52", "resid"]
    assert dec.sources == {
        "trend": "cubic spline",
        "seasonal_52": dec.sources["seasonal_52"],
        "resid": "rest",
    }
    assert np.corrcoef(dec.table["seasonal_52"], yearly)[0, 1] > 0.9
    assert "regression of the series;" in dec.notes[0]  # nothing removed by STL first


def test_variance_shares():
    y, _, _, dec = (*planted(seed=7), None)
    dec = T.decompose(y)
    shares = dec.variance_shares
    t = dec.table
    assert list(shares.index) == ["trend", "seasonal_7", "seasonal_365", "resid"]
    assert shares["resid"] == pytest.approx(t["resid"].var() / t["observed"].var())


def test_shop_yearly_season_matches_the_planted_one(synthetic_shop):
    """The generator plants yearly = 1 + 0.08·cos(2π(doy − 355)/365.25) on two years."""
    from shopbook.data.validation import validate
    from shopbook.features import sales as S

    shop = synthetic_shop(customers=20_000, seed=0)
    orders = validate(shop.tables, require=("orders",), tables=("orders",)).kept("orders")
    gmv = S.to_series(S.kpis(orders, "day"), "gmv")
    dec = T.decompose(gmv)
    t = dec.table
    y = shop.truth["seasonality"]["yearly"]
    doy = t.index.dayofyear.to_numpy()
    planted_yearly = (
        t["trend"] * y["amplitude"] * np.cos(2 * np.pi * (doy - y["peak_day_of_year"]) / 365.25)
    )
    assert np.corrcoef(t["seasonal_365"], planted_yearly)[0, 1] > 0.85
    amplitude = t["seasonal_365"].std() * np.sqrt(2) / t["trend"].mean()
    assert 0.5 * y["amplitude"] < amplitude < 1.5 * y["amplitude"]
    assert linear_r2(t["trend"]) < 0.995
    assert dec.variance_shares["resid"] > 0.1  # festivals and noise, not ~0


def test_figure_labels_say_which_panels_come_from_fourier_terms(two_years):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.viz import trend as vz

    dec = two_years[3]
    axes = vz.decomposition(dec, unit="CNY")
    labels = [ax.get_ylabel() for ax in axes]
    assert labels == [
        "Observed",
        "Trend\n(spline)",
        "Season 7",
        "Season 365\n(Fourier)",
        "Remainder",
    ]
    assert dec.method in title_of(axes[0])
    plt.close(axes[0].figure)
