"""BTYD models: published results, lifetimes as peer, planted truth, degenerate inputs."""

import warnings

import numpy as np
import pandas as pd
import pytest

from shopbook import i18n
from shopbook.analysis import clv
from shopbook.analysis.clv import FitError, FitWarning
from shopbook.features.customers import customer_summary, summary_patterns
from shopbook.viz.theme import title_of


@pytest.fixture(scope="module")
def cdnow_weeks(cdnow_sample):
    """CDNOW 2,357-customer sample, 39-week calibration (to 1997-09-30), weeks (as published)."""
    return customer_summary(cdnow_sample, "1997-09-30", "1998-06-30", period="week").to_pandas()


@pytest.fixture(scope="module")
def bgnbd(cdnow_weeks):
    return clv.fit_bgnbd(cdnow_weeks)


@pytest.fixture(scope="module")
def pnbd(cdnow_weeks):
    return clv.fit_pareto_nbd(cdnow_weeks)


@pytest.fixture(scope="module")
def gg(cdnow_weeks):
    return clv.fit_gamma_gamma(cdnow_weeks)


# ------------------------------------------------------------------ published results


def test_bgnbd_reproduces_fader_hardie_lee_2005(bgnbd):
    p = bgnbd.params
    assert p["r"] == pytest.approx(0.243, abs=5e-4)
    assert p["alpha"] == pytest.approx(4.414, abs=5e-3)
    assert p["a"] == pytest.approx(0.793, abs=5e-4)
    assert p["b"] == pytest.approx(2.426, abs=5e-3)
    assert bgnbd.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert bgnbd.converged and bgnbd.n_customers == 2357


def test_bgnbd_conditional_expectation_of_customer_1(bgnbd):
    # FHL 2005 §5: a customer with x=2, t_x=30.43, T=38.86 is expected to make 1.226
    # purchases in the next 39 weeks.
    assert float(bgnbd.expected_purchases(39, 2, 30.43, 38.86)) == pytest.approx(1.226, abs=5e-4)


def test_pareto_nbd_reproduces_published_fit(pnbd):
    p = pnbd.params
    assert p["r"] == pytest.approx(0.553, abs=1e-3)
    assert p["alpha"] == pytest.approx(10.58, abs=1e-2)
    assert p["s"] == pytest.approx(0.606, abs=1e-3)
    assert p["beta"] == pytest.approx(11.67, abs=2e-2)
    assert pnbd.log_likelihood == pytest.approx(-9595.0, abs=0.5)


def test_gamma_gamma_reproduces_fader_hardie_berger_2005(gg):
    p = gg.params
    assert gg.n_customers == 946  # repeat buyers in the calibration period
    assert p["p"] == pytest.approx(6.25, abs=5e-3)
    assert p["q"] == pytest.approx(3.74, abs=5e-3)
    assert p["v"] == pytest.approx(15.44, abs=1e-2)


@pytest.mark.parametrize(
    "survivors, alpha, beta",
    [
        ([1000, 631, 468, 382, 326, 289, 262, 241], 0.704, 1.182),
        ([1000, 869, 743, 653, 593, 551, 517, 491], 0.668, 3.806),
    ],
    ids=["regular", "high-end"],
)
def test_sbg_reproduces_fader_hardie_2007(survivors, alpha, beta):
    fit = clv.fit_sbg(survivors)
    assert fit.params["alpha"] == pytest.approx(alpha, abs=1e-3)
    assert fit.params["beta"] == pytest.approx(beta, abs=1e-3)
    assert fit.converged
    assert all(np.isfinite(v) and v > 0 for v in fit.standard_errors.values())
    # The model's survival curve passes within 2.5% of the cohort of the data it was fitted on.
    s = fit.projected_survivors(1000, len(survivors) - 1).to_numpy()
    assert np.max(np.abs(s - np.array(survivors))) < 25


# ------------------------------------------------------------------- peer: lifetimes


