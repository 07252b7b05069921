"""A/B evaluation: peer checks against statsmodels/scipy, simulated A/A and coverage tests,
and the bad inputs a reader will meet.

All simulations are vectorised (numpy arrays of summary statistics), seeded, and small
enough to run in a few seconds together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_effectsize,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW, ttest_ind

from shopbook.analysis import abtest as ab
from shopbook.analysis.abtest import ABTestError
from shopbook.viz.theme import title_of

# ------------------------------------------------------------------------ peer checks


@pytest.mark.parametrize(
    "x_a,n_a,x_b,n_b",
    [
        (400, 10_000, 460, 10_000),
        (37, 1_200, 21, 1_350),
        (5_012, 120_000, 5_300, 119_000),
        (1, 50, 9, 60),
    ],
)
def test_proportions_match_statsmodels_ztest_and_wald_interval(x_a, n_a, x_b, n_b):
    c = ab.compare_proportions(x_a, n_a, x_b, n_b, alpha=0.05)
    _, p_sm = proportions_ztest([x_b, x_a], [n_b, n_a])
    lo, hi = confint_proportions_2indep(
        x_b, n_b, x_a, n_a, method="wald", compare="diff", alpha=0.05
    )
    assert c.p_value == pytest.approx(p_sm, abs=1e-8)
    assert c.abs_ci[0] == pytest.approx(lo, abs=1e-8)
    assert c.abs_ci[1] == pytest.approx(hi, abs=1e-8)
    assert c.abs_lift == pytest.approx(x_b / n_b - x_a / n_a, abs=1e-12)
    assert c.rel_lift == pytest.approx((x_b / n_b) / (x_a / n_a) - 1, abs=1e-12)
    assert c.rel_ci[0] < c.rel_lift < c.rel_ci[1]


@pytest.mark.parametrize("seed,n_a,n_b", [(0, 500, 700), (1, 40, 25), (2, 3_000, 3_000)])
def test_welch_matches_statsmodels_ttest_ind_unequal(seed, n_a, n_b):
    rng = np.random.default_rng(seed)
    y_a = rng.lognormal(0, 1.0, n_a)
    y_b = rng.lognormal(0.1, 1.3, n_b)
    c = ab.compare_means_units(y_a, y_b, alpha=0.1)
    t_sm, p_sm, df_sm = ttest_ind(y_b, y_a, usevar="unequal")
    lo, hi = CompareMeans(DescrStatsW(y_b), DescrStatsW(y_a)).tconfint_diff(
        alpha=0.1, usevar="unequal"
    )
    assert c.p_value == pytest.approx(p_sm, abs=1e-8)
    assert c.abs_ci[0] == pytest.approx(lo, abs=1e-8)
    assert c.abs_ci[1] == pytest.approx(hi, abs=1e-8)
    assert c.abs_lift / c.se == pytest.approx(t_sm, abs=1e-8)
    # the summary-statistic form gives the same answer
    s = ab.compare_means(
        y_a.mean(), y_a.var(ddof=1), n_a, y_b.mean(), y_b.var(ddof=1), n_b, alpha=0.1
    )
    assert s.p_value == pytest.approx(c.p_value, abs=1e-12)


def test_ratio_metric_matches_cluster_robust_regression_on_orders():
    """Delta method = order-level mean with standard errors clustered by unit."""
    rng = np.random.default_rng(3)
    ses, ratios = [], []
    per_arm = []
    for scale in (100.0, 108.0):
        n = 800
        orders = rng.integers(1, 5, n)  # every unit has an order: the two match exactly
        unit_effect = rng.lognormal(0, 0.5, n)
        order_unit = np.repeat(np.arange(n), orders)
        order_value = scale * unit_effect[order_unit] * rng.lognormal(0, 0.4, orders.sum())
        revenue = np.bincount(order_unit, weights=order_value, minlength=n)
        fit = sm.OLS(order_value, np.ones(len(order_value))).fit(
            cov_type="cluster", cov_kwds={"groups": order_unit, "use_correction": True}
        )
        ratios.append(fit.params[0])
        ses.append(fit.bse[0])
        per_arm.append((revenue, orders))
    c = ab.compare_ratios(per_arm[0][0], per_arm[0][1], per_arm[1][0], per_arm[1][1], metric="aov")
    assert c.control == pytest.approx(ratios[0], rel=1e-10)
    assert c.treatment == pytest.approx(ratios[1], rel=1e-10)
    assert c.se == pytest.approx(np.hypot(*ses), rel=1e-8)
    z = c.abs_lift / c.se
    assert c.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=1e-12)


def test_ratio_metric_ignores_units_without_orders_in_the_ratio():
    rng = np.random.default_rng(4)
    rev = rng.gamma(2, 50, 1000)
    orders = rng.integers(1, 3, 1000).astype(float)
    with_zeros_rev = np.concatenate([rev, np.zeros(300)])
    with_zeros_ord = np.concatenate([orders, np.zeros(300)])
    a = ab.compare_ratios(rev, orders, rev * 1.1, orders)
    b = ab.compare_ratios(with_zeros_rev, with_zeros_ord, with_zeros_rev * 1.1, with_zeros_ord)
    assert a.control == pytest.approx(b.control) and a.treatment == pytest.approx(b.treatment)
    assert a.se == pytest.approx(b.se, rel=0.01)  # only the n/(n−1) factor differs


@pytest.mark.parametrize(
    "baseline,mde,ratio", [(0.04, 0.05, 1.0), (0.2, -0.1, 1.0), (0.01, 0.2, 2.0)]
)
def test_sample_size_and_power_match_normal_ind_power(baseline, mde, ratio):
    h = proportion_effectsize(baseline * (1 + mde), baseline)
    s = ab.sample_size(baseline, mde, alpha=0.05, power=0.8, ratio=ratio)
    n_sm = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8, ratio=ratio)
    assert abs(s.effect_size) == pytest.approx(abs(h), abs=1e-12)
    assert s.n_control_exact == pytest.approx(n_sm, rel=1e-8)
    assert s.n_control == int(np.ceil(n_sm - 1e-9))
    for n in (1_000, 25_000, s.n_control_exact):
        mine = ab.power_proportions(baseline, mde, n, n * ratio)
        theirs = NormalIndPower().power(effect_size=h, nobs1=n, alpha=0.05, ratio=ratio)
        assert mine == pytest.approx(theirs, abs=1e-8)
    # MDE inverts the power calculation
    assert (
        ab.mde_proportions(baseline, s.n_control_exact, s.n_control_exact * ratio)
        == pytest.approx(mde, rel=1e-6)
        if mde > 0
        else True
    )


def test_bayesian_chance_to_win_and_loss_match_monte_carlo():
    x_a, n_a, x_b, n_b = 400, 10_000, 452, 10_000
    b = ab.bayes_proportions(x_a, n_a, x_b, n_b, prior=(1, 1))
    rng = np.random.default_rng(11)
    draws = 2_000_000
    pa = rng.beta(1 + x_a, 1 + n_a - x_a, draws)
    pb = rng.beta(1 + x_b, 1 + n_b - x_b, draws)
    win = pb > pa
    mc_se = np.sqrt(win.mean() * (1 - win.mean()) / draws)
    assert abs(b.chance_to_beat_control - win.mean()) < 4 * mc_se
    loss_b = np.maximum(pa - pb, 0)
    loss_a = np.maximum(pb - pa, 0)
    assert abs(b.expected_loss_treatment - loss_b.mean()) < 4 * loss_b.std() / np.sqrt(draws)
    assert abs(b.expected_loss_control - loss_a.mean()) < 4 * loss_a.std() / np.sqrt(draws)
    # the credible interval is that of the posterior draws
    assert b.abs_ci[0] == pytest.approx(np.quantile(pb - pa, 0.025), abs=2e-4)
    assert b.abs_ci[1] == pytest.approx(np.quantile(pb - pa, 0.975), abs=2e-4)


def test_bayesian_with_a_non_uniform_prior_and_symmetry():
    b = ab.bayes_proportions(30, 1000, 30, 1000, prior=(0.5, 0.5))
    assert b.chance_to_beat_control == pytest.approx(0.5, abs=1e-8)
    assert b.expected_loss_treatment == pytest.approx(b.expected_loss_control, rel=1e-6)
    sure = ab.bayes_proportions(100, 10_000, 300, 10_000)
    assert sure.chance_to_beat_control > 0.999999
    assert sure.expected_loss_treatment < 1e-9


def test_srm_matches_scipy_chisquare_and_flags_a_broken_split():
    res = ab.srm_test({"control": 10_300, "treatment": 9_700}, {"control": 0.5, "treatment": 0.5})
    ref = stats.chisquare([10_300, 9_700])
    assert res.statistic == pytest.approx(ref.statistic) and res.p_value == pytest.approx(
        ref.pvalue
    )
    assert res.flagged and res.p_value < 0.001
    ok = ab.srm_test([5_010, 4_990])
    assert not ok.flagged
    # an intended 90/10 split is judged against 90/10, not 50/50
    skew = ab.srm_test({"a": 9_000, "b": 1_000}, {"a": 90, "b": 10})
    assert skew.statistic == pytest.approx(0.0) and not skew.flagged
    three = ab.srm_test([3_400, 3_300, 3_300])
    assert three.df == 2
    assert list(three.table().columns) == [
        "variant",
        "units",
        "share",
        "expected_units",
        "expected_share",
    ]


def test_holm_and_bh_are_statsmodels_multipletests():
    p = np.array([0.001, 0.04, 0.03, np.nan, 0.2])
    holm = ab.adjust_pvalues(p, "holm")
    ok = ~np.isnan(p)
    np.testing.assert_allclose(holm[ok], multipletests(p[ok], method="holm")[1], atol=1e-12)
    assert np.isnan(holm[3])
    bh = ab.adjust_pvalues(p, "fdr_bh")
    np.testing.assert_allclose(bh[ok], multipletests(p[ok], method="fdr_bh")[1], atol=1e-12)
    assert np.all(holm[ok] >= p[ok])


def test_holm_equals_statsmodels_on_ties_large_p_and_many_sizes():
    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 7, 40, 500):
        p = np.round(rng.uniform(0, 1, n) ** 2, 2)  # ties, zeros, values near 1
        expected = multipletests(p, method="holm")[1]
        np.testing.assert_allclose(ab.adjust_pvalues(p, "holm"), expected, rtol=0, atol=1e-15)


# ------------------------------------------------------------- simulated A/A and coverage


def test_aa_false_positive_rate_of_the_z_test_is_nominal():
    rng = np.random.default_rng(20240601)
    sims, n = 4_000, 5_000
    x = rng.binomial(n, 0.04, size=(sims, 2))
    c = ab.compare_proportions(x[:, 0], n, x[:, 1], n, alpha=0.05)
    fpr = float(np.mean(c.p_value < 0.05))
    assert 0.03 <= fpr <= 0.07, fpr
    # and the interval of the (zero) lift covers at the nominal rate
    cover = np.mean((c.abs_ci[0] <= 0) & (c.abs_ci[1] >= 0))
    assert 0.93 <= cover <= 0.97


def test_aa_false_positive_rate_of_welch_on_heavy_tailed_revenue():
    rng = np.random.default_rng(5)
    sims, n = 1_000, 2_000
    buys = rng.random((sims, 2, n)) < 0.05
    revenue = np.where(buys, rng.lognormal(4.0, 1.0, (sims, 2, n)), 0.0)
    c = ab.compare_means(
        revenue[:, 0].mean(-1),
        revenue[:, 0].var(-1, ddof=1),
        n,
        revenue[:, 1].mean(-1),
        revenue[:, 1].var(-1, ddof=1),
        n,
    )
    fpr = float(np.mean(c.p_value < 0.05))
    assert 0.03 <= fpr <= 0.07, fpr


def test_aa_false_positive_rate_of_the_ratio_metric():
    rng = np.random.default_rng(6)
    hits = 0
    sims = 600
    for _ in range(sims):
        orders = rng.poisson(0.3, (2, 1_500))
        unit_aov = rng.lognormal(4, 0.6, (2, 1_500))  # orders of one unit are correlated
        rev = orders * unit_aov * rng.lognormal(0, 0.2, (2, 1_500))
        c = ab.compare_ratios(rev[0], orders[0], rev[1], orders[1])
        hits += c.p_value < 0.05
    assert 0.03 <= hits / sims <= 0.07, hits / sims


def test_relative_lift_interval_covers_a_planted_lift():
    rng = np.random.default_rng(8)
    sims, n, p, lift = 4_000, 20_000, 0.05, 0.10
    x_a = rng.binomial(n, p, sims)
    x_b = rng.binomial(n, p * (1 + lift), sims)
    c = ab.compare_proportions(x_a, n, x_b, n)
    cover_rel = np.mean((c.rel_ci[0] <= lift) & (c.rel_ci[1] >= lift))
    cover_abs = np.mean((c.abs_ci[0] <= p * lift) & (c.abs_ci[1] >= p * lift))
    assert 0.93 <= cover_rel <= 0.97, cover_rel
    assert 0.93 <= cover_abs <= 0.97, cover_abs


def _daily_aa(
    seed: int,
    sims: int = 1_000,
    days: int = 28,
    per_day: int = 300,
    p: float = 0.05,
    lift: float = 0.0,
):
    rng = np.random.default_rng(seed)
    n = np.arange(1, days + 1) * per_day
    x_a = rng.binomial(per_day, p, (sims, days)).cumsum(1)
    x_b = rng.binomial(per_day, p * (1 + lift), (sims, days)).cumsum(1)
    return n, x_a, x_b


def test_always_valid_test_stays_below_alpha_when_peeking_daily():
    n, x_a, x_b = _daily_aa(seed=9)
    p_a, p_b = x_a / n, x_b / n
    var = p_a * (1 - p_a) / n + p_b * (1 - p_b) / n
    est = p_b - p_a
    naive = ab.compare_proportions(x_a, n, x_b, n).p_value
    naive_fpr = float(np.mean((naive < 0.05).any(axis=1)))
    assert naive_fpr > 0.12  # the problem: peeking daily at a fixed-horizon test inflates errors
    for tau in (0.005, 0.01, 0.05):  # valid whatever the mixture scale
        av = ab.msprt_pvalues(est, var, tau)
        assert np.all(np.diff(av, axis=1) <= 0)
        fpr = float(np.mean(av[:, -1] < 0.05))
        assert fpr <= 0.05, (tau, fpr)
        lo, hi = ab.confidence_sequence(est, var, tau)
        miss = float(np.mean(((lo > 0) | (hi < 0)).any(axis=1)))
        assert miss <= 0.05


def test_always_valid_test_still_detects_a_real_effect():
    n, x_a, x_b = _daily_aa(seed=10, sims=500, per_day=1_500, lift=0.15)
    p_a, p_b = x_a / n, x_b / n
    av = ab.msprt_pvalues(p_b - p_a, p_a * (1 - p_a) / n + p_b * (1 - p_b) / n, tau=0.005)
    assert np.mean(av[:, -1] < 0.05) > 0.8


def test_sequential_view_of_cumulative_looks():
    looks = pd.DataFrame(
        {
            "day": range(1, 6),
            "n_a": [100, 200, 300, 400, 500],
            "n_b": [100, 210, 300, 390, 500],
            "x_a": [0, 10, 15, 20, 25],
            "x_b": [0, 12, 20, 28, 36],
        }
    )
    v = ab.sequential_view(looks, tau=0.01)
    assert list(v["day"]) == [1, 2, 3, 4, 5]
    assert v.loc[0, "always_valid_p"] == 1.0 and np.isnan(v.loc[0, "cs_lo"])  # no variance yet
    assert (
        v["cs_hi"].iloc[1:] - v["cs_lo"].iloc[1:] > v["naive_hi"].iloc[1:] - v["naive_lo"].iloc[1:]
    ).all()
    last = ab.compare_proportions(25, 500, 36, 500)
    assert v["naive_p"].iloc[-1] == pytest.approx(
        2 * stats.norm.sf(abs(last.abs_lift) / last.se), rel=1e-12
    )
    means = pd.DataFrame(
        {
            "n_a": [10, 20],
            "n_b": [10, 20],
            "sum_a": [10.0, 21.0],
            "sum_b": [12.0, 25.0],
            "sumsq_a": [14.0, 30.0],
            "sumsq_b": [20.0, 40.0],
        }
    )
    mv = ab.sequential_view(means, kind="mean", tau=0.1)
    y_var_a = (30.0 - 20 * (21 / 20) ** 2) / 19
    y_var_b = (40.0 - 20 * (25 / 20) ** 2) / 19
    assert mv["se"].iloc[-1] == pytest.approx(np.sqrt(y_var_a / 20 + y_var_b / 20))


def test_cuped_keeps_coverage_and_shrinks_the_interval():
    rng = np.random.default_rng(12)
    sims, n, lift = 1_000, 1_000, 2.0
    variant = np.repeat(["control", "treatment"], n // 2)
    x_pre = rng.gamma(2.0, 10.0, (sims, n))
    y = 5 + 0.8 * x_pre + rng.normal(0, 8, (sims, n)) + lift * (variant == "treatment")
    res = ab.cuped(y, x_pre, variant)
    adj, raw = res.adjusted, res.raw
    cover_adj = np.mean((adj.abs_ci[0] <= lift) & (adj.abs_ci[1] >= lift))
    cover_raw = np.mean((raw.abs_ci[0] <= lift) & (raw.abs_ci[1] >= lift))
    assert 0.93 <= cover_adj <= 0.97, cover_adj
    assert 0.93 <= cover_raw <= 0.97, cover_raw
    width_adj = np.mean(adj.abs_ci[1] - adj.abs_ci[0])
    width_raw = np.mean(raw.abs_ci[1] - raw.abs_ci[0])
    assert width_adj < 0.75 * width_raw
    rho2 = (0.8**2 * 200) / (0.8**2 * 200 + 64)  # corr² of y and x_pre
    assert np.mean(res.variance_reduction) == pytest.approx(rho2, abs=0.03)
    assert np.mean(res.theta) == pytest.approx(0.8, abs=0.02)


def test_cuped_on_one_dataset_matches_the_formula():
    rng = np.random.default_rng(13)
    variant = rng.random(400) < 0.5
    x = rng.normal(10, 2, 400)
    y = x + rng.normal(0, 1, 400) + 0.5 * variant
    res = ab.cuped(y, x, variant)
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    assert res.theta == pytest.approx(theta, rel=1e-10)
    y_adj = y - theta * (x - x.mean())
    ref = ab.compare_means_units(y_adj[~variant], y_adj[variant])
    assert res.adjusted.abs_lift == pytest.approx(ref.abs_lift, rel=1e-10)
    assert res.adjusted.p_value == pytest.approx(ref.p_value, rel=1e-8)
    assert set(res.table()["estimate"]) == {"raw", "CUPED"}


# ------------------------------------------------------------------------ bad input


def test_one_arm_empty_is_a_clear_error():
    with pytest.raises(ABTestError, match="treatment arm has no units"):
        ab.compare_proportions(10, 100, 0, 0)
    with pytest.raises(ABTestError, match="control arm has no units"):
        ab.compare_means_units([], [1.0, 2.0])
    with pytest.raises(ABTestError, match="no units"):
        ab.bayes_proportions(0, 0, 1, 10)


def test_zero_conversions_in_both_arms_is_a_clear_error_not_nan():
    with pytest.raises(ABTestError, match="no conversions in either arm"):
        ab.compare_proportions(0, 1_000, 0, 1_000)
    # a Bayesian view is still defined (the prior speaks) and is not NaN
    b = ab.bayes_proportions(0, 1_000, 0, 1_000)
    assert b.chance_to_beat_control == pytest.approx(0.5, abs=1e-8)


def test_no_variation_and_no_orders_are_clear_errors():
    with pytest.raises(ABTestError, match="no variation"):
        ab.compare_means_units(np.zeros(50), np.zeros(60))
    with pytest.raises(ABTestError, match="denominator is 0"):
        ab.compare_ratios(np.zeros(10), np.zeros(10), np.ones(10), np.ones(10))


def test_control_with_zero_rate_gives_a_note_not_a_silent_nan():
    c = ab.compare_proportions(0, 1_000, 5, 1_000)
    assert np.isnan(c.rel_lift) and "relative lift undefined" in c.note
    assert c.abs_lift == pytest.approx(0.005)


def test_a_variant_named_in_the_parameters_but_absent():
    with pytest.raises(
        ABTestError, match=r"'treatment_b'.*have no units in pdp_v2.*'control', 'treatment'"
    ):
        ab.check_variants(
            ["control", "treatment"],
            ["control", "treatment_b"],
            control="control",
            experiment_id="pdp_v2",
        )
    with pytest.raises(ABTestError, match="control variant 'ctrl'"):
        ab.check_variants(["control", "treatment"], None, control="ctrl")
    with pytest.raises(ABTestError, match="needs a control and at least one treatment"):
        ab.check_variants(["control"], None, control="control")
    assert ab.check_variants(["b", "control", "a"], None, control="control") == [
        "control",
        "b",
        "a",
    ]


def test_unit_in_two_arms_is_refused():
    units = pd.DataFrame(
        {
            "unit_id": ["u1", "u2", "u2", "u3"],
            "variant": ["control", "control", "treatment", "treatment"],
            "converted": [0, 1, 0, 1],
        }
    )
    with pytest.raises(ABTestError, match="1 in two variants"):
        ab.metric_table(units, control="control")


def test_srm_bad_inputs():
    with pytest.raises(ABTestError, match="at least two variants"):
        ab.srm_test({"control": 10})
    with pytest.raises(ABTestError, match="no units"):
        ab.srm_test([0, 0])
    with pytest.raises(ABTestError, match="same variants"):
        ab.srm_test({"a": 10, "b": 12}, {"a": 0.5, "c": 0.5})
    with pytest.raises(ABTestError, match="3 intended shares for 2 variants"):
        ab.srm_test([10, 12], [1, 1, 1])


def test_power_bad_inputs():
    with pytest.raises(ABTestError, match="baseline"):
        ab.sample_size(0.0, 0.05)
    with pytest.raises(ABTestError, match="not a rate"):
        ab.sample_size(0.6, 1.0)
    with pytest.raises(ABTestError, match="non-zero"):
        ab.sample_size(0.1, 0.0)
    assert ab.mde_proportions(0.5, 3) == float("inf")


# ----------------------------------------------------------------- tables and decision


def _units(seed: int = 0, n: int = 4_000, lift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = np.where(rng.random(n) < 0.5, "control", "treatment")
    p = np.where(variant == "treatment", 0.08 * (1 + lift), 0.08)
    converted = rng.random(n) < p
    orders = np.where(converted, 1 + rng.poisson(0.3, n), 0)
    revenue = orders * rng.lognormal(4, 0.7, n)
    refunded = rng.binomial(orders, 0.05)
    return pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(n)],
            "variant": variant,
            "converted": converted.astype(int),
            "orders": orders,
            "revenue": revenue,
            "refunded_orders": refunded,
            "device": rng.choice(["mobile", "desktop"], n),
        }
    )


def test_metric_table_holds_every_metric_and_adjusts_over_the_family():
    units = _units()
    t = ab.metric_table(
        units,
        "control",
        metrics=("conversion", "revenue_per_unit", "orders_per_unit", "aov", "refund_rate"),
        cap_quantile=0.99,
    )
    assert list(t["key"]) == [
        "conversion",
        "revenue_per_unit",
        "orders_per_unit",
        "aov",
        "refund_rate",
    ]
    np.testing.assert_allclose(t["p_adjusted"], multipletests(t["p_value"], method="holm")[1])
    assert (t["adjustment"] == "Holm").all()
    assert "capped at the 99% quantile" in t.loc[t["key"] == "revenue_per_unit", "note"].item()
    conv = ab.compare_proportions(
        units.loc[units.variant == "control", "converted"].sum(),
        (units.variant == "control").sum(),
        units.loc[units.variant == "treatment", "converted"].sum(),
        (units.variant == "treatment").sum(),
    )
    assert t.loc[0, "p_value"] == pytest.approx(conv.p_value)


def test_metric_table_reports_a_metric_it_cannot_compute_in_words():
    units = _units(n=200)
    units["orders"] = 0
    units["revenue"] = 0.0
    t = ab.metric_table(units, "control", metrics=("conversion", "aov"))
    row = t.set_index("key").loc["aov"]
    assert np.isnan(row["p_value"]) and "denominator is 0" in row["note"]


def test_segment_table_labels_small_segments_untested():
    units = _units(n=3_000)
    units.loc[:20, "device"] = "tablet"
    seg = ab.segment_table(
        units, "control", "treatment", by=["device", "missing_col"], min_units=50
    )
    assert set(seg["segment"]) == {"desktop", "mobile", "tablet"}
    tablet = seg.set_index("segment").loc["tablet"]
    assert "not tested" in tablet["note"] and np.isnan(tablet["p_adjusted"])


def _comp(lift: float, p: float, metric: str = "conversion") -> ab.Comparison:
    return ab.Comparison(
        metric,
        "test",
        0.1,
        0.1 * (1 + lift),
        0.1 * lift,
        (0.0, 0.0),
        lift,
        (0.0, 0.0),
        p,
        1000,
        1000,
        0.01,
    )


def test_decide_follows_the_rules():
    ok_srm = ab.srm_test([5_000, 5_010])
    bad_srm = ab.srm_test([5_000, 5_600])
    d = ab.decide(_comp(0.05, 0.001), srm=ok_srm, power=0.9)
    assert d.verdict == "ship"
    d = ab.decide(_comp(0.05, 0.001), srm=bad_srm, power=0.9)
    assert (
        d.verdict == "don't ship"
        and "sample ratio" in d.reasons.loc[d.reasons.result == "fail", "check"].item()
    )
    d = ab.decide(
        _comp(0.05, 0.001),
        guardrails={"refund rate": (_comp(0.3, 0.01, "refund rate"), "lower")},
        srm=ok_srm,
        power=0.9,
    )
    assert d.verdict == "don't ship" and "refund rate significantly worse" in d.explanation()
    d = ab.decide(
        _comp(0.05, 0.001), guardrails={"aov": (_comp(0.3, 0.01, "aov"), "higher")}, power=0.9
    )
    assert d.verdict == "ship"
    assert ab.decide(_comp(-0.05, 0.001), power=0.9).verdict == "don't ship"
    assert ab.decide(_comp(0.01, 0.4), power=0.5).verdict == "keep running"
    assert ab.decide(_comp(0.01, 0.4), power=0.95).verdict == "don't ship"
    # before the planned sample only the always-valid p-value may stop the test
    assert (
        ab.decide(_comp(0.05, 0.01), planned_reached=False, sequential_p=0.2).verdict
        == "keep running"
    )
    assert ab.decide(_comp(0.05, 0.01), planned_reached=False, sequential_p=0.01).verdict == "ship"
    assert list(d.reasons.columns) == ["check", "result", "detail"]


# ---------------------------------------------------------------------------- readout


def _full_units(seed: int = 1, n: int = 12_000, lift: float = 0.25) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    units = _units(seed, n, lift)
    units["pre_orders"] = rng.poisson(0.4, n) + units["converted"] * rng.poisson(1.0, n)
    units["pre_revenue"] = units["pre_orders"] * rng.lognormal(4, 0.5, n)
    assigned = pd.Timestamp("2024-03-01") + pd.to_timedelta(
        rng.integers(0, 14 * 1440, n), unit="min"
    )
    units["assigned_ts"] = assigned
    units["first_order_ts"] = pd.Series(
        assigned + pd.to_timedelta(rng.integers(0, 2 * 1440, n), unit="min")
    ).where(units["converted"] == 1)
    units["new_vs_returning"] = np.where(units["pre_orders"] > 0, "returning", "new")
    return units


def test_daily_looks_end_with_all_the_data():
    units = _full_units()
    looks = ab.daily_looks(units, "control", "treatment")
    assert looks["day"].iloc[0] == pd.Timestamp("2024-03-01")
    assert (np.diff(looks[["n_a", "x_a", "n_b", "x_b"]].to_numpy(), axis=0) >= 0).all()
    ctrl = units[units.variant == "control"]
    assert looks["n_a"].iloc[-1] == len(ctrl) and looks["x_a"].iloc[-1] == ctrl["converted"].sum()
    # at the end of day 1 only day-1 units and their conversions by midnight count
    day1 = ctrl[ctrl.assigned_ts < "2024-03-02"]
    assert looks["n_a"].iloc[0] == len(day1)
    assert looks["x_a"].iloc[0] == (ctrl.first_order_ts < "2024-03-02").sum()


def test_evaluate_fills_every_section_and_decides():
    units = _full_units()
    r = ab.evaluate(units, "demo", control="control", mde_rel=0.2)
    assert r.problems == {}
    assert r.treatments == ["treatment"] and r.units == len(units)
    s = r.headline_figures()
    assert s["verdict"] == r.decisions["treatment"].verdict
    assert s["rel_lift"] == pytest.approx(r.primary["treatment"].rel_lift)
    assert set(r.metrics["key"]) == {
        "conversion",
        "revenue_per_unit",
        "orders_per_unit",
        "aov",
        "refund_rate",
    }
    assert set(r.cuped["treatment"]) == {"conversion", "revenue per unit"}
    assert r.cuped["treatment"]["conversion"].variance_reduction > 0.05
    seq = r.sequential["treatment"]
    assert seq.attrs["tau"] == pytest.approx(0.2 * r.primary["treatment"].control)
    assert seq["always_valid_p"].iloc[-1] >= seq["naive_p"].iloc[-1]
    assert set(r.segments["treatment"]["dimension"]) == {"device", "new_vs_returning"}
    assert list(ab.power_table(r)["variant"]) == ["treatment"]
    assert r.decision_table()["check"].iloc[0] == "sample ratio"


def test_evaluate_skips_outcome_sections_without_outcomes_but_checks_the_split():
    units = pd.DataFrame(
        {
            "unit_id": [f"u{i}" for i in range(1_000)],
            "variant": ["control"] * 560 + ["treatment"] * 440,
        }
    )
    r = ab.evaluate(units, "demo", outcome_problem="unit ids match no visitor")
    assert r.srm_failed
    assert r.why("metrics") == "unit ids match no visitor" and not r.ok("bayes")
    assert r.decisions["treatment"].verdict == "don't ship"


def test_evaluate_with_three_variants_and_a_stated_split():
    units = _full_units(n=9_000)
    units.loc[units.index[::3], "variant"] = "treatment_b"
    r = ab.evaluate(
        units,
        "demo",
        variants="control,treatment,treatment_b",
        expected_split="control=1,treatment=1,treatment_b=1",
    )
    assert r.treatments == ["treatment", "treatment_b"]
    assert len(r.metrics) == 10 and set(r.decisions) == {"treatment", "treatment_b"}
    raw = [r.primary[t].p_value for t in r.treatments]
    assert [r.primary_p[t] for t in r.treatments] == pytest.approx(
        list(multipletests(raw, method="holm")[1])
    )
    with pytest.raises(ABTestError, match="'treatment_c'"):
        ab.evaluate(units, "demo", variants="control,treatment_c")
    with pytest.raises(ABTestError, match="control:50"):
        ab.parse_split("control 50")
    assert ab.parse_split("a=90, b:10") == {"a": 90.0, "b": 10.0}


def test_figures_draw_the_readout():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from shopbook.viz import abtest as viz

    r = ab.evaluate(_full_units(), "demo")
    t = r.treatment
    daily = pd.DataFrame(
        {
            "day": pd.date_range("2024-03-01", periods=3).repeat(2),
            "variant": ["control", "treatment"] * 3,
            "units": [5, 6, 7, 6, 5, 5],
        }
    )
    fig, axes = plt.subplots(4, 2)
    drawn = [
        viz.units_over_time(daily, ax=axes[0, 0]),
        viz.split_shares(r.srm.table(), ax=axes[0, 1]),
        viz.lifts(r.metrics, ax=axes[1, 0]),
        viz.posterior_lift(r.bayes[t].lift_draws, r.bayes[t].chance_to_beat_control, ax=axes[1, 1]),
        viz.sequential(r.sequential[t], relative_to=r.primary[t].control, ax=axes[2, 0]),
        viz.cuped_intervals(r.cuped[t]["revenue per unit"].table(), ax=axes[2, 1], unit="CNY"),
        viz.segments(r.segments[t], ax=axes[3, 0]),
    ]
    assert drawn == [
        axes[0, 0],
        axes[0, 1],
        axes[1, 0],
        axes[1, 1],
        axes[2, 0],
        axes[2, 1],
        axes[3, 0],
    ]
    assert all(title_of(ax) for ax in drawn)
    assert len(axes[1, 0].get_yticklabels()) == len(r.metrics)
    plt.close(fig)


def test_aov_is_capped_order_by_order_never_by_unit():
    """Order values identical in both arms, treatment units order more often: a cap on
    revenue per unit bites the treatment harder and fakes an AOV effect; capping each
    order (the per-unit ``revenue_capped`` column) does not."""
    rng = np.random.default_rng(21)
    sims, n, hits_unit_cap, hits = 300, 2_000, 0, 0
    for _ in range(sims):
        orders = np.concatenate([rng.poisson(1.0, n), rng.poisson(2.0, n)])
        values = rng.lognormal(4, 0.8, orders.sum())
        owner = np.repeat(np.arange(2 * n), orders)
        revenue = np.bincount(owner, weights=values, minlength=2 * n)
        capped_orders = np.bincount(
            owner, weights=np.minimum(values, np.quantile(values, 0.95)), minlength=2 * n
        )
        units = pd.DataFrame(
            {
                "variant": ["control"] * n + ["treatment"] * n,
                "orders": orders,
                "revenue": revenue,
                "revenue_capped": capped_orders,
            }
        )
        hits += (
            ab.compare_metric(units, "aov", "control", "treatment", cap_quantile=0.95).p_value
            < 0.05
        )
        capped_units = np.minimum(
            revenue, np.quantile(revenue, 0.95)
        )  # the wrong way, for contrast
        naive = ab.compare_ratios(capped_units[:n], orders[:n], capped_units[n:], orders[n:])
        hits_unit_cap += naive.p_value < 0.05
    assert 0.02 <= hits / sims <= 0.08
    assert hits_unit_cap / sims > 0.25  # the per-unit cap fakes an AOV effect
    row = ab.compare_metric(
        units.drop(columns="revenue_capped"), "aov", "control", "treatment", cap_quantile=0.95
    )
    assert "not capped" in row.note


# ------------------------------------------------------- result convention and small steps


def test_readout_is_a_result_whose_table_is_the_metric_table():
    from shopbook.analysis.result import Result

    r = ab.evaluate(_full_units(n=4_000), "demo")
    assert isinstance(r, Result)
    assert r.table is r.metrics and list(r.table["key"])[0] == "conversion"
    assert r.ok() and r.ok("metrics") and r.why("metrics") == "" and r.notes == []
    empty = ab.Readout.empty("e", "no assignments")
    assert all(not empty.ok(s) and empty.why(s) == "no assignments" for s in ab.SECTIONS)
    assert empty.table.empty and empty.verdict == "no decision: outcomes not measured"


def test_headline_figures_say_the_p_value_is_adjusted_and_how():
    units = _full_units(n=9_000)
    units.loc[units.index[::3], "variant"] = "treatment_b"
    for adjust, name in (("holm", "Holm"), ("fdr_bh", "Benjamini-Hochberg")):
        r = ab.evaluate(units, "demo", adjust=adjust)
        figures = r.headline_figures()
        assert "p_value" not in figures
        assert figures["p_value_adjusted"] == r.primary_p["treatment"]
        assert r.primary_p["treatment"] != r.primary["treatment"].p_value  # two treatments
        assert r.p_value_label == f"p-value (conversion, fixed horizon, {name}-adjusted)"
        assert figures["verdict"] == r.verdict == r.decisions["treatment"].verdict


def test_the_headline_leads_with_the_p_value_the_decision_used():
    r = ab.evaluate(_full_units(n=4_000), "demo")
    figures = {f["name"]: f for f in ab.headlines([r], per_experiment=False)}
    names = [f["name"] for f in ab.headlines([r], per_experiment=False)]
    if r.always_valid_p() is None:
        pytest.skip("no daily looks in this fixture")
    assert figures["p_value_always_valid"]["value"] == r.always_valid_p()
    first = names.index("p_value_always_valid") < names.index("p_value_adjusted")
    assert first == r.decision_used_always_valid()
    assert "fixed horizon" in figures["p_value_adjusted"]["label"]
    assert "always valid" in figures["p_value_always_valid"]["label"]
    if r.decision_used_always_valid():
        assert "always-valid p" in r.decisions["treatment"].reasons.to_string()
        assert "not used" in figures["p_value_adjusted"]["label"]


def test_split_check_and_finding_name_a_broken_split():
    ok, bad = ab.srm_test([5_000, 5_010]), ab.srm_test([5_000, 5_600])
    assert ok.finding == "the split matches the intended shares"
    assert bad.finding == "the split does NOT match the intended shares"
    r = ab.Readout("e", srm=bad)
    assert r.split_check == "FAILED: sample ratio mismatch"
    assert ab.Readout("e", srm=ok).split_check == "ok"


def test_power_at_traffic_is_the_plan_the_power_and_the_mde():
    pw = ab.power_at_traffic(0.04, 0.1, 20_000, 21_000, alpha=0.05, power_target=0.8)
    plan = ab.sample_size(0.04, 0.1, 0.05, 0.8, ratio=21_000 / 20_000)
    assert (pw["planned_control"], pw["planned_treatment"]) == (plan.n_control, plan.n_treatment)
    assert pw["power"] == ab.power_proportions(0.04, 0.1, 20_000, 21_000)
    assert pw["mde_at_traffic"] == ab.mde_proportions(0.04, 20_000, 21_000)
    assert pw["planned_reached"] is (20_000 >= plan.n_control and 21_000 >= plan.n_treatment)
    assert pw["underpowered"] is (pw["power"] < 0.8)
    with pytest.raises(ABTestError, match="0.00%"):
        ab.power_at_traffic(0.0, 0.1, 100, 100)
    with pytest.raises(ABTestError, match="no units"):
        ab.power_at_traffic(float("nan"), 0.1, 0, 100)


def test_first_significant_look_is_the_first_day_below_alpha():
    view = pd.DataFrame(
        {
            "day": pd.date_range("2024-03-01", periods=4),
            "naive_p": [0.3, 0.04, 0.2, 0.01],
            "always_valid_p": [1.0, 0.5, 0.3, 0.2],
        }
    )
    assert ab.first_significant_look(view, 0.05) == pd.Timestamp("2024-03-02")
    assert ab.first_significant_look(view, 0.01) is None
    assert ab.first_significant_look(view, 0.05, p_col="always_valid_p") is None


def test_with_note_adds_to_the_note_and_keeps_the_numbers():
    c = _comp(0.05, 0.01)
    assert c.with_note("") is c
    noted = c.with_note("capped").with_note("second")
    assert noted.note == "capped; second" and noted.p_value == c.p_value


def test_a_guardrail_that_cannot_be_tested_is_information_not_a_verdict():
    d = ab.decide(_comp(0.05, 0.001), guardrails={"aov": (None, "higher")}, power=0.9)
    assert d.verdict == "ship"
    row = d.reasons.set_index("check").loc["guardrail: aov"]
    assert row["result"] == "info" and "cannot be tested" in row["detail"]
    assert d.explanation() == "ship: all checks passed"
