"""Channel budget: the transforms against the published formulas, the model's gradient, the
planted truth recovered within intervals over seeds, the reallocation's true gain, and the
bad inputs that skip with a reason."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from shopbook.analysis import budget as bud
from shopbook.analysis.budget import model as M
from shopbook.analysis.budget.transforms import adstock_decay_derivative
from shopbook.data.synthetic import generate
from shopbook.features import budget as fb

# --------------------------------------------------------------------------- peer formulas
# pymc-marketing, pymc_marketing/mmm/transformers.py:
#   geometric_adstock(x, alpha, l_max, normalize): y[t] = Σ_{l<l_max} w_l · x[t − l],
#   w_l = alpha^l (divided by Σ w_l when normalize=True), x before the start = 0;
#   hill_function(x, slope, kappa) = 1 − kappa^slope / (kappa^slope + x^slope).
# Robyn, R/R/transformation.R:
#   adstock_geometric(x, theta): x_decayed[1] = x[1], x_decayed[t] = x[t] + theta·x_decayed[t−1];
#   saturation_hill(x, alpha, gamma): inflexion = (1 − gamma)·min(x) + gamma·max(x),
#   x^alpha / (x^alpha + inflexion^alpha).
# Written out here independently of shopbook's implementation.


def _pymc_geometric_adstock(x, alpha, l_max, normalize):
    w = alpha ** np.arange(l_max)
    if normalize:
        w = w / w.sum()
    out = np.zeros(len(x))
    for t in range(len(x)):
        for lag in range(min(l_max, t + 1)):
            out[t] += w[lag] * x[t - lag]
    return out


def _pymc_hill(x, slope, kappa):
    return 1 - kappa**slope / (kappa**slope + x**slope)


def _robyn_adstock_geometric(x, theta):
    out = np.empty(len(x))
    out[0] = x[0]
    for t in range(1, len(x)):
        out[t] = x[t] + theta * out[t - 1]
    return out


def _robyn_saturation_hill(x, alpha, gamma):
    inflexion = (1 - gamma) * x.min() + gamma * x.max()
    return x**alpha / (x**alpha + inflexion**alpha)


@pytest.mark.parametrize("decay", [0.0, 0.25, 0.55, 0.8])
def test_adstock_and_hill_equal_the_published_formulas(decay):
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 400.0, size=300) * (rng.random(300) > 0.05)
    ours = bud.geometric_adstock(x, decay, initial="zero")
    # l_max long enough that the truncated tail (decay^l_max) is below 1e-16
    pymc = _pymc_geometric_adstock(x, decay, 300, normalize=True)
    np.testing.assert_allclose(ours, pymc, rtol=1e-10, atol=1e-10)
    robyn = _robyn_adstock_geometric(x, decay) * (1 - decay)
    np.testing.assert_allclose(ours, robyn, rtol=1e-10, atol=1e-10)
    for shape in (1.0, 2.5):
        K = 700.0
        np.testing.assert_allclose(
            bud.hill(ours, K, shape), _pymc_hill(ours, shape, K), rtol=1e-10, atol=1e-12
        )
        gamma = 0.4
        inflexion = (1 - gamma) * ours.min() + gamma * ours.max()
        np.testing.assert_allclose(
            bud.hill(ours, inflexion, shape),
            _robyn_saturation_hill(ours, shape, gamma),
            rtol=1e-10,
            atol=1e-12,
        )


def test_steady_start_is_a_steady_spend_before_the_data():
    x = np.array([500.0, 100.0, 900.0, 0.0])
    long = np.concatenate([np.full(400, 500.0), x])
    np.testing.assert_allclose(
        bud.geometric_adstock(x, 0.6), bud.geometric_adstock(long, 0.6, "zero")[-4:], atol=1e-9
    )


def test_decay_derivative_and_likelihood_gradient_match_finite_differences():
    rng = np.random.default_rng(1)
    s = rng.gamma(2.0, 300.0, size=120)
    A = bud.geometric_adstock(s, 0.5)
    num = (bud.geometric_adstock(s, 0.5 + 1e-6) - bud.geometric_adstock(s, 0.5 - 1e-6)) / 2e-6
    np.testing.assert_allclose(adstock_decay_derivative(s, A, 0.5), num, rtol=1e-5, atol=1e-6)
    spend = np.column_stack([s, rng.gamma(2.0, 200.0, 120), np.zeros(120)])
    y = rng.poisson(5.0, size=(120, 3)).astype(float)
    lay = M._Layout.make(["a", "b", "c"], [0, 1], 2)
    theta = rng.normal(0, 0.5, lay.size) + np.array([0, 0, 0, 6, 0, 0, 5, 0.3])
    err = optimize.check_grad(
        lambda t: M._negloglik(t, lay, spend, y)[0],
        lambda t: M._negloglik(t, lay, spend, y)[1],
        theta,
    )
    assert err < 1e-4 * max(1.0, np.abs(M._negloglik(theta, lay, spend, y)[1]).max())


# --------------------------------------------------------------------------- planted truth
SEEDS = (0, 1, 2)
CUSTOMERS = int(__import__("os").environ.get("D_CUST", "20000"))


@functools.cache
def _recovered(seed: int):
    """A shop, its days before the planted traffic drop, the fit and the truth's curves."""
    shop = generate(customers=CUSTOMERS, seed=seed)
    tr = shop.truth
    start = pd.Timestamp(tr["generator"]["start"])
    drop = pd.Timestamp(tr["traffic_drop"]["date"])
    days = fb.channel_days(
        shop.tables["orders"],
        shop.tables["marketing_spend"],
        end=drop - pd.Timedelta(days=1),
        customers=shop.tables["customers"],
    )
    ready = bud.model_channels(days)
    fit = bud.fit_response(days, ready.paid)
    n = (drop - start).days
    m = np.asarray(tr["purchase_clock"]["daily_multiplier"])[:n]
    demand = m * (1 + tr["marketing"]["growth_per_year"]) ** (np.arange(n) / 365.25)
    truth = pd.DataFrame(tr["marketing"]["channels"]).T
    truth["max_paid_window"] = truth["max_paid_per_day"] * demand.mean()
    truth["max_paid_recent"] = truth["max_paid_per_day"] * demand[-fit.recent_days :].mean()
    return days, fit, truth