def test_bgnbd_matches_lifetimes(cdnow_weeks, bgnbd):
    from lifetimes import BetaGeoFitter

    s = cdnow_weeks
    peer = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
    for k in ("r", "alpha", "a", "b"):
        assert bgnbd.params[k] == pytest.approx(peer.params_[k], rel=1e-4)
        assert bgnbd.standard_errors[k] == pytest.approx(peer.standard_errors_[k], rel=1e-2)
    args = (s["frequency"], s["recency"], s["T"])
    np.testing.assert_allclose(
        bgnbd.expected_purchases(10, *args),
        peer.conditional_expected_number_of_purchases_up_to_time(10, *args),
        rtol=1e-4,
    )
    np.testing.assert_allclose(
        bgnbd.p_alive(*args), peer.conditional_probability_alive(*args), rtol=1e-4
    )
    t = np.array([1.0, 10.0, 52.0])
    np.testing.assert_allclose(
        bgnbd.expected_purchases_new(t), peer.expected_number_of_purchases_up_to_time(t), rtol=1e-4
    )


def test_pareto_nbd_matches_lifetimes(cdnow_weeks, pnbd):
    from lifetimes import ParetoNBDFitter

    s = cdnow_weeks.sample(800, random_state=1)  # lifetimes' Pareto/NBD fit is slow
    ours = clv.fit_pareto_nbd(s)
    peer = ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"])
    for k in ("r", "alpha", "s", "beta"):
        assert ours.params[k] == pytest.approx(peer.params_[k], rel=2e-3)
    args = (cdnow_weeks["frequency"], cdnow_weeks["recency"], cdnow_weeks["T"])
    peer.params_ = pd.Series(pnbd.params)  # compare predictions at the same parameters
    np.testing.assert_allclose(
        pnbd.p_alive(*args), peer.conditional_probability_alive(*args), rtol=1e-5
    )
    np.testing.assert_allclose(
        pnbd.expected_purchases(20, *args),
        peer.conditional_expected_number_of_purchases_up_to_time(20, *args),
        rtol=1e-5,
    )


def test_gamma_gamma_matches_lifetimes(cdnow_weeks, gg):
    from lifetimes import GammaGammaFitter

    rep = cdnow_weeks[cdnow_weeks["frequency"] > 0]
    peer = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
    for k in ("p", "q", "v"):
        assert gg.params[k] == pytest.approx(peer.params_[k], rel=1e-4)
        assert gg.standard_errors[k] == pytest.approx(peer.standard_errors_[k], rel=1e-2)
    np.testing.assert_allclose(
        gg.expected_spend(cdnow_weeks["frequency"], cdnow_weeks["monetary_value"]),
        peer.conditional_expected_average_profit(
            cdnow_weeks["frequency"], cdnow_weeks["monetary_value"]
        ),
        rtol=1e-4,
    )


# ------------------------------------------------------ fitting on patterns, start values


def test_fit_on_engine_patterns_equals_fit_on_customers(cdnow_weeks, bgnbd):
    import ibis

    pat = summary_patterns(ibis.memtable(cdnow_weeks)).to_pandas()
    assert len(pat) < len(cdnow_weeks) and pat["customers"].sum() == len(cdnow_weeks)
    fit = clv.fit_bgnbd(pat, weights="customers")
    assert fit.n_customers == 2357 and fit.n_patterns == len(pat)
    for k, v in bgnbd.params.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-6)
    assert fit.log_likelihood == pytest.approx(bgnbd.log_likelihood, abs=1e-6)


@pytest.mark.parametrize(
    "start",
    [
        {"r": 100.0, "alpha": 0.01, "a": 50.0, "b": 0.01},
        {"r": 1e-3, "alpha": 1e4, "a": 1e-3, "b": 1e3},
        {"r": 5.0, "alpha": 500.0, "a": 5.0, "b": 0.1},
    ],
)
def test_bgnbd_converges_from_poor_starting_points(cdnow_weeks, bgnbd, start):
    fit = clv.fit_bgnbd(cdnow_weeks, start=start)
    assert fit.converged
    for k, v in bgnbd.params.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-4)


def test_pareto_nbd_converges_from_a_poor_start(cdnow_weeks, pnbd):
    fit = clv.fit_pareto_nbd(
        cdnow_weeks, start={"r": 20.0, "alpha": 0.1, "s": 0.01, "beta": 1000.0}
    )
    for k, v in pnbd.params.items():
        assert fit.params[k] == pytest.approx(v, rel=1e-3)


def test_day_and_week_units_give_the_same_model(bgnbd, cdnow_sample):
    days = customer_summary(cdnow_sample, "1997-09-30", period="day").to_pandas()
    fit = clv.fit_bgnbd(days)
    assert fit.params["r"] == pytest.approx(bgnbd.params["r"], rel=1e-4)
    assert fit.params["alpha"] == pytest.approx(7 * bgnbd.params["alpha"], rel=1e-4)
    assert fit.params["a"] == pytest.approx(bgnbd.params["a"], rel=1e-4)
    # the likelihood of durations differs by the Jacobian of the unit change only
    x = days["frequency"].to_numpy()
    assert fit.log_likelihood == pytest.approx(bgnbd.log_likelihood - np.log(7) * x.sum(), abs=1e-3)


# ----------------------------------------------------------------- planted truth


def _simulate(params, n, seed):
    rng = np.random.default_rng(seed)
    T = rng.uniform(30, 80, n)
    return clv.simulate_bgnbd(params, T, seed=seed)


def test_bgnbd_recovers_planted_parameters_and_intervals_cover():
    truth = {"r": 0.6, "alpha": 8.0, "a": 0.9, "b": 3.0}
    covered, total = 0, 0
    for seed in range(30):
        fit = clv.fit_bgnbd(_simulate(truth, 2000, seed))
        ci = fit.conf_int(0.95)
        for k, v in truth.items():
            covered += int(ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"])
            total += 1
    # 120 intervals at 95%: expect ~114; a binomial 99.9% band reaches down to ~104.
    assert 104 <= covered <= total, f"coverage {covered}/{total}"


def test_bgnbd_recovers_planted_parameters_on_a_large_base():
    truth = {"r": 0.4, "alpha": 5.0, "a": 1.2, "b": 4.0}
    fit = clv.fit_bgnbd(_simulate(truth, 50_000, seed=11))
    ci = fit.conf_int(0.99)
    for k, v in truth.items():
        assert ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"], (k, v, fit.estimates())
        assert fit.params[k] == pytest.approx(v, rel=0.2)


def test_large_bases_warm_start_on_a_subset_and_reach_the_same_optimum(monkeypatch):
    truth = {"r": 0.4, "alpha": 5.0, "a": 1.2, "b": 4.0}
    s = _simulate(truth, 30_000, seed=4).assign(customers=7.0)  # 210,000 customers
    fast = clv.fit_bgnbd(s, weights="customers")
    monkeypatch.setattr(clv.bgnbd, "_WARM_START_PATTERNS", 10**9)
    plain = clv.fit_bgnbd(s, weights="customers")
    assert fast.n_customers == plain.n_customers == 210_000
    for k in truth:
        assert fast.params[k] == pytest.approx(plain.params[k], rel=1e-5)
        assert fast.standard_errors[k] == pytest.approx(plain.standard_errors[k], rel=1e-3)
    assert fast.log_likelihood == pytest.approx(plain.log_likelihood, abs=1e-4)


def test_gamma_gamma_recovers_planted_parameters():
    rng = np.random.default_rng(3)
    p, q, v = 4.0, 3.0, 20.0
    n = 20_000
    x = rng.integers(1, 10, n)
    nu = rng.gamma(q, 1 / v, n)  # spend scale per customer
    # mean of x gamma(p, nu) draws is gamma(p x, nu x)
    m = rng.gamma(p * x, 1 / (nu * x))
    fit = clv.fit_gamma_gamma(pd.DataFrame({"frequency": x, "monetary_value": m}))
    ci = fit.conf_int(0.99)
    for k, val in {"p": p, "q": q, "v": v}.items():
        assert ci.loc[k, "lower"] <= val <= ci.loc[k, "upper"], (k, fit.estimates())


@pytest.fixture(scope="module")
def shop(synthetic_shop):
    return synthetic_shop(customers=4000, seed=0)


def _clock_summary(shop):
    """frequency / recency / T on the shop's purchase clock, where BG/NBD holds exactly."""
    from shopbook.data.synthetic import clock_days

    o = shop.tables["orders"]
    o = o[o["status"] == "paid"].assign(clock=lambda d: clock_days(shop.truth, d["order_ts"]))
    end = (
        pd.Timestamp(shop.tables["orders"]["order_ts"].max()).normalize()
        + pd.Timedelta("1D")
        - pd.Timedelta("1ms")
    )
    end_clock = clock_days(shop.truth, [end])[0]
    g = o.sort_values("clock").groupby("customer_id")
    s = pd.DataFrame(
        {
            "frequency": g.size() - 1,
            "recency": g["clock"].max() - g["clock"].min(),
            "T": end_clock - g["clock"].min(),
        }
    )
    amount = g["net_amount"]
    s["monetary_value"] = ((amount.sum() - amount.first()) / s["frequency"]).where(
        s["frequency"] > 0, 0.0
    )
    return s


def test_recovers_the_synthetic_shops_planted_bgnbd_and_gamma_gamma(shop):
    truth_bg = {k: shop.truth["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
    gt = shop.truth["gamma_gamma"]
    truth_gg = {"p": gt["p"], "q": gt["q"], "v": gt["gamma"]}
    s = _clock_summary(shop)
    bg, gg = clv.fit_bgnbd(s), clv.fit_gamma_gamma(s)
    for fit, truth in ((bg, truth_bg), (gg, truth_gg)):
        ci = fit.conf_int(0.99)
        for k, v in truth.items():
            assert ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"], (k, v, fit.estimates())


def test_recovers_planted_parameters_from_the_engine_summary_on_calendar_days(shop):
    """The notebook's path: orders → engine summary (calendar days) → fit."""
    truth_bg = {k: shop.truth["bgnbd"][k] for k in ("r", "alpha", "a", "b")}
    s = customer_summary(shop.tables["orders"], period="day").to_pandas()
    fit = clv.fit_bgnbd(s)
    ci = fit.conf_int(0.99)
    for k, v in truth_bg.items():
        assert ci.loc[k, "lower"] <= v <= ci.loc[k, "upper"], (k, v, fit.estimates())
    gg = clv.fit_gamma_gamma(s)
    assert gg.population_mean_spend() == pytest.approx(
        shop.truth["gamma_gamma"]["mean_order_value"], rel=0.1
    )


# --------------------------------------------------------------- degenerate inputs


def test_one_customer_is_a_clear_error():
    one = pd.DataFrame({"frequency": [3], "recency": [20.0], "T": [30.0]})
    with pytest.raises(FitError, match="1 customer"):
        clv.fit_bgnbd(one)
    with pytest.raises(FitError, match="1 customer"):
        clv.fit_pareto_nbd(one)


def test_all_single_purchase_customers_is_a_clear_error():
    s = pd.DataFrame({"frequency": [0] * 50, "recency": [0.0] * 50, "T": np.linspace(5, 40, 50)})
    with pytest.raises(FitError, match="no customer made a repeat purchase"):
        clv.fit_bgnbd(s)
    with pytest.raises(FitError, match="no customer made a repeat purchase"):
        clv.fit_pareto_nbd(s)
    with pytest.raises(FitError, match="no repeat buyer"):
        clv.fit_gamma_gamma(s.assign(monetary_value=0.0))


def test_no_churn_warns_and_never_returns_nan_params():
    # Poisson-gamma buyers who never drop out: the dropout probability runs to 0.
    rng = np.random.default_rng(5)
    n = 3000
    T = rng.uniform(30, 80, n)
    lam = rng.gamma(2.0, 1 / 10.0, n)
    x = rng.poisson(lam * T)
    # recency of the last of x uniform event times in (0, T)
    rec = np.where(x > 0, T * rng.beta(np.maximum(x, 1), 1), 0.0)
    s = pd.DataFrame({"frequency": x, "recency": rec, "T": T})
    with pytest.warns(FitWarning, match="no sign of churn"):
        fit = clv.fit_bgnbd(s)
    assert all(np.isfinite(v) for v in fit.params.values())
    assert not fit.converged and "no sign of churn" in fit.message
    assert fit.params["a"] / (fit.params["a"] + fit.params["b"]) < 1e-3
    assert np.all(fit.p_alive(s["frequency"], s["recency"], s["T"]) > 0.99)


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"frequency": [], "recency": [], "T": []}), "empty"),
        (pd.DataFrame({"frequency": [1] * 20, "recency": [1.0] * 20}), "lacks column"),
        (
            pd.DataFrame(
                {"frequency": [1.0] * 19 + [np.nan], "recency": [1.0] * 20, "T": [5.0] * 20}
            ),
            "non-finite",
        ),
        (
            pd.DataFrame({"frequency": [1] * 20, "recency": [9.0] * 20, "T": [5.0] * 20}),
            "recency > T",
        ),
        (
            pd.DataFrame({"frequency": [1.5] * 20, "recency": [1.0] * 20, "T": [5.0] * 20}),
            "whole numbers",
        ),
        (
            pd.DataFrame({"frequency": [-1] * 20, "recency": [1.0] * 20, "T": [5.0] * 20}),
            "negative",
        ),
    ],
    ids=["empty", "missing-column", "nan", "recency-after-T", "fractional-frequency", "negative"],
)
def test_invalid_summaries_are_clear_errors(frame, message):
    with pytest.raises(FitError, match=message):
        clv.fit_bgnbd(frame)