def test_planted_decay_half_saturation_and_intake_are_covered_at_about_the_nominal_rate():
    inside = total = 0
    misses = []
    for seed in SEEDS:
        _, fit, truth = _recovered(seed)
        t = fit.table.set_index("channel")
        assert set(t.index) == set(truth.index)
        for c, row in t.iterrows():
            for est, want in (
                ("decay", truth.loc[c, "decay"]),
                ("half_saturation", truth.loc[c, "half_saturation_cny_per_day"]),
                ("max_paid", truth.loc[c, "max_paid_window"]),
            ):
                lo = row["max_paid_low" if est == "max_paid" else f"{est}_low"]
                hi = row["max_paid_high" if est == "max_paid" else f"{est}_high"]
                total += 1
                if lo <= want <= hi:
                    inside += 1
                else:
                    misses.append((seed, c, est, lo, want, hi))
    # 45 intervals at 95 %: fewer than 39 inside has probability < 1 % if they are honest
    assert inside >= 39, (inside, total, misses)
    assert inside <= total


def test_a_curve_the_data_do_not_pin_is_flagged():
    _, fit, _ = _recovered(0)
    t = fit.table
    loose = t["half_saturation_high"] > 100 * t["half_saturation_low"]
    assert (t.loc[loose, "identified"] == False).all()  # noqa: E712
    assert (t["decay_low"] <= t["decay"]).all() and (t["decay"] <= t["decay_high"]).all()
    assert (t["max_paid_low"] <= t["max_paid_high"]).all()