def test_sbg_degenerate_inputs():
    with pytest.raises(FitError, match="at least 3"):
        clv.fit_sbg([100, 80])
    with pytest.raises(FitError, match="increase"):
        clv.fit_sbg([100, 80, 90])
    with pytest.raises(FitError, match="nobody churned"):
        clv.fit_sbg([100, 100, 100])
    with pytest.raises(FitError, match="empty"):
        clv.fit_sbg([0, 0, 0])


# ------------------------------------------------------------- predictions, holdout


def test_holdout_comparison_and_error_on_cdnow(cdnow_weeks, bgnbd):
    table = clv.holdout_comparison(bgnbd, cdnow_weeks)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+", "total"]
    assert table.loc["total", "customers"] == 2357
    assert table.loc["total", "actual"] * 2357 == pytest.approx(
        1882
    )  # holdout repeat purchase days
    # predictions rise with calibration frequency, as the actuals do
    assert table["predicted"].iloc[:8].is_monotonic_increasing
    err = clv.prediction_error(bgnbd, cdnow_weeks)
    assert err["actual_total"] == 1882
    # the model beats projecting each customer's calibration rate
    assert err["mae"] < err["naive_mae"] and abs(err["total_error_pct"]) < abs(
        err["naive_total_error_pct"]
    )


def test_tracking_expected_matches_the_sum_of_unconditional_expectations(
    cdnow_weeks, bgnbd, cdnow_sample
):
    from shopbook.features.cohorts import purchase_calendar

    births, repeats = (
        t.to_pandas() for t in purchase_calendar(cdnow_sample, "1997-09-30", "1998-06-30")
    )
    track = clv.tracking(
        bgnbd, births, repeats, "1997-01-01", "1997-09-30", "1998-06-30", model_period="week"
    )
    assert track["actual_cum"].iloc[-1] == repeats["repeat_purchases"].sum() == 2457 + 1882
    # 1997-01-01..1997-09-30 is exactly 39 weeks, so a weekly period ends on the calibration
    # end, where the expectation is Σ E[X(T_i)] over the customers.
    at_cal = track[~track["holdout"]]["expected_cum"].iloc[-1]
    assert len(track[~track["holdout"]]) == 39
    expect = float(bgnbd.expected_purchases_new(cdnow_weeks["T"]).sum())
    assert at_cal == pytest.approx(expect, rel=1e-9)
    assert track["expected_cum"].is_monotonic_increasing
    assert track["expected_cum"].iloc[-1] == pytest.approx(track["actual_cum"].iloc[-1], rel=0.1)


def test_customer_value(cdnow_weeks, bgnbd, gg):
    v0 = clv.customer_value(
        bgnbd,
        gg,
        cdnow_weeks,
        horizon=52,
        margin=1.0,
        annual_discount_rate=0.0,
        periods_per_year=365 / 7,
    )
    np.testing.assert_allclose(
        v0["clv"], v0["expected_purchases"] * v0["expected_spend"], rtol=1e-9
    )
    v1 = clv.customer_value(
        bgnbd,
        gg,
        cdnow_weeks,
        horizon=52,
        margin=0.3,
        annual_discount_rate=0.15,
        periods_per_year=365 / 7,
    )
    assert (v1["clv"] < 0.3 * v0["clv"] + 1e-12).all() and (
        v1["clv"] > 0.3 * v0["clv"] / 1.15 - 1e-9
    ).all()
    longer = clv.customer_value(bgnbd, gg, cdnow_weeks, horizon=104, periods_per_year=365 / 7)
    assert (
        longer["clv"]
        >= clv.customer_value(bgnbd, gg, cdnow_weeks, horizon=52, periods_per_year=365 / 7)["clv"]
        - 1e-12
    ).all()
    with pytest.raises(ValueError, match="margin"):
        clv.customer_value(bgnbd, gg, cdnow_weeks, horizon=52, margin=2)