def test_the_recommended_split_truly_gains_and_its_interval_holds_the_true_gain():
    for seed in SEEDS[:3]:
        days, fit, truth = _recovered(seed)
        values, _basis = bud.customer_values(days)
        plan = bud.reallocate(fit, values)
        assert plan.ok(), plan.why()
        assert (
            abs(plan.table["recommended"].sum() - plan.table["current"].sum()) < 1e-3 * plan.budget
        )
        t = plan.table.set_index("channel")
        K = truth["half_saturation_cny_per_day"].reindex(t.index)
        Mx = truth["max_paid_recent"].reindex(t.index)
        h_new = (t["recommended"] / 30) / (t["recommended"] / 30 + K)
        h_old = (t["current"] / 30) / (t["current"] / 30 + K)
        true_gain = float((t["value_per_customer"] * Mx * (h_new - h_old) * 30).sum())
        assert true_gain > 0, seed
        assert plan.gain_low <= true_gain <= plan.gain_high, (
            seed,
            plan.gain_low,
            true_gain,
            plan.gain_high,
        )
        # within bounds and the spend range seen
        assert (t["recommended"] >= t["low"] - 1e-6).all() and (
            t["recommended"] <= t["high"] + 1e-6
        ).all()


def test_simple_rule_raises_and_cuts_by_roi_and_spends_the_budget():
    days, fit, _ = _recovered(0)
    values, _ = bud.customer_values(days)
    roi = pd.Series({"tmall": 1.0, "jd": -0.5, "douyin": 0.2, "wechat": 0.1, "site": 0.3})
    rule = bud.simple_rule(fit, values, roi, target=0.5, floor=0.0)
    t = rule.table.set_index("channel")
    assert t.loc["tmall", "action"] == "raise" and t.loc["jd", "action"] == "cut"
    assert (t.drop(["tmall", "jd"])["action"] == "keep").all()
    assert abs(t["recommended"].sum() - t["current"].sum()) < 1e-6 * t["current"].sum()
    assert rule.gain_low <= rule.gain <= rule.gain_high


# --------------------------------------------------------------------------- bad inputs
def _days(n=120, channels=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for c in channels:
        for d in pd.date_range("2024-01-01", periods=n):
            s = float(rng.gamma(2, 300)) if c != "organic" else 0.0
            rows.append((d, c, s, int(rng.poisson(6)), 100.0, int(rng.poisson(8)), 800.0))
    return pd.DataFrame(rows, columns=list(fb.DAY_COLUMNS))


def test_one_channel_is_skipped_with_the_reason():
    r = bud.model_channels(_days(channels=("a",)))
    assert not r.ok() and "only one channel" in r.why()


def test_constant_spend_identifies_no_curve():
    d = _days()
    d.loc[d["channel"] == "a", "spend"] = 500.0
    r = bud.model_channels(d)
    assert r.ok() and r.paid == ["b"] and "a" in r.organic
    row = r.table.set_index("channel").loc["a"]
    assert "constant spend" in row["reason"]
    d.loc[d["channel"] == "b", "spend"] = 200.0
    r = bud.model_channels(d)
    assert not r.ok() and "constant spend" in r.why()


def test_spend_without_orders_is_left_out_with_the_reason():
    d = _days(channels=("a", "b", "c"))
    d.loc[d["channel"] == "c", ["orders", "new_customers"]] = 0
    r = bud.model_channels(d)
    assert r.ok() and "c" not in r.paid + r.organic
    assert any("c is left out: spend but no purchase" in n for n in r.notes)


def test_no_spend_at_all_and_too_few_days():
    d = _days()
    d["spend"] = 0.0
    r = bud.model_channels(d)
    assert not r.ok() and "no channel has varying spend" in r.why()
    assert not bud.model_channels(_days(n=20)).ok()
    assert "20 days" in bud.model_channels(_days(n=20)).why()
    assert not bud.spend_and_return(pd.DataFrame(columns=["month", "channel", "spend"])).ok()


def test_caveats_name_channels_whose_spend_barely_varies_or_moves_together():
    d = _days(n=140, channels=("a", "b", "c"))
    d.loc[d["channel"] == "a", "spend"] = 500.0 + 5.0 * np.sin(np.arange(140))
    sb = d.loc[d["channel"] == "b", "spend"].to_numpy()
    d.loc[d["channel"] == "c", "spend"] = sb * 2.0
    r = bud.caveats(d)
    assert any("barely varies on a" in n for n in r.notes)
    assert any(("b and c" in n or "c and b" in n) and "spend together" in n for n in r.notes)