def test_spend_frequency_check_on_cdnow(cdnow_weeks):
    check = clv.spend_frequency_check(cdnow_weeks)
    assert check["customers"] == 946
    # Fader, Hardie & Berger report a correlation of 0.11 between frequency and spend
    assert check["pearson_r"] == pytest.approx(0.11, abs=0.01)


def test_spend_frequency_verdict():
    assert clv.SPEND_CORRELATION_LIMIT == 0.3
    assert clv.spend_frequency_verdict(pd.Series({"pearson_r": 0.11})) == (
        "small enough for the model"
    )
    for r in (-0.3, 0.3, 0.45, np.nan):
        verdict = clv.spend_frequency_verdict(pd.Series({"pearson_r": r}))
        assert verdict == "too strong: treat the spend model with caution", r
    assert clv.spend_frequency_verdict(pd.Series({"pearson_r": 0.4}), limit=0.5).startswith("small")


def test_top_share_and_value_totals():
    v = pd.Series([10.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    assert clv.top_share(v) == pytest.approx(10 / 20)  # 12 customers: the top one
    assert clv.top_share(v, 0.25) == pytest.approx(16 / 20)  # the top three
    assert clv.top_share(pd.Series([3.0, 1.0])) == pytest.approx(3 / 4)  # at least one
    assert clv.top_share(pd.Series(np.arange(20.0)), 0.7) == pytest.approx(
        np.arange(6.0, 20.0).sum() / np.arange(20.0).sum()
    )  # 20 × 0.7 is 14 customers, not 13 (float rounding)
    with pytest.raises(ValueError, match="fraction"):
        clv.top_share(v, 0)
    values = pd.DataFrame(
        {"clv": v, "expected_purchases": np.arange(12.0), "p_alive": np.linspace(0, 1, 12)}
    )
    t = clv.value_totals(values)
    assert t["customers"] == 12 and t["total_clv"] == 20.0 and t["mean_clv"] == 20 / 12
    assert t["expected_purchases"] == 66.0
    assert t["share_alive"] == 6 / 12 and t["top_share"] == pytest.approx(0.5)
    assert clv.value_totals(values, alive_above=0.95)["share_alive"] == 1 / 12


def test_split_dates():
    cal, hold = clv.split_dates("1997-01-01", "1998-06-30", holdout_fraction=0.5)
    assert hold == pd.Timestamp("1998-06-30")
    assert abs((cal - pd.Timestamp("1997-09-30")).days) <= 1
    cal, hold = clv.split_dates("1997-01-01", "1998-06-30", calibration_end="1997-09-30")
    assert cal == pd.Timestamp("1997-09-30")
    with pytest.raises(ValueError, match="between"):
        clv.split_dates("1997-01-01", "1998-06-30", calibration_end="1999-01-01")


def test_a_holdout_end_after_the_data_ends_the_holdout_on_the_data_last_day():
    # days after the data are not days without purchases: the holdout stops at the data
    cal, hold = clv.split_dates("1997-01-01", "1998-06-30", "1997-09-30", "2026-11-29")
    assert (cal, hold) == (pd.Timestamp("1997-09-30"), pd.Timestamp("1998-06-30"))
    note = clv.split_note("1998-06-30", "2026-11-29")
    assert "data end on 1998-06-30" in note and "2026-11-29" in note
    assert clv.split_note("1998-06-30", "1998-03-31") == clv.split_note("1998-06-30", "") == ""
    _, inside = clv.split_dates("1997-01-01", "1998-06-30", "1997-09-30", "1998-03-31")
    assert inside == pd.Timestamp("1998-03-31")


def test_fits_do_not_warn_on_clean_data(cdnow_weeks):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        clv.fit_bgnbd(cdnow_weeks)
        clv.fit_gamma_gamma(cdnow_weeks)


def test_degenerate_predictions_are_a_clear_error(cdnow_weeks, gg):
    # r, α at the optimisation bound (no rate heterogeneity): the closed forms overflow.
    fit = clv.BGNBDFit(
        params={"r": 1e7, "alpha": 6.57e7, "a": 0.5, "b": 7.0},
        standard_errors={},
        covariance=pd.DataFrame(),
        log_likelihood=0.0,
        n_customers=10,
        n_patterns=10,
        converged=False,
        message="alpha ran to the bound",
    )
    with pytest.raises(FitError, match="not finite.*alpha ran to the bound"):
        clv.holdout_comparison(fit, cdnow_weeks)
    with pytest.raises(FitError, match="not finite"):
        clv.prediction_error(fit, cdnow_weeks)
    with pytest.raises(FitError, match="not finite"):
        clv.customer_value(fit, gg, cdnow_weeks, horizon=10)


def test_clv_figures_draw_titled_axes(cdnow_weeks, bgnbd, gg, cdnow_sample):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.features.cohorts import purchase_calendar
    from shopbook.viz import cohort as vz

    table = clv.holdout_comparison(bgnbd, cdnow_weeks)
    births, repeats = (
        t.to_pandas() for t in purchase_calendar(cdnow_sample, "1997-09-30", "1998-06-30")
    )
    track = clv.tracking(
        bgnbd, births, repeats, "1997-01-01", "1997-09-30", "1998-06-30", model_period="week"
    )
    values = clv.customer_value(bgnbd, gg, cdnow_weeks, horizon=52, periods_per_year=365 / 7)
    values["segment"] = np.where(values["frequency"] > 0, "repeat", "one-off")
    survivors = [1000, 631, 468, 382, 326, 289, 262, 241]
    axes = [
        vz.holdout_by_frequency(table),
        vz.prediction_errors(table),
        vz.tracking(track),
        vz.tracking(track, cumulative=False),
        vz.spend_vs_frequency(cdnow_weeks, currency="USD"),
        vz.value_distribution(values["clv"], currency="USD"),
        vz.value_by_segment(clv.value_by_group(values, "segment"), currency="USD"),
        vz.survival_fit(survivors, clv.fit_sbg(survivors)),
    ]
    for ax in axes:
        assert title_of(ax) and ax.get_ylabel() is not None
        plt.close(ax.figure)
    by = clv.value_by_group(values, "segment")
    assert by["customers"].sum() == len(values)
    assert by["share_of_value"].sum() == pytest.approx(1.0)


def test_model_comparison_and_aic_verdict(bgnbd, pnbd):
    table = clv.model_comparison(bgnbd, pnbd)
    assert list(table["model"]) == ["BG/NBD", "Pareto/NBD"]
    assert list(table.columns) == ["model", "log_likelihood", "aic", "n_params", "estimates"]
    assert table.loc[0, "log_likelihood"] == pytest.approx(bgnbd.log_likelihood, abs=0.05)
    assert table.loc[1, "aic"] == pytest.approx(pnbd.aic, abs=0.05)
    # the estimates are one short text, not a dict of 16-digit floats
    text = table.loc[0, "estimates"]
    assert isinstance(text, str) and text.startswith("r ") and "α" in text
    assert all(len(part.split()[1].replace(".", "").lstrip("0")) <= 3 for part in text.split(" · "))
    assert (
        clv.estimates_text({"s": 159.72104544215074, "beta": 11122.566407431596})
        == "s 160 · β 11,123"
    )
    # on the CDNOW sample BG/NBD has the higher likelihood with as many parameters
    assert bgnbd.aic < pnbd.aic
    assert clv.aic_verdict(pnbd, bgnbd) == "no better"
    assert clv.aic_verdict(bgnbd, pnbd) == "better"
    assert clv.aic_verdict(bgnbd, bgnbd) == "no better"


def test_error_table_labels_every_row(bgnbd, cdnow_weeks):
    errors = pd.DataFrame({"BG/NBD": clv.prediction_error(bgnbd, cdnow_weeks)})
    table = clv.error_table(errors)
    assert list(table.columns) == ["figure", "BG/NBD"]
    assert table["figure"].iloc[0] == "Customers" and "_" not in "".join(table["figure"])
    assert len(table) == len(errors)
    with i18n.use_lang("zh"):
        assert clv.error_table(errors)["figure"].iloc[0] == "客户数"
